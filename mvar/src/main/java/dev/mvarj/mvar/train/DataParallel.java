package dev.mvarj.mvar.train;

import dev.mvarj.distributed.Communicator;
import dev.mvarj.nn.ParameterStore;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.BatchShard;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Data-parallel training over the ranks of a job (docs/distributed.md), the seam both trainers share:
 *
 * <ul>
 *   <li>every rank draws the same global batch (the same sampler, seed and position) and trains its
 *       {@link #shard()}: rows {@code [rank · B/N, (rank + 1) · B/N)}; per-sample random draws are made for the whole
 *       batch and sliced ({@link BatchShard}), so the random streams advance as in one process;</li>
 *   <li>after backward, the flat gradient (the {@link ParameterStore}'s one buffer) is summed over the ranks and
 *       divided by N ({@link #averageGradients}): each rank's loss is the mean over its B/N rows, so this is the
 *       gradient of the global batch's mean loss, and clipping and AdamW then take the step one process takes;</li>
 *   <li>rank 0 alone writes (checkpoints, metrics, charts, samples; {@link #writes()}); at the start it broadcasts
 *       the weights, the AdamW moments and the trainer's position, so every rank starts from the same state
 *       (a resume needs the run directory on rank 0 only).</li>
 * </ul>
 * With one rank every operation is the identity and copies nothing.
 */
public final class DataParallel {

    /** One process: no communication. */
    public static final DataParallel SINGLE = new DataParallel(Communicator.single());

    private final Communicator comm;
    private final BatchShard shard;
    private long reduceNanos;
    private volatile String position;
    private volatile boolean finished;

    public DataParallel(Communicator comm) {
        this.comm = comm;
        this.shard = new BatchShard(comm.rank(), comm.size());
        if (comm.size() > 1 && comm.rank() == 0) {
            // the runtime ends the other ranks when one fails (SIGTERM): say where the run stands, for the resume
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (!finished && position != null) {
                    System.err.println("mvarj: the job of " + comm.size() + " ranks stopped before the end (a rank"
                            + " failed or was killed; the MPI runtime names it above or below) " + position);
                }
            }, "mvarj-stop-notice"));
        }
    }

    /** The data-parallel view of a job: {@link #SINGLE} for a job of one. */
    public static DataParallel of(Communicator comm) {
        return comm.size() == 1 ? SINGLE : new DataParallel(comm);
    }

    /**
     * The device this rank trains on: a bare {@code opencl} becomes {@code opencl:<local rank>} when several ranks
     * share the job (one device per rank on each node); any other name is taken as given.
     */
    public String device(String name) {
        return comm.size() > 1 && name.equals("opencl") ? "opencl:" + comm.localRank() : name;
    }

    public int rank() {
        return comm.rank();
    }

    public int ranks() {
        return comm.size();
    }

    public Communicator communicator() {
        return comm;
    }

    /** Whether this rank writes the run's files (rank 0). */
    public boolean writes() {
        return comm.rank() == 0;
    }

    /** This rank's part of each global batch. */
    public BatchShard shard() {
        return shard;
    }

    /** The refusal of a global batch that does not split into equal shards, or null when it does. */
    public String checkBatch(String option, int batch) {
        return batch % comm.size() == 0 ? null : String.format(Locale.ROOT, "%s %d does not split over %d ranks:"
                + " give a multiple of %d (every rank trains an equal share of the global batch)", option, batch,
                comm.size(), comm.size());
    }

    /** The console a trainer prints to: {@code console} on rank 0, nowhere on the others. */
    public PrintStream console(PrintStream console) {
        return writes() ? console : new PrintStream(PrintStream.nullOutputStream());
    }

    /** This rank's rows of a global batch's rows. */
    public int[] part(int[] rows) {
        return comm.size() == 1 ? rows : Arrays.copyOfRange(rows, shard.from(rows.length),
                shard.from(rows.length) + shard.rows(rows.length));
    }

    /** This rank's rows of a global batch's per-row flags. */
    public boolean[] part(boolean[] flags) {
        return comm.size() == 1 || flags == null ? flags : Arrays.copyOfRange(flags, shard.from(flags.length),
                shard.from(flags.length) + shard.rows(flags.length));
    }

    /** This rank's rows (along dimension 0) of a global batch tensor. */
    public Tensor part(Tensor batch) {
        int B = batch.size(0);
        return comm.size() == 1 ? batch : batch.slice(0, shard.from(B), shard.from(B) + shard.rows(B)).contiguous();
    }

    /**
     * Rank 0's parameters and both AdamW moments on every rank, and rank 0's {@code state} (step, data position,
     * generator offsets, ...) returned on every rank.
     */
    public long[] broadcast(ParameterStore store, long[] state) {
        if (comm.size() == 1) {
            return state;
        }
        for (Tensor t : new Tensor[]{store.params(), store.expAvg(), store.expAvgSq()}) {
            float[] host = t.toFloatArray();
            comm.broadcast(host, 0);
            write(t, host);
        }
        long[] s = state.clone();
        comm.broadcast(s, 0);
        return s;
    }

    /** Rank 0's flag on every rank. */
    public boolean broadcast(boolean flag) {
        long[] v = {flag ? 1 : 0};
        comm.broadcast(v, 0);
        return v[0] != 0;
    }

    /**
     * Sums the gradient over the ranks and divides it by N, through host memory (one all-reduce of the flat
     * buffer): the gradient of the global batch's mean loss, the same on every rank.
     */
    public void averageGradients(ParameterStore store) {
        if (comm.size() == 1) {
            return;
        }
        long t0 = System.nanoTime();
        Tensor g = store.grads();
        float[] host = g.toFloatArray();
        comm.allReduceSum(host);
        float inv = 1f / comm.size();
        for (int i = 0; i < host.length; i++) {
            host[i] *= inv;
        }
        write(g, host);
        reduceNanos += System.nanoTime() - t0;
    }

    /** The means over the ranks of per-rank values (each rank's loss over its shard gives the global batch's). */
    public double[] mean(double... values) {
        if (comm.size() == 1) {
            return values;
        }
        double[] v = values.clone();
        comm.allReduceSum(v);
        for (int i = 0; i < v.length; i++) {
            v[i] /= comm.size();
        }
        return v;
    }

    /**
     * Every rank's {@code part} (rows along dimension 0, F32 or I32), concatenated in rank order, on every rank: the
     * global batch's tensor. Exact: each rank places its rows in a zero buffer, and the all-reduce adds zeros.
     */
    public Tensor gather(Tensor part) {
        if (comm.size() == 1) {
            return part;
        }
        boolean ints = part.dtype() == DType.I32;
        float[] mine = ints ? toFloats(part.toIntArray()) : part.toFloatArray();
        float[] all = new float[mine.length * comm.size()];
        System.arraycopy(mine, 0, all, comm.rank() * mine.length, mine.length);
        comm.allReduceSum(all);
        int[] shape = part.shape().clone();
        shape[0] *= comm.size();
        if (!ints) {
            return Tensor.of(all, shape);
        }
        int[] v = new int[all.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.round(all[i]);
        }
        return Tensor.ofInts(v, shape);
    }

    private static float[] toFloats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }

    /** Seconds spent in {@link #averageGradients} so far (host copies and the all-reduce). */
    public double reduceSeconds() {
        return reduceNanos / 1e9;
    }

    /** Where the run stands, for the notice rank 0 prints when the job is stopped by a failing rank. */
    public void progress(int step, int saved, Path checkpoint) {
        position = "at step " + step + "; " + (saved < 0 ? "no checkpoint was written yet" : checkpoint
                + " holds step " + saved + ": run the same command with --resume (any number of ranks) to continue");
    }

    /** The run ended (done, or failed with its own message): no stop notice. */
    public void finished() {
        finished = true;
    }

    private static void write(Tensor t, float[] host) {
        t.backend().copy(t, Tensor.of(host, t.shape()).to(t.device()));
    }
}
