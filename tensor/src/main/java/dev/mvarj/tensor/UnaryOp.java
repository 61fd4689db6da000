package dev.mvarj.tensor;

/**
 * Element-wise functions of one argument. {@link #apply} is the scalar definition every backend must match
 * (the reference backend calls it directly; the SIMD and GPU backends are tested against it).
 */
public enum UnaryOp {
    NEG {
        @Override
        public float apply(float x) {
            return -x;
        }
    },
    ABS {
        @Override
        public float apply(float x) {
            return Math.abs(x);
        }
    },
    SQUARE {
        @Override
        public float apply(float x) {
            return x * x;
        }
    },
    RECIPROCAL {
        @Override
        public float apply(float x) {
            return 1f / x;
        }
    },
    EXP {
        @Override
        public float apply(float x) {
            return (float) Math.exp(x);
        }
    },
    LOG {
        @Override
        public float apply(float x) {
            return (float) Math.log(x);
        }
    },
    SQRT {
        @Override
        public float apply(float x) {
            return (float) Math.sqrt(x);
        }
    },
    TANH {
        @Override
        public float apply(float x) {
            return (float) Math.tanh(x);
        }
    },
    /** 1 / (1 + e^-x). */
    SIGMOID {
        @Override
        public float apply(float x) {
            return (float) (1.0 / (1.0 + Math.exp(-x)));
        }
    },
    RELU {
        @Override
        public float apply(float x) {
            return x > 0f ? x : 0f;
        }
    },
    /** x · sigmoid(x). */
    SILU {
        @Override
        public float apply(float x) {
            return (float) (x / (1.0 + Math.exp(-x)));
        }
    },
    /** GELU, tanh form: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), as PyTorch's approximate='tanh'. */
    GELU_TANH {
        @Override
        public float apply(float x) {
            double u = GELU_C * (x + 0.044715 * x * x * x);
            return (float) (0.5 * x * (1.0 + Math.tanh(u)));
        }
    };

    /** √(2/π), the constant of the tanh form of GELU. */
    public static final double GELU_C = Math.sqrt(2.0 / Math.PI);

    /** The function, in float, computed in double where that is the definition. */
    public abstract float apply(float x);
}
