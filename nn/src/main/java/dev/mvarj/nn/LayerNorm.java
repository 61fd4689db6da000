package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Tensor;

/** Layer norm over the last axis (width {@code dim}); with {@code affine}, weight 1 and bias 0 to start. */
public final class LayerNorm extends Module implements Layer {

    public final Variable weight;
    public final Variable bias;
    private final float eps;

    public LayerNorm(int dim, float eps, boolean affine) {
        this.eps = eps;
        this.weight = affine ? param("weight", Tensor.ones(dim)) : null;
        this.bias = affine ? param("bias", Tensor.zeros(dim)) : null;
    }

    @Override
    public Variable forward(Variable x) {
        return F.layerNorm(x, weight, bias, eps);
    }
}
