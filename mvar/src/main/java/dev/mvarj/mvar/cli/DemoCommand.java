package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.eval.Evaluator;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.train.Progress;
import dev.mvarj.mvar.train.RunDirectory;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.train.TransformerTrainer;
import dev.mvarj.mvar.vq.TokenCache;
import dev.mvarj.mvar.vq.TokenizerTrainer;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.mvar.vq.VqVaeConfig;
import dev.mvarj.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code mvarj demo}, the README's main job: on the default data (Fashion-MNIST when installed, else the built-in
 * shapes) train a tokenizer, tokenise, train an MVAR (or VAR), sample class-wise grids, score the samples with the
 * data set's classifier next to real images and the tokenizer's reconstructions, and write a report, all under
 * {@code runs/demo}. The sizes ({@link Recipe}) come from measured sweeps (docs/results.md#the-demo-recipe) for a
 * budget of about five minutes on two cores; {@code --quick} is a one-minute smoke test of the same pipeline.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Train a tokenizer and an MVAR on the default data, sample, score; writes runs/demo/report.md.")
public final class DemoCommand implements Callable<Integer> {

    /**
     * The demo's sizes for one data set and budget.
     *
     * @param tokenizer      the tokenizer's configuration
     * @param tokenizerSteps tokenizer optimiser steps
     * @param tokenizerBatch tokenizer images per step
     * @param tokenizerLr    tokenizer peak learning rate
     * @param images         training images tokenised (each also mirrored)
     * @param steps          transformer optimiser steps
     * @param batch          transformer images per step
     * @param lr             transformer peak learning rate
     * @param warmup         transformer warm-up, as a share of the steps
     * @param evalPerClass   samples per class scored by the classifier
     * @param sampling       cfg, top-k, top-p of the samples (the seed is the demo's)
     */
    record Recipe(VqVaeConfig tokenizer, int tokenizerSteps, int tokenizerBatch, double tokenizerLr, int images,
                  int steps, int batch, double lr, double warmup, int evalPerClass, Sampler.Settings sampling) {

        /** The recipe of data set {@code dataset} ({@link Datasets#FASHION} or {@link Datasets#SHAPES}). */
        static Recipe of(String dataset, boolean quick) {
            boolean fashion = dataset.equals(Datasets.FASHION);
            VqVaeConfig v = fashion ? VqVaeConfig.fashionMnist() : VqVaeConfig.shapes();
            Sampler.Settings sampling = new Sampler.Settings(Generation.DEFAULT_CFG, 0, Generation.DEFAULT_TOP_P, 0);
            if (quick) {
                return new Recipe(v, 60, 32, 3e-3, 1000, 150, 8, 6e-3, 0.05, 10, sampling);
            }
            return new Recipe(v, 500, 32, 3e-3, 6000, 1300, 8, 6e-3, 0.05, 100, sampling);
        }
    }

    @Option(names = "--out", defaultValue = "runs/demo",
            description = "output directory (default: ${DEFAULT-VALUE}; runs/demo-quick with --quick)")
    Path out;

    @Option(names = "--overwrite", defaultValue = "false",
            description = "replace the runs in --out; without it an interrupted demo continues where it stopped"
                    + " (default: ${DEFAULT-VALUE})")
    boolean overwrite;

    @Option(names = "--dataset", defaultValue = "auto",
            description = "auto | fashion-mnist | shapes; auto = Fashion-MNIST when its files are in --data, else the"
                    + " built-in shapes (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
            description = "Fashion-MNIST directory (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--quick", defaultValue = "false",
            description = "a one-minute smoke test of the whole pipeline, at the price of quality (default: ${DEFAULT-VALUE})")
    boolean quick;

    @Option(names = "--tokenizer-steps", defaultValue = "0",
            description = "tokenizer steps; 0 = the recipe's (500, --quick 60)")
    int tokenizerSteps;

    @Option(names = "--images", defaultValue = "0",
            description = "training images tokenised; 0 = the recipe's (6000, --quick 1000)")
    int images;

    @Option(names = "--steps", defaultValue = "0",
            description = "transformer steps of 8 images; 0 = the recipe's (1300, --quick 150)")
    int steps;

    @Option(names = "--model", defaultValue = "mvar", description = "var or mvar (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--classifier", description = "the data set's classifier (default: runs/classifier/<data set>"
            + "_cnn.safetensors, trained and written there when missing)")
    Path classifier;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Spec
    CommandSpec spec;

    private PrintStream console;
    private final Map<String, Double> phases = new LinkedHashMap<>();
    private long phaseStart;

    @Override
    public Integer call() throws Exception {
        console = Main.out(spec);
        Checks check = new Checks(spec);
        check.atLeast("--tokenizer-steps", tokenizerSteps, 0).atLeast("--images", images, 0)
                .atLeast("--steps", steps, 0);
        if (images > 0 && images < 32) {
            throw check.error("--images must be 0 (the recipe's) or at least 32, got " + images);
        }
        model = check.oneOf("--model", model, "var", "mvar");
        dataset = check.oneOf("--dataset", dataset, "auto", "fashion-mnist", "shapes");
        // auto: Fashion-MNIST when installed, or when --data names its directory by hand
        String name = dataset.equals("auto")
                ? (FashionMnist.available(data) || check.given("--data") ? Datasets.FASHION : Datasets.SHAPES)
                : dataset;
        if (name.equals(Datasets.FASHION) && !FashionMnist.available(data)) {
            throw check.error((dataset.equals("auto") ? "" : "--dataset fashion-mnist: ") + "--data " + data
                    + " does not hold the Fashion-MNIST files (*-images-idx3-ubyte.gz, *-labels-idx1-ubyte.gz)");
        }
        if (classifier != null) {
            check.outputFile("--classifier", classifier);         // trained and written there when missing
        }
        Scorecard.checkClassifier(check, classifier, name);
        if (quick && !check.given("--out")) {
            out = Path.of("runs", "demo-quick");
        }
        check.outputDir("--out", out);
        Recipe base = Recipe.of(name, quick);
        Recipe r = new Recipe(base.tokenizer(), tokenizerSteps > 0 ? tokenizerSteps : base.tokenizerSteps(),
                base.tokenizerBatch(), base.tokenizerLr(), images > 0 ? images : base.images(),
                steps > 0 ? steps : base.steps(), base.batch(), base.lr(), base.warmup(), base.evalPerClass(),
                new Sampler.Settings(base.sampling().cfg(), base.sampling().topK(), base.sampling().topP(), seed));

        long start = System.nanoTime();
        Files.createDirectories(out);
        ImageDataset train = Datasets.split(name, data, true), test = Datasets.split(name, data, false);
        if (r.images() > train.size()) {
            throw check.error("--images " + r.images() + " is larger than the training set (" + train.size()
                    + " images)");
        }
        console.printf("== mvarj demo%s: %s (%,d training images)%n", quick ? " --quick" : "",
                name.equals(Datasets.FASHION) ? "Fashion-MNIST" : "built-in shapes"
                        + (dataset.equals("auto") ? " (Fashion-MNIST not found at " + data + ")" : ""), train.size());

        console.println("== 1/5 tokenizer: multi-scale residual VQ-VAE");
        phase();
        Path tokDir = out.resolve("tokenizer");
        var st = TokenizerTrainer.Settings.defaults()
                .withSteps(r.tokenizerSteps(), r.tokenizerBatch(), r.tokenizerLr(), seed)
                .withEval(0, 500, quick ? 500 : 1000).withCheckpointEvery(r.tokenizerSteps());
        RunDirectory.Start mode = overwrite ? RunDirectory.Start.OVERWRITE : RunDirectory.Start.RESUME;
        TokenizerTrainer.Result tr = new TokenizerTrainer(r.tokenizer(), train, test, st, tokDir, console)
                .train(mode, r.tokenizerSteps());
        console.println("   " + tr.evaluation().summary());
        phase("tokenizer training");

        console.println("== 2/5 tokenise " + r.images() + " training images (and their mirrors)");
        Path tokens = out.resolve("tokens.safetensors");
        Path tokCkpt = tokDir.resolve(TokenizerTrainer.CHECKPOINT);
        VqVae vae = VqVae.load(tokCkpt);
        TokenCache.build(tokens, vae, tokCkpt, train.head(r.images()), 100, console);
        phase("tokenising");

        console.println("== 3/5 " + model.toUpperCase(Locale.ROOT) + " transformer");
        TrainCommand tc = new TrainCommand();
        new picocli.CommandLine(tc).parseArgs("--model", model, "--tokens", tokens.toString(), "--out",
                out.resolve(model).toString(), "--steps", Integer.toString(r.steps()), "--batch",
                Integer.toString(r.batch()), "--lr", Double.toString(r.lr()), "--warmup", Double.toString(r.warmup()),
                "--seed", Long.toString(seed), overwrite ? "--overwrite" : "--resume");
        TransformerTrainer.Summary ts = TrainCommand.run(tc, console);
        console.println("   " + TrainCommand.summary(ts));
        phase("transformer training");

        console.println("== 4/5 samples");
        Runs.Trained t = Runs.load(out.resolve(model).resolve("checkpoint.safetensors"));
        AttentionPattern pattern = t.options().pattern();
        Generation.Samples s = Generation.generate(t.model(), vae, pattern, r.evalPerClass(), 50, r.sampling());
        writeFigures(train, vae, t, pattern, s, r);
        phase("sampling " + s.labels().length + " images and figures");

        console.println("== 5/5 scores: the " + name + " classifier's features, against the test split");
        Scorecard card = Scorecard.open(name, data, classifier, console);
        phase("classifier");
        card.bounds(vae, r.evalPerClass());
        Evaluator.Report score = card.score(Generation.describe(pattern, r.sampling()), s.images(), s.labels());
        console.print(card.table());
        phase("scoring");
        double seconds = (System.nanoTime() - start) / 1e9;
        writeReport(name, r, tr, ts, s, t, pattern, card, score, seconds);
        console.printf(Locale.ROOT, "== done in %s: %s, %s%n", Progress.clock(seconds), out.resolve("samples.png"),
                out.resolve("report.md"));
        return 0;
    }

    /** Starts timing a phase. */
    private void phase() {
        phaseStart = System.nanoTime();
    }

    /** Ends the phase being timed under {@code name} and starts the next. */
    private void phase(String name) {
        long now = System.nanoTime();
        phases.put(name, (now - phaseStart) / 1e9);
        phaseStart = now;
    }

    /**
     * samples.png: per class, two real training images, their reconstructions and eight samples; progression.png:
     * per class, the first sample's picture after each scale.
     */
    private void writeFigures(ImageDataset train, VqVae vae, Runs.Trained t, AttentionPattern pattern,
                              Generation.Samples s, Recipe r) throws IOException {
        int classes = train.classNames().size(), c = train.channels(), side = train.height(), per = c * side * side;
        int shown = Math.min(8, r.evalPerClass()), cols = 4 + shown;
        Tensor real = train.images(train.firstPerClass(2), null);
        float[] realPx = real.toFloatArray(), recPx = Scorecard.reconstruct(vae, real).toFloatArray();
        float[] samplePx = s.images().toFloatArray();
        float[] grid = new float[classes * cols * per];
        for (int k = 0; k < classes; k++) {
            for (int j = 0; j < 2; j++) {
                System.arraycopy(realPx, (2 * k + j) * per, grid, (k * cols + j) * per, per);
                System.arraycopy(recPx, (2 * k + j) * per, grid, (k * cols + 2 + j) * per, per);
            }
            for (int j = 0; j < shown; j++) {
                System.arraycopy(samplePx, (k * r.evalPerClass() + j) * per, grid, (k * cols + 4 + j) * per, per);
            }
        }
        List<String> heads = new ArrayList<>(List.of("real", "real", "tokenizer", "tokenizer"));
        heads.addAll(Collections.nCopies(shown, pattern.name()));
        Charts.imageGrid(out.resolve("samples.png"), grid, classes * cols, c, side, side, cols, 3,
                train.classNames(), heads);

        ScaleSchedule schedule = t.model().cfg.schedule();
        float[] steps = Generation.progression(t.model(), vae, pattern, r.evalPerClass(), r.sampling());
        Charts.imageGrid(out.resolve("progression.png"), steps, classes * schedule.count(), c, side, side,
                schedule.count(), 3, train.classNames(), Generation.scaleNames(schedule));
    }

    private void writeReport(String name, Recipe r, TokenizerTrainer.Result tr, TransformerTrainer.Summary ts,
                             Generation.Samples s, Runs.Trained t, AttentionPattern pattern, Scorecard card,
                             Evaluator.Report score, double seconds) throws IOException {
        var cfg = t.model().cfg;
        StringBuilder times = new StringBuilder("| phase | time |\n|---|---:|\n");
        phases.forEach((phase, sec) -> times.append("| ").append(phase).append(" | ")
                .append(Progress.clock(sec)).append(" |\n"));
        times.append("| **total** | **").append(Progress.clock(seconds)).append("** |\n");
        String md = String.format(Locale.ROOT, """
                # mvarj demo report

                Data: %s. Total time %s on %d cores%s; the time per phase is at the end.

                ## Samples
                One row per class: two real training images, the tokenizer's reconstructions of them, then %s
                samples (cfg %s, top-p %s, seed %d).

                ![samples](samples.png)

                Coarse to fine: the first sample of every class, decoded after each scale.

                ![progression](progression.png)

                ## Scores
                In the features of the %s classifier, against %,d test images ("Scoring samples" in docs/guide.md):
                real training images are the floor a perfect generator reaches with this many images, the tokenizer's
                reconstructions of them the ceiling the transformer can reach. Precision measures fidelity (samples
                inside the real images' k-NN manifold), recall variety (real images inside the samples').

                %s
                %s
                ## Tokenizer
                %d steps of %d: %s

                ![tokenizer loss](tokenizer/loss.png)

                ## %s transformer
                depth %d, width %d, %d heads, schedule %s (L = %d), vocab %d; %,d parameters.
                %d steps of %d on %,d images and their mirrors, final loss %.4f, %.3f s/step. Peak activations held
                for backward: %.1f MiB.

                Per-scale cross-entropy: %s
                Per-scale accuracy: %s

                ![loss](%s/loss.png)

                Sampling: %.1f ms/image; KV cache %.2f MiB and peak sampling memory %.2f MiB (weights excluded) at
                batch %d; attention query-key pairs per image %,d (VAR would compute %,d).

                ## Time per phase
                %s""", name.equals(Datasets.FASHION) ? "Fashion-MNIST" : "the built-in shapes",
                Progress.clock(seconds), Runtime.getRuntime().availableProcessors(),
                quick ? " (--quick)" : "", pattern, r.sampling().cfg(), r.sampling().topP(), r.sampling().seed(),
                name, score.real(), card.table(), "\n```\n" + score.perClassTable(card.classNames()) + "```\n",
                tr.steps(), r.tokenizerBatch(), tr.evaluation().summary(), pattern, cfg.depth(), cfg.width(),
                cfg.heads(), cfg.schedule(), cfg.schedule().length(), cfg.vocab(), t.model().parameterCount(),
                ts.steps(), r.batch(), r.images(), ts.finalLoss(), ts.secondsPerStep(),
                ts.peakGraphBytes() / 1048576.0, TrainCommand.fmt(ts.scaleCe()),
                TrainCommand.fmt(ts.scaleAcc()), model, 1e3 * s.seconds() / s.labels().length,
                s.kvCacheBytes() / 1048576.0, s.peakBytes() / 1048576.0, s.batch(), pattern.attentionPairs(cfg),
                AttentionPattern.VAR.attentionPairs(cfg), times);
        Files.writeString(out.resolve("report.md"), md);
    }
}
