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
            description = "MVAR: first scale with neighbourhood attention, at most the number of scales; the default"
                    + " is lowered to a shorter schedule's count (default: ${DEFAULT-VALUE})")
    int refineStep;

    @Option(names = "--kernel", defaultValue = "3",
            description = "MVAR: neighbourhood side k (default: ${DEFAULT-VALUE})")
    int kernel;

    /** Checks the options that do not depend on the data: signs, and heads dividing the width. */
    void check(Checks check) {
        check.atLeast("--depth", depth, 1).atLeast("--width", width, 1).atLeast("--heads", heads, 1)
                .atLeast("--refine-step", refineStep, 0).atLeast("--kernel", kernel, 1);
        if (width % heads != 0) {
            throw check.error("--width " + width + " is not divisible by --heads " + heads);
        }
    }

    /**
     * The config of this shape for a token set's vocabulary, code dimension, classes and schedule. A
     * {@code --refine-step} given past the schedule's last scale, or a {@code --kernel} larger than a refined scale,
     * is refused; the default refine step is lowered to the schedule's count.
     */
    TransformerConfig config(Checks check, int vocab, int codeDim, int classes, ScaleSchedule schedule,
                             float dropPath, float gateInit) {
        check(check);
        int r = refineStep;
        if (r > schedule.count()) {
            if (check.given("--refine-step")) {
                throw check.error("--refine-step " + r + " is past the last scale: the schedule " + schedule + " has "
                        + schedule.count() + " scales (0 to " + schedule.count() + " allowed)");
            }
            r = schedule.count();
        }
        for (int s = r; s < schedule.count(); s++) {
            if (schedule.side(s) < kernel) {
                throw check.error("--kernel " + kernel + " is larger than the " + schedule.side(s) + "x"
                        + schedule.side(s) + " grid of scale " + s + " (the schedule " + schedule + " refines from"
                        + " scale " + r + ", --refine-step)");
            }
        }
        return new TransformerConfig(depth, width, heads, vocab, codeDim, classes, schedule, dropPath, 0.1f, gateInit,
                r, kernel);
    }
}
