package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.Tensor;

import static dev.mvarj.tensor.cpu.Reals.of;

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
        Reals X = of(x), CO = of(cols);
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
                                CO.set(row + oh * OW + ow, inside ? X.get(x.offset() + ((b * C + c) * H + ih) * W + iw) : 0);
                            }
                        }
                    }
                }
            }
        }
    }

    // cols (B, C·kh·kw, OH·OW) -> dx (B, C, H, W) +=, each element summed in (i, j, oh, ow) order, in its dtype
    static void col2im(Tensor dx, Tensor cols, int B, int C, int H, int W, int kh, int kw, int stride,
                       int padTop, int padLeft, int OH, int OW) {
        Reals DX = of(dx), CO = of(cols);
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
                                    DX.add(dx.offset() + ((b * C + c) * H + ih) * W + iw, CO.get(row + oh * OW + ow));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // x (B, C, H, W) -> out (B, C, 2H, 2W), out[.., i, j] = x[.., i / 2, j / 2]
    static void upsampleNearest2x(Tensor out, Tensor x, int B, int C, int H, int W) {
        Reals X = of(x), O = of(out);
        for (int p = 0; p < B * C; p++) {
            for (int i = 0; i < 2 * H; i++) {
                for (int j = 0; j < 2 * W; j++) {
                    O.set(out.offset() + (p * 2 * H + i) * 2 * W + j, X.get(x.offset() + (p * H + i / 2) * W + j / 2));
                }
            }
        }
    }

    // dout (B, C, 2H, 2W) -> dx (B, C, H, W), each the sum of its 2×2 block: (row 2i) + (row 2i + 1), pairs first
    static void upsampleNearest2xBackward(Tensor dx, Tensor dout, int B, int C, int H, int W) {
        Reals D = of(dout), DX = of(dx);
        for (int p = 0; p < B * C; p++) {
            for (int i = 0; i < H; i++) {
                for (int j = 0; j < W; j++) {
                    int top = dout.offset() + (p * 2 * H + 2 * i) * 2 * W + 2 * j, bottom = top + 2 * W;
                    double upper = D.round(D.get(top) + D.get(top + 1)), lower = D.round(D.get(bottom) + D.get(bottom + 1));
                    DX.set(dx.offset() + (p * H + i) * W + j, upper + lower);
                }
            }
        }
    }

    // x (B, C, HW) -> out (B, C, HW), mean, rstd (B, G); groups of C/G channels
    static void groupNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b,
                                 int B, int C, int HW, int G, float eps) {
        Reals X = of(x), O = of(out), M = of(mean), R = of(rstd);
        Reals Wt = w == null ? null : of(w), Bs = b == null ? null : of(b);
        int cpg = C / G, n = cpg * HW;
        for (int bi = 0; bi < B; bi++) {
            for (int g = 0; g < G; g++) {
                int base = (bi * C + g * cpg) * HW;
                double mu = 0;
                for (int k = 0; k < n; k++) {
                    mu += X.get(x.offset() + base + k);
                }
                mu /= n;
                double var = 0;
                for (int k = 0; k < n; k++) {
                    double d = X.get(x.offset() + base + k) - mu;
                    var += d * d;
                }
                var /= n;
                double rs = 1.0 / Math.sqrt(var + eps);
                for (int k = 0; k < n; k++) {
                    int c = g * cpg + k / HW;
                    double v = (X.get(x.offset() + base + k) - mu) * rs;
                    if (Wt != null) {
                        v = v * Wt.get(w.offset() + c) + (Bs == null ? 0 : Bs.get(b.offset() + c));
                    }
                    O.set(out.offset() + base + k, v);
                }
                M.set(mean.offset() + bi * G + g, mu);
                R.set(rstd.offset() + bi * G + g, rs);
            }
        }
    }

    // dout, x (B, C, HW), mean, rstd (B, G) -> dx (B, C, HW); dw, db (C)
    // with g = dout ⊙ w[c] and x̂ = (x − mean) · rstd, over each group: dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂))
    static void groupNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dout, Tensor x, Tensor mean, Tensor rstd,
                                  Tensor w, int B, int C, int HW, int G) {
        Reals DX = of(dx), DO = of(dout), X = of(x), M = of(mean), R = of(rstd);
        Reals Wt = w == null ? null : of(w);
        int cpg = C / G, n = cpg * HW;
        double[] dwAcc = new double[C], dbAcc = new double[C];
        for (int bi = 0; bi < B; bi++) {
            for (int g = 0; g < G; g++) {
                int base = (bi * C + g * cpg) * HW;
                double mu = M.get(mean.offset() + bi * G + g), rs = R.get(rstd.offset() + bi * G + g);
                double gMean = 0, gxMean = 0;
                for (int k = 0; k < n; k++) {
                    int c = g * cpg + k / HW;
                    double d = DO.get(dout.offset() + base + k);
                    double xh = (X.get(x.offset() + base + k) - mu) * rs;
                    double gk = d * (Wt == null ? 1.0 : Wt.get(w.offset() + c));
                    gMean += gk;
                    gxMean += gk * xh;
                    dwAcc[c] += d * xh;
                    dbAcc[c] += d;
                }
                gMean /= n;
                gxMean /= n;
                for (int k = 0; k < n; k++) {
                    int c = g * cpg + k / HW;
                    double xh = (X.get(x.offset() + base + k) - mu) * rs;
                    double gk = DO.get(dout.offset() + base + k) * (Wt == null ? 1.0 : Wt.get(w.offset() + c));
                    DX.set(dx.offset() + base + k, rs * (gk - gMean - xh * gxMean));
                }
            }
        }
        if (Wt != null) {
            Reals DW = of(dw), DB = db == null ? null : of(db);
            for (int c = 0; c < C; c++) {
                DW.set(dw.offset() + c, dwAcc[c]);
                if (db != null) {
                    DB.set(db.offset() + c, dbAcc[c]);
                }
            }
        }
    }
}
