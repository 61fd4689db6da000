package dev.mvarj.bench;

import dev.mvarj.tensor.Backend;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * SGEMM {@code C (M, N) = op(A) (M, K) · op(B) (K, N)} through the Backend seam on any device: {@code cpu} (the SIMD
 * backend on the shared worker pool) or {@code opencl[:N]} (the tiled local-memory kernels). {@code transpose}
 * names op(A) and op(B): {@code nn} as stored, {@code nt} B transposed (a linear layer's forward, x·Wᵀ), {@code tn}
 * A transposed (its weight gradient, doutᵀ·x, with K the batch's rows), {@code tt} both. Each invocation
 * ends with {@link Backend#synchronize()}, so a device's time includes the queue drain. GFLOP/s = 2·M·N·K / time
 * ({@code bench/peers/jmh_gflops.py}). Run on a GPU machine with {@code tools/gpu-bundle.sh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DeviceGemmBenchmark {

    @Param({"opencl", "cpu"})
    public String device;

    @Param({"512x512x512", "1024x1024x1024", "2048x2048x2048", "4096x128x512", "4096x512x128"})
    public String shape;

    @Param({"nn", "nt", "tn", "tt"})
    public String transpose;

    private Backend backend;
    private Tensor a, b, c;
    private int M, N, K;
    private boolean transA, transB;

    @Setup
    public void setup() {
        int[] mkn = SgemmBenchmark.parseShape(shape);
        M = mkn[0];
        K = mkn[1];
        N = mkn[2];
        transA = transpose.charAt(0) == 't';
        transB = transpose.charAt(1) == 't';
        Device dev = Device.parse(device);
        backend = Backends.forDevice(dev);
        Rng rng = new Rng(42);
        a = rng.uniform(-1, 1, M * K).to(dev);
        b = rng.uniform(-1, 1, K * N).to(dev);
        c = Tensor.zeros(dev, M * N);
    }

    @Benchmark
    public Tensor gemm() {
        // A is stored (M, K), or (K, M) when transposed; B (K, N), or (N, K)
        backend.gemm(transA, transB, 1, M, N, K, 1f, a, transA ? M : K, 0, b, transB ? K : N, 0, 0f, c, N, 0);
        backend.synchronize();
        return c;
    }
}
