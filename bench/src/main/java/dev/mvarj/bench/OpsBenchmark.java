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
 * The row-wise ops of a transformer step, forward + backward through autograd at the model's shapes: 16 images ×
 * 130 tokens = 2,080 rows of width 256 for layer norm and GELU (GELU on the 4× MLP width), and the fused softmax
 * cross-entropy over 2,080 rows of a 256- or 4096-code vocabulary.
 * Run: {@code java -jar bench/target/benchmarks.jar OpsBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class OpsBenchmark {

    @Param({"1", "2"})
    public int threads;

    @Param({"256", "4096"})
    public int vocab;

    private static final int ROWS = 16 * 130, C = 256;

    private WorkerPool pool;
    private Backends.Scope scope;
    private Tensor x, hidden, logits, gradX, gradHidden, weight, targets;
    private Variable w, b;

    @Setup(Level.Trial)
    public void setup() {
        pool = new WorkerPool(threads);
        scope = Backends.useCpu(new SimdBackend(pool));
        Rng r = new Rng(3);
        x = r.normal(0, 1, ROWS, C);
        gradX = r.normal(0, 1, ROWS, C);
        hidden = r.normal(0, 1, ROWS, 4 * C);
        gradHidden = r.normal(0, 1, ROWS, 4 * C);
        logits = r.normal(0, 2, ROWS, vocab);
        int[] t = new int[ROWS];
        for (int i = 0; i < ROWS; i++) {
            t[i] = r.nextInt(vocab);
        }
        targets = Tensor.ofInts(t, ROWS);
        weight = Tensor.full(1f / ROWS, ROWS);
        w = Variable.leaf(Tensor.ones(C));
        b = Variable.leaf(Tensor.zeros(C));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
        pool.shutdown();
    }

    @Benchmark
    public Tensor layerNorm() {
        Variable in = Variable.leaf(x);
        F.layerNorm(in, w, b, 1e-6f).backward(gradX);
        w.zeroGrad();
        b.zeroGrad();
        return in.grad();
    }

    @Benchmark
    public Tensor gelu() {
        Variable in = Variable.leaf(hidden);
        F.gelu(in).backward(gradHidden);
        return in.grad();
    }

    @Benchmark
    public Tensor softmaxCrossEntropy() {
        Variable in = Variable.leaf(logits);
        F.crossEntropy(in, targets, weight, 0f).backward();
        return in.grad();
    }
}
