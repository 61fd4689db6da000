package dev.mvarj.mvar.data;

import dev.mvarj.tensor.random.Rng;

/**
 * Which rows form each mini-batch: every epoch is a permutation drawn from (seed, epoch), and every row is mirrored
 * with probability ½ (when {@code flip}) from (seed, position), so the stream depends only on the seed and the
 * position. {@link #position()} / {@link #seek(long)} save and restore it exactly (checkpoints).
 */
public final class BatchSampler {

    /** Rows of one batch, whether each is mirrored, and the epoch it belongs to. */
    public record Draw(int[] rows, boolean[] flip, int epoch) {
    }

    private final int size, batchSize;
    private final boolean shuffle, flip;
    private final long seed;
    private long position;
    private int permutationEpoch = -1;
    private int[] permutation;

    public BatchSampler(int size, int batchSize, boolean shuffle, boolean flip, long seed) {
        if (batchSize < 1 || batchSize > size) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be in [1, " + size + "]");
        }
        this.size = size;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.flip = flip;
        this.seed = seed;
    }

    /** Batches per epoch (the last partial batch is dropped). */
    public int batchesPerEpoch() {
        return size / batchSize;
    }

    /** Rows served so far (the resume point). */
    public long position() {
        return position;
    }

    public void seek(long position) {
        this.position = position;
    }

    public Draw next() {
        int perEpoch = batchesPerEpoch() * batchSize;
        int epoch = (int) (position / perEpoch);
        int start = (int) (position % perEpoch);
        int[] perm = permutation(epoch);
        int[] rows = new int[batchSize];
        boolean[] mirror = new boolean[batchSize];
        Rng flips = new Rng(seed ^ 0x5DEECE66DL, (long) epoch * perEpoch + start);
        for (int i = 0; i < batchSize; i++) {
            rows[i] = perm[start + i];
            mirror[i] = flip && flips.nextFloat() < 0.5f;
        }
        position += batchSize;
        return new Draw(rows, mirror, epoch);
    }

    private int[] permutation(int epoch) {
        if (epoch != permutationEpoch) {
            int[] p = new int[size];
            for (int i = 0; i < size; i++) {
                p[i] = i;
            }
            if (shuffle) { // Fisher-Yates from (seed, epoch)
                Rng r = new Rng(seed + 31L * epoch);
                for (int i = size - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    int t = p[i];
                    p[i] = p[j];
                    p[j] = t;
                }
            }
            permutation = p;
            permutationEpoch = epoch;
        }
        return permutation;
    }
}
