package dev.mvarj.mvar.model;

import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.AllClose;
import dev.mvarj.tensor.Resampling;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model checks of docs/model.md#consistency-checks and the attention-pair counts of docs/model.md#attention-cost. */
class MarkovChecksTest {

    static final ScaleSchedule SCHEDULE = new ScaleSchedule(new int[]{1, 2, 3, 4, 6});

    static TransformerConfig cfg(int refineStep, int kernel) {
        return new TransformerConfig(2, 32, 4, 13, 4, 5, SCHEDULE, 0f, 0f, 0.5f, refineStep, kernel);
    }

    private static void assertClose(String what, Tensor got, Tensor want, double tol) {
        AllClose r = AllClose.check(what, got, want, tol, tol);
        assertThat(r.ok()).as(r.message()).isTrue();
    }

    /** Random non-init weights, so that the gates are open and every path matters. */
    static NextScaleTransformer randomModel(TransformerConfig cfg, long seed) {
        NextScaleTransformer m = new NextScaleTransformer(cfg, new Rng(seed));
        Rng r = new Rng(seed + 1);
        m.namedParameters().forEach((n, v) -> v.setData(r.normal(0, 0.3f, v.shape())));
        return m;
    }

    static void copyWeights(NextScaleTransformer from, NextScaleTransformer to) {
        Map<String, Variable> src = from.namedParameters();
        to.namedParameters().forEach((n, v) -> v.setData(src.get(n).data()));
    }

    @Test
    void theCoarseConcatenatedSequenceEqualsSeparatePerScalePasses() {
        TransformerConfig cfg = cfg(4, 3);
        NextScaleTransformer m = randomModel(cfg, 1);
        Tensor labels = Tensor.ofInts(new int[]{0, 3, 5}, 3);
        Tensor x = new Rng(2).normal(0, 1, 3, SCHEDULE.length() - 1, 4);
        try (var g = GradMode.off()) {
            Tensor together = m.forward(labels, x, 0, 4, AttentionPattern.MVAR).data();
            for (int s = 0; s < 4; s++) {
                Tensor alone = m.forward(labels, x, s, s + 1, AttentionPattern.MVAR).data();
                int b = SCHEDULE.begin(s), e = SCHEDULE.begin(s + 1);
                assertClose("scale " + s, alone, together.slice(1, b, e).contiguous(), 2e-5);
            }
        }
    }

    @Test
    void neighbourhoodAttentionWithTheKernelAsLargeAsTheGridIsFullAttention() {
        NextScaleTransformer na = randomModel(cfg(4, 6), 3);       // the 6x6 scale uses a 6x6 window
        NextScaleTransformer dense = randomModel(cfg(5, 3), 4);    // no scale uses neighbourhood attention
        copyWeights(na, dense);
        Tensor labels = Tensor.ofInts(new int[]{1, 2}, 2);
        Tensor x = new Rng(5).normal(0, 1, 2, SCHEDULE.length() - 1, 4);
        try (var g = GradMode.off()) {
            assertClose("6x6 scale", na.forward(labels, x, 4, 5, AttentionPattern.MVAR).data(),
                    dense.forward(labels, x, 4, 5, AttentionPattern.MVAR).data(), 2e-5);
        }
        // and with a smaller window it differs
        NextScaleTransformer local = randomModel(cfg(4, 3), 3);
        copyWeights(na, local);
        try (var g = GradMode.off()) {
            AllClose r = AllClose.check("k=3 vs full", local.forward(labels, x, 4, 5, AttentionPattern.MVAR).data(),
                    dense.forward(labels, x, 4, 5, AttentionPattern.MVAR).data(), 1e-4, 1e-4);
            assertThat(r.ok()).as("a 3x3 window must change the result").isFalse();
        }
    }

    /** A stand-in for the tokenizer: codes from a random table, bicubic up, area down (no φ). */
    static final class ToyQuantizer implements ScaleQuantizer {
        final Tensor codebook;

        ToyQuantizer(int vocab, int dim, long seed) {
            codebook = new Rng(seed).normal(0, 1, vocab, dim);
        }

        @Override
        public ScaleSchedule schedule() {
            return SCHEDULE;
        }

        @Override
        public int codeDim() {
            return codebook.size(1);
        }

        @Override
        public void addScale(Tensor fhat, Tensor indices, int s) {
            int B = indices.size(0), pn = SCHEDULE.side(s), side = SCHEDULE.last(), C = codeDim();
            int[] idx = indices.toIntArray();
            float[] table = codebook.toFloatArray(), grid = new float[B * C * pn * pn];
            for (int b = 0; b < B; b++) {
                for (int p = 0; p < pn * pn; p++) {
                    for (int c = 0; c < C; c++) {
                        grid[(b * C + c) * pn * pn + p] = table[idx[b * pn * pn + p] * C + c];
                    }
                }
            }
            Tensor up = Resampling.resize(Tensor.of(grid, B, C, pn, pn), Resampling.Mode.BICUBIC, side, side);
            fhat.backend().copy(fhat, fhat.add(up));
        }

        @Override
        public Tensor nextInput(Tensor fhat, int s) {
            int pn = SCHEDULE.side(s + 1), B = fhat.size(0), C = codeDim();
            Tensor down = Resampling.resize(fhat, Resampling.Mode.AREA, pn, pn);      // (B, C, pn, pn)
            return down.reshape(B, C, pn * pn).transpose(1, 2).contiguous();          // (B, n, C)
        }
    }

    @Test
    void varSamplingWithTheKvCacheEqualsFullRecomputation() {
        TransformerConfig cfg = cfg(4, 3);
        NextScaleTransformer m = randomModel(cfg, 7);
        ToyQuantizer q = new ToyQuantizer(cfg.vocab(), cfg.codeDim(), 8);
        int[] labels = {2, 4};
        Sampler.Settings st = new Sampler.Settings(1.5f, 0, 1f, 99);
        Sampler.Result cached = Sampler.sample(m, q, AttentionPattern.VAR, labels, st);

        // recompute: at each scale, the whole prefix through the block-causal forward, guided the same way
        int B = labels.length, S = SCHEDULE.count(), C = cfg.codeDim();
        Tensor lab = Tensor.ofInts(new int[]{2, 4, cfg.classes(), cfg.classes()}, 4);
        Tensor x = Tensor.zeros(2 * B, SCHEDULE.length() - 1, C);
        Tensor fhat = Tensor.zeros(B, C, SCHEDULE.last(), SCHEDULE.last());
        Rng[] rng = Sampler.streams(st.seed(), 0, B);                  // one stream per sample, as the sampler
        try (var g = GradMode.off()) {
            for (int s = 0; s < S; s++) {
                Tensor lg = m.forward(lab, x, 0, s + 1, AttentionPattern.VAR).data()
                        .slice(1, SCHEDULE.begin(s), SCHEDULE.begin(s + 1));
                float t = st.cfg() * s / (S - 1);
                lg = lg.slice(0, 0, B).mul(1 + t).sub(lg.slice(0, B, 2 * B).mul(t));
                Tensor idx = Sampler.sampleTokens(lg, 0, 1f, rng);
                assertThat(idx.toIntArray()).as("scale %d", s).containsExactly(cached.indices()[s].toIntArray());
                q.addScale(fhat, idx, s);
                if (s + 1 < S) {
                    Tensor next = q.nextInput(fhat, s);
                    int b = SCHEDULE.begin(s + 1) - 1, e = SCHEDULE.begin(s + 2) - 1;
                    for (int half = 0; half < 2; half++) {
                        Tensor dst = x.slice(0, half * B, (half + 1) * B).slice(1, b, e);
                        dst.backend().copy(dst, next);
                    }
                }
            }
        }
        assertClose("fhat", cached.fhat(), fhat, 1e-5);
        assertThat(cached.kvCacheBytes()).isEqualTo(2L * cfg.depth() * 2 * B * SCHEDULE.length() * cfg.width() * 4);
        assertThat(Sampler.sample(m, q, AttentionPattern.MVAR, labels, st).kvCacheBytes()).isZero();
    }

    @Test
    void samplingPeakMemoryIsExactAndMvarHoldsNoCache() {
        TransformerConfig cfg = cfg(4, 3);
        NextScaleTransformer m = randomModel(cfg, 7);
        ToyQuantizer q = new ToyQuantizer(cfg.vocab(), cfg.codeDim(), 8);
        int[] labels = {1, 2, 3};
        Sampler.Settings st = new Sampler.Settings(1.5f, 0, 0.9f, 3);
        Sampler.Result var1 = Sampler.sample(m, q, AttentionPattern.VAR, labels, st);
        Sampler.Result var2 = Sampler.sample(m, q, AttentionPattern.VAR, labels, st);
        Sampler.Result mvar = Sampler.sample(m, q, AttentionPattern.MVAR, labels, st);
        assertThat(var2.peakBytes()).as("deterministic: every temporary is released by a scope")
                .isEqualTo(var1.peakBytes());
        assertThat(var1.peakBytes()).as("VAR holds its KV cache and more").isGreaterThan(var1.kvCacheBytes());
        assertThat(mvar.peakBytes()).as("MVAR: same model, same rows, no cache")
                .isPositive().isLessThan(var1.peakBytes() - var1.kvCacheBytes() / 2);
        // one block's temporaries are bounded: far below the sum over the blocks of a scale
        long x = 4L * 2 * labels.length * SCHEDULE.tokens(SCHEDULE.count() - 1) * cfg.width();
        assertThat(mvar.peakBytes()).isLessThan(40 * x);
    }

    @Test
    void attentionPairsMatchTheSpecForTheSmallSchedule() {
        TransformerConfig small = TransformerConfig.small(256, 16, 10, ScaleSchedule.small());
        assertThat(AttentionPattern.VAR.attentionPairs(small)).isEqualTo(11_323);
        assertThat(AttentionPattern.MVAR.attentionPairs(small)).isEqualTo(1_254);
    }

    /**
     * The FLOP count of a forward, derived independently from the model's own weight matrices: every rank-2
     * weight but the embedding tables is a product of its size per token (the blocks' and the head's), per image
     * (the AdaLN projections of the class) or per input row (the word embedding).
     */
    @Test
    void forwardFlopsCountEveryWeightMatrixAndTheAttentionProducts() {
        TransformerConfig small = TransformerConfig.small(256, 16, 10, ScaleSchedule.small());
        NextScaleTransformer m = new NextScaleTransformer(small, new Rng(1));
        ScaleSchedule sch = small.schedule();
        for (AttentionPattern p : AttentionPattern.values()) {
            int[][] groups = p == AttentionPattern.VAR ? new int[][]{{0, 6}} : new int[][]{{0, 4}, {4, 5}, {5, 6}};
            long total = 0, want = 0;
            for (int[] g : groups) {
                long tokens = sch.tokens(g[0], g[1]), words = g[0] == 0 ? tokens - 1 : tokens;
                long macs = 0;
                for (var e : m.namedParameters().entrySet()) {
                    Variable w = e.getValue();
                    String n = e.getKey();
                    if (w.rank() != 2 || n.startsWith("class_emb") || n.startsWith("lvl_embed")) {
                        continue;
                    }
                    long size = (long) w.size(0) * w.size(1);
                    macs += n.contains("ada_lin") ? size : n.startsWith("word_embed") ? size * words : size * tokens;
                }
                macs += (long) small.depth() * 2 * small.width() * p.attentionPairs(small, g[0], g[1]);
                want += 2 * macs;
                total += p.forwardFlops(small, g[0], g[1]);
            }
            assertThat(total).as(p.name()).isEqualTo(want);
        }
        // VAR's and MVAR's whole forwards differ by the attention products
        long diff = AttentionPattern.VAR.forwardFlops(small, 0, 6) - AttentionPattern.MVAR.forwardFlops(small, 0, 4)
                - AttentionPattern.MVAR.forwardFlops(small, 4, 5) - AttentionPattern.MVAR.forwardFlops(small, 5, 6);
        // (MVAR runs three forwards, so two more AdaLN projections of the class: 4 blocks × 6C² + the head's 2C²)
        assertThat(diff).isEqualTo(4L * 4 * 128 * (11_323 - 1_254) - 2L * 2 * (4 * 6 + 2) * 128 * 128);
    }

    @Test
    void masksAreBuiltFromTheScheduleAndMisuseIsAClearError() {
        TransformerConfig cfg = cfg(4, 3);
        assertThatThrownBy(() -> AttentionPattern.MVAR.plan(cfg, 2, 5)).hasMessageContaining("one at a time");
        assertThatThrownBy(() -> AttentionPattern.VAR.plan(cfg, 1, 5)).hasMessageContaining("whole sequences");
        assertThatThrownBy(() -> cfg(3, 5)).hasMessageContaining("larger than the 4x4 grid");
    }
}
