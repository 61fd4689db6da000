package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.Tensor;

import static dev.mvarj.tensor.cpu.Host.f;

/**
 * The definitions of the vision kernels of {@link ReferenceBackend}: im2col / col2im for convolution and group norm.
 * Plain loops on one thread; group-norm sums accumulate in double.
 */
final class ReferenceVision {

    private ReferenceVision() {
    }

    // x (B, C, H, W) -> cols (B, C·kh·kw, OH·OW); zero where the tap falls into the padding
    static void im2col(Tensor cols, Tensor x, int B, int C, int H, int W, int kh, int kw, int stride,
                       int padTop, int padLeft, int OH, int OW) {
        float[] X = f(x), CO = f(cols);
        int P = OH * OW, K = C * kh * kw;
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < C; c++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int row = cols.offset() + (b * K + (c * kh + i) * kw + j) * P;
                        for (int oh = 0; oh < OH; oh++) {
                            for (int ow = 0; ow < OW; ow++) {
                                int ih = oh * stride - padTop + i, iw = ow * stride - padLeft + j;
                                boolean inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                                CO[row + oh * OW + ow] = inside ? X[x.offset() + ((b * C + c) * H + ih) * W + iw] : 0f;
                            }
                        }
                    }
                }
            }
        }
    }

    // cols (B, C·kh·kw, OH·OW) -> dx (B, C, H, W) +=, each element summed in (i, j, oh, ow) order, in float
    static void col2im(Tensor dx, Tensor cols, int B, int C, int H, int W, int kh, int kw, int stride,
                       int padTop, int padLeft, int OH, int OW) {
        float[] DX = f(dx), CO = f(cols);
        int P = OH * OW, K = C * kh * kw;
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < C; c++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        int row = cols.offset() + (b * K + (c * kh + i) * kw + j) * P;
                        for (int oh = 0; oh < OH; oh++) {
                            for (int ow = 0; ow < OW; ow++) {
                                int ih = oh * stride - padTop + i, iw = ow * stride - padLeft + j;
                                if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
                                    DX[dx.offset() + ((b * C + c) * H + ih) * W + iw] += CO[row + oh * OW + ow];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // x (B, C, HW) -> out (B, C, HW), mean, rstd (B, G); groups of C/G channels
    static void groupNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int B, int C, int HW, int G, float eps) {
        float[] X = f(x), O = f(out), M = f(mean), R = f(rstd);
        float[] Wt = w == null ? null : f(w), Bs = b == null ? null : f(b);
        int cpg = C / G, n = cpg * HW;
        for (int bi = 0; bi < B; bi++) {
            for (int g = 0; g < G; g++) {
                int base = (bi * C + g * cpg) * HW;
                double mu = 0;
                for (int k = 0; k < n; k++) {
                    mu += X[x.offset() + base + k];
                }
                mu /= n;
                double var = 0;
                for (int k = 0; k < n; k++) {
                    double d = X[x.offset() + base + k] - mu;
                    var += d * d;
                }
                var /= n;
                double rs = 1.0 / Math.sqrt(var + eps);
                for (int k = 0; k < n; k++) {
                    int c = g * cpg + k / HW;
                    double v = (X[x.offset() + base + k] - mu) * rs;
                    if (Wt != null) {
                        v = v * Wt[w.offset() + c] + (Bs == null ? 0 : Bs[b.offset() + c]);
                    }
                    O[out.offset() + base + k] = (float) v;
                }
                M[mean.offset() + bi * G + g] = (float) mu;
                R[rstd.offset() + bi * G + g] = (float) rs;
            }
        }
    }

    // dout, x (B, C, HW), mean, rstd (B, G) -> dx (B, C, HW); dw, db (C)
    // with g = dout ⊙ w[c] and x̂ = (x − mean) · rstd, over each group: dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))
    static void groupNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                                  Tensor w, int B, int C, int HW, int G) {
        float[] DX = f(dx), DO = f(dout), X = f(x), M = f(mean), R = f(rstd);
        float[] Wt = w == null ? null : f(w);
        int cpg = C / G, n = cpg * HW;
        double[] dwAcc = new double[C], dbAcc = new double[C];
        for (int bi = 0; bi < B; bi++) {
            for (int g = 0; g < G; g++) {
                int base = (bi * C + g * cpg) * HW;
                double mu = M[mean.offset() + bi * G + g], rs = R[rstd.offset() + bi * G + g];
                double gMean = 0, gxMean = 0;
                for (int k = 0; k < n; k++) {
                    int c = g * cpg + k / HW;
                    double d = DO[dout.offset() + base + k];
                    double xh = (X[x.offset() + base + k] - mu) * rs;
                    double gk = d * (Wt == null ? 1.0 : Wt[w.offset() + c]);
                    gMean += gk;
                    gxMean += gk * xh;
                    dwAcc[c] += d * xh;
                    dbAcc[c] += d;
                }
                gMean /= n;
                gxMean /= n;
                for (int k = 0; k < n; k++) {
                    int c = g * cpg + k / HW;
                    double xh = (X[x.offset() + base + k] - mu) * rs;
                    double gk = DO[dout.offset() + base + k] * (Wt == null ? 1.0 : Wt[w.offset() + c]);
                    DX[dx.offset() + base + k] = (float) (rs * (gk - gMean - xh * gxMean));
                }
            }
        }
        if (Wt != null) {
            float[] DW = f(dw), DB = db == null ? null : f(db);
            for (int c = 0; c < C; c++) {
                DW[dw.offset() + c] = (float) dwAcc[c];
                if (db != null) {
                    DB[db.offset() + c] = (float) dbAcc[c];
                }
            }
        }
    }
}
