package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.random.Rng;

/**
 * 2-D convolution, x (B, Cin, H, W) -> (B, Cout, OH, OW); weight (Cout, Cin, k, k), bias (Cout). Padding may be
 * asymmetric (top, bottom, left, right), as the VQ-VAE's stride-2 downsample (0, 1, 0, 1). PyTorch's default init.
 */
public final class Conv2d extends Module implements Layer {

    public final Variable weight;
    public final Variable bias;
    private final int stride, padTop, padBottom, padLeft, padRight;

    /** A k×k convolution with symmetric padding {@code pad}. */
    public Conv2d(int in, int out, int k, int stride, int pad, boolean bias, Rng rng) {
        this(in, out, k, stride, pad, pad, pad, pad, bias, rng);
    }

    public Conv2d(int in, int out, int k, int stride, int padTop, int padBottom, int padLeft, int padRight,
                  boolean bias, Rng rng) {
        int fanIn = in * k * k;
        this.weight = param("weight", Init.pytorchDefault(rng, fanIn, out, in, k, k));
        this.bias = bias ? param("bias", Init.pytorchDefault(rng, fanIn, out)) : null;
        this.stride = stride;
        this.padTop = padTop;
        this.padBottom = padBottom;
        this.padLeft = padLeft;
        this.padRight = padRight;
    }

    @Override
    public Variable forward(Variable x) {
        return F.conv2d(x, weight, bias, stride, padTop, padBottom, padLeft, padRight);
    }
}
