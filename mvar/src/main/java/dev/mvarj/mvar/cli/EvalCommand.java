package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.FashionMnist;
import dev.mvarj.mvar.eval.Evaluator;
import dev.mvarj.mvar.eval.FeatureNet;
import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.vq.VqVae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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

    @Option(names = "--checkpoint", defaultValue = "runs/mvar/checkpoint.safetensors",
            description = "transformer checkpoint (default: ${DEFAULT-VALUE})")
    Path checkpoint;

    @Option(names = "--tokenizer", description = "tokenizer checkpoint (default: the one the model was trained with)")
    Path tokenizer;

    @Option(names = "--classifier", description = "FeatureNet checkpoint (default: runs/classifier/fashion_cnn.safetensors)")
    Path classifier;

    @Option(names = "--data", defaultValue = FashionMnist.DEBIAN_DIR,
            description = "Fashion-MNIST directory (default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--per-class", defaultValue = "100", description = "samples per class (default: ${DEFAULT-VALUE})")
    int perClass;

    @Option(names = "--batch", defaultValue = "50", description = "images per sampling batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--cfg", defaultValue = "1.5", description = "guidance (default: ${DEFAULT-VALUE})")
    float cfg;

    @Option(names = "--top-k", defaultValue = "0", description = "top-k, 0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "top-p, 1 = off (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--seed", defaultValue = "11", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        Runs.Trained t = Runs.load(checkpoint);
        Path tok = tokenizer != null ? tokenizer : Path.of(t.state().getOrDefault("tokenizer", "runs/tokenizer/tokenizer.safetensors"));
        VqVae vae = VqVae.load(tok);
        AttentionPattern pattern = t.options().pattern();
        Evaluator ev = Evaluator.fashionMnist(classifier != null ? classifier : FeatureNet.DEFAULT_CHECKPOINT, data);
        Generation.Samples s = Generation.generate(t.model(), vae, pattern, perClass, batch,
                new Sampler.Settings(cfg, topK, topP, seed));
        Evaluator.Report r = ev.evaluate(s.images(), s.labels());
        System.out.println(pattern + ": " + r.summary());
        System.out.printf(Locale.ROOT, "attention query-key pairs per image %,d; KV cache %.2f MiB at batch %d;"
                        + " sampling %.1f ms/image%n", pattern.attentionPairs(t.model().cfg), s.kvCacheBytes() / 1048576.0,
                batch, 1e3 * s.seconds() / s.labels().length);
        return 0;
    }
}
