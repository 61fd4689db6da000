package dev.mvarj.tensor.cpu.simd;

import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.Host;
import dev.mvarj.tensor.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static dev.mvarj.tensor.cpu.Host.f;
import static dev.mvarj.tensor.cpu.Host.i;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.L;
import static dev.mvarj.tensor.cpu.simd.SimdBackend.S;

/**
 * Row-wise fused kernels on the Vector API: softmax backward, layer norm, softmax cross-entropy. Definitions in
 * {@code ReferenceBackend}. Cross-row sums (layer norm's dw, db) go to per-chunk partials combined in chunk order,
 * so results do not depend on the pool size.
 */
final class SimdRows {

    private SimdRows() {
    }

    /** Σ a[ao + k] · b[bo + k]. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(S);
        int k = 0;
        for (int bound = S.loopBound(n); k < bound; k += L) {
            acc = FloatVector.fromArray(S, a, ao + k).fma(FloatVector.fromArray(S, b, bo + k), acc);
        }
        float s = SimdMath.sum(acc);
        for (; k < n; k++) {
            s += a[ao + k] * b[bo + k];
        }
        return s;
    }

    // y, dy (rows, n) -> dx: softmax: dx = y (dy − Σ dy y); log-softmax: dx = dy − exp(y) Σ dy
    static void softmaxBackward(WorkerPool pool, float[] dx, int dxo, float[] y, int yo, float[] dy, int dyo,
                                int rows, int n, boolean log) {
        pool.parallelFor(rows, SimdBackend.rowGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int a = dxo + r * n, b = yo + r * n, c = dyo + r * n;
                if (log) {
                    float sum = SimdBackend.sumRun(dy, c, n);
                    int k = 0;
                    for (int bound = S.loopBound(n); k < bound; k += L) {
                        FloatVector e = SimdMath.exp(FloatVector.fromArray(S, y, b + k));
                        FloatVector.fromArray(S, dy, c + k).sub(e.mul(sum)).intoArray(dx, a + k);
                    }
                    for (; k < n; k++) {
                        dx[a + k] = dy[c + k] - (float) Math.exp(y[b + k]) * sum;
                    }
                } else {
                    float d = dot(dy, c, y, b, n);
                    int k = 0;
                    for (int bound = S.loopBound(n); k < bound; k += L) {
                        FloatVector.fromArray(S, dy, c + k).sub(d).mul(FloatVector.fromArray(S, y, b + k))
                                .intoArray(dx, a + k);
                    }
                    for (; k < n; k++) {
                        dx[a + k] = y[b + k] * (dy[c + k] - d);
                    }
                }
            }
        });
    }

    // x (rows, n) -> y (rows, n) = x / max(‖x‖, eps), norm (rows) = ‖x‖: one pass for the sum of squares, one to divide
    static void l2NormalizeForward(WorkerPool pool, float[] Y, int yo, float[] N, int no, float[] X, int xo,
                                   int rows, int n, float eps) {
        pool.parallelFor(rows, SimdBackend.rowGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * n, yr = yo + r * n;
                float nrm = (float) Math.sqrt(dot(X, xr, X, xr, n)), den = Math.max(nrm, eps);
                int k = 0;
                for (int bound = S.loopBound(n); k < bound; k += L) {
                    FloatVector.fromArray(S, X, xr + k).div(den).intoArray(Y, yr + k);
                }
                for (; k < n; k++) {
                    Y[yr + k] = X[xr + k] / den;
                }
                N[no + r] = nrm;
            }
        });
    }

    // g, y (rows, n), norm (rows) -> dx (rows, n) = (g − [norm ≥ eps] · y · Σ(g ⊙ y)) / max(norm, eps)
    static void l2NormalizeBackward(WorkerPool pool, float[] DX, int dxo, float[] G, int go, float[] Y, int yo,
                                    float[] N, int no, int rows, int n, float eps) {
        pool.parallelFor(rows, SimdBackend.rowGrain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int gr = go + r * n, yr = yo + r * n, dr = dxo + r * n;
                float nrm = N[no + r], den = Math.max(nrm, eps);
                float d = nrm >= eps ? dot(G, gr, Y, yr, n) : 0f;
                int k = 0;
                for (int bound = S.loopBound(n); k < bound; k += L) {
                    FloatVector y = FloatVector.fromArray(S, Y, yr + k);
                    FloatVector.fromArray(S, G, gr + k).sub(y.mul(d)).div(den).intoArray(DX, dr + k);
                }
                for (; k < n; k++) {
                    DX[dr + k] = (G[gr + k] - Y[yr + k] * d) / den;
                }
            }
        });
    }

    // x (rows, C) -> out (rows, C), mean, rstd (rows)
    static void layerNormForward(WorkerPool pool, Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int rows, int C, float eps) {
        float[] X = f(x), O = f(out), M = f(mean), R = f(rstd);
        float[] W = w == null ? null : f(w), B = b == null ? null : f(b);
        int xo = x.offset(), oo = out.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
        pool.parallelFor(rows, SimdBackend.rowGrain(C), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * C, or = oo + r * C;
                float mu = SimdBackend.sumRun(X, xr, C) / C;
                FloatVector acc = FloatVector.zero(S);
                int k = 0;
                for (int bound = S.loopBound(C); k < bound; k += L) {
                    FloatVector d = FloatVector.fromArray(S, X, xr + k).sub(mu);
                    acc = d.fma(d, acc);
                }
                float var = SimdMath.sum(acc);
                for (; k < C; k++) {
                    float d = X[xr + k] - mu;
                    var += d * d;
                }
                float rs = (float) (1.0 / Math.sqrt(var / C + eps));
                k = 0;
                for (int bound = S.loopBound(C); k < bound; k += L) {
                    FloatVector v = FloatVector.fromArray(S, X, xr + k).sub(mu).mul(rs);
                    if (W != null) {
                        FloatVector bias = B == null ? SimdBackend.ZERO : FloatVector.fromArray(S, B, bo + k);
                        v = v.fma(FloatVector.fromArray(S, W, wo + k), bias);
                    }
                    v.intoArray(O, or + k);
                }
                for (; k < C; k++) {
                    float v = (X[xr + k] - mu) * rs;
                    O[or + k] = W == null ? v : v * W[wo + k] + (B == null ? 0f : B[bo + k]);
                }
                M[mean.offset() + r] = mu;
                R[rstd.offset() + r] = rs;
            }
        });
    }

    /** Rows per chunk of layer-norm backward; fixed, so the dw/db partials combine identically for any pool. */
    private static int normGrain(int C) {
        return Math.max(1, (1 << 13) / Math.max(1, C));
    }

    // dout, x (rows, C), mean, rstd (rows) -> dx (rows, C); dw, db (C)
    static void layerNormBackward(WorkerPool pool, Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x,
                                  Tensor mean, Tensor rstd, Tensor w, int rows, int C) {
        float[] DX = f(dx), DO = f(dout), X = f(x), M = f(mean), R = f(rstd);
        float[] W = w == null ? null : f(w);
        int grain = normGrain(C);
        int chunks = WorkerPool.chunks(rows, grain);
        float[][] dwPart = W == null ? null : new float[chunks][C];
        float[][] dbPart = W == null ? null : new float[chunks][C];
        int xo = x.offset(), doo = dout.offset(), dxo = dx.offset(), wo = w == null ? 0 : w.offset();
        pool.parallelFor(rows, grain, (r0, r1) -> {
            int chunk = r0 / grain, bound = S.loopBound(C);
            float[] pw = W == null ? null : dwPart[chunk], pb = W == null ? null : dbPart[chunk];
            for (int r = r0; r < r1; r++) {
                int xr = xo + r * C, dr = doo + r * C, out = dxo + r * C;
                float mu = M[mean.offset() + r], rs = R[rstd.offset() + r];
                // pass 1, with x̂ = (x − mean)·rstd and g = dout ⊙ w: Σ g, Σ g·x̂, and the chunk's dw += dout·x̂, db += dout
                FloatVector sg = FloatVector.zero(S), sgx = FloatVector.zero(S);
                int k = 0;
                if (W != null) {
                    for (; k < bound; k += L) {
                        FloatVector xh = FloatVector.fromArray(S, X, xr + k).sub(mu).mul(rs);
                        FloatVector d = FloatVector.fromArray(S, DO, dr + k);
                        FloatVector gv = d.mul(FloatVector.fromArray(S, W, wo + k));
                        sg = sg.add(gv);
                        sgx = gv.fma(xh, sgx);
                        d.fma(xh, FloatVector.fromArray(S, pw, k)).intoArray(pw, k);
                        d.add(FloatVector.fromArray(S, pb, k)).intoArray(pb, k);
                    }
                } else {
                    for (; k < bound; k += L) {
                        FloatVector xh = FloatVector.fromArray(S, X, xr + k).sub(mu).mul(rs);
                        FloatVector gv = FloatVector.fromArray(S, DO, dr + k);
                        sg = sg.add(gv);
                        sgx = gv.fma(xh, sgx);
                    }
                }
                float gSum = SimdMath.sum(sg), gxSum = SimdMath.sum(sgx);
                for (int t = k; t < C; t++) {
                    float xh = (X[xr + t] - mu) * rs, d = DO[dr + t], gv = W == null ? d : d * W[wo + t];
                    gSum += gv;
                    gxSum += gv * xh;
                    if (W != null) {
                        pw[t] += d * xh;
                        pb[t] += d;
                    }
                }
                float gMean = gSum / C, gxMean = gxSum / C;
                // pass 2: dx = rstd · (g − mean(g) − x̂ · mean(g·x̂)), x̂ and g recomputed (cheaper than storing them)
                k = 0;
                if (W != null) {
                    for (; k < bound; k += L) {
                        FloatVector xh = FloatVector.fromArray(S, X, xr + k).sub(mu).mul(rs);
                        FloatVector gv = FloatVector.fromArray(S, DO, dr + k).mul(FloatVector.fromArray(S, W, wo + k));
                        gv.sub(gMean).sub(xh.mul(gxMean)).mul(rs).intoArray(DX, out + k);
                    }
                } else {
                    for (; k < bound; k += L) {
                        FloatVector xh = FloatVector.fromArray(S, X, xr + k).sub(mu).mul(rs);
                        FloatVector gv = FloatVector.fromArray(S, DO, dr + k);
                        gv.sub(gMean).sub(xh.mul(gxMean)).mul(rs).intoArray(DX, out + k);
                    }
                }
                for (; k < C; k++) {
                    float xh = (X[xr + k] - mu) * rs, gv = W == null ? DO[dr + k] : DO[dr + k] * W[wo + k];
                    DX[out + k] = rs * (gv - gMean - xh * gxMean);
                }
            }
        });
        if (W != null) {
            float[] DW = f(dw), DB = f(db);
            java.util.Arrays.fill(DW, dw.offset(), dw.offset() + C, 0f);
            java.util.Arrays.fill(DB, db.offset(), db.offset() + C, 0f);
            for (int c = 0; c < chunks; c++) {
                SimdBackend.binaryRun(BinaryOp.ADD, DW, dw.offset(), dwPart[c], 0, DW, dw.offset(), C);
                SimdBackend.binaryRun(BinaryOp.ADD, DB, db.offset(), dbPart[c], 0, DB, db.offset(), C);
            }
        }
    }

    // logits (N, V), target (N), weight (N) -> loss (N), lse (N)
    static void crossEntropyForward(WorkerPool pool, Tensor loss, Tensor lse, Tensor logits, Tensor target,
                                    Tensor weight, int N, int V, float smoothing) {
        float[] Z = f(logits), LO = f(loss), LS = f(lse), WT = f(weight);
        int[] T = i(target);
        pool.parallelFor(N, SimdBackend.rowGrain(V), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int zo = logits.offset() + r * V;
                float max = SimdBackend.maxRun(Z, zo, V);
                FloatVector acc = FloatVector.zero(S);
                int k = 0;
                for (int bound = S.loopBound(V); k < bound; k += L) {
                    acc = acc.add(SimdMath.exp(FloatVector.fromArray(S, Z, zo + k).sub(max)));
                }
                float sum = SimdMath.sum(acc);
                for (; k < V; k++) {
                    sum += (float) Math.exp(Z[zo + k] - max);
                }
                float l = max + (float) Math.log(sum);
                int t = Host.checkIndex("crossEntropy", T[target.offset() + r], V);
                float ce = (1 - smoothing) * (l - Z[zo + t]);
                if (smoothing != 0f) {
                    ce += smoothing * (l - SimdBackend.sumRun(Z, zo, V) / V);
                }
                LO[loss.offset() + r] = WT[weight.offset() + r] * ce;
                LS[lse.offset() + r] = l;
            }
        });
    }

    // dloss (N) -> dlogits (N, V) = dloss_i · w_i · (softmax − (1 − ε) onehot − ε / V)
    static void crossEntropyBackward(WorkerPool pool, Tensor dlogits, Tensor dloss, Tensor logits, Tensor lse,
                                     Tensor target, Tensor weight, int N, int V, float smoothing) {
        float[] DZ = f(dlogits), DL = f(dloss), Z = f(logits), LS = f(lse), WT = f(weight);
        int[] T = i(target);
        pool.parallelFor(N, SimdBackend.rowGrain(V), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int zo = logits.offset() + r * V, dzo = dlogits.offset() + r * V;
                float scale = DL[dloss.offset() + r] * WT[weight.offset() + r];
                float l = LS[lse.offset() + r], eps = smoothing / V;
                int k = 0;
                for (int bound = S.loopBound(V); k < bound; k += L) {
                    SimdMath.exp(FloatVector.fromArray(S, Z, zo + k).sub(l)).sub(eps).mul(scale)
                            .intoArray(DZ, dzo + k);
                }
                for (; k < V; k++) {
                    DZ[dzo + k] = scale * ((float) Math.exp(Z[zo + k] - l) - eps);
                }
                DZ[dzo + T[target.offset() + r]] -= scale * (1 - smoothing);
            }
        });
    }
}
