package dev.mvarj.distributed;

/**
 * The collectives data-parallel training needs, over the processes ("ranks") of one job
 * (docs/distributed.md). Every rank calls the same collectives in the same order; buffers are Java arrays,
 * changed in place. {@link #single()} is the one-process job, where every collective is the identity; {@link Mpi}
 * is a job started by {@code mpirun}.
 */
public interface Communicator extends AutoCloseable {

    /** This process's rank, 0 ≤ rank &lt; {@link #size()}; rank 0 is the one that writes files. */
    int rank();

    /** The number of ranks in the job. */
    int size();

    /** This rank's index among the ranks on its node (it picks the node's accelerator: {@code opencl:<local rank>}). */
    int localRank();

    /** The number of ranks on this rank's node. */
    int localSize();

    /** Returns when every rank has called it. */
    void barrier();

    /** Replaces {@code buffer} on every rank by the root's. */
    void broadcast(float[] buffer, int root);

    /** Replaces {@code buffer} on every rank by the root's. */
    void broadcast(long[] buffer, int root);

    /** Replaces {@code buffer} on every rank by the element-wise sum of every rank's buffer (in place). */
    void allReduceSum(float[] buffer);

    /** Replaces {@code buffer} on every rank by the element-wise sum of every rank's buffer (in place). */
    void allReduceSum(double[] buffer);

    /**
     * Ends every rank of the job with exit status {@code status}, now (MPI_Abort): what a rank does when it fails
     * while the others wait in a collective. The one-process communicator returns, so the caller exits.
     */
    void abort(int status);

    /** A line naming the runtime and the job: {@code Open MPI v4.1.4, rank 0 of 2 (local 0 of 2)}. */
    String describe();

    /** Leaves the job (MPI_Finalize); every rank calls it once, after its last collective. */
    @Override
    void close();

    /** The communicator of a job of one process. */
    static Communicator single() {
        return SingleProcess.INSTANCE;
    }

    /** A job of one process: rank 0 of 1, every collective the identity. */
    final class SingleProcess implements Communicator {

        static final SingleProcess INSTANCE = new SingleProcess();

        private SingleProcess() {
        }

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 1;
        }

        @Override
        public int localRank() {
            return 0;
        }

        @Override
        public int localSize() {
            return 1;
        }

        @Override
        public void barrier() {
        }

        @Override
        public void broadcast(float[] buffer, int root) {
        }

        @Override
        public void broadcast(long[] buffer, int root) {
        }

        @Override
        public void allReduceSum(float[] buffer) {
        }

        @Override
        public void allReduceSum(double[] buffer) {
        }

        @Override
        public void abort(int status) {
        }

        @Override
        public String describe() {
            return "one process";
        }

        @Override
        public void close() {
        }
    }
}
