package dev.mvarj.mvar.train;

import java.nio.file.Path;

/**
 * The divergence guard of the trainers: a loss or gradient norm that is NaN or infinite stops the run before
 * anything of the step is logged or checkpointed, so the last checkpoint on disk stays the last good state.
 */
public final class Divergence {

    private Divergence() {
    }

    /**
     * Throws a {@link RunException} naming the step and the first non-finite quantity.
     *
     * @param step  the step just taken (1-based)
     * @param saved the step of the last checkpoint written or resumed from, or −1 when there is none
     */
    public static void check(int step, String name1, double value1, String name2, double value2, int saved, Path checkpoint) {
        String bad = !Double.isFinite(value1) ? name1 + " is " + value1
                : !Double.isFinite(value2) ? name2 + " is " + value2 : null;
        if (bad != null) {
            throw RunException.failed("training diverged at step " + step + ": the " + bad + "; stopped, "
                    + (saved >= 0 ? "the last good checkpoint (step " + saved + ") is kept in " + checkpoint
                    : "no checkpoint had been written yet") + "; a lower --lr may help");
        }
    }
}
