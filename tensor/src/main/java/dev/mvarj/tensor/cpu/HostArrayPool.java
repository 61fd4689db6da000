package dev.mvarj.tensor.cpu;

import org.eclipse.collections.impl.map.mutable.primitive.IntObjectHashMap;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Large float arrays of released CPU storage, kept for reuse by exact length (a training step allocates the same
 * shapes every time). A new large array costs the JVM more than clearing an old one: {@code new float[5.6M]} (22 MB,
 * a G1 humongous object) took ≈ 1.2 ms here against 0.4 ms for {@code Arrays.fill} of a reused one, and ten times
 * that while the heap still grows (fresh pages). Only storage released explicitly ({@code Storage.release}, a closing
 * {@code MemoryScope}, the gradients and temporaries that backward releases) comes back; storage the GC collects
 * does not. A reused array is zero-filled, as every allocation is.
 *
 * <p>Bounded: at most {@code mvarj.hostPool.bytes} bytes are held (default a quarter of the maximum heap; 0 turns
 * the pool off); arrays shorter than {@link #MIN_LENGTH} are left to the allocator, which is fast for them.
 */
public final class HostArrayPool {

    /** Arrays shorter than this (256 KB) are not pooled. */
    static final int MIN_LENGTH = 1 << 16;

    private static volatile long capacityBytes = Long.getLong("mvarj.hostPool.bytes",
            Runtime.getRuntime().maxMemory() / 4);

    private static final IntObjectHashMap<ArrayDeque<float[]>> FREE = new IntObjectHashMap<>();
    private static long heldBytes;

    private HostArrayPool() {
    }

    /** A zero-filled float array of length n: a pooled one when there is one, else a new one. */
    static float[] floats(int n) {
        if (n >= MIN_LENGTH) {
            float[] a = null;
            synchronized (FREE) {
                ArrayDeque<float[]> q = FREE.get(n);
                if (q != null && !q.isEmpty()) {
                    a = q.pollLast();
                    heldBytes -= 4L * n;
                }
            }
            if (a != null) {
                Arrays.fill(a, 0f);
                return a;
            }
        }
        return new float[n];
    }

    /** Takes back the array of a released storage (nothing can reach it through that storage any more). */
    static void recycle(float[] a) {
        if (a.length < MIN_LENGTH) {
            return;
        }
        synchronized (FREE) {
            if (heldBytes + 4L * a.length > capacityBytes) {
                return;                                     // full: the GC takes it
            }
            FREE.getIfAbsentPut(a.length, ArrayDeque::new).addLast(a);
            heldBytes += 4L * a.length;
        }
    }

    /** Bytes held for reuse now. */
    public static long heldBytes() {
        synchronized (FREE) {
            return heldBytes;
        }
    }

    /** Sets the bound (0 turns pooling off) and drops what no longer fits; returns the previous bound. */
    public static long setCapacityBytes(long bytes) {
        synchronized (FREE) {
            long previous = capacityBytes;
            capacityBytes = Math.max(0, bytes);
            if (heldBytes > capacityBytes) {
                FREE.clear();
                heldBytes = 0;
            }
            return previous;
        }
    }
}
