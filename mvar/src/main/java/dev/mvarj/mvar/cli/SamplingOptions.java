package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.data.Datasets;
import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.model.TransformerConfig;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.mvar.vq.VqVaeConfig;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.io.SafeTensors;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The options {@code sample} and {@code eval} share: which model, which tokenizer, and how to sample. */
final class SamplingOptions {

    @Option(names = "--checkpoint", defaultValue = "runs/mvar/checkpoint.safetensors",
            description = "transformer checkpoint (default: ${DEFAULT-VALUE})")
    Path checkpoint;

    @Option(names = "--tokenizer", description = "tokenizer checkpoint (default: the one the model was trained with)")
    Path tokenizer;

    @Option(names = "--batch", defaultValue = "32", description = "images per sampling batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--cfg", defaultValue = "" + Generation.DEFAULT_CFG,
            description = "guidance: t = cfg·s/(S−1), logits = (1+t)·cond − t·uncond; for MVAR 1 = off (default: ${DEFAULT-VALUE})")
    float cfg;

    @Option(names = "--top-k", defaultValue = "0", description = "top-k filter, 0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "" + Generation.DEFAULT_TOP_P, description = "top-p filter, 1 = off (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--seed", defaultValue = "7", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--device", defaultValue = "cpu",
            description = "where the transformer runs: cpu, opencl or opencl:N (default: ${DEFAULT-VALUE})")
    String device;

    Sampler.Settings settings() {
        return new Sampler.Settings(cfg, topK, topP, seed);
    }

    /** The trained model (on {@code --device}) and the tokenizer that decodes its samples (on the CPU). */
    record Loaded(Runs.Trained trained, VqVae tokenizer, Path tokenizerFile) {

        /** The data set the tokenizer was trained on ({@link #datasetOf}). */
        String dataset() throws IOException {
            return datasetOf(tokenizerFile, tokenizer);
        }
    }

    /**
     * The data set a tokenizer was trained on: the name its checkpoint records, or, for a checkpoint without one,
     * the image channels (3: the RGB shapes, 1: Fashion-MNIST).
     */
    static String datasetOf(Path tokenizerCheckpoint, VqVae vae) throws IOException {
        String recorded = SafeTensors.read(tokenizerCheckpoint).metadata().get("trainer.dataset");
        if (recorded != null) {
            return Datasets.family(recorded);
        }
        return vae.config.imageChannels() == 3 ? Datasets.SHAPES : Datasets.FASHION;
    }

    /** Checks the sampling options and the files they name, before anything is loaded. */
    void check(Checks check) {
        checkSettings(check, cfg, topK, topP);
        check.atLeast("--batch", batch, 1).inputFile("--checkpoint", checkpoint);
        if (tokenizer != null) {
            check.inputFile("--tokenizer", tokenizer);
        }
        check.device("--device", device);
    }

    /** Guidance and filters: cfg ≥ 0, top-k ≥ 0, top-p in (0, 1] (also a request of the web page). */
    static void checkSettings(Checks check, float cfg, int topK, float topP) {
        if (!(topP > 0 && topP <= 1)) {
            throw check.error("--top-p must be in (0, 1] (1 = off), got " + topP);
        }
        check.nonNegative("--cfg", cfg).atLeast("--top-k", topK, 0);
    }

    /** top-k within the vocabulary of the model. */
    static void checkTopK(Checks check, int topK, int vocab) {
        if (topK > vocab) {
            throw check.error("--top-k " + topK + " is larger than the vocabulary (" + vocab + ")");
        }
    }

    /**
     * Loads the model and its tokenizer; refuses a tokenizer that does not fit the model (vocabulary, code dimension,
     * schedule) and a {@code --top-k} beyond the vocabulary.
     */
    Loaded load(Checks check) throws IOException {
        Runs.Trained t = Runs.load(checkpoint);
        Path tok = tokenizer != null ? tokenizer
                : Path.of(t.state().getOrDefault("tokenizer", "runs/tokenizer/tokenizer.safetensors"));
        if (tokenizer == null && !Files.isRegularFile(tok)) {
            throw check.error("the tokenizer " + tok + " that --checkpoint " + checkpoint + " was trained with is not"
                    + " there; name one with --tokenizer");
        }
        VqVae vae = VqVae.load(tok);
        TransformerConfig m = t.model().cfg;
        VqVaeConfig v = vae.config;
        List<String> misfits = new ArrayList<>();
        if (v.vocab() != m.vocab()) {
            misfits.add("vocabulary " + v.vocab() + " vs " + m.vocab());
        }
        if (v.codeDim() != m.codeDim()) {
            misfits.add("code dimension " + v.codeDim() + " vs " + m.codeDim());
        }
        if (!v.schedule().equals(m.schedule())) {
            misfits.add("schedule " + v.schedule() + " vs " + m.schedule());
        }
        if (!misfits.isEmpty()) {
            throw check.error("the tokenizer " + tok + " does not fit the transformer " + checkpoint + ": "
                    + String.join(", ", misfits) + " (tokenizer vs transformer)");
        }
        checkTopK(check, topK, m.vocab());
        t.model().to(Device.parse(device));
        return new Loaded(t, vae, tok);
    }
}
