#!/usr/bin/env python3
"""Whole-model PyTorch reference for a tiny VAR and a tiny MVAR written out by hand in float64
(docs/model.md#next-scale-prediction, docs/model.md#mvar).

Writes mvar/src/test/resources/fixtures/model__{var,mvar}.safetensors:
  param.<name>     every parameter, under VAR's state-dict names (random values, not the init, so every path counts)
  input.labels     (B) I32          input.x   (B, L - 1, Cvae) teacher-forcing input
  input.targets    (B, L) I32
  output.logits    (B, L, V)        output.loss  ()   sum over tokens of CE / (B * L)
  grad.<name>      d loss / d parameter
  metadata: config (JSON), pattern ("var" | "mvar")

VAR: one forward over the whole sequence with the block-causal mask.
MVAR: the coarse scales [0, R) in one sequence with the block-diagonal mask, then every scale s >= R alone with
neighbourhood attention (k x k window clamped inside the grid); logits concatenated, losses summed (the
"all scales every step" mode), all with the same 1/(B*L) token weight.

    python3 tools/gen_model_fixtures.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import st_dumps  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "mvar", "src", "test", "resources", "fixtures")
F64 = torch.float64

CFG = dict(depth=2, width=16, heads=2, vocab=11, code_dim=4, classes=3, sides=[1, 2, 4, 5], refine_step=2,
           kernel=3, batch=2)


def params_spec(c):
    C, V, Cv, S = c["width"], c["vocab"], c["code_dim"], len(c["sides"])
    L = sum(s * s for s in c["sides"])
    spec = {
        "class_emb.weight": (c["classes"] + 1, C),
        "pos_start": (1, 1, C),
        "pos_1LC": (1, L, C),
        "lvl_embed.weight": (S, C),
        "word_embed.weight": (C, Cv), "word_embed.bias": (C,),
    }
    for i in range(c["depth"]):
        p = "blocks.%d." % i
        spec.update({
            p + "attn.mat_qkv.weight": (3 * C, C), p + "attn.q_bias": (C,), p + "attn.v_bias": (C,),
            p + "attn.scale_mul_1H11": (1, c["heads"], 1, 1),
            p + "attn.proj.weight": (C, C), p + "attn.proj.bias": (C,),
            p + "ffn.fc1.weight": (4 * C, C), p + "ffn.fc1.bias": (4 * C,),
            p + "ffn.fc2.weight": (C, 4 * C), p + "ffn.fc2.bias": (C,),
            p + "ada_lin.1.weight": (6 * C, C), p + "ada_lin.1.bias": (6 * C,),
        })
    spec.update({"head_nm.ada_lin.1.weight": (2 * C, C), "head_nm.ada_lin.1.bias": (2 * C,),
                 "head.weight": (V, C), "head.bias": (V,)})
    return spec


def ln(x):
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


def na_mask(p, k):
    def start(i):
        return min(max(i - k // 2, 0), p - k)
    m = torch.full((p * p, p * p), -math.inf, dtype=F64)
    for qi in range(p):
        for qj in range(p):
            a, b = start(qi), start(qj)
            for ki in range(a, a + k):
                for kj in range(b, b + k):
                    m[qi * p + qj, ki * p + kj] = 0.0
    return m


def block_mask(counts, causal):
    L = sum(counts)
    lvl = []
    for s, n in enumerate(counts):
        lvl += [s] * n
    lvl = torch.tensor(lvl)
    allow = (lvl[None, :] <= lvl[:, None]) if causal else (lvl[None, :] == lvl[:, None])
    return torch.where(allow, torch.zeros((), dtype=F64), torch.full((), -math.inf, dtype=F64))


def attention(P, p, x, mask):
    B, L, C = x.shape
    H = CFG["heads"]
    hd = C // H
    bias = torch.cat([P[p + "q_bias"], torch.zeros(C, dtype=F64), P[p + "v_bias"]])
    qkv = (x @ P[p + "mat_qkv.weight"].T + bias).view(B, L, 3, H, hd).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    scale = P[p + "scale_mul_1H11"].clamp_max(math.log(100)).exp()
    q = F.normalize(q, dim=-1) * scale
    k = F.normalize(k, dim=-1)
    att = (q @ k.transpose(-2, -1)) + mask
    o = att.softmax(dim=-1) @ v
    o = o.transpose(1, 2).reshape(B, L, C)
    return o @ P[p + "proj.weight"].T + P[p + "proj.bias"]


def forward(P, labels, X, lo, hi, mask):
    C = CFG["width"]
    sides = CFG["sides"]
    counts = [s * s for s in sides]
    begin = [sum(counts[:s]) for s in range(len(sides) + 1)]
    b, e = begin[lo], begin[hi]
    cond = P["class_emb.weight"][labels]                               # (B, C)
    B = labels.shape[0]
    parts = []
    if lo == 0:
        parts.append(cond[:, None, :] + P["pos_start"])
    wb, we = max(b, 1) - 1, e - 1
    if we > wb:
        parts.append(X[:, wb:we] @ P["word_embed.weight"].T + P["word_embed.bias"])
    x = torch.cat(parts, dim=1)
    lvl = torch.tensor([s for s in range(len(sides)) for _ in range(counts[s])][b:e])
    x = x + P["pos_1LC"][:, b:e] + P["lvl_embed.weight"][lvl]
    sc = F.silu(cond)
    for i in range(CFG["depth"]):
        p = "blocks.%d." % i
        g1, g2, s1, s2, b1, b2 = (sc @ P[p + "ada_lin.1.weight"].T + P[p + "ada_lin.1.bias"]).view(B, 1, 6, C).unbind(2)
        x = x + attention(P, p + "attn.", ln(x) * (1 + s1) + b1, mask) * g1
        h = ln(x) * (1 + s2) + b2
        h = F.gelu(h @ P[p + "ffn.fc1.weight"].T + P[p + "ffn.fc1.bias"], approximate="tanh")
        x = x + (h @ P[p + "ffn.fc2.weight"].T + P[p + "ffn.fc2.bias"]) * g2
    s, sh = (sc @ P["head_nm.ada_lin.1.weight"].T + P["head_nm.ada_lin.1.bias"]).view(B, 1, 2, C).unbind(2)
    return (ln(x) * (1 + s) + sh) @ P["head.weight"].T + P["head.bias"]


def make(pattern):
    g = torch.Generator().manual_seed(1234 if pattern == "var" else 4321)
    c = CFG
    L = sum(s * s for s in c["sides"])
    B = c["batch"]
    P = {}
    t = {}
    for name, shape in params_spec(c).items():
        v = torch.randn(shape, generator=g, dtype=torch.float32) * 0.3
        if name.endswith("scale_mul_1H11"):
            v = v + math.log(4)
        t["param." + name] = v.numpy().copy()
        P[name] = v.to(F64).requires_grad_(True)
    labels = torch.randint(0, c["classes"] + 1, (B,), generator=g)
    X32 = torch.randn(B, L - 1, c["code_dim"], generator=g, dtype=torch.float32)
    targets = torch.randint(0, c["vocab"], (B, L), generator=g)
    X = X32.to(F64)
    counts = [s * s for s in c["sides"]]
    begin = [sum(counts[:s]) for s in range(len(counts) + 1)]
    if pattern == "var":
        logits = forward(P, labels, X, 0, len(counts), block_mask(counts, True))
    else:
        R = c["refine_step"]
        groups = [forward(P, labels, X, 0, R, block_mask(counts[:R], False))]
        for s in range(R, len(counts)):
            groups.append(forward(P, labels, X, s, s + 1, na_mask(c["sides"][s], c["kernel"])))
        logits = torch.cat(groups, dim=1)
    ce = F.cross_entropy(logits.reshape(-1, c["vocab"]), targets.reshape(-1), reduction="none")
    loss = ce.sum() / (B * L)
    loss.backward()
    t["input.labels"] = labels.to(torch.int32).numpy()
    t["input.x"] = X32.numpy()
    t["input.targets"] = targets.to(torch.int32).numpy()
    t["output.logits"] = logits.detach().float().numpy()
    t["output.loss"] = np.array(loss.item(), dtype=np.float32)
    for name, p in P.items():
        t["grad." + name] = p.grad.float().numpy()
    meta = {"config": json.dumps(c), "pattern": pattern, "torch": torch.__version__,
            "generator": "tools/gen_model_fixtures.py"}
    return t, meta


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for pattern in ("var", "mvar"):
        t, meta = make(pattern)
        with open(os.path.join(OUT_DIR, "model__%s.safetensors" % pattern), "wb") as f:
            f.write(st_dumps(t, meta))
        print("model__" + pattern, "loss", float(t["output.loss"]))


if __name__ == "__main__":
    main()
