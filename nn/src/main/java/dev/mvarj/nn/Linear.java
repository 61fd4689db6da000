package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.random.Rng;

/** x (..., in) -> x · Wᵀ + b (..., out); weight (out, in), bias (out). PyTorch's default initialisation. */
public final class Linear extends Module implements Layer {

    public final Variable weight;
    public final Variable bias;

    public Linear(int in, int out, boolean bias, Rng rng) {
        this.weight = param("weight", Init.pytorchDefault(rng, in, out, in));
        this.bias = bias ? param("bias", Init.pytorchDefault(rng, in, out)) : null;
    }

    @Override
    public Variable forward(Variable x) {
        return F.linear(x, weight, bias);
    }
}
