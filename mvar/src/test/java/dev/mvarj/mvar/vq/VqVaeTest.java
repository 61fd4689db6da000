package dev.mvarj.mvar.vq;

import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.tensor.Resampling;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.mvarj.mvar.vq.VqFixtures.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

/** The model-level checks of docs/model.md#consistency-checks and the VQ-VAE's structure (names, φ mapping, save / load). */
class VqVaeTest {

    /** A small RGB model: ch 8, V 64, schedule (1,2,3,4,6,8) on an 8×8 latent. */
    static VqVaeConfig tiny() {
        return new VqVaeConfig(3, 32, 8, new int[]{1, 2, 2}, 1, true, true, 4, 8, 64, ScaleSchedule.small(),
                0.25f, 0.5f, 4);
    }

    static VqVae model;
    static Tensor images;

    @BeforeAll
    static void setUp() {
        model = new VqVae(tiny(), 7);
        ImageDataset data = Shapes.generate(12, 3);
        images = data.images(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, null);
        model.quantize.initCodebook(model.latent(images), new int[]{3, 5, 8, 10, 16, 22}, new Rng(1));
    }

    @Test
    void parameterNamesFollowVarsStateDict() {
        assertThat(model.namedParameters().keySet()).contains("encoder.conv_in.weight",
                "encoder.down.0.block.0.norm1.weight", "encoder.down.0.block.0.conv1.weight",
                "encoder.down.0.downsample.conv.weight", "encoder.down.1.block.0.nin_shortcut.weight",
                "encoder.down.2.attn.0.qkv.weight", "encoder.mid.block_1.conv2.bias", "encoder.mid.attn_1.proj_out.weight",
                "encoder.norm_out.weight", "encoder.conv_out.weight", "decoder.conv_in.weight",
                "decoder.up.0.block.1.conv1.weight", "decoder.up.1.upsample.conv.weight", "decoder.up.2.attn.1.norm.bias",
                "decoder.conv_out.bias", "quantize.quant_resi.qresi_ls.0.weight", "quantize.quant_resi.qresi_ls.3.bias",
                "quantize.embedding.weight", "quant_conv.weight", "post_quant_conv.weight");
        assertThat(model.namedParameters().keySet()).doesNotContain("decoder.up.0.upsample.conv.weight",
                "encoder.down.2.downsample.conv.weight");
        assertThat(model.namedParameters().get("quantize.embedding.weight").shape()).containsExactly(64, 8);
    }

    @Test
    void phiMappingFollowsTheTickRule() {
        assertThat(new ResidualQuantizer(8, 4, ScaleSchedule.small(), 0.25f, 0.5f, 4, new Rng(1)).phiMapping())
                .containsExactly(0, 0, 1, 2, 3, 3);
        assertThat(new ResidualQuantizer(8, 4, ScaleSchedule.parse("1,2,3,4,5,6,8,10,13,16"), 0.25f, 0.5f, 4,
                new Rng(1)).phiMapping()).containsExactly(0, 0, 1, 1, 1, 2, 2, 3, 3, 3);
        assertThat(new ResidualQuantizer(8, 4, ScaleSchedule.parse("1,2,3,4"), 0.25f, 0.5f, 4, new Rng(1))
                .phiMapping()).containsExactly(0, 1, 2, 3);
    }

    @Test
    void nearestCodeBreaksTiesToTheFirstIndex() {
        ResidualQuantizer q = new ResidualQuantizer(4, 2, ScaleSchedule.parse("1"), 0.25f, 0.5f, 1, new Rng(1));
        q.codebook().backend().copy(q.codebook(), Tensor.of(new float[]{5, 5, 1, 0, -1, 0, 1, 0}, 4, 2));
        // (0, 0) is equally far from codes 1, 2 and 3; (1, 0) is code 1 and code 3 exactly
        assertThat(q.nearest(Tensor.of(new float[]{0, 0, 1, 0}, 2, 2))).containsExactly(1, 1);
    }

    @Test
    void constantMapsStayConstantAndSameSizeIsIdentity() {
        Tensor c = Tensor.full(0.37f, 2, 3, 8, 8);
        for (int o : new int[]{1, 2, 3, 4, 6}) {
            assertClose("area 8->" + o, Resampling.resize(c, Resampling.Mode.AREA, o, o), Tensor.full(0.37f, 2, 3, o, o),
                    1e-6, 0);
            Tensor small = Tensor.full(0.37f, 2, 3, o, o);
            assertClose("bicubic " + o + "->8", Resampling.resize(small, Resampling.Mode.BICUBIC, 8, 8), c, 1e-6, 0);
        }
        Tensor x = new Rng(4).normal(0, 1, 2, 3, 8, 8);
        assertClose("area 8->8", Resampling.resize(x, Resampling.Mode.AREA, 8, 8), x, 0, 0);
        assertClose("bicubic 8->8", Resampling.resize(x, Resampling.Mode.BICUBIC, 8, 8), x, 0, 0);
        assertClose("area matrix 8->8", Resampling.area(8, 8), eye(8), 0, 0);
        assertClose("bicubic matrix 8->8", Resampling.bicubic(8, 8), eye(8), 1e-7, 0);
        Tensor one = new Rng(5).normal(0, 1, 1, 2, 1, 1);
        Tensor up = Resampling.resize(one, Resampling.Mode.BICUBIC, 8, 8);
        assertClose("bicubic 1->8 is constant", up, one.expand(1, 2, 8, 8).contiguous(), 1e-6, 1e-6);
    }

    private static Tensor eye(int n) {
        float[] v = new float[n * n];
        for (int i = 0; i < n; i++) {
            v[i * n + i] = 1;
        }
        return Tensor.of(v, n, n);
    }

    @Test
    void encodeThenDecodeEqualsTheTrainingForwardReconstruction() {
        VqVae.Output out;
        try (var ignored = GradMode.off()) {
            out = model.forward(Variable.constant(images));
        }
        Tensor[] idx = model.encode(images);
        for (int s = 0; s < idx.length; s++) {
            assertThat(idx[s].toIntArray()).as("indices of scale " + s)
                    .containsExactly(out.quantized().indices()[s].toIntArray());
        }
        Tensor fhat = model.quantize.fhatFromIndices(idx);
        assertClose("fhat from indices vs training forward", fhat, out.quantized().fhat(), 1e-6, 1e-6);
        Tensor decoded;
        try (var ignored = GradMode.off()) {
            decoded = model.decodeLatent(Variable.constant(fhat)).data();
        }
        assertClose("decode(encode(x)) vs training forward reconstruction", decoded, out.reconstruction().data(),
                1e-5, 1e-5);
        Tensor clamped = model.decode(idx);
        for (float v : clamped.toFloatArray()) {
            assertThat(v).isBetween(-1f, 1f);
        }
    }

    @Test
    void teacherForcingEqualsTheSamplerLoopFedGroundTruthIndices() {
        Tensor[] idx = model.encode(images);
        ResidualQuantizer q = model.quantize;
        ScaleSchedule sch = q.schedule();
        Tensor tf = model.teacherForcing(idx);
        assertThat(tf.shape()).containsExactly(12, sch.length() - 1, q.codeDim());
        // the inference loop of docs/model.md#sampling: addScale, then nextInput, scale by scale
        Tensor fhat = Tensor.zeros(12, q.codeDim(), 8, 8);
        ResidualQuantizer.Quantized enc = q.quantize(model.latent(images));
        for (int s = 0; s < sch.count(); s++) {
            q.addScale(fhat, idx[s], s);
            assertClose("sampler fhat after scale " + s, fhat, enc.fhats()[s], 1e-6, 1e-6);
            if (s + 1 < sch.count()) {
                int from = sch.begin(s + 1) - 1;
                assertClose("input of scale " + (s + 1), q.nextInput(fhat, s),
                        tf.slice(1, from, from + sch.tokens(s + 1)), 0, 0);
            }
        }
    }

    @Test
    void splitAndConcatAreInverse() {
        Tensor[] idx = model.encode(images);
        Tensor flat = model.quantize.concat(idx);
        assertThat(flat.shape()).containsExactly(12, 130);
        Tensor[] back = model.quantize.split(flat);
        for (int s = 0; s < idx.length; s++) {
            assertThat(back[s].toIntArray()).containsExactly(idx[s].toIntArray());
        }
    }

    @Test
    void loadRebuildsTheModelFromTheCheckpointAlone(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tok.safetensors");
        model.save(file, null, java.util.Map.of("note", "test"));
        VqVae back = VqVae.load(file);
        assertThat(back.config).isEqualTo(model.config);
        Tensor[] a = model.encode(images), b = back.encode(images);
        for (int s = 0; s < a.length; s++) {
            assertThat(b[s].toIntArray()).containsExactly(a[s].toIntArray());
        }
        assertClose("decode after load", back.decode(b), model.decode(a), 0, 0);
    }

    @Test
    void configRoundTripsThroughJson() {
        VqVaeConfig c = VqVaeConfig.fashionMnist();
        assertThat(VqVaeConfig.fromJson(c.toJson())).isEqualTo(c);
        assertThat(VqVaeConfig.shapes().vocab()).isEqualTo(512);
        assertThat(c.vocab()).isEqualTo(256);
        assertThat(c.codeDim()).isEqualTo(16);
        assertThat(c.latentSide()).isEqualTo(8);
    }
}
