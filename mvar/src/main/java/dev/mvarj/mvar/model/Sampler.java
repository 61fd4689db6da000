package dev.mvarj.mvar.model;

import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.Device;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.MemoryStats;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.util.Arrays;

/**
 * Class-conditional generation, coarse to fine (docs/model.md#sampling). VAR keeps a KV cache of every generated token;
 * MVAR runs each scale on its own tokens only and keeps none. Guidance follows the linear ramp
 * t = cfg · s/(S − 1), logits = (1 + t)·cond − t·uncond; for MVAR, cfg = 1 switches guidance off (no doubled batch).
 *
 * <p>The transformer runs on its own {@link NextScaleTransformer#device()}; the token draw and the quantizer's
 * reconstruction run on the host (logits go down once per scale, the next scale's input goes up). The pass runs in
 * {@link MemoryScope}s — one for the call, one per scale, one per block — so every temporary is released as soon as
 * its block or scale is done, and the reported peak is exact.
 *
 * <p>Editing (docs/editing.md): given an {@link Edit}, each scale's drawn tokens are replaced by the image's wherever the
 * edit keeps them, before they join the reconstruction; everything else (guidance, filters, draws) is plain sampling.
 * A {@link ScaleListener} is told of every scale as it is produced (the web page's live view).
 *
 * <p>Randomness: sample i (counted from the {@code first} of {@link #sample(NextScaleTransformer, ScaleQuantizer,
 * AttentionPattern, int[], Settings, long)}) draws its tokens from its own Philox stream, (seed, offset i·2³²), so
 * the samples of a seed do not depend on how they are cut into batches; the kernels are deterministic for any
 * thread count ({@code WorkerPool}), so neither do they depend on the number of threads.
 */
public final class Sampler {

    /** cfg (0 or 1 = none for MVAR, see above), top-k (0 = off), top-p (1 = off), seed. */
    public record Settings(float cfg, int topK, float topP, long seed) {
    }

    /**
     * The result: the reconstruction fhat (B, Cvae, h, w) to decode, the sampled index maps (B, n[s]) per scale,
     * and the efficiency figures of the run.
     *
     * @param peakBytes the most bytes the pass held at once on the model's device, weights excluded (KV cache,
     *                  tokens, one block's temporaries, logits; on the CPU also the quantizer's): exact, because
     *                  the pass runs in {@link MemoryScope}s that release every temporary deterministically
     */
    public record Result(Tensor fhat, Tensor[] indices, long kvCacheBytes, long peakBytes, double seconds) {
    }

    /**
     * One produced scale, as a {@link ScaleListener} sees it.
     *
     * @param fhat      the cumulative reconstruction after scales 0..s, (B, Cvae, h, w); the sampler updates it in
     *                  place afterwards, so read it (decode it) during the call
     * @param indices   the tokens of scale s, (B, n[s]) I32, edited where an {@link Edit} keeps the image's
     * @param seconds   the time of this scale (transformer, draw and reconstruction; the listener's own time excluded)
     * @param heldBytes the bytes the pass holds on the model's device once the scale is done (KV cache, tokens, the
     *                  next scale's input), as {@link Result#peakBytes} counts them
     * @param peakBytes the most bytes the pass held at once so far
     */
    public record ScaleStep(int s, Tensor fhat, Tensor indices, double seconds, long heldBytes, long peakBytes) {
    }

    /**
     * Told of every scale as soon as it is produced (docs/editing.md#the-page). The call runs in a
     * {@link MemoryScope} of its own that is closed after it: copy out what to keep (arrays, images), never a tensor
     * made during the call; its memory and time are not counted as the pass's.
     */
    @FunctionalInterface
    public interface ScaleListener {
        void scale(ScaleStep step);
    }

    private Sampler() {
    }

    /** Samples 0 .. B − 1 of the seed: as {@link #sample(NextScaleTransformer, ScaleQuantizer, AttentionPattern,
     * int[], Settings, long)} with {@code first} 0. */
    public static Result sample(NextScaleTransformer model, ScaleQuantizer quantizer, AttentionPattern pattern,
                                int[] labels, Settings st) {
        return sample(model, quantizer, pattern, labels, st, 0);
    }

    /**
     * Generates one image per label: samples {@code first} .. {@code first + B − 1} of the seed (each row draws from
     * its own stream, see the class comment).
     */
    public static Result sample(NextScaleTransformer model, ScaleQuantizer quantizer, AttentionPattern pattern,
                                int[] labels, Settings st, long first) {
        return sample(model, quantizer, pattern, labels, st, first, null, null);
    }

    /**
     * As {@link #sample(NextScaleTransformer, ScaleQuantizer, AttentionPattern, int[], Settings, long)}, editing
     * where {@code edit} is given (its batch must be B; labels may hold the null class {@code classes} for an edit
     * without a class) and telling {@code listener} of every scale where it is given.
     */
    public static Result sample(NextScaleTransformer model, ScaleQuantizer quantizer, AttentionPattern pattern,
                                int[] labels, Settings st, long first, Edit edit, ScaleListener listener) {
        TransformerConfig cfg = model.cfg;
        ScaleSchedule sch = cfg.schedule();
        int B = labels.length, S = sch.count(), side = sch.last();
        boolean guided = pattern == AttentionPattern.VAR || st.cfg() != 1f;
        if (edit != null && (edit.batch() != B || edit.tokens().length != S)) {
            throw new IllegalArgumentException("the edit holds " + edit.batch() + " images of " + edit.tokens().length
                    + " scales, the sampler makes " + B + " of " + S);
        }
        int rows = guided ? 2 * B : B;
        int[] all = Arrays.copyOf(labels, rows);
        Arrays.fill(all, B, rows, cfg.classes());                         // the null class for the unconditional half
        Device device = model.device();
        long start = System.nanoTime();
        MemoryStats.resetScopedPeak(device);
        long base = MemoryStats.scopedLiveBytes(device);
        Tensor fhat = Tensor.zeros(B, quantizer.codeDim(), side, side);
        Tensor[] indices = new Tensor[S];
        long kvBytes = 0, listening = 0, peak = base;
        try (var ignored = GradMode.off(); MemoryScope pass = MemoryScope.open()) {
            Variable cond = model.condition(Tensor.ofInts(all, rows).to(device));
            KvCache[] caches = null;
            if (pattern == AttentionPattern.VAR) {
                caches = new KvCache[cfg.depth()];
                for (int i = 0; i < caches.length; i++) {
                    caches[i] = new KvCache(rows, cfg.heads(), sch.length(), cfg.headDim(), device);
                    kvBytes += caches[i].bytes();
                }
            }
            Rng[] rng = streams(st.seed(), first, B);
            Variable tokens = model.embed(cond, null, 0, 1, true);
            for (int s = 0; s < S; s++) {
                long scaleStart = System.nanoTime();
                Variable next = null;
                try (MemoryScope scale = MemoryScope.open()) {
                    Tensor logits = model.forwardScale(tokens, cond, s, caches).data();   // (rows, n, V)
                    if (guided) {                                    // in place: the logits are spent after this
                        float t = S == 1 ? st.cfg() : st.cfg() * s / (S - 1);
                        Tensor c = logits.slice(0, 0, B), u = logits.slice(0, B, rows);
                        c.backend().binary(BinaryOp.MUL, c, c, Tensor.scalar(device, 1 + t).expand(c.shape()));
                        c.backend().binary(BinaryOp.MUL, u, u, Tensor.scalar(device, t).expand(u.shape()));
                        c.backend().binary(BinaryOp.SUB, c, c, u);          // (1 + t)·cond − t·uncond
                        logits = c;
                    }
                    Tensor drawn = sampleTokens(logits, st.topK(), st.topP(), rng);                  // (B, n)
                    indices[s] = pass.keep(scale.keep(edit == null ? drawn : edit.apply(drawn, s)));
                    quantizer.addScale(fhat, indices[s], s);
                    if (s + 1 < S) {
                        Tensor x = quantizer.nextInput(fhat, s).to(device);             // (B, n', Cvae)
                        if (guided) {
                            x = x.unsqueeze(0).expand(2, B, x.size(1), x.size(2)).reshape(rows, x.size(1), x.size(2));
                        }
                        next = model.embed(cond, x, s + 1, s + 2, true);
                        scale.keep(next.data());
                    }
                }
                tokens.data().storage().release();                 // this scale's input is spent
                tokens = next;
                if (listener != null) {
                    long told = System.nanoTime();
                    peak = Math.max(peak, MemoryStats.scopedPeakBytes(device));
                    try (MemoryScope heard = MemoryScope.open()) {
                        listener.scale(new ScaleStep(s, fhat, indices[s], (told - scaleStart) / 1e9,
                                MemoryStats.scopedLiveBytes(device) - base, peak - base));
                    }
                    MemoryStats.resetScopedPeak(device);          // the listener's memory is not the pass's
                    listening += System.nanoTime() - told;
                }
            }
        }
        peak = Math.max(peak, MemoryStats.scopedPeakBytes(device));
        return new Result(fhat, indices, kvBytes, peak - base, (System.nanoTime() - start - listening) / 1e9);
    }

    /** Sample i's stream starts at Philox block i·2^STREAM_BITS: room for 2^34 tokens per sample. */
    private static final int STREAM_BITS = 32;

    /** The random streams of samples first .. first + count − 1 of a seed. */
    static Rng[] streams(long seed, long first, int count) {
        Rng[] rows = new Rng[count];
        for (int b = 0; b < count; b++) {
            rows[b] = new Rng(seed, (first + b) << STREAM_BITS);
        }
        return rows;
    }

    /** As {@link #sampleTokens(Tensor, int, float, float[])}, row b drawing its n uniforms from {@code rows[b]}. */
    static Tensor sampleTokens(Tensor logits, int topK, float topP, Rng[] rows) {
        int n = logits.size(1);
        float[] u = new float[logits.size(0) * n];
        for (int b = 0; b < rows.length; b++) {
            System.arraycopy(rows[b].uniformArray(n, 0f, 1f), 0, u, b * n, n);
        }
        return sampleTokens(logits, topK, topP, u);
    }

    /**
     * Draws one token per position from logits (B, n, V): top-k (every logit below the k-th largest dropped), then
     * top-p (sorted ascending, tokens whose cumulative probability is ≤ 1 − p dropped, the most probable always
     * kept), then a multinomial draw from the softmax with the uniforms {@code u} (B·n, one per position).
     * Returns (B, n) I32.
     */
    private static Tensor sampleTokens(Tensor logits, int topK, float topP, float[] u) {
        int B = logits.size(0), n = logits.size(1), V = logits.size(2);
        float[] lg = logits.contiguous().toFloatArray();
        int[] out = new int[B * n];
        double[] p = new double[V];
        Integer[] order = new Integer[V];
        for (int r = 0; r < B * n; r++) {
            int o = r * V;
            if (topK > 0 && topK < V) {
                float[] sorted = Arrays.copyOfRange(lg, o, o + V);
                Arrays.sort(sorted);
                float kth = sorted[V - topK];
                for (int v = 0; v < V; v++) {
                    if (lg[o + v] < kth) {
                        lg[o + v] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, lg[o + v]);
            }
            for (int v = 0; v < V; v++) {
                p[v] = Math.exp(lg[o + v] - max);
                sum += p[v];
            }
            for (int v = 0; v < V; v++) {
                p[v] /= sum;
            }
            if (topP > 0 && topP < 1) {
                for (int v = 0; v < V; v++) {
                    order[v] = v;
                }
                int base = o;
                Arrays.sort(order, (a, b) -> Float.compare(lg[base + a], lg[base + b]));   // ascending
                double cum = 0, kept = 0;
                for (int j = 0; j < V - 1; j++) {                                         // the last is kept
                    cum += p[order[j]];
                    if (cum <= 1 - topP) {
                        p[order[j]] = 0;
                    }
                }
                for (int v = 0; v < V; v++) {
                    kept += p[v];
                }
                for (int v = 0; v < V; v++) {
                    p[v] /= kept;
                }
            }
            double target = u[r], acc = 0;
            int pick = V - 1;
            for (int v = 0; v < V; v++) {
                acc += p[v];
                if (target < acc) {
                    pick = v;
                    break;
                }
            }
            while (p[pick] == 0 && pick > 0) { // rounding at the very end of the range
                pick--;
            }
            out[r] = pick;
        }
        return Tensor.ofInts(out, B, n);
    }
}
