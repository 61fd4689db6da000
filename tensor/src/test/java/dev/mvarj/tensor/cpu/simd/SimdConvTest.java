package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.ConvGeometry;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SIMD convolution kernels against the reference backend's im2col + GEMM on odd sizes: the direct stride-1
 * kernels ({@link SimdConv}: channel counts off the 4-channel register tile, rows off the vector width, asymmetric
 * padding, non-square filters, filters wider than the 3 column taps of a weight-gradient tile), the batch-folded
 * GEMMs ({@link FoldedConv}: the same, plus strides, 1×1 filters and batches split into several groups) and the
 * backend's choice between them, with and without bias; every one bit-identical for pools of 1, 2 and 3 threads.
 */
class SimdConvTest {

    private static final Backend REF = new ReferenceBackend();

    private static final ConvGeometry[] CASES = { // B, Cin, H, W, Cout, kh, kw, stride, pad top, bottom, left, right
            new ConvGeometry(3, 5, 9, 13, 7, 3, 3, 1, 1, 1, 1, 1),
            new ConvGeometry(2, 1, 11, 19, 2, 3, 3, 1, 0, 1, 0, 1),
            new ConvGeometry(2, 4, 6, 20, 5, 5, 5, 1, 2, 2, 2, 2),
            new ConvGeometry(2, 3, 7, 9, 6, 2, 2, 1, 0, 1, 1, 0),
            new ConvGeometry(1, 6, 5, 17, 9, 3, 5, 1, 1, 0, 2, 1),
            new ConvGeometry(2, 2, 4, 1, 3, 1, 3, 1, 0, 0, 1, 1),
            new ConvGeometry(1, 3, 8, 8, 4, 3, 3, 1, 0, 0, 0, 0),
            new ConvGeometry(5, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1),
            new ConvGeometry(2, 3, 9, 10, 5, 3, 1, 1, 1, 1, 0, 0),
            // planes large enough that dw runs one sample per L2 chunk and the forward splits into several chunks
            new ConvGeometry(3, 8, 48, 48, 8, 3, 3, 1, 1, 1, 1, 1),
    };

    /** Geometries only the folded GEMMs take: strides (the VQ-VAE's downsample), 1×1, wide padding. */
    private static final ConvGeometry[] FOLDED_ONLY = {
            new ConvGeometry(3, 5, 9, 13, 7, 3, 3, 2, 0, 1, 0, 1),
            new ConvGeometry(2, 6, 11, 10, 5, 3, 3, 2, 1, 1, 1, 1),
            new ConvGeometry(2, 3, 10, 7, 4, 4, 2, 3, 2, 0, 1, 1),
            new ConvGeometry(3, 7, 5, 9, 11, 1, 1, 1, 0, 0, 0, 0),
            new ConvGeometry(2, 17, 16, 16, 33, 1, 1, 1, 0, 0, 0, 0),
            new ConvGeometry(2, 4, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3),
            // cols of one sample (144 × 10,000) beyond a group's budget: three groups, dw summed across them
            new ConvGeometry(3, 16, 100, 100, 4, 3, 3, 1, 1, 1, 1, 1),
    };

    /** One family of kernels: forward, input gradient, weight gradient on a pool. */
    private interface Kernels {
        float[][] run(WorkerPool pool, ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor dout);
    }

    private static final Kernels DIRECT = (pool, g, x, w, bias, dout) -> {
        float[][] r = outputs(g);
        SimdConv.forward(pool, r[0], 0, x.toFloatArray(), 0, w.toFloatArray(), 0,
                bias == null ? null : bias.toFloatArray(), 0, g);
        SimdConv.inputGrad(pool, r[1], 0, dout.toFloatArray(), 0, w.toFloatArray(), 0, g);
        SimdConv.weightGrad(pool, r[2], 0, dout.toFloatArray(), 0, x.toFloatArray(), 0, g);
        return r;
    };

    private static final Kernels FOLDED = (pool, g, x, w, bias, dout) -> {
        float[][] r = outputs(g);
        java.util.Arrays.fill(r[1], Float.NaN);                                 // written, not accumulated
        java.util.Arrays.fill(r[2], Float.NaN);
        FoldedConv.forward(pool, r[0], 0, x.toFloatArray(), 0, w.toFloatArray(), 0,
                bias == null ? null : bias.toFloatArray(), 0, g);
        FoldedConv.inputGrad(pool, r[1], 0, dout.toFloatArray(), 0, w.toFloatArray(), 0, g);
        FoldedConv.weightGrad(pool, r[2], 0, dout.toFloatArray(), 0, x.toFloatArray(), 0, g);
        return r;
    };

    private static final Kernels BACKEND = (pool, g, x, w, bias, dout) -> run(new SimdBackend(pool), g, x, w, bias,
            dout);

    private static float[][] outputs(ConvGeometry g) {
        return new float[][]{new float[g.B() * g.Cout() * g.P()], new float[g.B() * g.Cin() * g.H() * g.W()],
                new float[g.Cout() * g.K()]};
    }

    /** out, dx and dw of one geometry on a backend. */
    private static float[][] run(Backend be, ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor dout) {
        Tensor out = Tensor.zeros(g.B(), g.Cout(), g.OH(), g.OW());
        Tensor dx = Tensor.zeros(g.B(), g.Cin(), g.H(), g.W()), dw = Tensor.zeros(g.Cout(), g.Cin(), g.kh(), g.kw());
        be.conv2d(out, x, w, bias, g);
        be.conv2dInputGrad(dx, dout, w, g);
        be.conv2dWeightGrad(dw, dout, x, g);
        return new float[][]{out.toFloatArray(), dx.toFloatArray(), dw.toFloatArray()};
    }

    /**
     * Absolute tolerance of output i (out, dx, dw): dw sums B·OH·OW products of unit-variance values in a different
     * order than the reference, so its float32 rounding grows with the square root of that count.
     */
    private static double tolerance(ConvGeometry g, int i) {
        return i < 2 ? 2e-5 : 2e-5 * Math.max(1, Math.sqrt(g.B() * g.P() / 16.0));
    }

    /** Each case against the reference, with and without bias, on pools of 1, 2 and 3 threads (bit-identical). */
    private static void matchesTheReference(Kernels kernels, ConvGeometry... cases) {
        Rng rng = new Rng(21);
        String[] names = {"out", "dx", "dw"};
        for (ConvGeometry g : cases) {
            for (boolean withBias : new boolean[]{true, false}) {
                Tensor x = rng.normal(0f, 1f, g.B(), g.Cin(), g.H(), g.W());
                Tensor w = rng.normal(0f, 0.3f, g.Cout(), g.Cin(), g.kh(), g.kw());
                Tensor bias = withBias ? rng.normal(0f, 0.3f, g.Cout()) : null;
                Tensor dout = rng.normal(0f, 1f, g.B(), g.Cout(), g.OH(), g.OW());
                float[][] ref = run(REF, g, x, w, bias, dout), first = null;
                for (int threads = 1; threads <= 3; threads++) {
                    WorkerPool pool = new WorkerPool(threads);
                    try {
                        float[][] got = kernels.run(pool, g, x, w, bias, dout);
                        for (int i = 0; i < got.length; i++) {
                            AllClose r = AllClose.check(g + " bias " + withBias + " " + names[i], got[i], ref[i],
                                    tolerance(g, i), 2e-5);
                            assertThat(r.ok()).as(r.message()).isTrue();
                        }
                        if (first == null) {
                            first = got;
                        } else {
                            assertThat(got).as("%s with %d threads", g, threads).isDeepEqualTo(first);
                        }
                    } finally {
                        pool.shutdown();
                    }
                }
            }
        }
    }

    @Test
    void directKernelsMatchTheReferenceAndAreBitIdenticalForPoolSizesOneTwoThree() {
        for (ConvGeometry g : CASES) {
            assertThat(SimdConv.supports(g)).as("%s takes the direct kernels", g).isTrue();
        }
        matchesTheReference(DIRECT, CASES);
    }

    @Test
    void foldedGemmsMatchTheReferenceAndAreBitIdenticalForPoolSizesOneTwoThree() {
        assertThat(FoldedConv.group(FOLDED_ONLY[FOLDED_ONLY.length - 1])).as("the last case is split").isEqualTo(1);
        matchesTheReference(FOLDED, FOLDED_ONLY);
        matchesTheReference(FOLDED, CASES);
    }

    @Test
    void theBackendsChoiceMatchesTheReference() {
        matchesTheReference(BACKEND, CASES);
        matchesTheReference(BACKEND, FOLDED_ONLY);
    }

    @Test
    void theDirectKernelsTakeStrideOneFiltersLargerThanOneByOneOnly() {
        assertThat(SimdConv.supports(new ConvGeometry(1, 2, 8, 8, 2, 3, 3, 2, 0, 1, 0, 1))).as("stride 2").isFalse();
        assertThat(SimdConv.supports(new ConvGeometry(1, 2, 8, 8, 2, 1, 1, 1, 0, 0, 0, 0))).as("1x1").isFalse();
        assertThat(SimdConv.supports(new ConvGeometry(1, 2, 8, 8, 2, 3, 3, 1, 3, 0, 0, 0)))
                .as("padding past the filter").isFalse();
        assertThat(SimdConv.supports(new ConvGeometry(1, 2, 8, 8, 2, 3, 3, 1, 0, 3, 0, 0)))
                .as("bottom padding past the filter").isFalse();
        assertThat(SimdConv.supports(new ConvGeometry(1, 2, 8, 8, 2, 3, 3, 1, 0, 0, 0, 3)))
                .as("right padding past the filter").isFalse();
        assertThat(SimdConv.supports(new ConvGeometry(1, 2, 8, 8, 2, 3, 3, 1, 2, 2, 2, 2))).as("3x3 pad 2").isTrue();
    }

    @Test
    void theDirectKernelsReuseTheirScratchAcrossGeometriesWithoutStaleValues() {
        // a large call, then a small one on the same thread: the padded buffers must be rewritten, not trusted
        WorkerPool pool = new WorkerPool(2);
        try {
            Backend simd = new SimdBackend(pool);
            Rng rng = new Rng(5);
            for (ConvGeometry g : new ConvGeometry[]{CASES[7], CASES[0], CASES[7], CASES[3]}) {
                Tensor x = rng.normal(0f, 1f, g.B(), g.Cin(), g.H(), g.W());
                Tensor w = rng.normal(0f, 0.3f, g.Cout(), g.Cin(), g.kh(), g.kw());
                Tensor dout = rng.normal(0f, 1f, g.B(), g.Cout(), g.OH(), g.OW());
                float[][] ref = run(REF, g, x, w, null, dout), got = run(simd, g, x, w, null, dout);
                for (int i = 0; i < 3; i++) {
                    AllClose r = AllClose.check(g + " " + Arrays.toString(new int[]{i}), got[i], ref[i], 2e-5, 2e-5);
                    assertThat(r.ok()).as(r.message()).isTrue();
                }
            }
        } finally {
            pool.shutdown();
        }
    }
}
