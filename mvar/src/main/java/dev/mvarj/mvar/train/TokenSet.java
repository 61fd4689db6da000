package dev.mvarj.mvar.train;

import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.random.Rng;
import dev.mvarj.tensor.Tensor;

/**
 * A tokenised data set in memory, as the transformer trains on it
 * (docs/model.md#teacher-forcing-from-the-cumulative-reconstruction): for each image its index sequence
 * (L), its teacher-forcing input (L − n[0], Cvae) and its label, for the image and for its horizontal flip.
 *
 * @param indices      N · L targets
 * @param teacher      N · (L − n[0]) · Cvae inputs
 * @param flipIndices  the same for the flipped images (or null when the cache has no flips)
 */
public record TokenSet(int n, int length, int inputLength, int codeDim, int[] labels, int[] indices, float[] teacher,
                       int[] flipIndices, float[] flipTeacher, int classes) {

    public TokenSet {
        if (labels.length != n || indices.length != (long) n * length
                || teacher.length != (long) n * inputLength * codeDim) {
            throw new IllegalArgumentException("token set: arrays do not match n = " + n + ", L = " + length
                    + ", input length " + inputLength + ", code dim " + codeDim);
        }
    }

    /** The token cache written by the tokenizer ({@code ./mvarj tokenizer cache}), in memory. */
    public static TokenSet of(dev.mvarj.mvar.vq.TokenCache.Data d) {
        var p = d.plain();
        int n = d.size(), L = d.schedule().length(), in = L - d.schedule().tokens(0);
        var f = d.flipped();
        return new TokenSet(n, L, in, d.codeDim(), p.labels().toIntArray(), p.indices().toIntArray(),
                p.teacherForcing().toFloatArray(), f == null ? null : f.indices().toIntArray(),
                f == null ? null : f.teacherForcing().toFloatArray(), d.classes());
    }

    /**
     * n images of uniformly random indices, normal teacher-forcing inputs and labels for {@code cfg}: what memory
     * measurements and benchmarks train on (neither depends on the values).
     */
    public static TokenSet random(TransformerConfig cfg, int n, long seed) {
        int L = cfg.schedule().length(), in = L - cfg.schedule().tokens(0);
        Rng r = new Rng(seed);
        int[] labels = new int[n], idx = new int[n * L];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(cfg.classes());
        }
        for (int i = 0; i < idx.length; i++) {
            idx[i] = r.nextInt(cfg.vocab());
        }
        return new TokenSet(n, L, in, cfg.codeDim(), labels, idx, r.normalArray(n * in * cfg.codeDim(), 0, 1), null,
                null, cfg.classes());
    }

    public boolean hasFlips() {
        return flipIndices != null;
    }

    /** One batch: labels (B) I32, targets (B, L) I32, teacher-forcing input (B, L − n[0], Cvae). */
    public record Batch(Tensor labels, Tensor targets, Tensor inputs) {

        /** The batch on {@code device} (itself when already there). */
        public Batch to(Device device) {
            return new Batch(labels.to(device), targets.to(device), inputs.to(device));
        }
    }

    /** Rows {@code idx}, each from the flipped copy where {@code flip[i]}. */
    public Batch batch(int[] idx, boolean[] flip) {
        int B = idx.length, per = inputLength * codeDim;
        int[] lab = new int[B], tgt = new int[B * length];
        float[] in = new float[B * per];
        for (int i = 0; i < B; i++) {
            boolean f = flip != null && flip[i] && hasFlips();
            lab[i] = labels[idx[i]];
            System.arraycopy(f ? flipIndices : indices, idx[i] * length, tgt, i * length, length);
            System.arraycopy(f ? flipTeacher : teacher, idx[i] * per, in, i * per, per);
        }
        return new Batch(Tensor.ofInts(lab, B), Tensor.ofInts(tgt, B, length), Tensor.of(in, B, inputLength, codeDim));
    }
}
