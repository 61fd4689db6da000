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
import static dev.mvarj.tensor.cpu.Host.f;
import static dev.mvarj.tensor.cpu.Host.i;

/**
 * The definition of every kernel: plain scalar loops on one thread, written to be read. Sums accumulate in double.
 * The SIMD and GPU backends are tested against this class on odd shapes; it is never optimised.
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
        return new HostStorage(dtype, length);
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
        int[] off = new int[n];
        Host.offsets(src, 0, n, off);
        float[] s = f(src), out = new float[n];
        for (int k = 0; k < n; k++) {
            out[k] = s[off[k]];
        }
        return out;
    }

    @Override
    public int[] downloadInts(Tensor src) {
        int n = src.numel();
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
        if (dst.dtype() == DType.F32) {
            float[] s = f(src), d = f(dst);
            for (int k = 0; k < n; k++) {
                d[offD[k]] = s[offS[k]];
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
        if (dst.dtype() == DType.F32) {
            java.util.Arrays.fill(f(dst), dst.offset(), dst.offset() + dst.numel(), value);
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
        float[] A = f(a), B = f(b), C = f(c);
        for (int bi = 0; bi < batch; bi++) {
            int ao = a.offset() + bi * strideA, bo = b.offset() + bi * strideB, co = c.offset() + bi * strideC;
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < N; n++) {
                    double acc = 0;
                    for (int k = 0; k < K; k++) {
                        float av = transA ? A[ao + k * lda + m] : A[ao + m * lda + k];
                        float bv = transB ? B[bo + n * ldb + k] : B[bo + k * ldb + n];
                        acc += (double) av * bv;
                    }
                    int ci = co + m * ldc + n;
                    C[ci] = (float) (alpha * acc + (beta == 0f ? 0.0 : (double) beta * C[ci]));
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
        float[] X = f(x), O = f(out);
        for (int k = 0; k < n; k++) {
            O[out.offset() + k] = op.apply(X[off[k]]);
        }
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        contiguous("binary", out);
        int n = out.numel();
        int[] offA = new int[n], offB = new int[n];
        Host.offsets(a, 0, n, offA);
        Host.offsets(b, 0, n, offB);
        float[] A = f(a), B = f(b), O = f(out);
        for (int k = 0; k < n; k++) {
            O[out.offset() + k] = op.apply(A[offA[k]], B[offB[k]]);
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
        float[] A = f(a), B = f(b), O = f(out);
        for (int k = 0; k < n; k++) {
            O[out.offset() + k] = C[offC[k]] != 0 ? A[offA[k]] : B[offB[k]];
        }
    }

    // x (outer, n, inner) -> out (outer, inner)
    @Override
    public void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        float[] X = f(contiguous("reduce", x)), O = f(contiguous("reduce", out));
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int base = x.offset() + o * n * inner + in;
                float r;
                if (op == ReduceOp.MAX) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < n; k++) {
                        float v = X[base + k * inner];
                        m = Float.isNaN(v) || v > m ? v : m;
                        if (Float.isNaN(m)) {
                            break;
                        }
                    }
                    r = m;
                } else {
                    double s = 0;
                    for (int k = 0; k < n; k++) {
                        s += X[base + k * inner];
                    }
                    r = (float) (op == ReduceOp.MEAN ? s / n : s);
                }
                O[out.offset() + o * inner + in] = r;
            }
        }
    }

    // x (outer, n, inner) -> out (outer, inner) I32: first index of the maximum (a NaN counts as the maximum)
    @Override
    public void argmax(Tensor out, Tensor x, int outer, int n, int inner) {
        float[] X = f(contiguous("argmax", x));
        int[] O = i(contiguous("argmax", out));
        for (int o = 0; o < outer; o++) {
            for (int in = 0; in < inner; in++) {
                int base = x.offset() + o * n * inner + in;
                int best = 0;
                float m = X[base];
                for (int k = 1; k < n && !Float.isNaN(m); k++) {
                    float v = X[base + k * inner];
                    if (v > m || Float.isNaN(v)) {
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
        float[] X = f(contiguous("softmax", x)), O = f(contiguous("softmax", out));
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * n, oo = out.offset() + r * n;
            float max = rowMax(X, xo, n);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += Math.exp(X[xo + k] - max);
            }
            for (int k = 0; k < n; k++) {
                O[oo + k] = (float) (Math.exp(X[xo + k] - max) / sum);
            }
        }
    }

    // x (rows, n) -> out (rows, n): out = x - max - log(sum(exp(x - max)))
    @Override
    public void logSoftmax(Tensor out, Tensor x, int rows, int n) {
        float[] X = f(contiguous("logSoftmax", x)), O = f(contiguous("logSoftmax", out));
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * n, oo = out.offset() + r * n;
            float max = rowMax(X, xo, n);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += Math.exp(X[xo + k] - max);
            }
            double lse = max + Math.log(sum);
            for (int k = 0; k < n; k++) {
                O[oo + k] = (float) (X[xo + k] - lse);
            }
        }
    }

    private static float rowMax(float[] x, int from, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            m = Math.max(m, x[from + k]);
        }
        return m;
    }

    // y, dy (rows, n) -> dx (rows, n): dx = y ⊙ (dy − Σ dy ⊙ y)
    @Override
    public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        float[] DX = f(dx), Y = f(y), DY = f(dy);
        for (int r = 0; r < rows; r++) {
            int dxo = dx.offset() + r * n, yo = y.offset() + r * n, dyo = dy.offset() + r * n;
            double dot = 0;
            for (int k = 0; k < n; k++) {
                dot += (double) DY[dyo + k] * Y[yo + k];
            }
            for (int k = 0; k < n; k++) {
                DX[dxo + k] = (float) (Y[yo + k] * (DY[dyo + k] - dot));
            }
        }
    }

    // y, dy (rows, n) -> dx (rows, n): dx = dy − exp(y) · Σ dy
    @Override
    public void logSoftmaxBackward(Tensor dx, Tensor y, Tensor dy, int rows, int n) {
        float[] DX = f(dx), Y = f(y), DY = f(dy);
        for (int r = 0; r < rows; r++) {
            int dxo = dx.offset() + r * n, yo = y.offset() + r * n, dyo = dy.offset() + r * n;
            double sum = 0;
            for (int k = 0; k < n; k++) {
                sum += DY[dyo + k];
            }
            for (int k = 0; k < n; k++) {
                DX[dxo + k] = (float) (DY[dyo + k] - Math.exp(Y[yo + k]) * sum);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ optimiser

    @Override
    public double sumOfSquares(Tensor x, int n) {
        float[] X = f(x);
        double s = 0;
        for (int k = 0; k < n; k++) {
            s += (double) X[x.offset() + k] * X[x.offset() + k];
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
        float[] X = f(x), O = f(out);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                int src = checkIndex("indexSelect", I[index.offset() + j], n);
                for (int c = 0; c < inner; c++) {
                    O[out.offset() + (o * m + j) * inner + c] = X[x.offset() + (o * n + src) * inner + c];
                }
            }
        }
    }

    // dout (outer, m, inner), index (m) -> dx (outer, n, inner) +=
    @Override
    public void indexAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        float[] DX = f(dx), DO = f(dout);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                int dst = checkIndex("indexAdd", I[index.offset() + j], n);
                for (int c = 0; c < inner; c++) {
                    DX[dx.offset() + (o * n + dst) * inner + c] += DO[dout.offset() + (o * m + j) * inner + c];
                }
            }
        }
    }

    // x (outer, n, inner), index (outer, m, inner) -> out (outer, m, inner)
    @Override
    public void gather(Tensor out, Tensor x, Tensor index, int outer, int n, int inner, int m) {
        float[] X = f(x), O = f(out);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int c = 0; c < inner; c++) {
                    int e = (o * m + j) * inner + c;
                    int src = checkIndex("gather", I[index.offset() + e], n);
                    O[out.offset() + e] = X[x.offset() + (o * n + src) * inner + c];
                }
            }
        }
    }

    // dout (outer, m, inner), index (outer, m, inner) -> dx (outer, n, inner) +=
    @Override
    public void scatterAdd(Tensor dx, Tensor dout, Tensor index, int outer, int n, int inner, int m) {
        float[] DX = f(dx), DO = f(dout);
        int[] I = i(index);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int c = 0; c < inner; c++) {
                    int e = (o * m + j) * inner + c;
                    int dst = checkIndex("scatterAdd", I[index.offset() + e], n);
                    DX[dx.offset() + (o * n + dst) * inner + c] += DO[dout.offset() + e];
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ normalisation, loss

    // x (rows, C) -> out (rows, C), mean (rows), rstd (rows)
    @Override
    public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int rows, int C, float eps) {
        float[] X = f(x), O = f(out), M = f(mean), R = f(rstd);
        float[] W = w == null ? null : f(w), B = b == null ? null : f(b);
        for (int r = 0; r < rows; r++) {
            int xo = x.offset() + r * C, oo = out.offset() + r * C;
            double mu = 0;
            for (int c = 0; c < C; c++) {
                mu += X[xo + c];
            }
            mu /= C;
            double var = 0;
            for (int c = 0; c < C; c++) {
                double d = X[xo + c] - mu;
                var += d * d;
            }
            var /= C;
            double rs = 1.0 / Math.sqrt(var + eps);
            for (int c = 0; c < C; c++) {
                double nrm = (X[xo + c] - mu) * rs;
                O[oo + c] = (float) (W == null ? nrm : nrm * W[w.offset() + c] + (B == null ? 0 : B[b.offset() + c]));
            }
            M[mean.offset() + r] = (float) mu;
            R[rstd.offset() + r] = (float) rs;
        }
    }

    // dout, x (rows, C), mean, rstd (rows) -> dx (rows, C); dw, db (C)
    // with g = dout ⊙ w and x̂ = (x − mean) · rstd: dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))
    @Override
    public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                                  Tensor w, int rows, int C) {
        float[] DX = f(dx), DO = f(dout), X = f(x), M = f(mean), R = f(rstd);
        float[] W = w == null ? null : f(w);
        double[] dwAcc = new double[C], dbAcc = new double[C];
        for (int r = 0; r < rows; r++) {
            int o = r * C;
            double mu = M[mean.offset() + r], rs = R[rstd.offset() + r];
            double gMean = 0, gxMean = 0;
            for (int c = 0; c < C; c++) {
                double xh = (X[x.offset() + o + c] - mu) * rs;
                double g = DO[dout.offset() + o + c] * (W == null ? 1.0 : W[w.offset() + c]);
                gMean += g;
                gxMean += g * xh;
                dwAcc[c] += DO[dout.offset() + o + c] * xh;
                dbAcc[c] += DO[dout.offset() + o + c];
            }
            gMean /= C;
            gxMean /= C;
            for (int c = 0; c < C; c++) {
                double xh = (X[x.offset() + o + c] - mu) * rs;
                double g = DO[dout.offset() + o + c] * (W == null ? 1.0 : W[w.offset() + c]);
                DX[dx.offset() + o + c] = (float) (rs * (g - gMean - xh * gxMean));
            }
        }
        if (W != null) {
            float[] DW = f(dw), DB = f(db);
            for (int c = 0; c < C; c++) {
                DW[dw.offset() + c] = (float) dwAcc[c];
                DB[db.offset() + c] = (float) dbAcc[c];
            }
        }
    }

    // logits (N, V), target (N), weight (N) -> loss (N), lse (N)
    @Override
    public void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor target, Tensor weight,
                                    int N, int V, float smoothing) {
        float[] Z = f(logits), LO = f(loss), LS = f(lse), WT = f(weight);
        int[] T = i(target);
        for (int r = 0; r < N; r++) {
            int zo = logits.offset() + r * V;
            float max = rowMax(Z, zo, V);
            double sum = 0, mean = 0;
            for (int v = 0; v < V; v++) {
                sum += Math.exp(Z[zo + v] - max);
                mean += Z[zo + v];
            }
            mean /= V;
            double l = max + Math.log(sum);
            int t = checkIndex("crossEntropy", T[target.offset() + r], V);
            double ce = (1 - smoothing) * (l - Z[zo + t]) + smoothing * (l - mean);
            LO[loss.offset() + r] = (float) (WT[weight.offset() + r] * ce);
            LS[lse.offset() + r] = (float) l;
        }
    }

    // dloss (N) -> dlogits (N, V) = dloss_i · w_i · (softmax − (1 − ε) onehot − ε / V)
    @Override
    public void crossEntropyBackward(Tensor dlogits, Tensor dloss, Tensor logits, Tensor lse, Tensor target,
                                     Tensor weight, int N, int V, float smoothing) {
        float[] DZ = f(dlogits), DL = f(dloss), Z = f(logits), LS = f(lse), WT = f(weight);
        int[] T = i(target);
        for (int r = 0; r < N; r++) {
            int zo = logits.offset() + r * V, dzo = dlogits.offset() + r * V;
            double scale = (double) DL[dloss.offset() + r] * WT[weight.offset() + r];
            double l = LS[lse.offset() + r];
            int t = T[target.offset() + r];
            for (int v = 0; v < V; v++) {
                double p = Math.exp(Z[zo + v] - l) - smoothing / V - (v == t ? 1 - smoothing : 0);
                DZ[dzo + v] = (float) (scale * p);
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
