package dev.mvarj.bench;

import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.Backend;
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
 * Attention kernels (SIMD backend, direct kernel calls) at the model's shapes, batch 16, head dim 32:
 * <ul>
 *   <li>{@code var_l341}: VAR's block-causal mask over scales 1, 2, 4, 8, 16 (tokens 1, 4, 16, 64, 256);</li>
 *   <li>{@code var_l130}: VAR's block-causal mask over scales 1, 2, 3, 4, 6, 8 (tokens 1, 4, 9, 16, 36, 64);</li>
 *   <li>{@code mvar_l341}: MVAR's block-diagonal (scale-Markov) mask over the L = 341 schedule;</li>
 *   <li>{@code na3_16x16}, {@code na7_16x16}: neighbourhood attention, kernel 3 and 7, on the 16 × 16 scale.</li>
 * </ul>
 * {@code width} is "C/H": 256/8 or 128/4. Run: {@code java -jar bench/target/benchmarks.jar AttentionBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBench {

    @Param({"var_l341", "var_l130", "mvar_l341", "na3_16x16", "na7_16x16"})
    public String pattern;

    @Param({"256/8", "128/4"})
    public String width;

    @Param({"1", "2"})
    public int threads;

    private static final int BATCH = 16;

    private WorkerPool pool;
    private Backend be;
    private AttentionMask mask;
    private int B, H, L, d, grid, kernel;
    private float scale;
    private Tensor q, k, v, dout, out, lse, dq, dk, dv;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new WorkerPool(threads);
        be = new SimdBackend(pool);
        String[] w = width.split("/");
        B = BATCH;
        H = Integer.parseInt(w[1]);
        d = Integer.parseInt(w[0]) / H;
        switch (pattern) {
            case "var_l341" -> mask = AttentionMask.blockCausal(1, 4, 16, 64, 256);
            case "var_l130" -> mask = AttentionMask.blockCausal(1, 4, 9, 16, 36, 64);
            case "mvar_l341" -> mask = AttentionMask.blockDiagonal(1, 4, 16, 64, 256);
            case "na3_16x16" -> kernel = 3;
            case "na7_16x16" -> kernel = 7;
            default -> throw new IllegalArgumentException(pattern);
        }
        if (mask != null) {
            L = ((AttentionMask.KeyRanges) mask).rows();
        } else {
            grid = 16;
            L = grid * grid;
        }
        scale = 1f;   // VAR/MVAR: l2-normalised q, k with the per-head scale folded into q
        Rng rng = new Rng(42);
        q = rng.normal(0, 1, B, H, L, d).mul(0.5f);
        k = rng.normal(0, 1, B, H, L, d).mul(0.5f);
        v = rng.normal(0, 1, B, H, L, d);
        dout = rng.normal(0, 1, B, H, L, d);
        out = Tensor.zeros(B, H, L, d);
        lse = Tensor.zeros(B, H, L);
        dq = Tensor.zeros(B, H, L, d);
        dk = Tensor.zeros(B, H, L, d);
        dv = Tensor.zeros(B, H, L, d);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.shutdown();
    }

    private void forwardOnly() {
        if (mask != null) {
            be.attentionForward(out, lse, q, k, v, mask, B, H, L, L, d, scale);
        } else {
            be.neighborhoodAttentionForward(out, lse, q, k, v, B, H, grid, kernel, d, scale);
        }
    }

    @Benchmark
    public Tensor forward() {
        forwardOnly();
        return out;
    }

    @Benchmark
    public Tensor forwardBackward() {
        forwardOnly();
        if (mask != null) {
            be.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, mask, B, H, L, L, d, scale);
        } else {
            be.neighborhoodAttentionBackward(dq, dk, dv, dout, q, k, v, out, lse, B, H, grid, kernel, d, scale);
        }
        return dq;
    }
}
