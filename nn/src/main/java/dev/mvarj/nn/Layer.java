package dev.mvarj.nn;

import dev.mvarj.autograd.Variable;

/** A module with one input and one output, so that it can be chained in a {@link Sequential}. */
public interface Layer {

    Variable forward(Variable x);
}
