package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Storage;

/** CPU storage: a Java array, {@code float[]} for F32 or {@code int[]} for I32. Shared by both CPU backends. */
public final class HostStorage extends Storage {

    private final float[] floats;
    private final int[] ints;

    public HostStorage(DType dtype, int length) {
        super(dtype, length, Device.CPU);
        this.floats = dtype == DType.F32 ? new float[length] : null;
        this.ints = dtype == DType.I32 ? new int[length] : null;
    }

    /** The backing array of an F32 storage. */
    public float[] floats() {
        checkLive();
        if (floats == null) {
            throw new IllegalStateException("storage holds " + dtype() + ", not F32");
        }
        return floats;
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
