package dev.mvarj.mvar.model;

import dev.mvarj.tensor.AttentionMask;

/**
 * Which tokens attend to which: the only difference between VAR and MVAR inside the transformer
 * (docs/model.md#next-scale-prediction).
 *
 * <ul>
 *   <li>VAR: block-causal over all scales (docs/model.md#var-block-causal-attention): a token sees its own and every earlier scale.</li>
 *   <li>MVAR: each scale attends only to itself (docs/model.md#scale-markov-attention); from {@code refineStep} on, each token sees
 *       only the k×k neighbourhood clamped inside its grid
 *       (docs/model.md#spatial-markov-neighbourhood-attention).</li>
 * </ul>
 * Masks are always rebuilt from the schedule, never loaded from a checkpoint.
 */
public enum AttentionPattern {
    VAR, MVAR;

    /** How a forward pass over scales [from, to) attends: a dense call with a mask, or neighbourhood attention. */
    public record Plan(AttentionMask mask, int grid, int kernel) {
        public boolean neighbourhood() {
            return grid > 0;
        }
    }

    /** The plan for a training forward over scales [from, to). */
    public Plan plan(TransformerConfig cfg, int from, int to) {
        ScaleSchedule sch = cfg.schedule();
        if (this == VAR) {
            if (from != 0) {
                throw new IllegalArgumentException("VAR trains on whole sequences (scales from 0), got from = " + from);
            }
            return new Plan(AttentionMask.blockCausal(sch.tokenCounts(0, to)), 0, 0);
        }
        if (to - from == 1 && from >= cfg.refineStep()) {
            return new Plan(null, sch.side(from), cfg.kernel());
        }
        if (to > cfg.refineStep() && to - from > 1) {
            throw new IllegalArgumentException("MVAR: scales from refine step " + cfg.refineStep()
                    + " on use neighbourhood attention and must run one at a time, got [" + from + ", " + to + ")");
        }
        return new Plan(to - from == 1 ? AttentionMask.none() : AttentionMask.blockDiagonal(sch.tokenCounts(from, to)),
                0, 0);
    }

    /**
     * How scale s attends while sampling, in words for a reader watching a sample (docs/editing.md#the-page):
     * "block-causal, 36 queries × 66 keys (KV cache)" for VAR, "scale-Markov, 9 queries × 9 keys" or "3×3
     * neighbourhood, 36 queries × 9 keys" for MVAR (keys per query for the neighbourhood).
     */
    public String describe(TransformerConfig cfg, int s) {
        ScaleSchedule sch = cfg.schedule();
        int n = sch.tokens(s);
        if (this == VAR) {
            return "block-causal, " + n + " queries × " + sch.begin(s + 1) + " keys (KV cache)";
        }
        if (s >= cfg.refineStep()) {
            int k = cfg.kernel();
            return k + "×" + k + " neighbourhood, " + n + " queries × " + k * k + " keys";
        }
        return "scale-Markov, " + n + " queries × " + n + " keys";
    }

    /** Query-key pairs per image that a full forward computes (docs/model.md#attention-cost). */
    public long attentionPairs(TransformerConfig cfg) {
        return attentionPairs(cfg, 0, cfg.schedule().count());
    }

    /** Query-key pairs per image of a training forward over scales [from, to) (a group of {@link #plan}). */
    long attentionPairs(TransformerConfig cfg, int from, int to) {
        ScaleSchedule sch = cfg.schedule();
        long pairs = 0;
        for (int s = from; s < to; s++) {
            long n = sch.tokens(s);
            pairs += switch (this) {
                case VAR -> n * sch.begin(s + 1);
                case MVAR -> s >= cfg.refineStep() ? n * cfg.kernel() * cfg.kernel() : n * n;
            };
        }
        return pairs;
    }

    /**
     * Floating-point operations (two per multiply-add) of one image's training forward over scales [from, to): the
     * matrix products only (docs/results.md#engine-speed-where-a-transformer-training-step-goes). Per block, the
     * qkv, output and FFN projections of every token (12·C² multiply-adds), the AdaLN projection of the class
     * (6·C² per image) and the attention products q·kᵀ and p·v (2·C per query-key pair, over all heads); then the
     * head (C·V per token, 2·C² for its AdaLN) and the word embedding (Cvae·C per token but the start tokens).
     * Element-wise work (norms, GELU, softmax, modulation) is not counted. Backward costs twice the products of the
     * forward, so an optimiser step is about three times this.
     */
    public long forwardFlops(TransformerConfig cfg, int from, int to) {
        ScaleSchedule sch = cfg.schedule();
        long C = cfg.width(), tokens = sch.tokens(from, to);
        long words = from == 0 ? tokens - sch.tokens(0) : tokens;
        long perBlock = 12 * C * C * tokens + 6 * C * C + 2 * C * attentionPairs(cfg, from, to);
        long macs = cfg.depth() * perBlock + C * cfg.vocab() * tokens + 2 * C * C + cfg.codeDim() * C * words;
        return 2 * macs;
    }
}
