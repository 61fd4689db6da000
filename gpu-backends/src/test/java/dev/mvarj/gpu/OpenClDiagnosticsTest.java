package dev.mvarj.gpu;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.OpProfiler;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static dev.mvarj.gpu.OpenClTestSupport.dev;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Launch limits, the launches named at a failed synchronisation, the profiling queue, build options and tiles. */
class OpenClDiagnosticsTest {

    private static final Rng RNG = new Rng(5);

    /** A device record with the given limits (no driver behind it): for the choices made from device limits. */
    private static OpenClDevice device(long maxWorkGroup, long localBytes, long fpConfig) {
        return new OpenClDevice(0, MemorySegment.NULL, MemorySegment.NULL, "test", "test", "test", "OpenCL 3.0",
                OpenCl.CL_DEVICE_TYPE_GPU, 132, maxWorkGroup, localBytes, 141L << 30, 35L << 30, fpConfig);
    }

    @Test
    void aWorkGroupOverTheKernelsLimitIsRefusedNamingTheKernelAndBothNumbers() {
        OpenClBackend cl = OpenClTestSupport.backend();
        MemorySegment kernel = cl.kernelObject("reduce", "softmax_rows");
        long[] tooMany = {1L << 20};
        assertThatThrownBy(() -> cl.checkLimits(kernel, "softmax_rows", tooMany))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kernel softmax_rows")
                .hasMessageContaining("a work-group of 1048576 work-items")
                .hasMessageMatching("(?s).*exceeds CL_KERNEL_WORK_GROUP_SIZE = \\d+ for this kernel.*");
        cl.checkLimits(kernel, "softmax_rows", new long[]{1});         // within the limits: no error
    }

    @Test
    void anErrorAtASynchronisationNamesTheLastKernelsEnqueued() {
        OpenClBackend cl = OpenClTestSupport.backend();
        Tensor x = dev(RNG.normal(0, 1, 4, 33));
        x.softmax().add(x).sum();
        cl.synchronize();
        assertThat(cl.recentKernels()).hasSizeLessThanOrEqualTo(OpenClBackend.RECENT_KERNELS)
                .anySatisfy(k -> assertThat(k).startsWith("softmax_rows global"));
        OpenClException e = cl.withRecentKernels(new OpenClException("clFinish", -9999));
        assertThat(e.getMessage()).startsWith("clFinish failed: NVIDIA_ILLEGAL_MEMORY_ACCESS (-9999)")
                .contains("the last kernels enqueued on opencl:0").contains("softmax_rows global");
        assertThat(e.code()).isEqualTo(-9999);
    }

    @Test
    void theProfilingQueueFeedsOpProfilerWithDeviceTimes() {
        OpenClBackend cl = OpenClTestSupport.backend();
        assertThat(cl.drainDeviceNanos()).as("profiling is off by default").isEqualTo(-1);
        cl.setProfiling(true);
        try {
            Variable a = Variable.leaf(dev(RNG.normal(0, 1, 64, 65)));
            Variable b = Variable.leaf(dev(RNG.normal(0, 1, 65, 33)));
            try (OpProfiler p = OpProfiler.start()) {
                F.sum(F.matmul(a, b)).backward();
                assertThat(p.deviceMillis("matmul", false)).as("device time of the forward GEMM").isPositive();
                assertThat(p.table()).contains("device ms");
            }
            assertThat(cl.kernelTimes()).containsKey("gemm_nn")
                    .allSatisfy((k, t) -> assertThat(t[0]).as(k + " launches").isPositive());
        } finally {
            cl.setProfiling(false);
        }
        assertThat(cl.drainDeviceNanos()).isEqualTo(-1);
    }

    @Test
    void correctlyRoundedDivideAndSqrtAreRequestedWhereTheDeviceOffersThem() {
        OpenClBackend cl = OpenClTestSupport.backend();
        assertThat(cl.buildOptions().contains("-cl-fp32-correctly-rounded-divide-sqrt"))
                .isEqualTo(cl.deviceInfo().correctlyRoundedDivideSqrt());
        assertThat(OpenClBackend.buildOptions(device(1024, 48 << 10, OpenCl.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT), 256))
                .contains("-cl-fp32-correctly-rounded-divide-sqrt");
        assertThat(OpenClBackend.buildOptions(device(1024, 48 << 10, 0), 256))
                .doesNotContain("correctly-rounded");
    }

    @Test
    void tilesAreChosenFromTheDeviceLimits() {
        OpenClDevice gpu = device(1024, 48 << 10, 0);            // an H200's OpenCL limits
        var g = OpenClBackend.GemmConfig.forDevice(gpu);
        assertThat(g.tm()).isEqualTo(128);
        assertThat(g.localBytes()).isLessThanOrEqualTo(gpu.localMemBytes());
        var a = OpenClBackend.AttentionConfig.forDevice(gpu);
        for (int d : new int[]{32, 64, 128}) {
            assertThat(OpenClBackend.AttentionConfig.footprint(a.rows(), a.cols("test", d), a.dh(d)))
                    .as("attention tile at d=%d", d).isLessThanOrEqualTo(gpu.localMemBytes());
        }
        assertThat(a.items()).isEqualTo(256);
        var small = OpenClBackend.GemmConfig.forDevice(device(64, 16 << 10, 0));
        assertThat(small.items()).isLessThanOrEqualTo(64);
        assertThatThrownBy(() -> OpenClBackend.AttentionConfig.forDevice(device(256, 1 << 10, 0)).cols("attention", 64))
                .hasMessageContaining("head dim 64").hasMessageContaining("local memory");
    }
}
