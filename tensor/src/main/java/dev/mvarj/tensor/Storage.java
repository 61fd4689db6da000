package dev.mvarj.tensor;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A flat, device-resident buffer of {@code length} elements of one {@link DType}; tensors are views into it.
 *
 * <p>Its bytes are counted in {@link MemoryStats} from allocation until {@link #release()} (or, as a backstop, until
 * the garbage collector finds it unreachable). A {@link MemoryScope} open on the allocating thread releases it when
 * the scope closes. Backends subclass it with their own buffer type.
 */
public abstract class Storage {

    private static final Cleaner CLEANER = Cleaner.create();

    private final DType dtype;
    private final int length;
    private final Device device;
    private final Release release;

    /** Subtracts the storage's bytes exactly once, whether released explicitly or by the cleaner. */
    private record Release(Device device, long bytes, AtomicBoolean done, AtomicBoolean scoped) implements Runnable {
        /** True for the one caller that gets to release the storage. */
        boolean claim() {
            return done.compareAndSet(false, true);
        }

        void account() {
            MemoryStats.released(device, bytes);
            if (scoped.compareAndSet(true, false)) {
                MemoryStats.scopedReleased(device, bytes);
            }
        }

        @Override
        public void run() {
            if (claim()) {
                account();
            }
        }
    }

    protected Storage(DType dtype, int length, Device device) {
        if (length < 0) {
            throw new IllegalArgumentException("storage length must be >= 0, got " + length);
        }
        this.dtype = dtype;
        this.length = length;
        this.device = device;
        long bytes = (long) length * dtype.bytes();
        this.release = new Release(device, bytes, new AtomicBoolean(), new AtomicBoolean());
        MemoryStats.allocated(device, bytes);
        CLEANER.register(this, release);
        MemoryScope.track(this);
    }

    public DType dtype() {
        return dtype;
    }

    /** Number of elements. */
    public int length() {
        return length;
    }

    public Device device() {
        return device;
    }

    public long bytes() {
        return (long) length * dtype.bytes();
    }

    /** Called once by the {@link MemoryScope} that owns this storage: its bytes count as scoped too. */
    final void markScoped() {
        if (release.scoped.compareAndSet(false, true)) {
            MemoryStats.scopedAllocated(device, release.bytes());
        }
    }

    /** Called when a storage is kept out of the outermost scope: from now on it is no scope's, and not counted. */
    final void unmarkScoped() {
        if (release.scoped.compareAndSet(true, false)) {
            MemoryStats.scopedReleased(device, release.bytes());
        }
    }

    /** True once {@link #release()} ran. */
    public boolean isReleased() {
        return release.done.get();
    }

    /** Throws when the storage was released: backends call it before touching the buffer. */
    protected final void checkLive() {
        if (release.done.get()) {
            throw new IllegalStateException(dtype + " storage of " + length + " elements on " + device
                    + " was already released (by MemoryScope.close or release()); keep it in its scope");
        }
    }

    /**
     * Gives the memory back now: the storage must not be used afterwards. Backends with native buffers free them
     * in {@link #free()}. Calling it twice is harmless.
     */
    public final void release() {
        if (release.claim()) {      // exactly once, even when two threads race: a buffer must not be freed twice
            free();
            release.account();
        }
    }

    /** Frees backend resources; called once by {@link #release()}. Host storage leaves its array to the GC. */
    protected void free() {
    }
}
