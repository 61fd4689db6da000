package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.mvar.vq.TokenCache;
import dev.mvarj.mvar.vq.TokenizerTrainer;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.mvar.vq.VqVaeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code mvarj demo}, the README's main job: on the default data (Fashion-MNIST when installed, else the built-in
 * shapes), train a small tokenizer, tokenise, train a small MVAR, sample class-wise grids and write a report, all
 * under {@code runs/demo}. Every stage shows its progress; the sizes are chosen to finish in a few minutes on two
 * cores, at the price of quality (the README gives the longer settings).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a small tokenizer and a small MVAR on the default data, then sample; writes runs/demo.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "runs/demo", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
            description = "Fashion-MNIST directory; the shapes set is used when it is absent (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--tokenizer-steps", defaultValue = "200", description = "(default: ${DEFAULT-VALUE})")
    int tokenizerSteps;

    @Option(names = "--images", defaultValue = "4000", description = "training images tokenised (default: ${DEFAULT-VALUE})")
    int images;

    @Option(names = "--steps", defaultValue = "150", description = "MVAR training steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--model", defaultValue = "mvar", description = "var or mvar (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Spec
    CommandSpec spec;

    private PrintStream console;

    @Override
    public Integer call() throws Exception {
        console = Main.out(spec);
        Checks check = new Checks(spec);
        check.atLeast("--tokenizer-steps", tokenizerSteps, 1).atLeast("--images", images, 32)
                .atLeast("--steps", steps, 1);
        model = check.oneOf("--model", model, "var", "mvar");
        check.outputDir("--out", out);
        long start = System.nanoTime();
        Files.createDirectories(out);
        boolean fashion = FashionMnist.available(data);
        ImageDataset train = fashion ? FashionMnist.load(data, FashionMnist.Split.TRAIN) : Shapes.generate(12_000, 1);
        ImageDataset test = fashion ? FashionMnist.load(data, FashionMnist.Split.TEST) : Shapes.generate(1_000, 2);
        console.printf("== mvarj demo: %s (%d training images)%n", fashion ? "Fashion-MNIST" : "built-in shapes"
                + " (Fashion-MNIST not found at " + data + ")", train.size());

        console.println("== 1/4 tokenizer: multi-scale residual VQ-VAE");
        VqVaeConfig vcfg = fashion ? VqVaeConfig.fashionMnist() : VqVaeConfig.shapes();
        Path tokDir = out.resolve("tokenizer");
        var st = TokenizerTrainer.Settings.defaults().withSteps(tokenizerSteps, 32, 2e-3, seed)
                .withEval(0, 500, 1000).withCheckpointEvery(tokenizerSteps);
        TokenizerTrainer tt = new TokenizerTrainer(vcfg, train.head(Math.max(images, 2000)), test, st, tokDir, console);
        TokenizerTrainer.Result tr = tt.train(true);
        console.println("   " + tr.evaluation().summary());

        console.println("== 2/4 tokenise " + images + " images (and their mirrors)");
        Path tokens = out.resolve("tokens.safetensors");
        Path tokCkpt = tokDir.resolve(TokenizerTrainer.CHECKPOINT);
        VqVae vae = VqVae.load(tokCkpt);
        TokenCache.build(tokens, vae, tokCkpt, train.head(images), 100, console);

        console.println("== 3/4 " + model.toUpperCase(Locale.ROOT) + " transformer");
        TrainCommand tc = new TrainCommand();
        new picocli.CommandLine(tc).parseArgs("--model", model, "--tokens", tokens.toString(), "--out",
                out.resolve(model).toString(), "--steps", Integer.toString(steps), "--seed", Long.toString(seed),
                "--resume");
        TransformerTrainer.Summary ts = TrainCommand.run(tc, console);
        console.println("   " + TrainCommand.summary(ts));

        console.println("== 4/4 samples");
        Runs.Trained t = Runs.load(out.resolve(model).resolve("checkpoint.safetensors"));
        AttentionPattern pattern = t.options().pattern();
        Generation.Samples s = Generation.generate(t.model(), vae, pattern, 8, 40, new Sampler.Settings(1.5f, 0, 0.95f, seed));
        Path grid = out.resolve("samples.png");
        Generation.write(s, 8, grid, out.resolve("samples"));
        writeReport(fashion, tr, ts, s, t, pattern, (System.nanoTime() - start) / 1e9);
        console.printf(Locale.ROOT, "== done in %.1f min: %s, %s, %s%n", (System.nanoTime() - start) / 6e10,
                grid, out.resolve("report.md"), out.resolve(model).resolve("loss.png"));
        return 0;
    }

    private void writeReport(boolean fashion, TokenizerTrainer.Result tr, TransformerTrainer.Summary ts,
                             Generation.Samples s, Runs.Trained t, AttentionPattern pattern, double seconds)
            throws IOException {
        var cfg = t.model().cfg;
        String md = String.format(Locale.ROOT, """
                # mvarj demo report

                Data: %s. Total time %.1f min on %d cores.

                ## Tokenizer
                %s

                ![reconstructions](tokenizer/reconstructions.png)

                ## %s transformer
                depth %d, width %d, %d heads, schedule %s (L = %d), vocab %d; %,d parameters.
                %d steps, final loss %.4f, %.3f s/step. Peak activations held for backward: %.1f MiB %s.

                Per-scale cross-entropy: %s
                Per-scale accuracy: %s

                ![loss](%s/loss.png)

                ## Samples (cfg 1.5, top-p 0.95; one row per class)
                ![samples](samples.png)

                Sampling: %.1f ms/image; KV cache %.2f MiB and peak sampling memory %.2f MiB (weights excluded) at
                batch %d; attention query-key pairs per image %,d (VAR would compute %,d).
                """, fashion ? "Fashion-MNIST" : "built-in shapes", seconds / 60, Runtime.getRuntime().availableProcessors(),
                tr.evaluation().summary(), pattern, cfg.depth(), cfg.width(), cfg.heads(), cfg.schedule(),
                cfg.schedule().length(), cfg.vocab(), t.model().parameterCount(), ts.steps(), ts.finalLoss(),
                ts.secondsPerStep(), ts.peakGraphBytes() / 1048576.0, ts.peakGraphBytesByGroup(),
                TrainCommand.fmt(ts.scaleCe()), TrainCommand.fmt(ts.scaleAcc()), model, 1e3 * s.seconds() / s.labels().length,
                s.kvCacheBytes() / 1048576.0, s.peakBytes() / 1048576.0, s.batch(), pattern.attentionPairs(cfg),
                AttentionPattern.VAR.attentionPairs(cfg));
        Files.writeString(out.resolve("report.md"), md);
    }
}
