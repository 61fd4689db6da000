package dev.mvarj.tensor;

/** Reductions over one axis. The reference backend accumulates sums in double; fast backends in float lanes. */
public enum ReduceOp {
    SUM,
    MEAN,
    MAX
}
