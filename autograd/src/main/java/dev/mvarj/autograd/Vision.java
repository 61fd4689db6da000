package dev.mvarj.autograd;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.ConvGeometry;
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

    private static Variable[] in(Variable... v) {
        return v;
    }

    // ============================================================================================ conv2d

    // x (B,Cin,H,W), w (Cout,Cin,kh,kw), b (Cout) -> out (B,Cout,OH,OW); the kernels are Backend.conv2d*
    static Variable conv2d(Variable x, Variable w, Variable b, int stride,
                           int padTop, int padBottom, int padLeft, int padRight) {
        int[] xs = x.shape(), ws = w.shape();
        boolean ok = x.rank() == 4 && w.rank() == 4 && xs[1] == ws[1] && stride >= 1
                && padTop >= 0 && padBottom >= 0 && padLeft >= 0 && padRight >= 0
                && (b == null || b.rank() == 1 && b.size(0) == ws[0])
                && xs[2] + padTop + padBottom >= ws[2] && xs[3] + padLeft + padRight >= ws[3];
        if (!ok) {
            throw new ShapeMismatchException("conv2d: x " + Shape.str(xs) + ", weight " + Shape.str(ws)
                    + (b == null ? "" : ", bias " + Shape.str(b.shape())) + ", stride " + stride + ", padding [top "
                    + padTop + ", bottom " + padBottom + ", left " + padLeft + ", right " + padRight
                    + "]: expected x (B, Cin, H, W), weight (Cout, Cin, kh, kw), bias (Cout), stride >= 1, padding"
                    + " >= 0 and a kernel no larger than the padded image");
        }
        ConvGeometry g = new ConvGeometry(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], stride,
                padTop, padBottom, padLeft, padRight);
        Tensor xd = x.data().contiguous(), wd = w.data().contiguous(), bd = b == null ? null : b.data().contiguous();
        Backend be = xd.backend();
        Tensor out = Tensor.empty(xd.device(), xd.dtype(), g.B(), g.Cout(), g.OH(), g.OW());  // each conv kernel writes
        be.conv2d(out, xd, wd, bd, g);
        boolean needX = x.requiresGrad(), needW = w.requiresGrad(), needB = b != null && b.requiresGrad();
        return record("conv2d", out, b == null ? in(x, w) : in(x, w, b), gr -> {
            // dout (B,Cout,OH,OW) -> dx (B,Cin,H,W), dw (Cout,Cin,kh,kw), db (Cout)
            Tensor dout = gr.contiguous();
            Tensor dx = null, dw = null;
            if (needX) {
                dx = Tensor.empty(xd.device(), xd.dtype(), xd.shape());
                be.conv2dInputGrad(dx, dout, wd, g);
            }
            if (needW) {
                dw = Tensor.empty(wd.device(), wd.dtype(), wd.shape());
                be.conv2dWeightGrad(dw, dout, xd, g);
            }
            Tensor db = needB ? dout.reshape(g.B(), g.Cout(), g.P()).sum(2, false).sum(0, false) : null;
            return b == null ? new Tensor[]{dx, dw} : new Tensor[]{dx, dw, db};
        });
    }

    // ============================================================================================ upsampling

    // x (B,C,H,W) -> out (B,C,2H,2W), out[.., i, j] = x[.., i/2, j/2]
    static Variable upsampleNearest2x(Variable x) {
        if (x.rank() != 4) {
            throw new ShapeMismatchException("upsampleNearest2x: expected x (B, C, H, W), got " + Shape.str(x.shape()));
        }
        int B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
        Tensor xd = x.data().contiguous();
        Tensor out = Tensor.zeros(xd.device(), xd.dtype(), B, C, 2 * H, 2 * W);
        xd.backend().upsampleNearest2x(out, xd, B, C, H, W);
        // dx[.., i, j] = Σ of the 2×2 block of dout it was copied to
        return record("upsample_nearest2x", out, in(x), g -> {
            Tensor dx = Tensor.zeros(g.device(), g.dtype(), B, C, H, W);
            g.backend().upsampleNearest2xBackward(dx, g.contiguous(), B, C, H, W);
            return new Tensor[]{dx};
        });
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
