package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.AttentionPattern;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.vq.VqVae;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code mvarj sample}: class-conditional samples from a trained VAR or MVAR. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Generate class-wise sample grids (and one PNG per sample with --out).")
public final class SampleCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", defaultValue = "runs/mvar/checkpoint.safetensors",
            description = "transformer checkpoint (default: ${DEFAULT-VALUE})")
    Path checkpoint;

    @Option(names = "--tokenizer", description = "tokenizer checkpoint (default: the one the model was trained with)")
    Path tokenizer;

    @Option(names = "--per-class", defaultValue = "8", description = "samples per class (default: ${DEFAULT-VALUE})")
    int perClass;

    @Option(names = "--batch", defaultValue = "32", description = "images per sampling batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--cfg", defaultValue = "1.5",
            description = "guidance: t = cfg·s/(S−1), logits = (1+t)·cond − t·uncond; for MVAR 1 = off (default: ${DEFAULT-VALUE})")
    float cfg;

    @Option(names = "--top-k", defaultValue = "0", description = "top-k filter, 0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "top-p filter, 1 = off (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--seed", defaultValue = "7", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--grid", defaultValue = "runs/samples.png", description = "grid PNG (default: ${DEFAULT-VALUE})")
    Path grid;

    @Option(names = "--out", description = "also write every sample as DIR/<class index>/<n>.png")
    Path out;

    @Override
    public Integer call() throws Exception {
        Runs.Trained t = Runs.load(checkpoint);
        Path tok = tokenizer != null ? tokenizer : Path.of(t.state().getOrDefault("tokenizer", "runs/tokenizer/tokenizer.safetensors"));
        VqVae vae = VqVae.load(tok);
        AttentionPattern pattern = t.options().pattern();
        Generation.Samples s = Generation.generate(t.model(), vae, pattern, perClass, batch,
                new Sampler.Settings(cfg, topK, topP, seed));
        Generation.write(s, perClass, grid, out);
        System.out.printf(Locale.ROOT, "%s: %d samples in %.2f s (%.1f ms/image), KV cache %.2f MiB at batch %d;"
                        + " grid %s%s%n", pattern, s.labels().length, s.seconds(), 1e3 * s.seconds() / s.labels().length,
                s.kvCacheBytes() / 1048576.0, batch, grid, out == null ? "" : ", images under " + out);
        return 0;
    }
}
