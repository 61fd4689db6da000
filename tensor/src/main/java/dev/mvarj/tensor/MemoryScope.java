package dev.mvarj.tensor;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Deterministic lifetimes for the storage a piece of work allocates (docs/architecture.md#memory): every {@link Storage} created on
 * this thread while a scope is open belongs to it, and {@link #close()} releases all of them except those handed
 * on with {@link #keep}. A training step and each block of a sampling pass run in one, so device buffers go back
 * to the pool at once instead of when the garbage collector notices, and {@link MemoryStats}' live and peak bytes
 * are exact rather than GC-lagged.
 *
 * <pre>{@code
 * try (MemoryScope scope = MemoryScope.open()) {
 *     Tensor h = block(x);        // temporaries and h belong to the scope
 *     return scope.keep(h);       // h survives (into the enclosing scope, if any); the rest is released
 * }
 * }</pre>
 *
 * Scopes nest per thread. Using a released storage is an error ({@code IllegalStateException}) on every backend,
 * so a forgotten {@code keep} fails loudly. Caches that outlive any scope (resampling matrices) allocate inside
 * {@link #untracked}.
 *
 * <p>An {@link #open()} scope holds its storage strongly until it closes: right for short sub-steps (a block of a
 * sampling pass), where it makes {@link MemoryStats#scopedPeakBytes} deterministic. A long step whose temporaries
 * die along the way (a training step: backward drops each saved tensor after use) opens a {@link #openWeak()}
 * scope instead, which does not keep anything alive: the garbage collector may take storage early, and close()
 * releases whatever is still reachable.
 */
public final class MemoryScope implements AutoCloseable {

    private static final ThreadLocal<MemoryScope> CURRENT = new ThreadLocal<>();

    private final MemoryScope parent;
    private final Thread owner;
    private final boolean weak;
    /** Storage, or WeakReference of Storage in a weak scope. */
    private final List<Object> owned = new ArrayList<>();
    private boolean closed;

    private MemoryScope(MemoryScope parent, boolean weak) {
        this.parent = parent;
        this.owner = Thread.currentThread();
        this.weak = weak;
    }

    /** Opens a scope on this thread, nested in the current one if any; it holds its storage until it closes. */
    public static MemoryScope open() {
        return push(false);
    }

    /** Opens a scope that releases at close what is still reachable, without keeping anything alive itself. */
    public static MemoryScope openWeak() {
        return push(true);
    }

    private static MemoryScope push(boolean weak) {
        MemoryScope s = new MemoryScope(CURRENT.get(), weak);
        CURRENT.set(s);
        return s;
    }

    /** Called by every new {@link Storage}. */
    static void track(Storage s) {
        MemoryScope scope = CURRENT.get();
        if (scope != null) {
            scope.add(s);
            if (!scope.weak) {
                s.markScoped();     // weak scopes do not count: the GC decides when their storage goes
            }
        }
    }

    private void add(Storage s) {
        owned.add(weak ? new WeakReference<>(s) : s);
    }

    private static Storage storage(Object entry) {
        return entry instanceof WeakReference<?> w ? (Storage) w.get() : (Storage) entry;
    }

    /** Runs {@code work} with no scope: what it allocates lives until the garbage collector takes it (caches). */
    public static <T> T untracked(Supplier<T> work) {
        MemoryScope saved = CURRENT.get();
        CURRENT.remove();
        try {
            return work.get();
        } finally {
            CURRENT.set(saved);
        }
    }

    /**
     * Hands {@code t}'s storage over to the enclosing scope (or to no scope, leaving it to the GC, and then the
     * scoped counters of {@link MemoryStats} stop counting it) so that {@link #close()} does not release it.
     * Returns {@code t}.
     */
    public Tensor keep(Tensor t) {
        Storage s = t.storage();
        for (int i = owned.size() - 1; i >= 0; i--) {
            if (storage(owned.get(i)) == s) {
                owned.remove(i);
                if (parent != null) {
                    parent.add(s);
                }
                if (parent == null || parent.weak) {
                    s.unmarkScoped();       // out of every counted scope: the scoped counters stop counting it
                }
                break;
            }
        }
        return t;
    }

    /** True when {@code t}'s storage was allocated in this scope and not kept. */
    public boolean owns(Tensor t) {
        Storage s = t.storage();
        for (int i = owned.size() - 1; i >= 0; i--) {
            if (storage(owned.get(i)) == s) {
                return true;
            }
        }
        return false;
    }

    /** Number of storages the scope would release now. */
    public int size() {
        return owned.size();
    }

    /** Releases every storage allocated in the scope and not kept; reopens the enclosing scope. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner || CURRENT.get() != this) {
            throw new IllegalStateException("MemoryScope closed out of order or on another thread");
        }
        closed = true;
        CURRENT.set(parent);
        for (Object entry : owned) {
            Storage s = storage(entry);
            if (s != null) {
                s.release();
            }
        }
        owned.clear();
    }
}
