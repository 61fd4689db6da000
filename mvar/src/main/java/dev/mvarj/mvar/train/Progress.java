package dev.mvarj.mvar.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A console progress line: step, loss, throughput and ETA. On a terminal it redraws one line; when the output is
 * redirected it prints a line every {@code every} steps (and the last one).
 */
public final class Progress {

    private final String label;
    private final int total;
    private final int every;
    private final PrintStream out;
    private final boolean terminal;
    private final int first;
    private final long start = System.nanoTime();

    public Progress(String label, int total, int every, PrintStream out) {
        this(label, total, every, out, 0);
    }

    /** @param first the step a resumed run starts from (throughput and ETA count only the steps run here) */
    public Progress(String label, int total, int every, PrintStream out, int first) {
        this.first = first;
        this.label = label;
        this.total = total;
        this.every = Math.max(1, every);
        this.out = out;
        this.terminal = System.console() != null && out == System.out;
    }

    /**
     * Reports step {@code step} (1-based) with its named values, e.g. {@code update(10, 64, "loss", 2.31, "acc", 0.4)}.
     *
     * @param samples samples processed per step, for the throughput
     */
    public void update(int step, int samples, Object... keyValues) {
        if (!terminal && step % every != 0 && step != total) {
            return;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double perStep = seconds / Math.max(1, step - first);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s %" + Integer.toString(total).length() + "d/%d", label, step, total));
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            Object v = keyValues[i + 1];
            sb.append(' ').append(keyValues[i]).append(' ')
                    .append(v instanceof Double || v instanceof Float ? String.format(Locale.ROOT, "%.4f", ((Number) v).doubleValue()) : v);
        }
        sb.append(String.format(Locale.ROOT, " | %.1f samples/s | %s elapsed, ETA %s", samples / perStep,
                clock(seconds), clock(perStep * (total - step))));
        if (terminal) {
            out.print("\r" + sb + "\u001B[K" + (step == total ? "\n" : ""));
        } else {
            out.println(sb);
        }
        out.flush();
    }

    /** "1m05s". */
    public static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
