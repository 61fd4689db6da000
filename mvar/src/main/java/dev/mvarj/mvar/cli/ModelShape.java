package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.model.TransformerConfig;
import picocli.CommandLine.Option;

/** The transformer's shape options, shared by {@code train} and {@code memory} (a picocli mixin). */
final class ModelShape {

    @Option(names = "--depth", defaultValue = "4", description = "blocks (default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--width", defaultValue = "128", description = "width C (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--heads", defaultValue = "4", description = "attention heads (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--refine-step", defaultValue = "4",
            description = "MVAR: first scale with neighbourhood attention (default: ${DEFAULT-VALUE})")
    int refineStep;

    @Option(names = "--kernel", defaultValue = "3",
            description = "MVAR: neighbourhood side k (default: ${DEFAULT-VALUE})")
    int kernel;

    /** The config of this shape for a token set's vocabulary, code dimension, classes and schedule. */
    TransformerConfig config(int vocab, int codeDim, int classes, ScaleSchedule schedule, float dropPath,
                             float gateInit) {
        return new TransformerConfig(depth, width, heads, vocab, codeDim, classes, schedule, dropPath, 0.1f, gateInit,
                Math.min(refineStep, schedule.count()), kernel);
    }
}
