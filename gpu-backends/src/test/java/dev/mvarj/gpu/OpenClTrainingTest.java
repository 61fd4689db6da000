package dev.mvarj.gpu;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.mvar.train.TokenSet;
import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.mvar.vq.ResidualQuantizer;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.mvarj.gpu.OpenClTestSupport.GPU;
import static dev.mvarj.gpu.OpenClTestSupport.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The end-to-end device proof: VAR and MVAR train on the OpenCL device with the CPU's loss curve, the same final
 * weights and optimiser state, and sample the same images. Every random draw (data order, class dropout, drop
 * path, the token draw) happens on the host, so both runs see identical randomness and differ only by float
 * rounding in the kernels.
 */
class OpenClTrainingTest {

    static final ScaleSchedule SCHEDULE = new ScaleSchedule(new int[]{1, 2, 3, 5});
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    static final Pattern LOSS = Pattern.compile("\"loss\":([-0-9.eE]+)");

    /** Two blocks, refine step 2 (scales 2 and 3 use 3×3 neighbourhood attention), drop path and class dropout on. */
    static TransformerConfig cfg() {
        return new TransformerConfig(2, 32, 2, 24, 4, 5, SCHEDULE, 0.1f, 0.1f, 1e-3f, 2, 3);
    }

    /** A small token set whose indices depend on label and position (learnable), with mirrored copies. */
    static TokenSet tokens(int n) {
        int L = SCHEDULE.length(), in = L - 1, C = 4, V = 24;
        Rng r = new Rng(17);
        int[] labels = new int[n], idx = new int[n * L], flipIdx = new int[n * L];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 5;
            for (int p = 0; p < L; p++) {
                idx[i * L + p] = (labels[i] * 7 + 3 * p) % V;
                flipIdx[i * L + p] = (labels[i] * 7 + 3 * p + 1) % V;
            }
        }
        return new TokenSet(n, L, in, C, labels, idx, r.normalArray(n * in * C, 0, 1), flipIdx,
                r.normalArray(n * in * C, 0, 1), 5);
    }

    record Run(double[] losses, TransformerTrainer trainer, NextScaleTransformer model) {
    }

    static Run train(AttentionPattern pattern, TransformerTrainer.MvarMode mode, int steps, Device device, Path out)
            throws IOException {
        Rng rng = new Rng(3);
        NextScaleTransformer model = new NextScaleTransformer(cfg(), rng);
        var o = new TransformerTrainer.Options(pattern, mode, 2, steps, 8, 3e-3, 0.1, 0.05, 2f, 0.1f, 5, 0, 1000);
        var t = new TransformerTrainer(model, rng, tokens(40), o, out, QUIET, null, device);
        t.train(false);
        double[] losses = Files.readAllLines(out.resolve("metrics.jsonl")).stream().map(LOSS::matcher)
                .filter(Matcher::find).mapToDouble(m -> Double.parseDouble(m.group(1))).toArray();
        return new Run(losses, t, model);
    }

    @Test
    void varAndMvarTrainOnTheDeviceWithTheCpuLossCurve(@TempDir Path dir) throws IOException {
        OpenClTestSupport.backend();
        for (var run : new Object[][]{{AttentionPattern.VAR, TransformerTrainer.MvarMode.ALL},
                {AttentionPattern.MVAR, TransformerTrainer.MvarMode.ALL},
                {AttentionPattern.MVAR, TransformerTrainer.MvarMode.CYCLE}}) {
            var pattern = (AttentionPattern) run[0];
            var mode = (TransformerTrainer.MvarMode) run[1];
            String name = pattern + "-" + mode;
            Run cpu = train(pattern, mode, 8, Device.CPU, dir.resolve(name + "-cpu"));
            Run gpu = train(pattern, mode, 8, GPU, dir.resolve(name + "-gpu"));

            assertThat(gpu.model().device()).isEqualTo(GPU);
            assertThat(gpu.trainer().store().params().device()).isEqualTo(GPU);
            assertThat(gpu.losses()).hasSize(8);
            for (int i = 0; i < cpu.losses().length; i++) {
                assertThat(gpu.losses()[i]).as("%s loss at step %d", name, i + 1)
                        .isCloseTo(cpu.losses()[i], within(2e-5 * Math.abs(cpu.losses()[i])));
            }
            // the cycle trains one group per step (4 groups per cycle here): compare whole cycles
            double firstCycle = cpu.losses()[0] + cpu.losses()[1] + cpu.losses()[2] + cpu.losses()[3];
            double secondCycle = cpu.losses()[4] + cpu.losses()[5] + cpu.losses()[6] + cpu.losses()[7];
            assertThat(secondCycle).as(name + " learns").isLessThan(firstCycle);
            assertClose(name + " weights after 8 steps", gpu.trainer().store().params(),
                    cpu.trainer().store().params(), 2e-5, 1e-3);
            assertClose(name + " Adam second moments", gpu.trainer().store().expAvgSq(),
                    cpu.trainer().store().expAvgSq(), 1e-9, 1e-3);
            double[][] evalCpu = cpu.trainer().evaluate(10), evalGpu = gpu.trainer().evaluate(10);
            for (int s = 0; s < SCHEDULE.count(); s++) {
                assertThat(evalGpu[0][s]).as("%s per-scale CE %d", name, s).isCloseTo(evalCpu[0][s], within(1e-4));
            }
        }
    }

    /**
     * Sampling draws the CPU's tokens from the device's logits. The draw is top-1, so the only honest reason for a
     * token to differ is a tie: the best two guided logits within {@link DeviceTolerance#SAMPLING_TIE}, where the
     * device's rounding may pick the other one. At the first scale where tokens differ, every differing position
     * must be such a tie on the CPU's logits (the later scales then follow different tokens and are not compared).
     */
    @Test
    void samplingOnTheDeviceDrawsTheCpuTokensExceptAtTies() {
        OpenClTestSupport.backend();
        ResidualQuantizer q = new ResidualQuantizer(24, 4, SCHEDULE, 0.25f, 0.5f, 4, new Rng(9));
        int[] labels = {0, 3, 4};
        for (AttentionPattern pattern : AttentionPattern.values()) {
            NextScaleTransformer onCpu = new NextScaleTransformer(cfg(), new Rng(21));
            NextScaleTransformer onGpu = new NextScaleTransformer(cfg(), new Rng(21));
            onGpu.to(GPU);
            onCpu.eval();
            onGpu.eval();
            var st = new Sampler.Settings(2f, 1, 0f, 5);
            Sampler.Result want = Sampler.sample(onCpu, q, pattern, labels, st);
            Sampler.Result got = Sampler.sample(onGpu, q, pattern, labels, st);
            int S = SCHEDULE.count(), first = 0;
            while (first < S && java.util.Arrays.equals(got.indices()[first].toIntArray(),
                    want.indices()[first].toIntArray())) {
                first++;
            }
            if (first < S) {
                float[] gaps = topTwoGaps(onCpu, q, pattern, labels, st.cfg(), want.indices(), first);
                int[] w = want.indices()[first].toIntArray(), g = got.indices()[first].toIntArray();
                for (int r = 0; r < w.length; r++) {
                    if (w[r] != g[r]) {
                        assertThat(gaps[r]).as("%s scale %d position %d: device token %d, CPU token %d, not a tie",
                                pattern, first, r, g[r], w[r]).isLessThanOrEqualTo((float) DeviceTolerance.SAMPLING_TIE);
                    }
                }
                continue;
            }
            assertClose(pattern + " fhat", got.fhat(), want.fhat(), DeviceTolerance.ATTENTION);
            assertThat(got.kvCacheBytes()).isEqualTo(want.kvCacheBytes());
            // the KV cache and the activations live on the device, so its peak holds at least the cache
            assertThat(got.peakBytes()).as(pattern + " device peak").isPositive()
                    .isGreaterThanOrEqualTo(got.kvCacheBytes());
        }
    }

    /**
     * The gap between the best two guided logits at each position of scale s, on the CPU, given the tokens of the
     * scales before it (teacher forcing reproduces the sampler's inputs): (1 + t)·cond − t·uncond, t = cfg·s/(S − 1).
     */
    static float[] topTwoGaps(NextScaleTransformer model, ResidualQuantizer q, AttentionPattern pattern, int[] labels,
                              float cfg, dev.mvarj.tensor.Tensor[] indices, int s) {
        int B = labels.length, S = SCHEDULE.count(), n = SCHEDULE.tokens(s), V = cfg().vocab();
        float t = cfg * s / (S - 1);
        int[] nulls = new int[B];
        java.util.Arrays.fill(nulls, cfg().classes());
        try (var off = dev.mvarj.autograd.GradMode.off()) {
            dev.mvarj.tensor.Tensor x = q.teacherForcing(indices);
            float[] c = model.forward(dev.mvarj.tensor.Tensor.ofInts(labels, B), x, 0, s + 1, pattern).data()
                    .slice(1, SCHEDULE.begin(s), SCHEDULE.begin(s) + n).contiguous().toFloatArray();
            float[] u = model.forward(dev.mvarj.tensor.Tensor.ofInts(nulls, B), x, 0, s + 1, pattern).data()
                    .slice(1, SCHEDULE.begin(s), SCHEDULE.begin(s) + n).contiguous().toFloatArray();
            float[] gaps = new float[B * n];
            for (int r = 0; r < B * n; r++) {
                float best = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
                for (int v = 0; v < V; v++) {
                    float z = (1 + t) * c[r * V + v] - t * u[r * V + v];
                    if (z > best) {
                        second = best;
                        best = z;
                    } else if (z > second) {
                        second = z;
                    }
                }
                gaps[r] = best - second;
            }
            return gaps;
        }
    }
}
