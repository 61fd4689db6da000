package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;

import static dev.mvarj.tensor.cpu.simd.SimdBackend.L;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.S;

/**
 * Single-precision GEMM on the Vector API: {@code C = alpha · op(A) · op(B) + beta · C}, batched.
 * The definition is {@code ReferenceBackend.gemm}.
 */
final class Sgemm {

    private Sgemm() {
    }

    static void gemm(WorkerPool pool, boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                     float[] A, int aOff, int lda, int strideA,
                     float[] B, int bOff, int ldb, int strideB,
                     float beta, float[] C, int cOff, int ldc, int strideC) {
        pool.parallelFor(batch * M, 4, (r0, r1) -> {
            float[] acc = new float[N];
            float[] bt = transB ? new float[K * N] : null;
            int packedBatch = -1;
            for (int r = r0; r < r1; r++) {
                int bi = r / M, m = r % M;
                int ao = aOff + bi * strideA, bo = bOff + bi * strideB, co = cOff + bi * strideC;
                float[] Bk = B;
                int kStride = ldb, base = bo;
                if (transB) {
                    if (packedBatch != bi) {
                        for (int k = 0; k < K; k++) {
                            for (int n = 0; n < N; n++) {
                                bt[k * N + n] = B[bo + n * ldb + k];
                            }
                        }
                        packedBatch = bi;
                    }
                    Bk = bt;
                    kStride = N;
                    base = 0;
                }
                java.util.Arrays.fill(acc, 0f);
                for (int k = 0; k < K; k++) {
                    float a = transA ? A[ao + k * lda + m] : A[ao + m * lda + k];
                    FloatVector av = FloatVector.broadcast(S, a);
                    int row = base + k * kStride, n = 0;
                    for (int bound = S.loopBound(N); n < bound; n += L) {
                        FloatVector.fromArray(S, Bk, row + n).fma(av, FloatVector.fromArray(S, acc, n)).intoArray(acc, n);
                    }
                    for (; n < N; n++) {
                        acc[n] = Math.fma(a, Bk[row + n], acc[n]);
                    }
                }
                int c = co + m * ldc;
                for (int n = 0; n < N; n++) {
                    C[c + n] = beta == 0f ? alpha * acc[n] : alpha * acc[n] + beta * C[c + n];
                }
            }
        });
    }
}
