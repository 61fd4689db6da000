package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.eval.Evaluator;
import dev.mvarj.mvar.eval.PrecisionRecall;
import dev.mvarj.mvar.model.AttentionPattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code mvarj eval}: samples a trained model and scores the samples with the classifier of the data set its
 * tokenizer was trained on (trained first when missing): Fréchet distance in the classifier's features to the test
 * split, class consistency, precision and recall, next to the same figures for real training images (the floor) and
 * the tokenizer's reconstructions of them (the ceiling); plus the efficiency figures (attention pairs, KV cache,
 * sampling time).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Score samples of a trained VAR/MVAR with a classifier of its data set, against real images"
                + " and the tokenizer's reconstructions.")
public final class EvalCommand implements Callable<Integer> {

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--classifier", description = "FeatureNet checkpoint (default: runs/classifier/fashion_cnn"
            + ".safetensors or shapes_cnn.safetensors, after the data set; trained and written there when missing)")
    Path classifier;

    @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
            description = "Fashion-MNIST directory, for a model of Fashion-MNIST (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--per-class", defaultValue = "100", description = "samples per class (default: ${DEFAULT-VALUE})")
    int perClass;

    @Option(names = "--bounds", defaultValue = "true", negatable = true,
            description = "also score real images and the tokenizer's reconstructions (default: ${DEFAULT-VALUE})")
    boolean bounds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Checks check = new Checks(spec);
        check.atLeast("--per-class", perClass, PrecisionRecall.DEFAULT_K + 1);
        sampling.check(check);
        if (classifier != null) {
            check.outputFile("--classifier", classifier);         // trained and written there when missing
        }
        SamplingOptions.Loaded m = sampling.load(check);
        String dataset = m.dataset();
        Scorecard.checkData(check, dataset, data);
        Scorecard.checkClassifier(check, classifier, dataset);
        PrintStream out = Main.out(spec);
        Scorecard card = Scorecard.open(dataset, data, classifier, out);
        if (bounds) {
            card.bounds(m.tokenizer(), perClass);
        }
        AttentionPattern pattern = m.trained().options().pattern();
        Generation.Samples s = Generation.generate(m.trained().model(), m.tokenizer(), pattern, perClass,
                sampling.batch, sampling.settings());
        Evaluator.Report r = card.score(Generation.describe(pattern, sampling.settings()), s.images(), s.labels());
        out.println(pattern + ": " + r.summary());
        out.print(card.table());
        out.print(r.perClassTable(card.classNames()));
        out.printf(Locale.ROOT, "attention query-key pairs per image %,d; at batch %d: KV cache %.2f MiB,"
                        + " peak sampling memory %.2f MiB (weights excluded, %.2f MiB); sampling %.1f ms/image%n",
                pattern.attentionPairs(m.trained().model().cfg), sampling.batch, s.kvCacheBytes() / 1048576.0,
                s.peakBytes() / 1048576.0, 4.0 * m.trained().model().parameterCount() / 1048576.0,
                1e3 * s.seconds() / s.labels().length);
        return 0;
    }
}
