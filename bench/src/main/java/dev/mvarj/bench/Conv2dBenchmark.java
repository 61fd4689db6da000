package dev.mvarj.bench;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
import dev.mvarj.tensor.random.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * conv2d forward and forward + backward (dx, dw, db) on VQ-VAE-like shapes, on a {@link SimdBackend} with a pool of
 * 1 or 2 threads. Run: {@code java -jar bench/target/benchmarks.jar Conv2dBenchmark}.
 *
 * <p>Shapes: {@code B, C, H×W, k, stride, padding}; {@code down} is the VQ-VAE downsample (pad [0, 1, 0, 1],
 * stride 2), {@code pw} a 1×1 shortcut conv.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class Conv2dBenchmark {

    @Param({"b32_c64_32x32_k3", "b32_c128_16x16_k3", "b32_c64_32x32_down", "b32_c128_16x16_pw"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    private WorkerPool pool;
    private Backends.Scope scope;
    private Tensor x, w, b, dout;
    private int stride;
    private int[] pad;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new WorkerPool(threads);
        scope = Backends.useCpu(new SimdBackend(pool));
        int B = 32, C, H, k = 3;
        switch (shape) {
            case "b32_c64_32x32_k3" -> { C = 64; H = 32; stride = 1; pad = new int[]{1, 1, 1, 1}; }
            case "b32_c128_16x16_k3" -> { C = 128; H = 16; stride = 1; pad = new int[]{1, 1, 1, 1}; }
            case "b32_c64_32x32_down" -> { C = 64; H = 32; stride = 2; pad = new int[]{0, 1, 0, 1}; }
            case "b32_c128_16x16_pw" -> { C = 128; H = 16; k = 1; stride = 1; pad = new int[]{0, 0, 0, 0}; }
            default -> throw new IllegalArgumentException(shape);
        }
        Rng rng = new Rng(1);
        x = rng.normal(0f, 1f, B, C, H, H);
        w = rng.normal(0f, (float) (1 / Math.sqrt(C * k * k)), C, C, k, k);
        b = rng.normal(0f, 0.1f, C);
        int OH = (H + pad[0] + pad[1] - k) / stride + 1;
        dout = rng.normal(0f, 1f, B, C, OH, OH);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
        pool.shutdown();
    }

    @Benchmark
    public Tensor forward() {
        return F.conv2d(Variable.constant(x), Variable.constant(w), Variable.constant(b), stride,
                pad[0], pad[1], pad[2], pad[3]).data();
    }

    @Benchmark
    public Tensor forwardBackward() {
        Variable xv = Variable.leaf(x), wv = Variable.leaf(w), bv = Variable.leaf(b);
        F.conv2d(xv, wv, bv, stride, pad[0], pad[1], pad[2], pad[3]).backward(dout);
        return wv.grad();
    }
}
