package dev.mvarj.mvar.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Where a training loop's wall time goes: the optimiser step itself (what {@code TrainingStepBenchmark} and
 * {@code TokenizerStepBenchmark} time), the work a run schedules around it (evaluations and their pictures,
 * checkpoints), and the rest: the loop's own bookkeeping (progress, metrics, dead-code guard, divergence checks).
 * A run whose "loop" share is more than a few per cent spends time on something that is not arithmetic
 * (docs/results.md#engine-speed-the-training-loop-around-the-step).
 *
 * <p>The first {@link #WARM_UP} steps are left out of the step figures, as a benchmark's warm-up is: they include the
 * JIT's compilation.
 */
public final class LoopClock {

    /** Steps not counted (compilation, first allocations of the pools). */
    public static final int WARM_UP = 5;

    /** What a loop spends its time on. */
    public enum Phase { STEP, EVALUATION, CHECKPOINT }

    private final long[] nanos = new long[Phase.values().length];
    private final LongSupplier ticker;
    private long begin, loopNanos, flops;
    private int steps, seen;

    /** A clock on {@link System#nanoTime()}. */
    public LoopClock() {
        this(System::nanoTime);
    }

    /** A clock reading {@code ticker} (nanoseconds; tests pass a fake one). */
    public LoopClock(LongSupplier ticker) {
        this.ticker = ticker;
    }

    /** Marks the start of a loop iteration (call before the step). */
    public void startIteration() {
        begin = ticker.getAsLong();
    }

    /** Marks the end of a loop iteration; the iterations before {@link #WARM_UP} are forgotten. */
    public void endIteration() {
        seen++;
        if (seen <= WARM_UP) {
            Arrays.fill(nanos, 0L);
            loopNanos = 0;
            flops = 0;
            return;
        }
        steps++;
        loopNanos += ticker.getAsLong() - begin;
    }

    /** Runs {@code work} and adds its time to {@code phase}. */
    public <T, X extends Exception> T time(Phase phase, Work<T, X> work) throws X {
        long t = ticker.getAsLong();
        try {
            return work.run();
        } finally {
            nanos[phase.ordinal()] += ticker.getAsLong() - t;
        }
    }

    /** Adds the floating-point operations of this iteration's step (for the step's GFLOP/s in {@link #report}). */
    public void countFlops(long stepFlops) {
        flops += stepFlops;
    }

    /** The step's achieved rate, GFLOP/s over the counted iterations; NaN when no FLOPs were counted. */
    public double stepGflops() {
        double seconds = secondsPerStep(Phase.STEP) * steps;
        return flops == 0 || steps == 0 ? Double.NaN : flops / seconds / 1e9;
    }

    /** Runs {@code work}, which returns nothing (a checkpoint, an evaluation), and adds its time to {@code phase}. */
    public <X extends Exception> void run(Phase phase, Action<X> work) throws X {
        time(phase, () -> {
            work.run();
            return null;
        });
    }

    /** A piece of a loop iteration with no result, possibly throwing. */
    @FunctionalInterface
    public interface Action<X extends Exception> {
        void run() throws X;
    }

    /** A piece of a loop iteration, possibly throwing (checkpoints write files). */
    @FunctionalInterface
    public interface Work<T, X extends Exception> {
        T run() throws X;
    }

    /** The counted iterations (after the warm-up). */
    public int steps() {
        return steps;
    }

    /** Seconds per counted iteration spent in {@code phase}. */
    public double secondsPerStep(Phase phase) {
        return steps == 0 ? Double.NaN : nanos[phase.ordinal()] / 1e9 / steps;
    }

    /** Seconds per counted iteration in all. */
    public double secondsPerIteration() {
        return steps == 0 ? Double.NaN : loopNanos / 1e9 / steps;
    }

    /** Seconds per counted iteration outside every phase: the loop's own overhead. */
    public double loopSecondsPerStep() {
        long phases = 0;
        for (long n : nanos) {
            phases += n;
        }
        return steps == 0 ? Double.NaN : (loopNanos - phases) / 1e9 / steps;
    }

    /**
     * One line, e.g. "0.412 s per iteration: step 0.405 s (98.3 %, 52.0 GFLOP/s), evaluation 1.2 %, checkpoint
     * 0.3 %, loop 0.2 % (steady state, 95 steps)"; empty when no step was counted.
     */
    public String report() {
        if (steps == 0) {
            return "";
        }
        double all = secondsPerIteration();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%.4f s per iteration: step %.4f s (%.1f %%",
                all, secondsPerStep(Phase.STEP), 100 * secondsPerStep(Phase.STEP) / all));
        sb.append(flops > 0 ? String.format(Locale.ROOT, ", %.1f GFLOP/s)", stepGflops()) : ")");
        for (Phase p : new Phase[]{Phase.EVALUATION, Phase.CHECKPOINT}) {
            if (nanos[p.ordinal()] > 0) {
                sb.append(String.format(Locale.ROOT, ", %s %.1f %%", p.name().toLowerCase(Locale.ROOT),
                        100 * secondsPerStep(p) / all));
            }
        }
        return sb.append(String.format(Locale.ROOT, ", loop %.1f %% (steady state, %d steps)",
                100 * loopSecondsPerStep() / all, steps)).toString();
    }
}
