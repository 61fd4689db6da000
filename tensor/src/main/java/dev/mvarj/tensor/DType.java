package dev.mvarj.tensor;

/** Element types. Compute is F32; indices (token ids, labels, argmax results) are I32. */
public enum DType {
    F32(4, "F32"),
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

    /** The dtype's name in a safetensors header ("F32", "I32"). */
    public String safetensorsName() {
        return safetensorsName;
    }
}
