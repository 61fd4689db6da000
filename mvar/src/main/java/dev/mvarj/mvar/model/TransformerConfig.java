package dev.mvarj.mvar.model;

/**
 * The next-scale transformer's hyper-parameters
 * (docs/model.md#official-defaults-and-where-this-project-differs). VAR and MVAR share every field; MVAR
 * additionally reads {@code refineStep} and {@code kernel}.
 *
 * @param depth         number of AdaLN blocks
 * @param width         C (= condition dim D)
 * @param heads         attention heads (head dim = width / heads)
 * @param vocab         codebook size V
 * @param codeDim       Cvae, the width of the teacher-forcing input
 * @param classes       number of classes (the null class is index {@code classes})
 * @param schedule      the scale schedule
 * @param dropPath      the largest drop-path rate (the last block's), rising linearly from 0
 * @param condDrop      probability of replacing a label by the null class in training (0.1)
 * @param gateInit      alng: the initial scale of the AdaLN gates γ1, γ2 (docs/model.md#initialisation)
 * @param refineStep    MVAR: the first scale that uses neighbourhood attention (R)
 * @param kernel        MVAR: the neighbourhood side k
 */
public record TransformerConfig(int depth, int width, int heads, int vocab, int codeDim, int classes,
                                ScaleSchedule schedule, float dropPath, float condDrop, float gateInit,
                                int refineStep, int kernel) {

    public TransformerConfig {
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not divisible by heads " + heads);
        }
        if (refineStep < 0 || refineStep > schedule.count()) {
            throw new IllegalArgumentException("refine step " + refineStep + " outside [0, " + schedule.count() + "]");
        }
        for (int s = refineStep; s < schedule.count(); s++) {
            if (schedule.side(s) < kernel) {
                throw new IllegalArgumentException("neighbourhood kernel " + kernel + " is larger than the "
                        + schedule.side(s) + "x" + schedule.side(s) + " grid of scale " + s);
            }
        }
    }

    /** The default small model (docs/model.md#official-defaults-and-where-this-project-differs): depth 4, C 128, 4 heads, R = 4, k = 3. */
    public static TransformerConfig small(int vocab, int codeDim, int classes, ScaleSchedule schedule) {
        return new TransformerConfig(4, 128, 4, vocab, codeDim, classes, schedule, 0f, 0.1f, 1e-3f,
                Math.min(4, schedule.count()), 3);
    }

    public int headDim() {
        return width / heads;
    }
}
