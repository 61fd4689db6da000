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
    };

    public abstract float apply(float a, float b);
}
