package dev.mvarj.mvar.model;

import dev.mvarj.tensor.Tensor;

/**
 * What the sampler needs from the tokenizer (docs/model.md#sampling): adding a sampled scale to the running reconstruction,
 * and resampling that reconstruction to the next scale's grid as the next input.
 */
public interface ScaleQuantizer {

    ScaleSchedule schedule();

    /** Cvae. */
    int codeDim();

    /** fhat (B, Cvae, h, w) += φ_{m(s)}(up(E[indices])), indices (B, n[s]) I32 row-major over the pn[s] grid. */
    void addScale(Tensor fhat, Tensor indices, int s);

    /** The input of scale s + 1: AREA(fhat, pn[s+1]) flattened row-major, (B, n[s+1], Cvae). */
    Tensor nextInput(Tensor fhat, int s);
}
