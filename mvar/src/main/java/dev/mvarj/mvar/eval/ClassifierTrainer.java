package dev.mvarj.mvar.eval;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.Variable;
import dev.mvarj.mvar.data.DataLoader;
import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.train.Charts;
import dev.mvarj.mvar.train.MetricsLog;
import dev.mvarj.mvar.train.Progress;
import dev.mvarj.nn.AdamW;
import dev.mvarj.nn.ParameterStore;
import dev.mvarj.nn.Schedule;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Trains the {@link FeatureNet} of a data set (the classifier whose features the generation metrics use): AdamW with
 * a linear warm-up and a cosine decay, cross-entropy, no weight decay on biases and group-norm scales; writes the
 * weights with the test accuracy in their metadata, and their training log and loss chart beside them
 * ({@code shapes_cnn.safetensors}: {@code shapes_cnn.metrics.jsonl}, {@code shapes_cnn.loss.png}).
 * {@link #ensure} is what {@code eval} and {@code demo} call: the classifier at the default path when it is there
 * and fits the data, else a freshly trained one (one epoch: about 20 s for the shapes, 50 s for Fashion-MNIST, on two
 * cores).
 */
public final class ClassifierTrainer {

    /**
     * @param epochs      passes over the training images
     * @param batch       images per step
     * @param lr          peak learning rate
     * @param weightDecay AdamW weight decay of the matrices and filters
     * @param warmup      linear warm-up steps
     * @param seed        initialisation and shuffling seed
     */
    public record Settings(int epochs, int batch, double lr, double weightDecay, int warmup, long seed) {

        /** Two epochs of 128 at 3e-3, decay 0.05, 100 warm-up steps, seed 0. */
        public static Settings defaults() {
            return new Settings(2, 128, 3e-3, 0.05, 100, 0);
        }

        /**
         * What {@link #ensure} trains with: one epoch, so that a first {@code demo} or {@code eval} pays seconds
         * (shapes: 99.8 % test accuracy) or about 50 s (Fashion-MNIST, 90.9 %) for it; the classifier example
         * trains the two epochs of {@link #defaults()}.
         */
        public static Settings forData(String name) {
            Datasets.family(name);                                  // refuses an unknown data set
            Settings d = defaults();
            return new Settings(1, d.batch, d.lr, d.weightDecay, d.warmup, d.seed);
        }
    }

    private ClassifierTrainer() {
    }

    /** The training log beside weights {@code file}: {@code <stem>.metrics.jsonl}. */
    public static Path metricsFile(Path file) {
        return beside(file, ".metrics.jsonl");
    }

    /** The loss chart beside weights {@code file}: {@code <stem>.loss.png}. */
    public static Path chartFile(Path file) {
        return beside(file, ".loss.png");
    }

    private static Path beside(Path file, String suffix) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + suffix);
    }

    /**
     * Trains {@code net} on {@code train} with {@code s}; the metrics and the loss chart go beside the weights
     * {@code file} ({@link #metricsFile}, {@link #chartFile}), which the caller saves.
     */
    public static void train(FeatureNet net, ImageDataset train, Settings s, Path file, PrintStream log)
            throws IOException {
        ParameterStore params = new ParameterStore(net, name -> net.namedParameters().get(name).rank() <= 1,
                Device.CPU);
        AdamW opt = new AdamW(params, 0.9f, 0.999f, 1e-8f);
        DataLoader loader = new DataLoader(train, s.batch(), true, false, s.seed());
        int steps = s.epochs() * loader.batchesPerEpoch();
        Schedule schedule = new Schedule(Schedule.Kind.COSINE, s.lr(), Math.min(s.warmup(), steps), steps,
                0.01, 0.01, s.weightDecay(), s.weightDecay());
        log.printf(Locale.ROOT, "classifier: %s, %d images; %,d parameters; %d epochs of %d steps%n",
                train.name(), train.size(), net.parameterCount(), s.epochs(), loader.batchesPerEpoch());
        Files.createDirectories(file.toAbsolutePath().getParent());
        Tensor weight = Tensor.full(1f / s.batch(), s.batch());   // per-sample weights: the batch mean
        Progress progress = new Progress("classifier", steps, 50, log);
        double emaLoss = Double.NaN, emaAcc = Double.NaN;
        try (MetricsLog metrics = new MetricsLog(metricsFile(file), true)) {
            net.train();
            for (int step = 0; step < steps; step++) {
                DataLoader.Batch b = loader.next();
                params.zeroGrad();
                Variable logits = net.forward(Variable.constant(b.images()));        // (B, classes)
                Variable loss = F.crossEntropy(logits, b.labels(), weight, 0f);       // mean CE, a scalar
                loss.backward();
                float lr = (float) schedule.lr(step);
                opt.step(lr, (float) schedule.weightDecay(step), 1f);

                double l = loss.data().item();
                double acc = accuracy(FeatureNet.argmaxRows(logits.data()), b.labels().toIntArray());
                emaLoss = Double.isNaN(emaLoss) ? l : 0.95 * emaLoss + 0.05 * l;
                emaAcc = Double.isNaN(emaAcc) ? acc : 0.95 * emaAcc + 0.05 * acc;
                metrics.log("step", step + 1, "loss", l, "acc", acc, "lr", lr);
                progress.update(step + 1, s.batch(), "epoch", b.epoch() + 1, "loss", emaLoss, "acc", emaAcc,
                        "lr", (double) lr);
            }
            Charts.lineChart(chartFile(file), train.name() + " classifier", "step", "cross-entropy",
                    List.of(new Charts.Series("train loss", metrics.series("loss"))));
        }
        net.eval();
    }

    /** Test images behind the accuracy {@link #ensure} records (the evaluator measures it on all of them). */
    static final int ACCURACY_IMAGES = 2_000;

    /** The share of {@code test} the classifier labels correctly. */
    public static double testAccuracy(FeatureNet net, ImageDataset test) {
        return accuracy(net.predict(test.images(range(test.size()), null)), test.labels());
    }

    /**
     * The classifier of the data set at {@code file}, trained first (with {@link Settings#forData}, then saved
     * there, its accuracy on the first {@value #ACCURACY_IMAGES} test images in the metadata) when the file is
     * missing. A file whose classifier does not fit the data (channels, classes) is refused:
     * it belongs to another data set.
     */
    public static FeatureNet ensure(Path file, ImageDataset train, ImageDataset test, PrintStream log)
            throws IOException {
        if (Files.isRegularFile(file)) {
            String misfit = misfit(file, train.name(), train.channels(), train.classNames().size());
            if (misfit != null) {
                throw new IllegalArgumentException(misfit);
            }
            return FeatureNet.load(file);
        }
        long t0 = System.nanoTime();
        log.println("no classifier at " + file + ": training one on " + train.name());
        Settings s = Settings.forData(train.name());
        FeatureNet net = new FeatureNet(FeatureNet.Config.forData(train.channels(), train.classNames().size()),
                s.seed());
        train(net, train, s, file, log);
        double acc = testAccuracy(net, test.head(ACCURACY_IMAGES));
        net.save(file, Map.of("test_accuracy", String.format(Locale.ROOT, "%.4f", acc),
                "epochs", Integer.toString(s.epochs()), "seed", Long.toString(s.seed()), "dataset", train.name()));
        log.printf(Locale.ROOT, "classifier: test accuracy %.2f%% (%d images) in %s; weights %s%n", 100 * acc,
                Math.min(test.size(), ACCURACY_IMAGES),
                Progress.clock((System.nanoTime() - t0) / 1e9), file);
        return net;
    }

    /**
     * Why the classifier at {@code file} cannot score data set {@code name} (images of {@code channels} channels,
     * {@code classes} classes), from the file's header, or null when it can or the file is not there: the check
     * {@code demo} and {@code eval} make before any work.
     */
    public static String misfit(Path file, String name, int channels, int classes) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        FeatureNet.Config stored = FeatureNet.Config.fromMetadata(SafeTensors.read(file).metadata());
        FeatureNet.Config c = stored != null ? stored : FeatureNet.Config.DEFAULT;
        if (c.channels() == channels && c.classes() == classes) {
            return null;
        }
        return "the classifier " + file + " takes " + c.channels() + "-channel images of " + c.classes()
                + " classes; " + name + " has " + channels + " channels and " + classes
                + " classes (it belongs to another data set: name another --classifier)";
    }

    /** Share of positions where {@code predicted} equals {@code labels} (over the predictions' length). */
    static double accuracy(int[] predicted, int[] labels) {
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            correct += predicted[i] == labels[i] ? 1 : 0;
        }
        return (double) correct / predicted.length;
    }

    /** 0, 1, ..., n − 1. */
    public static int[] range(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }
}
