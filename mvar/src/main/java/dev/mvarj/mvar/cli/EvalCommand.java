package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.eval.Evaluator;
import dev.mvarj.mvar.eval.FeatureNet;
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
 * {@code mvarj eval}: samples a trained model and scores the samples in the feature space of the Fashion-MNIST
 * classifier ({@code ./mvarj example classifier} trains it): Fréchet distance to the test split, class consistency,
 * precision and recall; plus the efficiency figures (attention pairs, KV cache, sampling time).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Score samples of a trained VAR/MVAR with the Fashion-MNIST classifier's features.")
public final class EvalCommand implements Callable<Integer> {

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--classifier", description = "FeatureNet checkpoint (default: runs/classifier/fashion_cnn.safetensors)")
    Path classifier;

    @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
            description = "Fashion-MNIST directory (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--per-class", defaultValue = "100", description = "samples per class (default: ${DEFAULT-VALUE})")
    int perClass;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Checks check = new Checks(spec);
        check.atLeast("--per-class", perClass, 1);
        sampling.check(check);
        Path features = classifier != null ? classifier : FeatureNet.DEFAULT_CHECKPOINT;
        check.inputDir("--data", data);
        if (!FashionMnist.available(data)) {
            throw check.error("--data " + data + " does not hold the Fashion-MNIST files (*-images-idx3-ubyte.gz,"
                    + " *-labels-idx1-ubyte.gz)");
        }
        check.inputFile(classifier != null ? "--classifier" : "the classifier (--classifier)", features);
        SamplingOptions.Loaded m = sampling.load(check);
        AttentionPattern pattern = m.trained().options().pattern();
        Evaluator ev = Evaluator.fashionMnist(features, data);
        Generation.Samples s = Generation.generate(m.trained().model(), m.tokenizer(), pattern, perClass,
                sampling.batch, sampling.settings());
        Evaluator.Report r = ev.evaluate(s.images(), s.labels());
        PrintStream out = Main.out(spec);
        out.println(pattern + ": " + r.summary());
        out.printf(Locale.ROOT, "attention query-key pairs per image %,d; at batch %d: KV cache %.2f MiB,"
                        + " peak sampling memory %.2f MiB (weights excluded, %.2f MiB); sampling %.1f ms/image%n",
                pattern.attentionPairs(m.trained().model().cfg), sampling.batch, s.kvCacheBytes() / 1048576.0,
                s.peakBytes() / 1048576.0, 4.0 * m.trained().model().parameterCount() / 1048576.0,
                1e3 * s.seconds() / s.labels().length);
        return 0;
    }
}
