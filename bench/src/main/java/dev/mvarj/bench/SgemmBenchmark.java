package dev.mvarj.bench;

import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * SGEMM {@code C (M, N) = A (M, K) · B (K, N)}, row-major, no transposes, alpha 1, beta 0, through
 * {@code SimdBackend.gemm} on a pool of {@code threads}. GFLOP/s = 2·M·N·K / time
 * ({@code bench/peers/jmh_gflops.py} converts a JSON result file).
 *
 * <p>Shapes are written {@code MxKxN}: the squares, and the model's linear layers (4096 tokens, width 128/512).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SgemmBenchmark {

    @Param({"256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048",
            "4096x128x384", "4096x128x512", "4096x512x128"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private WorkerPool pool;
    private SimdBackend backend;
    private Tensor a, b, c;
    private int M, N, K;

    @Setup
    public void setup() {
        int[] mkn = parseShape(shape);
        M = mkn[0];
        K = mkn[1];
        N = mkn[2];
        pool = new WorkerPool(threads);
        backend = new SimdBackend(pool);
        SplittableRandom rnd = new SplittableRandom(42);
        a = Tensor.of(random(rnd, M * K), M * K);
        b = Tensor.of(random(rnd, K * N), K * N);
        c = Tensor.of(new float[M * N], M * N);
    }

    /** "MxKxN" -> {M, K, N}, the shape parameter of the GEMM benchmarks. */
    static int[] parseShape(String shape) {
        String[] d = shape.split("x");
        return new int[]{Integer.parseInt(d[0]), Integer.parseInt(d[1]), Integer.parseInt(d[2])};
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return v;
    }

    @TearDown
    public void tearDown() {
        pool.shutdown();
    }

    @Benchmark
    public Tensor gemm() {
        backend.gemm(false, false, 1, M, N, K, 1f, a, K, 0, b, N, 0, 0f, c, N, 0);
        return c;
    }
}
