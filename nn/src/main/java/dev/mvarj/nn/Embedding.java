package dev.mvarj.nn;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

/** A table of {@code count} vectors of width {@code dim}: index (any shape, I32) -> (index shape..., dim). N(0, 1) init. */
public final class Embedding extends Module {

    public final Variable weight;

    public Embedding(int count, int dim, Rng rng) {
        this.weight = param("weight", rng.normal(0f, 1f, count, dim));
    }

    public Variable forward(Tensor index) {
        return F.embedding(weight, index);
    }
}
