package dev.mvarj.tensor;

/** Element-wise functions of two arguments; {@link #apply} is the scalar definition every backend must match. */
public enum BinaryOp {
    ADD {
        @Override
        public float apply(float a, float b) {
            return a + b;
        }
    },
    SUB {
        @Override
        public float apply(float a, float b) {
            return a - b;
        }
    },
    MUL {
        @Override
        public float apply(float a, float b) {
            return a * b;
        }
    },
    DIV {
        @Override
        public float apply(float a, float b) {
            return a / b;
        }
    },
    POW {
        @Override
        public float apply(float a, float b) {
            return (float) Math.pow(a, b);
        }
    },
    /** max(a, b); NaN if either is NaN, as torch.maximum. */
    MAX {
        @Override
        public float apply(float a, float b) {
            return Math.max(a, b);
        }
    },
    /** min(a, b); NaN if either is NaN, as torch.minimum. */
    MIN {
        @Override
        public float apply(float a, float b) {
            return Math.min(a, b);
        }
    },
    /** 1 where a > b, else 0. */
    GT {
        @Override
        public float apply(float a, float b) {
            return a > b ? 1f : 0f;
        }
    },
    /** 1 where a >= b, else 0. */
    GE {
        @Override
        public float apply(float a, float b) {
            return a >= b ? 1f : 0f;
        }
    },
    /** 1 where a == b, else 0. */
    EQ {
        @Override
        public float apply(float a, float b) {
            return a == b ? 1f : 0f;
        }
    },
    /** GELU (tanh form) backward: a = x, b = dy -> dy · d/dx gelu(x). */
    GELU_TANH_GRAD {
        @Override
        public float apply(float a, float b) {
            double x = a, u = UnaryOp.GELU_C * (x + 0.044715 * x * x * x), t = Math.tanh(u);
            double du = UnaryOp.GELU_C * (1 + 3 * 0.044715 * x * x);
            return (float) (b * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du));
        }
    },
    /** SiLU backward: a = x, b = dy -> dy · σ(x) (1 + x (1 − σ(x))). */
    SILU_GRAD {
        @Override
        public float apply(float a, float b) {
            double s = 1.0 / (1.0 + Math.exp(-a));
            return (float) (b * s * (1 + a * (1 - s)));
        }
    };

    public abstract float apply(float a, float b);
}
