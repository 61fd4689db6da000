package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.eval.ClassifierTrainer;
import dev.mvarj.mvar.eval.Evaluator;
import dev.mvarj.mvar.eval.FeatureNet;
import dev.mvarj.mvar.eval.PrecisionRecall;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The generation metrics of {@code eval} and {@code demo}, read against their bounds: the samples are scored next to
 * real training images of the same classes and count (the floor: what a perfect generator would get at this number
 * of images) and next to the tokenizer's reconstructions of those images (the ceiling: the transformer can only
 * produce what the tokenizer decodes). All three are scored by the classifier of the data set the tokenizer was
 * trained on, against its test split; the classifier is trained first when it is missing.
 */
final class Scorecard {

    /** One scored set of images: what it is, and its report. */
    record Row(String what, Evaluator.Report report) {
    }

    private final Evaluator evaluator;
    private final ImageDataset train;
    private final List<Row> rows = new ArrayList<>();

    private Scorecard(Evaluator evaluator, ImageDataset train) {
        this.evaluator = evaluator;
        this.train = train;
    }

    /**
     * Prepares the scoring of data set {@code dataset} (read from {@code dataDir} when it is Fashion-MNIST) with the
     * classifier at {@code classifier}, or at the data set's default path when null; a missing classifier is trained
     * and saved there, with its progress on {@code log}.
     */
    static Scorecard open(String dataset, Path dataDir, Path classifier, PrintStream log) throws IOException {
        ImageDataset train = Datasets.split(dataset, dataDir, true), test = Datasets.split(dataset, dataDir, false);
        FeatureNet net = ClassifierTrainer.ensure(classifierFile(classifier, dataset), train, test, log);
        return new Scorecard(new Evaluator(net, test, Evaluator.DEFAULT_REAL_SAMPLES, PrecisionRecall.DEFAULT_K),
                train);
    }

    /** The classifier {@code eval} and {@code demo} use: {@code --classifier}, or the data set's default file. */
    static Path classifierFile(Path given, String dataset) {
        return given != null ? given : FeatureNet.defaultCheckpoint(dataset);
    }

    /** Refuses a {@code --data} directory without Fashion-MNIST's files for a model of Fashion-MNIST. */
    static void checkData(Checks check, String dataset, Path data) {
        if (dataset.equals(Datasets.FASHION) && !FashionMnist.available(data)) {
            throw check.error("the model was trained on Fashion-MNIST, but --data " + data + " does not hold its"
                    + " files (*-images-idx3-ubyte.gz, *-labels-idx1-ubyte.gz)");
        }
    }

    /**
     * Refuses, before any work, an existing classifier (given, or the data set's default) that takes other images
     * than the data set's (channels, classes); a missing one is trained later.
     */
    static void checkClassifier(Checks check, Path given, String dataset) throws IOException {
        String misfit = ClassifierTrainer.misfit(classifierFile(given, dataset), dataset, Datasets.channels(dataset),
                Datasets.classNames(dataset).size());
        if (misfit != null) {
            throw check.error(misfit);
        }
    }

    /**
     * Scores the first {@code perClass} training images of every class (the floor) and the tokenizer's
     * reconstructions of the same images (the ceiling), as rows of this card.
     */
    Scorecard bounds(VqVae vae, int perClass) {
        int[] idx = train.firstPerClass(perClass), labels = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            labels[i] = i / perClass;
        }
        Tensor real = train.images(idx, null);
        rows.add(new Row("real training images (floor)", evaluator.evaluate(real, labels)));
        rows.add(new Row("tokenizer reconstructions (ceiling)", evaluator.evaluate(reconstruct(vae, real), labels)));
        return this;
    }

    /** Scores generated {@code images} (M, c, 32, 32) for the classes {@code labels} as a row named {@code what}. */
    Evaluator.Report score(String what, Tensor images, int[] labels) {
        Evaluator.Report r = evaluator.evaluate(images, labels);
        rows.add(new Row(what, r));
        return r;
    }

    List<Row> rows() {
        return List.copyOf(rows);
    }

    /** The class names of the data set, in label order. */
    List<String> classNames() {
        return train.classNames();
    }

    /** The rows as a Markdown table: images, M, FD, class consistency, precision, recall. */
    String table() {
        StringBuilder sb = new StringBuilder("| images | M | Fréchet distance | class consistency | precision | recall |\n"
                + "|---|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            Evaluator.Report p = r.report();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.1f%% | %.3f | %.3f |%n", r.what(), p.generated(),
                    p.frechetDistance(), 100 * p.classConsistency(), p.precision(), p.recall()));
        }
        return sb.toString();
    }

    /** The tokenizer's reconstruction of {@code images} (N, c, H, W), 100 images at a time. */
    static Tensor reconstruct(VqVae vae, Tensor images) {
        int[] shape = images.shape();
        int n = shape[0], per = shape[1] * shape[2] * shape[3];
        float[] out = new float[n * per];
        for (int s = 0; s < n; s += 100) {
            float[] part = vae.decode(vae.encode(images.slice(0, s, Math.min(n, s + 100)).contiguous())).toFloatArray();
            System.arraycopy(part, 0, out, s * per, part.length);
        }
        return Tensor.of(out, shape);
    }
}
