package dev.mvarj.tensor;

import java.util.Arrays;

/** Static helpers for shapes ({@code int[]} sizes, outermost first) and row-major strides. */
public final class Shape {

    private Shape() {
    }

    /** The number of elements; 1 for a scalar (empty shape). Throws on a negative size or on overflow. */
    public static int numel(int... shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("negative size in shape " + str(shape));
            }
            n *= s;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31-1 elements");
            }
        }
        return (int) n;
    }

    /** Row-major strides of a contiguous tensor of this shape. */
    public static int[] contiguousStrides(int... shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = s;
            s *= shape[d];
        }
        return strides;
    }

    /** The product of {@code shape[from..to)}. */
    public static int prod(int[] shape, int from, int to) {
        int p = 1;
        for (int d = from; d < to; d++) {
            p *= shape[d];
        }
        return p;
    }

    /**
     * NumPy broadcasting: shapes are aligned at their last axis; sizes must be equal or one of them 1.
     *
     * @throws ShapeMismatchException naming the op and both shapes
     */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i < n - a.length ? 1 : a[i - (n - a.length)];
            int db = i < n - b.length ? 1 : b[i - (n - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new ShapeMismatchException(op + ": shapes " + str(a) + " and " + str(b)
                        + " cannot be broadcast (axis " + (i - n) + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Normalises a possibly negative axis (-1 = last) against {@code rank}; {@code extra} allows rank + extra. */
    public static int axis(String op, int axis, int rank, int extra) {
        int r = rank + extra;
        int a = axis < 0 ? axis + r : axis;
        if (a < 0 || a >= r) {
            throw new IllegalArgumentException(op + ": axis " + axis + " out of range for rank " + rank);
        }
        return a;
    }

    /** "[2, 3, 4]". */
    public static String str(int... shape) {
        return Arrays.toString(shape);
    }
}
