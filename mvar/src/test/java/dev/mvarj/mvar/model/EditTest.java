package dev.mvarj.mvar.model;

import dev.mvarj.mvar.data.ImageDataset;
import dev.mvarj.mvar.data.Shapes;
import dev.mvarj.mvar.vq.VqVae;
import dev.mvarj.mvar.vq.VqVaeConfig;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Zero-shot editing in the sampler (docs/editing.md), for VAR (KV cache) and MVAR (Markov): the mask rule, the two
 * limits (keep everything = the tokenizer's reconstruction; regenerate everything = plain sampling of the seed) and a
 * real in-painting whose kept tokens are the image's at every scale.
 */
class EditTest {

    static VqVae vae;
    static NextScaleTransformer model;
    static Tensor images;
    static final int B = 3, SIDE = 32;

    @BeforeAll
    static void setUp() {
        VqVaeConfig c = new VqVaeConfig(3, SIDE, 8, new int[]{1, 2, 2}, 1, false, false, 4, 8, 64,
                ScaleSchedule.small(), 0.25f, 0.5f, 4);
        vae = new VqVae(c, 7);
        ImageDataset data = Shapes.generate(B, 3);
        images = data.images(new int[]{0, 1, 2}, null);
        vae.quantize.initCodebook(vae.latent(images), new int[]{3, 5, 8, 10, 16, 22}, new Rng(1));
        model = new NextScaleTransformer(new TransformerConfig(2, 16, 2, 64, 8, 4, ScaleSchedule.small(), 0f, 0.1f,
                1e-3f, 4, 3), new Rng(3));
        model.eval();
    }

    static final Sampler.Settings ST = new Sampler.Settings(1.5f, 0, 0.95f, 5);
    static final int[] LABELS = {0, 2, 3};

    /** The mask "regenerate the pixels [from, to)²" for all B images, (B, 32, 32). */
    static boolean[] box(int from, int to) {
        boolean[] m = new boolean[B * SIDE * SIDE];
        for (int b = 0; b < B; b++) {
            for (int y = from; y < to; y++) {
                for (int x = from; x < to; x++) {
                    m[(b * SIDE + y) * SIDE + x] = true;
                }
            }
        }
        return m;
    }

    @Test
    void aTokenIsKeptOnlyWhenNoPixelOfItsFootprintIsMasked() {
        boolean[] m = Arrays.copyOf(box(8, 24), SIDE * SIDE);                    // one image
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 1, Edit.Rule.ANY)).containsExactly(false);
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 3, Edit.Rule.ANY)).containsOnly(false);     // [0, 11) reaches pixel 8
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 4, Edit.Rule.ANY)).containsExactly(
                true, true, true, true,
                true, false, false, true,
                true, false, false, true,
                true, true, true, true);
        boolean[] six = Edit.keepMap(m, 1, SIDE, SIDE, 6, Edit.Rule.ANY);                       // cells [0, 6), [5, 11), ...
        assertThat(six[0]).isTrue();
        assertThat(six[6 + 1]).as("cell (1, 1) covers pixels 5..10, 8 is masked").isFalse();
        boolean[] one = new boolean[SIDE * SIDE];
        one[31 * SIDE + 31] = true;                                               // the last pixel alone
        boolean[] eight = Edit.keepMap(one, 1, SIDE, SIDE, 8, Edit.Rule.ANY);
        assertThat(eight[63]).isFalse();
        assertThat(Arrays.copyOf(eight, 63)).containsOnly(true);
        assertThat(Edit.keepMap(one, 1, SIDE, SIDE, 6, Edit.Rule.ANY)[35]).isFalse();
        assertThat(Edit.keepMap(one, 1, SIDE, SIDE, 6, Edit.Rule.ANY)[34]).isTrue();
    }

    @Test
    void halfAndAllRegenerateOnlyTokensMostlyOrWhollyMasked() {
        boolean[] m = Arrays.copyOf(box(8, 24), SIDE * SIDE);                    // a quarter of the image
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 1, Edit.Rule.HALF)).containsExactly(true);
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 1, Edit.Rule.ALL)).containsExactly(true);
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 2, Edit.Rule.HALF)).containsOnly(true);     // 64 of 256 each
        boolean[] three = Edit.keepMap(m, 1, SIDE, SIDE, 3, Edit.Rule.HALF);                 // centre [10, 22)²
        assertThat(three[4]).isFalse();
        assertThat(three[1]).as("[0, 11) × [10, 22): 3 of 11 rows masked").isTrue();
        boolean[] four = Edit.keepMap(m, 1, SIDE, SIDE, 4, Edit.Rule.ALL);
        assertThat(four).containsExactly(Edit.keepMap(m, 1, SIDE, SIDE, 4, Edit.Rule.ANY));  // cells are whole
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 6, Edit.Rule.ALL)[7])
                .as("[5, 11)²: pixels 5..7 are not masked").isTrue();
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 6, Edit.Rule.HALF)[7]).as("9 of 36 masked").isTrue();
        assertThat(Edit.keepMap(m, 1, SIDE, SIDE, 6, Edit.Rule.HALF)[14]).as("[10, 16)²: all masked").isFalse();
    }

    @Test
    void keepingEverythingGivesTheTokenizersReconstruction() {
        Tensor[] tokens = vae.encode(images);
        Edit keepAll = Edit.of(tokens, new boolean[B * SIDE * SIDE], SIDE, SIDE, ScaleSchedule.small(), Edit.Rule.ANY);
        float[] reconstruction = vae.decode(tokens).toFloatArray();
        for (AttentionPattern p : AttentionPattern.values()) {
            Sampler.Result r = Sampler.sample(model, vae.quantize, p, LABELS, ST, 0, keepAll, null);
            for (int s = 0; s < tokens.length; s++) {
                assertThat(r.indices()[s].toIntArray()).as("%s scale %d", p, s).containsExactly(tokens[s].toIntArray());
            }
            assertThat(vae.decodeFhat(r.fhat()).toFloatArray()).as(p.toString()).containsExactly(reconstruction);
        }
    }

    @Test
    void regeneratingEverythingIsPlainSamplingOfTheSeed() {
        Tensor[] tokens = vae.encode(images);
        Edit none = Edit.of(tokens, box(0, SIDE), SIDE, SIDE, ScaleSchedule.small(), Edit.Rule.ANY);
        for (AttentionPattern p : AttentionPattern.values()) {
            Sampler.Result plain = Sampler.sample(model, vae.quantize, p, LABELS, ST, 4);
            Sampler.Result edited = Sampler.sample(model, vae.quantize, p, LABELS, ST, 4, none, null);
            for (int s = 0; s < tokens.length; s++) {
                assertThat(edited.indices()[s].toIntArray()).as("%s scale %d", p, s)
                        .containsExactly(plain.indices()[s].toIntArray());
            }
            assertThat(edited.fhat().toFloatArray()).as(p.toString()).containsExactly(plain.fhat().toFloatArray());
        }
    }

    @Test
    void inPaintingKeepsTheImagesTokensOutsideTheMaskAtEveryScaleAndRegeneratesInside() {
        ScaleSchedule sch = ScaleSchedule.small();
        Tensor[] tokens = vae.encode(images);
        Edit edit = Edit.of(tokens, box(8, 24), SIDE, SIDE, sch, Edit.Rule.ANY);
        for (AttentionPattern p : AttentionPattern.values()) {
            List<Integer> heard = new ArrayList<>();
            Sampler.Result r = Sampler.sample(model, vae.quantize, p, LABELS, ST, 0, edit, step -> {
                heard.add(step.s());
                assertThat(step.indices().toIntArray()).containsExactly(
                        edit.apply(step.indices(), step.s()).toIntArray());
                assertThat(step.seconds()).isPositive();
                assertThat(step.peakBytes()).isGreaterThanOrEqualTo(step.heldBytes()).isPositive();
            });
            assertThat(heard).as("%s: every scale told, in order", p).containsExactly(0, 1, 2, 3, 4, 5);
            int kept = 0, changed = 0;
            for (int s = 0; s < sch.count(); s++) {
                int[] got = r.indices()[s].toIntArray(), image = tokens[s].toIntArray();
                for (int k = 0; k < got.length; k++) {
                    if (edit.keep()[s][k]) {
                        assertThat(got[k]).as("%s scale %d token %d is kept", p, s, k).isEqualTo(image[k]);
                        kept++;
                    } else if (got[k] != image[k]) {
                        changed++;
                    }
                }
            }
            assertThat(kept).as("kept tokens: the 4×4, 6×6 and 8×8 rings").isEqualTo(B * (12 + 20 + 48));
            assertThat(changed).as("%s regenerates inside the mask", p).isGreaterThan(B * 10);
        }
    }

    @Test
    void anEditOfAnotherBatchIsRefused() {
        Edit edit = Edit.of(vae.encode(images), box(8, 24), SIDE, SIDE, ScaleSchedule.small(), Edit.Rule.ANY);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Sampler.sample(model, vae.quantize,
                        AttentionPattern.MVAR, new int[]{1}, ST, 0, edit, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 images");
    }
}
