package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.Host;
import dev.mvarj.tensor.cpu.ReferenceBackend;
import dev.mvarj.tensor.cpu.WorkerPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Sgemm} against its definition, {@code ReferenceBackend.gemm}. */
class SgemmTest {

    private static final int[] SIZES = {1, 7, 15, 17, 33, 257};
    private static WorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.shutdown();
    }

    /** One batched problem: operands with their leading dimensions and batch strides, C's initial contents. */
    private record Problem(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, float beta,
                           float[] a, int lda, int strideA, float[] b, int ldb, int strideB,
                           float[] c, int ldc, int strideC) {

        /**
         * Random operands; {@code pad} is added to every leading dimension; a batch stride of -1 means "broadcast"
         * (stride 0), otherwise the batch stride is the padded matrix size plus {@code gap}.
         */
        static Problem random(long seed, boolean transA, boolean transB, int batch, int M, int N, int K,
                              float alpha, float beta, int pad, int gap, boolean broadcastA, boolean broadcastB) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int lda = (transA ? M : K) + pad, ldb = (transB ? K : N) + pad, ldc = N + pad;
            int sizeA = (transA ? K : M) * lda + gap, sizeB = (transB ? N : K) * ldb + gap, sizeC = M * ldc + gap;
            int strideA = broadcastA ? 0 : sizeA, strideB = broadcastB ? 0 : sizeB;
            float[] a = fill(rnd, broadcastA ? sizeA : batch * sizeA);
            float[] b = fill(rnd, broadcastB ? sizeB : batch * sizeB);
            float[] c = fill(rnd, batch * sizeC);
            return new Problem(transA, transB, batch, M, N, K, alpha, beta, a, lda, strideA, b, ldb, strideB,
                    c, ldc, sizeC);
        }

        private static float[] fill(SplittableRandom rnd, int n) {
            float[] v = new float[Math.max(1, n)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            return v;
        }

        Problem withC(float[] newC) {
            return new Problem(transA, transB, batch, M, N, K, alpha, beta, a, lda, strideA, b, ldb, strideB,
                    newC, ldc, strideC);
        }

        /** C after the reference (the definition). */
        float[] reference() {
            Tensor ta = Tensor.of(a, a.length), tb = Tensor.of(b, b.length), tc = Tensor.of(c, c.length);
            new ReferenceBackend().gemm(transA, transB, batch, M, N, K, alpha, ta, lda, strideA, tb, ldb, strideB,
                    beta, tc, ldc, strideC);
            return Host.f(tc).clone();
        }

        /** C after {@link Sgemm} on {@code pool}. */
        float[] sgemm(WorkerPool p) {
            float[] out = c.clone();
            Sgemm.gemm(p, transA, transB, batch, M, N, K, alpha, a, 0, lda, strideA, b, 0, ldb, strideB,
                    beta, out, 0, ldc, strideC);
            return out;
        }

        /** C after {@code SimdBackend.gemm} with its own pool of {@code threads}. */
        float[] simdBackend(int threads) {
            WorkerPool p = new WorkerPool(threads);
            try {
                Tensor ta = Tensor.of(a, a.length), tb = Tensor.of(b, b.length), tc = Tensor.of(c, c.length);
                new SimdBackend(p).gemm(transA, transB, batch, M, N, K, alpha, ta, lda, strideA, tb, ldb, strideB,
                        beta, tc, ldc, strideC);
                return Host.f(tc).clone();
            } finally {
                p.shutdown();
            }
        }

        @Override
        public String toString() {
            return "gemm(transA=" + transA + ", transB=" + transB + ", batch=" + batch + ", M=" + M + ", N=" + N
                    + ", K=" + K + ", alpha=" + alpha + ", beta=" + beta + ", lda=" + lda + ", ldb=" + ldb
                    + ", ldc=" + ldc + ", strideA=" + strideA + ", strideB=" + strideB + ")";
        }

        /** Compares the C elements (not the padding); tolerance relative to |alpha|·K·max|a|·max|b| + |beta|·max|c|. */
        void assertClose(float[] got, float[] want) {
            double scale = Math.abs(alpha) * Math.max(1, K) + Math.abs(beta) + 1e-30;
            double tol = scale * 0x1p-19;
            double maxErr = 0;
            String first = null;
            for (int bi = 0; bi < batch; bi++) {
                for (int m = 0; m < M; m++) {
                    for (int n = 0; n < N; n++) {
                        int i = bi * strideC + m * ldc + n;
                        double err = Math.abs((double) got[i] - want[i]);
                        if (Double.isNaN(err) && !(Float.isNaN(got[i]) && Float.isNaN(want[i]))) {
                            err = Double.POSITIVE_INFINITY;
                        }
                        if (err > tol && first == null) {
                            first = "C[" + bi + "][" + m + "][" + n + "] = " + got[i] + ", reference " + want[i];
                        }
                        maxErr = Math.max(maxErr, Double.isNaN(err) ? 0 : err);
                    }
                }
            }
            assertThat(first).as("%s: max abs error %.3g (tolerance %.3g), first difference %s",
                    this, maxErr, tol, first).isNull();
            // the padding between rows and matrices is untouched
            for (int i = 0; i < got.length; i++) {
                int bi = i / strideC, r = i % strideC, m = r / ldc, n = r % ldc;
                if (bi >= batch || m >= M || n >= N) {
                    assertThat(Float.floatToRawIntBits(got[i])).as("%s: padding at %d was written", this, i)
                            .isEqualTo(Float.floatToRawIntBits(c[i]));
                }
            }
        }
    }

    @Test
    void matchesReferenceOnAllSizeCombinationsAndTransposes() {
        long seed = 1;
        for (boolean tA : new boolean[]{false, true}) {
            for (boolean tB : new boolean[]{false, true}) {
                for (int M : SIZES) {
                    for (int N : SIZES) {
                        for (int K : SIZES) {
                            Problem p = Problem.random(seed++, tA, tB, 1, M, N, K, 1f, 0f, 0, 0, false, false);
                            p.assertClose(p.sgemm(pool), p.reference());
                        }
                    }
                }
            }
        }
    }

    @Test
    void appliesAlphaBetaWithPaddedLeadingDimensions() {
        long seed = 1000;
        for (boolean tA : new boolean[]{false, true}) {
            for (boolean tB : new boolean[]{false, true}) {
                for (int[] s : new int[][]{{7, 17, 33}, {33, 257, 15}, {257, 33, 17}, {100, 300, 513}, {67, 45, 1100}}) {
                    Problem p = Problem.random(seed++, tA, tB, 1, s[0], s[1], s[2], -0.75f, 0.5f, 5, 3, false, false);
                    p.assertClose(p.sgemm(pool), p.reference());
                }
            }
        }
    }

    @Test
    void aBiasIsAddedOnceToEveryRowOnEveryPath() {
        // small path, one K block, several K blocks (K > KC), edge tiles (N not a multiple of NR), beta 0 and not
        SplittableRandom rnd = new SplittableRandom(7);
        for (int[] s : new int[][]{{5, 7, 3}, {33, 257, 17}, {100, 47, Sgemm.KC * 2 + 5}, {61, 70, 300}}) {
            int M = s[0], N = s[1], K = s[2];
            for (float beta : new float[]{0f, 0.5f}) {
                float[] a = new float[M * K], b = new float[N * K], bias = new float[N + 3], c = new float[M * N];
                for (float[] v : new float[][]{a, b, bias, c}) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) rnd.nextDouble(-1, 1);
                    }
                }
                float[] got = c.clone();
                Sgemm.gemm(pool, false, true, 1, M, N, K, 1f, a, 0, K, 0, b, 0, K, 0, beta, got, 0, N, 0, bias, 3);
                double maxErr = 0;
                for (int m = 0; m < M; m++) {
                    for (int n = 0; n < N; n++) {
                        double want = beta * c[m * N + n] + bias[3 + n];
                        for (int k = 0; k < K; k++) {
                            want += (double) a[m * K + k] * b[n * K + k];
                        }
                        maxErr = Math.max(maxErr, Math.abs(got[m * N + n] - want));
                    }
                }
                assertThat(maxErr).as("M %d N %d K %d beta %s", M, N, K, beta).isLessThan(K * 0x1p-19 + 1e-6);
            }
        }
    }

    @Test
    void theSimdLinearEqualsTheDefaultGemmPlusBias() {
        Tensor x = Tensor.of(randomArray(9, 2080 % 301 * 37), 2080 % 301, 37);
        Tensor w = Tensor.of(randomArray(10, 45 * 37), 45, 37), bias = Tensor.of(randomArray(11, 45), 45);
        SimdBackend simd = new SimdBackend(pool);
        ReferenceBackend ref = new ReferenceBackend();
        for (Tensor bi : new Tensor[]{bias, null}) {
            Tensor got = Tensor.zeros(x.size(0), 45), want = Tensor.zeros(x.size(0), 45);
            simd.linear(got, x, w, bi, x.size(0), 37, 45);
            ref.linear(want, x, w, bi, x.size(0), 37, 45);
            float[] g = got.toFloatArray(), e = want.toFloatArray();
            for (int i = 0; i < g.length; i++) {
                assertThat((double) g[i]).as("element %d, bias %s", i, bi != null).isCloseTo(e[i],
                        org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    private static float[] randomArray(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }

    @Test
    void matchesReferenceOnRectangularLargeShapes() {
        long seed = 2000;
        int[][] shapes = {{100, 300, 513}, {513, 100, 300}, {300, 513, 100}, {6, 1000, 64}, {1000, 6, 65}};
        for (int[] s : shapes) {
            for (boolean tA : new boolean[]{false, true}) {
                for (boolean tB : new boolean[]{false, true}) {
                    Problem p = Problem.random(seed++, tA, tB, 1, s[0], s[1], s[2], 1f, 1f, 0, 0, false, false);
                    p.assertClose(p.sgemm(pool), p.reference());
                }
            }
        }
    }

    @Test
    void batchesWithStridesAndBroadcastOperands() {
        long seed = 3000;
        for (boolean tA : new boolean[]{false, true}) {
            for (boolean tB : new boolean[]{false, true}) {
                for (int[] s : new int[][]{{17, 33, 15}, {70, 90, 130}}) {
                    for (int broadcast = 0; broadcast < 3; broadcast++) {
                        Problem p = Problem.random(seed++, tA, tB, 3, s[0], s[1], s[2], 1.25f, -1f, 2, 7,
                                broadcast == 1, broadcast == 2);
                        p.assertClose(p.sgemm(pool), p.reference());
                    }
                }
            }
        }
    }

    @Test
    void betaZeroDoesNotReadNaNsInC() {
        long seed = 4000;
        for (int[] s : new int[][]{{7, 9, 5}, {70, 90, 130}, {100, 64, 600}}) {
            for (boolean tA : new boolean[]{false, true}) {
                Problem p = Problem.random(seed++, tA, false, 2, s[0], s[1], s[2], 2f, 0f, 1, 1, false, false);
                float[] nan = new float[p.c().length];
                Arrays.fill(nan, Float.NaN);
                Problem q = p.withC(nan);
                float[] got = q.sgemm(pool);
                for (int bi = 0; bi < q.batch(); bi++) {
                    for (int m = 0; m < q.M(); m++) {
                        for (int n = 0; n < q.N(); n++) {
                            float v = got[bi * q.strideC() + m * q.ldc() + n];
                            assertThat(Float.isNaN(v)).as("%s: C[%d][%d][%d] is NaN", q, bi, m, n).isFalse();
                        }
                    }
                }
                q.assertClose(got, q.reference());
            }
        }
    }

    @Test
    void zeroDepthScalesC() {
        Problem p = Problem.random(5000, false, false, 2, 9, 40, 0, 1f, 0.5f, 0, 0, false, false);
        p.assertClose(p.sgemm(pool), p.reference());
    }

    @Test
    void resultsAreBitIdenticalForPoolSizesOneTwoThree() {
        long seed = 6000;
        Problem[] problems = {
                Problem.random(seed++, false, false, 1, 200, 300, 600, 1f, 0f, 0, 0, false, false),
                Problem.random(seed++, true, true, 1, 131, 257, 520, 0.5f, 2f, 3, 0, false, false),
                Problem.random(seed++, false, true, 3, 70, 90, 130, 1f, 1f, 1, 1, false, true),
                Problem.random(seed++, true, false, 2, 97, 33, 1030, -1f, 0f, 0, 0, true, false),
                Problem.random(seed++, false, false, 1, 5, 40, 30, 1f, 0f, 0, 0, false, false),
        };
        for (Problem p : problems) {
            float[] one = p.simdBackend(1);
            for (int threads = 2; threads <= 3; threads++) {
                float[] many = p.simdBackend(threads);
                int diff = Arrays.mismatch(one, many);
                assertThat(diff).as("%s: %d threads differ from 1 thread first at %d (%s vs %s)", p, threads,
                        diff, diff < 0 ? "" : many[diff], diff < 0 ? "" : one[diff]).isEqualTo(-1);
            }
            p.assertClose(one, p.reference());
        }
    }
}
