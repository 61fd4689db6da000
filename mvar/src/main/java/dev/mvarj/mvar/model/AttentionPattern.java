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
        ScaleSchedule sch = cfg.schedule();
        long pairs = 0;
        for (int s = 0; s < sch.count(); s++) {
            long n = sch.tokens(s);
            pairs += switch (this) {
                case VAR -> n * sch.begin(s + 1);
                case MVAR -> s >= cfg.refineStep() ? n * cfg.kernel() * cfg.kernel() : n * n;
            };
        }
        return pairs;
    }
}
