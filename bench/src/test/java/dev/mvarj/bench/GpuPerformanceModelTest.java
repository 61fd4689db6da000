package dev.mvarj.bench;

import dev.mvarj.mvar.model.AttentionPattern;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The performance model of docs/gpu.md: its FLOPs agree with the model's own count, its tables are the page's. */
class GpuPerformanceModelTest {

    static double forwardProductFlops(GpuPerformanceModel.Shape s, AttentionPattern p) {
        return GpuPerformanceModel.step(s, p).stream()
                .filter(k -> k.name().equals("gemm_nt") || k.name().equals("attention_forward"))
                .mapToDouble(k -> k.flops() * k.calls()).sum();
    }

    @Test
    void theForwardProductsAreTheModelsFlopCount() {
        for (var s : new GpuPerformanceModel.Shape[]{GpuPerformanceModel.fashion(), GpuPerformanceModel.d16()}) {
            for (AttentionPattern p : AttentionPattern.values()) {
                double want = (double) s.batch() * p.forwardFlops(s.cfg(), 0, s.cfg().schedule().count());
                assertThat(forwardProductFlops(s, p)).as(s.name() + " " + p).isCloseTo(want, within(0.01 * want));
            }
        }
    }

    @Test
    void aDepth16VarStepIsPredictedUnderOneSecondAndMvarBelowIt() {
        double var = GpuPerformanceModel.predictedSeconds(GpuPerformanceModel.step(GpuPerformanceModel.d16(),
                AttentionPattern.VAR));
        double mvar = GpuPerformanceModel.predictedSeconds(GpuPerformanceModel.step(GpuPerformanceModel.d16(),
                AttentionPattern.MVAR));
        assertThat(var).isLessThan(1.0);
        assertThat(mvar).isLessThan(var);
    }

    @Test
    void theDocsShowTheModelsTables() throws IOException {
        String page = Files.readString(Path.of("..", "docs", "gpu.md"));
        for (var s : new GpuPerformanceModel.Shape[]{GpuPerformanceModel.fashion(), GpuPerformanceModel.d16()}) {
            for (AttentionPattern p : AttentionPattern.values()) {
                assertThat(page).as("docs/gpu.md holds the table of " + s.name() + " " + p
                        + " (regenerate with GpuPerformanceModel)").contains(GpuPerformanceModel.table(s, p));
            }
        }
    }
}
