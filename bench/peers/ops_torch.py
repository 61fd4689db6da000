#!/usr/bin/env python3
"""PyTorch CPU eager peer of OpsBenchmark: layer norm (2080 x 256), GELU tanh (2080 x 1024) and softmax
cross-entropy (2080 x V), forward + backward, median of 20 calls after 5 warm-ups. Argument: threads."""
import sys
import time

import torch
import torch.nn.functional as F

t = int(sys.argv[1])
torch.set_num_threads(t)
R, C = 16 * 130, 256
g = torch.Generator().manual_seed(3)


def bench(fn, reps=20):
    for _ in range(5):
        fn()
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - s) * 1e6)
    ts.sort()
    return ts[len(ts) // 2]


x = torch.randn(R, C, generator=g, requires_grad=True)
gx = torch.randn(R, C, generator=g)
ln = torch.nn.LayerNorm(C, eps=1e-6)
h = torch.randn(R, 4 * C, generator=g, requires_grad=True)
gh = torch.randn(R, 4 * C, generator=g)
print("threads %d: layerNorm %.0f us, gelu %.0f us" % (
    t, bench(lambda: ln(x).backward(gx)), bench(lambda: F.gelu(h, approximate="tanh").backward(gh))), end="")
for V in (256, 4096):
    z = torch.randn(R, V, generator=g, requires_grad=True)
    tg = torch.randint(0, V, (R,), generator=g)
    print(", softmaxCrossEntropy V=%d %.0f us" % (V, bench(lambda: F.cross_entropy(z, tg).backward())), end="")
print()
