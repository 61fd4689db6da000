package dev.mvarj.nn;

/**
 * Learning-rate and weight-decay schedules of VAR's {@code lr_control.py}: a linear warm-up from {@code wp0}·peak,
 * then "lin0" (constant for 5% of the rest, then linear down to {@code wpe}·peak) or cosine down to {@code wpe}·peak;
 * weight decay follows a cosine from {@code wd} to {@code wdEnd}.
 *
 * @param kind        LIN0 or COSINE after the warm-up
 * @param peak        the peak learning rate
 * @param warmupSteps iterations of linear warm-up
 * @param totalSteps  total iterations
 * @param wp0         warm-up start, as a fraction of peak (VAR: 0.005)
 * @param wpe         final learning rate, as a fraction of peak (VAR d16: 0.1)
 */
public record Schedule(Kind kind, double peak, int warmupSteps, int totalSteps, double wp0, double wpe,
                       double wd, double wdEnd) {

    public enum Kind { LIN0, COSINE }

    public Schedule {
        if (totalSteps < 1 || warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("schedule: need 0 <= warmup (" + warmupSteps + ") <= total ("
                    + totalSteps + ") and total >= 1");
        }
    }

    /** The learning rate of iteration {@code it} (0-based). */
    public double lr(int it) {
        double f;
        if (it < warmupSteps) {
            f = wp0 + (1 - wp0) * it / warmupSteps;
        } else {
            double pasd = totalSteps - 1 - warmupSteps <= 0 ? 1 : (double) (it - warmupSteps) / (totalSteps - 1 - warmupSteps);
            pasd = Math.min(1, pasd);
            f = switch (kind) {
                case COSINE -> wpe + (1 - wpe) * (0.5 + 0.5 * Math.cos(Math.PI * pasd));
                case LIN0 -> {
                    double t = 0.05;
                    yield pasd < t ? 1 : wpe + (1 - wpe) * (1 - pasd) / (1 - t);
                }
            };
        }
        return f * peak;
    }

    /** The weight decay of iteration {@code it}: cosine from wd to wdEnd. */
    public double weightDecay(int it) {
        double pasd = totalSteps <= 1 ? 1 : Math.min(1, (double) it / (totalSteps - 1));
        return wdEnd + (wd - wdEnd) * (0.5 + 0.5 * Math.cos(Math.PI * pasd));
    }
}
