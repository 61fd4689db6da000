package dev.mvarj.tensor;

/**
 * The geometry of one 2-D convolution (cross-correlation, as PyTorch's {@code conv2d}):
 * {@code x (B, Cin, H, W) ⋆ w (Cout, Cin, kh, kw) -> out (B, Cout, OH, OW)} with
 * {@code out[b, co, oh, ow] = Σ_{ci, i, j} w[co, ci, i, j] · x[b, ci, oh·stride − padTop + i, ow·stride − padLeft + j]},
 * x taken as 0 outside the image. Padding may be asymmetric (the VQ-VAE's downsample pads right and bottom only).
 */
public record ConvGeometry(int B, int Cin, int H, int W, int Cout, int kh, int kw, int stride,
                           int padTop, int padBottom, int padLeft, int padRight) {

    public ConvGeometry {
        if (B < 0 || Cin < 1 || H < 1 || W < 1 || Cout < 1 || kh < 1 || kw < 1 || stride < 1
                || padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0
                || H + padTop + padBottom < kh || W + padLeft + padRight < kw) {
            throw new IllegalArgumentException("conv2d geometry: x (" + B + ", " + Cin + ", " + H + ", " + W
                    + "), weight (" + Cout + ", " + Cin + ", " + kh + ", " + kw + "), stride " + stride
                    + ", padding [top " + padTop + ", bottom " + padBottom + ", left " + padLeft + ", right "
                    + padRight + "]: sizes >= 1, stride >= 1, padding >= 0 and a kernel no larger than the padded image");
        }
    }

    /** Output rows. */
    public int OH() {
        return (H + padTop + padBottom - kh) / stride + 1;
    }

    /** Output columns. */
    public int OW() {
        return (W + padLeft + padRight - kw) / stride + 1;
    }

    /** Rows of the im2col matrix: Cin·kh·kw. */
    public int K() {
        return Cin * kh * kw;
    }

    /** Output positions per sample: OH·OW. */
    public int P() {
        return OH() * OW();
    }

    /** A 1×1 conv with stride 1 and no padding: x itself is the im2col matrix (Cin, H·W). */
    public boolean pointwise() {
        return kh == 1 && kw == 1 && stride == 1 && padTop == 0 && padBottom == 0 && padLeft == 0 && padRight == 0;
    }

    /** Multiply-adds × 2 of the forward (the backward's dx and dw are the same count each). */
    public long flops() {
        return 2L * B * Cout * P() * K();
    }
}
