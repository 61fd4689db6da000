package dev.mvarj.mvar.model;

import dev.mvarj.autograd.F;
import dev.mvarj.autograd.GradMode;
import dev.mvarj.autograd.Variable;
import dev.mvarj.nn.Embedding;
import dev.mvarj.nn.Init;
import dev.mvarj.nn.Linear;
import dev.mvarj.nn.Module;
import dev.mvarj.nn.ModuleList;
import dev.mvarj.tensor.MemoryScope;
import dev.mvarj.tensor.Tensor;
import dev.mvarj.tensor.random.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * The class-conditional next-scale-prediction transformer of VAR (docs/model.md#next-scale-prediction); MVAR is the same network run with
 * the {@link AttentionPattern#MVAR} pattern (docs/model.md#mvar). Parameter names match VAR's state dict, so its checkpoints and
 * ours line up, and fine-tuning VAR → MVAR is a plain load
 * (docs/model.md#masks-are-never-stored).
 */
public final class NextScaleTransformer extends Module {

    public final TransformerConfig cfg;
    final Embedding classEmb, levelEmbed;
    final Variable posStart, pos1LC;
    final Linear wordEmbed;
    final ModuleList<Blocks.AdaLnBlock> blocks;
    final Blocks.AdaLnBeforeHead headNorm;
    final Linear head;
    private final int[] levelOf;

    public NextScaleTransformer(TransformerConfig cfg, Rng rng) {
        this.cfg = cfg;
        int C = cfg.width(), L = cfg.schedule().length(), first = cfg.schedule().tokens(0);
        float std = (float) Math.sqrt(1.0 / (3 * C));
        classEmb = child("class_emb", new Embedding(cfg.classes() + 1, C, rng));
        posStart = param("pos_start", Init.truncNormal(rng, std, 1, first, C));
        pos1LC = param("pos_1LC", Init.truncNormal(rng, std, 1, L, C));
        levelEmbed = child("lvl_embed", new Embedding(cfg.schedule().count(), C, rng));
        wordEmbed = child("word_embed", new Linear(cfg.codeDim(), C, true, rng));
        blocks = child("blocks", new ModuleList<>());
        for (int i = 0; i < cfg.depth(); i++) {
            float dp = cfg.depth() == 1 ? 0f : cfg.dropPath() * i / (cfg.depth() - 1);  // rises linearly from 0
            blocks.add(new Blocks.AdaLnBlock(C, cfg.heads(), dp, rng));
        }
        headNorm = child("head_nm", new Blocks.AdaLnBeforeHead(C, rng));
        head = child("head", new Linear(C, cfg.vocab(), true, rng));
        levelOf = new int[L];
        for (int p = 0; p < L; p++) {
            levelOf[p] = cfg.schedule().level(p);
        }
        initWeights(rng, std);
    }

    /** docs/model.md#initialisation: truncated normal std √(1/3C) for every Linear and Embedding, then the head/AdaLN/residual scalings. */
    private void initWeights(Rng rng, float std) {
        namedParameters().forEach((name, v) -> {
            if (name.endsWith(".bias") || name.endsWith("q_bias") || name.endsWith("v_bias")) {
                v.setData(Tensor.zeros(v.shape()));
            } else if (name.endsWith(".weight")) {
                v.setData(Init.truncNormal(rng, std, v.shape()));
            }
        });
        int C = cfg.width();
        scale(head.weight, 0, cfg.vocab(), 0.02f);
        scale(headNorm.adaLin.linear.weight, 0, 2 * C, 0.5f);
        float residual = (float) (1.0 / Math.sqrt(2.0 * cfg.depth()));
        for (Blocks.AdaLnBlock b : blocks) {
            scale(b.attn.proj.weight, 0, C, residual);
            scale(b.ffn.fc2.weight, 0, C, residual);
            scale(b.adaLin.linear.weight, 2 * C, 6 * C, 0.5f);          // scales and shifts
            scale(b.adaLin.linear.weight, 0, 2 * C, cfg.gateInit());    // the gates γ1, γ2
        }
    }

    /** Multiplies rows [from, to) of a 2-D parameter by {@code factor}. */
    private static void scale(Variable w, int from, int to, float factor) {
        Tensor rows = w.data().slice(0, from, to);
        rows.backend().copy(rows, rows.mul(factor));
    }

    /**
     * Replaces each label by the null class with probability {@code cfg.condDrop()} (training, for CFG); the labels
     * are {@link #batchShard()} of the global batch, and keep their draws from the whole batch's.
     */
    public Tensor dropLabels(Tensor labels, Rng rng) {
        int[] l = labels.toIntArray();
        float[] u = batchShard().uniform(rng, l.length);
        for (int i = 0; i < l.length; i++) {
            if (u[i] < cfg.condDrop()) {
                l[i] = cfg.classes();
            }
        }
        return Tensor.ofInts(l, l.length).to(labels.device());
    }

    /** cond = class_emb[label] (B, C). */
    Variable condition(Tensor labels) {
        return classEmb.forward(labels);
    }

    /**
     * The input tokens of scales [from, to) (B, n, C): position 0 is class_emb + pos_start, position p > 0 is
     * word_embed(X[p − 1]); every position adds pos_1LC[p] + lvl_embed[level(p)]
     * (docs/model.md#input-embedding).
     *
     * @param x the teacher-forcing input (B, L − n[0], Cvae), or just the rows of these scales when {@code rowsOnly}
     */
    Variable embed(Variable cond, Tensor x, int from, int to, boolean rowsOnly) {
        ScaleSchedule sch = cfg.schedule();
        int b = sch.begin(from), e = sch.begin(to), B = cond.size(0), C = cfg.width(), first = sch.tokens(0);
        List<Variable> parts = new ArrayList<>();
        if (from == 0) {
            parts.add(F.add(F.reshape(cond, B, 1, C), posStart));                   // (B, first, C)
        }
        int wb = Math.max(b, first) - first, we = e - first;                       // rows of X
        if (we > wb) {
            Tensor rows = rowsOnly ? x : x.slice(1, wb, we);
            parts.add(wordEmbed.forward(Variable.constant(rows)));
        }
        Variable tokens = parts.size() == 1 ? parts.get(0) : F.concat(1, parts.toArray(new Variable[0]));
        int[] levels = java.util.Arrays.copyOfRange(levelOf, b, e);
        Variable lvl = levelEmbed.forward(Tensor.ofInts(levels, levels.length).to(device()));   // (n, C)
        return F.add(F.add(tokens, F.slice(pos1LC, 1, b, e)), lvl);
    }

    /**
     * Logits of scales [from, to) under {@code pattern}: labels (B) I32 (already class-dropped), x the full
     * teacher-forcing input (B, L − n[0], Cvae) -> (B, n, V). Inputs live on the model's {@link #device()}.
     */
    public Variable forward(Tensor labels, Tensor x, int from, int to, AttentionPattern pattern) {
        AttentionPattern.Plan plan = pattern.plan(cfg, from, to);
        Variable cond = condition(labels);
        Variable h = embed(cond, x, from, to, false);
        for (Blocks.AdaLnBlock b : blocks) {
            h = b.forward(h, cond, t -> b.attn.forward(t, plan));
        }
        return head.forward(headNorm.forward(h, cond));
    }

    /**
     * Inference for one scale s: tokens (B, n[s], C) already embedded -> logits (B, n[s], V). With caches (VAR),
     * every block appends its keys/values and attends to all cached tokens; without (MVAR), the scale attends only
     * to itself, densely below the refine step and by neighbourhood from it on.
     */
    Variable forwardScale(Variable tokens, Variable cond, int s, KvCache[] caches) {
        if (GradMode.isEnabled()) {
            throw new IllegalStateException("forwardScale is inference only: run it under GradMode.off()");
        }
        Variable h = tokens;
        AttentionPattern.Plan plan = caches == null ? AttentionPattern.MVAR.plan(cfg, s, s + 1) : null;
        for (int i = 0; i < blocks.size(); i++) {
            Blocks.AdaLnBlock b = blocks.get(i);
            KvCache cache = caches == null ? null : caches[i];
            Variable in = h;
            try (MemoryScope block = MemoryScope.open()) {     // the block's temporaries die with it
                h = b.forward(in, cond, t -> cache != null ? b.attn.forwardCached(t, cache) : b.attn.forward(t, plan));
                block.keep(h.data());
            }
            if (in != tokens) {
                in.data().storage().release();                  // the previous block's output is spent
            }
        }
        return head.forward(headNorm.forward(h, cond));
    }

    /**
     * VAR's loss for the logits of scales [from, to) (B, n, V): Σ over the group's tokens of CE / (B·L), with L the
     * whole sequence length (docs/model.md#loss: every token weighs 1/L whatever group it is trained in).
     *
     * @param targets the whole sequence's indices (B, L) I32
     */
    public Variable loss(Variable logits, Tensor targets, int from, int to, float labelSmoothing) {
        ScaleSchedule sch = cfg.schedule();
        int B = logits.size(0), n = logits.size(1), L = sch.length();
        Tensor t = targets.slice(1, sch.begin(from), sch.begin(to)).contiguous().reshape(B * n);
        Tensor weight = Tensor.full(logits.data().device(), 1f / (B * L), B * n);
        return F.crossEntropy(F.reshape(logits, B * n, cfg.vocab()), t, weight, labelSmoothing);
    }

    /** The per-position level indices (for metrics). */
    public int level(int p) {
        return levelOf[p];
    }
}
