package dev.mvarj.mvar.vq;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.mvar.model.ScaleQuantizer;
import dev.mvarj.mvar.model.ScaleSchedule;
import dev.mvarj.nn.Embedding;
import dev.mvarj.nn.Init;
import dev.mvarj.nn.Module;
import dev.mvarj.nn.ModuleList;
import dev.mvarj.tensor.BinaryOp;
import dev.mvarj.tensor.Resampling;
import dev.mvarj.tensor.ShapeMismatchException;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * VAR's multi-scale residual quantizer ({@code VectorQuantizer2},
 * docs/model.md#multi-scale-residual-quantization): one codebook shared by all
 * scales, AREA down- and BICUBIC up-resampling, the φ refiners, the cumulative reconstruction fhat.
 *
 * <p>Names follow VAR's state dict: {@code embedding.weight} (V, Cvae) and {@code quant_resi.qresi_ls.k.weight}
 * (Cvae, Cvae, 3, 3) / {@code .bias} for {@code share_quant_resi = K ≥ 2} ({@code quant_resi.qresi.*} for K = 1,
 * {@code quant_resi.s.*} for one φ per scale).
 */
public final class ResidualQuantizer extends Module implements ScaleQuantizer {

    /** φ(h) = (1 − r)·h + r·conv3x3(h), a Conv2d(Cvae, Cvae, 3, padding 1) with bias (VAR's {@code Phi}). */
    public static final class Phi extends Module {
        final Variable weight, bias;
        final float ratio;

        Phi(int C, float ratio, Rng rng) {
            int fanIn = C * 9;
            weight = param("weight", Init.pytorchDefault(rng, fanIn, C, C, 3, 3));
            bias = param("bias", Init.pytorchDefault(rng, fanIn, C));
            this.ratio = Math.abs(ratio);
        }

        /** h (B, C, h, w) -> (B, C, h, w). */
        public Variable forward(Variable h) {
            Variable conv = F.conv2d(h, weight, bias, 1, 1, 1, 1, 1);
            return F.add(F.mul(h, 1 - ratio), F.mul(conv, ratio));
        }
    }

    /** The container VAR names {@code quant_resi}: holds the K refiners under {@code qresi_ls} (or {@code qresi}). */
    static final class PhiSet extends Module {
        final List<Phi> phis = new ArrayList<>();

        PhiSet(int K, int C, float ratio, int share, Rng rng) {
            if (share == 1) {
                phis.add(child("qresi", new Phi(C, ratio, rng)));
            } else {
                ModuleList<Phi> list = share == 0 ? null : child("qresi_ls", new ModuleList<>());
                for (int k = 0; k < K; k++) {
                    Phi p = new Phi(C, ratio, rng);
                    if (list != null) {
                        list.add(p);
                    } else {
                        child(Integer.toString(k), p);
                    }
                    phis.add(p);
                }
            }
        }
    }

    private final ScaleSchedule schedule;
    private final int C, V, h;
    private final float beta;
    private final boolean identityPhi;
    private final int[] phiOf;
    public final Embedding embedding;
    final PhiSet quantResi;

    /**
     * @param quantResi φ's mixing ratio r (0 = no φ: the identity, and no parameters)
     * @param share     {@code share_quant_resi}: 0 one φ per scale, 1 one shared φ, K ≥ 2 K φ by the tick rule
     */
    public ResidualQuantizer(int vocab, int codeDim, ScaleSchedule schedule, float beta, float quantResi, int share,
                             Rng rng) {
        this.schedule = schedule;
        this.C = codeDim;
        this.V = vocab;
        this.h = schedule.last();
        this.beta = beta;
        int S = schedule.count();
        int K = share == 0 ? S : share;
        this.identityPhi = Math.abs(quantResi) <= 1e-6;
        this.quantResi = identityPhi ? null : child("quant_resi", new PhiSet(K, codeDim, quantResi, share, rng));
        this.embedding = child("embedding", new Embedding(vocab, codeDim, rng));
        this.phiOf = new int[S];
        for (int s = 0; s < S; s++) {
            phiOf[s] = share == 1 ? 0 : phiIndex(K, S == 1 ? 0 : (double) s / (S - 1));
        }
    }

    /**
     * m(s) of docs/model.md#multi-scale-residual-quantization: argmin_j |tick_j − s/(S − 1)| (ties to the first), ticks = linspace(1/(3K), 1 − 1/(3K), K) for
     * K = 4 and linspace(1/(2K), 1 − 1/(2K), K) otherwise, as numpy's linspace computes them.
     */
    static int phiIndex(int K, double at) {
        double lo = K == 4 ? 1.0 / 3 / K : 1.0 / 2 / K, hi = 1 - lo;
        int best = 0;
        double bestDist = Double.POSITIVE_INFINITY;
        for (int j = 0; j < K; j++) {
            double tick = K == 1 ? lo : j == K - 1 ? hi : lo + j * ((hi - lo) / (K - 1));
            double d = Math.abs(tick - at);
            if (d < bestDist) {
                bestDist = d;
                best = j;
            }
        }
        return best;
    }

    /** The refiner index m(s) of every scale. */
    public int[] phiMapping() {
        return phiOf.clone();
    }

    @Override
    public ScaleSchedule schedule() {
        return schedule;
    }

    @Override
    public int codeDim() {
        return C;
    }

    /** V. */
    public int vocab() {
        return V;
    }

    public float beta() {
        return beta;
    }

    /** φ_{m(s)}(x). */
    public Variable phi(int s, Variable x) {
        return identityPhi ? x : quantResi.phis.get(phiOf[s]).forward(x);
    }

    /** The codebook E (V, Cvae), the parameter's storage (writes go to the model). */
    public Tensor codebook() {
        return embedding.weight.data();
    }

    // ==================================================================================== nearest code

    /**
     * idx[p] = argmin_v ||z_p||² + ||e_v||² − 2 z_p·e_v (ties to the first index), z (N, Cvae) -> (N) indices.
     */
    public int[] nearest(Tensor z) {
        int N = z.size(0);
        Tensor E = codebook();
        float[] dot = z.contiguous().matmul(E.transpose(0, 1)).toFloatArray();         // (N, V)
        float[] zs = z.contiguous().toFloatArray(), es = E.contiguous().toFloatArray();
        float[] ee = new float[V];
        for (int v = 0; v < V; v++) {
            float acc = 0;
            for (int c = 0; c < C; c++) {
                acc += es[v * C + c] * es[v * C + c];
            }
            ee[v] = acc;
        }
        int[] idx = new int[N];
        for (int n = 0; n < N; n++) {
            float zz = 0;
            for (int c = 0; c < C; c++) {
                zz += zs[n * C + c] * zs[n * C + c];
            }
            int best = 0;
            float bestD = Float.POSITIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                float d = (zz + ee[v]) - 2f * dot[n * V + v];
                if (d < bestD) {
                    bestD = d;
                    best = v;
                }
            }
            idx[n] = best;
        }
        return idx;
    }

    /** x (B, C, p, p) -> (B·p·p, C), positions row-major. */
    static Tensor toRows(Tensor x) {
        int B = x.size(0), c = x.size(1), n = x.size(2) * x.size(3);
        return x.reshape(B, c, n).transpose(1, 2).contiguous().reshape(B * n, c);
    }

    /** The code vectors of indices (B, n) as a grid (B, Cvae, pn, pn), differentiable w.r.t. the codebook. */
    Variable lookup(Tensor indices, int pn) {
        int B = indices.size(0);
        Variable e = F.embedding(embedding.weight, indices);                       // (B, n, C)
        return F.reshape(F.transpose(e, 1, 2), B, C, pn, pn);
    }

    /** φ_{m(s)}(up(E[idx_s])) (B, Cvae, h, w): the contribution of scale s to fhat (BICUBIC up except at the last). */
    Variable contribution(Tensor indices, int s) {
        int pn = schedule.side(s);
        Variable q = lookup(indices, pn);
        if (s < schedule.count() - 1) {
            q = F.bicubicResample(q, h, h);
        }
        return phi(s, q);
    }

    // ==================================================================================== encode

    /**
     * The result of quantising f: per-scale indices (B, n[s]) I32, the cumulative reconstruction after each scale
     * (B, Cvae, h, w), and the quantiser inputs z_s (B·n[s], Cvae) (the residual AREA-resampled to pn[s]).
     */
    public record Quantized(Tensor[] indices, Tensor[] fhats, Tensor[] inputs) {
        /** The final reconstruction fhat. */
        public Tensor fhat() {
            return fhats[fhats.length - 1];
        }
    }

    /** Encoding without gradient (docs/model.md#multi-scale-residual-quantization): f (B, Cvae, h, w) -> indices, cumulative fhat per scale, quantiser inputs. */
    public Quantized quantize(Tensor f) {
        checkLatent(f);
        int S = schedule.count(), B = f.size(0);
        Tensor[] idx = new Tensor[S], fhats = new Tensor[S], inputs = new Tensor[S];
        try (var ignored = GradMode.off()) {
            Tensor rest = f.contiguous().copy(), fhat = Tensor.zeros(f.shape());
            for (int s = 0; s < S; s++) {
                int pn = schedule.side(s);
                Tensor z = s < S - 1 ? Resampling.resize(rest, Resampling.Mode.AREA, pn, pn) : rest;
                inputs[s] = toRows(z);
                idx[s] = Tensor.ofInts(nearest(inputs[s]), B, pn * pn);
                Tensor u = contribution(idx[s], s).data();
                fhat = fhat.add(u);
                rest = rest.sub(u);
                fhats[s] = fhat;
            }
        }
        return new Quantized(idx, fhats, inputs);
    }

    /** Decoding (docs/model.md#multi-scale-residual-quantization): fhat = Σ_s φ_{m(s)}(BICUBIC(E[idx_s], h)), (B, Cvae, h, w). */
    public Tensor fhatFromIndices(Tensor[] indices) {
        checkIndices(indices, schedule.count());
        Tensor fhat = Tensor.zeros(indices[0].size(0), C, h, h);
        for (int s = 0; s < indices.length; s++) {
            addScale(fhat, indices[s], s);
        }
        return fhat;
    }

    // ==================================================================================== collapse guards

    /**
     * Data-driven codebook initialisation (a collapse guard,
     * docs/model.md#tokenizer-training): scale by scale, {@code perScale[s]} codes are
     * drawn by k-means++ (D² sampling against the codes chosen so far) from the quantiser inputs z_s of the latents
     * {@code f} (B, Cvae, h, w); the residual is then updated with those codes, so later scales are seeded from
     * real residuals. Σ perScale must equal V.
     */
    public void initCodebook(Tensor f, int[] perScale, Rng rng) {
        checkLatent(f);
        int S = schedule.count(), B = f.size(0);
        if (perScale.length != S || java.util.Arrays.stream(perScale).sum() != V) {
            throw new IllegalArgumentException("initCodebook: per-scale counts " + java.util.Arrays.toString(perScale)
                    + " must have " + S + " entries summing to V = " + V);
        }
        Tensor E = codebook();
        float[] book = new float[V * C];
        java.util.Arrays.fill(book, 1e4f);                                    // not-yet-seeded codes never win
        int next = 0;
        try (var ignored = GradMode.off()) {
            Tensor rest = f.contiguous().copy();
            for (int s = 0; s < S; s++) {
                int pn = schedule.side(s);
                Tensor z = s < S - 1 ? Resampling.resize(rest, Resampling.Mode.AREA, pn, pn) : rest;
                float[] rows = toRows(z).toFloatArray();
                float[] chosen = kMeansPlusPlus(rows, B * pn * pn, book, next, perScale[s], rng);
                System.arraycopy(chosen, 0, book, next * C, perScale[s] * C);
                next += perScale[s];
                E.backend().copy(E, Tensor.of(book, V, C));
                Tensor idx = Tensor.ofInts(nearest(toRows(z)), B, pn * pn);
                rest = rest.sub(contribution(idx, s).data());
            }
        }
    }

    /** k codes drawn from rows (N, C) with probability ∝ the squared distance to the nearest of book[0..have). */
    private float[] kMeansPlusPlus(float[] rows, int N, float[] book, int have, int k, Rng rng) {
        double[] d = new double[N];
        for (int n = 0; n < N; n++) {
            d[n] = have == 0 ? 1 : Double.POSITIVE_INFINITY;
            for (int v = 0; v < have; v++) {
                d[n] = Math.min(d[n], dist(rows, n, book, v));
            }
        }
        float[] out = new float[k * C];
        for (int j = 0; j < k; j++) {
            int pick = sample(d, rng);
            System.arraycopy(rows, pick * C, out, j * C, C);
            for (int n = 0; n < N; n++) {
                d[n] = Math.min(d[n], dist(rows, n, out, j));
            }
        }
        return out;
    }

    private double dist(float[] a, int i, float[] b, int j) {
        double acc = 0;
        for (int c = 0; c < C; c++) {
            double t = a[i * C + c] - b[j * C + c];
            acc += t * t;
        }
        return acc;
    }

    /** An index drawn with probability ∝ w (uniform when every weight is 0). */
    private static int sample(double[] w, Rng rng) {
        double total = 0;
        for (double x : w) {
            total += x;
        }
        if (!(total > 0)) {
            return rng.nextInt(w.length);
        }
        double u = rng.nextFloat() * total, acc = 0;
        for (int i = 0; i < w.length; i++) {
            acc += w[i];
            if (u < acc) {
                return i;
            }
        }
        return w.length - 1;
    }

    /**
     * Dead-code re-seeding (docs/model.md#tokenizer-training): each code of {@code dead} is replaced by a quantiser input of the latest
     * batch ({@code q.inputs()}, all scales), drawn without replacement with probability ∝ its squared error to the
     * code it was assigned, normalised so that every scale carries the same total probability: codes move to where
     * the residuals are worst, and the coarse scales (a few positions per image) still get their share.
     */
    public void reseed(int[] dead, Quantized q, Rng rng) {
        if (dead.length == 0) {
            return;
        }
        Tensor E = codebook();
        float[] book = E.contiguous().toFloatArray();
        int total = 0;
        for (Tensor z : q.inputs()) {
            total += z.size(0);
        }
        float[] rows = new float[total * C];
        double[] err = new double[total];
        int at = 0;
        for (int s = 0; s < q.inputs().length; s++) {
            float[] z = q.inputs()[s].toFloatArray();
            int[] idx = q.indices()[s].toIntArray();
            System.arraycopy(z, 0, rows, at * C, z.length);
            for (int n = 0; n < idx.length; n++) {
                err[at + n] = dist(rows, at + n, book, idx[n]);
            }
            at += idx.length;
        }
        // every scale gets the same total probability, so the coarse scales (few positions) are not starved
        at = 0;
        for (Tensor z : q.inputs()) {
            int n = z.size(0);
            double sum = 0;
            for (int i = at; i < at + n; i++) {
                sum += err[i];
            }
            for (int i = at; i < at + n; i++) {
                err[i] = sum > 0 ? err[i] / sum : 1.0 / n;
            }
            at += n;
        }
        for (int v : dead) {
            int pick = sample(err, rng);
            System.arraycopy(rows, pick * C, book, v * C, C);
            err[pick] = 0;
        }
        E.backend().copy(E, Tensor.of(book, V, C));
    }

    // ==================================================================================== training forward

    /**
     * The training forward (docs/model.md#tokenizer-training): the output for the decoder f + stopgrad(fhat − f) (straight-through), the VQ
     * loss (1/S) Σ_s [β·MSE(stopgrad(fhat_s), f) + MSE(fhat_s, stopgrad(f))] on the cumulative fhat_s, and the
     * quantisation that produced it.
     */
    public record Forward(Variable output, Variable vqLoss, Quantized quantized) {
    }

    /** f (B, Cvae, h, w), with gradient, -> {@link Forward}. */
    public Forward forward(Variable f) {
        checkLatent(f.data());
        int S = schedule.count(), B = f.size(0);
        Variable fNoGrad = f.detach();
        Tensor rest = f.data().contiguous().copy();
        Variable fhat = Variable.constant(Tensor.zeros(f.shape()));
        Variable loss = null;
        Tensor[] idx = new Tensor[S], fhats = new Tensor[S], inputs = new Tensor[S];
        for (int s = 0; s < S; s++) {
            int pn = schedule.side(s);
            Tensor z = s < S - 1 ? Resampling.resize(rest, Resampling.Mode.AREA, pn, pn) : rest;
            inputs[s] = toRows(z);
            idx[s] = Tensor.ofInts(nearest(inputs[s]), B, pn * pn);
            Variable u = contribution(idx[s], s);
            fhat = F.add(fhat, u);
            rest = rest.sub(u.data());
            fhats[s] = fhat.data();
            Variable term = F.add(F.mul(F.mse(fhat.detach(), f), beta), F.mse(fhat, fNoGrad));
            loss = loss == null ? term : F.add(loss, term);
        }
        loss = F.mul(loss, 1f / S);
        return new Forward(F.straightThrough(f, fhat.detach()), loss, new Quantized(idx, fhats, inputs));
    }

    // ==================================================================================== teacher forcing and sampling

    /** fhat (B, Cvae, h, w) += φ_{m(s)}(up(E[indices])), indices (B, n[s]) I32 row-major; no gradient. */
    @Override
    public void addScale(Tensor fhat, Tensor indices, int s) {
        int pn = schedule.side(s);
        if (indices.rank() != 2 || indices.size(1) != pn * pn || fhat.rank() != 4 || fhat.size(0) != indices.size(0)
                || fhat.size(1) != C || fhat.size(2) != h || fhat.size(3) != h) {
            throw new ShapeMismatchException("addScale: indices " + java.util.Arrays.toString(indices.shape())
                    + " and fhat " + java.util.Arrays.toString(fhat.shape()) + " for scale " + s + ": expected (B, "
                    + pn * pn + ") and (B, " + C + ", " + h + ", " + h + ")");
        }
        if (!fhat.isContiguous()) {
            throw new IllegalArgumentException("addScale: fhat must be contiguous (it is updated in place)");
        }
        try (var ignored = GradMode.off()) {
            Tensor u = contribution(indices, s).data();
            fhat.backend().binary(BinaryOp.ADD, fhat, fhat, u.contiguous());
        }
    }

    /** The input of scale s + 1: AREA(fhat, pn[s+1]) flattened row-major, (B, n[s+1], Cvae). */
    @Override
    public Tensor nextInput(Tensor fhat, int s) {
        checkLatent(fhat);
        int B = fhat.size(0), pn = schedule.side(s + 1);
        Tensor z = Resampling.resize(fhat, Resampling.Mode.AREA, pn, pn);
        return z.reshape(B, C, pn * pn).transpose(1, 2).contiguous();
    }

    /**
     * The transformer's teacher-forcing input
     * (docs/model.md#teacher-forcing-from-the-cumulative-reconstruction) from ground-truth indices: concat_{s=1..S−1} of the cumulative
     * reconstruction of scales 0..s−1 AREA-resampled to pn[s], (B, L − n[0], Cvae).
     */
    public Tensor teacherForcing(Tensor[] indices) {
        int S = schedule.count();
        checkIndices(indices, S);
        int B = indices[0].size(0);
        Tensor out = Tensor.zeros(B, schedule.length() - schedule.tokens(0), C);
        Tensor fhat = Tensor.zeros(B, C, h, h);
        for (int s = 0; s < S - 1; s++) {
            addScale(fhat, indices[s], s);
            int from = schedule.begin(s + 1) - schedule.tokens(0), to = from + schedule.tokens(s + 1);
            out.backend().copy(out.slice(1, from, to), nextInput(fhat, s));
        }
        return out;
    }

    /** Splits concatenated indices (B, L) into per-scale maps (B, n[s]). */
    public Tensor[] split(Tensor flat) {
        if (flat.rank() != 2 || flat.size(1) != schedule.length()) {
            throw new ShapeMismatchException("split: expected indices (B, " + schedule.length() + "), got "
                    + java.util.Arrays.toString(flat.shape()));
        }
        Tensor[] out = new Tensor[schedule.count()];
        for (int s = 0; s < out.length; s++) {
            out[s] = flat.slice(1, schedule.begin(s), schedule.begin(s + 1)).contiguous();
        }
        return out;
    }

    /** Concatenates per-scale maps (B, n[s]) into (B, L) I32 (the transformer's targets). */
    public Tensor concat(Tensor[] indices) {
        checkIndices(indices, schedule.count());
        int B = indices[0].size(0), L = schedule.length();
        int[] out = new int[B * L];
        for (int s = 0; s < indices.length; s++) {
            int[] v = indices[s].toIntArray();
            int n = schedule.tokens(s), b0 = schedule.begin(s);
            for (int b = 0; b < B; b++) {
                System.arraycopy(v, b * n, out, b * L + b0, n);
            }
        }
        return Tensor.ofInts(out, B, L);
    }

    private void checkLatent(Tensor f) {
        if (f.rank() != 4 || f.size(1) != C || f.size(2) != h || f.size(3) != h) {
            throw new ShapeMismatchException("quantizer: expected a latent (B, " + C + ", " + h + ", " + h + "), got "
                    + java.util.Arrays.toString(f.shape()));
        }
    }

    private void checkIndices(Tensor[] indices, int count) {
        if (indices.length != count) {
            throw new IllegalArgumentException("expected " + count + " index maps (one per scale), got " + indices.length);
        }
        for (int s = 0; s < count; s++) {
            if (indices[s].rank() != 2 || indices[s].size(1) != schedule.tokens(s)
                    || indices[s].size(0) != indices[0].size(0)) {
                throw new ShapeMismatchException("index map " + s + " has shape "
                        + java.util.Arrays.toString(indices[s].shape()) + ", expected (B, " + schedule.tokens(s) + ")");
            }
        }
    }
}
