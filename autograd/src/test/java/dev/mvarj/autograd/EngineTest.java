package dev.mvarj.autograd;

import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.MemoryStats;
import dev.mvarj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EngineTest {

    @Test
    void gradientsOfADiamondAccumulate() {
        // y = x·x + x·3  ->  dy/dx = 2x + 3
        Variable x = Variable.leaf(Tensor.of(new float[]{1, -2, 0.5f}, 3));
        Variable y = F.add(F.mul(x, x), F.mul(x, 3f));
        F.sum(y).backward();
        assertThat(x.grad().toFloatArray()).containsExactly(5f, -1f, 4f);
    }

    @Test
    void leafGradientsAccumulateAcrossBackwardCalls() {
        Variable x = Variable.leaf(Tensor.of(new float[]{2}, 1));
        F.sum(F.mul(x, 4f)).backward();
        F.sum(F.mul(x, 4f)).backward();
        assertThat(x.grad().toFloatArray()).containsExactly(8f);
        x.zeroGrad();
        assertThat(x.grad()).isNull();
    }

    @Test
    void broadcastGradientsAreSummedBackToTheInputShape() {
        Variable a = Variable.leaf(Tensor.ones(2, 3));
        Variable b = Variable.leaf(Tensor.ones(3));
        Variable c = Variable.leaf(Tensor.ones(2, 1));
        F.sum(F.add(F.add(a, b), c)).backward();
        assertThat(b.grad().shape()).containsExactly(3);
        assertThat(b.grad().toFloatArray()).containsExactly(2, 2, 2);
        assertThat(c.grad().toFloatArray()).containsExactly(3, 3);
    }

    @Test
    void gradModeOffRecordsNothing() {
        Variable x = Variable.leaf(Tensor.ones(2));
        Variable y;
        try (var g = GradMode.off()) {
            y = F.exp(x);
            assertThat(GradMode.isEnabled()).isFalse();
        }
        assertThat(GradMode.isEnabled()).isTrue();
        assertThat(y.requiresGrad()).isFalse();
        assertThat(y.isLeaf()).isTrue();
        assertThatThrownBy(() -> F.sum(y).backward()).hasMessageContaining("does not require a gradient");
    }

    @Test
    void detachCutsTheGraph() {
        Variable x = Variable.leaf(Tensor.ones(2));
        Variable y = F.mul(F.exp(x).detach(), x);
        F.sum(y).backward();
        assertThat(x.grad().toFloatArray()).containsExactly((float) Math.E, (float) Math.E);
    }

    @Test
    void backwardTwiceThroughTheSameGraphIsAClearError() {
        Variable x = Variable.leaf(Tensor.ones(2));
        Variable y = F.sum(F.exp(x));
        y.backward();
        assertThatThrownBy(y::backward).hasMessageContaining("second time");
    }

    @Test
    void savedTensorsAreReleasedAfterBackward() {
        Variable x = Variable.leaf(Tensor.ones(64, 64));
        Variable h = F.exp(x);
        WeakReference<Tensor> saved = new WeakReference<>(h.data()); // exp saves its output
        Variable loss = F.sum(F.mul(h, h));
        h = null;
        loss.backward();
        for (int i = 0; i < 20 && saved.get() != null; i++) {
            System.gc();
        }
        assertThat(saved.get()).as("the output of exp, saved for backward, is unreachable after backward").isNull();
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Variable x = Variable.leaf(Tensor.ones(1));
        Variable y = x;
        for (int i = 0; i < 20_000; i++) {
            y = F.add(y, 1f);
        }
        F.sum(y).backward();
        assertThat(x.grad().toFloatArray()).containsExactly(1f);
    }

    @Test
    void gradientShapeMustMatchTheOutput() {
        Variable x = Variable.leaf(Tensor.ones(2, 3));
        Variable y = F.exp(x);
        assertThatThrownBy(() -> y.backward(Tensor.ones(3, 2))).hasMessageContaining("[3, 2]")
                .hasMessageContaining("[2, 3]");
        assertThatThrownBy(y::backward).hasMessageContaining("one-element");
    }

    @Test
    void graphMemoryCountsActivationsUntilBackwardReleasesThem() {
        long before = GraphMemory.liveBytes();
        GraphMemory.resetPeak();
        Variable x = Variable.leaf(Tensor.ones(100, 100));
        Variable h = F.exp(x);                       // 40,000 bytes
        Variable r = F.reshape(h, 10_000);           // a view: the same storage, counted once
        Variable loss = F.sum(F.mul(r, r));          // 40,000 + 4 bytes
        assertThat(GraphMemory.liveBytes() - before).isEqualTo(40_000 + 40_000 + 4);
        loss.backward();
        assertThat(GraphMemory.liveBytes()).isEqualTo(before);
        assertThat(GraphMemory.peakBytes() - before).isEqualTo(80_004);
        try (var g = GradMode.off()) {
            F.exp(x);
        }
        assertThat(GraphMemory.liveBytes()).isEqualTo(before);
    }

    @Test
    void backwardReleasesEachGradientOnceConsumed() {
        // y = exp(exp(exp(exp(x)))): without releases, backward would hold one gradient per op (4 × 40 KB) and more
        int n = 10_000;
        long bytes = 4L * n;
        Variable x = Variable.leaf(Tensor.full(0.1f, n));
        try (MemoryScope scope = MemoryScope.open()) {
            Variable y = x;
            for (int i = 0; i < 4; i++) {
                y = F.exp(y);
            }
            Tensor g = Tensor.ones(n);
            long afterForward = MemoryStats.scopedLiveBytes(Device.CPU);
            MemoryStats.resetScopedPeak(Device.CPU);
            y.backward(g);
            long extra = MemoryStats.scopedPeakBytes(Device.CPU) - afterForward;
            assertThat(extra).as("backward's peak above the forward's activations").isLessThanOrEqualTo(2 * bytes);
            assertThat(MemoryStats.scopedLiveBytes(Device.CPU)).as("nothing of backward left live")
                    .isEqualTo(afterForward);
            assertThat(g.toFloatArray()[0]).as("the caller's gradient is not released").isEqualTo(1f);
        }
        // d/dx e^(e^(e^(e^x))) = Π of the four exp values along the chain
        double e1 = Math.exp(0.1), e2 = Math.exp(e1), e3 = Math.exp(e2), e4 = Math.exp(e3);
        assertThat((double) x.grad().toFloatArray()[n - 1]).as("leaf gradients outlive the scope")
                .isCloseTo(e1 * e2 * e3 * e4, org.assertj.core.data.Percentage.withPercentage(1e-3));
    }

    @Test
    void aGradientSharedByTwoInputsSurvivesUntilBothAreDone() {
        // add's backward hands the same tensor to both inputs; z = e + e, w = z ⊙ z: dw/dx = 2z · 2 · e = 8e²
        Variable x = Variable.leaf(Tensor.of(new float[]{0.5f, -1f, 2f}, 3));
        try (MemoryScope scope = MemoryScope.open()) {
            Variable e = F.exp(x);
            Variable z = F.add(e, e);
            F.sum(F.mul(z, z)).backward();
        }
        float[] g = x.grad().toFloatArray();
        float[] in = {0.5f, -1f, 2f};
        for (int i = 0; i < 3; i++) {
            assertThat((double) g[i]).isCloseTo(8 * Math.exp(2 * in[i]),
                    org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
    }

    @Test
    void contributionsMeetingAtANodeAddUpWhetherSummedInPlaceOrNot() {
        // y = e ⊙ e + 3e + e with e = exp(x): dy/de = 2e + 4, dy/dx = (2e + 4) · e; e receives four contributions,
        // some of them views of one tensor (mul by itself) and some sole views (summed in place)
        Variable x = Variable.leaf(Tensor.of(new float[]{0.25f, -0.5f}, 2));
        Variable e = F.exp(x);
        F.sum(F.add(F.add(F.mul(e, e), F.mul(e, 3f)), e)).backward();
        float[] g = x.grad().toFloatArray();
        float[] in = {0.25f, -0.5f};
        for (int i = 0; i < 2; i++) {
            double ev = Math.exp(in[i]);
            assertThat((double) g[i]).isCloseTo((2 * ev + 4) * ev, org.assertj.core.data.Percentage.withPercentage(1e-4));
        }
    }

    @Test
    void slicesOfOneTensorAddTheirGradientsIntoTheirRegions() {
        // x (4, 6) -> e = exp(x); y = Σ w1 ⊙ e[0:2] + Σ w2 ⊙ e[1:4] (overlapping rows) + Σ w3 ⊙ e[:, 1:5] (columns:
        // a non-contiguous region); de = w1 on rows 0-1, + w2 on rows 1-3, + w3 on columns 1-4; dx = de ⊙ e.
        // The first slice builds e's gradient; the others are added into its regions in place (Node.Region)
        float[] xv = new float[24], w1 = new float[12], w2 = new float[18], w3 = new float[16];
        for (int i = 0; i < 24; i++) {
            xv[i] = (float) Math.sin(i) / 2;
        }
        for (int i = 0; i < 18; i++) {
            w2[i] = 1 + i;
            if (i < 12) {
                w1[i] = -0.5f * i;
            }
            if (i < 16) {
                w3[i] = 0.25f * i - 1;
            }
        }
        Variable x = Variable.leaf(Tensor.of(xv, 4, 6));
        Variable e = F.exp(x);
        Variable y = F.add(F.add(F.sum(F.mul(F.slice(e, 0, 0, 2), Variable.constant(Tensor.of(w1, 2, 6)))),
                        F.sum(F.mul(F.slice(e, 0, 1, 4), Variable.constant(Tensor.of(w2, 3, 6))))),
                F.sum(F.mul(F.slice(e, 1, 1, 5), Variable.constant(Tensor.of(w3, 4, 4)))));
        y.backward();
        float[] g = x.grad().toFloatArray();
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 6; c++) {
                double de = (r < 2 ? w1[r * 6 + c] : 0) + (r >= 1 ? w2[(r - 1) * 6 + c] : 0)
                        + (c >= 1 && c < 5 ? w3[r * 4 + c - 1] : 0);
                assertThat((double) g[r * 6 + c]).as("dx[%d][%d]", r, c)
                        .isCloseTo(de * Math.exp(xv[r * 6 + c]), org.assertj.core.data.Offset.offset(1e-5));
            }
        }
        // slices of a leaf take the regular path (the leaf accumulates full gradients)
        Variable leaf = Variable.leaf(Tensor.of(xv, 4, 6));
        F.add(F.sum(F.slice(leaf, 0, 0, 2)), F.sum(F.slice(leaf, 0, 1, 4))).backward();
        assertThat(leaf.grad().toFloatArray()).containsExactly(1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1,
                1, 1, 1, 1, 1, 1);
    }

    @Test
    void opProfilerChargesForwardAndBackwardPerOp() {
        Variable x = Variable.leaf(Tensor.full(0.5f, 64, 64));
        try (OpProfiler p = OpProfiler.start()) {
            F.sum(F.exp(F.matmul(x, x))).backward();
            assertThat(p.table()).contains("matmul", "exp", "forward", "backward", "total");
            assertThat(p.millis("matmul", true)).isPositive();
            assertThat(p.millis("no_such_op", false)).isZero();
            assertThatThrownBy(OpProfiler::start).hasMessageContaining("already running");
        }
        try (OpProfiler again = OpProfiler.start()) {
            assertThat(again.table()).doesNotContain("matmul");
        }
    }
}
