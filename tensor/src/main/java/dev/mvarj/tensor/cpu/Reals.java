package dev.mvarj.tensor.cpu;

import dev.mvarj.tensor.Tensor;

/**
 * The elements of a floating-point CPU tensor's storage, read and written as doubles whatever the dtype: the
 * reference kernels go through it so that one loop defines a kernel for F32 and F64 alike. A store into F32 rounds
 * once; for +, −, ×, ÷ and √ of F32 operands that equals the F32 operation (double has more than 2·24 + 2 bits).
 * Indices are storage indices, counted from the start of the storage (add {@code t.offset()}).
 */
abstract sealed class Reals permits Reals.Floats, Reals.Doubles {

    abstract double get(int i);

    abstract void set(int i, double v);

    /** v rounded to the dtype, as a store and a load would round it (for sums whose partial results are stored). */
    abstract double round(double v);

    /** {@code this[i] += v}, rounded once to the dtype. */
    final void add(int i, double v) {
        set(i, get(i) + v);
    }

    /** {@code this[from..to) = v}. */
    final void fill(int from, int to, double v) {
        for (int i = from; i < to; i++) {
            set(i, v);
        }
    }

    /** The storage of an F32 or F64 CPU tensor. */
    static Reals of(Tensor t) {
        if (!(t.storage() instanceof HostStorage h)) {
            throw new IllegalArgumentException("expected a CPU tensor, got one on " + t.device());
        }
        return switch (t.dtype()) {
            case F32 -> new Floats(h.floats());
            case F64 -> new Doubles(h.doubles());
            case I32 -> throw new IllegalArgumentException("expected a floating-point tensor, got I32 of shape "
                    + dev.mvarj.tensor.Shape.str(t.shape()));
        };
    }

    static final class Floats extends Reals {
        private final float[] a;

        Floats(float[] a) {
            this.a = a;
        }

        @Override
        double get(int i) {
            return a[i];
        }

        @Override
        void set(int i, double v) {
            a[i] = (float) v;
        }

        @Override
        double round(double v) {
            return (float) v;
        }
    }

    static final class Doubles extends Reals {
        private final double[] a;

        Doubles(double[] a) {
            this.a = a;
        }

        @Override
        double get(int i) {
            return a[i];
        }

        @Override
        void set(int i, double v) {
            a[i] = v;
        }

        @Override
        double round(double v) {
            return v;
        }
    }
}
