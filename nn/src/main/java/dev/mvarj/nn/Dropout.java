package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.random.Rng;

/** Element-wise dropout with probability p while training; the identity in eval mode. */
public final class Dropout extends Module implements Layer {

    private final float p;
    private final Rng rng;

    public Dropout(float p, Rng rng) {
        if (p < 0f || p >= 1f) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.rng = rng;
    }

    @Override
    public Variable forward(Variable x) {
        return F.dropout(x, p, rng, isTraining(), batchShard());
    }
}
