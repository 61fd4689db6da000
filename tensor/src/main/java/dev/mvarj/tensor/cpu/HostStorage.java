package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Storage;

/**
 * CPU storage: a Java array, {@code float[]} for F32, {@code double[]} for F64 or {@code int[]} for I32. Shared by
 * both CPU backends.
 */
public final class HostStorage extends Storage {

    private final float[] floats;
    private final double[] doubles;
    private final int[] ints;

    /**
     * Storage of {@code length} elements, zero-filled when {@code zeroed}; otherwise an F32 array recycled by the
     * {@link HostArrayPool} keeps what it held (new arrays are zero anyway).
     */
    public HostStorage(DType dtype, int length, boolean zeroed) {
        super(dtype, length, Device.CPU);
        this.floats = dtype == DType.F32 ? HostArrayPool.floats(length, zeroed) : null;
        this.doubles = dtype == DType.F64 ? new double[length] : null;
        this.ints = dtype == DType.I32 ? new int[length] : null;
    }

    /** A released storage hands its float array to the {@link HostArrayPool}. */
    @Override
    protected void free() {
        if (floats != null) {
            HostArrayPool.recycle(floats);
        }
    }

    /** The backing array of an F32 storage. */
    public float[] floats() {
        checkLive();
        if (floats == null) {
            throw new IllegalStateException(dtype() == DType.F64
                    ? "storage holds F64 but this kernel computes F32: F64 is computed by the reference backend only"
                    + " (Backends.useCpu(new ReferenceBackend())), or convert with to(DType.F32)"
                    : "storage holds " + dtype() + ", not F32");
        }
        return floats;
    }

    /** The backing array of an F64 storage. */
    public double[] doubles() {
        checkLive();
        if (doubles == null) {
            throw new IllegalStateException("storage holds " + dtype() + ", not F64");
        }
        return doubles;
    }

    /** The backing array of an I32 storage. */
    public int[] ints() {
        checkLive();
        if (ints == null) {
            throw new IllegalStateException("storage holds " + dtype() + ", not I32");
        }
        return ints;
    }
}
