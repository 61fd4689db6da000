package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.util.Arrays;

import static dev.mvarj.tensor.cpu.Host.f;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.L;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.S;

/**
 * Vision kernels on the Vector API: im2col, col2im and group norm. Definitions in {@code ReferenceVision}.
 *
 * <p>Each chunk of work owns whole output rows (im2col: rows of cols; col2im: image planes; group norm: groups), so no
 * two threads write one element. col2im adds in the reference's (i, j, oh, ow) order and is bit-identical to it;
 * group norm's dw, db are summed from per-(sample, channel) partials in sample order, independent of the pool size.
 */
final class SimdVision {

    private SimdVision() {
    }

    /** Elements per chunk, as the element-wise kernels. */
    private static final int GRAIN = 1 << 14;

    // x (B, C, H, W) -> cols (B, C·kh·kw, OH·OW); one chunk = whole rows of cols
    static void im2col(WorkerPool pool, float[] X, int xo, float[] CO, int co, int B, int C, int H, int W,
                       int kh, int kw, int stride, int padTop, int padLeft, int OH, int OW) {
        im2col(pool, X, xo, CO, co, C * kh * kw * OH * OW, OH * OW, B, C, H, W, kh, kw, stride, padTop, padLeft,
                OH, OW);
    }

    /**
     * im2col into any layout of cols whose rows of OH·OW floats are contiguous: the row of (sample b, tap row k)
     * starts at {@code co + b·sampleStride + k·rowStride}. (B·K·P, P) is the per-sample layout (B, K, P); (P, B·P)
     * the batch-folded one (K, B·P) of {@link FoldedConv}.
     */
    static void im2col(WorkerPool pool, float[] X, int xo, float[] CO, int co, int sampleStride, int rowStride,
                       int B, int C, int H, int W, int kh, int kw, int stride, int padTop, int padLeft, int OH,
                       int OW) {
        int K = C * kh * kw, P = OH * OW;
        pool.parallelFor(B * K, Math.max(1, GRAIN / Math.max(1, P)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / K, k = r % K;
                int c = k / (kh * kw), i = k / kw % kh, j = k % kw;
                int plane = xo + (b * C + c) * H * W, row = co + b * sampleStride + k * rowStride;
                // the output columns whose tap lies inside the image: ow in [owLo, owHi)
                int owLo = Math.min(OW, Math.max(0, ceilDiv(padLeft - j, stride)));
                int owHi = Math.max(owLo, Math.min(OW, ceilDiv(W + padLeft - j, stride)));
                for (int oh = 0; oh < OH; oh++) {
                    int ih = oh * stride - padTop + i, o = row + oh * OW;
                    if (ih < 0 || ih >= H) {
                        Arrays.fill(CO, o, o + OW, 0f);
                        continue;
                    }
                    Arrays.fill(CO, o, o + owLo, 0f);
                    int src = plane + ih * W - padLeft + j;
                    if (stride == 1) {
                        System.arraycopy(X, src + owLo, CO, o + owLo, owHi - owLo);
                    } else {
                        for (int ow = owLo; ow < owHi; ow++) {
                            CO[o + ow] = X[src + ow * stride];
                        }
                    }
                    Arrays.fill(CO, o + owHi, o + OW, 0f);
                }
            }
        });
    }

    // cols (B, C·kh·kw, OH·OW) -> dx (B, C, H, W) +=; one chunk = whole image planes
    static void col2im(WorkerPool pool, float[] DX, int dxo, float[] CO, int co, int B, int C, int H, int W,
                       int kh, int kw, int stride, int padTop, int padLeft, int OH, int OW) {
        col2im(pool, DX, dxo, CO, co, C * kh * kw * OH * OW, OH * OW, B, C, H, W, kh, kw, stride, padTop, padLeft,
                OH, OW);
    }

    /** col2im from any layout of cols, as {@link #im2col(WorkerPool, float[], int, float[], int, int, int, int, int,
     * int, int, int, int, int, int, int, int, int)} names it. */
    static void col2im(WorkerPool pool, float[] DX, int dxo, float[] CO, int co, int sampleStride, int rowStride,
                       int B, int C, int H, int W, int kh, int kw, int stride, int padTop, int padLeft, int OH,
                       int OW) {
        int K = C * kh * kw, P = OH * OW;
        pool.parallelFor(B * C, Math.max(1, GRAIN / Math.max(1, kh * kw * P)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int b = p / C, c = p % C, plane = dxo + p * H * W;
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int row = co + b * sampleStride + ((c * kh + i) * kw + j) * rowStride;
                        int owLo = Math.min(OW, Math.max(0, ceilDiv(padLeft - j, stride)));
                        int owHi = Math.max(owLo, Math.min(OW, ceilDiv(W + padLeft - j, stride)));
                        for (int oh = 0; oh < OH; oh++) {
                            int ih = oh * stride - padTop + i;
                            if (ih < 0 || ih >= H) {
                                continue;
                            }
                            int dst = plane + ih * W - padLeft + j, src = row + oh * OW;
                            if (stride == 1) {
                                addRun(DX, dst + owLo, CO, src + owLo, owHi - owLo);
                            } else {
                                for (int ow = owLo; ow < owHi; ow++) {
                                    DX[dst + ow * stride] += CO[src + ow];
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    /** ⌈a / b⌉ for b > 0 and any sign of a. */
    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    /** d[o + k] += s[so + k] for k < n. */
    private static void addRun(float[] d, int o, float[] s, int so, int n) {
        int k = 0;
        for (int bound = S.loopBound(n); k < bound; k += L) {
            FloatVector.fromArray(S, d, o + k).add(FloatVector.fromArray(S, s, so + k)).intoArray(d, o + k);
        }
        for (; k < n; k++) {
            d[o + k] += s[so + k];
        }
    }

    /** Groups per chunk, so that a chunk holds about {@link #GRAIN} elements. */
    private static int groupGrain(int n) {
        return Math.max(1, GRAIN / Math.max(1, n));
    }

    // ============================================================================================ upsampling

    /** Lane k of {@code v.rearrange(DUP_LO)} is lane k / 2 of v; of DUP_HI, lane L / 2 + k / 2. */
    private static final VectorShuffle<Float> DUP_LO = VectorShuffle.fromOp(S, k -> k / 2);
    private static final VectorShuffle<Float> DUP_HI = VectorShuffle.fromOp(S, k -> L / 2 + k / 2);
    /** Two-source indices: lanes 0, 2, 4, ... and 1, 3, 5, ... of the concatenation (a, b) of two vectors. */
    private static final FloatVector EVEN = FloatVector.fromArray(S, lanes(0), 0);
    private static final FloatVector ODD = FloatVector.fromArray(S, lanes(1), 0);

    private static float[] lanes(int first) {
        float[] idx = new float[L];
        for (int k = 0; k < L; k++) {
            idx[k] = 2 * k + first;
        }
        return idx;
    }

    /**
     * x (B, C, H, W) -> out (B, C, 2H, 2W), out[.., i, j] = x[.., i / 2, j / 2], as {@code rows = B·C·H} input rows:
     * row r fills output rows 2r and 2r + 1 of the flattened (B·C·2H, 2W) output. A vector of x becomes two of out,
     * each lane repeated (one permute each).
     */
    static void upsampleNearest2x(WorkerPool pool, float[] X, int xo, float[] O, int oo, int rows, int W) {
        pool.parallelFor(rows, rowGrain(4 * W), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int src = xo + r * W, top = oo + r * 4 * W, bottom = top + 2 * W, j = 0;
                for (int bound = S.loopBound(W); j < bound; j += L) {
                    FloatVector v = FloatVector.fromArray(S, X, src + j);
                    FloatVector lo = v.rearrange(DUP_LO), hi = v.rearrange(DUP_HI);
                    lo.intoArray(O, top + 2 * j);
                    hi.intoArray(O, top + 2 * j + L);
                    lo.intoArray(O, bottom + 2 * j);
                    hi.intoArray(O, bottom + 2 * j + L);
                }
                for (; j < W; j++) {
                    float v = X[src + j];
                    O[top + 2 * j] = v;
                    O[top + 2 * j + 1] = v;
                    O[bottom + 2 * j] = v;
                    O[bottom + 2 * j + 1] = v;
                }
            }
        });
    }

    /**
     * dout (B, C, 2H, 2W) -> dx (B, C, H, W), each element the sum of its 2×2 block in the order
     * (d[2i][2j] + d[2i][2j+1]) + (d[2i+1][2j] + d[2i+1][2j+1]) (bit-identical to the reference); {@code rows = B·C·H}
     * rows of dx. Per vector of dx: two vectors of each dout row, their even and odd lanes gathered and added.
     */
    static void upsampleNearest2xBackward(WorkerPool pool, float[] DX, int dxo, float[] D, int dO, int rows, int W) {
        pool.parallelFor(rows, rowGrain(4 * W), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int dst = dxo + r * W, top = dO + r * 4 * W, bottom = top + 2 * W, j = 0;
                for (int bound = S.loopBound(W); j < bound; j += L) {
                    FloatVector t0 = FloatVector.fromArray(S, D, top + 2 * j), t1 = FloatVector.fromArray(S, D, top + 2 * j + L);
                    FloatVector b0 = FloatVector.fromArray(S, D, bottom + 2 * j);
                    FloatVector b1 = FloatVector.fromArray(S, D, bottom + 2 * j + L);
                    FloatVector upper = EVEN.selectFrom(t0, t1).add(ODD.selectFrom(t0, t1));
                    FloatVector lower = EVEN.selectFrom(b0, b1).add(ODD.selectFrom(b0, b1));
                    upper.add(lower).intoArray(DX, dst + j);
                }
                for (; j < W; j++) {
                    DX[dst + j] = D[top + 2 * j] + D[top + 2 * j + 1] + (D[bottom + 2 * j] + D[bottom + 2 * j + 1]);
                }
            }
        });
    }

    /** Rows per chunk, so that a chunk moves about {@link #GRAIN} elements. */
    private static int rowGrain(int n) {
        return Math.max(1, GRAIN / Math.max(1, n));
    }

    // x (B, C, HW) -> out (B, C, HW), mean, rstd (B, G); one chunk = whole groups
    static void groupNormForward(WorkerPool pool, Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int B, int C, int HW, int G, float eps) {
        float[] X = f(x), O = f(out), M = f(mean), R = f(rstd);
        float[] Wt = w == null ? null : f(w), Bs = b == null ? null : f(b);
        int xo = x.offset(), oo = out.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
        int cpg = C / G, n = cpg * HW;
        pool.parallelFor(B * G, groupGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * n, g = r % G;
                float mu = SimdBackend.sumRun(X, xo + base, n) / n;
                FloatVector acc = FloatVector.zero(S);
                int k = 0;
                for (int bound = S.loopBound(n); k < bound; k += L) {
                    FloatVector d = FloatVector.fromArray(S, X, xo + base + k).sub(mu);
                    acc = d.fma(d, acc);
                }
                float var = SimdMath.sum(acc);
                for (; k < n; k++) {
                    float d = X[xo + base + k] - mu;
                    var += d * d;
                }
                float rs = (float) (1.0 / Math.sqrt(var / n + eps));
                for (int cc = 0; cc < cpg; cc++) {
                    int c = g * cpg + cc, o = base + cc * HW;
                    // out = (x − mean) · (rstd · w) + b; x − mean first, so a tiny variance does not cancel
                    float scale = Wt == null ? rs : rs * Wt[wo + c];
                    float shift = Bs == null ? 0f : Bs[bo + c];
                    int h = 0;
                    for (int bound = S.loopBound(HW); h < bound; h += L) {
                        FloatVector.fromArray(S, X, xo + o + h).sub(mu).fma(scale, shift).intoArray(O, oo + o + h);
                    }
                    for (; h < HW; h++) {
                        O[oo + o + h] = Math.fma(X[xo + o + h] - mu, scale, shift);
                    }
                }
                M[mean.offset() + r] = mu;
                R[rstd.offset() + r] = rs;
            }
        });
    }

    // dout, x (B, C, HW), mean, rstd (B, G) -> dx (B, C, HW); dw, db (C)
    // per channel: sd = Σ dout, sdx = Σ dout · x̂ (also db, dw partials); per group: mean(g) = Σ_c w_c sd_c / n,
    // mean(g x̂) = Σ_c w_c sdx_c / n; dx = rstd · (dout · w_c − mean(g) − x̂ · mean(g x̂))
    static void groupNormBackward(WorkerPool pool, Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x,
                                  Tensor mean, Tensor rstd, Tensor w, int B, int C, int HW, int G) {
        float[] DX = f(dx), DO = f(dout), X = f(x), M = f(mean), R = f(rstd);
        float[] Wt = w == null ? null : f(w);
        int xo = x.offset(), doo = dout.offset(), dxo = dx.offset(), wo = w == null ? 0 : w.offset();
        int cpg = C / G, n = cpg * HW;
        float[] sdPart = new float[B * C], sdxPart = new float[B * C];
        pool.parallelFor(B * G, groupGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = r * n, bi = r / G, g = r % G;
                float mu = M[mean.offset() + r], rs = R[rstd.offset() + r];
                float gSum = 0f, gxSum = 0f;
                for (int cc = 0; cc < cpg; cc++) {
                    int c = g * cpg + cc, o = base + cc * HW;
                    FloatVector s1 = FloatVector.zero(S), s2 = FloatVector.zero(S);
                    int h = 0;
                    for (int bound = S.loopBound(HW); h < bound; h += L) {
                        FloatVector d = FloatVector.fromArray(S, DO, doo + o + h);
                        s1 = s1.add(d);
                        s2 = d.fma(FloatVector.fromArray(S, X, xo + o + h).sub(mu), s2);
                    }
                    float sd = SimdMath.sum(s1), sdx = SimdMath.sum(s2);
                    for (; h < HW; h++) {
                        float d = DO[doo + o + h];
                        sd += d;
                        sdx += d * (X[xo + o + h] - mu);
                    }
                    sdx *= rs;
                    sdPart[bi * C + c] = sd;
                    sdxPart[bi * C + c] = sdx;
                    float wc = Wt == null ? 1f : Wt[wo + c];
                    gSum += wc * sd;
                    gxSum += wc * sdx;
                }
                float gMean = gSum / n, gxMean = gxSum / n;
                for (int cc = 0; cc < cpg; cc++) {
                    int c = g * cpg + cc, o = base + cc * HW;
                    // dx = rstd · (dout · w_c − mean(g) − (x − mean) · rstd · mean(g x̂)), in the reference's order,
                    // so a group of one element (rstd ≈ 1/√eps) still gives exactly 0
                    float wc = Wt == null ? 1f : Wt[wo + c], k = rs * gxMean;
                    int h = 0;
                    for (int bound = S.loopBound(HW); h < bound; h += L) {
                        FloatVector.fromArray(S, DO, doo + o + h).mul(wc).sub(gMean)
                                .sub(FloatVector.fromArray(S, X, xo + o + h).sub(mu).mul(k)).mul(rs)
                                .intoArray(DX, dxo + o + h);
                    }
                    for (; h < HW; h++) {
                        DX[dxo + o + h] = rs * (DO[doo + o + h] * wc - gMean - (X[xo + o + h] - mu) * k);
                    }
                }
            }
        });
        if (Wt != null) {
            float[] DW = f(dw), DB = db == null ? null : f(db);
            for (int c = 0; c < C; c++) {
                float sw = 0f, sb = 0f;
                for (int bi = 0; bi < B; bi++) {
                    sw += sdxPart[bi * C + c];
                    sb += sdPart[bi * C + c];
                }
                DW[dw.offset() + c] = sw;
                if (DB != null) {
                    DB[db.offset() + c] = sb;
                }
            }
        }
    }
}
