package dev.mvarj.mvar.cli;

import dev.mvarj.distributed.Distributed;
import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.mvar.train.DataParallel;
import dev.mvarj.mvar.train.RunDirectory;
import dev.mvarj.mvar.vq.TokenCache;
import dev.mvarj.mvar.vq.TokenizerTrainer;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.mvar.vq.VqVaeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code mvarj tokenizer train | eval | reconstruct | cache}: the multi-scale VQ-VAE (docs/model.md#the-tokenizer). */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Train, evaluate and apply the multi-scale residual VQ tokenizer (VAR's VQ-VAE).",
        subcommands = {TokenizerCommand.Train.class, TokenizerCommand.Eval.class,
                TokenizerCommand.Reconstruct.class, TokenizerCommand.Cache.class})
public final class TokenizerCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(Main.out(spec));
    }

    /** The options every subcommand shares: data set, data directory, output directory, seed. */
    static final class Common {
        @Option(names = "--dataset", defaultValue = "auto",
                description = "auto | fashion-mnist | shapes; auto = Fashion-MNIST when its files are in --data, else"
                        + " the built-in shapes set (default: ${DEFAULT-VALUE})")
        String dataset;

        @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
                description = "directory of the Fashion-MNIST IDX .gz files (default: ${DEFAULT-VALUE})")
        Path data;

        @Option(names = "--out", defaultValue = "runs/tokenizer",
                description = "output directory: checkpoint, metrics, charts, grids (default: ${DEFAULT-VALUE})")
        Path out;

        @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--shapes-train", defaultValue = "20000",
                description = "images generated for the shapes training split (default: ${DEFAULT-VALUE})")
        int shapesTrain;

        @Option(names = "--shapes-test", defaultValue = "2000",
                description = "images generated for the shapes test split (default: ${DEFAULT-VALUE})")
        int shapesTest;

        /** The resolved data set name: fashion-mnist or shapes. */
        String resolved() {
            return switch (dataset.toLowerCase(Locale.ROOT)) {
                case "auto" -> FashionMnist.available(data) ? "fashion-mnist" : "shapes";
                case "fashion-mnist", "fashionmnist", "fmnist" -> "fashion-mnist";
                case "shapes" -> "shapes";
                default -> throw new IllegalArgumentException("--dataset must be auto, fashion-mnist or shapes, got '"
                        + dataset + "'");
            };
        }

        /** Checks the data set, its directory, the generated set sizes and {@code --out}. */
        void check(Checks check) {
            check.oneOf("--dataset", dataset, "auto", "fashion-mnist", "fashionmnist", "fmnist", "shapes");
            if (dataset.equalsIgnoreCase("auto") && check.given("--data") && !FashionMnist.available(data)) {
                // a directory named by hand is meant to hold Fashion-MNIST: no silent fall-back to the shapes
                throw check.error("--data " + data + " does not hold the Fashion-MNIST files"
                        + " (*-images-idx3-ubyte.gz, *-labels-idx1-ubyte.gz)");
            }
            if (resolved().equals("fashion-mnist") && !FashionMnist.available(data)) {
                throw check.error("--dataset " + dataset + ": --data " + data + " does not hold the Fashion-MNIST"
                        + " files (*-images-idx3-ubyte.gz, *-labels-idx1-ubyte.gz)");
            }
            check.atLeast("--shapes-train", shapesTrain, 1).atLeast("--shapes-test", shapesTest, 1)
                    .outputDir("--out", out);
        }

        ImageDataset split(boolean train) throws IOException {
            if (resolved().equals("fashion-mnist")) {
                return FashionMnist.load(data, train ? FashionMnist.Split.TRAIN : FashionMnist.Split.TEST);
            }
            return train ? Shapes.generate(shapesTrain, 1) : Shapes.generate(shapesTest, 2);
        }

        /** The default model for the data set
         * (docs/model.md#official-defaults-and-where-this-project-differs): V = 256 for Fashion-MNIST, 512 for RGB shapes. */
        VqVaeConfig defaultConfig() {
            return resolved().equals("fashion-mnist") ? VqVaeConfig.fashionMnist() : VqVaeConfig.shapes();
        }

    }

    /** The options of the commands that read a trained tokenizer: the common ones and {@code --checkpoint}. */
    static final class Trained {
        @Mixin
        Common common;

        @Option(names = "--checkpoint", description = "tokenizer checkpoint (default: <out>/tokenizer.safetensors)")
        Path checkpoint;

        /** The checkpoint file: {@code --checkpoint}, or the one in {@code --out}. */
        Path file() {
            return checkpoint != null ? checkpoint : common.out.resolve(TokenizerTrainer.CHECKPOINT);
        }

        /** Checks the common options and that the checkpoint is there. */
        void check(Checks check) {
            common.check(check);
            check.inputFile(checkpoint != null ? "--checkpoint" : "the checkpoint (--checkpoint, or in --out)", file());
        }
    }

    /** Refuses a data set whose images are not the tokenizer's (channels, size). */
    static void fits(Checks check, VqVae model, ImageDataset data) {
        VqVaeConfig c = model.config;
        if (data.channels() != c.imageChannels() || data.height() != c.imageSize() || data.width() != c.imageSize()) {
            throw check.error("--dataset: " + data.name() + " has " + data.channels() + "x" + data.height() + "x"
                    + data.width() + " images, the tokenizer takes " + c.imageChannels() + "x" + c.imageSize() + "x"
                    + c.imageSize());
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train the tokenizer (pixel MSE + VQ loss, codebook init and dead-code re-seeding).")
    static final class Train implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = "--steps", defaultValue = "700", description = "optimiser steps (default: ${DEFAULT-VALUE})")
        int steps;

        @Option(names = "--batch", defaultValue = "32", description = "images per step (default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--lr", defaultValue = "2e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
        double lr;

        @Option(names = "--resume", defaultValue = "false",
                description = "continue the run in --out from its checkpoint; the model, data set and settings must be"
                        + " the run's (a longer --steps is allowed) (default: ${DEFAULT-VALUE})")
        boolean resume;

        @Option(names = "--overwrite", defaultValue = "false",
                description = "replace the run in --out (its checkpoint, metrics and loss chart)"
                        + " (default: ${DEFAULT-VALUE})")
        boolean overwrite;

        @Option(names = "--l1", defaultValue = "false",
                description = "L1 pixel loss instead of MSE (default: ${DEFAULT-VALUE})")
        boolean l1;

        @Option(names = "--ch", defaultValue = "16", description = "base CNN channels (default: ${DEFAULT-VALUE})")
        int ch;

        @Option(names = "--vocab", defaultValue = "0",
                description = "codebook size; 0 = 256 for Fashion-MNIST, 512 for shapes (default: ${DEFAULT-VALUE})")
        int vocab;

        @Option(names = "--code-dim", defaultValue = "16", description = "code dimension Cvae (default: ${DEFAULT-VALUE})")
        int codeDim;

        @Option(names = "--groups", defaultValue = "0",
                description = "GroupNorm groups; 0 = 8 for Fashion-MNIST, 4 for shapes (default: ${DEFAULT-VALUE})")
        int groups;

        @Option(names = "--train-images", defaultValue = "0",
                description = "use only the first N training images; 0 = all (default: ${DEFAULT-VALUE})")
        int trainImages;

        @Option(names = "--eval-every", defaultValue = "350",
                description = "steps between test evaluations; 0 = only at the end (default: ${DEFAULT-VALUE})")
        int evalEvery;

        @Option(names = "--eval-images", defaultValue = "1000",
                description = "test images per periodic evaluation (default: ${DEFAULT-VALUE})")
        int evalImages;

        @Option(names = "--final-eval-images", defaultValue = "0",
                description = "test images of the final evaluation; 0 = the whole split (default: ${DEFAULT-VALUE})")
        int finalEvalImages;

        @Option(names = "--checkpoint-every", defaultValue = "350",
                description = "steps between checkpoints (default: ${DEFAULT-VALUE})")
        int checkpointEvery;

        @Option(names = "--attn-lowest", defaultValue = "false",
                description = "attention after every ResnetBlock of the lowest level, as VAR (default: ${DEFAULT-VALUE})")
        boolean attnLowest;

        @Option(names = "--mid-attn", defaultValue = "true", negatable = true,
                description = "attention in the middle block (default: ${DEFAULT-VALUE})")
        boolean midAttn;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Checks check = new Checks(spec);
            check.atLeast("--steps", steps, 1).atLeast("--batch", batch, 1).positive("--lr", lr).atLeast("--ch", ch, 1)
                    .atLeast("--vocab", vocab, 0).atLeast("--code-dim", codeDim, 1).atLeast("--groups", groups, 0)
                    .atLeast("--train-images", trainImages, 0).atLeast("--eval-every", evalEvery, 0)
                    .atLeast("--eval-images", evalImages, 1).atLeast("--final-eval-images", finalEvalImages, 0)
                    .atLeast("--checkpoint-every", checkpointEvery, 1);
            if (vocab == 1) {
                throw check.error("--vocab must be 0 (the data set's default) or at least 2, got 1");
            }
            common.check(check);
            if (resume && overwrite) {
                throw check.error("--resume and --overwrite exclude each other: continue the run, or replace it");
            }
            VqVaeConfig cfg;
            try {
                VqVaeConfig base = common.defaultConfig();
                cfg = base.withCh(ch, groups > 0 ? groups : base.groups()).withCodeDim(codeDim)
                        .withAttention(attnLowest, midAttn);
            } catch (IllegalArgumentException e) {
                throw check.error((groups > 0 ? "--ch " + ch + " --groups " + groups : "--ch " + ch) + ": "
                        + e.getMessage().replace("VqVaeConfig: ", ""));
            }
            if (vocab > 0) {
                cfg = cfg.withVocab(vocab);
            }
            ImageDataset train = common.split(true), test = common.split(false);
            if (trainImages > 0) {
                train = train.head(trainImages);
            }
            if (batch > train.size()) {
                throw check.error("--batch " + batch + " is larger than the training set (" + train.size()
                        + " images)");
            }
            TokenizerTrainer.Settings st = TokenizerTrainer.Settings.defaults()
                    .withSteps(steps, batch, lr, common.seed).withL1(l1)
                    .withEval(evalEvery, evalImages, finalEvalImages).withCheckpointEvery(checkpointEvery);
            DataParallel dp = DataParallel.of(Distributed.world());
            String badBatch = dp.checkBatch("--batch", batch);
            if (badBatch != null) {
                throw check.error(badBatch);
            }
            PrintStream out = dp.console(Main.out(spec));
            if (dp.ranks() > 1) {
                out.printf(Locale.ROOT, "data-parallel: %s; global batch %d, %d per rank%n",
                        dp.communicator().describe(), batch, batch / dp.ranks());
            }
            TokenizerTrainer.Result r = new TokenizerTrainer(cfg, train, test, st, common.out, out, dp).train(resume
                    ? RunDirectory.Start.RESUME : overwrite ? RunDirectory.Start.OVERWRITE : RunDirectory.Start.FRESH,
                    steps);
            out.printf(Locale.ROOT, "trained %d steps in %.1f s; checkpoint %s%n", r.steps(), r.trainSeconds(),
                    common.out.resolve(TokenizerTrainer.CHECKPOINT));
            if (r.loop().steps() > 0) {
                out.println("time: " + r.loop().report());
            }
            return 0;
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "PSNR and per-scale codebook usage / perplexity of a checkpoint on the test split.")
    static final class Eval implements Callable<Integer> {
        @Mixin
        Trained trained;

        @Option(names = "--images", defaultValue = "0", description = "test images; 0 = all (default: ${DEFAULT-VALUE})")
        int images;

        @Option(names = "--batch", defaultValue = "100", description = "images per batch (default: ${DEFAULT-VALUE})")
        int batch;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Checks check = new Checks(spec);
            trained.check(check);
            check.atLeast("--images", images, 0).atLeast("--batch", batch, 1);
            VqVae model = VqVae.load(trained.file());
            ImageDataset test = trained.common.split(false);
            fits(check, model, test);
            TokenizerTrainer.Evaluation e = TokenizerTrainer.evaluate(model, test, images, batch);
            PrintStream out = Main.out(spec);
            out.println(test.name() + ": " + e.summary());
            out.printf(Locale.ROOT, "distinct codes per scale: %s; latent error after each scale: %s (%.1f s)%n",
                    java.util.Arrays.toString(e.distinct()), java.util.Arrays.toString(e.latentError()), e.seconds());
            return 0;
        }
    }

    @Command(name = "reconstruct", mixinStandardHelpOptions = true,
            description = "Write a PNG grid: inputs, reconstructions, and the reconstruction after each scale.")
    static final class Reconstruct implements Callable<Integer> {
        @Mixin
        Trained trained;

        @Option(names = "--count", defaultValue = "8", description = "test images (columns) (default: ${DEFAULT-VALUE})")
        int count;

        @Option(names = "--output", description = "PNG file (default: <out>/reconstructions.png)")
        Path output;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Checks check = new Checks(spec);
            trained.check(check);
            Path file = output != null ? output : trained.common.out.resolve("reconstructions.png");
            check.atLeast("--count", count, 1).outputFile(output != null ? "--output" : "the grid (--output)", file);
            VqVae model = VqVae.load(trained.file());
            ImageDataset test = trained.common.split(false);
            fits(check, model, test);
            TokenizerTrainer.writeGrid(file, model, test, count);
            Main.out(spec).println("wrote " + file);
            return 0;
        }
    }

    @Command(name = "cache", mixinStandardHelpOptions = true,
            description = "Tokenise a split (and its horizontal mirror) into a token cache for the transformer.")
    static final class Cache implements Callable<Integer> {
        @Mixin
        Trained trained;

        @Option(names = "--split", defaultValue = "train", description = "train | test (default: ${DEFAULT-VALUE})")
        String split;

        @Option(names = "--output", description = "cache file (default: <out>/tokens-<split>.safetensors)")
        Path output;

        @Option(names = "--limit", defaultValue = "0", description = "first N images only; 0 = all (default: ${DEFAULT-VALUE})")
        int limit;

        @Option(names = "--batch", defaultValue = "200", description = "images per batch (default: ${DEFAULT-VALUE})")
        int batch;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Checks check = new Checks(spec);
            String which = check.oneOf("--split", split, "train", "test");
            trained.check(check);
            Path file = output != null ? output : trained.common.out.resolve("tokens-" + which + ".safetensors");
            check.atLeast("--limit", limit, 0).atLeast("--batch", batch, 1)
                    .outputFile(output != null ? "--output" : "the cache (--output)", file);
            Path ckpt = trained.file();
            VqVae model = VqVae.load(ckpt);
            ImageDataset data = trained.common.split(which.equals("train"));
            fits(check, model, data);
            if (limit > 0) {
                data = data.head(limit);
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            long t0 = System.nanoTime();
            PrintStream out = Main.out(spec);
            TokenCache.build(file, model, ckpt, data, batch, out);
            out.printf(Locale.ROOT, "wrote %s: %d images x 2 copies in %.1f s%n", file, data.size(),
                    (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }
}
