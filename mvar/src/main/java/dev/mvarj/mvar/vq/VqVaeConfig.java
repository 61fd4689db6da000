package dev.mvarj.mvar.vq;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.mvarj.mvar.model.ScaleSchedule;

import java.util.Arrays;

/**
 * The multi-scale VQ-VAE's configuration (docs/model.md#the-tokenizer,
 * docs/model.md#multi-scale-residual-quantization, small version: docs/model.md#official-defaults-and-where-this-project-differs). The encoder downsamples by
 * 2^(len(chMult) − 1), so a 32×32 image with chMult (1, 2, 2) gives the 8×8 latent whose side must equal the last
 * scale of {@code schedule}.
 *
 * @param imageChannels  1 (Fashion-MNIST) or 3 (RGB shapes)
 * @param imageSize      input side in pixels (32)
 * @param ch             base channels of the CNN
 * @param chMult         channel multiplier per resolution level
 * @param numResBlocks   ResnetBlocks per level in the encoder (the decoder has one more, as VAR)
 * @param attnLowest     attention blocks at the lowest resolution (after each ResnetBlock of the last level)
 * @param midAttn        attention in the middle block
 * @param groups         GroupNorm groups (eps 1e-6)
 * @param codeDim        Cvae, the latent / code dimension
 * @param vocab          V, the size of the one codebook shared by all scales
 * @param schedule       {@code patch_nums}
 * @param beta           commitment weight of the VQ loss (docs/model.md#tokenizer-training)
 * @param quantResi      φ(z) = (1 − quantResi)·z + quantResi·conv3x3(z)
 * @param shareQuantResi 0: one φ per scale; 1: one shared φ; K ≥ 2: K φ picked by the tick rule of
 *                       docs/model.md#multi-scale-residual-quantization
 */
public record VqVaeConfig(int imageChannels, int imageSize, int ch, int[] chMult, int numResBlocks,
                          boolean attnLowest, boolean midAttn, int groups, int codeDim, int vocab,
                          ScaleSchedule schedule, float beta, float quantResi, int shareQuantResi) {

    public VqVaeConfig {
        chMult = chMult.clone();
        int latent = imageSize >> (chMult.length - 1);
        if (latent << (chMult.length - 1) != imageSize || latent != schedule.last()) {
            throw new IllegalArgumentException("VqVaeConfig: a " + imageSize + "px image with " + chMult.length
                    + " levels gives a " + imageSize / (1 << (chMult.length - 1)) + "x latent, but the schedule "
                    + schedule + " ends at " + schedule.last());
        }
        for (int m : chMult) {
            if (ch * m % groups != 0) {
                throw new IllegalArgumentException("VqVaeConfig: " + ch * m + " channels do not split into "
                        + groups + " groups");
            }
        }
        if (vocab < 2 || codeDim < 1 || numResBlocks < 1 || shareQuantResi < 0) {
            throw new IllegalArgumentException("VqVaeConfig: vocab >= 2, codeDim >= 1, numResBlocks >= 1 and "
                    + "shareQuantResi >= 0 are required");
        }
    }

    /**
     * The default for Fashion-MNIST (docs/model.md#official-defaults-and-where-this-project-differs): 1×32×32, ch 16 × (1, 2, 2), one ResnetBlock per level, GroupNorm(8), attention in
     * the middle block at 8×8 (not after every lowest-level block, to fit the CPU budget), 8×8×16 latent, V = 256,
     * schedule (1,2,3,4,6,8).
     */
    public static VqVaeConfig fashionMnist() {
        return new VqVaeConfig(1, 32, 16, new int[]{1, 2, 2}, 1, false, true, 8, 16, 256,
                ScaleSchedule.small(), 0.25f, 0.5f, 4);
    }

    /**
     * The RGB shapes set: as {@link #fashionMnist()} with 3 channels, V = 512 and GroupNorm(4). With eight groups the
     * 16 channels of the top level normalise in pairs, and a pair cannot carry a flat region's absolute colour
     * through the normalisation: at 400 steps the reconstructions turn every shape beige or blue (18.9 dB); with
     * four groups the colours are learned (21.2 dB; docs/results.md#the-demo-recipe).
     */
    public static VqVaeConfig shapes() {
        return fashionMnist().withImageChannels(3).withVocab(512).withGroups(4);
    }

    /** The latent side h = w (= the last scale's side). */
    public int latentSide() {
        return schedule.last();
    }

    public VqVaeConfig withImageChannels(int c) {
        return new VqVaeConfig(c, imageSize, ch, chMult, numResBlocks, attnLowest, midAttn, groups, codeDim, vocab,
                schedule, beta, quantResi, shareQuantResi);
    }

    public VqVaeConfig withVocab(int v) {
        return new VqVaeConfig(imageChannels, imageSize, ch, chMult, numResBlocks, attnLowest, midAttn, groups,
                codeDim, v, schedule, beta, quantResi, shareQuantResi);
    }

    public VqVaeConfig withCh(int c) {
        return withCh(c, groups);
    }

    public VqVaeConfig withAttention(boolean lowest, boolean mid) {
        return new VqVaeConfig(imageChannels, imageSize, ch, chMult, numResBlocks, lowest, mid, groups, codeDim,
                vocab, schedule, beta, quantResi, shareQuantResi);
    }

    /** Base channels {@code c} with GroupNorm groups {@code g}, checked together (g must divide every level). */
    public VqVaeConfig withCh(int c, int g) {
        return new VqVaeConfig(imageChannels, imageSize, c, chMult, numResBlocks, attnLowest, midAttn, g, codeDim,
                vocab, schedule, beta, quantResi, shareQuantResi);
    }

    public VqVaeConfig withGroups(int g) {
        return withCh(ch, g);
    }

    public VqVaeConfig withCodeDim(int d) {
        return new VqVaeConfig(imageChannels, imageSize, ch, chMult, numResBlocks, attnLowest, midAttn, groups,
                d, vocab, schedule, beta, quantResi, shareQuantResi);
    }

    /** As JSON, stored in checkpoint and token-cache metadata under {@code vqvae.config}. */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("image_channels", imageChannels);
        o.addProperty("image_size", imageSize);
        o.addProperty("ch", ch);
        o.add("ch_mult", new Gson().toJsonTree(chMult));
        o.addProperty("num_res_blocks", numResBlocks);
        o.addProperty("attn_lowest", attnLowest);
        o.addProperty("mid_attn", midAttn);
        o.addProperty("groups", groups);
        o.addProperty("z_channels", codeDim);
        o.addProperty("vocab_size", vocab);
        o.add("v_patch_nums", new Gson().toJsonTree(schedule.sides()));
        o.addProperty("beta", beta);
        o.addProperty("quant_resi", quantResi);
        o.addProperty("share_quant_resi", shareQuantResi);
        return o.toString();
    }

    public static VqVaeConfig fromJson(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        Gson g = new Gson();
        return new VqVaeConfig(o.get("image_channels").getAsInt(), o.get("image_size").getAsInt(),
                o.get("ch").getAsInt(), g.fromJson(o.get("ch_mult"), int[].class), o.get("num_res_blocks").getAsInt(),
                o.get("attn_lowest").getAsBoolean(), o.get("mid_attn").getAsBoolean(), o.get("groups").getAsInt(),
                o.get("z_channels").getAsInt(), o.get("vocab_size").getAsInt(),
                new ScaleSchedule(g.fromJson(o.get("v_patch_nums"), int[].class)), o.get("beta").getAsFloat(),
                o.get("quant_resi").getAsFloat(), o.get("share_quant_resi").getAsInt());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VqVaeConfig c && toJson().equals(c.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "VqVaeConfig" + toJson() + " chMult=" + Arrays.toString(chMult);
    }
}
