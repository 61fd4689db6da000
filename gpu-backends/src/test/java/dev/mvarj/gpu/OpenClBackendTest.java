package dev.mvarj.gpu;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.BackendProvider;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.DType;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.MemoryStats;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.UnaryOp;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.mvarj.gpu.OpenClTestSupport.GPU;
import static dev.mvarj.gpu.OpenClTestSupport.dev;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Discovery, the provider, transfers, memory accounting, the pool, the program cache and the error paths. */
class OpenClBackendTest {

    private static final Rng RNG = new Rng(11);

    @Test
    void aDeviceIsFoundWhenOpenClIsRequired() {
        org.junit.jupiter.api.Assumptions.assumeTrue(OpenClTestSupport.required(),
                "MVARJ_REQUIRE_OPENCL is not 1");
        assertThat(OpenClDevice.discover()).as("OpenCL devices (clinfo -l lists PoCL on the CI machine)")
                .isNotEmpty();
        assertThat(Backends.forDevice(Device.parse("opencl"))).isInstanceOf(OpenClBackend.class);
    }

    @Test
    void theProviderIsFoundThroughServiceLoaderAndDescribesDevices() {
        List<BackendProvider> providers = Backends.providers();
        assertThat(providers).anySatisfy(p -> assertThat(p.kind()).isEqualTo("opencl"));
        BackendProvider p = providers.stream().filter(x -> x.kind().equals("opencl")).findFirst().orElseThrow();
        assertThat(p.describeDevices()).hasSameSizeAs(OpenClDevice.discoverQuietly());
        assertThat(Backends.describe()).anySatisfy(line -> assertThat(line).startsWith("opencl"));
    }

    @Test
    void deviceIndexesAreCheckedAndBackendsAreShared() {
        OpenClBackend cl = OpenClTestSupport.backend();
        assertThat(Backends.forDevice(Device.parse("opencl:0"))).isSameAs(cl);
        assertThat(cl.device()).isEqualTo(GPU);
        assertThat(cl.name()).isEqualTo("opencl");
        int count = OpenClDevice.discover().size();
        assertThatThrownBy(() -> new OpenClProvider().open(new Device("opencl", count)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no OpenCL device opencl:" + count);
    }

    @Test
    void tensorsRoundTripThroughTheDevice() {
        OpenClTestSupport.backend();
        for (int n : new int[]{1, 7, 257, 100_001}) {
            Tensor h = RNG.normal(0, 1, n);
            Tensor d = h.to(GPU);
            assertThat(d.device()).isEqualTo(GPU);
            assertThat(d.to(Device.CPU).toFloatArray()).isEqualTo(h.toFloatArray());
        }
        Tensor i = Tensor.ofInts(new int[]{3, -1, 7, Integer.MAX_VALUE}, 2, 2);
        assertThat(i.to(GPU).toIntArray()).containsExactly(3, -1, 7, Integer.MAX_VALUE);
        // a strided view downloads in row-major order
        Tensor m = RNG.normal(0, 1, 5, 3);
        assertThat(m.to(GPU).transpose(0, 1).toFloatArray()).isEqualTo(m.transpose(0, 1).toFloatArray());
        assertThat(m.to(GPU).slice(0, 1, 4).select(1, 2).toFloatArray())
                .isEqualTo(m.slice(0, 1, 4).select(1, 2).toFloatArray());
    }

    @Test
    void f64IsRefusedWithTheWayOut() {
        OpenClTestSupport.backend();
        assertThatThrownBy(() -> Tensor.zeros(GPU, DType.F64, 3)).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("no F64").hasMessageContaining("reference backend");
        assertThatThrownBy(() -> Tensor.of(new double[]{1, 2}, 2).to(GPU)).hasMessageContaining("no F64");
    }

    @Test
    void newStorageIsZeroEvenWhenItsBufferIsReused() {
        OpenClBackend cl = OpenClTestSupport.backend();
        Tensor t = dev(Tensor.full(7f, 300));
        t.storage().release();
        Tensor z = Tensor.zeros(GPU, DType.F32, 300);
        assertThat(z.toFloatArray()).containsOnly(0f);
        assertThat(cl.poolStats().reused()).isPositive();
    }

    @Test
    void memoryCountersRiseAndFallAndBuffersAreReused() {
        OpenClBackend cl = OpenClTestSupport.backend();
        long before = MemoryStats.liveBytes(GPU);
        MemoryStats.resetPeak(GPU);
        Tensor a = Tensor.zeros(GPU, DType.F32, 1000), b = Tensor.zeros(GPU, DType.I32, 10, 10);
        assertThat(MemoryStats.liveBytes(GPU) - before).isEqualTo(4000 + 400);
        a.storage().release();
        b.storage().release();
        assertThat(MemoryStats.liveBytes(GPU)).isEqualTo(before);
        assertThat(MemoryStats.peakBytes(GPU) - before).isEqualTo(4400);
        long created = cl.poolStats().created();
        Tensor again = Tensor.zeros(GPU, DType.F32, 1000);
        assertThat(cl.poolStats().created()).as("a released buffer of the same size class is reused")
                .isEqualTo(created);
        again.storage().release();
        assertThat(cl.poolStats().idleBytes()).isPositive();
        cl.trimPool();
        assertThat(cl.poolStats().idleBytes()).isZero();
    }

    @Test
    void overBudgetThePoolCollectsDroppedStorageInsteadOfGrowing() {
        OpenClBackend cl = OpenClTestSupport.backend();
        int n = 256 * 1024;                                   // 1 MiB per storage, a budget of 4 MiB
        BufferPool pool = cl.newPool(4L << 20);
        for (int i = 0; i < 40; i++) {
            new OpenClStorage(cl, pool, DType.F32, n, GPU);   // dropped at once, never released
        }
        BufferPool.Stats st = pool.stats();
        assertThat(st.peakDeviceBytes()).as("the pool stays within its budget").isLessThanOrEqualTo(4L << 20);
        assertThat(st.collections()).as("it asked the GC for the dropped buffers").isPositive();
        assertThat(st.reused()).as("and reused them").isGreaterThanOrEqualTo(36);
        pool.trim();
    }

    @Test
    void aClosedMemoryScopeReleasesItsBuffersAndKeepsWhatItHandsOn() {
        OpenClBackend cl = OpenClTestSupport.backend();
        Tensor a, dropped, kept;
        long reusedBefore = cl.poolStats().reused();
        try (MemoryScope scope = MemoryScope.open()) {
            a = Tensor.full(GPU, 2f, 1000);
            dropped = a.mul(3f);                              // and the scalar 3 on the device
            kept = scope.keep(a.add(dropped));
            assertThat(scope.size()).isEqualTo(3);
        }
        assertThat(a.storage().isReleased()).isTrue();
        assertThat(dropped.storage().isReleased()).isTrue();
        assertThat(kept.storage().isReleased()).isFalse();
        assertThat(kept.toFloatArray()).containsOnly(8f);
        assertThatThrownBy(dropped::toFloatArray).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("released");
        Tensor next = Tensor.zeros(GPU, DType.F32, 1000);
        assertThat(cl.poolStats().reused()).as("a released buffer serves the next allocation at once")
                .isGreaterThan(reusedBefore);
        kept.storage().release();
        next.storage().release();
    }

    @Test
    void sizeClassesWasteAtMostAnEighth() {
        for (long bytes : new long[]{1, 255, 256, 257, 1000, 4096, 4097, 123_457, 1L << 30}) {
            long c = BufferPool.sizeClass(bytes);
            assertThat(c).as("class of " + bytes).isGreaterThanOrEqualTo(bytes);
            assertThat(c).as("class of " + bytes).isLessThanOrEqualTo(Math.max(256, bytes + bytes / 8 + 1));
        }
    }

    @Test
    void eachProgramIsBuiltOncePerDevice() {
        OpenClBackend cl = OpenClTestSupport.backend();
        Tensor x = dev(RNG.normal(0, 1, 17));
        x.map(UnaryOp.EXP);
        int builds = cl.programBuilds();
        for (int k = 0; k < 5; k++) {
            x.map(UnaryOp.TANH).add(x).mul(x);
        }
        assertThat(cl.programBuilds()).isEqualTo(builds);
    }

    @Test
    void aBuildErrorCarriesTheBuildLog() {
        OpenClBackend cl = OpenClTestSupport.backend();
        assertThatThrownBy(() -> cl.compileCheck("broken.cl",
                "__kernel void broken(__global float* x) { x[0] = undeclared_thing; }"))
                .isInstanceOf(OpenClException.class)
                .hasMessageContaining("clBuildProgram(broken.cl)")
                .hasMessageContaining("CL_BUILD_PROGRAM_FAILURE")
                .hasMessageContaining("build log")
                .hasMessageContaining("undeclared_thing");
    }

    @Test
    void errorCodesHaveTheirNames() {
        assertThat(new OpenClException("clEnqueueNDRangeKernel", -5).getMessage())
                .isEqualTo("clEnqueueNDRangeKernel failed: CL_OUT_OF_RESOURCES (-5)");
        assertThat(OpenClException.name(-52)).isEqualTo("CL_INVALID_KERNEL_ARGS");
        assertThat(OpenClException.name(-1001)).isEqualTo("CL_PLATFORM_NOT_FOUND_KHR");
        assertThat(OpenClException.name(-1142)).isEqualTo("CL_INVALID_SEMAPHORE_KHR");
        assertThat(OpenClException.name(-9999)).as("NVIDIA's asynchronous kernel fault")
                .isEqualTo("NVIDIA_ILLEGAL_MEMORY_ACCESS");
        assertThat(OpenClException.name(-12345)).isEqualTo("CL_UNKNOWN_ERROR");
        // every code of cl.h from CL_SUCCESS to CL_MAX_SIZE_RESTRICTION_EXCEEDED has its name
        for (int code = 0; code >= -72; code--) {
            if (code > -20 || code <= -30) {
                assertThat(OpenClException.isKnown(code)).as("code %d", code).isTrue();
            }
        }
    }

    @Test
    void anUnsupportedOpNamesTheOpAndTheDevice() {
        Backend cl = OpenClTestSupport.backend();
        Tensor i = Tensor.zeros(GPU, DType.I32, 3), out = Tensor.zeros(GPU, DType.I32, 3);
        assertThatThrownBy(() -> cl.binary(BinaryOp.ADD, out, i, i))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("binary ADD").hasMessageContaining("opencl:0");
    }

    @Test
    void aHostTensorIsNeverSilentlyCopied() {
        Backend cl = OpenClTestSupport.backend();
        Tensor host = Tensor.ones(4), out = Tensor.zeros(GPU, DType.F32, 4);
        assertThatThrownBy(() -> cl.unary(UnaryOp.NEG, out, host))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unary").hasMessageContaining("cpu").hasMessageContaining("to(opencl:0)");
        assertThatThrownBy(() -> out.add(host)).hasMessageContaining("different devices");
    }
}
