package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.NextScaleTransformer;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.distributed.Distributed;
import dev.mvarj.mvar.train.DataParallel;
import dev.mvarj.mvar.train.RunDirectory;
import dev.mvarj.mvar.train.TokenSet;
import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.mvar.vq.TokenCache;
import dev.mvarj.nn.Checkpoint;
import dev.mvarj.tensor.Backends;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.random.Rng;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
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

    @Option(names = "--steps", defaultValue = "3200", description = "optimiser steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", defaultValue = "8", description = "images per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "6e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup", defaultValue = "0.05",
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
            description = "continue the run in --out from its checkpoint; the model and options must be the run's"
                    + " (a longer --steps is allowed) (default: ${DEFAULT-VALUE})")
    boolean resume;

    @Option(names = "--overwrite", defaultValue = "false",
            description = "replace the run in --out (its checkpoint, metrics and loss chart) (default: ${DEFAULT-VALUE})")
    boolean overwrite;

    @Option(names = "--device", defaultValue = "cpu",
            description = "cpu, opencl or opencl:N (./mvarj info lists the devices) (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--finetune-from",
            description = "start from the weights of this VAR checkpoint (masks are rebuilt, never loaded)")
    Path finetuneFrom;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintStream out = Main.out(spec);
        TransformerTrainer.Summary s = run(this, out);
        if (s.scaleCe().length > 0) {       // rank 0 of a data-parallel job, or the one process
            out.println(summary(s));
        }
        return 0;
    }

    /** Trains with the given options, printing to {@code console}; the demo calls it too. */
    static TransformerTrainer.Summary run(TrainCommand o, PrintStream console) throws Exception {
        Checks check = new Checks(o.spec);
        AttentionPattern pattern = AttentionPattern.valueOf(check.oneOf("--model", o.model, "var", "mvar")
                .toUpperCase(Locale.ROOT));
        TransformerTrainer.MvarMode mode = TransformerTrainer.MvarMode.valueOf(check.oneOf("--mode", o.mode, "cycle",
                "all").toUpperCase(Locale.ROOT));
        check.atLeast("--steps", o.steps, 1).atLeast("--batch", o.batch, 1).positive("--lr", o.lr)
                .range("--warmup", o.warmup, 0, 1, false).nonNegative("--wd", o.wd).atLeast("--ratio-k", o.ratioK, 1)
                .range("--drop-path", o.dropPath, 0, 1, true).nonNegative("--gate-init", o.gateInit)
                .range("--label-smoothing", o.labelSmoothing, 0, 1, true)
                .atLeast("--checkpoint-every", o.checkpointEvery, 0);
        o.shape.check(check);
        if (o.resume && o.overwrite) {
            throw check.error("--resume and --overwrite exclude each other: continue the run, or replace it");
        }
        Path outDir = o.out != null ? o.out : Path.of("runs", pattern.name().toLowerCase(Locale.ROOT));
        check.inputFile("--tokens", o.tokens).outputDir(o.out != null ? "--out" : "the output directory", outDir);
        if (o.finetuneFrom != null) {
            check.inputFile("--finetune-from", o.finetuneFrom);
        }
        DataParallel dp = DataParallel.of(Distributed.world());
        console = dp.console(console);
        String badBatch = dp.checkBatch("--batch", o.batch);
        if (badBatch != null) {
            throw check.error(badBatch);
        }
        Device dev = check.device("--device", dp.device(o.device));
        TokenCache.Data cache = TokenCache.read(o.tokens);
        if (o.batch > cache.size()) {
            throw check.error("--batch " + o.batch + " is larger than the token cache " + o.tokens + " ("
                    + cache.size() + " images)");
        }
        TransformerConfig cfg = o.shape.config(check, cache.vocab(), cache.codeDim(), cache.classes(),
                cache.schedule(), o.dropPath, o.gateInit);
        Rng rng = new Rng(o.seed);
        NextScaleTransformer net = new NextScaleTransformer(cfg, rng);
        if (o.finetuneFrom != null) {
            Checkpoint.load(o.finetuneFrom, net, null);
            console.println("fine-tuning from " + o.finetuneFrom + " (" + net.parameterCount() + " parameters)");
        }
        console.printf(Locale.ROOT, "%s: %,d parameters, schedule %s (L = %d), %d images%s, on %s%n", pattern,
                net.parameterCount(), cfg.schedule(), cfg.schedule().length(), cache.size(),
                cache.flipped() != null ? " (+ flips)" : "", Backends.forDevice(dev).name() + " " + dev);
        var options = new TransformerTrainer.Options(pattern, mode, o.ratioK, o.steps, o.batch,
                o.lr, o.warmup, o.wd, 2f, o.labelSmoothing, o.seed, o.checkpointEvery, 25);
        if (dp.ranks() > 1) {
            console.printf(Locale.ROOT, "data-parallel: %s; global batch %d, %d per rank%n",
                    dp.communicator().describe(), o.batch, o.batch / dp.ranks());
        }
        var trainer = new TransformerTrainer(net, rng, TokenSet.of(cache), options, outDir, console,
                cache.tokenizer(), dev, dp);
        return trainer.train(o.resume ? RunDirectory.Start.RESUME : o.overwrite ? RunDirectory.Start.OVERWRITE
                : RunDirectory.Start.FRESH, o.steps);
    }

    static String summary(TransformerTrainer.Summary s) {
        return String.format(Locale.ROOT, "done: %d steps, final loss %.4f, %.3f s/step, peak activations held for"
                        + " backward %.1f MiB %s%n  per-scale CE %s%n  per-scale accuracy %s", s.steps(), s.finalLoss(),
                s.secondsPerStep(), s.peakGraphBytes() / 1048576.0, s.peakGraphBytesByGroup(), fmt(s.scaleCe()),
                fmt(s.scaleAcc())) + (s.loop().steps() > 0 ? "\n  time: " + s.loop().report() : "");
    }

    static String fmt(double[] v) {
        return Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x)).toList().toString();
    }
}
