package dev.mvarj.mvar.model;

import java.util.Arrays;

/**
 * The scale schedule {@code patch_nums}: scale s is a pn[s] × pn[s] token grid, flattened row-major; scales are
 * concatenated coarse to fine into one sequence of length L (docs/model.md#notation).
 */
public record ScaleSchedule(int[] sides) {

    public ScaleSchedule {
        if (sides.length == 0) {
            throw new IllegalArgumentException("a schedule needs at least one scale");
        }
        for (int i = 0; i < sides.length; i++) {
            if (sides[i] < 1 || i > 0 && sides[i] <= sides[i - 1]) {
                throw new IllegalArgumentException("scale sides must be positive and increasing: "
                        + Arrays.toString(sides));
            }
        }
        sides = sides.clone();
    }

    /** The default small schedule (docs/model.md#official-defaults-and-where-this-project-differs): (1, 2, 3, 4, 6, 8), L = 130. */
    public static ScaleSchedule small() {
        return new ScaleSchedule(new int[]{1, 2, 3, 4, 6, 8});
    }

    /** Parses "1,2,3,4,6,8". */
    public static ScaleSchedule parse(String s) {
        return new ScaleSchedule(Arrays.stream(s.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray());
    }

    /** S, the number of scales. */
    public int count() {
        return sides.length;
    }

    /** pn[s]. */
    public int side(int s) {
        return sides[s];
    }

    /** n[s] = pn[s]², tokens of scale s. */
    public int tokens(int s) {
        return sides[s] * sides[s];
    }

    /** begin[s] = Σ_{j<s} n[j]. */
    public int begin(int s) {
        int b = 0;
        for (int j = 0; j < s; j++) {
            b += tokens(j);
        }
        return b;
    }

    /** L, the total sequence length. */
    public int length() {
        return begin(sides.length);
    }

    /** Tokens of scales [from, to). */
    public int tokens(int from, int to) {
        return begin(to) - begin(from);
    }

    /** The token counts of scales [from, to), e.g. for a block mask. */
    public int[] tokenCounts(int from, int to) {
        int[] n = new int[to - from];
        for (int s = from; s < to; s++) {
            n[s - from] = tokens(s);
        }
        return n;
    }

    /** The scale of sequence position p. */
    public int level(int p) {
        for (int s = 0; s < sides.length; s++) {
            if (p < begin(s + 1)) {
                return s;
            }
        }
        throw new IndexOutOfBoundsException("position " + p + " outside a sequence of " + length());
    }

    /** The side of the finest grid (the latent resolution). */
    public int last() {
        return sides[sides.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScaleSchedule other && Arrays.equals(sides, other.sides);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sides);
    }

    @Override
    public String toString() {
        return Arrays.toString(sides);
    }
}
