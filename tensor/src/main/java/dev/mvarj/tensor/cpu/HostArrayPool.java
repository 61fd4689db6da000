package dev.mvarj.tensor.cpu;

import org.eclipse.collections.impl.map.mutable.primitive.IntObjectHashMap;

import java.lang.ref.SoftReference;
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
 * the pool off); when an array does not fit, the oldest held arrays of other lengths make room (sizes that stop
 * recurring, say a sampler's changing scales, leave); arrays shorter than {@link #MIN_LENGTH} are left to the
 * allocator, which is fast for them. Arrays are held through soft references, so the GC empties the pool before
 * it would throw OutOfMemoryError: a run that fits without the pool fits with it.
 */
public final class HostArrayPool {

    /** Arrays shorter than this (256 KB) are not pooled. */
    static final int MIN_LENGTH = 1 << 16;

    private static volatile long capacityBytes = Long.getLong("mvarj.hostPool.bytes",
            Runtime.getRuntime().maxMemory() / 4);

    /** Held arrays by length, oldest first; a reference the GC cleared still counts until it is seen. */
    private static final IntObjectHashMap<ArrayDeque<SoftReference<float[]>>> FREE = new IntObjectHashMap<>();
    private static long heldBytes;

    private HostArrayPool() {
    }

    /** A zero-filled float array of length n: a pooled one when there is one, else a new one. */
    static float[] floats(int n) {
        return floats(n, true);
    }

    /**
     * A float array of length n: a pooled one when there is one (zero-filled only when {@code zeroed}: otherwise it
     * holds what its last storage left, for a caller that writes every element), else a new one (zero).
     */
    static float[] floats(int n, boolean zeroed) {
        if (n >= MIN_LENGTH) {
            float[] a = null;
            synchronized (FREE) {
                ArrayDeque<SoftReference<float[]>> q = FREE.get(n);
                while (a == null && q != null && !q.isEmpty()) {
                    a = q.pollLast().get();                 // the most recent: likeliest still in cache
                    heldBytes -= 4L * n;
                }
            }
            if (a != null) {
                if (zeroed) {
                    Arrays.fill(a, 0f);
                }
                return a;
            }
        }
        return new float[n];
    }

    /** Takes back the array of a released storage (nothing can reach it through that storage any more). */
    static void recycle(float[] a) {
        long bytes = 4L * a.length;
        if (a.length < MIN_LENGTH || bytes > capacityBytes) {
            return;
        }
        synchronized (FREE) {
            if (heldBytes + bytes > capacityBytes) {
                evictOthers(a.length, heldBytes + bytes - capacityBytes);
            }
            if (heldBytes + bytes > capacityBytes) {
                return;                                     // full of this length: the GC takes it
            }
            FREE.getIfAbsentPut(a.length, ArrayDeque::new).addLast(new SoftReference<>(a));
            heldBytes += bytes;
        }
    }

    /** Drops the oldest held arrays of lengths other than {@code keep} until {@code bytes} are freed (or none is left). */
    private static void evictOthers(int keep, long bytes) {
        long freed = 0;
        for (boolean progress = true; freed < bytes && progress; ) {
            progress = false;
            for (int length : FREE.keySet().toArray()) {
                ArrayDeque<SoftReference<float[]>> q = FREE.get(length);
                if (length == keep || q.isEmpty()) {
                    continue;
                }
                q.pollFirst();
                heldBytes -= 4L * length;
                freed += 4L * length;
                progress = true;
                if (q.isEmpty()) {
                    FREE.remove(length);
                }
                if (freed >= bytes) {
                    break;
                }
            }
        }
    }

    /** Bytes held for reuse now (arrays the GC has cleared count until the pool next looks at their length). */
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
