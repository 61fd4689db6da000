package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.mvar.train.TokenSet;
import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.mvar.vq.ResidualQuantizer;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.random.Rng;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code mvarj memory}: the memory figures of VAR and MVAR for any model shape, with random weights (memory does
 * not depend on what the weights are): KV cache and peak sampling memory at a batch size (exact, the sampler runs in
 * {@code MemoryScope}s), and the activations one training step holds for backward (exact, {@code GraphMemory}; VAR's
 * whole sequence, MVAR's faithful cycle group by group). Weights, gradients and optimiser state are excluded and
 * printed apart.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Measure VAR vs MVAR memory (sampling and training) for a model shape, random weights.")
public final class MemoryCommand implements Callable<Integer> {

    @Mixin
    ModelShape shape = new ModelShape();

    @Option(names = "--schedule", defaultValue = "1,2,3,4,6,8", description = "scale sides (default: ${DEFAULT-VALUE})")
    String schedule;

    @Option(names = "--vocab", defaultValue = "256", description = "codebook size V (default: ${DEFAULT-VALUE})")
    int vocab;

    @Option(names = "--code-dim", defaultValue = "16", description = "Cvae (default: ${DEFAULT-VALUE})")
    int codeDim;

    @Option(names = "--batch", defaultValue = "32", description = "images per batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--cfg", defaultValue = "1.5",
            description = "sampling guidance; MVAR with 1 runs no unconditional half (default: ${DEFAULT-VALUE})")
    float cfg;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, opencl or opencl:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--no-training", description = "measure sampling only")
    boolean noTraining;

    @Spec
    CommandSpec spec;

    private PrintStream out;

    @Override
    public Integer call() throws Exception {
        out = Main.out(spec);
        Checks check = new Checks(spec);
        check.atLeast("--vocab", vocab, 2).atLeast("--code-dim", codeDim, 1).atLeast("--batch", batch, 1)
                .nonNegative("--cfg", this.cfg);
        ScaleSchedule sch;
        try {
            sch = ScaleSchedule.parse(schedule);
        } catch (IllegalArgumentException e) {
            throw check.error("--schedule '" + schedule + "' is not a list of scale sides such as 1,2,3,4,6,8 ("
                    + e.getMessage() + ")");
        }
        TransformerConfig cfg = shape.config(check, vocab, codeDim, 10, sch, 0f, 1e-3f);
        Device dev = check.device("--device", device);
        ResidualQuantizer q = new ResidualQuantizer(vocab, codeDim, sch, 0.25f, 0.5f, 4, new Rng(2));
        int[] labels = new int[batch];
        Arrays.setAll(labels, i -> i % 10);
        double weights = 4.0 * new NextScaleTransformer(cfg, new Rng(1)).parameterCount() / MIB;
        out.printf(Locale.ROOT, "depth %d, width %d, %d heads, schedule %s (L = %d), V %d; batch %d, cfg %.2f,"
                        + " on %s; weights %.2f MiB (parameters + gradients + AdamW: %.2f MiB, excluded below)%n",
                cfg.depth(), cfg.width(), cfg.heads(), sch, sch.length(), vocab, batch, this.cfg, dev, weights,
                4 * weights);
        double[] sampling = new double[2];
        for (AttentionPattern p : AttentionPattern.values()) {
            NextScaleTransformer m = new NextScaleTransformer(cfg, new Rng(1));
            m.to(dev);
            m.eval();
            Sampler.Result r = Sampler.sample(m, q, p, labels, new Sampler.Settings(this.cfg, 0, 0.95f, 1));
            sampling[p.ordinal()] = r.peakBytes();
            out.printf(Locale.ROOT, "%-4s sampling: peak %8.2f MiB (KV cache %.2f MiB), %.2f s; attention pairs"
                            + " per image %,d%n", p, r.peakBytes() / MIB, r.kvCacheBytes() / MIB, r.seconds(),
                    p.attentionPairs(cfg));
        }
        out.printf(Locale.ROOT, "sampling peak VAR / MVAR = %.2f%n", sampling[0] / sampling[1]);
        if (!noTraining) {
            training(cfg, dev);
        }
        return 0;
    }

    /** One step of every group; prints the largest graph-held activation bytes per model. */
    private void training(TransformerConfig cfg, Device dev) throws Exception {
        TokenSet tokens = TokenSet.random(cfg, batch, 3);
        double[] peak = new double[2];
        for (AttentionPattern p : AttentionPattern.values()) {
            NextScaleTransformer m = new NextScaleTransformer(cfg, new Rng(1));
            int groups = p == AttentionPattern.VAR ? 1 : 1 + cfg.schedule().count() - cfg.refineStep();
            var o = new TransformerTrainer.Options(p, TransformerTrainer.MvarMode.CYCLE, 1, groups, batch, 1e-4, 0,
                    0.05, 2f, 0f, 1, 0, 1000);
            var t = new TransformerTrainer(m, new Rng(1), tokens, o, Files.createTempDirectory("mvarj-memory"),
                    new PrintStream(OutputStream.nullOutputStream()), null, dev);
            StringBuilder perGroup = new StringBuilder();
            for (int i = 0; i < groups; i++) {
                TransformerTrainer.StepResult r = t.step();
                peak[p.ordinal()] = Math.max(peak[p.ordinal()], r.graphBytes());
                perGroup.append(String.format(Locale.ROOT, " %s %.1f", r.group(), r.graphBytes() / MIB));
            }
            out.printf(Locale.ROOT, "%-4s training: activations held for backward, peak %8.2f MiB (per group:%s)%n",
                    p, peak[p.ordinal()] / MIB, perGroup);
        }
        out.printf(Locale.ROOT, "training activations VAR / MVAR (faithful cycle) = %.2f%n", peak[0] / peak[1]);
    }

    private static final double MIB = 1 << 20;

}
