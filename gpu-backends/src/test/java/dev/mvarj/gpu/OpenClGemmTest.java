package dev.mvarj.gpu;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static dev.mvarj.gpu.OpenClTestSupport.GPU;
import static dev.mvarj.gpu.OpenClTestSupport.assertClose;
import static dev.mvarj.gpu.OpenClTestSupport.dev;

/** The tiled GEMM against the reference: every transpose flag, batch strides, padded leading dimensions, beta. */
class OpenClGemmTest {

    private static final Backend REF = new ReferenceBackend();
    private static final Rng RNG = new Rng(7);
    private static Backend cl;

    @BeforeAll
    static void open() {
        cl = OpenClTestSupport.backend();
    }

    /** One batched product with padded rows (ld = cols + pad) and gaps between matrices, on both backends. */
    private static void check(boolean ta, boolean tb, int batch, int M, int N, int K, float alpha, float beta) {
        int pad = 3;
        int aRows = ta ? K : M, aCols = ta ? M : K, bRows = tb ? N : K, bCols = tb ? K : N;
        int lda = aCols + pad, ldb = bCols + pad, ldc = N + pad;
        int strideA = aRows * lda + 5, strideB = bRows * ldb + 2, strideC = M * ldc + 1;
        Tensor a = RNG.normal(0, 1, batch * strideA + 4), b = RNG.normal(0, 1, batch * strideB + 4);
        Tensor c = RNG.normal(0, 1, batch * strideC + 4);
        // operands start at an element offset, as views of a larger storage do
        Tensor av = a.slice(0, 4, a.numel()), bv = b.slice(0, 4, b.numel()), cv = c.slice(0, 4, c.numel());
        Tensor dc = dev(c);
        REF.gemm(ta, tb, batch, M, N, K, alpha, av, lda, strideA, bv, ldb, strideB, beta, cv, ldc, strideC);
        cl.gemm(ta, tb, batch, M, N, K, alpha, dev(a).slice(0, 4, a.numel()), lda, strideA,
                dev(b).slice(0, 4, b.numel()), ldb, strideB, beta, dc.slice(0, 4, c.numel()), ldc, strideC);
        assertClose(String.format("gemm ta=%s tb=%s batch=%d M=%d N=%d K=%d alpha=%s beta=%s", ta, tb, batch, M, N, K,
                alpha, beta), dc, c, DeviceTolerance.gemm(K));
    }

    @Test
    void everyTransposeCombinationOnOddShapes() {
        int[][] shapes = {{1, 1, 1}, {7, 17, 33}, {33, 7, 17}, {17, 33, 1}, {65, 67, 129}, {1, 257, 7}, {257, 3, 33}};
        for (boolean ta : new boolean[]{false, true}) {
            for (boolean tb : new boolean[]{false, true}) {
                for (int[] s : shapes) {
                    check(ta, tb, 1, s[0], s[1], s[2], 1f, 0f);
                }
            }
        }
    }

    @Test
    void batchedWithStridesAlphaAndBeta() {
        for (boolean ta : new boolean[]{false, true}) {
            for (boolean tb : new boolean[]{false, true}) {
                check(ta, tb, 3, 17, 33, 7, 0.5f, 0f);
                check(ta, tb, 5, 7, 9, 65, -1.5f, 1f);
                check(ta, tb, 2, 33, 17, 17, 1f, 0.25f);
            }
        }
    }

    @Test
    void largeSquareProduct() {
        check(false, false, 1, 257, 257, 257, 1f, 0f);
    }

    @Test
    void zeroDepthScalesC() {
        check(false, true, 2, 7, 5, 0, 1f, 0.5f);
    }

    @Test
    void betaZeroIgnoresNaNInC() {
        Tensor a = RNG.normal(0, 1, 3, 4), b = RNG.normal(0, 1, 4, 5);
        Tensor c = Tensor.full(Float.NaN, 3, 5), want = Tensor.zeros(3, 5);
        Tensor dc = dev(c);
        REF.gemm(false, false, 1, 3, 5, 4, 1f, a, 4, 0, b, 5, 0, 0f, want, 5, 0);
        cl.gemm(false, false, 1, 3, 5, 4, 1f, dev(a), 4, 0, dev(b), 5, 0, 0f, dc, 5, 0);
        assertClose("gemm beta=0 over NaN", dc, want, DeviceTolerance.gemm(4));
    }

    @Test
    void matmulThroughTensorUsesTheDevice() {
        Tensor a = RNG.normal(0, 1, 2, 17, 33), b = RNG.normal(0, 1, 2, 9, 33);
        Tensor want = a.matmul(b.transpose(1, 2));
        Tensor got = dev(a).matmul(dev(b).transpose(1, 2));
        org.assertj.core.api.Assertions.assertThat(got.device()).isEqualTo(GPU);
        assertClose("matmul", got, want, DeviceTolerance.gemm(33));
        org.assertj.core.api.Assertions.assertThat(Tensor.zeros(Device.CPU, DType.F32, 1).device())
                .isEqualTo(Device.CPU);
    }
}
