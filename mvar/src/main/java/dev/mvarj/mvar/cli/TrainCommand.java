package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.mvar.train.TokenSet;
import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.mvar.vq.TokenCache;
import dev.mvarj.nn.Checkpoint;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.random.Rng;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code mvarj train}: trains VAR or MVAR on a token cache. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a VAR or MVAR transformer on a token cache (./mvarj tokenizer cache writes one).")
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", defaultValue = "mvar", description = "var or mvar (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--tokens", defaultValue = "runs/tokenizer/tokens.safetensors",
            description = "token cache (default: ${DEFAULT-VALUE})")
    Path tokens;

    @Option(names = "--out", description = "output directory (default: runs/<model>)")
    Path out;

    @Option(names = "--steps", defaultValue = "1500", description = "optimiser steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", defaultValue = "32", description = "images per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup", defaultValue = "0.02",
            description = "warm-up, as a fraction of the steps (default: ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--wd", defaultValue = "0.05", description = "weight decay (default: ${DEFAULT-VALUE})")
    double wd;

    @Option(names = "--mode", defaultValue = "all",
            description = "MVAR schedule: cycle (one group per step, faithful) or all (every group every step)"
                    + " (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--ratio-k", defaultValue = "2",
            description = "MVAR cycle: coarse-group steps per cycle (default: ${DEFAULT-VALUE})")
    int ratioK;

    @Mixin
    ModelShape shape = new ModelShape();

    @Option(names = "--drop-path", defaultValue = "0", description = "largest drop-path rate (default: ${DEFAULT-VALUE})")
    float dropPath;

    @Option(names = "--gate-init", defaultValue = "1e-3", description = "AdaLN gate init alng (default: ${DEFAULT-VALUE})")
    float gateInit;

    @Option(names = "--label-smoothing", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
    float labelSmoothing;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "250",
            description = "steps between checkpoints (default: ${DEFAULT-VALUE})")
    int checkpointEvery;

    @Option(names = "--resume", defaultValue = "false",
            description = "continue from <out>/checkpoint.safetensors when it exists (default: ${DEFAULT-VALUE})")
    boolean resume;

    @Option(names = "--device", defaultValue = "cpu",
            description = "cpu, opencl or opencl:N (./mvarj info lists the devices) (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--finetune-from",
            description = "start from the weights of this VAR checkpoint (masks are rebuilt, never loaded)")
    Path finetuneFrom;

    @Override
    public Integer call() throws Exception {
        TransformerTrainer.Summary s = run(this);
        System.out.println(summary(s));
        return 0;
    }

    /** Trains with the given options; the demo calls it too. */
    static TransformerTrainer.Summary run(TrainCommand o) throws Exception {
        AttentionPattern pattern = AttentionPattern.valueOf(o.model.toUpperCase(Locale.ROOT));
        Path outDir = o.out != null ? o.out : Path.of("runs", o.model.toLowerCase(Locale.ROOT));
        TokenCache.Data cache = TokenCache.read(o.tokens);
        TransformerConfig cfg = o.shape.config(cache.vocab(), cache.codeDim(), cache.classes(), cache.schedule(),
                o.dropPath, o.gateInit);
        Rng rng = new Rng(o.seed);
        NextScaleTransformer net = new NextScaleTransformer(cfg, rng);
        if (o.finetuneFrom != null) {
            Checkpoint.load(o.finetuneFrom, net, null);
            System.out.println("fine-tuning from " + o.finetuneFrom + " (" + net.parameterCount() + " parameters)");
        }
        Device dev = Device.parse(o.device);
        System.out.printf(Locale.ROOT, "%s: %,d parameters, schedule %s (L = %d), %d images%s, on %s%n", pattern,
                net.parameterCount(), cfg.schedule(), cfg.schedule().length(), cache.size(),
                cache.flipped() != null ? " (+ flips)" : "", Backends.forDevice(dev).name() + " " + dev);
        var options = new TransformerTrainer.Options(pattern,
                TransformerTrainer.MvarMode.valueOf(o.mode.toUpperCase(Locale.ROOT)), o.ratioK, o.steps, o.batch,
                o.lr, o.warmup, o.wd, 2f, o.labelSmoothing, o.seed, o.checkpointEvery, 25);
        var trainer = new TransformerTrainer(net, rng, TokenSet.of(cache), options, outDir, System.out,
                cache.tokenizer(), dev);
        return trainer.train(o.resume);
    }

    static String summary(TransformerTrainer.Summary s) {
        return String.format(Locale.ROOT, "done: %d steps, final loss %.4f, %.3f s/step, peak activations held for"
                        + " backward %.1f MiB %s%n  per-scale CE %s%n  per-scale accuracy %s", s.steps(), s.finalLoss(),
                s.secondsPerStep(), s.peakGraphBytes() / 1048576.0, s.peakGraphBytesByGroup(), fmt(s.scaleCe()),
                fmt(s.scaleAcc()));
    }

    static String fmt(double[] v) {
        return Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x)).toList().toString();
    }
}
