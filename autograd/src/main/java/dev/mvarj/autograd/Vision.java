package dev.mvarj.autograd;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Resampling;
import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;

import java.util.Arrays;

import static dev.mvarj.autograd.Engine.record;

/** The bodies of F's vision ops: conv2d, nearest ×2 upsampling, AREA / BICUBIC resampling, group norm. */
final class Vision {

    private Vision() {
    }

    /**
     * System property: the most floats an im2col buffer may hold (default 4M = 16 MiB); the batch is processed in
     * groups of samples that fit, so conv2d's transient memory does not grow with the batch.
     */
    static final String COLS_BUDGET_PROPERTY = "mvarj.conv.colsBudget";

    private static int colsBudget() {
        return Integer.getInteger(COLS_BUDGET_PROPERTY, 1 << 22);
    }

    /** Floats of cols one forward GEMM streams per output row (64K = 256 KiB, about an L2 cache). */
    private static final int COLUMN_BLOCK_FLOATS = 1 << 16;

    private static Variable[] in(Variable... v) {
        return v;
    }

    // ============================================================================================ conv2d

    /** The geometry of one conv2d call. */
    private record Conv(int B, int Cin, int H, int W, int Cout, int kh, int kw, int stride,
                        int padTop, int padLeft, int OH, int OW) {

        int K() {
            return Cin * kh * kw;
        }

        int P() {
            return OH * OW;
        }

        /** A 1×1 conv with stride 1 and no padding: x itself is the cols matrix (Cin, H·W), no im2col. */
        boolean pointwise() {
            return kh == 1 && kw == 1 && stride == 1 && OH == H && OW == W && padTop == 0 && padLeft == 0;
        }

        /** Samples per im2col buffer. */
        int group() {
            return pointwise() ? B : Math.max(1, Math.min(B, colsBudget() / Math.max(1, K() * P())));
        }

        /** Output positions per forward GEMM: a multiple of 16 with K × block ≈ {@link #COLUMN_BLOCK_FLOATS}. */
        int columnBlock() {
            return Math.min(P(), Math.max(16, COLUMN_BLOCK_FLOATS / Math.max(1, K()) / 16 * 16));
        }

        void im2col(Tensor cols, Tensor x, int n) {
            cols.backend().im2col(cols, x, n, Cin, H, W, kh, kw, stride, padTop, padLeft, OH, OW);
        }
    }

    // x (B,Cin,H,W), w (Cout,Cin,kh,kw), b (Cout) -> out (B,Cout,OH,OW); per sample out = w (Cout, K) · cols (K, P) + b
    static Variable conv2d(Variable x, Variable w, Variable b, int stride,
                           int padTop, int padBottom, int padLeft, int padRight) {
        int[] xs = x.shape(), ws = w.shape();
        boolean ok = x.rank() == 4 && w.rank() == 4 && xs[1] == ws[1] && stride >= 1
                && padTop >= 0 && padBottom >= 0 && padLeft >= 0 && padRight >= 0
                && (b == null || b.rank() == 1 && b.size(0) == ws[0]);
        int OH = ok ? (xs[2] + padTop + padBottom - ws[2]) / stride + 1 : 0;
        int OW = ok ? (xs[3] + padLeft + padRight - ws[3]) / stride + 1 : 0;
        if (!ok || xs[2] + padTop + padBottom < ws[2] || xs[3] + padLeft + padRight < ws[3]) {
            throw new ShapeMismatchException("conv2d: x " + Shape.str(xs) + ", weight " + Shape.str(ws)
                    + (b == null ? "" : ", bias " + Shape.str(b.shape())) + ", stride " + stride + ", padding [top "
                    + padTop + ", bottom " + padBottom + ", left " + padLeft + ", right " + padRight
                    + "]: expected x (B, Cin, H, W), weight (Cout, Cin, kh, kw), bias (Cout), stride >= 1, padding"
                    + " >= 0 and a kernel no larger than the padded image");
        }
        Conv cv = new Conv(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], stride, padTop, padLeft, OH, OW);
        int B = cv.B, Cout = cv.Cout, K = cv.K(), P = cv.P(), group = cv.group();
        Tensor xd = x.data().contiguous(), wd = w.data().contiguous(), bd = b == null ? null : b.data().contiguous();
        Backend be = xd.backend();
        Tensor out = Tensor.zeros(xd.device(), xd.dtype(), B, Cout, OH, OW);
        if (bd != null) { // out[b] = bias ⊗ 1 (a K = 1 product), then the main product adds onto it
            Tensor ones = Tensor.zeros(xd.device(), xd.dtype(), P);
            be.fill(ones, 1f);
            be.gemm(false, false, B, Cout, P, 1, 1f, bd, 1, 0, ones, P, 0, 0f, out, P, Cout * P);
        }
        Tensor cols = cv.pointwise() ? null : Tensor.zeros(xd.device(), xd.dtype(), group, K, P);
        for (int b0 = 0; b0 < B; b0 += group) {
            int n = Math.min(group, B - b0);
            Tensor xb = xd.slice(0, b0, b0 + n), colsB;
            if (cols != null) {
                colsB = cols.slice(0, 0, n);
                cv.im2col(colsB, xb, n);
            } else {
                colsB = xb.reshape(n, K, P);
            }
            // column blocks of cols (K, pb) small enough to stay in cache while every output channel reads them
            Tensor outB = out.slice(0, b0, b0 + n).reshape(n, Cout, P);
            for (int p0 = 0; p0 < P; p0 += cv.columnBlock()) {
                int pb = Math.min(cv.columnBlock(), P - p0);
                be.gemm(false, false, n, Cout, pb, K, 1f, wd, K, 0, colsB.slice(2, p0, p0 + pb), P, K * P,
                        bd == null ? 0f : 1f, outB.slice(2, p0, p0 + pb), P, Cout * P);
            }
        }
        return record("conv2d", out, b == null ? in(x, w) : in(x, w, b),
                g -> conv2dBackward(cv, g.contiguous(), xd, wd, x.requiresGrad(), w.requiresGrad(),
                        b != null && b.requiresGrad(), b != null));
    }

    // dout (B,Cout,OH,OW) -> dx (B,Cin,H,W), dw (Cout,Cin,kh,kw), db (Cout)
    private static Tensor[] conv2dBackward(Conv cv, Tensor g, Tensor xd, Tensor wd,
                                           boolean needX, boolean needW, boolean needB, boolean hasBias) {
        int B = cv.B, Cout = cv.Cout, K = cv.K(), P = cv.P(), group = cv.group();
        Backend be = g.backend();
        Tensor dx = needX ? Tensor.zeros(xd.device(), xd.dtype(), xd.shape()) : null;
        // dwᵀ (K, Cout) = Σ_b cols_b (K, P) · doutᵀ_b (P, Cout), summed over samples in order
        Tensor dwT = needW ? Tensor.zeros(xd.device(), xd.dtype(), K, Cout) : null;
        Tensor gT = needW ? g.reshape(B, Cout, P).transpose(1, 2).contiguous() : null;
        Tensor cols = cv.pointwise() ? null : Tensor.zeros(xd.device(), xd.dtype(), group, K, P);
        for (int b0 = 0; b0 < B; b0 += group) {
            int n = Math.min(group, B - b0);
            Tensor gb = g.slice(0, b0, b0 + n);
            if (needX) { // dcols (K, P) = wᵀ (K, Cout) · dout (Cout, P); dx = col2im(dcols)
                Tensor dxb = dx.slice(0, b0, b0 + n);
                Tensor dcols = cols == null ? dxb : cols.slice(0, 0, n);
                be.gemm(true, false, n, K, P, Cout, 1f, wd, K, 0, gb, P, Cout * P, 0f, dcols, P, K * P);
                if (cols != null) {
                    be.col2im(dxb, dcols, n, cv.Cin, cv.H, cv.W, cv.kh, cv.kw, cv.stride, cv.padTop, cv.padLeft,
                            cv.OH, cv.OW);
                }
            }
            if (needW) {
                Tensor xb = xd.slice(0, b0, b0 + n), colsB = xb;
                if (cols != null) {
                    colsB = cols.slice(0, 0, n);
                    cv.im2col(colsB, xb, n);
                }
                for (int i = 0; i < n; i++) {
                    int s = b0 + i;
                    be.gemm(false, false, 1, K, Cout, P, 1f, colsB.select(0, i), P, 0, gT.select(0, s), Cout, 0,
                            s == 0 ? 0f : 1f, dwT, Cout, 0);
                }
            }
        }
        Tensor dw = needW ? dwT.transpose(0, 1).contiguous().reshape(wd.shape()) : null;
        Tensor db = needB ? g.reshape(B, Cout, P).sum(2, false).sum(0, false) : null;
        return hasBias ? new Tensor[]{dx, dw, db} : new Tensor[]{dx, dw};
    }

    // ============================================================================================ upsampling

    // x (B,C,H,W) -> out (B,C,2H,2W), out[.., i, j] = x[.., i/2, j/2]
    static Variable upsampleNearest2x(Variable x) {
        if (x.rank() != 4) {
            throw new ShapeMismatchException("upsampleNearest2x: expected x (B, C, H, W), got " + Shape.str(x.shape()));
        }
        int B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
        Tensor out = x.data().contiguous().reshape(B, C, H, 1, W, 1).expand(B, C, H, 2, W, 2).contiguous()
                .reshape(B, C, 2 * H, 2 * W);
        // dx[.., i, j] = Σ of the 2×2 block of dout it was copied to
        return record("upsample_nearest2x", out, in(x),
                g -> new Tensor[]{g.contiguous().reshape(B, C, H, 2, W, 2).sum(5, false).sum(3, false)});
    }

    // ============================================================================================ resampling

    // x (B,C,H,W) -> A_h (oh,H) · x · A_wᵀ (W,ow) per plane; dx = A_hᵀ · dout · A_w
    static Variable resample(String op, Resampling.Mode mode, Variable x, int oh, int ow) {
        if (x.rank() != 4 || oh < 1 || ow < 1) {
            throw new ShapeMismatchException(op + ": expected x (B, C, H, W) and a size >= 1, got x "
                    + Shape.str(x.shape()) + ", size [" + oh + ", " + ow + "]");
        }
        int H = x.size(2), W = x.size(3);
        Tensor out = Resampling.resize(x.data(), mode, oh, ow);
        return record(op, out, in(x), g -> new Tensor[]{Resampling.resizeBackward(g, mode, H, W)});
    }

    // ============================================================================================ group norm

    // x (B,C,H,W) -> out (B,C,H,W), normalised over groups of C/G channels × H·W
    static Variable groupNorm(Variable x, int groups, Variable w, Variable b, float eps) {
        int[] xs = x.shape();
        int C = x.rank() >= 2 ? xs[1] : -1;
        if (x.rank() < 2 || groups < 1 || C % groups != 0
                || w != null && !Arrays.equals(w.shape(), new int[]{C})
                || b != null && !Arrays.equals(b.shape(), new int[]{C}) || b != null && w == null) {
            throw new ShapeMismatchException("groupNorm: x " + Shape.str(xs) + ", " + groups + " groups, weight "
                    + (w == null ? "none" : Shape.str(w.shape())) + ", bias " + (b == null ? "none" : Shape.str(b.shape()))
                    + ": expected x (B, C, ...), C divisible by the groups, weight and bias (C) (bias only with weight)");
        }
        int B = xs[0], HW = Shape.prod(xs, 2, xs.length), G = groups;
        Tensor xd = x.data().contiguous();
        Tensor wd = w == null ? null : w.data().contiguous(), bd = b == null ? null : b.data().contiguous();
        Tensor out = Tensor.zerosLike(xd);
        Tensor mean = Tensor.zeros(xd.device(), xd.dtype(), B, G), rstd = Tensor.zeros(xd.device(), xd.dtype(), B, G);
        out.backend().groupNormForward(out, mean, rstd, xd, wd, bd, B, C, HW, G, eps);
        Variable[] inputs = w == null ? in(x) : b == null ? in(x, w) : in(x, w, b);
        return record("group_norm", out, inputs, g -> {
            Tensor dx = Tensor.zerosLike(xd);
            Tensor dw = wd == null ? null : Tensor.zeros(xd.device(), xd.dtype(), C);
            Tensor db = wd == null ? null : Tensor.zeros(xd.device(), xd.dtype(), C);
            dx.backend().groupNormBackward(dx, dw, db, g.contiguous(), xd, mean, rstd, wd, B, C, HW, G);
            return w == null ? new Tensor[]{dx} : b == null ? new Tensor[]{dx, dw} : new Tensor[]{dx, dw, db};
        });
    }
}
