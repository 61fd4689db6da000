package dev.mvarj.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Reuses device buffers: a released buffer goes back to a free list of its size class and the next allocation of
 * that class takes it, so a training step's activations stop calling {@code clCreateBuffer} after the first step.
 *
 * <p>Size classes: 256 bytes, then eight steps per power of two (at most 12.5 % waste). When the driver runs out of
 * memory the idle buffers are given back and the allocation is tried once more. The one in-order queue makes reuse
 * safe: a kernel that reads a buffer is queued before any kernel that reuses it.
 */
final class BufferPool {

    static final long MIN_BYTES = 256;

    private final OpenCl cl;
    private final MemorySegment context;
    private final Map<Long, ArrayDeque<MemorySegment>> free = new HashMap<>();
    private long idleBytes;
    private long deviceBytes;
    private long peakDeviceBytes;
    private long reused;
    private long created;

    BufferPool(OpenCl cl, MemorySegment context) {
        this.cl = cl;
        this.context = context;
    }

    /** The size class of a request: the bytes the buffer really has. */
    static long sizeClass(long bytes) {
        if (bytes <= MIN_BYTES) {
            return MIN_BYTES;
        }
        long step = Long.highestOneBit(bytes - 1) / 8;
        return (bytes + step - 1) / step * step;
    }

    /** A buffer of at least {@code bytes} (its contents are undefined); {@link #give} returns it. */
    synchronized MemorySegment take(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<MemorySegment> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            idleBytes -= size;
            reused++;
            return list.pop();
        }
        MemorySegment mem;
        try {
            mem = cl.createBuffer(context, size, MemorySegment.NULL);
        } catch (OpenClException e) {
            if (idleBytes == 0) {
                throw e;
            }
            trim();
            mem = cl.createBuffer(context, size, MemorySegment.NULL);
        }
        created++;
        deviceBytes += size;
        peakDeviceBytes = Math.max(peakDeviceBytes, deviceBytes);
        return mem;
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
        return new Stats(deviceBytes, peakDeviceBytes, idleBytes, created, reused);
    }

    /**
     * @param deviceBytes     bytes of device buffers held from the driver (in use plus idle)
     * @param peakDeviceBytes the most {@code deviceBytes} has been
     * @param idleBytes       bytes of released buffers waiting for reuse
     * @param created         buffers created with clCreateBuffer
     * @param reused          allocations served from the free lists
     */
    public record Stats(long deviceBytes, long peakDeviceBytes, long idleBytes, long created, long reused) {
    }
}
