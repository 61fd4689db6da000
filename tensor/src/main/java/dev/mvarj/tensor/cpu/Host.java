package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;

/** Array access and strided iteration shared by the CPU backends. */
public final class Host {

    private Host() {
    }

    /** The float array behind a CPU tensor (index it from {@code t.offset()}). */
    public static float[] f(Tensor t) {
        if (!(t.storage() instanceof HostStorage h)) {
            throw new IllegalArgumentException("expected a CPU tensor, got one on " + t.device());
        }
        return h.floats();
    }

    /** The double array behind an F64 CPU tensor. */
    public static double[] d(Tensor t) {
        if (!(t.storage() instanceof HostStorage h)) {
            throw new IllegalArgumentException("expected a CPU tensor, got one on " + t.device());
        }
        return h.doubles();
    }

    /** The int array behind a CPU tensor. */
    public static int[] i(Tensor t) {
        if (!(t.storage() instanceof HostStorage h)) {
            throw new IllegalArgumentException("expected a CPU tensor, got one on " + t.device());
        }
        return h.ints();
    }

    /** Throws unless {@code t} is contiguous; kernels call it on the tensors they read flat. */
    public static Tensor contiguous(String kernel, Tensor t) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(kernel + ": expected a contiguous tensor, got shape "
                    + Shape.str(t.shape()) + " strides " + Shape.str(t.strides()));
        }
        return t;
    }

    /**
     * The storage offset of every element of {@code t} in row-major order, written into {@code out[from..from+n)}
     * for the elements {@code [start, start+n)}. Used by the general (strided, broadcast) paths.
     */
    public static void offsets(Tensor t, int start, int n, int[] out) {
        if (n == 0) {
            return;
        }
        int[] shape = t.shape(), strides = t.strides();
        int rank = shape.length;
        int[] idx = new int[rank];
        int rem = start, off = t.offset();
        for (int d = rank - 1; d >= 0; d--) {
            idx[d] = rem % shape[d];
            rem /= shape[d];
            off += idx[d] * strides[d];
        }
        for (int k = 0; k < n; k++) {
            out[k] = off;
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) {
                    off += strides[d];
                    break;
                }
                off -= (shape[d] - 1) * strides[d];
                idx[d] = 0;
            }
        }
    }

    /** {@code idx} if 0 <= idx < n; otherwise an IndexOutOfBoundsException naming the kernel, the index and n. */
    public static int checkIndex(String kernel, int idx, int n) {
        if (idx < 0 || idx >= n) {
            throw new IndexOutOfBoundsException(kernel + ": index " + idx + " out of range [0, " + n + ")");
        }
        return idx;
    }
}
