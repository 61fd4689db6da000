package dev.mvarj.gpu;

import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Storage;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/**
 * Device storage: a {@code cl_mem} buffer from the backend's {@link BufferPool}. Its bytes are counted under the
 * device {@code opencl:N} by {@link Storage}; {@link #free()} (through {@code release()}) hands the buffer back to
 * the pool, and so does the garbage collector for a storage that was dropped without being released.
 */
public final class OpenClStorage extends Storage {

    private static final Cleaner CLEANER = Cleaner.create();

    private final OpenClBackend backend;
    private final MemorySegment mem;
    private final Cleaner.Cleanable returnToPool;

    /** Gives the buffer back exactly once; holds no reference to the storage, so the storage can be collected. */
    private record ReturnToPool(BufferPool pool, MemorySegment mem, long bytes) implements Runnable {
        @Override
        public void run() {
            pool.give(mem, bytes);
        }
    }

    OpenClStorage(OpenClBackend backend, BufferPool pool, DType dtype, int length, Device device) {
        super(dtype, length, device);
        this.backend = backend;
        long bytes = Math.max(1, (long) length * dtype.bytes());
        this.mem = pool.take(bytes);
        this.returnToPool = CLEANER.register(this, new ReturnToPool(pool, mem, bytes));
    }

    /** The {@code cl_mem} handle. */
    MemorySegment mem() {
        return mem;
    }

    OpenClBackend backend() {
        return backend;
    }

    @Override
    protected void free() {
        returnToPool.clean();
    }
}
