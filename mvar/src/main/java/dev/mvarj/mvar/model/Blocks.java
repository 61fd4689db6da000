package dev.mvarj.mvar.model;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.nn.DropPath;
import dev.mvarj.nn.Linear;
import dev.mvarj.nn.Module;
import dev.mvarj.tensor.AttentionMask;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/** The transformer's building blocks, in the order docs/model.md#next-scale-prediction
 * introduces them; names follow VAR's state dict. */
public final class Blocks {

    private Blocks() {
    }

    /**
     * Runs a sub-step of a block; during inference (no graph) its temporaries are released as soon as it returns,
     * keeping only its results, as a reference-counted runtime would (docs/architecture.md#memory). While training it is a plain
     * call: the graph needs the temporaries for backward.
     */
    static Variable[] inferenceScoped(Supplier<Variable[]> step) {
        if (GradMode.isEnabled()) {
            return step.get();
        }
        try (MemoryScope scope = MemoryScope.open()) {
            Variable[] out = step.get();
            for (Variable v : out) {
                scope.keep(v.data());
            }
            return out;
        }
    }

    static Variable inferenceScoped1(Supplier<Variable> step) {
        return inferenceScoped(() -> new Variable[]{step.get()})[0];
    }

    /** LayerNorm without affine parameters, eps 1e-6 (VAR's {@code ln_wo_grad}). */
    static Variable ln(Variable x) {
        return F.layerNorm(x, null, null, 1e-6f);
    }

    /** Chunk j of width C of a (B, k·C) modulation, as (B, 1, C) so that it broadcasts over positions. */
    static Variable chunk(Variable mod, int j, int C) {
        int B = mod.size(0);
        return F.reshape(F.slice(mod, 1, j * C, (j + 1) * C), B, 1, C);
    }

    /** x ⊙ (1 + scale) + shift. */
    static Variable modulate(Variable x, Variable scale, Variable shift) {
        return F.add(F.mul(x, F.add(scale, 1f)), shift);
    }

    /**
     * Self-attention with L2-normalised q and k and a learned per-head logit scale
     * (docs/model.md#attention-layer):
     * q ← normalize(q) · exp(min(σ_h, ln 100)), k ← normalize(k), softmax scale 1.
     * x (B, L, C) -> (B, L, C).
     */
    public static final class SelfAttention extends Module {
        private static final float MAX_SCALE_MUL = (float) Math.log(100);
        final int heads, headDim;
        final Linear matQkv, proj;
        final Variable qBias, vBias, scaleMul;

        SelfAttention(int C, int heads, Rng rng) {
            this.heads = heads;
            this.headDim = C / heads;
            matQkv = child("mat_qkv", new Linear(C, 3 * C, false, rng));
            qBias = param("q_bias", Tensor.zeros(C));
            vBias = param("v_bias", Tensor.zeros(C));
            scaleMul = param("scale_mul_1H11", Tensor.full((float) Math.log(4), 1, heads, 1, 1));
            proj = child("proj", new Linear(C, C, true, rng));
        }

        /** x (B, L, C) -> (B, L, C), attending as {@code plan} says. */
        public Variable forward(Variable x, AttentionPattern.Plan plan) {
            Variable[] qkv = inferenceScoped(() -> qkv(x));
            Variable o = plan.neighbourhood()
                    ? F.neighborhoodAttention(qkv[0], qkv[1], qkv[2], plan.grid(), plan.kernel(), 1f)
                    : F.attention(qkv[0], qkv[1], qkv[2], plan.mask(), 1f);          // (B, H, L, hd)
            return project(o);
        }

        /** Inference with a KV cache (VAR): the new keys/values are appended, queries see every cached token. */
        Variable forwardCached(Variable x, KvCache cache) {
            Variable[] qkv = inferenceScoped(() -> qkv(x));
            cache.append(qkv[1].data(), qkv[2].data());
            return project(F.attention(qkv[0], Variable.constant(cache.keys()), Variable.constant(cache.values()),
                    AttentionMask.none(), 1f));
        }

        /** (B, H, L, hd) -> concat heads -> proj (B, L, C). */
        private Variable project(Variable o) {
            int B = o.size(0), L = o.size(2);
            return proj.forward(F.reshape(F.transpose(o, 1, 2), B, L, heads * headDim));
        }

        /**
         * qkv = x · W_qkvᵀ + [b_q ; 0 ; b_v] (the k bias is a fixed zero), split into heads (B, H, L, hd) each;
         * q ← normalize(q) · exp(min(σ_h, ln 100)), k ← normalize(k).
         */
        Variable[] qkv(Variable x) {
            int B = x.size(0), L = x.size(1), C = x.size(2);
            Variable bias = F.concat(0, qBias, Variable.constant(Tensor.zeros(x.data().device(), C)), vBias);
            Variable qkv = F.permute(F.reshape(F.linear(x, matQkv.weight, bias), B, L, 3, heads, headDim), 2, 0, 3, 1, 4);
            Variable logitScale = F.exp(F.clamp(scaleMul, Float.NEGATIVE_INFINITY, MAX_SCALE_MUL)); // (1, H, 1, 1)
            Variable q = F.reshape(F.slice(qkv, 0, 0, 1), B, heads, L, headDim);
            Variable k = F.reshape(F.slice(qkv, 0, 1, 2), B, heads, L, headDim);
            Variable v = F.reshape(F.slice(qkv, 0, 2, 3), B, heads, L, headDim);
            return new Variable[]{F.mul(F.l2Normalize(q, -1, 1e-12f), logitScale), F.l2Normalize(k, -1, 1e-12f), v};
        }
    }

    /** Linear(C → 4C) → GELU (tanh) → Linear(4C → C). */
    public static final class FeedForward extends Module {
        final Linear fc1, fc2;

        FeedForward(int C, int hidden, Rng rng) {
            fc1 = child("fc1", new Linear(C, hidden, true, rng));
            fc2 = child("fc2", new Linear(hidden, C, true, rng));
        }

        public Variable forward(Variable x) {
            return fc2.forward(F.gelu(fc1.forward(x)));
        }
    }

    /** SiLU then Linear(D → k·C): VAR's {@code ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(D, k·C))}. */
    public static final class AdaLin extends Module {
        final Linear linear;

        AdaLin(int D, int out, Rng rng) {
            linear = child("1", new Linear(D, out, true, rng));
        }

        public Variable forward(Variable cond) {
            return linear.forward(F.silu(cond));
        }
    }

    /**
     * The AdaLN block (docs/model.md#adaln-blocks): (γ1, γ2, s1, s2, b1, b2) = ada_lin(cond);
     * x += DropPath(γ1 ⊙ Attn(LN(x) ⊙ (1 + s1) + b1)); x += DropPath(γ2 ⊙ FFN(LN(x) ⊙ (1 + s2) + b2)).
     */
    public static final class AdaLnBlock extends Module {
        final int C;
        final SelfAttention attn;
        final FeedForward ffn;
        final AdaLin adaLin;
        final DropPath dropPath;

        AdaLnBlock(int C, int heads, float dropPath, Rng rng) {
            this.C = C;
            attn = child("attn", new SelfAttention(C, heads, rng));
            ffn = child("ffn", new FeedForward(C, 4 * C, rng));
            adaLin = child("ada_lin", new AdaLin(C, 6 * C, rng));
            this.dropPath = child("drop_path", new DropPath(dropPath, rng));
        }

        /** x (B, L, C), cond (B, C); {@code attention} maps the modulated LN(x) to the attention output. */
        public Variable forward(Variable x, Variable cond, UnaryOperator<Variable> attention) {
            Variable mod = adaLin.forward(cond);                                   // (B, 6C)
            Variable g1 = chunk(mod, 0, C), g2 = chunk(mod, 1, C), s1 = chunk(mod, 2, C), s2 = chunk(mod, 3, C);
            Variable b1 = chunk(mod, 4, C), b2 = chunk(mod, 5, C);
            Variable in = x;
            x = F.add(x, inferenceScoped1(() -> dropPath.forward(F.mul(attention.apply(modulate(ln(in), s1, b1)), g1))));
            Variable mid = x;
            return F.add(x, inferenceScoped1(() -> dropPath.forward(F.mul(ffn.forward(modulate(ln(mid), s2, b2)), g2))));
        }
    }

    /** AdaLN before the head (docs/model.md#adaln-blocks): (s, b) = ada_lin(cond); LN(x) ⊙ (1 + s) + b. */
    public static final class AdaLnBeforeHead extends Module {
        final int C;
        final AdaLin adaLin;

        AdaLnBeforeHead(int C, Rng rng) {
            this.C = C;
            adaLin = child("ada_lin", new AdaLin(C, 2 * C, rng));
        }

        public Variable forward(Variable x, Variable cond) {
            Variable mod = adaLin.forward(cond);
            return modulate(ln(x), chunk(mod, 0, C), chunk(mod, 1, C));
        }
    }
}
