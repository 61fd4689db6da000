package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.random.Rng;

/** Stochastic depth: drops whole samples of a residual branch with probability p while training (timm's DropPath). */
public final class DropPath extends Module implements Layer {

    private final float p;
    private final Rng rng;

    public DropPath(float p, Rng rng) {
        if (p < 0f || p >= 1f) {
            throw new IllegalArgumentException("drop-path probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.rng = rng;
    }

    public float p() {
        return p;
    }

    @Override
    public Variable forward(Variable x) {
        return F.dropPath(x, p, rng, isTraining(), batchShard());
    }
}
