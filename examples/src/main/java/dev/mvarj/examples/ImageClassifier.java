package dev.mvarj.examples;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.eval.ClassifierTrainer;
import dev.mvarj.mvar.eval.Evaluator;
import dev.mvarj.mvar.eval.FeatureNet;
import dev.mvarj.mvar.eval.PrecisionRecall;
import dev.mvarj.mvar.train.Progress;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A small CNN ({@link FeatureNet}) learns Fashion-MNIST or the built-in shapes with AdamW and a warm-up + cosine
 * schedule ({@link ClassifierTrainer}), then reports its test accuracy and writes its weights; the image-generation
 * metrics ({@code dev.mvarj.mvar.eval}) use its features. Run it with {@code ./mvarj example classifier
 * [--dataset auto|fashion-mnist|shapes] [--epochs 2] [--batch 128] [--lr 3e-3] [--seed 0] [--data DIR] [--out FILE]}.
 */
public final class ImageClassifier {

    /** The command-line options and their defaults ({@code out} null = the data set's default checkpoint). */
    record Options(String dataset, int epochs, int batch, double lr, double weightDecay, int warmup, int subset,
                   int width, int dim, int baseline, long seed, Path data, Path out) {

        static Options parse(String[] args) {
            ClassifierTrainer.Settings d = ClassifierTrainer.Settings.defaults();
            int epochs = d.epochs(), batch = d.batch(), warmup = d.warmup(), subset = 0;
            int baseline = Evaluator.DEFAULT_GENERATED;
            int width = FeatureNet.Config.DEFAULT.width(), dim = FeatureNet.Config.DEFAULT.featureDim();
            double lr = d.lr(), wd = d.weightDecay();
            long seed = d.seed();
            String dataset = "auto";
            Path data = Path.of(FashionMnist.DEBIAN_DIR), out = null;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--dataset" -> dataset = need(args[i], value);
                    case "--epochs" -> epochs = integer(args[i], value);
                    case "--batch" -> batch = integer(args[i], value);
                    case "--lr" -> lr = number(args[i], value);
                    case "--wd" -> wd = number(args[i], value);
                    case "--warmup" -> warmup = integer(args[i], value);
                    case "--subset" -> subset = integer(args[i], value);
                    case "--width" -> width = integer(args[i], value);
                    case "--dim" -> dim = integer(args[i], value);
                    case "--baseline" -> baseline = integer(args[i], value);
                    case "--seed" -> {
                        try {
                            seed = Long.parseLong(need(args[i], value));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--seed: '" + value + "' is not an integer");
                        }
                    }
                    case "--verbose" -> {
                        continue;                                   // read by main: stack traces of errors
                    }
                    case "--data" -> data = Path.of(need(args[i], value));
                    case "--out" -> out = Path.of(need(args[i], value));
                    case "-h", "--help" -> {
                        System.out.println("""
                                usage: ./mvarj example classifier [options]
                                  --dataset D  auto | fashion-mnist | shapes (default auto: Fashion-MNIST when
                                               its files are in --data, else the built-in shapes)
                                  --epochs N   passes over the training images (default 2); 0 loads the
                                               weights at --out and only evaluates them
                                  --batch N    images per step (default 128)
                                  --lr X       peak learning rate of AdamW (default 3e-3)
                                  --wd X       weight decay (default 0.05)
                                  --warmup N   warm-up steps (default 100)
                                  --subset N   train on the first N images only (quick runs; default all)
                                  --width N    channels of the first conv (default %d; later stages 2N)
                                  --dim N      feature dimension D, channels of the last conv (default %d)
                                  --baseline N score N training images as if generated (the metrics' floor),
                                               and again with noise (default %d; 0 skips it)
                                  --seed N     initialisation and shuffling seed (default 0)
                                  --data DIR   Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
                                  --out FILE   weights (default runs/classifier/fashion_cnn.safetensors or
                                               runs/classifier/shapes_cnn.safetensors)
                                  --verbose    print the stack trace of an error (also MVARJ_VERBOSE=1)""".formatted(
                                FeatureNet.Config.DEFAULT.width(), FeatureNet.Config.DEFAULT.featureDim(),
                                Evaluator.DEFAULT_GENERATED));
                        System.exit(0);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + " (try --help)");
                }
                i++;
            }
            if (dataset.equals("auto")) {                   // a --data given by hand means Fashion-MNIST
                dataset = FashionMnist.available(data) || List.of(args).contains("--data")
                        ? Datasets.FASHION : Datasets.SHAPES;
            }
            if (!dataset.equals(Datasets.FASHION) && !dataset.equals(Datasets.SHAPES)) {
                throw new IllegalArgumentException("--dataset must be auto, fashion-mnist or shapes, got '" + dataset
                        + "'");
            }
            Options o = new Options(dataset, epochs, batch, lr, wd, warmup, subset, width, dim, baseline, seed, data,
                    out != null ? out : FeatureNet.defaultCheckpoint(dataset));
            o.check();
            return o;
        }

        /** Refuses values with no meaning before any work: signs, ranges, the data files, the weights file. */
        void check() {
            atLeast("--epochs", epochs, 0);
            atLeast("--batch", batch, 1);
            atLeast("--warmup", warmup, 0);
            atLeast("--subset", subset, 0);
            atLeast("--width", width, 1);
            atLeast("--dim", dim, 1);
            atLeast("--baseline", baseline, 0);
            if (!(lr > 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException("--lr must be a positive finite number, got " + lr);
            }
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("--wd must be a finite number >= 0, got " + weightDecay);
            }
            int groups = FeatureNet.Config.DEFAULT.groups();
            if (width % groups != 0) {
                throw new IllegalArgumentException("--width " + width + " is not a multiple of the " + groups
                        + " GroupNorm groups");
            }
            if (dataset.equals(Datasets.FASHION) && !FashionMnist.available(data)) {
                throw new IllegalArgumentException("--data " + data + " does not hold the Fashion-MNIST files"
                        + " (*-images-idx3-ubyte.gz, *-labels-idx1-ubyte.gz)");
            }
            if (Files.isDirectory(out)) {
                throw new IllegalArgumentException("--out " + out + " is a directory, not a file");
            }
            if (epochs == 0 && !Files.isRegularFile(out)) {
                throw new IllegalArgumentException("--epochs 0 evaluates the weights at --out, but " + out
                        + " is not there");
            }
        }

        private static void atLeast(String option, int value, int min) {
            if (value < min) {
                throw new IllegalArgumentException(option + " must be at least " + min + ", got " + value);
            }
        }

        private static int integer(String option, String value) {
            try {
                return Integer.parseInt(need(option, value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": '" + value + "' is not an integer");
            }
        }

        private static double number(String option, String value) {
            try {
                return Double.parseDouble(need(option, value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": '" + value + "' is not a number");
            }
        }

        private static String need(String option, String value) {
            if (value == null) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return value;
        }
    }

    /**
     * Runs the example; bad options end in one line and exit status 2, a failure while working in one line and
     * status 1 (with the stack trace under {@code --verbose} or {@code MVARJ_VERBOSE=1}).
     */
    public static void main(String[] args) {
        boolean verbose = List.of(args).contains("--verbose") || "1".equals(System.getenv("MVARJ_VERBOSE"));
        int status = 0;
        try {
            run(Options.parse(args));
        } catch (IllegalArgumentException e) {
            status = fail(e, "", verbose, 2);
        } catch (Exception e) {
            status = fail(e, e instanceof IOException ? "" : e.getClass().getSimpleName() + ": ", verbose, 1);
        }
        if (status != 0) {
            System.exit(status);
        }
    }

    private static int fail(Exception e, String kind, boolean verbose, int status) {
        System.err.println("example classifier: " + kind + e.getMessage());
        if (verbose) {
            e.printStackTrace();
        }
        return status;
    }

    static void run(Options o) throws IOException {
        long t0 = System.nanoTime();
        ImageDataset train = Datasets.split(o.dataset(), o.data(), true);
        if (o.subset() > 0) {
            train = train.head(o.subset());
        }
        ImageDataset test = Datasets.split(o.dataset(), o.data(), false);

        FeatureNet net;
        if (o.epochs() == 0) {
            net = FeatureNet.load(o.out());
            System.out.println("loaded " + o.out() + ": " + net.config() + ", " + net.parameterCount() + " parameters");
        } else {
            net = new FeatureNet(new FeatureNet.Config(train.channels(), o.width(), o.dim(),
                    FeatureNet.Config.DEFAULT.groups(), train.classNames().size()), o.seed());
            ClassifierTrainer.train(net, train, new ClassifierTrainer.Settings(o.epochs(), o.batch(), o.lr(),
                    o.weightDecay(), o.warmup(), o.seed()), o.out(), System.out);
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        double testAcc = ClassifierTrainer.testAccuracy(net, test);
        System.out.printf(Locale.ROOT, "test accuracy %.2f%% (%d images); training %s, total %s%n", 100 * testAcc,
                test.size(), Progress.clock(trainSeconds), Progress.clock((System.nanoTime() - t0) / 1e9));

        if (o.epochs() > 0) {
            net.save(o.out(), Map.of("test_accuracy", String.format(Locale.ROOT, "%.4f", testAcc),
                    "epochs", Integer.toString(o.epochs()), "seed", Long.toString(o.seed()), "dataset", train.name()));
            System.out.println("weights: " + o.out() + "; training log " + ClassifierTrainer.metricsFile(o.out())
                    + ", loss chart " + ClassifierTrainer.chartFile(o.out()));
        }
        if (o.baseline() > 0) {
            baseline(net, train, test, Math.min(o.baseline(), train.size()), o.seed());
        }
    }

    /**
     * What the generation metrics say about real images: n training images scored against the test split as if a
     * generator had made them for their own labels (the best a generator can do at this n), then the same images
     * with Gaussian noise (σ = 0.3), which the metrics must score worse.
     */
    static void baseline(FeatureNet net, ImageDataset train, ImageDataset test, int n, long seed) {
        long t0 = System.nanoTime();
        Evaluator evaluator = new Evaluator(net, test, Evaluator.DEFAULT_REAL_SAMPLES, PrecisionRecall.DEFAULT_K);
        System.out.printf(Locale.ROOT, "metrics: real side (%d test images) prepared in %.1fs%n",
                evaluator.realCount(), (System.nanoTime() - t0) / 1e9);
        Tensor images = train.images(ClassifierTrainer.range(n), null);
        int[] labels = Arrays.copyOf(train.labels(), n);
        Evaluator.Report real = evaluator.evaluate(images, labels);
        System.out.println("  " + n + " training images:  " + real.summary());
        Tensor noisy = images.add(new Rng(seed + 1).normal(0f, 0.3f, images.shape()))
                .maximum(Tensor.scalar(-1f)).minimum(Tensor.scalar(1f));
        System.out.println("  the same + noise 0.3:  " + evaluator.evaluate(noisy, labels).summary());
    }
}
