package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.ConvGeometry;
import dev.mvarj.tensor.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.util.Arrays;

import static dev.mvarj.tensor.cpu.simd.SimdBackend.L;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.S;

/**
 * Direct (implicit-GEMM) 2-D convolution with stride 1 on the Vector API: forward, input gradient and weight gradient,
 * register-blocked like {@link Sgemm}'s micro-kernel, with no im2col matrix.
 *
 * <p>The input is first copied into a zero-padded buffer {@code xp (B, Cin, Hp, Wp)} with {@code Hp = OH + kh − 1}
 * and {@code Wp = ⌈OW / L⌉·L + kw − 1}, so every tap of every output vector is an unmasked load of L consecutive floats:
 * {@code out[b, co, oh, ow..ow+L) = Σ_{ci,i,j} w[co, ci, i, j] · xp[b, ci, oh + i, ow + j .. ow + j + L)}. A
 * <em>position block</em> is L consecutive output columns of one output row; the last block of a row is stored through
 * a mask when L does not divide OW.
 * <ul>
 *   <li>forward: a register tile of {@value #MR} output channels × {@value #NB} position blocks (12 vector
 *       accumulators) runs over all Cin·kh·kw taps: per tap {@value #NB} loads of x, {@value #MR} broadcasts of w,
 *       12 FMAs. Weights are packed per channel tile as {@code (Cin, kh, kw, MR)}, zero beyond Cout.</li>
 *   <li>input gradient: the same kernel on dout padded by {@code (kh − 1 − padTop, kw − 1 − padLeft)} with the
 *       weights transposed and flipped, {@code w'[ci, co, i, j] = w[co, ci, kh − 1 − i, kw − 1 − j]}.</li>
 *   <li>weight gradient: {@code dw[co, ci, i, j] = Σ_{b, oh, ow} dout[b, co, oh, ow] · xp[b, ci, oh + i, ow + j]}; a
 *       register tile of {@value #MR} output channels × 3 column taps j for one (ci, i), accumulated over all
 *       positions of all samples in sample order, then summed across lanes. Here x is padded to its natural width
 *       {@code Wp = OW + kw − 1} and dout's rows are widened to Wp with zeros, so a sample's positions
 *       {@code q = oh·Wp + ow} form one run of vectors in both, whatever the width of the map.</li>
 * </ul>
 *
 * <p>Determinism: every output element (and every dw element) is computed by one task in a fixed order that does not
 * depend on the number of threads, so results are bit-identical for any pool size. The weight gradient also
 * multiplies the lanes past OW (x there, dout 0): with a non-finite input there, that dw entry is NaN where the
 * reference's is finite. They differ from the reference
 * im2col + GEMM kernels by the order of the sums (within float rounding).
 */
final class SimdConv {

    private SimdConv() {
    }

    /** Output channels per register tile. */
    static final int MR = 4;
    /** Position blocks (or, for the weight gradient, column taps) per register tile. */
    static final int NB = 3;

    /** Floats of padded x and dout one weight-gradient chunk of samples may hold (256 KiB: a share of L2). */
    private static final int WEIGHT_GRAD_CHUNK_FLOATS = 1 << 16;

    /**
     * Per-thread scratch arrays (padded input, padded output gradient, packed weights), grown on demand up to
     * {@link #SCRATCH_KEEP_FLOATS}. The kernels are therefore not re-entrant on one thread: a convolution must not be
     * started from inside another convolution's parallel loop on the thread that submitted it.
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);

    /** The largest scratch array kept for reuse (4M floats = 16 MiB); larger ones are allocated per call. */
    private static final int SCRATCH_KEEP_FLOATS = 1 << 22;

    static float[] scratch(int slot, int n) {
        if (n > SCRATCH_KEEP_FLOATS) {
            return new float[n];
        }
        float[][] s = SCRATCH.get();
        if (s[slot].length < n) {
            s[slot] = new float[n];
        }
        return s[slot];
    }

    /**
     * Whether the direct kernels take this geometry: stride 1, a kernel larger than 1×1 (1×1 is a plain GEMM), and
     * padding of at most k − 1 on every side (so the input gradient's padding of dout is not negative).
     */
    static boolean supports(ConvGeometry g) {
        return g.stride() == 1 && g.kh() * g.kw() > 1
                && g.padTop() <= g.kh() - 1 && g.padBottom() <= g.kh() - 1
                && g.padLeft() <= g.kw() - 1 && g.padRight() <= g.kw() - 1;
    }

    // ============================================================================================ entry points

    // x (B, Cin, H, W), w (Cout, Cin, kh, kw), bias (Cout) or null -> out (B, Cout, OH, OW), written
    static void forward(WorkerPool pool, float[] O, int oo, float[] X, int xo, float[] Wt, int wo, float[] Bs, int bo,
                        ConvGeometry g) {
        int Hp = g.OH() + g.kh() - 1, Wp = roundUp(g.OW()) + g.kw() - 1;
        float[] xp = scratch(0, g.B() * g.Cin() * Hp * Wp);
        pad(pool, xp, X, xo, g.B() * g.Cin(), g.H(), g.W(), Hp, Wp, g.padTop(), g.padLeft());
        float[] wp = scratch(2, packedLength(g.Cout(), g.Cin(), g.kh(), g.kw()));
        packWeights(wp, Wt, wo, g.Cout(), g.Cin(), g.kh(), g.kw(), false);
        directConv(pool, O, oo, xp, wp, Bs, bo, g.B(), g.Cin(), Hp, Wp, g.Cout(), g.kh(), g.kw(), g.OH(), g.OW());
    }

    // dout (B, Cout, OH, OW), w (Cout, Cin, kh, kw) -> dx (B, Cin, H, W), written
    static void inputGrad(WorkerPool pool, float[] DX, int dxo, float[] D, int dO, float[] Wt, int wo, ConvGeometry g) {
        int kh = g.kh(), kw = g.kw();
        int Hp = g.H() + kh - 1, Wp = roundUp(g.W()) + kw - 1;
        float[] dp = scratch(1, g.B() * g.Cout() * Hp * Wp);
        pad(pool, dp, D, dO, g.B() * g.Cout(), g.OH(), g.OW(), Hp, Wp, kh - 1 - g.padTop(), kw - 1 - g.padLeft());
        float[] wp = scratch(2, packedLength(g.Cin(), g.Cout(), kh, kw));
        packWeights(wp, Wt, wo, g.Cout(), g.Cin(), kh, kw, true);
        directConv(pool, DX, dxo, dp, wp, null, 0, g.B(), g.Cout(), Hp, Wp, g.Cin(), kh, kw, g.H(), g.W());
    }

    // dout (B, Cout, OH, OW), x (B, Cin, H, W) -> dw (Cout, Cin, kh, kw), written
    static void weightGrad(WorkerPool pool, float[] DW, int dwo, float[] D, int dO, float[] X, int xo, ConvGeometry g) {
        int B = g.B(), Cin = g.Cin(), Cout = g.Cout(), kh = g.kh(), kw = g.kw(), OH = g.OH(), OW = g.OW();
        // x padded to its natural (Hp, Wp) and dout's rows widened to Wp with zeros, so that a sample's positions
        // are one flat run q = oh·Wp + ow in both, and the kernel's inner loop runs over all of them (not row by row)
        int Hp = OH + kh - 1, Wp = OW + kw - 1, run = roundUp(OH * Wp), slack = L + kw;
        float[] xp = scratch(0, B * Cin * Hp * Wp + slack);
        pad(pool, xp, X, xo, B * Cin, g.H(), g.W(), Hp, Wp, g.padTop(), g.padLeft());
        Arrays.fill(xp, B * Cin * Hp * Wp, B * Cin * Hp * Wp + slack, 0f);   // read past the last plane (dout 0)
        // dout planes of `run` floats, channels padded to a multiple of MR; zeros past OW in a row and past OH rows
        int coTiles = Math.ceilDiv(Cout, MR), CoutP = coTiles * MR;
        float[] dp = scratch(1, B * CoutP * run);
        pool.parallelFor(B * CoutP, Math.max(1, 4096 / Math.max(1, run)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int b = p / CoutP, c = p % CoutP, dst = p * run;
                if (c >= Cout) {
                    Arrays.fill(dp, dst, dst + run, 0f);
                    continue;
                }
                int src = dO + (b * Cout + c) * OH * OW;
                for (int r = 0; r < OH; r++) {
                    System.arraycopy(D, src + r * OW, dp, dst + r * Wp, OW);
                    Arrays.fill(dp, dst + r * Wp + OW, dst + (r + 1) * Wp, 0f);
                }
                Arrays.fill(dp, dst + OH * Wp, dst + run, 0f);
            }
        });
        int jTiles = Math.ceilDiv(kw, NB), tasks = coTiles * Cin * kh * jTiles, tileLen = MR * NB * L;
        int planeX = Hp * Wp;
        // samples in chunks whose padded x and dout fit in L2 together; within a chunk every task runs over the
        // chunk's samples, accumulating into its own tile of acc, so each task sums its samples in sample order
        int chunk = Math.max(1, Math.min(B, WEIGHT_GRAD_CHUNK_FLOATS / (Cin * planeX + CoutP * run)));
        float[] acc = new float[tasks * tileLen];
        int grain = Math.max(1, Math.min(tasks, 64 * 1024 / Math.max(1, chunk * run * MR * NB)));
        for (int b0 = 0; b0 < B; b0 += chunk) {
            int first = b0, n = Math.min(chunk, B - b0);
            pool.parallelFor(tasks, grain, (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int jt = t % jTiles, i = t / jTiles % kh, ci = t / (jTiles * kh) % Cin;
                    int ct = t / (jTiles * kh * Cin), j0 = jt * NB;
                    weightGradKernel(xp, (first * Cin + ci) * planeX + i * Wp, Cin * planeX, j0,
                            Math.min(kw - 1, j0 + 1), Math.min(kw - 1, j0 + 2), dp,
                            (first * CoutP + ct * MR) * run, CoutP * run, run, n, acc, t * tileLen);
                }
            });
        }
        pool.parallelFor(tasks, Math.max(1, 1024 / tileLen), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int jt = t % jTiles, i = t / jTiles % kh, ci = t / (jTiles * kh) % Cin, ct = t / (jTiles * kh * Cin);
                int j0 = jt * NB;
                for (int m = 0; m < MR && ct * MR + m < Cout; m++) {
                    for (int jj = 0; jj < NB && j0 + jj < kw; jj++) {
                        int co = ct * MR + m;
                        DW[dwo + ((co * Cin + ci) * kh + i) * kw + j0 + jj] =
                                SimdMath.sum(FloatVector.fromArray(S, acc, t * tileLen + (m * NB + jj) * L));
                    }
                }
            }
        });
    }

    // ============================================================================================ the kernels

    /**
     * xp (B, Cin, Hp, Wp) zero-padded, wp packed (⌈Cout/MR⌉, Cin, kh, kw, MR), bias (Cout) or null ->
     * out (B, Cout, OH, OW), written. One task = one tile of NB position blocks of one sample, for all channel tiles
     * (the tile's input rows stay in L1 while every channel tile reads them).
     */
    private static void directConv(WorkerPool pool, float[] O, int oo, float[] xp, float[] wp, float[] Bs, int bo,
                                   int B, int Cin, int Hp, int Wp, int Cout, int kh, int kw, int OH, int OW) {
        int nvb = Math.ceilDiv(OW, L), blocks = OH * nvb, tiles = Math.ceilDiv(blocks, NB);
        int coTiles = Math.ceilDiv(Cout, MR);
        int taps = Cin * kh * kw, planeX = Hp * Wp, planeO = OH * OW;
        // the last block of a row may be partial: stored through this mask
        VectorMask<Float> tail = S.indexInRange(0, OW - (nvb - 1) * L);
        long flopsPerTask = 2L * coTiles * MR * NB * L * taps;
        int grain = (int) Math.max(1, Math.min(tiles, (1L << 20) / Math.max(1, flopsPerTask)));
        int[] tapOffset = new int[taps]; // tap (ci, i, j) -> its offset in xp from a block's top-left
        for (int ci = 0, t = 0; ci < Cin; ci++) {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++, t++) {
                    tapOffset[t] = ci * planeX + i * Wp + j;
                }
            }
        }
        pool.parallelFor(B * tiles, grain, (t0, t1) -> {
            float[] tile = new float[MR * NB * L];
            for (int t = t0; t < t1; t++) {
                int b = t / tiles, first = t % tiles * NB;
                // the tile's blocks; past the last block the last one is computed again and not stored
                int blk1 = Math.min(blocks - 1, first + 1), blk2 = Math.min(blocks - 1, first + 2);
                int xs = b * Cin * planeX;
                int x0 = xs + first / nvb * Wp + first % nvb * L, x1 = xs + blk1 / nvb * Wp + blk1 % nvb * L;
                int x2 = xs + blk2 / nvb * Wp + blk2 % nvb * L;
                for (int ct = 0; ct < coTiles; ct++) {
                    forwardKernel(xp, x0, x1, x2, tapOffset, wp, ct * taps * MR, tile);
                    for (int m = 0; m < MR && ct * MR + m < Cout; m++) {
                        int co = ct * MR + m;
                        float bias = Bs == null ? 0f : Bs[bo + co];
                        for (int n = 0; n < NB && first + n < blocks; n++) {
                            int blk = first + n, oh = blk / nvb, vb = blk % nvb;
                            FloatVector v = FloatVector.fromArray(S, tile, (m * NB + n) * L).add(bias);
                            int at = oo + (b * Cout + co) * planeO + oh * OW + vb * L;
                            if (vb == nvb - 1 && OW % L != 0) {
                                v.intoArray(O, at, tail);
                            } else {
                                v.intoArray(O, at);
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * The forward micro-kernel: tile[m][n] (L lanes) = Σ_t wp[w0 + t·MR + m] · xp[x_n + tapOffset[t] ..], for MR
     * output channels and the NB position blocks whose top-left taps are at x0, x1, x2.
     */
    private static void forwardKernel(float[] xp, int x0, int x1, int x2, int[] tapOffset, float[] wp, int w0,
                                      float[] tile) {
        FloatVector a00 = FloatVector.zero(S), a01 = FloatVector.zero(S), a02 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S), a11 = FloatVector.zero(S), a12 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S), a21 = FloatVector.zero(S), a22 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S), a31 = FloatVector.zero(S), a32 = FloatVector.zero(S);
        for (int t = 0, w = w0; t < tapOffset.length; t++, w += MR) {
            int r = tapOffset[t];
            FloatVector v0 = FloatVector.fromArray(S, xp, x0 + r);
            FloatVector v1 = FloatVector.fromArray(S, xp, x1 + r);
            FloatVector v2 = FloatVector.fromArray(S, xp, x2 + r);
            FloatVector c = FloatVector.broadcast(S, wp[w]);
            a00 = v0.fma(c, a00);
            a01 = v1.fma(c, a01);
            a02 = v2.fma(c, a02);
            c = FloatVector.broadcast(S, wp[w + 1]);
            a10 = v0.fma(c, a10);
            a11 = v1.fma(c, a11);
            a12 = v2.fma(c, a12);
            c = FloatVector.broadcast(S, wp[w + 2]);
            a20 = v0.fma(c, a20);
            a21 = v1.fma(c, a21);
            a22 = v2.fma(c, a22);
            c = FloatVector.broadcast(S, wp[w + 3]);
            a30 = v0.fma(c, a30);
            a31 = v1.fma(c, a31);
            a32 = v2.fma(c, a32);
        }
        storeTile(tile, 0, a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32);
    }

    /**
     * A chunk of samples' share of a weight-gradient tile: tile[m][n] (L lanes, at {@code at}) +=
     * Σ_{b, q} dout'[b, co0 + m, q..] · xp[b, ci, i·Wp + j_n + q ..] over the flat positions q = oh·Wp + ow of a
     * sample, {@code run} of them (dout' is zero past OW in a row and past the last row); the first sample's row
     * (ci, i) of x is at {@code xRow}, its MR dout' planes at {@code d0}, the samples {@code xSample},
     * {@code dSample} apart.
     */
    private static void weightGradKernel(float[] xp, int xRow, int xSample, int j0, int j1, int j2,
                                         float[] dp, int d0, int dSample, int run, int samples,
                                         float[] tile, int at) {
        FloatVector a00 = FloatVector.fromArray(S, tile, at), a01 = FloatVector.fromArray(S, tile, at + L);
        FloatVector a02 = FloatVector.fromArray(S, tile, at + 2 * L), a10 = FloatVector.fromArray(S, tile, at + 3 * L);
        FloatVector a11 = FloatVector.fromArray(S, tile, at + 4 * L), a12 = FloatVector.fromArray(S, tile, at + 5 * L);
        FloatVector a20 = FloatVector.fromArray(S, tile, at + 6 * L), a21 = FloatVector.fromArray(S, tile, at + 7 * L);
        FloatVector a22 = FloatVector.fromArray(S, tile, at + 8 * L), a30 = FloatVector.fromArray(S, tile, at + 9 * L);
        FloatVector a31 = FloatVector.fromArray(S, tile, at + 10 * L), a32 = FloatVector.fromArray(S, tile, at + 11 * L);
        for (int b = 0; b < samples; b++) {
            int xa = xRow + b * xSample, da = d0 + b * dSample;
            for (int q = 0; q < run; q += L) {
                FloatVector x0 = FloatVector.fromArray(S, xp, xa + q + j0);
                FloatVector x1 = FloatVector.fromArray(S, xp, xa + q + j1);
                FloatVector x2 = FloatVector.fromArray(S, xp, xa + q + j2);
                FloatVector d = FloatVector.fromArray(S, dp, da + q);
                a00 = x0.fma(d, a00);
                a01 = x1.fma(d, a01);
                a02 = x2.fma(d, a02);
                d = FloatVector.fromArray(S, dp, da + q + run);
                a10 = x0.fma(d, a10);
                a11 = x1.fma(d, a11);
                a12 = x2.fma(d, a12);
                d = FloatVector.fromArray(S, dp, da + q + 2 * run);
                a20 = x0.fma(d, a20);
                a21 = x1.fma(d, a21);
                a22 = x2.fma(d, a22);
                d = FloatVector.fromArray(S, dp, da + q + 3 * run);
                a30 = x0.fma(d, a30);
                a31 = x1.fma(d, a31);
                a32 = x2.fma(d, a32);
            }
        }
        storeTile(tile, at, a00, a01, a02, a10, a11, a12, a20, a21, a22, a30, a31, a32);
    }

    /** The 12 accumulators of a (MR, NB) tile into tile[at..], row-major, L lanes each. */
    private static void storeTile(float[] tile, int at, FloatVector a00, FloatVector a01, FloatVector a02,
                                  FloatVector a10, FloatVector a11, FloatVector a12, FloatVector a20, FloatVector a21, FloatVector a22,
                                  FloatVector a30, FloatVector a31, FloatVector a32) {
        a00.intoArray(tile, at);
        a01.intoArray(tile, at + L);
        a02.intoArray(tile, at + 2 * L);
        a10.intoArray(tile, at + 3 * L);
        a11.intoArray(tile, at + 4 * L);
        a12.intoArray(tile, at + 5 * L);
        a20.intoArray(tile, at + 6 * L);
        a21.intoArray(tile, at + 7 * L);
        a22.intoArray(tile, at + 8 * L);
        a30.intoArray(tile, at + 9 * L);
        a31.intoArray(tile, at + 10 * L);
        a32.intoArray(tile, at + 11 * L);
    }

    // ============================================================================================ layout helpers

    /**
     * planes (P, H, W) -> padded (P, Hp, Wp): rows [top, top + H) and columns [left, left + W) hold the plane, every
     * other element is written 0. Needs top + H ≤ Hp and left + W ≤ Wp.
     */
    static void pad(WorkerPool pool, float[] XP, float[] X, int xo, int P, int H, int W, int Hp, int Wp,
                    int top, int left) {
        pool.parallelFor(P, Math.max(1, 16384 / Math.max(1, Hp * Wp)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int plane = p * Hp * Wp;
                for (int r = 0; r < Hp; r++) {
                    int h = r - top, dst = plane + r * Wp;
                    if (h < 0 || h >= H) {
                        Arrays.fill(XP, dst, dst + Wp, 0f);
                    } else {
                        Arrays.fill(XP, dst, dst + left, 0f);
                        System.arraycopy(X, xo + (p * H + h) * W, XP, dst + left, W);
                        Arrays.fill(XP, dst + left + W, dst + Wp, 0f);
                    }
                }
            }
        });
    }

    private static int packedLength(int cout, int cin, int kh, int kw) {
        return Math.ceilDiv(cout, MR) * MR * cin * kh * kw;
    }

    /**
     * w (Cout, Cin, kh, kw) -> wp (⌈Cout/MR⌉, Cin, kh, kw, MR), zero beyond Cout. With {@code flip} the packed
     * filter is the input gradient's: output channels Cin, input channels Cout, wp[.., co', ci', i, j, ..] =
     * w[ci', co', kh − 1 − i, kw − 1 − j].
     */
    static void packWeights(float[] wp, float[] Wt, int wo, int Cout, int Cin, int kh, int kw, boolean flip) {
        int outC = flip ? Cin : Cout, inC = flip ? Cout : Cin, taps = inC * kh * kw;
        for (int ct = 0; ct < Math.ceilDiv(outC, MR); ct++) {
            for (int ci = 0; ci < inC; ci++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int dst = ct * taps * MR + ((ci * kh + i) * kw + j) * MR;
                        for (int m = 0; m < MR; m++) {
                            int co = ct * MR + m;
                            wp[dst + m] = co >= outC ? 0f : flip
                                    ? Wt[wo + ((ci * Cin + co) * kh + kh - 1 - i) * kw + kw - 1 - j]
                                    : Wt[wo + ((co * Cin + ci) * kh + i) * kw + j];
                        }
                    }
                }
            }
        }
    }

    private static int roundUp(int n) {
        return Math.ceilDiv(n, L) * L;
    }

}
