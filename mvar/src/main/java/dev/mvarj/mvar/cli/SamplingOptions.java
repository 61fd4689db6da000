package dev.mvarj.mvar.cli;

import dev.mvarj.mvar.model.Sampler;
import dev.mvarj.mvar.train.Runs;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.tensor.Device;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** The options {@code sample} and {@code eval} share: which model, which tokenizer, and how to sample. */
final class SamplingOptions {

    @Option(names = "--checkpoint", defaultValue = "runs/mvar/checkpoint.safetensors",
            description = "transformer checkpoint (default: ${DEFAULT-VALUE})")
    Path checkpoint;

    @Option(names = "--tokenizer", description = "tokenizer checkpoint (default: the one the model was trained with)")
    Path tokenizer;

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

    @Option(names = "--device", defaultValue = "cpu",
            description = "where the transformer runs: cpu, opencl or opencl:N (default: ${DEFAULT-VALUE})")
    String device;

    Sampler.Settings settings() {
        return new Sampler.Settings(cfg, topK, topP, seed);
    }

    /** The trained model (on {@code --device}) and the tokenizer that decodes its samples (on the CPU). */
    record Loaded(Runs.Trained trained, VqVae tokenizer) {
    }

    Loaded load() throws IOException {
        Runs.Trained t = Runs.load(checkpoint);
        t.model().to(Device.parse(device));
        Path tok = tokenizer != null ? tokenizer
                : Path.of(t.state().getOrDefault("tokenizer", "runs/tokenizer/tokenizer.safetensors"));
        return new Loaded(t, VqVae.load(tok));
    }
}
