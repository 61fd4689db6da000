package dev.mvarj.autograd;

import java.util.Map;
import java.util.function.BiFunction;

/** How each fixture op name maps onto the Java op set, with its tolerances. One registry class per op family. */
interface FixtureOps {

    /**
     * A Java op under test: builds the output from the named inputs (leaves for differentiable ones, constants
     * otherwise) and the fixture's params.
     *
     * @param atol, rtol   tolerances against PyTorch (computed in float64) for outputs and gradients
     */
    record Spec(BiFunction<Map<String, Variable>, Fixture, Variable> fn, double atol, double rtol) {
    }

    void register(Map<String, Spec> ops);
}
