package dev.mvarj.mvar.data;

import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

/**
 * Seeded mini-batches: each epoch is a permutation of the data set drawn from (seed, epoch), each image is mirrored
 * with probability ½ (when {@code flip}) from (seed, epoch, position), so the stream depends only on the seed and
 * the position. {@link #position()} / {@link #seek(long)} save and restore it exactly (checkpoints).
 */
public final class DataLoader {

    /** A batch: images (B, C, H, W) in [−1, 1] and labels (B) I32. */
    public record Batch(Tensor images, Tensor labels, int epoch) {
    }

    private final ImageDataset data;
    private final int batchSize;
    private final boolean shuffle, flip;
    private final long seed;
    private long position;
    private int permutationEpoch = -1;
    private int[] permutation;

    public DataLoader(ImageDataset data, int batchSize, boolean shuffle, boolean flip, long seed) {
        if (batchSize < 1 || batchSize > data.size()) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be in [1, " + data.size() + "] for "
                    + data.name());
        }
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.flip = flip;
        this.seed = seed;
    }

    /** Batches per epoch (the last partial batch is dropped). */
    public int batchesPerEpoch() {
        return data.size() / batchSize;
    }

    /** Samples served so far (the resume point). */
    public long position() {
        return position;
    }

    public void seek(long position) {
        this.position = position;
    }

    public Batch next() {
        int perEpoch = batchesPerEpoch() * batchSize;
        int epoch = (int) (position / perEpoch);
        int start = (int) (position % perEpoch);
        int[] perm = permutation(epoch);
        int[] idx = new int[batchSize];
        boolean[] mirror = new boolean[batchSize];
        Rng flips = new Rng(seed ^ 0x5DEECE66DL, (long) epoch * perEpoch + start);
        for (int i = 0; i < batchSize; i++) {
            idx[i] = perm[start + i];
            mirror[i] = flip && flips.nextFloat() < 0.5f;
        }
        position += batchSize;
        return new Batch(data.images(idx, mirror), data.labels(idx), epoch);
    }

    private int[] permutation(int epoch) {
        if (epoch != permutationEpoch) {
            int n = data.size();
            int[] p = new int[n];
            for (int i = 0; i < n; i++) {
                p[i] = i;
            }
            if (shuffle) { // Fisher-Yates from (seed, epoch)
                Rng r = new Rng(seed + 31L * epoch);
                for (int i = n - 1; i > 0; i--) {
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
