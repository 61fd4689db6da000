package dev.mvarj.distributed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The job this process belongs to (docs/distributed.md): a process started by {@code mpirun} (Open MPI sets
 * {@code OMPI_COMM_WORLD_SIZE}; PMIx and PMI launchers such as {@code srun} set {@code PMIX_RANK} or
 * {@code PMI_RANK}) joins its MPI job; any other is a job of one, and never loads libmpi.
 */
public final class Distributed {

    private static Communicator world;

    private Distributed() {
    }

    /** Whether a launcher started this process as a rank of an MPI job, from its environment. */
    public static boolean launchedByMpi(Map<String, String> env) {
        return env.containsKey("OMPI_COMM_WORLD_SIZE") || env.containsKey("PMIX_RANK") || env.containsKey("PMI_RANK");
    }

    /** The job of this process, joined on first use: {@link Mpi} under a launcher, else {@link Communicator#single()}. */
    public static synchronized Communicator world() {
        if (world == null) {
            Map<String, String> env = System.getenv();
            world = launchedByMpi(env) ? Mpi.init(env.getOrDefault(Mpi.LIBRARY_ENV, Mpi.LIBRARY))
                    : Communicator.single();
        }
        return world;
    }

    /**
     * Ends this process's part of the job with {@code status}: after a success every rank leaves it
     * ({@code MPI_Finalize}); after a failure the whole job is aborted, so no rank waits forever in a collective
     * for the one that stopped. Nothing happens when the job was never joined.
     */
    public static synchronized void finish(int status) {
        if (world != null) {
            if (status == 0) {
                world.close();
            } else {
                world.abort(status);
            }
        }
    }

    /** The number of ranks of the job the launcher started, from the environment (1 when not launched). */
    public static int launchedRanks(Map<String, String> env) {
        String n = env.getOrDefault("OMPI_COMM_WORLD_SIZE", env.getOrDefault("PMI_SIZE", "1"));
        try {
            return Integer.parseInt(n.strip());
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /**
     * The default thread count of a rank ({@code -Dmvarj.threads} overrides it): all the cores this process may
     * use when the launcher bound it to some of them ({@code mpirun}'s default binding), else the node's cores
     * shared among the ranks on the node ({@code OMPI_COMM_WORLD_LOCAL_SIZE}); at least one.
     *
     * @param usable the cores this process may run on ({@code availableProcessors}, which follows the binding)
     * @param online the node's online cores
     */
    public static int threadsPerRank(int usable, int online, Map<String, String> env) {
        if (usable < online) {
            return usable;
        }
        int onNode;
        try {
            onNode = Integer.parseInt(env.getOrDefault("OMPI_COMM_WORLD_LOCAL_SIZE", "1").strip());
        } catch (NumberFormatException e) {
            onNode = 1;
        }
        return Math.max(1, usable / Math.max(1, onNode));
    }

    /** The node's online cores ({@code /sys/devices/system/cpu/online}, as {@code 0-7,16-23}), or {@code fallback}. */
    public static int onlineCpus(int fallback) {
        try {
            int n = 0;
            for (String range : Files.readString(Path.of("/sys/devices/system/cpu/online")).strip().split(",")) {
                String[] ab = range.split("-");
                n += ab.length == 1 ? 1 : Integer.parseInt(ab[1]) - Integer.parseInt(ab[0]) + 1;
            }
            return n;
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }
}
