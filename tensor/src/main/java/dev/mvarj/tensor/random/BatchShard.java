package dev.mvarj.tensor.random;

import java.util.Arrays;

/**
 * Part {@code index} of {@code count} equal parts of a global batch: the rows one rank of a data-parallel job trains
 * (docs/distributed.md). Per-sample random draws (class dropout, drop path, dropout) are made for the whole global
 * batch on every rank and sliced with {@link #uniform}, so each sample draws the same numbers whatever the number of
 * ranks, and the random streams advance as in one process.
 */
public record BatchShard(int index, int count) {

    /** The whole batch: one process. */
    public static final BatchShard WHOLE = new BatchShard(0, 1);

    public BatchShard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard " + index + " of " + count + ": need 0 <= index < count");
        }
    }

    /** The rows of this part of a global batch of {@code batch} rows; refuses a batch that does not split evenly. */
    public int rows(int batch) {
        if (batch % count != 0) {
            throw new IllegalArgumentException("a batch of " + batch + " does not split into " + count
                    + " equal shards");
        }
        return batch / count;
    }

    /** The first row of this part of a global batch of {@code batch} rows. */
    public int from(int batch) {
        return index * rows(batch);
    }

    /**
     * {@code perPart} uniforms in [0, 1) for this part: the global batch's {@code count · perPart} draws from
     * {@code rng}, sliced (one call, as one process draws them).
     */
    public float[] uniform(Rng rng, int perPart) {
        float[] all = rng.uniformArray(perPart * count, 0f, 1f);
        return count == 1 ? all : Arrays.copyOfRange(all, index * perPart, (index + 1) * perPart);
    }
}
