#!/usr/bin/env python3
"""PyTorch CPU eager peer of TransformerBlockBenchmark: one pre-norm block, forward and forward+backward.

Same block (LN affine, biases, GELU tanh, MLP 4x, VAR block-causal mask written out by hand: torch 1.13 has no
SDPA), batch 16, widths 128/4 and 256/8, L 130 (scales 1,2,3,4,6,8) and 341 (1,2,4,8,16), 1 and 2 threads.
Run through bench/peers/run-torch-peer.sh (it sets the OpenBLAS variables and thread counts).
"""
import sys
import time

import torch
import torch.nn.functional as F

from peer_common import blas

threads = int(sys.argv[1])
torch.set_num_threads(threads)


def mask(counts):
    lvl = torch.cat([torch.full((n,), s) for s, n in enumerate(counts)])
    return torch.where(lvl[None, :] <= lvl[:, None], 0.0, float("-inf"))


def bench(C, H, L, reps=8):
    B = 16
    counts = [1, 4, 9, 16, 36, 64] if L == 130 else [1, 4, 16, 64, 256]
    m = mask(counts)
    hd = C // H
    g = torch.Generator().manual_seed(1)
    ln1, ln2 = torch.nn.LayerNorm(C, eps=1e-6), torch.nn.LayerNorm(C, eps=1e-6)
    qkv, proj = torch.nn.Linear(C, 3 * C), torch.nn.Linear(C, C)
    fc1, fc2 = torch.nn.Linear(C, 4 * C), torch.nn.Linear(4 * C, C)
    x = torch.randn(B, L, C, generator=g, requires_grad=True)
    gout = torch.randn(B, L, C, generator=g)

    def block(x):
        q, k, v = qkv(ln1(x)).view(B, L, 3, H, hd).permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q @ k.transpose(-2, -1)) / hd ** 0.5 + m).softmax(-1) @ v
        x1 = x + proj(a.transpose(1, 2).reshape(B, L, C))
        return x1 + fc2(F.gelu(fc1(ln2(x1)), approximate="tanh"))

    def fwd():
        with torch.no_grad():
            block(x)

    def fwdbwd():
        block(x).backward(gout)

    out = {}
    for name, fn in (("forward", fwd), ("forwardBackward", fwdbwd)):
        for _ in range(3):
            fn()
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t) * 1e3)
        ts.sort()
        out[name] = ts[len(ts) // 2]
    return out


print("# torch", torch.__version__, "threads", threads, "BLAS:", blas())
for C, H in ((128, 4), (256, 8)):
    for L in (130, 341):
        r = bench(C, H, L)
        print("width %d/%d L %d threads %d: forward %.1f ms, forward+backward %.1f ms"
              % (C, H, L, threads, r["forward"], r["forwardBackward"]))
