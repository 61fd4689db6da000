package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.ReduceOp;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Every SIMD element-wise, reduction and softmax kernel against its reference definition, on odd sizes. */
class SimdKernelsTest {

    private static final int[] SIZES = {1, 7, 15, 16, 17, 33, 257};
    private static final WorkerPool POOL = new WorkerPool(2);
    private static final Backend SIMD = new SimdBackend(POOL);
    private static final Backend REF = new ReferenceBackend();
    private static final Rng RNG = new Rng(1234);

    @AfterAll
    static void stop() {
        POOL.shutdown();
    }

    private static Tensor out(Tensor like) {
        return Tensor.zeros(like.device(), DType.F32, like.shape());
    }

    private static void assertClose(String what, Tensor actual, Tensor expected, double tol) {
        AllClose r = AllClose.check(what, actual, expected, tol, tol);
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    private static float[] range(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT, RECIPROCAL -> new float[]{0.05f, 4f};
            case EXP -> new float[]{-20f, 20f};
            default -> new float[]{-6f, 6f};
        };
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unaryMatchesReference(UnaryOp op) {
        for (int n : SIZES) {
            float[] r = range(op);
            for (Tensor x : new Tensor[]{RNG.uniform(r[0], r[1], 3, n), RNG.uniform(r[0], r[1], n, 3).transpose(0, 1)}) {
                Tensor a = out(x), e = out(x);
                SIMD.unary(op, a, x);
                REF.unary(op, e, x);
                assertClose(op + " n=" + n, a, e, 2e-6);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binaryMatchesReferenceForEveryLayout(BinaryOp op) {
        for (int n : SIZES) {
            float lo = op == BinaryOp.POW || op == BinaryOp.DIV ? 0.5f : -3f;
            Tensor x = RNG.uniform(lo, 3f, 5, n);
            Tensor[] others = {
                    RNG.uniform(lo, 3f, 5, n),                          // same shape
                    RNG.uniform(lo, 3f, n).expand(5, n),                // trailing-axis (row) broadcast
                    RNG.uniform(lo, 3f, 5, 1).expand(5, n),             // column broadcast
                    RNG.uniform(lo, 3f).expand(5, n),                   // scalar
                    RNG.uniform(lo, 3f, n, 5).transpose(0, 1),          // strided
            };
            for (int k = 0; k < others.length; k++) {
                for (boolean swap : new boolean[]{false, true}) {
                    Tensor a = swap ? others[k] : x, b = swap ? x : others[k];
                    Tensor got = out(x), want = out(x);
                    SIMD.binary(op, got, a, b);
                    REF.binary(op, want, a, b);
                    assertClose(op + " n=" + n + " layout=" + k + " swap=" + swap, got, want, 2e-6);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binaryMatchesReferenceRowByRowWhereNoSplitFits(BinaryOp op) {
        for (int n : SIZES) {
            float lo = op == BinaryOp.POW || op == BinaryOp.DIV ? 0.5f : -3f;
            Tensor x = RNG.uniform(lo, 3f, 3, 4, n);
            Tensor[] others = {
                    RNG.uniform(lo, 3f, 3, 1, n).expand(3, 4, n),       // a middle-axis broadcast (AdaLN's scale)
                    RNG.uniform(lo, 3f, 4, 3, n).transpose(0, 1),       // rows permuted, each contiguous
                    RNG.uniform(lo, 3f, 1, 4, 1).expand(3, 4, n),       // one value per row, repeated across samples
            };
            for (int k = 0; k < others.length; k++) {
                for (boolean swap : new boolean[]{false, true}) {
                    Tensor a = swap ? others[k] : x, b = swap ? x : others[k];
                    Tensor got = out(x), want = out(x);
                    SIMD.binary(op, got, a, b);
                    REF.binary(op, want, a, b);
                    assertClose(op + " n=" + n + " case=" + k + " swap=" + swap, got, want, 2e-6);
                }
            }
            Tensor both = out(x), wantBoth = out(x);                     // both broadcast, along different axes
            Tensor a = RNG.uniform(lo, 3f, 3, 1, n).expand(3, 4, n), b = RNG.uniform(lo, 3f, 1, 4, 1).expand(3, 4, n);
            SIMD.binary(op, both, a, b);
            REF.binary(op, wantBoth, a, b);
            assertClose(op + " n=" + n + " both broadcast", both, wantBoth, 2e-6);
        }
    }

    @Test
    void binaryHandlesThreeDimensionalBroadcastOnBothSides() {
        Tensor a = RNG.uniform(-1, 1, 3, 1, 17).expand(3, 4, 17);
        Tensor b = RNG.uniform(-1, 1, 4, 1).expand(3, 4, 17);
        Tensor got = Tensor.zeros(3, 4, 17), want = Tensor.zeros(3, 4, 17);
        SIMD.binary(BinaryOp.SUB, got, a, b);
        REF.binary(BinaryOp.SUB, want, a, b);
        assertClose("sub", got, want, 0);
    }

    @ParameterizedTest
    @EnumSource(ReduceOp.class)
    void reduceMatchesReference(ReduceOp op) {
        for (int outer : new int[]{1, 3}) {
            for (int n : SIZES) {
                for (int inner : new int[]{1, 5, 17}) {
                    Tensor x = RNG.uniform(-2, 2, outer, n, inner);
                    Tensor got = Tensor.zeros(outer, inner), want = Tensor.zeros(outer, inner);
                    SIMD.reduce(op, got, x, outer, n, inner);
                    REF.reduce(op, want, x, outer, n, inner);
                    assertClose(op + " " + Shape.str(outer, n, inner), got, want, 1e-5);
                }
            }
        }
    }

    @Test
    void argmaxFindsTheFirstMaximumLikeReference() {
        for (int n : SIZES) {
            for (int inner : new int[]{1, 3}) {
                Tensor x = RNG.uniform(-2, 2, 4, n, inner);
                x = x.map(UnaryOp.ABS).mul(4f).map(UnaryOp.RELU).sub(3f).maximum(Tensor.scalar(0f)); // ties at 0
                Tensor got = Tensor.zeros(dev.mvarj.tensor.Device.CPU, DType.I32, 4, inner);
                Tensor want = Tensor.zeros(dev.mvarj.tensor.Device.CPU, DType.I32, 4, inner);
                SIMD.argmax(got, x, 4, n, inner);
                REF.argmax(want, x, 4, n, inner);
                assertThat(got.toIntArray()).as("argmax n=%d inner=%d", n, inner).containsExactly(want.toIntArray());
            }
        }
    }

    @Test
    void softmaxAndLogSoftmaxMatchReference() {
        for (int n : SIZES) {
            Tensor x = RNG.uniform(-30, 30, 7, n);
            Tensor got = out(x), want = out(x);
            SIMD.softmax(got, x, 7, n);
            REF.softmax(want, x, 7, n);
            assertClose("softmax n=" + n, got, want, 1e-6);
            SIMD.logSoftmax(got, x, 7, n);
            REF.logSoftmax(want, x, 7, n);
            assertClose("logSoftmax n=" + n, got, want, 1e-5);
        }
    }

    @Test
    void geluAndItsGradientKeepTheirLimitsForHugeInputs() {
        // finite inputs far out: GELU → x or −0, its gradient → dy or 0 (an overflowing u'·x times s·(1 − s) = 0
        // must not give NaN); 34 elements, so both the vector lanes and the scalar tail see them
        float[] big = {1e3f, -1e3f, 1e12f, -1e12f, 2e13f, -2e13f, 1e14f, -1e14f, 3e19f, -3e19f, 3e38f, -3e38f,
                0.5f, -0.5f, 7f, -7f, 1e14f, -1e14f};
        float[] v = new float[34];
        for (int i = 0; i < v.length; i++) {
            v[i] = big[i % big.length];
        }
        Tensor x = Tensor.of(v, v.length), dy = Tensor.full(1.5f, v.length);
        Tensor got = out(x), want = out(x);
        SIMD.unary(UnaryOp.GELU_TANH, got, x);
        REF.unary(UnaryOp.GELU_TANH, want, x);
        assertClose("gelu far out", got, want, 1e-6);
        SIMD.binary(BinaryOp.GELU_TANH_GRAD, got, x, dy);
        REF.binary(BinaryOp.GELU_TANH_GRAD, want, x, dy);
        assertClose("gelu gradient far out", got, want, 1e-6);
        assertThat(got.toFloatArray()).doesNotContain(Float.NaN);
    }

    @Test
    void rowWiseCopyOfAHeadSplitMatchesReference() {
        for (int d : new int[]{8, 32, 33}) {      // whole vectors, and a tail
            Tensor qkv = RNG.uniform(-1, 1, 3, 7, 3, 5, d);                    // (B, L, 3, H, d)
            Tensor k = qkv.permute(2, 0, 3, 1, 4).select(0, 1);               // (B, H, L, d), rows d apart
            Tensor got = out(k), want = out(k);
            SIMD.copy(got, k);
            REF.copy(want, k);
            assertClose("head split d=" + d, got, want, 0);
            Tensor ids = Tensor.ofInts(java.util.stream.IntStream.range(0, 3 * 7 * 3 * 5 * d).toArray(), 3, 7, 3, 5, d)
                    .permute(2, 0, 3, 1, 4).select(0, 2);
            Tensor gotI = Tensor.zeros(Device.CPU, DType.I32, ids.shape());
            SIMD.copy(gotI, ids);
            assertThat(gotI.toIntArray()).containsExactly(ids.toIntArray());
        }
    }

    @Test
    void copyOfALastAxisBroadcastFillsEveryRowWithItsValue() {
        for (int d : new int[]{8, 33}) {                                        // whole vectors, and a tail
            Tensor g = RNG.uniform(-1, 1, 3, 5, 7, 1);
            Tensor x = g.expand(3, 5, 7, d);                                   // stride 0 along the last axis
            Tensor got = out(x), want = out(x);
            SIMD.copy(got, x);
            REF.copy(want, x);
            assertClose("expand d=" + d, got, want, 0);
            Tensor t = RNG.uniform(-1, 1, 7, 5, 1).permute(1, 0, 2).expand(5, 7, d);   // strided rows, broadcast
            Tensor gotT = out(t), wantT = out(t);
            SIMD.copy(gotT, t);
            REF.copy(wantT, t);
            assertClose("permuted expand d=" + d, gotT, wantT, 0);
            Tensor ids = Tensor.ofInts(java.util.stream.IntStream.range(0, 15).toArray(), 3, 5, 1).expand(3, 5, d);
            Tensor gotI = Tensor.zeros(Device.CPU, DType.I32, ids.shape());
            SIMD.copy(gotI, ids);
            assertThat(gotI.toIntArray()).containsExactly(ids.toIntArray());
        }
    }

    @Test
    void stridedCopyMatchesReference() {
        Tensor x = RNG.uniform(-1, 1, 5, 33, 7).permute(2, 0, 1);             // rows of 33 read 7 apart
        Tensor got = out(x), want = out(x);
        SIMD.copy(got, x);
        REF.copy(want, x);
        assertClose("copy", got, want, 0);
        Tensor t = RNG.uniform(-1, 1, 3, 9, 64).transpose(1, 2);               // (B, C, HW) -> (B, HW, C): short rows
        Tensor gotT = out(t), wantT = out(t);
        SIMD.copy(gotT, t);
        REF.copy(wantT, t);
        assertClose("transpose", gotT, wantT, 0);
        Tensor narrow = RNG.uniform(-1, 1, 4, 6, 5).transpose(1, 2);           // rows shorter than 8: element-wise
        Tensor gotN = out(narrow), wantN = out(narrow);
        SIMD.copy(gotN, narrow);
        REF.copy(wantN, narrow);
        assertClose("narrow transpose", gotN, wantN, 0);
        Tensor ids = Tensor.ofInts(java.util.stream.IntStream.range(0, 5 * 33 * 7).toArray(), 5, 33, 7).permute(2, 0, 1);
        Tensor gotI = Tensor.zeros(Device.CPU, DType.I32, ids.shape());
        SIMD.copy(gotI, ids);
        assertThat(gotI.toIntArray()).containsExactly(ids.toIntArray());
    }

    @Test
    void resultsAreBitIdenticalForPoolSizesOneTwoThree() {
        Tensor x = RNG.uniform(-3, 3, 300, 257);
        Tensor bias = RNG.uniform(-1, 1, 257);
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            WorkerPool pool = new WorkerPool(threads);
            try {
                SimdBackend b = new SimdBackend(pool);
                Tensor y = out(x), s = out(x), r = Tensor.zeros(257), g = Tensor.zeros(300, 300);
                b.binary(BinaryOp.ADD, y, x, bias.expand(300, 257));
                b.unary(UnaryOp.GELU_TANH, y, y);
                b.softmax(s, y, 300, 257);
                b.reduce(ReduceOp.SUM, r, s, 1, 300, 257);
                b.gemm(false, true, 1, 300, 300, 257, 1f, y, 257, 0, s, 257, 0, 0f, g, 300, 0);
                float[] all = new float[300 * 257 + 257 + 300 * 300];
                System.arraycopy(s.toFloatArray(), 0, all, 0, 300 * 257);
                System.arraycopy(r.toFloatArray(), 0, all, 300 * 257, 257);
                System.arraycopy(g.toFloatArray(), 0, all, 300 * 257 + 257, 300 * 300);
                results[threads - 1] = all;
            } finally {
                pool.shutdown();
            }
        }
        assertThat(results[1]).as("2 threads vs 1").containsExactly(results[0]);
        assertThat(results[2]).as("3 threads vs 1").containsExactly(results[0]);
    }
}
