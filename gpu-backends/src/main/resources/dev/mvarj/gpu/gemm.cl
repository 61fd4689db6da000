// Batched SGEMM, C[b] (M,N) = alpha op(A[b]) (M,K) op(B[b]) (K,N) + beta C[b]; see Backend.gemm.
//
// GPU-style: a work-group computes a TM x TN tile of C, staging TK-wide slices of op(A) and op(B) in local memory;
// each work-item keeps an RM x RN block of accumulators in registers (register blocking), reading its rows
// ty, ty + LY, ... and columns tx, tx + LX, ... so local reads are conflict-free and global writes coalesce.
// Tile sizes are build options chosen from the device (OpenClBackend.GemmConfig); edges are zero-padded.
// On PoCL (a CPU driver) a barrier kernel like this is slow; it is here for correctness
// on PoCL and speed on GPUs.

#ifndef TM
#define TM 64
#define TN 64
#define TK 16
#define RM 4
#define RN 4
#endif
#define LX (TN / RN)
#define LY (TM / RM)

__kernel __attribute__((reqd_work_group_size(LX, LY, 1)))
void gemm_tiled(int M, int N, int K, float alpha,
                __global const float* A, int aoff, int lda, int strideA, int transA,
                __global const float* B, int boff, int ldb, int strideB, int transB,
                float beta, __global float* C, int coff, int ldc, int strideC) {
    __local float As[TK][TM];
    __local float Bs[TK][TN];
    int tx = get_local_id(0), ty = get_local_id(1), tid = ty * LX + tx;
    int n0 = get_group_id(0) * TN, m0 = get_group_id(1) * TM, batch = get_group_id(2);
    A += aoff + batch * strideA;
    B += boff + batch * strideB;
    C += coff + batch * strideC;

    float acc[RM][RN];
    for (int i = 0; i < RM; i++) {
        for (int j = 0; j < RN; j++) {
            acc[i][j] = 0.0f;
        }
    }
    for (int k0 = 0; k0 < K; k0 += TK) {
        // op(A)[m][k] = transA ? A[k lda + m] : A[m lda + k]; consecutive work-items read consecutive addresses
        for (int e = tid; e < TM * TK; e += LX * LY) {
            int mm = transA ? e % TM : e / TK, kk = transA ? e / TM : e % TK;
            int gm = m0 + mm, gk = k0 + kk;
            As[kk][mm] = gm < M && gk < K ? (transA ? A[gk * lda + gm] : A[gm * lda + gk]) : 0.0f;
        }
        // op(B)[k][n] = transB ? B[n ldb + k] : B[k ldb + n]
        for (int e = tid; e < TN * TK; e += LX * LY) {
            int nn = transB ? e / TK : e % TN, kk = transB ? e % TK : e / TN;
            int gn = n0 + nn, gk = k0 + kk;
            Bs[kk][nn] = gn < N && gk < K ? (transB ? B[gn * ldb + gk] : B[gk * ldb + gn]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++) {
            float a[RM], b[RN];
            for (int i = 0; i < RM; i++) {
                a[i] = As[kk][ty + i * LY];
            }
            for (int j = 0; j < RN; j++) {
                b[j] = Bs[kk][tx + j * LX];
            }
            for (int i = 0; i < RM; i++) {
                for (int j = 0; j < RN; j++) {
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < RM; i++) {
        int m = m0 + ty + i * LY;
        for (int j = 0; j < RN; j++) {
            int n = n0 + tx + j * LX;
            if (m < M && n < N) {
                // beta == 0: C is not read, so NaNs in C do not propagate (BLAS semantics)
                float c = alpha * acc[i][j];
                C[m * ldc + n] = beta == 0.0f ? c : c + beta * C[m * ldc + n];
            }
        }
    }
}
