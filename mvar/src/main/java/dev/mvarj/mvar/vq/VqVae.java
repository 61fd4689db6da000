package dev.mvarj.mvar.vq;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.nn.AdamW;
import dev.mvarj.nn.Checkpoint;
import dev.mvarj.nn.Conv2d;
import dev.mvarj.nn.Module;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.io.SafeTensors;
import dev.mvarj.tensor.io.SafeTensorsException;
import dev.mvarj.tensor.random.Rng;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The multi-scale residual VQ-VAE (docs/model.md#the-tokenizer, VAR's {@code VQVAE}): image → encoder → quant_conv → f → residual
 * quantizer → fhat → post_quant_conv → decoder → image. Images are (B, Cin, H, W) in [−1, 1].
 *
 * <p>Three views of the same model, which agree with each other (docs/model.md#consistency-checks): {@link #encode} (image → per-scale index
 * maps), {@link #decode} (index maps → image) and {@link #teacherForcing} (index maps → the transformer's input).
 * {@link #forward} is the training forward (docs/model.md#tokenizer-training). {@link #load} rebuilds a model from a checkpoint alone.
 */
public final class VqVae extends Module {

    /** Checkpoint metadata key holding {@link VqVaeConfig#toJson()}. */
    public static final String CONFIG_KEY = "vqvae.config";

    public final VqVaeConfig config;
    public final VaeBlocks.Encoder encoder;
    public final VaeBlocks.Decoder decoder;
    public final ResidualQuantizer quantize;
    public final Conv2d quantConv, postQuantConv;

    /** A freshly initialised model; parameters are drawn from {@code seed}. */
    public VqVae(VqVaeConfig config, long seed) {
        this.config = config;
        Rng rng = new Rng(seed);
        encoder = child("encoder", new VaeBlocks.Encoder(config, rng));
        decoder = child("decoder", new VaeBlocks.Decoder(config, rng));
        quantize = child("quantize", new ResidualQuantizer(config.vocab(), config.codeDim(), config.schedule(),
                config.beta(), config.quantResi(), config.shareQuantResi(), rng));
        quantConv = child("quant_conv", VaeBlocks.conv3(config.codeDim(), config.codeDim(), rng));
        postQuantConv = child("post_quant_conv", VaeBlocks.conv3(config.codeDim(), config.codeDim(), rng));
    }

    /** f = quant_conv(Enc(x)): x (B, Cin, H, W) -> (B, Cvae, h, w). */
    public Variable latent(Variable x) {
        return quantConv.forward(encoder.forward(x));
    }

    /** Dec(post_quant_conv(fhat)): (B, Cvae, h, w) -> (B, Cin, H, W), not clamped. */
    public Variable decodeLatent(Variable fhat) {
        return decoder.forward(postQuantConv.forward(fhat));
    }

    /** The training forward: the reconstruction (not clamped), the VQ loss and the quantisation
     * (docs/model.md#tokenizer-training). */
    public record Output(Variable reconstruction, Variable vqLoss, ResidualQuantizer.Quantized quantized) {
    }

    /** x (B, Cin, H, W) in [−1, 1] -> {@link Output}; gradients reach every parameter. */
    public Output forward(Variable x) {
        ResidualQuantizer.Forward q = quantize.forward(latent(x));
        return new Output(decodeLatent(q.output()), q.vqLoss(), q.quantized());
    }

    /** The latent f of images, without gradient. */
    public Tensor latent(Tensor images) {
        try (var ignored = GradMode.off()) {
            return latent(Variable.constant(images)).data();
        }
    }

    /** docs/model.md#multi-scale-residual-quantization: images (B, Cin, H, W) -> index maps (B, n[s]) I32 per scale. */
    public Tensor[] encode(Tensor images) {
        return quantize.quantize(latent(images)).indices();
    }

    /** docs/model.md#multi-scale-residual-quantization, decode: index maps (B, n[s]) -> images (B, Cin, H, W) clamped to [−1, 1]. */
    public Tensor decode(Tensor[] indices) {
        return decodeFhat(quantize.fhatFromIndices(indices));
    }

    /** fhat (B, Cvae, h, w) -> images clamped to [−1, 1] (what the sampler's result is decoded with). */
    public Tensor decodeFhat(Tensor fhat) {
        try (var ignored = GradMode.off()) {
            return F.clamp(decodeLatent(Variable.constant(fhat)), -1f, 1f).data();
        }
    }

    /** docs/model.md#teacher-forcing-from-the-cumulative-reconstruction: index maps -> the teacher-forcing input (B, L − n[0], Cvae). */
    public Tensor teacherForcing(Tensor[] indices) {
        return quantize.teacherForcing(indices);
    }

    /**
     * The reconstruction after each scale: element s is Dec(fhat_s) (B, Cin, H, W) clamped, with fhat_s the
     * cumulative fhat of scales 0..s. The last one is the full reconstruction.
     */
    public Tensor[] reconstructPerScale(Tensor images) {
        Tensor[] fhats = quantize.quantize(latent(images)).fhats();
        Tensor[] out = new Tensor[fhats.length];
        for (int s = 0; s < fhats.length; s++) {
            out[s] = decodeFhat(fhats[s]);
        }
        return out;
    }

    /**
     * The decoded picture after each scale of given index maps (B, n[s]), s = 0 .. S − 1: element s is
     * Dec(Σ_{t ≤ s} φ(up(E[idx_t]))) (B, Cin, H, W) clamped, the coarse-to-fine progression of a sample.
     */
    public Tensor[] decodePerScale(Tensor[] indices) {
        Tensor fhat = Tensor.zeros(indices[0].size(0), quantize.codeDim(), config.latentSide(), config.latentSide());
        Tensor[] out = new Tensor[indices.length];
        for (int s = 0; s < indices.length; s++) {
            quantize.addScale(fhat, indices[s], s);
            out[s] = decodeFhat(fhat);
        }
        return out;
    }

    /** Writes the model (and optionally the optimiser and trainer state) with the config in the metadata. */
    public void save(Path file, AdamW optimizer, Map<String, String> state) throws IOException {
        Map<String, String> meta = new HashMap<>(state);
        meta.put(CONFIG_KEY, config.toJson());
        Checkpoint.save(file, this, optimizer, meta);
    }

    /** The config stored in a tokenizer checkpoint. */
    public static VqVaeConfig readConfig(Path file) throws IOException {
        String json = SafeTensors.read(file).metadata().get(CONFIG_KEY);
        if (json == null) {
            throw new SafeTensorsException(file, "not a tokenizer checkpoint (no '" + CONFIG_KEY + "' metadata)");
        }
        return VqVaeConfig.fromJson(json);
    }

    /**
     * Rebuilds a tokenizer from a checkpoint written by {@link #save} (e.g. {@code runs/tokenizer/tokenizer.safetensors}):
     * the config comes from the file's metadata, the weights from its tensors. Returned in eval mode.
     */
    public static VqVae load(Path file) throws IOException {
        VqVae model = new VqVae(readConfig(file), 0);
        Checkpoint.load(file, model, null);
        model.eval();
        return model;
    }
}
