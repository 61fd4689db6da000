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

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * conv2d forward and forward + backward (dx, dw, db) at the shapes of the default tokenizer's layers (batch 32), on a
 * {@link SimdBackend} with a pool of 1 or 2 threads. Run: {@code java -jar bench/target/benchmarks.jar Conv2dBenchmark}.
 *
 * <p>Shape names: {@code <Cin>to<Cout>_<side>_<kind>}; {@code k3} a 3×3 conv with padding 1, {@code down} the
 * VQ-VAE downsample (pad right and bottom by 1, stride 2), {@code pw} a 1×1 conv. The PyTorch peer is
 * {@code bench/peers/conv2d_torch.py}, with the same table.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class Conv2dBenchmark {

    /** name -> Cin, Cout, side, k, stride, padding top, bottom, left, right (as bench/peers/conv2d_torch.py). */
    static final Map<String, int[]> SHAPES = Map.of(
            "1to16_32_k3", new int[]{1, 16, 32, 3, 1, 1, 1, 1, 1},
            "16to16_32_k3", new int[]{16, 16, 32, 3, 1, 1, 1, 1, 1},
            "32to32_32_k3", new int[]{32, 32, 32, 3, 1, 1, 1, 1, 1},
            "32to32_16_k3", new int[]{32, 32, 16, 3, 1, 1, 1, 1, 1},
            "32to32_8_k3", new int[]{32, 32, 8, 3, 1, 1, 1, 1, 1},
            "16to16_32_down", new int[]{16, 16, 32, 3, 2, 0, 1, 0, 1},
            "16to32_16_pw", new int[]{16, 32, 16, 1, 1, 0, 0, 0, 0});

    @Param({"1to16_32_k3", "16to16_32_k3", "32to32_32_k3", "32to32_16_k3", "32to32_8_k3", "16to16_32_down",
            "16to32_16_pw"})
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
        int[] c = SHAPES.get(shape);
        if (c == null) {
            throw new IllegalArgumentException("shape: one of " + SHAPES.keySet() + ", got " + shape);
        }
        int B = 32, Cin = c[0], Cout = c[1], H = c[2], k = c[3];
        stride = c[4];
        pad = new int[]{c[5], c[6], c[7], c[8]};
        Rng rng = new Rng(1);
        x = rng.normal(0f, 1f, B, Cin, H, H);
        w = rng.normal(0f, (float) (1 / Math.sqrt(Cin * k * k)), Cout, Cin, k, k);
        b = rng.normal(0f, 0.1f, Cout);
        int OH = (H + pad[0] + pad[1] - k) / stride + 1;
        dout = rng.normal(0f, 1f, B, Cout, OH, OH);
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
