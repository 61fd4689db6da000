package dev.mvarj.bench;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.mvar.train.TokenSet;
import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.cpu.WorkerPool;
import dev.mvarj.tensor.cpu.simd.SimdBackend;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

/**
 * One VAR or MVAR optimiser step ({@link TransformerTrainer#step()}: batch upload, class dropout, forward of every
 * group, backward, clipping, AdamW; the loss is read back, so the device has finished) on {@code cpu} or
 * {@code opencl[:N]} ({@code cpu}: the SIMD backend on a pool of {@code threads}), on random tokens. MVAR runs
 * every group each step (the "all scales" mode), so both models see a whole image per step.
 * <ul>
 *   <li>{@code fashion}: the README's default model: depth 4, width 128, 4 heads, scales (1,2,3,4,6,8), V 256,
 *       Cvae 16, batch 32; MVAR refine step 4, k 3.</li>
 *   <li>{@code d16}: VAR-d16 on 256-px ImageNet (docs/model.md#official-defaults-and-where-this-project-differs): depth 16, width 1024, 16 heads, scales
 *       (1,2,3,4,5,6,8,10,13,16), V 4096, Cvae 32, 1000 classes, batch 32; MVAR refine step 8, k 7. For a GPU:
 *       on a CPU or PoCL a step takes minutes.</li>
 * </ul>
 * The PyTorch peer of {@code fashion} on the CPU, with the same layers, loss and optimiser, is
 * {@code bench/peers/transformer_step_torch.py}; FLOPs per step: {@code AttentionPattern.forwardFlops}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TrainingStepBenchmark {

    @Param({"opencl", "cpu"})
    public String device;

    @Param({"mvar", "var"})
    public String model;

    @Param({"fashion"})
    public String size;

    /** Threads of the CPU backend's pool (ignored on OpenCL). */
    @Param({"2"})
    public int threads;

    private TransformerTrainer trainer;
    private WorkerPool pool;
    private Backends.Scope scope;

    @Setup
    public void setup() throws IOException {
        if (device.equals("cpu")) {
            pool = new WorkerPool(threads);
            scope = Backends.useCpu(new SimdBackend(pool));
        }
        trainer = trainer(size, model, Device.parse(device), 32);
    }

    /** The model config of a {@code size} (see the class comment). */
    static TransformerConfig config(String size) {
        return switch (size) {
            case "fashion" -> new TransformerConfig(4, 128, 4, 256, 16, 10, ScaleSchedule.small(), 0f, 0.1f, 1e-3f,
                    4, 3);
            case "d16" -> new TransformerConfig(16, 1024, 16, 4096, 32, 1000,
                    new ScaleSchedule(new int[]{1, 2, 3, 4, 5, 6, 8, 10, 13, 16}), 0.1f, 0.1f, 1e-3f, 8, 7);
            default -> throw new IllegalArgumentException("size: fashion or d16, got " + size);
        };
    }

    /** A trainer of {@code model} (var or mvar, all groups each step) at {@code size} on random tokens. */
    static TransformerTrainer trainer(String size, String model, Device device, int batch) throws IOException {
        TransformerConfig cfg = config(size);
        Rng rng = new Rng(1);
        NextScaleTransformer net = new NextScaleTransformer(cfg, rng);
        var pattern = AttentionPattern.valueOf(model.toUpperCase());
        var o = new TransformerTrainer.Options(pattern, TransformerTrainer.MvarMode.ALL, 2, 1_000_000, batch, 1e-4,
                0.0, 0.05, 2f, 0f, 1, 0, 1_000_000);
        return new TransformerTrainer(net, rng, TokenSet.random(cfg, 4 * batch, 2), o,
                Files.createTempDirectory("mvarj-bench"), new PrintStream(OutputStream.nullOutputStream()), null,
                device);
    }

    @TearDown
    public void tearDown() {
        if (scope != null) {
            scope.close();
            pool.shutdown();
        }
    }

    @Benchmark
    public double step() {
        return trainer.step().loss();
    }
}
