package dev.mvarj.tensor.random;

import dev.mvarj.tensor.Shape;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.WorkerPool;

/**
 * A seeded stream of random tensors over {@link Philox}: state is (seed, offset), where offset counts Philox blocks
 * consumed. Each call reserves a fresh range of blocks, so results depend only on the seed and the sequence of calls,
 * never on threads. Saving {@link #offset()} and restoring it with {@link #Rng(long, long)} resumes the stream
 * exactly (checkpoints do this).
 */
public final class Rng {

    private static final int GRAIN = 1 << 14;

    private long seed;
    private long offset;

    public Rng(long seed) {
        this(seed, 0);
    }

    public Rng(long seed, long offset) {
        this.seed = seed;
        this.offset = offset;
    }

    public long seed() {
        return seed;
    }

    /** Philox blocks consumed so far. */
    public long offset() {
        return offset;
    }

    /** Continues the stream (seed, offset) of another generator (resuming from a checkpoint). */
    public void restore(long seed, long offset) {
        this.seed = seed;
        seek(offset);
    }

    /** Moves the stream to {@code offset} (resuming from a checkpoint). */
    public void seek(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        }
        this.offset = offset;
    }

    /** Reserves {@code blocks} blocks and returns the first. */
    private long reserve(long blocks) {
        long first = offset;
        offset += blocks;
        return first;
    }

    /** Uniform floats in [lo, hi); element i uses word i % 4 of block first + i / 4. */
    public float[] uniformArray(int n, float lo, float hi) {
        long first = reserve((n + 3) / 4);
        float[] out = new float[n];
        WorkerPool.shared().parallelFor((n + 3) / 4, GRAIN, (b0, b1) -> {
            int[] w = new int[4];
            for (int b = b0; b < b1; b++) {
                Philox.block(seed, first + b, w);
                for (int j = 0; j < 4 && 4 * b + j < n; j++) {
                    out[4 * b + j] = lo + (hi - lo) * Philox.toUnit(w[j]);
                }
            }
        });
        return out;
    }

    /**
     * Normal floats (Box-Muller): block first + i / 2 gives the pair (elements 2m, 2m + 1) from its words 0 and 1.
     */
    public float[] normalArray(int n, float mean, float std) {
        int pairs = (n + 1) / 2;
        long first = reserve(pairs);
        float[] out = new float[n];
        WorkerPool.shared().parallelFor(pairs, GRAIN, (p0, p1) -> {
            int[] w = new int[4];
            for (int p = p0; p < p1; p++) {
                Philox.block(seed, first + p, w);
                double u1 = ((w[0] >>> 8) + 1) * 0x1.0p-24; // (0, 1]: log is finite
                double u2 = (w[1] >>> 8) * 0x1.0p-24;
                double r = Math.sqrt(-2.0 * Math.log(u1));
                out[2 * p] = (float) (mean + std * r * Math.cos(2 * Math.PI * u2));
                if (2 * p + 1 < n) {
                    out[2 * p + 1] = (float) (mean + std * r * Math.sin(2 * Math.PI * u2));
                }
            }
        });
        return out;
    }

    /** A CPU tensor of uniform values in [lo, hi). */
    public Tensor uniform(float lo, float hi, int... shape) {
        return Tensor.of(uniformArray(Shape.numel(shape), lo, hi), shape);
    }

    /** A CPU tensor of normal values. */
    public Tensor normal(float mean, float std, int... shape) {
        return Tensor.of(normalArray(Shape.numel(shape), mean, std), shape);
    }

    /** A uniform integer in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        int[] w = new int[4];
        Philox.block(seed, reserve(1), w);
        long bits = ((w[0] & 0xFFFFFFFFL) << 32) | (w[1] & 0xFFFFFFFFL);
        return (int) Long.remainderUnsigned(bits, bound);
    }

    /** A uniform float in [0, 1). */
    public float nextFloat() {
        int[] w = new int[4];
        Philox.block(seed, reserve(1), w);
        return Philox.toUnit(w[0]);
    }
}
