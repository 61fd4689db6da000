#!/usr/bin/env python3
"""PyTorch CPU eager peer of TrainingStepBenchmark (size "fashion"): one VAR or MVAR optimiser step.

The same network as dev.mvarj.mvar.model.NextScaleTransformer with the README's default configuration: depth 4,
width 128, 4 heads, scales (1, 2, 3, 4, 6, 8) (L = 130), V 256, Cvae 16, 10 classes (+ the null class), drop path 0,
class dropout 0.1; AdaLN blocks (SiLU + Linear(C, 6C) of the class embedding; LayerNorm without affine, eps 1e-6),
attention with l2-normalised q and k, a learned per-head logit scale exp(min(s, ln 100)), softmax scale 1, q and v
biases (no k bias); FFN C -> 4C -> C with GELU (tanh); AdaLN before the head; input embedding class_emb + pos_start
at position 0, word_embed(x) after it, plus pos_1LC and lvl_embed. Loss: the sum of the token cross-entropies over
B * L (docs/model.md#loss). AdamW betas (0.9, 0.95), eps 1e-8, lr 1e-4, weight decay 0.05 except on biases, 1-D
parameters and the embeddings VAR exempts; gradient norm clipped at 2; batch 32 drawn from 128 random sequences.

VAR: one forward over all 130 tokens with the block-causal mask. MVAR (every group each step, as the benchmark's
"all scales" mode): scales 0-3 together with a block-diagonal mask, then scale 4 (6x6) and scale 5 (8x8) alone with
3x3 neighbourhood attention (NATTEN's window rule, docs/model.md#spatial-markov-neighbourhood-attention). torch 1.13
has neither scaled_dot_product_attention nor NATTEN, so every pattern is an additive mask on the dense (n, n)
logits, the fastest eager form at these lengths (n <= 130).

Usage: transformer_step_torch.py THREADS [var|mvar ...]; run through bench/peers/run-torch-peer.sh.
"""
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from peer_common import blas, ms_per_step

DEPTH, C, HEADS, V, CVAE, CLASSES = 4, 128, 4, 256, 16, 10
SIDES = (1, 2, 3, 4, 6, 8)
REFINE, KERNEL, BATCH, ROWS = 4, 3, 32, 128
COUNTS = [s * s for s in SIDES]
BEGIN = [sum(COUNTS[:i]) for i in range(len(COUNTS) + 1)]
L = BEGIN[-1]


def ln(x):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6)


def modulate(x, scale, shift):
    return x * (1 + scale) + shift


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.mat_qkv = nn.Linear(C, 3 * C, bias=False)
        self.q_bias, self.v_bias = nn.Parameter(torch.zeros(C)), nn.Parameter(torch.zeros(C))
        self.register_buffer("zero_k_bias", torch.zeros(C))
        self.scale_mul_1H11 = nn.Parameter(torch.full((1, HEADS, 1, 1), math.log(4.0)))
        self.proj = nn.Linear(C, C)

    def forward(self, x, mask):
        B, n, _ = x.shape
        bias = torch.cat((self.q_bias, self.zero_k_bias, self.v_bias))
        q, k, v = F.linear(x, self.mat_qkv.weight, bias).view(B, n, 3, HEADS, C // HEADS).permute(2, 0, 3, 1, 4).unbind(0)
        q = F.normalize(q, dim=-1) * self.scale_mul_1H11.clamp(max=math.log(100.0)).exp()
        k = F.normalize(k, dim=-1)
        a = ((q @ k.transpose(-2, -1)) + mask).softmax(-1) @ v                 # (B, H, n, hd)
        return self.proj(a.transpose(1, 2).reshape(B, n, C))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attention()
        self.fc1, self.fc2 = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(C, 6 * C))

    def forward(self, x, cond, mask):
        g1, g2, s1, s2, b1, b2 = self.ada_lin(cond).view(-1, 1, 6, C).unbind(2)
        x = x + self.attn(modulate(ln(x), s1, b1), mask) * g1
        return x + self.fc2(F.gelu(self.fc1(modulate(ln(x), s2, b2)), approximate="tanh")) * g2


class NextScaleTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        std = math.sqrt(1 / (3 * C))
        self.class_emb = nn.Embedding(CLASSES + 1, C)
        self.pos_start = nn.Parameter(torch.randn(1, 1, C) * std)
        self.pos_1LC = nn.Parameter(torch.randn(1, L, C) * std)
        self.lvl_embed = nn.Embedding(len(SIDES), C)
        self.word_embed = nn.Linear(CVAE, C)
        self.blocks = nn.ModuleList(Block() for _ in range(DEPTH))
        self.head_nm = nn.Sequential(nn.SiLU(), nn.Linear(C, 2 * C))
        self.head = nn.Linear(C, V)
        self.register_buffer("levels", torch.cat([torch.full((n,), s) for s, n in enumerate(COUNTS)]))

    def forward(self, labels, x, lo, hi, mask):
        """Logits of scales [lo, hi): labels (B,), x the teacher-forcing input (B, L - 1, Cvae) -> (B, n, V)."""
        b, e = BEGIN[lo], BEGIN[hi]
        cond = self.class_emb(labels)
        parts = [cond[:, None, :] + self.pos_start] if lo == 0 else []
        parts.append(self.word_embed(x[:, max(b, 1) - 1:e - 1]))
        h = torch.cat(parts, 1) + self.pos_1LC[:, b:e] + self.lvl_embed(self.levels[b:e])
        for blk in self.blocks:
            h = blk(h, cond, mask)
        scale, shift = self.head_nm(cond).view(-1, 1, 2, C).unbind(2)
        return self.head(modulate(ln(h), scale, shift))


def additive(allowed):
    return torch.where(allowed, 0.0, float("-inf"))


def block_mask(lo, hi, causal):
    """Scales [lo, hi): a token sees its own scale, and every earlier one when causal."""
    lvl = torch.cat([torch.full((COUNTS[s],), s) for s in range(lo, hi)])
    return additive(lvl[None, :] <= lvl[:, None] if causal else lvl[None, :] == lvl[:, None])


def neighbourhood_mask(side, k):
    """Query (i, j) sees rows and columns [clamp(i - k // 2, 0, side - k), + k) of its own side x side grid."""
    start = (torch.arange(side) - k // 2).clamp(0, side - k)
    near = (torch.arange(side)[None, :] >= start[:, None]) & (torch.arange(side)[None, :] < start[:, None] + k)
    return additive((near[:, None, :, None] & near[None, :, None, :]).reshape(side * side, side * side))


def groups(pattern):
    if pattern == "var":
        return [(0, len(SIDES), block_mask(0, len(SIDES), True))]
    g = [(0, REFINE, block_mask(0, REFINE, False))]
    return g + [(s, s + 1, neighbourhood_mask(SIDES[s], KERNEL)) for s in range(REFINE, len(SIDES))]


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = NextScaleTransformer()
    no_decay = ("pos_1LC", "pos_start", "lvl_embed", "scale_mul")
    decay = [p for n, p in model.named_parameters() if p.dim() > 1 and not any(k in n for k in no_decay)]
    rest = [p for n, p in model.named_parameters() if not (p.dim() > 1 and not any(k in n for k in no_decay))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    labels_all = torch.randint(CLASSES, (ROWS,))
    targets_all = torch.randint(V, (ROWS, L))
    x_all = torch.randn(ROWS, L - 1, CVAE)
    params = sum(p.numel() for p in model.parameters())
    for pattern in sys.argv[2:] or ("var", "mvar"):
        plan = groups(pattern)
        at = [0]

        def step():
            rows = torch.arange(at[0], at[0] + BATCH) % ROWS
            at[0] = (at[0] + BATCH) % ROWS
            labels = torch.where(torch.rand(BATCH) < 0.1, CLASSES, labels_all[rows])
            targets, x = targets_all[rows], x_all[rows]
            opt.zero_grad(set_to_none=True)
            loss = 0
            for lo, hi, mask in plan:
                logits = model(labels, x, lo, hi, mask)
                ce = F.cross_entropy(logits.reshape(-1, V), targets[:, BEGIN[lo]:BEGIN[hi]].reshape(-1),
                                     reduction="sum")
                loss = loss + ce / (BATCH * L)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
            opt.step()
            return loss.item()

        ms = ms_per_step(step)
        print(f"torch {torch.__version__}, {threads} thread(s), BLAS: {blas()}, {params} parameters")
        print(f"training_step\t{pattern}\t{threads}\t{ms:.1f}\tms/step\t{BATCH / ms * 1e3:.0f}\timages/s",
              flush=True)


if __name__ == "__main__":
    main()
