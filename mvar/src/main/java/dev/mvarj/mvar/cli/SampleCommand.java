package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.model.AttentionPattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code mvarj sample}: class-conditional samples from a trained VAR or MVAR. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Generate class-wise sample grids (and one PNG per sample with --out).")
public final class SampleCommand implements Callable<Integer> {

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--per-class", defaultValue = "8", description = "samples per class (default: ${DEFAULT-VALUE})")
    int perClass;

    @Option(names = "--grid", defaultValue = "runs/samples.png", description = "grid PNG (default: ${DEFAULT-VALUE})")
    Path grid;

    @Option(names = "--out", description = "also write every sample as DIR/<class index>/<n>.png")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Checks check = new Checks(spec);
        check.atLeast("--per-class", perClass, 1);
        sampling.check(check);
        check.outputFile("--grid", grid);
        if (out != null) {
            check.outputDir("--out", out);
        }
        SamplingOptions.Loaded m = sampling.load(check);
        AttentionPattern pattern = m.trained().options().pattern();
        Generation.Samples s = Generation.generate(m.trained().model(), m.tokenizer(), pattern, perClass,
                sampling.batch, sampling.settings());
        Generation.write(s, perClass, Datasets.classNames(m.dataset()), grid, out);
        Main.out(spec).printf(Locale.ROOT, "%s: %d samples in %.2f s (%.1f ms/image); at batch %d: KV cache %.2f MiB,"
                        + " peak sampling memory %.2f MiB (weights excluded); grid %s%s%n", pattern, s.labels().length,
                s.seconds(), 1e3 * s.seconds() / s.labels().length, sampling.batch, s.kvCacheBytes() / 1048576.0,
                s.peakBytes() / 1048576.0, grid, out == null ? "" : ", images under " + out);
        return 0;
    }
}
