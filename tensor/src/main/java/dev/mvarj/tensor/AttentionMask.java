package dev.mvarj.tensor;

import java.util.Arrays;

/**
 * Which keys each query of an attention call may see.
 *
 * <ul>
 *   <li>{@link None}: every key (no mask).</li>
 *   <li>{@link Additive}: a bias (Lq, Lk) added to the logits, typically 0 / −inf (PyTorch's {@code attn_mask}).
 *       A row that is −inf everywhere is "fully masked": its output is 0, its lse −inf, and it has no gradient.</li>
 *   <li>{@link KeyRanges}: for each query row i a key interval [start_i, end_i). Kernels visit only the keys inside
 *       the interval, so masked key blocks cost nothing. VAR's block-causal mask and MVAR's block-diagonal mask
 *       are of this kind ({@link #blockCausal}, {@link #blockDiagonal}).</li>
 * </ul>
 *
 * Masks broadcast over batch and heads. They are built from the scale schedule, never loaded
 * (docs/model.md#masks-are-never-stored).
 */
public sealed interface AttentionMask {

    /** No mask: every query sees every key. */
    record None() implements AttentionMask {
    }

    /** An additive bias {@code (Lq, Lk)} (CPU or device tensor, contiguous F32), added to the scaled logits. */
    record Additive(Tensor bias) implements AttentionMask {
        public Additive {
            if (bias.rank() != 2 || bias.dtype() != DType.F32) {
                throw new IllegalArgumentException("additive attention mask: expected an F32 (Lq, Lk) tensor, got "
                        + bias.dtype() + " " + Shape.str(bias.shape()));
            }
            bias = bias.contiguous();
        }
    }

    /** Query i sees keys [start[i], end[i]); an empty interval is a fully masked row. */
    record KeyRanges(int[] start, int[] end) implements AttentionMask {
        public KeyRanges {
            if (start.length != end.length) {
                throw new IllegalArgumentException("key ranges: " + start.length + " starts but " + end.length
                        + " ends");
            }
            start = start.clone();
            end = end.clone();
            for (int i = 0; i < start.length; i++) {
                if (start[i] < 0 || end[i] < start[i]) {
                    throw new IllegalArgumentException("key ranges: row " + i + " has [" + start[i] + ", " + end[i]
                            + "), expected 0 <= start <= end");
                }
            }
        }

        /** The number of query rows. */
        public int rows() {
            return start.length;
        }

        /** The first key of row i. */
        public int start(int i) {
            return start[i];
        }

        /** One past the last key of row i. */
        public int end(int i) {
            return end[i];
        }

        @Override
        public int[] start() {
            return start.clone();
        }

        @Override
        public int[] end() {
            return end.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof KeyRanges r && Arrays.equals(start, r.start) && Arrays.equals(end, r.end);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(start) + Arrays.hashCode(end);
        }

        @Override
        public String toString() {
            return "KeyRanges[" + start.length + " rows]";
        }
    }

    AttentionMask NONE = new None();

    static AttentionMask none() {
        return NONE;
    }

    /** An additive (Lq, Lk) bias of 0 / −inf (or any finite bias). */
    static Additive additive(Tensor bias) {
        return new Additive(bias);
    }

    static KeyRanges keyRanges(int[] start, int[] end) {
        return new KeyRanges(start, end);
    }

    /**
     * VAR's training mask (docs/model.md#var-block-causal-attention): a token sees every token of its own and earlier scales. Scale s holds
     * {@code scaleTokenCounts[s]} tokens (e.g. 1, 4, 16, 64, 256 for patch sides 1, 2, 4, 8, 16); L = their sum.
     */
    static KeyRanges blockCausal(int... scaleTokenCounts) {
        return blocks(scaleTokenCounts, true);
    }

    /** MVAR's scale-Markov mask (docs/model.md#scale-markov-attention): a token sees exactly the tokens of its own scale. */
    static KeyRanges blockDiagonal(int... scaleTokenCounts) {
        return blocks(scaleTokenCounts, false);
    }

    private static KeyRanges blocks(int[] counts, boolean causal) {
        int L = 0;
        for (int n : counts) {
            if (n < 1) {
                throw new IllegalArgumentException("scale token counts must be positive, got " + Arrays.toString(counts));
            }
            L += n;
        }
        int[] start = new int[L], end = new int[L];
        int begin = 0;
        for (int n : counts) {
            for (int i = begin; i < begin + n; i++) {
                start[i] = causal ? 0 : begin;
                end[i] = begin + n;
            }
            begin += n;
        }
        return new KeyRanges(start, end);
    }

    /**
     * The same pattern as a dense (Lq, Lk) bias of 0 / −inf, on the CPU: the oracle form of any mask, used by tests
     * and by backends that have no key-range kernel.
     */
    default Tensor toAdditive(int Lq, int Lk) {
        return switch (this) {
            case None n -> Tensor.zeros(Lq, Lk);
            case Additive a -> {
                a.bias().requireShape("AttentionMask.toAdditive", Lq, Lk);
                yield a.bias();
            }
            case KeyRanges r -> {
                r.check(Lq, Lk);
                float[] m = new float[Lq * Lk];
                Arrays.fill(m, Float.NEGATIVE_INFINITY);
                for (int i = 0; i < Lq; i++) {
                    Arrays.fill(m, i * Lk + r.start[i], i * Lk + r.end[i], 0f);
                }
                yield Tensor.of(m, Lq, Lk);
            }
        };
    }

    /** Throws unless this mask fits an attention of Lq queries over Lk keys. */
    default void check(int Lq, int Lk) {
        switch (this) {
            case None n -> {
            }
            case Additive a -> a.bias().requireShape("attention mask", Lq, Lk);
            case KeyRanges r -> {
                if (r.start.length != Lq) {
                    throw new ShapeMismatchException("attention mask: " + r.start.length + " key ranges for " + Lq
                            + " queries");
                }
                for (int i = 0; i < Lq; i++) {
                    if (r.end[i] > Lk) {
                        throw new ShapeMismatchException("attention mask: row " + i + " ends at key " + r.end[i]
                                + " but there are " + Lk + " keys");
                    }
                }
            }
        }
    }
}
