package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;

import static dev.mvarj.tensor.cpu.simd.SimdBackend.L;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.S;

/**
 * Single-precision GEMM on the Vector API: {@code C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i]}, batched.
 * The definition is {@code ReferenceBackend.gemm}; this is the same contract, computed in float with FMAs.
 *
 * <p>Shapes: op(A) is (M, K), stored (M, K) with row stride {@code lda}, or (K, M) when {@code transA}. op(B) is
 * (K, N), stored (K, N) with row stride {@code ldb}, or (N, K) when {@code transB}. C is (M, N) with row stride
 * {@code ldc}. Matrix i of each operand starts at its offset + i · its batch stride; a batch stride of 0 broadcasts
 * that operand. With {@code beta == 0}, C is never read.
 *
 * <p>Blocking, in the GotoBLAS / BLIS style:
 * <pre>
 *   pack B        B (K, N) -> Bp: per K block of KC rows, panels of NR = 2·L columns, each panel [kc][NR]
 *   per task      (batch i, row block of MC rows, column block of up to NC columns)
 *     pc          K blocks of KC (in order 0, KC, 2·KC, ...)
 *       [transA]  pack the (MC, kc) block of op(A) row-major, since in-place reads would be strided;
 *                 [K > KC] copy it likewise, since in-place rows lda apart conflict in cache (power-of-two lda)
 *       jr        panels of NR columns: the (kc, NR) panel stays in L1/L2
 *         ir      slivers of MR = 6 rows: A read in place (row stride lda), the (MC, kc) block stays in L2
 *           micro-kernel: acc (6, NR) = A sliver (6, kc) · panel (kc, NR), 12 vector accumulators
 *           C tile (6, NR) updated from acc (first K block: alpha·acc + beta·C, later: C + alpha·acc)
 * </pre>
 *
 * <p>Determinism: threads split tasks over (batch, rows, columns), never over K; every element of C is computed by
 * the same micro-kernel over the same K blocks in the same order, and the K blocks and tile grid do not depend on
 * the number of threads. So results are bit-identical for any pool size.
 */
final class Sgemm {

    /** Rows of the register tile. */
    static final int MR = 6;
    /** Columns of the register tile: two vectors of the preferred species (32 floats on AVX-512). */
    static final int NR = 2 * L;
    /** Depth of a K block: a (KC, NR) panel of packed B plus an A sliver fit the L1/L2 working set. */
    static final int KC = Integer.getInteger("mvarj.sgemm.kc", 512);
    /** Rows of a task's A block (a multiple of MR); an (MC, KC) block of A stays in L2. */
    static final int MC = Math.max(MR, Integer.getInteger("mvarj.sgemm.mc", 96) / MR * MR);
    /** The widest column block of one task (a multiple of NR). */
    static final int NC = Math.max(NR, Integer.getInteger("mvarj.sgemm.nc", 4096) / NR * NR);
    /** Problems with fewer multiply-adds per matrix than this take the unpacked path. */
    static final long SMALL = Long.getLong("mvarj.sgemm.small", 64L * 64 * 64);
    /** The largest packed-B buffer (floats) kept per calling thread for reuse; larger ones are temporary. */
    private static final int PACK_CACHE = 16 << 20;

    /** Per-thread scratch: the raw accumulator tile and the packed / padded A block. */
    private static final class Scratch {
        final float[] tile = new float[MR * NR];
        final float[] a = new float[MC * (KC + A_PAD)];
    }

    /**
     * Extra floats per row of a packed A block: a row stride of kc + 16 floats (not a power of two for the usual kc)
     * keeps the rows of a block in different L1 sets while they are written column by column.
     */
    private static final int A_PAD = 16;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<float[]> PACKED_B = new ThreadLocal<>();

    private Sgemm() {
    }

    static void gemm(WorkerPool pool, boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                     float[] A, int aOff, int lda, int strideA,
                     float[] B, int bOff, int ldb, int strideB,
                     float beta, float[] C, int cOff, int ldc, int strideC) {
        gemm(pool, transA, transB, batch, M, N, K, alpha, A, aOff, lda, strideA, B, bOff, ldb, strideB,
                beta, C, cOff, ldc, strideC, null, 0);
    }

    /**
     * As above, plus {@code bias} (N floats from biasOff, or null) added to every row of C in the same pass that
     * writes the product: {@code C = alpha·op(A)·op(B) + beta·C + 1·biasᵀ} (a linear layer's forward, whose bias
     * would otherwise cost one more read and write of C).
     */
    static void gemm(WorkerPool pool, boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                     float[] A, int aOff, int lda, int strideA,
                     float[] B, int bOff, int ldb, int strideB,
                     float beta, float[] C, int cOff, int ldc, int strideC, float[] bias, int biasOff) {
        if (batch <= 0 || M <= 0 || N <= 0) {
            return;
        }
        if (K == 0 || M < MR || (long) M * N * K < SMALL) {
            small(pool, transA, transB, batch, M, N, K, alpha, A, aOff, lda, strideA, B, bOff, ldb, strideB,
                    beta, C, cOff, ldc, strideC, bias, biasOff);
            return;
        }
        int panels = (N + NR - 1) / NR;
        int nPad = panels * NR;
        long perB = (long) K * nPad;
        // batches are processed in groups whose packed B fits the cache cap (one group when B is broadcast)
        int group = strideB == 0 ? batch : (int) Math.max(1, Math.min(batch, PACK_CACHE / perB));
        int distinct = strideB == 0 ? 1 : group;
        long need = perB * distinct;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("gemm: packed B of " + need + " floats is too large");
        }
        float[] bp = packBuffer((int) need);

        int rowBlocks = (M + MC - 1) / MC;
        for (int g0 = 0; g0 < batch; g0 += group) {
            int g = Math.min(group, batch - g0);
            int gb = g0;
            packB(pool, transB, strideB == 0 ? 1 : g, K, N, B, bOff + g0 * strideB, ldb, strideB, bp, nPad);

            // column blocks: NC wide, narrower when the tasks would be too few to keep every thread busy
            int colPanels = NC / NR;
            int want = pool.threads() == 1 ? 1 : 4 * pool.threads();
            long tasksNow = (long) g * rowBlocks;
            if (tasksNow < want) {
                colPanels = Math.min(colPanels, (int) Math.max(1, panels / ((want + tasksNow - 1) / tasksNow)));
            }
            int cp = colPanels;
            int colBlocks = (panels + cp - 1) / cp;
            pool.parallelFor(g * rowBlocks * colBlocks, 1, (t0, t1) -> {
                Scratch s = SCRATCH.get();
                for (int t = t0; t < t1; t++) {
                    int bi = t / (rowBlocks * colBlocks), r = t % (rowBlocks * colBlocks);
                    int i0 = (r / colBlocks) * MC, j0 = (r % colBlocks) * cp * NR;
                    int mc = Math.min(MC, M - i0), nc = Math.min(cp * NR, N - j0);
                    int b = gb + bi;
                    block(transA, K, alpha, A, aOff + b * strideA, lda,
                            bp, strideB == 0 ? 0 : bi * (int) perB, nPad,
                            beta, C, cOff + b * strideC, ldc, i0, j0, mc, nc, s, bias, biasOff);
                }
            });
        }
    }

    /** A packed-B buffer of at least {@code n} floats: the calling thread's cached one when small enough. */
    private static float[] packBuffer(int n) {
        float[] bp = PACKED_B.get();
        if (bp != null && bp.length >= n) {
            return bp;
        }
        bp = new float[n];
        if (n <= PACK_CACHE) {
            PACKED_B.set(bp);
        }
        return bp;
    }

    // ------------------------------------------------------------------------------------------------ packing

    /**
     * B (K, N) row stride ldb (or (N, K) when transB), {@code count} matrices {@code strideB} apart ->
     * Bp: matrix i at {@code i · K · nPad}; its K block starting at row p (depth kc) at {@code + p · nPad};
     * panel j of that block at {@code + j · kc · NR}, laid out [kc][NR], zero beyond column N.
     */
    private static void packB(WorkerPool pool, boolean transB, int count, int K, int N,
                              float[] B, int bOff, int ldb, int strideB, float[] bp, int nPad) {
        int panels = nPad / NR, kBlocks = (K + KC - 1) / KC;
        int perMatrix = kBlocks * panels;
        int grain = Math.max(1, (1 << 16) / (KC * NR));
        pool.parallelFor(count * perMatrix, grain, (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int i = u / perMatrix, r = u % perMatrix;
                int p = (r / panels) * KC, j = r % panels;
                int kc = Math.min(KC, K - p), j0 = j * NR, nr = Math.min(NR, N - j0);
                int dst = i * K * nPad + p * nPad + j * kc * NR;
                int src = bOff + i * strideB;
                if (transB) {
                    packPanelT(B, src + j0 * ldb + p, ldb, kc, nr, bp, dst);
                } else {
                    packPanel(B, src + p * ldb + j0, ldb, kc, nr, bp, dst);
                }
            }
        });
    }

    /** B rows (kc, nr) at src, row stride ldb -> panel [kc][NR] at dst. */
    private static void packPanel(float[] B, int src, int ldb, int kc, int nr, float[] bp, int dst) {
        if (nr == NR) {
            for (int k = 0; k < kc; k++, src += ldb, dst += NR) {
                FloatVector.fromArray(S, B, src).intoArray(bp, dst);
                FloatVector.fromArray(S, B, src + L).intoArray(bp, dst + L);
            }
            return;
        }
        for (int k = 0; k < kc; k++, src += ldb, dst += NR) {
            for (int n = 0; n < NR; n++) {
                bp[dst + n] = n < nr ? B[src + n] : 0f;
            }
        }
    }

    /**
     * B^T: rows (nr, kc) at src, row stride ldb -> panel [kc][NR] at dst (a transpose). Done in strips of TK values
     * of k, so each source cache line is read once and the TK destination rows stay in L1, whatever ldb is (a
     * k-outer loop reads nr lines ldb apart per k, which alias in L1 when ldb is a power of two).
     */
    private static void packPanelT(float[] B, int src, int ldb, int kc, int nr, float[] bp, int dst) {
        final int TK = 16;
        for (int k0 = 0; k0 < kc; k0 += TK) {
            int tk = Math.min(TK, kc - k0);
            int d0 = dst + k0 * NR;
            for (int n = 0; n < nr; n++) {
                int s = src + n * ldb + k0, d = d0 + n;
                for (int k = 0; k < tk; k++, d += NR) {
                    bp[d] = B[s + k];
                }
            }
            for (int k = 0; k < tk; k++) {
                for (int n = nr; n < NR; n++) {
                    bp[d0 + k * NR + n] = 0f;
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ one task

    /**
     * C rows [i0, i0+mc), columns [j0, j0+nc) of one matrix: A at aOff (op(A) (M, K)), its packed B at bpOff.
     */
    private static void block(boolean transA, int K, float alpha, float[] A, int aOff, int lda,
                              float[] bp, int bpOff, int nPad,
                              float beta, float[] C, int cOff, int ldc, int i0, int j0, int mc, int nc, Scratch s,
                              float[] bias, int biasOff) {
        int fullRows = mc / MR * MR;
        // K longer than one block: the block's rows are kc-long pieces of rows lda apart, which conflict in L1/L2
        // for power-of-two lda; a row copy into a padded buffer is cheap next to its reuse over nc / NR panels
        boolean packA = K > KC && nc >= 8 * NR;
        for (int p = 0; p < K; p += KC) {
            int kc = Math.min(KC, K - p);
            int mode = p > 0 ? ACCUMULATE : beta == 0f ? OVERWRITE : SCALE;
            float[] bk = p > 0 ? null : bias;                         // the bias goes in with the first K block
            // the A block as rows of length kc: in place (row stride lda), or packed (row stride kc + A_PAD)
            float[] a;
            int a0, as;
            if (transA || packA) {
                a = s.a;
                a0 = 0;
                as = kc + A_PAD;
                if (transA) {
                    // A stored (K, M): op(A)(i, k) = A[k·lda + i]; pack rows [i0, i0+mc) x [p, p+kc)
                    packAT(A, aOff + p * lda + i0, lda, mc, kc, a, as);
                } else {
                    packRows(A, aOff + i0 * lda + p, lda, mc, kc, a, as);
                }
            } else {
                a = A;
                a0 = aOff + i0 * lda + p;
                as = lda;
                if (fullRows < mc) {
                    // the last partial sliver of rows, copied and zero-padded so the kernel reads MR rows
                    copyRows(A, a0 + fullRows * lda, lda, mc - fullRows, kc, s.a);
                }
            }
            int bBlock = bpOff + p * nPad;
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = Math.min(NR, nc - jr);
                int panel = bBlock + ((j0 + jr) / NR) * kc * NR;
                for (int ir = 0; ir < mc; ir += MR) {
                    int mr = Math.min(MR, mc - ir);
                    if (mr == MR || transA || packA) {
                        microKernel(kc, a, a0 + ir * as, as, bp, panel, s.tile);
                    } else {
                        microKernel(kc, s.a, 0, kc, bp, panel, s.tile);
                    }
                    update(s.tile, C, cOff + (i0 + ir) * ldc + j0 + jr, ldc, mr, nr, alpha, beta, mode,
                            bk, biasOff + j0 + jr);
                }
            }
        }
    }

    /**
     * op(A) rows (mc, kc) from A stored (K, M) at src (row stride lda) -> a (roundUp(mc, MR), kc), row stride as,
     * zero-padded: a transpose. With 16-lane vectors it goes by 16 × 16 tiles transposed in registers
     * ({@link #transpose16}), elsewhere (and on the edges) element by element; the scalar loop alone cost as much as a
     * fifth of a dW = gᵀ·x product (≈ 1.2 ns per element, against ≈ 0.3 for the tiles, which then wait on memory).
     */
    private static void packAT(float[] A, int src, int lda, int mc, int kc, float[] a, int as) {
        int i16 = 0, k16 = 0;
        if (L == 16) {
            i16 = mc / 16 * 16;
            k16 = kc / 16 * 16;
            for (int k0 = 0; k0 < k16; k0 += 16) {
                for (int i0 = 0; i0 < i16; i0 += 16) {
                    transpose16(A, src + k0 * lda + i0, lda, a, i0 * as + k0, as);
                }
            }
        }
        for (int k = 0; k < kc; k++) {                     // the edges: columns i16.. of every row, rows k16..
            for (int i = k < k16 ? i16 : 0, d = i * as + k; i < mc; i++, d += as) {
                a[d] = A[src + k * lda + i];
            }
        }
        int padded = (mc + MR - 1) / MR * MR;
        for (int i = mc; i < padded; i++) {
            java.util.Arrays.fill(a, i * as, i * as + kc, 0f);
        }
    }

    /**
     * Index vectors of the 16 × 16 register transpose: stage st (block size s = 8 >> st) pairs rows r and r + s
     * (r & s == 0); the new row r takes lanes with (lane & s) == 0 from row r and the others from lane − s of row
     * r + s, the new row r + s the rest. After the four stages row r holds column r ({@code selectFrom} over two
     * vectors: one two-source permute per output row and stage).
     */
    private static final FloatVector[] T_LO = new FloatVector[4], T_HI = new FloatVector[4];

    static {
        if (L == 16) {
            for (int st = 0; st < 4; st++) {
                int sd = 8 >> st;
                float[] lo = new float[16], hi = new float[16];
                for (int lane = 0; lane < 16; lane++) {
                    lo[lane] = (lane & sd) == 0 ? lane : 16 + lane - sd;
                    hi[lane] = (lane & sd) == 0 ? lane + sd : 16 + lane;
                }
                T_LO[st] = FloatVector.fromArray(S, lo, 0);
                T_HI[st] = FloatVector.fromArray(S, hi, 0);
            }
        }
    }

    /**
     * A 16 × 16 tile, rows at src + r·lda, transposed into dst + c·as (16-lane species only). Written out with one
     * local per row: vectors held in an array would be boxed.
     */
    private static void transpose16(float[] A, int src, int lda, float[] a, int dst, int as) {
        FloatVector v0 = FloatVector.fromArray(S, A, src);
        FloatVector v1 = FloatVector.fromArray(S, A, src + 1 * lda);
        FloatVector v2 = FloatVector.fromArray(S, A, src + 2 * lda);
        FloatVector v3 = FloatVector.fromArray(S, A, src + 3 * lda);
        FloatVector v4 = FloatVector.fromArray(S, A, src + 4 * lda);
        FloatVector v5 = FloatVector.fromArray(S, A, src + 5 * lda);
        FloatVector v6 = FloatVector.fromArray(S, A, src + 6 * lda);
        FloatVector v7 = FloatVector.fromArray(S, A, src + 7 * lda);
        FloatVector v8 = FloatVector.fromArray(S, A, src + 8 * lda);
        FloatVector v9 = FloatVector.fromArray(S, A, src + 9 * lda);
        FloatVector v10 = FloatVector.fromArray(S, A, src + 10 * lda);
        FloatVector v11 = FloatVector.fromArray(S, A, src + 11 * lda);
        FloatVector v12 = FloatVector.fromArray(S, A, src + 12 * lda);
        FloatVector v13 = FloatVector.fromArray(S, A, src + 13 * lda);
        FloatVector v14 = FloatVector.fromArray(S, A, src + 14 * lda);
        FloatVector v15 = FloatVector.fromArray(S, A, src + 15 * lda);
        // stage 0: blocks of 8, v -> t
        FloatVector t0 = T_LO[0].selectFrom(v0, v8);
        FloatVector t8 = T_HI[0].selectFrom(v0, v8);
        FloatVector t1 = T_LO[0].selectFrom(v1, v9);
        FloatVector t9 = T_HI[0].selectFrom(v1, v9);
        FloatVector t2 = T_LO[0].selectFrom(v2, v10);
        FloatVector t10 = T_HI[0].selectFrom(v2, v10);
        FloatVector t3 = T_LO[0].selectFrom(v3, v11);
        FloatVector t11 = T_HI[0].selectFrom(v3, v11);
        FloatVector t4 = T_LO[0].selectFrom(v4, v12);
        FloatVector t12 = T_HI[0].selectFrom(v4, v12);
        FloatVector t5 = T_LO[0].selectFrom(v5, v13);
        FloatVector t13 = T_HI[0].selectFrom(v5, v13);
        FloatVector t6 = T_LO[0].selectFrom(v6, v14);
        FloatVector t14 = T_HI[0].selectFrom(v6, v14);
        FloatVector t7 = T_LO[0].selectFrom(v7, v15);
        FloatVector t15 = T_HI[0].selectFrom(v7, v15);
        // stage 1: blocks of 4, t -> v
        v0 = T_LO[1].selectFrom(t0, t4);
        v4 = T_HI[1].selectFrom(t0, t4);
        v1 = T_LO[1].selectFrom(t1, t5);
        v5 = T_HI[1].selectFrom(t1, t5);
        v2 = T_LO[1].selectFrom(t2, t6);
        v6 = T_HI[1].selectFrom(t2, t6);
        v3 = T_LO[1].selectFrom(t3, t7);
        v7 = T_HI[1].selectFrom(t3, t7);
        v8 = T_LO[1].selectFrom(t8, t12);
        v12 = T_HI[1].selectFrom(t8, t12);
        v9 = T_LO[1].selectFrom(t9, t13);
        v13 = T_HI[1].selectFrom(t9, t13);
        v10 = T_LO[1].selectFrom(t10, t14);
        v14 = T_HI[1].selectFrom(t10, t14);
        v11 = T_LO[1].selectFrom(t11, t15);
        v15 = T_HI[1].selectFrom(t11, t15);
        // stage 2: blocks of 2, v -> t
        t0 = T_LO[2].selectFrom(v0, v2);
        t2 = T_HI[2].selectFrom(v0, v2);
        t1 = T_LO[2].selectFrom(v1, v3);
        t3 = T_HI[2].selectFrom(v1, v3);
        t4 = T_LO[2].selectFrom(v4, v6);
        t6 = T_HI[2].selectFrom(v4, v6);
        t5 = T_LO[2].selectFrom(v5, v7);
        t7 = T_HI[2].selectFrom(v5, v7);
        t8 = T_LO[2].selectFrom(v8, v10);
        t10 = T_HI[2].selectFrom(v8, v10);
        t9 = T_LO[2].selectFrom(v9, v11);
        t11 = T_HI[2].selectFrom(v9, v11);
        t12 = T_LO[2].selectFrom(v12, v14);
        t14 = T_HI[2].selectFrom(v12, v14);
        t13 = T_LO[2].selectFrom(v13, v15);
        t15 = T_HI[2].selectFrom(v13, v15);
        // stage 3: blocks of 1, t -> v
        v0 = T_LO[3].selectFrom(t0, t1);
        v1 = T_HI[3].selectFrom(t0, t1);
        v2 = T_LO[3].selectFrom(t2, t3);
        v3 = T_HI[3].selectFrom(t2, t3);
        v4 = T_LO[3].selectFrom(t4, t5);
        v5 = T_HI[3].selectFrom(t4, t5);
        v6 = T_LO[3].selectFrom(t6, t7);
        v7 = T_HI[3].selectFrom(t6, t7);
        v8 = T_LO[3].selectFrom(t8, t9);
        v9 = T_HI[3].selectFrom(t8, t9);
        v10 = T_LO[3].selectFrom(t10, t11);
        v11 = T_HI[3].selectFrom(t10, t11);
        v12 = T_LO[3].selectFrom(t12, t13);
        v13 = T_HI[3].selectFrom(t12, t13);
        v14 = T_LO[3].selectFrom(t14, t15);
        v15 = T_HI[3].selectFrom(t14, t15);
        v0.intoArray(a, dst);
        v1.intoArray(a, dst + 1 * as);
        v2.intoArray(a, dst + 2 * as);
        v3.intoArray(a, dst + 3 * as);
        v4.intoArray(a, dst + 4 * as);
        v5.intoArray(a, dst + 5 * as);
        v6.intoArray(a, dst + 6 * as);
        v7.intoArray(a, dst + 7 * as);
        v8.intoArray(a, dst + 8 * as);
        v9.intoArray(a, dst + 9 * as);
        v10.intoArray(a, dst + 10 * as);
        v11.intoArray(a, dst + 11 * as);
        v12.intoArray(a, dst + 12 * as);
        v13.intoArray(a, dst + 13 * as);
        v14.intoArray(a, dst + 14 * as);
        v15.intoArray(a, dst + 15 * as);
    }

    /** op(A) rows (mc, kc) at src, row stride lda -> a (roundUp(mc, MR), kc), row stride as, zero-padded. */
    private static void packRows(float[] A, int src, int lda, int mc, int kc, float[] a, int as) {
        for (int i = 0; i < mc; i++) {
            System.arraycopy(A, src + i * lda, a, i * as, kc);
        }
        int padded = (mc + MR - 1) / MR * MR;
        for (int i = mc; i < padded; i++) {
            java.util.Arrays.fill(a, i * as, i * as + kc, 0f);
        }
    }

    /** rows (mr, kc) at src, row stride lda -> a [MR][kc], rows mr.. zero. */
    private static void copyRows(float[] A, int src, int lda, int mr, int kc, float[] a) {
        for (int i = 0; i < mr; i++) {
            System.arraycopy(A, src + i * lda, a, i * kc, kc);
        }
        java.util.Arrays.fill(a, mr * kc, MR * kc, 0f);
    }

    // ------------------------------------------------------------------------------------------------ kernels

    /**
     * tile (MR, NR) = a (MR, kc) · bp (kc, NR): a rows at a0 + i·as (unit stride along k), bp a packed panel at b0.
     * Twelve accumulators (6 rows x 2 vectors) live in registers; per k: 2 loads of B, 6 broadcasts of A, 12 FMAs.
     */
    static void microKernel(int kc, float[] a, int a0, int as, float[] bp, int b0, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int r0 = a0, r1 = r0 + as, r2 = r1 + as, r3 = r2 + as, r4 = r3 + as, r5 = r4 + as;
        for (int k = 0, bk = b0; k < kc; k++, bk += NR) {
            FloatVector b0v = FloatVector.fromArray(S, bp, bk);
            FloatVector b1v = FloatVector.fromArray(S, bp, bk + L);
            FloatVector av = FloatVector.broadcast(S, a[r0 + k]);
            c00 = av.fma(b0v, c00);
            c01 = av.fma(b1v, c01);
            av = FloatVector.broadcast(S, a[r1 + k]);
            c10 = av.fma(b0v, c10);
            c11 = av.fma(b1v, c11);
            av = FloatVector.broadcast(S, a[r2 + k]);
            c20 = av.fma(b0v, c20);
            c21 = av.fma(b1v, c21);
            av = FloatVector.broadcast(S, a[r3 + k]);
            c30 = av.fma(b0v, c30);
            c31 = av.fma(b1v, c31);
            av = FloatVector.broadcast(S, a[r4 + k]);
            c40 = av.fma(b0v, c40);
            c41 = av.fma(b1v, c41);
            av = FloatVector.broadcast(S, a[r5 + k]);
            c50 = av.fma(b0v, c50);
            c51 = av.fma(b1v, c51);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
    }

    /** First K block with beta == 0: {@code C = alpha·acc}; C is not read. */
    private static final int OVERWRITE = 0;
    /** First K block: {@code C = alpha·acc + beta·C}. */
    private static final int SCALE = 1;
    /** Later K blocks: {@code C = alpha·acc + C}. */
    private static final int ACCUMULATE = 2;

    /**
     * C (mr, nr) at c0, row stride ldc, updated from tile (MR, NR) by {@code mode}, plus bias[b0 + j] on every row
     * when bias is not null. Full tiles use vectors, edge tiles the same formulas in scalar form (lanewise fma and
     * Math.fma round identically).
     */
    private static void update(float[] tile, float[] C, int c0, int ldc, int mr, int nr,
                               float alpha, float beta, int mode, float[] bias, int b0) {
        if (nr == NR) {
            // no bias: a zero vector is added (exact); never a vector that may be null, which C2 cannot keep in a
            // register (the loop then runs the Vector API's boxed Java fallback, 2x slower here)
            FloatVector va = FloatVector.broadcast(S, alpha), vb = FloatVector.broadcast(S, beta);
            for (int v = 0; v < NR; v += L) {
                FloatVector bv = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, b0 + v);
                for (int i = 0, c = c0 + v; i < mr; i++, c += ldc) {
                    FloatVector acc = FloatVector.fromArray(S, tile, i * NR + v);
                    FloatVector r = switch (mode) {
                        case OVERWRITE -> acc.mul(va);
                        case SCALE -> acc.fma(va, FloatVector.fromArray(S, C, c).mul(vb));
                        default -> acc.fma(va, FloatVector.fromArray(S, C, c));
                    };
                    r.add(bv).intoArray(C, c);
                }
            }
            return;
        }
        for (int i = 0; i < mr; i++, c0 += ldc) {
            for (int j = 0; j < nr; j++) {
                float acc = tile[i * NR + j];
                float r = switch (mode) {
                    case OVERWRITE -> acc * alpha;
                    case SCALE -> Math.fma(acc, alpha, C[c0 + j] * beta);
                    default -> Math.fma(acc, alpha, C[c0 + j]);
                };
                C[c0 + j] = bias == null ? r : r + bias[b0 + j];
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ small path

    /**
     * Small problems (and K == 0): no packing, one C row per step. Row of C (N) = Σ_k op(A)(m, k) · op(B) row k,
     * as vector axpys along N when B is (K, N), or dot products along K when B is stored (N, K).
     */
    private static void small(WorkerPool pool, boolean transA, boolean transB, int batch, int M, int N, int K,
                              float alpha, float[] A, int aOff, int lda, int strideA,
                              float[] B, int bOff, int ldb, int strideB,
                              float beta, float[] C, int cOff, int ldc, int strideC, float[] bias, int biasOff) {
        int rowWork = Math.max(1, N * Math.max(1, K));
        int grain = Math.max(1, (1 << 16) / rowWork);
        pool.parallelFor(batch * M, grain, (r0, r1) -> {
            float[] acc = new float[N];
            for (int r = r0; r < r1; r++) {
                int bi = r / M, m = r % M;
                int ao = aOff + bi * strideA, bo = bOff + bi * strideB, c = cOff + bi * strideC + m * ldc;
                int aStep = transA ? lda : 1;
                int a0 = transA ? ao + m : ao + m * lda;
                if (transB) {
                    for (int n = 0; n < N; n++) {
                        acc[n] = dot(A, a0, aStep, B, bo + n * ldb, K);
                    }
                } else {
                    java.util.Arrays.fill(acc, 0f);
                    for (int k = 0; k < K; k++) {
                        float a = A[a0 + k * aStep];
                        FloatVector av = FloatVector.broadcast(S, a);
                        int row = bo + k * ldb, n = 0;
                        for (int bound = S.loopBound(N); n < bound; n += L) {
                            av.fma(FloatVector.fromArray(S, B, row + n), FloatVector.fromArray(S, acc, n))
                                    .intoArray(acc, n);
                        }
                        for (; n < N; n++) {
                            acc[n] = Math.fma(a, B[row + n], acc[n]);
                        }
                    }
                }
                for (int n = 0; n < N; n++) {
                    float v = beta == 0f ? acc[n] * alpha : Math.fma(acc[n], alpha, C[c + n] * beta);
                    C[c + n] = bias == null ? v : v + bias[biasOff + n];
                }
            }
        });
    }

    /** Σ_k a[a0 + k·aStep] · b[b0 + k] for k < K; vector lanes along k when a is contiguous. */
    private static float dot(float[] a, int a0, int aStep, float[] b, int b0, int K) {
        int k = 0;
        float s = 0f;
        if (aStep == 1) {
            FloatVector acc = FloatVector.zero(S);
            for (int bound = S.loopBound(K); k < bound; k += L) {
                acc = FloatVector.fromArray(S, a, a0 + k).fma(FloatVector.fromArray(S, b, b0 + k), acc);
            }
            s = SimdMath.sum(acc);
        }
        for (; k < K; k++) {
            s = Math.fma(a[a0 + k * aStep], b[b0 + k], s);
        }
        return s;
    }
}
