package dev.mvarj.distributed;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What needs no MPI job: discovery (a process not started by a launcher never loads libmpi), the refusals of a
 * missing library and of an MPI that is not Open MPI, error names, the default thread count of a rank. The
 * collectives themselves are proven under {@code mpirun} by {@code DataParallelMpiTest} (mvar).
 */
class MpiTest {

    @Test
    void aProcessNotStartedByALauncherIsAJobOfOneWithoutLibmpi() {
        assertThat(Distributed.launchedByMpi(Map.of("PATH", "/usr/bin"))).isFalse();
        assertThat(Distributed.launchedByMpi(Map.of("OMPI_COMM_WORLD_SIZE", "2"))).isTrue();
        assertThat(Distributed.launchedByMpi(Map.of("PMIX_RANK", "0"))).isTrue();
        assertThat(Distributed.launchedRanks(Map.of("OMPI_COMM_WORLD_SIZE", "4"))).isEqualTo(4);
        assertThat(Distributed.launchedRanks(Map.of())).isEqualTo(1);
        Communicator one = Communicator.single();
        float[] v = {1, 2};
        one.allReduceSum(v);
        one.broadcast(v, 0);
        assertThat(v).containsExactly(1, 2);
        assertThat(one.rank()).isZero();
        assertThat(one.size()).isOne();
    }

    @Test
    void aMissingLibraryNamesWhatToInstall() {
        assertThatThrownBy(() -> Mpi.init("libmpi-not-there.so.40")).isInstanceOf(MpiException.class)
                .hasMessageStartingWith("MPI is not available: cannot load libmpi-not-there.so.40")
                .hasMessageContaining("apt-get install openmpi-bin libopenmpi3")
                .hasMessageContaining(Mpi.LIBRARY_ENV);
    }

    @Test
    void aLibraryThatIsNotOpenMpiIsRefusedByName() {
        assertThatThrownBy(() -> Mpi.init("libc.so.6")).isInstanceOf(MpiException.class)
                .hasMessageContaining("libc.so.6 is not Open MPI (it has no symbol ompi_mpi_comm_world)")
                .hasMessageContaining("MPICH");
    }

    @Test
    void errorCodesHaveTheirMpiNames() {
        assertThat(new MpiException("MPI_Allreduce", 15, "message truncated")).hasMessage(
                "MPI_Allreduce failed: MPI_ERR_TRUNCATE (15): message truncated");
        assertThat(MpiException.name(5)).isEqualTo("MPI_ERR_COMM");
        assertThat(MpiException.name(999)).isEqualTo("MPI_ERR_UNKNOWN_CODE");
    }

    @Test
    void aRankSharesTheNodesCoresUnlessTheLauncherBoundIt() {
        Map<String, String> twoOnNode = Map.of("OMPI_COMM_WORLD_LOCAL_SIZE", "2");
        assertThat(Distributed.threadsPerRank(8, 8, twoOnNode)).as("unbound: 8 cores, 2 ranks").isEqualTo(4);
        assertThat(Distributed.threadsPerRank(1, 2, twoOnNode)).as("bound to one core").isEqualTo(1);
        assertThat(Distributed.threadsPerRank(2, 2, Map.of("OMPI_COMM_WORLD_LOCAL_SIZE", "4"))).isEqualTo(1);
    }
}
