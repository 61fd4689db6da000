package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.ReduceOp;
import dev.mvarj.tensor.Storage;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;

import static dev.mvarj.tensor.cpu.Host.checkIndex;
import static dev.mvarj.tensor.cpu.Host.contiguous;
import static dev.mvarj.tensor.cpu.Host.d;
import static dev.mvarj.tensor.cpu.Host.f;
import static dev.mvarj.tensor.cpu.Host.i;
import static dev.mvarj.tensor.cpu.Reals.of;

/**
 * The definition of every kernel: plain scalar loops on one thread, written to be read. Sums accumulate in double.
 * The SIMD and GPU backends are tested against this class on odd shapes; it is never optimised.
 *
 * <p>Every floating-point kernel reads and writes through {@link Reals}, so the same loop computes F32 tensors
 * (rounding each stored element once) and F64 tensors (the double-precision finite-difference checks run here), and
 * operands of the two dtypes may be mixed.
 */
public class ReferenceBackend implements Backend {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        return new HostStorage(dtype, length, true);
    }

    @Override
    public Storage allocateUninitialized(DType dtype, int length) {
        return new HostStorage(dtype, length, false);
    }

    @Override
    public void upload(Tensor dst, float[] host) {
        System.arraycopy(host, 0, f(contiguous("upload", dst)), dst.offset(), dst.numel());
    }

    @Override
    public void upload(Tensor dst, int[] host) {
        System.arraycopy(host, 0, i(contiguous("upload", dst)), dst.offset(), dst.numel());
    }

    @Override
    public float[] downloadFloats(Tensor src) {
        int n = src.numel();
        if (src.isContiguous()) {                           // one block: no per-element offsets
            return java.util.Arrays.copyOfRange(f(src), src.offset(), src.offset() + n);
        }
        int[] off = new int[n];
        Host.offsets(src, 0, n, off);
        float[] s = f(src), out = new float[n];
        for (int k = 0; k < n; k++) {
            out[k] = s[off[k]];
        }
        return out;
    }

    @Override
    public void upload(Tensor dst, double[] host) {
        contiguous("upload", dst);
        System.arraycopy(host, 0, d(dst), dst.offset(), dst.numel());
    }

    @Override
    public double[] downloadDoubles(Tensor src) {
        int n = src.numel();
        if (src.isContiguous()) {                           // one block: no per-element offsets
            return java.util.Arrays.copyOfRange(d(src), src.offset(), src.offset() + n);
        }
        int[] off = new int[n];
        Host.offsets(src, 0, n, off);
        double[] s = d(src), out = new double[n];
        for (int k = 0; k < n; k++) {
            out[k] = s[off[k]];
        }
        return out;
    }

    @Override
    public int[] downloadInts(Tensor src) {
        int n = src.numel();
        if (src.isContiguous()) {                           // one block: no per-element offsets
            return java.util.Arrays.copyOfRange(i(src), src.offset(), src.offset() + n);
        }
        int[] off = new int[n];
        Host.offsets(src, 0, n, off);
        int[] s = i(src), out = new int[n];
        for (int k = 0; k < n; k++) {
            out[k] = s[off[k]];
        }
        return out;
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        int n = dst.numel();
        int[] offS = new int[n], offD = new int[n];
        Host.offsets(src, 0, n, offS);
        Host.offsets(dst, 0, n, offD);
        if (dst.dtype().isFloating()) {
            // F32 ↔ F64 converts (rounding to nearest into F32)
            Reals s = of(src), d = of(dst);
            for (int k = 0; k < n; k++) {
                d.set(offD[k], s.get(offS[k]));
            }
        } else {
            int[] s = i(src), d = i(dst);
            for (int k = 0; k < n; k++) {
                d[offD[k]] = s[offS[k]];
            }
        }
    }

    @Override
    public void fill(Tensor dst, float value) {
        contiguous("fill", dst);
        if (dst.dtype().isFloating()) {
            of(dst).fill(dst.offset(), dst.offset() + dst.numel(), value);
        } else {
            java.util.Arrays.fill(i(dst), dst.offset(), dst.offset() + dst.numel(), (int) value);
        }
    }

    // C[i] (M,N) = alpha · op(A[i]) (M,K) · op(B[i]) (K,N) + beta · C[i]
    @Override
    public void gemm(boolean transA, boolean transB, int batch, int M, int N, int K,
                     float alpha, Tensor a, int lda, int strideA,
                     Tensor b, int ldb, int strideB,
                     float beta, Tensor c, int ldc, int strideC) {
        Reals A = of(a), B = of(b), C = of(c);
        for (int bi = 0; bi < batch; bi++) {
            int ao = a.offset() + bi * strideA, bo = b.offset() + bi * strideB, co = c.offset() + bi * strideC;
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < N; n++) {
                    double acc = 0;
                    for (int k = 0; k < K; k++) {
                        double av = transA ? A.get(ao + k * lda + m) : A.get(ao + m * lda + k);
                        double bv = transB ? B.get(bo + n * ldb + k) : B.get(bo + k * ldb + n);
                        acc += av * bv;
                    }
                    int ci = co + m * ldc + n;
                    C.set(ci, alpha * acc + (beta == 0f ? 0.0 : beta * C.get(ci)));
                }
            }
        }
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x) {
        contiguous("unary", out);
        int n = out.numel();
        int[] off = new int[n];
        Host.offsets(x, 0, n, off);
        Reals X = of(x), O = of(out);
        for (int k = 0; k < n; k++) {
            O.set(out.offset() + k, op.apply(X.get(off[k])));
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        contiguous("binary", out);
        int n = out.numel();
        int[] offA = new int[n], offB = new int[n];
        Host.offsets(a, 0, n, offA);
        Host.offsets(b, 0, n, offB);
        Reals A = of(a), B = of(b), O = of(out);
        for (int k = 0; k < n; k++) {
            O.set(out.offset() + k, op.apply(A.get(offA[k]), B.get(offB[k])));
        }
    }

    @Override
    public void where(Tensor out, Tensor cond, Tensor a, Tensor b) {
        contiguous("where", out);
        int n = out.numel();
        int[] offC = new int[n], offA = new int[n], offB = new int[n];
        Host.offsets(cond, 0, n, offC);
        Host.offsets(a, 0, n, offA);
        Host.offsets(b, 0, n, offB);
        int[] C = i(cond);
        Reals A = of(a), B = of(b), O = of(out);
        for (int k = 0; k < n; k++) {
            O.set(out.offset() + k, C[offC[k]] != 0 ? A.get(offA[k]) : B.get(offB[k]));
        }
    }

    // x (outer, n, inner) -> out (outer, inner)
    @Override
    public void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        Reals X = of(contiguous("reduce", x)), O = of(contiguous("reduce", out));
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int base = x.offset() + o * n * inner + in;
                double r;
                if (op == ReduceOp.MAX) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < n; k++) {
                        double v = X.get(base + k * inner);
                        m = Double.isNaN(v) || v > m ? v : m;
                        if (Double.isNaN(m)) {
                            break;
                        }
                    }
                    r = m;
                } else {
                    double s = 0;
                    for (int k = 0; k < n; k++) {
                        s += X.get(base + k * inner);
                    }
                    r = op == ReduceOp.MEAN ? s / n : s;
                }
                O.set(out.offset() + o * inner + in, r);
            }
        }
    }

    // x (outer, n, inner) -> out (outer, inner) I32: first index of the maximum (a NaN counts as the maximum)
    @Override
    public void argmax(Tensor out, Tensor x, int outer, int n, int inner) {
        Reals X = of(contiguous("argmax", x));
        int[] O = i(contiguous("argmax", out));
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int base = x.offset() + o * n * inner + in;
                int best = 0;
                double m = X.get(base);
                for (int k = 1; k < n && !Double.isNaN(m); k++) {
                    double v = X.get(base + k * inner);
                    if (v > m || Double.isNaN(v)) {
                        m = v;
                        best = k;
                    }
                }
                O[out.offset() + o * inner + in] = best;
            }
        }
    }

    // x (rows, n) -> out (rows, n): out = exp(x - max) / sum(exp(x - max))
    @Override
    public void softmax(Tensor out, Tensor x, int rows, int n) {
        Reals X = of(contiguous("softmax", x)), O = of(contiguous("softmax", out));
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * n, oo = out.offset() + r * n;
            double max = rowMax(X, xo, n);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += Math.exp(X.get(xo + k) - max);
            }
            for (int k = 0; k < n; k++) {
                O.set(oo + k, Math.exp(X.get(xo + k) - max) / sum);
            }
        }
    }

    // x (rows, n) -> out (rows, n): out = x - max - log(sum(exp(x - max)))
    @Override
    public void logSoftmax(Tensor out, Tensor x, int rows, int n) {
        Reals X = of(contiguous("logSoftmax", x)), O = of(contiguous("logSoftmax", out));
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * n, oo = out.offset() + r * n;
            double max = rowMax(X, xo, n);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += Math.exp(X.get(xo + k) - max);
            }
            double lse = max + Math.log(sum);
            for (int k = 0; k < n; k++) {
                O.set(oo + k, X.get(xo + k) - lse);
            }
        }
    }

    private static double rowMax(Reals x, int from, int n) {
        double m = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            m = Math.max(m, x.get(from + k));
        }
        return m;
    }

    // y, dy (rows, n) -> dx (rows, n): dx = y ⊙ (dy − Σ dy ⊙ y)
    @Override
    public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        Reals DX = of(dx), Y = of(y), DY = of(dy);
        for (int r = 0; r < rows; r++) {
            int dxo = dx.offset() + r * n, yo = y.offset() + r * n, dyo = dy.offset() + r * n;
            double dot = 0;
            for (int k = 0; k < n; k++) {
                dot += DY.get(dyo + k) * Y.get(yo + k);
            }
            for (int k = 0; k < n; k++) {
                DX.set(dxo + k, Y.get(yo + k) * (DY.get(dyo + k) - dot));
            }
        }
    }

    // y, dy (rows, n) -> dx (rows, n): dx = dy − exp(y) · Σ dy
    @Override
    public void logSoftmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        Reals DX = of(dx), Y = of(y), DY = of(dy);
        for (int r = 0; r < rows; r++) {
            int dxo = dx.offset() + r * n, yo = y.offset() + r * n, dyo = dy.offset() + r * n;
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += DY.get(dyo + k);
            }
            for (int k = 0; k < n; k++) {
                DX.set(dxo + k, DY.get(dyo + k) - Math.exp(Y.get(yo + k)) * sum);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ optimiser

    @Override
    public double sumOfSquares(Tensor x, int n) {
        Reals X = of(x);
        double s = 0;
        for (int k = 0; k < n; k++) {
            s += X.get(x.offset() + k) * X.get(x.offset() + k);
        }
        return s;
    }

    @Override
    public void adamwStep(Tensor p, Tensor g, Tensor m, Tensor v, int n, float lr, float beta1, float beta2,
                          float eps, float weightDecay, int step, float gradScale) {
        float[] P = f(p), G = f(g), M = f(m), V = f(v);
        float bc1 = 1f - (float) Math.pow(beta1, step), bc2 = 1f - (float) Math.pow(beta2, step);
        float stepSize = lr / bc1, bc2Sqrt = (float) Math.sqrt(bc2);
        for (int k = 0; k < n; k++) {
            int pi = p.offset() + k, mi = m.offset() + k, vi = v.offset() + k;
            float grad = G[g.offset() + k] * gradScale;
            P[pi] = P[pi] * (1f - lr * weightDecay);
            M[mi] = M[mi] * beta1 + (1f - beta1) * grad;
            V[vi] = V[vi] * beta2 + (1f - beta2) * grad * grad;
            float denom = (float) Math.sqrt(V[vi]) / bc2Sqrt + eps;
            P[pi] = P[pi] - stepSize * (M[mi] / denom);
        }
    }

    // ------------------------------------------------------------------------------------------ indexing

    // x (outer, n, inner), index (m) -> out (outer, m, inner)
    @Override
    public void indexSelect(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m) {
        Reals X = of(x), O = of(out);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                int src = checkIndex("indexSelect", I[index.offset() + j], n);
                for (int c = 0; c < inner; c++) {
                    O.set(out.offset() + (o * m + j) * inner + c, X.get(x.offset() + (o * n + src) * inner + c));
                }
            }
        }
    }

    // dout (outer, m, inner), index (m) -> dx (outer, n, inner) +=
    @Override
    public void indexAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        Reals DX = of(dx), DO = of(dout);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                int dst = checkIndex("indexAdd", I[index.offset() + j], n);
                for (int c = 0; c < inner; c++) {
                    DX.add(dx.offset() + (o * n + dst) * inner + c, DO.get(dout.offset() + (o * m + j) * inner + c));
                }
            }
        }
    }

    // x (outer, n, inner), index (outer, m, inner) -> out (outer, m, inner)
    @Override
    public void gather(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m) {
        Reals X = of(x), O = of(out);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int c = 0; c < inner; c++) {
                    int e = (o * m + j) * inner + c;
                    int src = checkIndex("gather", I[index.offset() + e], n);
                    O.set(out.offset() + e, X.get(x.offset() + (o * n + src) * inner + c));
                }
            }
        }
    }

    // dout (outer, m, inner), index (outer, m, inner) -> dx (outer, n, inner) +=
    @Override
    public void scatterAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        Reals DX = of(dx), DO = of(dout);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int c = 0; c < inner; c++) {
                    int e = (o * m + j) * inner + c;
                    int dst = checkIndex("scatterAdd", I[index.offset() + e], n);
                    DX.add(dx.offset() + (o * n + dst) * inner + c, DO.get(dout.offset() + e));
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ normalisation, loss

    // x (rows, n) -> y (rows, n) = x / max(‖x‖, eps), norm (rows) = ‖x‖; sums in double
    @Override
    public void l2NormalizeForward(Tensor y, Tensor norm, Tensor x, int rows, int n, float eps) {
        Reals X = of(contiguous("l2NormalizeForward", x)), Y = of(contiguous("l2NormalizeForward", y));
        Reals N = of(contiguous("l2NormalizeForward", norm));
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * n, yo = y.offset() + r * n;
            double ss = 0;
            for (int c = 0; c < n; c++) {
                ss += X.get(xo + c) * X.get(xo + c);
            }
            double nrm = N.round(Math.sqrt(ss)), den = Math.max(nrm, eps);
            for (int c = 0; c < n; c++) {
                Y.set(yo + c, X.get(xo + c) / den);
            }
            N.set(norm.offset() + r, nrm);
        }
    }

    // g, y (rows, n), norm (rows) -> dx (rows, n) = (g − [norm ≥ eps] · y · Σ(g ⊙ y)) / max(norm, eps)
    @Override
    public void l2NormalizeBackward(Tensor dx, Tensor g, Tensor y, Tensor norm, int rows, int n, float eps) {
        Reals G = of(contiguous("l2NormalizeBackward", g)), Y = of(contiguous("l2NormalizeBackward", y));
        Reals N = of(contiguous("l2NormalizeBackward", norm)), DX = of(contiguous("l2NormalizeBackward", dx));
        for (int r = 0; r < rows; r++) {
            int go = g.offset() + r * n, yo = y.offset() + r * n, dxo = dx.offset() + r * n;
            double nrm = N.get(norm.offset() + r), dot = 0;
            for (int c = 0; c < n; c++) {
                dot += G.get(go + c) * Y.get(yo + c);
            }
            dot = nrm >= eps ? DX.round(dot) : 0;
            double den = Math.max(nrm, eps);
            for (int c = 0; c < n; c++) {
                DX.set(dxo + c, (G.get(go + c) - Y.get(yo + c) * dot) / den);
            }
        }
    }

    // x (rows, C) -> out (rows, C), mean (rows), rstd (rows)
    @Override
    public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int rows, int C, float eps) {
        Reals X = of(x), O = of(out), M = of(mean), R = of(rstd);
        Reals W = w == null ? null : of(w), B = b == null ? null : of(b);
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * C, oo = out.offset() + r * C;
            double mu = 0;
            for (int c = 0; c < C; c++) {
                mu += X.get(xo + c);
            }
            mu /= C;
            double var = 0;
            for (int c = 0; c < C; c++) {
                double d = X.get(xo + c) - mu;
                var += d * d;
            }
            var /= C;
            double rs = 1.0 / Math.sqrt(var + eps);
            for (int c = 0; c < C; c++) {
                double nrm = (X.get(xo + c) - mu) * rs;
                O.set(oo + c, W == null ? nrm : nrm * W.get(w.offset() + c) + (B == null ? 0 : B.get(b.offset() + c)));
            }
            M.set(mean.offset() + r, mu);
            R.set(rstd.offset() + r, rs);
        }
    }

    // dout, x (rows, C), mean, rstd (rows) -> dx (rows, C); dw, db (C)
    // with g = dout ⊙ w and x̂ = (x − mean) · rstd: dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))
    @Override
    public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                                  Tensor w, int rows, int C) {
        Reals DX = of(dx), DO = of(dout), X = of(x), M = of(mean), R = of(rstd);
        Reals W = w == null ? null : of(w);
        double[] dwAcc = new double[C], dbAcc = new double[C];
        for (int r = 0; r < rows; r++) {
            int o = r * C;
            double mu = M.get(mean.offset() + r), rs = R.get(rstd.offset() + r);
            double gMean = 0, gxMean = 0;
            for (int c = 0; c < C; c++) {
                double xh = (X.get(x.offset() + o + c) - mu) * rs;
                double g = DO.get(dout.offset() + o + c) * (W == null ? 1.0 : W.get(w.offset() + c));
                gMean += g;
                gxMean += g * xh;
                dwAcc[c] += DO.get(dout.offset() + o + c) * xh;
                dbAcc[c] += DO.get(dout.offset() + o + c);
            }
            gMean /= C;
            gxMean /= C;
            for (int c = 0; c < C; c++) {
                double xh = (X.get(x.offset() + o + c) - mu) * rs;
                double g = DO.get(dout.offset() + o + c) * (W == null ? 1.0 : W.get(w.offset() + c));
                DX.set(dx.offset() + o + c, rs * (g - gMean - xh * gxMean));
            }
        }
        if (W != null) {
            Reals DW = of(dw), DB = of(db);
            for (int c = 0; c < C; c++) {
                DW.set(dw.offset() + c, dwAcc[c]);
                DB.set(db.offset() + c, dbAcc[c]);
            }
        }
    }

    // logits (N, V), target (N), weight (N) -> loss (N), lse (N)
    @Override
    public void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor target, Tensor weight,
                                    int N, int V, float smoothing) {
        Reals Z = of(logits), LO = of(loss), LS = of(lse), WT = of(weight);
        int[] T = i(target);
        for (int r = 0; r < N; r++) {
            int zo = logits.offset() + r * V;
            double max = rowMax(Z, zo, V);
            double sum = 0, mean = 0;
            for (int v = 0; v < V; v++) {
                sum += Math.exp(Z.get(zo + v) - max);
                mean += Z.get(zo + v);
            }
            mean /= V;
            double l = max + Math.log(sum);
            int t = checkIndex("crossEntropy", T[target.offset() + r], V);
            double ce = (1 - smoothing) * (l - Z.get(zo + t)) + smoothing * (l - mean);
            LO.set(loss.offset() + r, WT.get(weight.offset() + r) * ce);
            LS.set(lse.offset() + r, l);
        }
    }

    // dloss (N) -> dlogits (N, V) = dloss_i · w_i · (softmax − (1 − ε) onehot − ε / V)
    @Override
    public void crossEntropyBackward(Tensor dlogits, Tensor dloss, Tensor logits, Tensor lse, Tensor target,
                                     Tensor weight, int N, int V, float smoothing) {
        Reals DZ = of(dlogits), DL = of(dloss), Z = of(logits), LS = of(lse), WT = of(weight);
        int[] T = i(target);
        for (int r = 0; r < N; r++) {
            int zo = logits.offset() + r * V, dzo = dlogits.offset() + r * V;
            double scale = DL.get(dloss.offset() + r) * WT.get(weight.offset() + r);
            double l = LS.get(lse.offset() + r);
            int t = T[target.offset() + r];
            for (int v = 0; v < V; v++) {
                double p = Math.exp(Z.get(zo + v) - l) - (double) smoothing / V - (v == t ? 1 - smoothing : 0);
                DZ.set(dzo + v, scale * p);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ attention
    // (the loops are in ReferenceAttention: one query row at a time over the keys the mask or table allows)

    // q (B,H,Lq,d), k, v (B,H,Lk,d) -> out (B,H,Lq,d), lse (B,H,Lq)
    @Override
    public void attentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, AttentionMask mask,
                                 int B, int H, int Lq, int Lk, int d, float scale) {
        ReferenceAttention.forward(out, lse, q, k, v, ReferenceAttention.dense(mask, Lq, Lk), B, H, Lq, Lk, d, scale);
    }

    // dout, q, out (B,H,Lq,d), k, v (B,H,Lk,d), lse (B,H,Lq) -> dq (B,H,Lq,d), dk, dv (B,H,Lk,d)
    @Override
    public void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k, Tensor v,
                                  Tensor out, Tensor lse, AttentionMask mask,
                                  int B, int H, int Lq, int Lk, int d, float scale) {
        ReferenceAttention.backward(dq, dk, dv, dout, q, k, v, out, lse, ReferenceAttention.dense(mask, Lq, Lk),
                B, H, Lq, Lk, d, scale);
    }

    // q, k, v (B,H,N,d), N = grid² -> out (B,H,N,d), lse (B,H,N)
    @Override
    public void neighborhoodAttentionForward(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v,
                                             int B, int H, int grid, int kernel, int d, float scale) {
        int N = grid * grid;
        ReferenceAttention.forward(out, lse, q, k, v, ReferenceAttention.neighborhood(grid, kernel),
                B, H, N, N, d, scale);
    }

    // dout, q, k, v, out (B,H,N,d), lse (B,H,N) -> dq, dk, dv (B,H,N,d)
    @Override
    public void neighborhoodAttentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor q, Tensor k,
                                              Tensor v, Tensor out, Tensor lse,
                                              int B, int H, int grid, int kernel, int d, float scale) {
        int N = grid * grid;
        ReferenceAttention.backward(dq, dk, dv, dout, q, k, v, out, lse, ReferenceAttention.neighborhood(grid, kernel),
                B, H, N, N, d, scale);
    }

    // ------------------------------------------------------------------------------------------ vision
    // definitions in ReferenceVision

    // x (B, C, H, W) -> cols (B, C·kh·kw, OH·OW)
    @Override
    public void im2col(Tensor cols, Tensor x, int B, int C, int H, int W, int kh, int kw, int stride,
                       int padTop, int padLeft, int OH, int OW) {
        ReferenceVision.im2col(contiguous("im2col", cols), contiguous("im2col", x), B, C, H, W, kh, kw, stride,
                padTop, padLeft, OH, OW);
    }

    // cols (B, C·kh·kw, OH·OW) -> dx (B, C, H, W) +=
    @Override
    public void col2im(Tensor dx, Tensor cols, int B, int C, int H, int W, int kh, int kw, int stride,
                       int padTop, int padLeft, int OH, int OW) {
        ReferenceVision.col2im(contiguous("col2im", dx), contiguous("col2im", cols), B, C, H, W, kh, kw, stride,
                padTop, padLeft, OH, OW);
    }

    // x (B, C, H, W) -> out (B, C, 2H, 2W)
    @Override
    public void upsampleNearest2x(Tensor out, Tensor x, int B, int C, int H, int W) {
        ReferenceVision.upsampleNearest2x(contiguous("upsampleNearest2x", out),
                contiguous("upsampleNearest2x", x), B, C, H, W);
    }

    // dout (B, C, 2H, 2W) -> dx (B, C, H, W)
    @Override
    public void upsampleNearest2xBackward(Tensor dx, Tensor dout, int B, int C, int H, int W) {
        ReferenceVision.upsampleNearest2xBackward(contiguous("upsampleNearest2xBackward", dx),
                contiguous("upsampleNearest2xBackward", dout), B, C, H, W);
    }

    // x (B, C, HW) -> out (B, C, HW), mean, rstd (B, G)
    @Override
    public void groupNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int B, int C, int HW, int G, float eps) {
        ReferenceVision.groupNormForward(out, mean, rstd, x, w, b, B, C, HW, G, eps);
    }

    // dout, x (B, C, HW), mean, rstd (B, G) -> dx (B, C, HW); dw, db (C)
    @Override
    public void groupNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                                  Tensor w, int B, int C, int HW, int G) {
        ReferenceVision.groupNormBackward(dx, dw, db, dout, x, mean, rstd, w, B, C, HW, G);
    }
}
