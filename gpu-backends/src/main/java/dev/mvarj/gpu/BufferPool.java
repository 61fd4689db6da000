package dev.mvarj.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Reuses device buffers: a released buffer goes back to a free list of its size class and the next allocation of
 * that class takes it, so a training step's activations stop calling {@code clCreateBuffer} after the first step.
 *
 * <p>Size classes: 256 bytes, then eight steps per power of two (at most 12.5 % waste). The one in-order queue
 * makes reuse safe: a kernel that reads a buffer is queued before any kernel that reuses it.
 *
 * <p>Memory pressure. Buffers come back through {@code MemoryScope} (at once) or, for storage nobody released,
 * through the garbage collector's cleaner — and a JVM whose heap holds only small wrapper objects may not collect
 * for a long time while the device fills up. So the pool keeps its buffers under a budget (a fraction of the
 * device's global memory, {@value #BUDGET_PROPERTY}, default 0.9; GPU drivers allocate lazily and report
 * exhaustion only at kernel launch). An allocation over budget, or one the driver refuses, first gives the idle
 * buffers back, then runs {@code System.gc()} and waits for the cleaners with growing pauses (as the JDK does for
 * direct buffers), and only then tries the driver regardless, whose error is the one thrown.
 */
final class BufferPool {

    static final long MIN_BYTES = 256;

    /** System property: the share of the device's global memory the pool may hold, (0, 1]. */
    public static final String BUDGET_PROPERTY = "mvarj.opencl.memoryFraction";

    private final OpenCl cl;
    private final MemorySegment context;
    private final long budget;
    private final Map<Long, ArrayDeque<MemorySegment>> free = new HashMap<>();
    private long idleBytes;
    private long deviceBytes;
    private long peakDeviceBytes;
    private long reused;
    private long created;
    private long collections;

    /** @param budget the most bytes of device buffers the pool holds before it reclaims memory (see above) */
    BufferPool(OpenCl cl, MemorySegment context, long budget) {
        this.cl = cl;
        this.context = context;
        this.budget = budget;
    }

    /** The budget for a device: {@value #BUDGET_PROPERTY} (default 0.9) of its global memory. */
    static long budgetFor(OpenClDevice device) {
        double fraction = Double.parseDouble(System.getProperty(BUDGET_PROPERTY, "0.9"));
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("-D" + BUDGET_PROPERTY + "=" + fraction + ": expected (0, 1]");
        }
        return (long) (fraction * device.globalMemBytes());
    }

    /** The size class of a request: the bytes the buffer really has. */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_BYTES) {
            return MIN_BYTES;
        }
        long step = Long.highestOneBit(bytes - 1) / 8;
        return (bytes + step - 1) / step * step;
    }

    /**
     * A buffer of at least {@code bytes} (its contents are undefined); {@link #give} returns it. Not synchronized
     * as a whole: the wait for the garbage collector must let the cleaner thread {@link #give} buffers back.
     */
    MemorySegment take(long bytes) {
        long size = sizeClass(bytes);
        MemorySegment mem = tryTake(size);
        for (int attempt = 0; mem == null && attempt < 9; attempt++) {
            synchronized (this) {
                collections++;
            }
            System.gc();                           // unreachable storages' cleaners give their buffers back
            try {
                Thread.sleep(1L << attempt);       // 1, 2, 4, ... 256 ms: about half a second in all
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            mem = tryTake(size);
        }
        if (mem == null) {
            synchronized (this) {                  // over budget even after collecting: let the driver decide
                trim();
                mem = cl.createBuffer(context, size, MemorySegment.NULL);
                account(size);
            }
        }
        return mem;
    }

    /** A free buffer of the class, or a new one within budget, or null. */
    private synchronized MemorySegment tryTake(long size) {
        ArrayDeque<MemorySegment> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            idleBytes -= size;
            reused++;
            return list.pop();
        }
        if (deviceBytes + size > budget) {
            trim();
            if (deviceBytes + size > budget) {
                return null;
            }
        }
        MemorySegment mem;
        try {
            mem = cl.createBuffer(context, size, MemorySegment.NULL);
        } catch (OpenClException e) {
            if (idleBytes == 0) {
                return null;
            }
            trim();
            try {
                mem = cl.createBuffer(context, size, MemorySegment.NULL);
            } catch (OpenClException again) {
                return null;
            }
        }
        account(size);
        return mem;
    }

    private void account(long size) {
        created++;
        deviceBytes += size;
        peakDeviceBytes = Math.max(peakDeviceBytes, deviceBytes);
    }

    /** Puts a buffer of {@code bytes} (as asked for in {@link #take}) back on its free list. */
    synchronized void give(MemorySegment mem, long bytes) {
        long size = sizeClass(bytes);
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(mem);
        idleBytes += size;
    }

    /** Releases every idle buffer to the driver. */
    synchronized void trim() {
        for (var e : free.entrySet()) {
            for (MemorySegment mem : e.getValue()) {
                cl.releaseMem(mem);
                deviceBytes -= e.getKey();
            }
        }
        free.clear();
        idleBytes = 0;
    }

    /** A snapshot of the pool's counters. */
    synchronized Stats stats() {
        return new Stats(deviceBytes, peakDeviceBytes, idleBytes, created, reused, collections);
    }

    /**
     * @param deviceBytes     bytes of device buffers held from the driver (in use plus idle)
     * @param peakDeviceBytes the most {@code deviceBytes} has been
     * @param idleBytes       bytes of released buffers waiting for reuse
     * @param created         buffers created with clCreateBuffer
     * @param reused          allocations served from the free lists
     * @param collections     garbage collections the pool asked for under memory pressure
     */
    public record Stats(long deviceBytes, long peakDeviceBytes, long idleBytes, long created, long reused,
                        long collections) {
    }
}
