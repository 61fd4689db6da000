// Batched SGEMM, C[b] (M,N) = alpha op(A[b]) (M,K) op(B[b]) (K,N) + beta C[b]; see Backend.gemm.
//
// A work-group computes a TM x TN tile of C from TK-deep slices of op(A) and op(B) staged in local memory; each of
// its LX x LY work-items keeps an RM x RN block of C in registers: rows ty·4 + i·4·LY + (0..3), columns
// tx·4 + j·4·LX + (0..3), read from local memory as float4s (four lanes' float4s are consecutive: no conflicts).
//
// Global loads are float4s along the operand's contiguous axis (vload4 needs only float alignment; scalar at the
// edges, zero past them). A slice stored in the order it is read (op(A) of a transposed A, op(B) of a plain B) is
// copied row for row; one that must be transposed on the way in (plain A, transposed B) is loaded by warps of
// 16 rows x 2 float4s (one 32-byte sector per row) and written column-wise into rows padded to TM + 4 floats:
// 4·(TM + 4) ≡ 16 (mod 32) banks apart, so the 32 writes of a warp fall in 32 banks.
//
// Double buffering: slice s + 1 is read from global memory into registers while slice s is multiplied out of one
// local buffer, then written to the other; one barrier per slice.
//
// Tile sizes are build options chosen from the device (OpenClBackend.GemmConfig); RM and RN are multiples of 4,
// TM a multiple of 16, TK of 4. Four kernels, one per (transA, transB), share gemm_tile so each is compiled with
// its layout fixed.

#ifndef TM
#define TM 64
#define TN 64
#define TK 16
#define RM 4
#define RN 4
#endif
#define LX (TN / RN)
#define LY (TM / RM)
#define NT (LX * LY)
#define SA (TM + 4)
#define SB (TN + 4)
#define KG (TK / 4)
// float4 loads per work-item and slice
#define LA ((TM * TK / 4 + NT - 1) / NT)
#define LB ((TN * TK / 4 + NT - 1) / NT)

// p[row·ld + col .. col + 3], zero past (rows, cols)
inline float4 load4(__global const float* p, int row, int col, int rows, int cols, int ld) {
    if (row >= rows) {
        return (float4)(0.0f);
    }
    p += row * ld + col;
    if (col + 3 < cols) {
        return vload4(0, p);
    }
    return (float4)(col < cols ? p[0] : 0.0f, col + 1 < cols ? p[1] : 0.0f, col + 2 < cols ? p[2] : 0.0f, 0.0f);
}

// Element e of a slice read along its contiguous axis: `trans` 1 means the slice is transposed on the way into
// local memory (rows of `outer` floats become columns), 0 means rows are copied as they are.
// Returns (row, col): row along the stored matrix's strided axis, col the first of four along its contiguous axis.
inline int2 slice_elem(int e, int trans, int width4) {
    if (trans) {
        return (int2)((e / (16 * KG)) * 16 + e % 16, ((e / 16) % KG) * 4);
    }
    return (int2)(e / width4, (e % width4) * 4);
}

// Reads slice k0 of op(X) into registers. op(X) is (outer, TK) for A or (TK, outer) for B; `transposing` says the
// stored matrix runs along the outer axis (rows = outer index, contiguous = k).
inline void fetch(float4* regs, int count, __global const float* X, int ld, int transposing, int o0, int k0,
                  int outerSize, int K, int outerTile) {
    int tid = get_local_id(1) * LX + get_local_id(0);
    for (int p = 0; p < count; p++) {
        int e = tid + p * NT;
        if (e >= outerTile * TK / 4) {
            regs[p] = (float4)(0.0f);
            continue;
        }
        int2 rc = slice_elem(e, transposing, outerTile / 4);
        // transposing: stored rows are outer indices, columns k; otherwise rows are k, columns outer indices
        regs[p] = transposing ? load4(X, o0 + rc.x, k0 + rc.y, outerSize, K, ld)
                              : load4(X, k0 + rc.x, o0 + rc.y, K, outerSize, ld);
    }
}

// Writes fetched registers into a local slice laid out [TK][stride] (k-major).
inline void stash(__local float* dst, const float4* regs, int count, int transposing, int outerTile, int stride) {
    int tid = get_local_id(1) * LX + get_local_id(0);
    for (int p = 0; p < count; p++) {
        int e = tid + p * NT;
        if (e >= outerTile * TK / 4) {
            continue;
        }
        int2 rc = slice_elem(e, transposing, outerTile / 4);
        float4 v = regs[p];
        if (transposing) {                                  // rc = (outer index, k): a column of four k
            dst[(rc.y + 0) * stride + rc.x] = v.x;
            dst[(rc.y + 1) * stride + rc.x] = v.y;
            dst[(rc.y + 2) * stride + rc.x] = v.z;
            dst[(rc.y + 3) * stride + rc.x] = v.w;
        } else {                                            // rc = (k, outer index): a row of four
            vstore4(v, 0, dst + rc.x * stride + rc.y);
        }
    }
}

// dst[4g .. 4g + 3] = the float4 at src + g·stride, for g < groups: a work-item's row (or column) groups of a slice
inline void unpack4(float* dst, int groups, __local const float* src, int stride) {
    for (int g = 0; g < groups; g++) {
        float4 v = vload4(0, src + g * stride);
        dst[4 * g] = v.x;
        dst[4 * g + 1] = v.y;
        dst[4 * g + 2] = v.z;
        dst[4 * g + 3] = v.w;
    }
}

inline void gemm_tile(int transA, int transB, int M, int N, int K, float alpha,
                      __global const float* A, int lda, __global const float* B, int ldb,
                      float beta, __global float* C, int ldc, __local float* As, __local float* Bs) {
    int tx = get_local_id(0), ty = get_local_id(1);
    int n0 = get_group_id(0) * TN, m0 = get_group_id(1) * TM;
    // plain A (M, K) is transposed into As[k][m]; transposed A (K, M) is copied; plain B (K, N) is copied;
    // transposed B (N, K) is transposed into Bs[k][n]
    int aT = !transA, bT = transB;

    float acc[RM][RN];
    for (int i = 0; i < RM; i++) {
        for (int j = 0; j < RN; j++) {
            acc[i][j] = 0.0f;
        }
    }
    float4 ra[LA], rb[LB];
    int slices = (K + TK - 1) / TK;
    if (slices > 0) {
        fetch(ra, LA, A, lda, aT, m0, 0, M, K, TM);
        fetch(rb, LB, B, ldb, bT, n0, 0, N, K, TN);
        stash(As, ra, LA, aT, TM, SA);
        stash(Bs, rb, LB, bT, TN, SB);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = 0; s < slices; s++) {
        int cur = s & 1;
        if (s + 1 < slices) {                               // the next slice's global reads, in flight
            fetch(ra, LA, A, lda, aT, m0, (s + 1) * TK, M, K, TM);
            fetch(rb, LB, B, ldb, bT, n0, (s + 1) * TK, N, K, TN);
        }
        __local const float* as = As + cur * TK * SA;
        __local const float* bs = Bs + cur * TK * SB;
        for (int kk = 0; kk < TK; kk++) {
            float a[RM], b[RN];
            unpack4(a, RM / 4, as + kk * SA + ty * 4, 4 * LY);
            unpack4(b, RN / 4, bs + kk * SB + tx * 4, 4 * LX);
            for (int i = 0; i < RM; i++) {
                for (int j = 0; j < RN; j++) {
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
                }
            }
        }
        if (s + 1 < slices) {                               // into the other buffer: nobody reads it this slice
            stash(As + (1 - cur) * TK * SA, ra, LA, aT, TM, SA);
            stash(Bs + (1 - cur) * TK * SB, rb, LB, bT, TN, SB);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < RM; i++) {
        int m = m0 + ty * 4 + (i / 4) * 4 * LY + i % 4;
        if (m >= M) {
            continue;
        }
        for (int j = 0; j < RN; j++) {
            int n = n0 + tx * 4 + (j / 4) * 4 * LX + j % 4;
            if (n < N) {
                // beta == 0: C is not read, so NaNs in C do not propagate (BLAS semantics)
                float c = alpha * acc[i][j];
                C[m * ldc + n] = beta == 0.0f ? c : c + beta * C[m * ldc + n];
            }
        }
    }
}

#define GEMM_KERNEL(NAME, TA, TB)                                                                               \
__kernel __attribute__((reqd_work_group_size(LX, LY, 1)))                                                      \
void NAME(int M, int N, int K, float alpha, __global const float* A, int aoff, int lda, int strideA,            \
          __global const float* B, int boff, int ldb, int strideB, float beta, __global float* C, int coff,     \
          int ldc, int strideC) {                                                                               \
    __local float As[2 * TK * SA];       /* two slices of op(A), (TK, SA) each */                                \
    __local float Bs[2 * TK * SB];       /* two slices of op(B), (TK, SB) each */                                \
    int batch = get_group_id(2);                                                                                \
    gemm_tile(TA, TB, M, N, K, alpha, A + aoff + batch * strideA, lda, B + boff + batch * strideB, ldb, beta,   \
              C + coff + batch * strideC, ldc, As, Bs);                                                         \
}

GEMM_KERNEL(gemm_nn, 0, 0)
GEMM_KERNEL(gemm_nt, 0, 1)
GEMM_KERNEL(gemm_tn, 1, 0)
GEMM_KERNEL(gemm_tt, 1, 1)
