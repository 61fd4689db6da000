package dev.mvarj.tensor;

import java.util.Arrays;

/**
 * The 2-D neighbourhood of MVAR's spatial-Markov attention
 * (docs/model.md#spatial-markov-neighbourhood-attention, NATTEN's rule): on a grid × grid map
 * (tokens row-major, N = grid²), query (i, j) sees exactly kernel² keys, rows [a_i, a_i + k) × cols [a_j, a_j + k)
 * with a_i = clamp(i − ⌊k/2⌋, 0, grid − k). Windows are shifted inward at the borders, never padded.
 */
public final class Neighborhood {

    private Neighborhood() {
    }

    /** Throws unless a kernel × kernel window fits in the grid. */
    public static void check(int grid, int kernel) {
        if (kernel < 1 || grid < kernel) {
            throw new IllegalArgumentException("neighbourhood attention needs 1 <= kernel <= grid (windows are"
                    + " shifted inward, never padded); got grid " + grid + ", kernel " + kernel);
        }
    }

    /** a_i = clamp(i − ⌊k/2⌋, 0, grid − k): the first row (or column) of the window of row (or column) i. */
    public static int windowStart(int i, int grid, int kernel) {
        return Math.min(Math.max(i - kernel / 2, 0), grid - kernel);
    }

    /**
     * The neighbour table {@code (N, kernel²)} of key indices: entry (n, r·k + c) is the key at window row r,
     * column c of query n, i.e. (a_i + r)·grid + (a_j + c) for n = i·grid + j. Keys of one row are ascending.
     */
    public static int[] table(int grid, int kernel) {
        check(grid, kernel);
        int K = kernel * kernel;
        int[] t = new int[grid * grid * K];
        for (int i = 0; i < grid; i++) {
            int ai = windowStart(i, grid, kernel);
            for (int j = 0; j < grid; j++) {
                int aj = windowStart(j, grid, kernel), n = (i * grid + j) * K;
                for (int r = 0; r < kernel; r++) {
                    for (int c = 0; c < kernel; c++) {
                        t[n + r * kernel + c] = (ai + r) * grid + aj + c;
                    }
                }
            }
        }
        return t;
    }

    /** The equivalent dense mask: an (N, N) bias of 0 inside each query's window and −inf outside. */
    public static AttentionMask.Additive additiveMask(int grid, int kernel) {
        int N = grid * grid, K = kernel * kernel;
        int[] t = table(grid, kernel);
        float[] m = new float[N * N];
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        for (int n = 0; n < N; n++) {
            for (int s = 0; s < K; s++) {
                m[n * N + t[n * K + s]] = 0f;
            }
        }
        return AttentionMask.additive(Tensor.of(m, N, N));
    }
}
