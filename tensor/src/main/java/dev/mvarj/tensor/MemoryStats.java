package dev.mvarj.tensor;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live and peak bytes of tensor storage, per device.
 *
 * <p>Every {@link Storage} adds its size here when it is allocated and subtracts it when it is released
 * (explicitly, or by the garbage collector as a backstop). MVAR's claim is about memory, so these counters are a
 * feature: training and sampling report them. {@link #resetPeak(Device)} starts a new measurement window.
 */
public final class MemoryStats {

    private static final ConcurrentHashMap<Device, Counter> COUNTERS = new ConcurrentHashMap<>();

    private MemoryStats() {
    }

    private static final ConcurrentHashMap<Device, Counter> SCOPED = new ConcurrentHashMap<>();

    private static final class Counter {
        final AtomicLong live = new AtomicLong();
        final AtomicLong peak = new AtomicLong();

        void add(long bytes) {
            long now = live.addAndGet(bytes);
            peak.accumulateAndGet(now, Math::max);
        }
    }

    private static Counter counter(Device device) {
        return COUNTERS.computeIfAbsent(device, d -> new Counter());
    }

    private static Counter scoped(Device device) {
        return SCOPED.computeIfAbsent(device, d -> new Counter());
    }

    static void allocated(Device device, long bytes) {
        counter(device).add(bytes);
    }

    static void released(Device device, long bytes) {
        counter(device).live.addAndGet(-bytes);
    }

    static void scopedAllocated(Device device, long bytes) {
        scoped(device).add(bytes);
    }

    static void scopedReleased(Device device, long bytes) {
        scoped(device).live.addAndGet(-bytes);
    }

    /**
     * Bytes of storage owned by open (strong) {@link MemoryScope}s. Work that runs wholly in such scopes (a sampling
     * pass) releases its storage deterministically, so this counter — unlike {@link #liveBytes}, which also holds
     * garbage the collector has not reached yet — is exact for it.
     */
    public static long scopedLiveBytes(Device device) {
        return scoped(device).live.get();
    }

    /** The highest {@link #scopedLiveBytes} since the last {@link #resetScopedPeak}. */
    public static long scopedPeakBytes(Device device) {
        return scoped(device).peak.get();
    }

    /** Starts a new window for {@link #scopedPeakBytes} at the current scoped live size. */
    public static void resetScopedPeak(Device device) {
        Counter c = scoped(device);
        c.peak.set(c.live.get());
    }

    /** Bytes of storage currently allocated on the device. */
    public static long liveBytes(Device device) {
        return counter(device).live.get();
    }

    /** The highest {@link #liveBytes} seen since the last {@link #resetPeak}. */
    public static long peakBytes(Device device) {
        return counter(device).peak.get();
    }

    /** Starts a new peak window at the current live size. */
    public static void resetPeak(Device device) {
        Counter c = counter(device);
        c.peak.set(c.live.get());
    }
}
