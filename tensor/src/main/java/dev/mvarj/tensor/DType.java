package dev.mvarj.tensor;

/**
 * Element types. Compute is F32; indices (token ids, labels, argmax results) are I32. F64 is the reference
 * backend's: it holds and computes it (the finite-difference gradient checks run in it), the fast backends only
 * store and convert it.
 */
public enum DType {
    F32(4, "F32"),
    F64(8, "F64"),
    I32(4, "I32");

    private final int bytes;
    private final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The dtype's name in a safetensors header ("F32", "F64", "I32"). */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for the floating-point types, F32 and F64. */
    public boolean isFloating() {
        return this != I32;
    }

    /**
     * The dtype of an arithmetic result on operands of dtypes {@code a} and {@code b}, both floating: F64 if either
     * is, as PyTorch's type promotion (float32 ∘ float64 → float64).
     */
    public static DType promote(DType a, DType b) {
        return a == F64 || b == F64 ? F64 : F32;
    }
}
