package dev.mvarj.mvar.model;

import dev.mvarj.tensor.Tensor;

import java.util.Arrays;

/**
 * A zero-shot edit for the {@link Sampler} (docs/editing.md): the tokens of the image to keep, and at every scale which
 * token positions keep them. At scale s the sampler draws every token as in plain sampling, then puts the image's
 * token back wherever {@code keep[s]} says so, so the cumulative reconstruction — the next scale's input — carries
 * the kept region, and the draws (hence the regenerated content) are those of plain sampling with the same seed.
 *
 * @param tokens the image's index maps, (B, n[s]) I32 per scale (what the tokenizer's {@code encode} returns)
 * @param keep   per scale, B·n[s] flags row-major over each sample's pn[s] × pn[s] grid: true = the image's token
 */
public record Edit(Tensor[] tokens, boolean[][] keep) {

    public Edit {
        if (tokens.length != keep.length) {
            throw new IllegalArgumentException("an edit needs one keep map per scale: " + tokens.length + " token maps, "
                    + keep.length + " keep maps");
        }
        for (int s = 0; s < tokens.length; s++) {
            if (tokens[s].rank() != 2 || tokens[s].size(0) * (long) tokens[s].size(1) != keep[s].length) {
                throw new IllegalArgumentException("scale " + s + ": tokens " + Arrays.toString(tokens[s].shape())
                        + " and " + keep[s].length + " keep flags differ");
            }
        }
    }

    /**
     * How a pixel mask becomes a token mask at a coarser grid (docs/editing.md#the-mask-rule): a token regenerates
     * when ANY pixel of its footprint is masked (the default: a kept token never stands for masked content), when
     * at least HALF of them are, or only when ALL are (a regenerated token never stands for kept content).
     */
    public enum Rule {
        ANY, HALF, ALL;

        boolean regenerates(int masked, int pixels) {
            return switch (this) {
                case ANY -> masked > 0;
                case HALF -> 2 * masked >= pixels;
                case ALL -> masked == pixels;
            };
        }
    }

    /**
     * The edit that regenerates where {@code regenerate} is set: the image's {@code tokens} (B, n[s]) per scale and the
     * mask {@code regenerate} (B, H, W) row-major, true = regenerate that pixel, resampled to every scale of
     * {@code schedule} by {@link #keepMap} with {@code rule}.
     */
    public static Edit of(Tensor[] tokens, boolean[] regenerate, int height, int width, ScaleSchedule schedule,
                          Rule rule) {
        if (tokens.length != schedule.count()) {
            throw new IllegalArgumentException("an edit needs the image's " + schedule.count() + " token maps, got "
                    + tokens.length);
        }
        int B = tokens[0].size(0);
        if (regenerate.length != (long) B * height * width) {
            throw new IllegalArgumentException("the mask holds " + regenerate.length + " pixels, expected " + B + " × "
                    + height + " × " + width);
        }
        boolean[][] keep = new boolean[schedule.count()][];
        for (int s = 0; s < keep.length; s++) {
            keep[s] = keepMap(regenerate, B, height, width, schedule.side(s), rule);
        }
        return new Edit(tokens, keep);
    }

    /**
     * The mask rule (docs/editing.md#the-mask-rule): token (i, j) of a p × p grid over an H × W image covers the pixel
     * rows [⌊i·H/p⌋, ⌈(i+1)·H/p⌉) and the columns likewise (the pixels AREA resampling averages, a pixel shared by
     * two cells counted in both); it keeps the image's token unless {@code rule} says the masked pixels of that
     * footprint regenerate it. {@code regenerate} (B, H, W) -> keep (B, p, p), both row-major.
     */
    public static boolean[] keepMap(boolean[] regenerate, int B, int height, int width, int p, Rule rule) {
        boolean[] keep = new boolean[B * p * p];
        for (int b = 0; b < B; b++) {
            for (int i = 0; i < p; i++) {
                int r0 = i * height / p, r1 = ceilDiv((i + 1) * height, p);
                for (int j = 0; j < p; j++) {
                    int c0 = j * width / p, c1 = ceilDiv((j + 1) * width, p);
                    int masked = 0;
                    for (int r = r0; r < r1; r++) {
                        for (int c = c0; c < c1; c++) {
                            masked += regenerate[(b * height + r) * width + c] ? 1 : 0;
                        }
                    }
                    keep[(b * p + i) * p + j] = !rule.regenerates(masked, (r1 - r0) * (c1 - c0));
                }
            }
        }
        return keep;
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    /** The number of samples B. */
    public int batch() {
        return tokens[0].size(0);
    }

    /** Indices (B, n[s]) I32 with the image's token wherever scale s keeps it, the drawn one elsewhere. */
    Tensor apply(Tensor drawn, int s) {
        if (drawn.size(0) != tokens[s].size(0) || drawn.size(1) != tokens[s].size(1)) {
            throw new IllegalArgumentException("scale " + s + ": drawn tokens " + Arrays.toString(drawn.shape())
                    + " but the edit holds " + Arrays.toString(tokens[s].shape()));
        }
        int[] out = drawn.toIntArray(), image = tokens[s].toIntArray();
        for (int k = 0; k < out.length; k++) {
            if (keep[s][k]) {
                out[k] = image[k];
            }
        }
        return Tensor.ofInts(out, drawn.size(0), drawn.size(1));
    }
}
