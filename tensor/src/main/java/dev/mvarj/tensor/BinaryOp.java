package dev.mvarj.tensor;

/**
 * Element-wise functions of two arguments; {@link #apply(double, double)} is the scalar definition every backend must
 * match (the reference backend calls it in F32 and F64).
 */
public enum BinaryOp {
    ADD {
        @Override
        public double apply(double a, double b) {
            return a + b;
        }
    },
    SUB {
        @Override
        public double apply(double a, double b) {
            return a - b;
        }
    },
    MUL {
        @Override
        public double apply(double a, double b) {
            return a * b;
        }
    },
    DIV {
        @Override
        public double apply(double a, double b) {
            return a / b;
        }
    },
    POW {
        @Override
        public double apply(double a, double b) {
            return Math.pow(a, b);
        }
    },
    /** max(a, b); NaN if either is NaN, as torch.maximum. */
    MAX {
        @Override
        public double apply(double a, double b) {
            return Math.max(a, b);
        }
    },
    /** min(a, b); NaN if either is NaN, as torch.minimum. */
    MIN {
        @Override
        public double apply(double a, double b) {
            return Math.min(a, b);
        }
    },
    /** 1 where a > b, else 0. */
    GT {
        @Override
        public double apply(double a, double b) {
            return a > b ? 1 : 0;
        }
    },
    /** 1 where a >= b, else 0. */
    GE {
        @Override
        public double apply(double a, double b) {
            return a >= b ? 1 : 0;
        }
    },
    /** 1 where a == b, else 0. */
    EQ {
        @Override
        public double apply(double a, double b) {
            return a == b ? 1 : 0;
        }
    },
    /** GELU (tanh form) backward: a = x, b = dy -> dy · d/dx gelu(x). */
    GELU_TANH_GRAD {
        @Override
        public double apply(double a, double b) {
            double x = a, u = UnaryOp.GELU_C * (x + 0.044715 * x * x * x), t = Math.tanh(u);
            double du = UnaryOp.GELU_C * (1 + 3 * 0.044715 * x * x);
            return b * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du);
        }
    },
    /** SiLU backward: a = x, b = dy -> dy · σ(x) (1 + x (1 − σ(x))). */
    SILU_GRAD {
        @Override
        public double apply(double a, double b) {
            double s = 1.0 / (1.0 + Math.exp(-a));
            return b * s * (1 + a * (1 - s));
        }
    };

    /** The function, in double. */
    public abstract double apply(double a, double b);

    /** The function for F32 elements: computed in double and rounded once (for + − × ÷, the float result). */
    public final float apply(float a, float b) {
        return (float) apply((double) a, (double) b);
    }
}
