package dev.mvarj.autograd;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Im2colConv;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** conv2d, group norm and resampling beyond the fixtures: backends, pool sizes, the 1×1 path, errors. */
class VisionOpsTest {

    /** x, w, b grads and the output of conv2d with a fixed upstream gradient, on the current CPU backend. */
    private static float[][] conv(Tensor x, Tensor w, Tensor b, Tensor dout, int stride, int... pad) {
        Variable xv = Variable.leaf(x), wv = Variable.leaf(w), bv = Variable.leaf(b);
        Variable y = F.conv2d(xv, wv, bv, stride, pad[0], pad[1], pad[2], pad[3]);
        y.backward(dout);
        return new float[][]{y.data().toFloatArray(), xv.grad().toFloatArray(), wv.grad().toFloatArray(),
                bv.grad().toFloatArray()};
    }

    private static float[][] convOn(Backend be, Tensor x, Tensor w, Tensor b, Tensor dout, int stride, int... pad) {
        try (var ignored = Backends.useCpu(be)) {
            return conv(x, w, b, dout, stride, pad);
        }
    }

    private static final int[][] CASES = { // B, Cin, H, W, Cout, k, stride, pad top, bottom, left, right
            {3, 5, 9, 7, 4, 3, 1, 1, 1, 1, 1},
            {2, 3, 9, 17, 5, 3, 2, 0, 1, 0, 1},
            {2, 17, 7, 7, 3, 1, 1, 0, 0, 0, 0},
            {2, 3, 8, 8, 2, 1, 2, 0, 0, 0, 0},
            {1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1},
            // the direct stride-1 kernels: channel counts off the 4-channel tile, rows off the vector width,
            // asymmetric padding, 2×2 and 5×5 filters (the 5×5 has two column-tap tiles), a single-column image
            {2, 5, 9, 13, 7, 3, 1, 1, 1, 1, 1},
            {3, 1, 11, 19, 2, 3, 1, 0, 1, 0, 1},
            {2, 4, 6, 20, 5, 5, 1, 2, 2, 2, 2},
            {2, 3, 7, 9, 6, 2, 1, 0, 1, 1, 0},
            {2, 2, 5, 1, 3, 3, 1, 1, 1, 1, 1},
            {1, 6, 4, 4, 9, 3, 1, 0, 0, 0, 0},
    };

    private static Tensor[] inputs(Rng rng, int[] c) {
        int B = c[0], Cin = c[1], H = c[2], W = c[3], Cout = c[4], k = c[5], s = c[6];
        int OH = (H + c[7] + c[8] - k) / s + 1, OW = (W + c[9] + c[10] - k) / s + 1;
        return new Tensor[]{rng.normal(0f, 1f, B, Cin, H, W), rng.normal(0f, 0.3f, Cout, Cin, k, k),
                rng.normal(0f, 0.3f, Cout), rng.normal(0f, 1f, B, Cout, OH, OW)};
    }

    @Test
    void conv2dOnSimdMatchesTheReferenceAndIsBitIdenticalForPoolSizesOneTwoThree() {
        Rng rng = new Rng(11);
        String[] names = {"out", "dx", "dw", "db"};
        for (int[] c : CASES) {
            Tensor[] t = inputs(rng, c);
            int[] pad = {c[7], c[8], c[9], c[10]};
            float[][] ref = convOn(new ReferenceBackend(), t[0], t[1], t[2], t[3], c[6], pad);
            float[][] first = null;
            for (int threads = 1; threads <= 3; threads++) {
                WorkerPool pool = new WorkerPool(threads);
                try {
                    float[][] got = convOn(new SimdBackend(pool), t[0], t[1], t[2], t[3], c[6], pad);
                    for (int i = 0; i < got.length; i++) {
                        AllClose r = AllClose.check(java.util.Arrays.toString(c) + " " + names[i], got[i], ref[i],
                                2e-5, 2e-5);
                        assertThat(r.ok()).as(r.message()).isTrue();
                    }
                    if (first == null) {
                        first = got;
                    } else {
                        assertThat(got).as("%s with %d threads", java.util.Arrays.toString(c), threads)
                                .isDeepEqualTo(first);
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    @Test
    void conv2dGivesTheSameResultWhenTheBatchIsSplitIntoIm2colGroups() {
        Rng rng = new Rng(12);
        int[] c = {5, 3, 9, 7, 4, 3, 2, 0, 1, 0, 1};
        Tensor[] t = inputs(rng, c);
        int[] pad = {c[7], c[8], c[9], c[10]};
        Backend be = new ReferenceBackend();
        float[][] whole = convOn(be, t[0], t[1], t[2], t[3], c[6], pad);
        String old = System.setProperty(Im2colConv.COLS_BUDGET_PROPERTY, "700"); // groups of 2 samples (27 × 12 = 324 floats each)
        try {
            float[][] split = convOn(be, t[0], t[1], t[2], t[3], c[6], pad);
            assertThat(split).isDeepEqualTo(whole);
        } finally {
            if (old == null) {
                System.clearProperty(Im2colConv.COLS_BUDGET_PROPERTY);
            } else {
                System.setProperty(Im2colConv.COLS_BUDGET_PROPERTY, old);
            }
        }
    }

    @Test
    void aPointwiseConvDoesNotRunIm2colOrCol2im() {
        AtomicInteger calls = new AtomicInteger();
        Backend counting = new ReferenceBackend() {
            @Override
            public void im2col(Tensor cols, Tensor x, int B, int C, int H, int W, int kh, int kw, int stride,
                               int padTop, int padLeft, int OH, int OW) {
                calls.incrementAndGet();
                super.im2col(cols, x, B, C, H, W, kh, kw, stride, padTop, padLeft, OH, OW);
            }

            @Override
            public void col2im(Tensor dx, Tensor cols, int B, int C, int H, int W, int kh, int kw, int stride,
                               int padTop, int padLeft, int OH, int OW) {
                calls.incrementAndGet();
                super.col2im(dx, cols, B, C, H, W, kh, kw, stride, padTop, padLeft, OH, OW);
            }
        };
        Rng rng = new Rng(13);
        Tensor[] t = inputs(rng, new int[]{2, 6, 5, 3, 4, 1, 1, 0, 0, 0, 0});
        convOn(counting, t[0], t[1], t[2], t[3], 1, 0, 0, 0, 0);
        assertThat(calls.get()).as("im2col/col2im calls of a 1x1 conv").isZero();
        Tensor[] t3 = inputs(rng, new int[]{2, 6, 5, 3, 4, 3, 1, 1, 1, 1, 1});
        convOn(counting, t3[0], t3[1], t3[2], t3[3], 1, 1, 1, 1, 1);
        assertThat(calls.get()).as("a 3x3 conv uses them").isPositive();
    }

    @Test
    void conv2dShapeErrorsNameEveryShape() {
        Variable x = Variable.leaf(Tensor.zeros(2, 3, 8, 8)), w = Variable.leaf(Tensor.zeros(4, 5, 3, 3));
        Variable b = Variable.leaf(Tensor.zeros(4));
        assertThatThrownBy(() -> F.conv2d(x, w, b, 1, 1, 1, 1, 1))
                .isInstanceOf(ShapeMismatchException.class)
                .hasMessageContaining("[2, 3, 8, 8]").hasMessageContaining("[4, 5, 3, 3]").hasMessageContaining("[4]");
        Variable big = Variable.leaf(Tensor.zeros(4, 3, 11, 11));
        assertThatThrownBy(() -> F.conv2d(x, big, null, 1, 0, 0, 0, 0))
                .isInstanceOf(ShapeMismatchException.class).hasMessageContaining("[4, 3, 11, 11]");
    }

    @Test
    void groupNormRejectsChannelsNotDivisibleByTheGroups() {
        Variable x = Variable.leaf(Tensor.zeros(2, 6, 3, 3));
        assertThatThrownBy(() -> F.groupNorm(x, 4, null, null, 1e-6f))
                .isInstanceOf(ShapeMismatchException.class).hasMessageContaining("[2, 6, 3, 3]")
                .hasMessageContaining("4 groups");
    }

    @Test
    void resamplingWithoutGradientRunsOnPlainTensorsAndMatchesTheOp() {
        Rng rng = new Rng(14);
        Tensor x = rng.normal(0f, 1f, 2, 4, 16, 16);
        Variable y;
        try (var ignored = GradMode.off()) {
            y = F.areaResample(Variable.constant(x), 13, 13);
        }
        Tensor t = dev.mvarj.tensor.Resampling.resize(x, dev.mvarj.tensor.Resampling.Mode.AREA, 13, 13);
        assertThat(y.requiresGrad()).isFalse();
        assertThat(y.data().toFloatArray()).isEqualTo(t.toFloatArray());
    }
}
