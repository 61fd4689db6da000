package dev.mvarj.mvar.data;

import dev.mvarj.tensor.Tensor;

/** Seeded, resumable mini-batches of images ({@link BatchSampler} decides the rows and the flips). */
public final class DataLoader {

    /** A batch: images (B, C, H, W) in [−1, 1] and labels (B) I32. */
    public record Batch(Tensor images, Tensor labels, int epoch) {
    }

    private final ImageDataset data;
    private final BatchSampler sampler;

    public DataLoader(ImageDataset data, int batchSize, boolean shuffle, boolean flip, long seed) {
        if (batchSize < 1 || batchSize > data.size()) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be in [1, " + data.size() + "] for "
                    + data.name());
        }
        this.data = data;
        this.sampler = new BatchSampler(data.size(), batchSize, shuffle, flip, seed);
    }

    public int batchesPerEpoch() {
        return sampler.batchesPerEpoch();
    }

    /** Samples served so far (the resume point). */
    public long position() {
        return sampler.position();
    }

    public void seek(long position) {
        sampler.seek(position);
    }

    public Batch next() {
        BatchSampler.Draw d = sampler.next();
        return new Batch(data.images(d.rows(), d.flip()), data.labels(d.rows()), d.epoch());
    }
}
