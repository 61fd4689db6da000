package dev.mvarj.bench;

import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.mvar.vq.TokenizerTrainer;
import dev.mvarj.mvar.vq.VqVaeConfig;
import dev.mvarj.tensor.Backends;
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

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One optimiser step of the VQ-VAE tokenizer ({@link TokenizerTrainer#step()}: batch, forward through encoder,
 * multi-scale residual quantizer and decoder, pixel MSE + VQ loss, backward, clipping, AdamW; the losses are read
 * back) on the SIMD backend with a pool of 1 or 2 threads.
 * <ul>
 *   <li>{@code fashion}: the default Fashion-MNIST tokenizer ({@link VqVaeConfig#fashionMnist()}: 1×32×32, ch 16 ×
 *       (1, 2, 2), GroupNorm(8), attention in the middle block, Cvae 16, V 256, scales (1,2,3,4,6,8)), batch 32,
 *       on random images (the step's cost does not depend on the pixels).</li>
 *   <li>{@code shapes}: the RGB shapes tokenizer ({@link VqVaeConfig#shapes()}: 3 channels, V 512), batch 32.</li>
 * </ul>
 * The PyTorch peer with the same layers, loss and optimiser is {@code bench/peers/tokenizer_step_torch.py}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TokenizerStepBenchmark {

    @Param({"fashion"})
    public String size;

    @Param({"1", "2"})
    public int threads;

    private WorkerPool pool;
    private Backends.Scope scope;
    private TokenizerTrainer trainer;
    private Path runDir;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        pool = new WorkerPool(threads);
        scope = Backends.useCpu(new SimdBackend(pool));
        VqVaeConfig cfg = switch (size) {
            case "fashion" -> VqVaeConfig.fashionMnist();
            case "shapes" -> VqVaeConfig.shapes();
            default -> throw new IllegalArgumentException("size: fashion or shapes, got " + size);
        };
        ImageDataset data = cfg.imageChannels() == 3 ? Shapes.generate(256, 1) : randomImages(256);
        TokenizerTrainer.Settings st = TokenizerTrainer.Settings.defaults().withSteps(1_000_000, 32, 2e-4, 1);
        runDir = Files.createTempDirectory("mvarj-bench");
        trainer = new TokenizerTrainer(cfg, data, data, st, runDir,
                new PrintStream(OutputStream.nullOutputStream()));
    }

    /** n random 1×32×32 images in [−1, 1] with labels 0..9. */
    private static ImageDataset randomImages(int n) {
        Rng rng = new Rng(7);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
        }
        return new ImageDataset("random", rng.uniformArray(n * 32 * 32, -1f, 1f), labels, 1, 32, 32,
                FashionMnist.CLASSES);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        scope.close();
        pool.shutdown();
        try (Stream<Path> files = Files.walk(runDir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    @Benchmark
    public float step() {
        return trainer.step().loss();
    }
}
