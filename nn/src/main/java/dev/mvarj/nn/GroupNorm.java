package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Tensor;

/** Group norm over (B, C, H, W) with {@code groups} groups; weight 1 and bias 0 to start. */
public final class GroupNorm extends Module implements Layer {

    public final Variable weight;
    public final Variable bias;
    private final int groups;
    private final float eps;

    public GroupNorm(int groups, int channels, float eps) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException("group norm: " + channels + " channels are not divisible into "
                    + groups + " groups");
        }
        this.groups = groups;
        this.eps = eps;
        this.weight = param("weight", Tensor.ones(channels));
        this.bias = param("bias", Tensor.zeros(channels));
    }

    @Override
    public Variable forward(Variable x) {
        return F.groupNorm(x, groups, weight, bias, eps);
    }
}
