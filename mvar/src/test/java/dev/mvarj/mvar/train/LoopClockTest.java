package dev.mvarj.mvar.train;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LoopClockTest {

    /** A fake clock that advances only when told. */
    private long now;

    /** One iteration: a step of {@code step} ns, {@code ckpt} ns of checkpoint, {@code rest} ns of bookkeeping. */
    private void iterate(LoopClock clock, long step, long ckpt, long rest) {
        clock.startIteration();
        clock.time(LoopClock.Phase.STEP, () -> now += step);
        clock.countFlops(5_000_000_000L);
        now += rest;
        if (ckpt > 0) {
            clock.run(LoopClock.Phase.CHECKPOINT, () -> now += ckpt);
        }
        clock.endIteration();
    }

    @Test
    void splitsSteadyStateIterationsIntoStepPhasesAndLoop() {
        LoopClock clock = new LoopClock(() -> now);
        for (int i = 0; i < LoopClock.WARM_UP; i++) {
            iterate(clock, 900_000_000L, 500_000_000L, 300_000_000L);      // compilation: not counted
        }
        assertThat(clock.steps()).isZero();
        assertThat(clock.report()).isEmpty();
        for (int i = 0; i < 10; i++) {
            iterate(clock, 100_000_000L, i % 5 == 0 ? 50_000_000L : 0, 2_000_000L);
        }
        assertThat(clock.steps()).isEqualTo(10);
        assertThat(clock.secondsPerStep(LoopClock.Phase.STEP)).isCloseTo(0.1, within(1e-12));
        assertThat(clock.secondsPerStep(LoopClock.Phase.CHECKPOINT)).isCloseTo(0.01, within(1e-12));
        assertThat(clock.secondsPerStep(LoopClock.Phase.EVALUATION)).isZero();
        assertThat(clock.loopSecondsPerStep()).isCloseTo(0.002, within(1e-12));
        assertThat(clock.secondsPerIteration()).isCloseTo(0.112, within(1e-12));
        assertThat(clock.stepGflops()).isCloseTo(50.0, within(1e-9));              // 5 GFLOP in 0.1 s, warm-up left out
        assertThat(clock.report()).isEqualTo("0.1120 s per iteration: step 0.1000 s (89.3 %, 50.0 GFLOP/s),"
                + " checkpoint 8.9 %, loop 1.8 % (steady state, 10 steps)");
    }

    @Test
    void timesAPhaseThatThrows() {
        LoopClock clock = new LoopClock(() -> now);
        for (int i = 0; i <= LoopClock.WARM_UP; i++) {
            clock.startIteration();
            try {
                clock.time(LoopClock.Phase.EVALUATION, () -> {
                    now += 7;
                    throw new java.io.IOException("disk full");
                });
            } catch (java.io.IOException expected) {
                assertThat(expected).hasMessage("disk full");
            }
            clock.endIteration();
        }
        assertThat(clock.secondsPerStep(LoopClock.Phase.EVALUATION)).isCloseTo(7e-9, within(1e-15));
    }
}
