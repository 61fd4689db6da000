package dev.mvarj.autograd;

import dev.mvarj.tensor.Storage;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * Bytes of activations held by the recorded graph: every distinct storage that an op output of a live node points
 * to, counted once (views share their base's bytes), from recording until backward releases the node.
 *
 * <p>Unlike {@link dev.mvarj.tensor.MemoryStats}, which follows allocations and waits for the garbage collector to
 * see what became unreachable, this count is exact and deterministic: it is the activation memory a training step
 * keeps for backward, the figure MVAR's training-memory claim is about. Per thread.
 */
public final class GraphMemory {

    private static final ThreadLocal<GraphMemory> CURRENT = ThreadLocal.withInitial(GraphMemory::new);

    /**
     * Storage (by identity: Storage does not override equals) -> number of live nodes whose output uses it. Weak
     * keys, so that a graph dropped without backward does not keep its tensors alive (its bytes then stay counted:
     * run inference under {@link GradMode#off()}).
     */
    private final Map<Storage, int[]> users = new WeakHashMap<>();
    private long live, peak;

    private GraphMemory() {
    }

    static GraphMemory current() {
        return CURRENT.get();
    }

    void retain(Storage s) {
        int[] n = users.computeIfAbsent(s, k -> new int[1]);
        if (n[0]++ == 0) {
            live += s.bytes();
            peak = Math.max(peak, live);
        }
    }

    void release(Storage s) {
        int[] n = users.get(s);
        if (n != null && --n[0] == 0) {
            users.remove(s);
            live -= s.bytes();
        }
    }

    /** Bytes held by the graph of this thread now. */
    public static long liveBytes() {
        return current().live;
    }

    /** The most bytes held since the last {@link #resetPeak()}. */
    public static long peakBytes() {
        return current().peak;
    }

    /** Starts a new peak window. */
    public static void resetPeak() {
        GraphMemory g = current();
        g.peak = g.live;
    }
}
