package dev.mvarj.bench;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.MemoryScope;
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
 * One pre-norm transformer block, forward + backward, through autograd on the SIMD backend — the unit of work of
 * VAR/MVAR training: x += proj(attn(LN1(x))); x += fc2(GELU(fc1(LN2(x)))), LN with affine parameters, biases on,
 * GELU tanh, MLP ratio 4, block-causal attention over the scale schedule (VAR's mask).
 * Batch 16; {@code L} 130 = scales (1,2,3,4,6,8), 341 = scales (1,2,4,8,16). The peer is
 * {@code bench/peers/block_torch.py} (PyTorch 1.13 CPU eager, same shapes and threads).
 * Run: {@code java -jar bench/target/benchmarks.jar TransformerBlockBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TransformerBlockBenchmark {

    @Param({"128/4", "256/8"})
    public String width;

    @Param({"130", "341"})
    public int L;

    @Param({"1", "2"})
    public int threads;

    private static final int B = 16;

    private WorkerPool pool;
    private Backends.Scope scope;
    private int C, H;
    private AttentionMask mask;
    private Tensor x, gradOut;
    private Variable ln1w, ln1b, ln2w, ln2b, wqkv, bqkv, wproj, bproj, w1, b1, w2, b2;

    @Setup(Level.Trial)
    public void setup() {
        String[] wh = width.split("/");
        C = Integer.parseInt(wh[0]);
        H = Integer.parseInt(wh[1]);
        int[] scales = L == 130 ? new int[]{1, 4, 9, 16, 36, 64} : new int[]{1, 4, 16, 64, 256};
        mask = AttentionMask.blockCausal(scales);
        pool = new WorkerPool(threads);
        scope = Backends.useCpu(new SimdBackend(pool));
        Rng r = new Rng(1);
        float s = (float) Math.sqrt(1.0 / C);
        x = r.normal(0, 1, B, L, C);
        gradOut = r.normal(0, 1, B, L, C);
        ln1w = Variable.leaf(Tensor.ones(C));
        ln1b = Variable.leaf(Tensor.zeros(C));
        ln2w = Variable.leaf(Tensor.ones(C));
        ln2b = Variable.leaf(Tensor.zeros(C));
        wqkv = Variable.leaf(r.normal(0, s, 3 * C, C));
        bqkv = Variable.leaf(Tensor.zeros(3 * C));
        wproj = Variable.leaf(r.normal(0, s, C, C));
        bproj = Variable.leaf(Tensor.zeros(C));
        w1 = Variable.leaf(r.normal(0, s, 4 * C, C));
        b1 = Variable.leaf(Tensor.zeros(4 * C));
        w2 = Variable.leaf(r.normal(0, s / 2, C, 4 * C));
        b2 = Variable.leaf(Tensor.zeros(C));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
        pool.shutdown();
    }

    private Variable block(Variable in) {
        int hd = C / H;
        Variable h = F.layerNorm(in, ln1w, ln1b, 1e-6f);
        Variable qkv = F.permute(F.reshape(F.linear(h, wqkv, bqkv), B, L, 3, H, hd), 2, 0, 3, 1, 4);
        Variable q = F.reshape(F.slice(qkv, 0, 0, 1), B, H, L, hd);
        Variable k = F.reshape(F.slice(qkv, 0, 1, 2), B, H, L, hd);
        Variable v = F.reshape(F.slice(qkv, 0, 2, 3), B, H, L, hd);
        Variable a = F.attention(q, k, v, mask, (float) (1.0 / Math.sqrt(hd)));
        Variable x1 = F.add(in, F.linear(F.reshape(F.transpose(a, 1, 2), B, L, C), wproj, bproj));
        Variable m = F.linear(F.gelu(F.linear(F.layerNorm(x1, ln2w, ln2b, 1e-6f), w1, b1)), w2, b2);
        return F.add(x1, m);
    }

    /**
     * One forward+backward in a {@link MemoryScope}, as a training step runs: what it allocated is released when it
     * returns (the input gradient, a leaf's, is not scoped), and its large arrays are reused by the next iteration.
     */
    @Benchmark
    public Tensor forwardBackward() {
        try (MemoryScope ignored = MemoryScope.open()) {
            Variable in = Variable.leaf(x);
            Variable out = block(in);
            out.backward(gradOut);
            Tensor g = in.grad();
            for (Variable p : new Variable[]{ln1w, ln1b, ln2w, ln2b, wqkv, bqkv, wproj, bproj, w1, b1, w2, b2}) {
                p.zeroGrad();
            }
            return g;
        }
    }

    @Benchmark
    public Tensor forward() {
        try (var g = dev.mvarj.autograd.GradMode.off()) {
            return block(Variable.constant(x)).data();
        }
    }
}
