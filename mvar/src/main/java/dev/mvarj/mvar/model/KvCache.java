package dev.mvarj.mvar.model;

import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;

/**
 * VAR's key/value cache for one attention layer: keys and values of every token generated so far,
 * (B, H, L, hd) each, filled scale by scale. MVAR needs none: each scale attends only to itself.
 */
final class KvCache {

    private final Tensor keys, values;
    private int length;

    /** An empty cache on {@code device}, room for {@code maxLength} tokens. */
    KvCache(int batch, int heads, int maxLength, int headDim, Device device) {
        keys = Tensor.zeros(device, batch, heads, maxLength, headDim);
        values = Tensor.zeros(device, batch, heads, maxLength, headDim);
    }

    /** Appends k, v (B, H, n, hd). */
    void append(Tensor k, Tensor v) {
        int n = k.size(2);
        keys.backend().copy(keys.slice(2, length, length + n), k);
        values.backend().copy(values.slice(2, length, length + n), v);
        length += n;
    }

    /** Keys so far, contiguous (B, H, length, hd). */
    Tensor keys() {
        return keys.slice(2, 0, length).contiguous();
    }

    Tensor values() {
        return values.slice(2, 0, length).contiguous();
    }

    /** Bytes held (both tensors, full capacity). */
    long bytes() {
        return keys.storage().bytes() + values.storage().bytes();
    }
}
