package dev.mvarj.autograd;

import dev.mvarj.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Wall time per op, forward and backward, in the spirit of {@code torch.autograd.profiler}: on this thread, between
 * {@link #start()} and {@link #close()}, every recorded op is charged the time since the previous op was recorded
 * (its forward kernels and the glue that prepared them), and every backward node the time of its backward function;
 * adding up gradients that meet at one node is charged to "accumulate_grad". Each op waits for its device
 * ({@code Backend.synchronize()}), so device kernels are charged to the op that queued them. Where the backend
 * measures device time ({@code Backend.drainDeviceNanos()}: an OpenCL backend with its profiling queue, see
 * docs/gpu.md#diagnostics), each op is also charged the device time of its kernels, and the table gains a
 * "device ms" column. Ops run under {@link GradMode#off()} are not seen. One profiler per thread at a time.
 * <pre>{@code
 * try (OpProfiler p = OpProfiler.start()) {
 *     model.forward(x).backward(g);
 *     System.out.print(p.table());
 * }}</pre>
 */
public final class OpProfiler implements AutoCloseable {

    private static final ThreadLocal<OpProfiler> ACTIVE = new ThreadLocal<>();

    /** Calls and nanoseconds of one op in one direction. */
    private static final class Entry {
        long calls, nanos, deviceNanos;
    }

    private final Map<String, Entry> forward = new LinkedHashMap<>(), backward = new LinkedHashMap<>();
    private long last = System.nanoTime();
    private boolean deviceTimes;

    private OpProfiler() {
    }

    /** Starts profiling on this thread; closing the profiler stops it. */
    public static OpProfiler start() {
        if (ACTIVE.get() != null) {
            throw new IllegalStateException("OpProfiler: a profiler is already running on this thread");
        }
        OpProfiler p = new OpProfiler();
        ACTIVE.set(p);
        return p;
    }

    /** The profiler running on this thread, or null. */
    static OpProfiler active() {
        return ACTIVE.get();
    }

    /** Charges {@code op}'s forward with the time since the previous recorded op (or since start). */
    void forward(String op, Tensor out) {
        out.backend().synchronize();
        long now = System.nanoTime();
        charge(forward, op, now - last, out.backend().drainDeviceNanos());
        last = now;
    }

    /** Charges {@code op}'s backward with the time since {@code since}; restarts the forward clock. */
    void backward(String op, Tensor anyOutput, long since) {
        long device = -1;
        if (anyOutput != null) {
            anyOutput.backend().synchronize();
            device = anyOutput.backend().drainDeviceNanos();
        }
        long now = System.nanoTime();
        charge(backward, op, now - since, device);
        last = now;
    }

    /** {@code deviceNanos} −1: the backend does not measure device time. */
    private void charge(Map<String, Entry> table, String op, long nanos, long deviceNanos) {
        Entry e = table.computeIfAbsent(op, k -> new Entry());
        e.calls++;
        e.nanos += nanos;
        if (deviceNanos >= 0) {
            e.deviceNanos += deviceNanos;
            deviceTimes = true;
        }
    }

    /** Total milliseconds charged to {@code op} in the forward ({@code backward} false) or backward direction. */
    public double millis(String op, boolean backward) {
        Entry e = (backward ? this.backward : forward).get(op);
        return e == null ? 0 : e.nanos / 1e6;
    }

    /**
     * Device milliseconds charged to {@code op} in one direction (0 where the backend measures no device time).
     */
    public double deviceMillis(String op, boolean backward) {
        Entry e = (backward ? this.backward : forward).get(op);
        return e == null ? 0 : e.deviceNanos / 1e6;
    }

    /**
     * One line per op and direction, the most expensive first, with calls, milliseconds and share of the total;
     * with a "device ms" column when the backend measured device time.
     */
    public String table() {
        record Row(String op, String dir, Entry e) {
        }
        List<Row> rows = new ArrayList<>();
        forward.forEach((op, e) -> rows.add(new Row(op, "forward", e)));
        backward.forEach((op, e) -> rows.add(new Row(op, "backward", e)));
        rows.sort((a, b) -> Long.compare(b.e.nanos, a.e.nanos));
        long total = rows.stream().mapToLong(r -> r.e.nanos).sum();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-24s %-9s %7s %10s %6s%s%n",
                "op", "direction", "calls", "ms", "%", deviceTimes ? String.format("%12s", "device ms") : ""));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-24s %-9s %7d %10.2f %6.1f%s%n", r.op, r.dir, r.e.calls,
                    r.e.nanos / 1e6, 100.0 * r.e.nanos / Math.max(1, total),
                    deviceTimes ? String.format(Locale.ROOT, "%12.3f", r.e.deviceNanos / 1e6) : ""));
        }
        long device = rows.stream().mapToLong(r -> r.e.deviceNanos).sum();
        sb.append(String.format(Locale.ROOT, "%-24s %-9s %7s %10.2f %6s%s%n", "total", "", "", total / 1e6, "",
                deviceTimes ? String.format(Locale.ROOT, "%12.3f", device / 1e6) : ""));
        return sb.toString();
    }

    @Override
    public void close() {
        ACTIVE.remove();
    }
}
