package dev.mvarj.tensor;

/**
 * Element-wise functions of one argument. {@link #apply(double)} is the scalar definition every backend must match
 * (the reference backend calls it directly, in F32 and F64; the SIMD and GPU backends are tested against it).
 */
public enum UnaryOp {
    NEG {
        @Override
        public double apply(double x) {
            return -x;
        }
    },
    ABS {
        @Override
        public double apply(double x) {
            return Math.abs(x);
        }
    },
    SQUARE {
        @Override
        public double apply(double x) {
            return x * x;
        }
    },
    RECIPROCAL {
        @Override
        public double apply(double x) {
            return 1.0 / x;
        }
    },
    EXP {
        @Override
        public double apply(double x) {
            return Math.exp(x);
        }
    },
    LOG {
        @Override
        public double apply(double x) {
            return Math.log(x);
        }
    },
    SQRT {
        @Override
        public double apply(double x) {
            return Math.sqrt(x);
        }
    },
    TANH {
        @Override
        public double apply(double x) {
            return Math.tanh(x);
        }
    },
    /** 1 / (1 + e^-x). */
    SIGMOID {
        @Override
        public double apply(double x) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
    },
    RELU {
        @Override
        public double apply(double x) {
            return x > 0 ? x : 0;
        }
    },
    /** x · sigmoid(x). */
    SILU {
        @Override
        public double apply(double x) {
            return x / (1.0 + Math.exp(-x));
        }
    },
    /** GELU, tanh form: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), as PyTorch's approximate='tanh'. */
    GELU_TANH {
        @Override
        public double apply(double x) {
            double u = GELU_C * (x + 0.044715 * x * x * x);
            return 0.5 * x * (1.0 + Math.tanh(u));
        }
    };

    /** √(2/π), the constant of the tanh form of GELU. */
    public static final double GELU_C = Math.sqrt(2.0 / Math.PI);

    /** The function, in double. */
    public abstract double apply(double x);

    /**
     * The function for an F32 element: computed in double and rounded once, which for the exact operations (neg,
     * abs, square, reciprocal, relu) is the float operation itself.
     */
    public final float apply(float x) {
        return (float) apply((double) x);
    }
}
