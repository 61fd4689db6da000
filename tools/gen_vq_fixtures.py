#!/usr/bin/env python3
"""PyTorch reference fixtures for mvarj's multi-scale residual VQ tokenizer.

Writes small safetensors files into mvar/src/test/resources/fixtures/vq/
(see the "gen_vq_fixtures.py" section of tools/README.md):

  * quantizer__<case>: the residual quantiser of docs/model.md (encode: f ->
    per-scale indices and the cumulative fhat), the teacher-forcing input, and
    the training forward (VQ loss on the cumulative fhat,
    straight-through output) with the gradients of the VQ loss w.r.t. the
    codebook, every phi refiner and f. Written out by hand in float64, as
    VAR's models/quant.py computes it, from random f, codebook and phi weights.
  * resample__<mode>_<n>to<o>: AREA / BICUBIC resampling forward and backward
    for the ratios the small schedule (1,2,3,4,6,8) on an 8x8 latent uses and
    tools/gen_fixtures.py does not already cover.

    python3 tools/gen_vq_fixtures.py            # (re)generate
    python3 tools/gen_vq_fixtures.py --verify   # regenerate in memory, compare bytes

Needs torch and numpy only; reuses the safetensors writer of gen_fixtures.py.
"""

import argparse
import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import st_dumps, st_loads  # noqa: E402

GENERATOR = "tools/gen_vq_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "mvar", "src", "test", "resources", "fixtures", "vq")
F64 = torch.float64

# Minimum gap between the best and the second-best squared distance at every
# quantisation: a float32 implementation must pick the same code.
MIN_MARGIN = 1e-3


def phi_index(K, at):
    """m(s) of docs/model.md#multi-scale-residual-quantization (numpy linspace ticks, argmin ties to the first)."""
    ticks = np.linspace(1 / 3 / K, 1 - 1 / 3 / K, K) if K == 4 else np.linspace(1 / 2 / K, 1 - 1 / 2 / K, K)
    return int(np.argmin(np.abs(ticks - at)))


def phi_mapping(S, share):
    if share == 1:
        return [0] * S
    K = S if share == 0 else share
    return [phi_index(K, s / (S - 1) if S > 1 else 0.0) for s in range(S)]


def phi(h, w, b, r):
    """phi(h) = (1 - r) h + r conv3x3(h)."""
    return h * (1 - r) + F.conv2d(h, w, b, stride=1, padding=1) * r


def area(x, p):
    return F.interpolate(x, size=(p, p), mode="area")


def bicubic(x, p):
    return F.interpolate(x, size=(p, p), mode="bicubic", align_corners=False)


def nearest(z_nc, E):
    """argmin ||z||^2 + ||e||^2 - 2 z.e (ties to the first), and the margin to the runner-up."""
    d = (z_nc.square().sum(1, keepdim=True) + E.square().sum(1)) - 2 * z_nc @ E.T
    idx = torch.argmin(d, dim=1)
    top2 = torch.topk(d, 2, dim=1, largest=False).values
    return idx, float((top2[:, 1] - top2[:, 0]).min())


def quantize(f, E, ws, bs, pn, mapping, r):
    """docs/model.md#multi-scale-residual-quantization: indices per scale and the cumulative fhat after each scale."""
    B, C, h, _ = f.shape
    S = len(pn)
    rest, fhat = f.clone(), torch.zeros_like(f)
    idx_all, fhats, margin = [], [], float("inf")
    for s, p in enumerate(pn):
        z = area(rest, p) if s < S - 1 else rest
        z_nc = z.permute(0, 2, 3, 1).reshape(-1, C)
        idx, m = nearest(z_nc, E)
        margin = min(margin, m)
        q = E[idx].reshape(B, p, p, C).permute(0, 3, 1, 2)
        q = bicubic(q, h) if s < S - 1 else q
        u = phi(q, ws[mapping[s]], bs[mapping[s]], r)
        fhat = fhat + u
        rest = rest - u
        idx_all.append(idx.reshape(B, p * p))
        fhats.append(fhat.clone())
    return idx_all, fhats, margin


def teacher_forcing(idx_all, E, ws, bs, pn, mapping, r, C):
    """docs/model.md#teacher-forcing-from-the-cumulative-reconstruction: (B, L - n[0], C) from ground-truth indices."""
    B = idx_all[0].shape[0]
    h = pn[-1]
    S = len(pn)
    fhat = torch.zeros(B, C, h, h, dtype=F64)
    parts = []
    for s in range(S - 1):
        q = E[idx_all[s]].reshape(B, pn[s], pn[s], C).permute(0, 3, 1, 2)
        fhat = fhat + phi(bicubic(q, h), ws[mapping[s]], bs[mapping[s]], r)
        nxt = area(fhat, pn[s + 1])
        parts.append(nxt.reshape(B, C, -1).transpose(1, 2))
    return torch.cat(parts, dim=1)


def training_forward(f, E, ws, bs, pn, mapping, r, beta):
    """docs/model.md#tokenizer-training (VectorQuantizer2.forward): VQ loss on the cumulative fhat, straight-through output."""
    B, C, h, _ = f.shape
    S = len(pn)
    f_no_grad = f.detach()
    rest = f_no_grad.clone()
    fhat = torch.zeros_like(rest)
    loss = 0.0
    for s, p in enumerate(pn):
        z = area(rest, p) if s < S - 1 else rest
        idx, _ = nearest(z.permute(0, 2, 3, 1).reshape(-1, C).detach(), E.detach())
        q = E[idx].reshape(B, p, p, C).permute(0, 3, 1, 2)
        q = bicubic(q, h) if s < S - 1 else q
        u = phi(q, ws[mapping[s]], bs[mapping[s]], r)
        fhat = fhat + u
        rest = rest - u.detach()
        loss = loss + beta * F.mse_loss(fhat.detach(), f) + F.mse_loss(fhat, f_no_grad)
    loss = loss / S
    out = (fhat.detach() - f_no_grad) + f
    return loss, out


QUANT_CASES = [
    # name, B, C, V, patch_nums, share_quant_resi, quant_resi, beta
    ("s6_share4", 2, 8, 24, (1, 2, 3, 4, 6, 8), 4, 0.5, 0.25),
    ("s4_share0", 3, 4, 16, (1, 2, 3, 4), 0, 0.5, 0.25),
    ("s3_share1", 2, 5, 12, (1, 2, 4), 1, 0.5, 0.5),
]


def seeded(name, attempt):
    g = torch.Generator()
    g.manual_seed(zlib.crc32(("%s#%d" % (name, attempt)).encode()))
    return g


def quant_case(name, B, C, V, pn, share, r, beta):
    S = len(pn)
    h = pn[-1]
    K = S if share == 0 else (1 if share == 1 else share)
    mapping = phi_mapping(S, share)
    for attempt in range(100):
        g = seeded(name, attempt)
        f32 = torch.randn(B, C, h, h, generator=g)
        E32 = torch.randn(V, C, generator=g) * 0.7
        bound = 1.0 / np.sqrt(C * 9)
        ws32 = [(torch.rand(C, C, 3, 3, generator=g) * 2 - 1) * bound for _ in range(K)]
        bs32 = [(torch.rand(C, generator=g) * 2 - 1) * bound for _ in range(K)]
        f, E = f32.to(F64), E32.to(F64)
        ws, bs = [w.to(F64) for w in ws32], [b.to(F64) for b in bs32]
        idx_all, fhats, margin = quantize(f, E, ws, bs, pn, mapping, r)
        if margin >= MIN_MARGIN:
            break
    else:
        raise RuntimeError(name + ": no draw without near-ties")
    tf = teacher_forcing(idx_all, E, ws, bs, pn, mapping, r, C)

    fl = f.clone().requires_grad_(True)
    El = E.clone().requires_grad_(True)
    wl = [w.clone().requires_grad_(True) for w in ws]
    bl = [b.clone().requires_grad_(True) for b in bs]
    loss, out = training_forward(fl, El, wl, bl, pn, mapping, r, beta)
    g_out = torch.randn(out.shape, generator=seeded(name, 1000)).to(F64)
    total = loss + (out * g_out).sum()   # d/d f of the second term is g_out (straight-through)
    total.backward()

    prefix = {0: "quant_resi.%d", 1: "quant_resi.qresi"}.get(share, "quant_resi.qresi_ls.%d")
    t = {
        "input.f": f32.numpy(),
        "input.embedding.weight": E32.numpy(),
        "indices": torch.cat(idx_all, dim=1).to(torch.int32).numpy(),
        "fhats": torch.stack(fhats).to(torch.float32).numpy(),
        "teacher_forcing": tf.to(torch.float32).numpy(),
        "vq_loss": np.array(loss.item(), dtype=np.float32),
        "output": out.detach().to(torch.float32).numpy(),
        "grad_output": g_out.to(torch.float32).numpy(),
        "grad.f": fl.grad.to(torch.float32).numpy(),
        "grad.embedding.weight": El.grad.to(torch.float32).numpy(),
    }
    for k in range(K):
        name_k = prefix % k if "%d" in prefix else prefix
        t["input." + name_k + ".weight"] = ws32[k].numpy()
        t["input." + name_k + ".bias"] = bs32[k].numpy()
        t["grad." + name_k + ".weight"] = wl[k].grad.to(torch.float32).numpy()
        t["grad." + name_k + ".bias"] = bl[k].grad.to(torch.float32).numpy()
    params = {"patch_nums": list(pn), "vocab": V, "code_dim": C, "share_quant_resi": share,
              "quant_resi": r, "beta": beta, "phi_mapping": mapping, "min_margin": margin,
              "loss": "vq_loss + sum(output * grad_output)"}
    return t, params


RESAMPLE_CASES = [
    ("area", 8, 1), ("area", 8, 2),
    ("bicubic", 2, 8), ("bicubic", 3, 8), ("bicubic", 4, 8), ("bicubic", 6, 8),
]


def resample_case(name, mode, n, o):
    g = seeded(name, 0)
    x32 = torch.randn(2, 3, n, n, generator=g)
    x = x32.to(F64).requires_grad_(True)
    y = area(x, o) if mode == "area" else bicubic(x, o)
    gy = torch.randn(y.shape, generator=g)
    (y * gy.to(F64)).sum().backward()
    t = {"input.x": x32.numpy(), "output": y.detach().to(torch.float32).numpy(),
         "grad_output": gy.numpy(), "grad.x": x.grad.to(torch.float32).numpy()}
    return t, {"mode": mode, "size": [o, o]}


def all_cases():
    for name, B, C, V, pn, share, r, beta in QUANT_CASES:
        case = "quantizer__" + name
        yield case, "residual_quantizer", lambda n=case, a=(B, C, V, pn, share, r, beta): quant_case(n, *a)
    for mode, n, o in RESAMPLE_CASES:
        case = "resample__%s_%dto%d" % (mode, n, o)
        yield case, mode + "_resample", lambda c=case, m=mode, a=n, b=o: resample_case(c, m, a, b)


def render(case, op, fn):
    tensors, params = fn()
    meta = {"op": op, "case": case, "params": json.dumps(params, sort_keys=True),
            "torch": torch.__version__, "generator": GENERATOR}
    return st_dumps(tensors, meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verify", action="store_true", help="regenerate in memory and compare with the files")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    bad = 0
    for case, op, fn in all_cases():
        data = render(case, op, fn)
        path = os.path.join(OUT_DIR, case + ".safetensors")
        if args.verify:
            with open(path, "rb") as fh:
                old = fh.read()
            st_loads(old)
            ok = old == data
            bad += not ok
            print(("ok   " if ok else "DIFF ") + case)
        else:
            with open(path, "wb") as fh:
                fh.write(data)
            print("wrote %s (%d bytes)" % (os.path.relpath(path, ROOT), len(data)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
