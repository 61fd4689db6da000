#!/usr/bin/env python3
"""PyTorch reference fixtures for mvarj's nn layer: torch.nn layers by their state-dict names, and AdamW parity.

Writes nn/src/test/resources/fixtures/:
  layer__<name>.safetensors  input.x, param.<state-dict name>, output, grad_output, grad.x, grad.param.<name>;
                             metadata: layer, params (JSON constructor arguments)
  adamw__clip.safetensors    init.<name>, grad.<t>.<name> (t = 0..9), final.<name>, final.exp_avg.<name>,
                             final.exp_avg_sq.<name>, lr (10), wd (10), grad_norm (10); metadata: betas, eps,
                             max_norm, no_decay (JSON list)

    python3 tools/gen_nn_fixtures.py
Float64 is used for the layers (the reference); AdamW runs in float32, as training does.
"""
import json
import os
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_fixtures import st_dumps  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "nn", "src", "test", "resources", "fixtures")
F64 = torch.float64


def seeded(name):
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()) & 0x7FFFFFFF)
    torch.manual_seed(zlib.crc32(name.encode()) & 0x7FFFFFFF)
    return g


def layer_case(name, layer_name, ctor_args, module, x_shape):
    g = seeded(name)
    module = module.to(F64)
    with torch.no_grad():  # non-trivial parameters (not the init values) so that every term is exercised
        for pname, p in module.named_parameters():
            centre = 1.0 if p.dim() == 1 and pname == "weight" else 0.0  # norm scales around 1
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float32).to(F64) * 0.5 + centre)
    x32 = torch.randn(*x_shape, generator=g, dtype=torch.float32)
    x = x32.to(F64).requires_grad_(True)
    out = module(x)
    gout = torch.randn(*out.shape, generator=g, dtype=torch.float32)
    out.backward(gout.to(F64))
    t = {"input.x": x32.numpy(), "output": out.detach().float().numpy(), "grad_output": gout.numpy(),
         "grad.x": x.grad.float().numpy()}
    for pname, p in module.named_parameters():
        t["param." + pname] = p.detach().float().numpy()
        t["grad.param." + pname] = p.grad.float().numpy()
    meta = {"layer": layer_name, "params": json.dumps(ctor_args, sort_keys=True), "case": name,
            "torch": torch.__version__, "generator": "tools/gen_nn_fixtures.py"}
    return name, t, meta


def embedding_case():
    name = "layer__embedding"
    g = seeded(name)
    m = torch.nn.Embedding(11, 6).to(F64)
    with torch.no_grad():
        m.weight.copy_(torch.randn(11, 6, generator=g, dtype=torch.float32).to(F64))
    idx = torch.randint(0, 11, (3, 5), generator=g, dtype=torch.int64)
    out = m(idx)
    gout = torch.randn(*out.shape, generator=g, dtype=torch.float32)
    out.backward(gout.to(F64))
    t = {"input.index": idx.to(torch.int32).numpy(), "param.weight": m.weight.detach().float().numpy(),
         "output": out.detach().float().numpy(), "grad_output": gout.numpy(),
         "grad.param.weight": m.weight.grad.float().numpy()}
    return name, t, {"layer": "embedding", "params": json.dumps({"count": 11, "dim": 6}), "case": name,
                     "torch": torch.__version__, "generator": "tools/gen_nn_fixtures.py"}


def adamw_case():
    """A Linear(5,3) with bias plus a 1-D 'scale' parameter; 10 steps of fixed random gradients,
    global-norm clipping at 2.0 (some steps clip), per-step lr and wd, no decay for 1-D parameters."""
    name = "adamw__clip"
    g = seeded(name)
    params = {
        "fc.weight": torch.randn(3, 5, generator=g),
        "fc.bias": torch.randn(3, generator=g),
        "scale": torch.randn(4, generator=g),
    }
    no_decay = ["fc.bias", "scale"]
    t = {}
    leaves = {}
    for n, p in params.items():
        t["init." + n] = p.numpy().copy()
        leaves[n] = p.clone().requires_grad_(True)
    betas, eps, max_norm = (0.9, 0.95), 1e-8, 2.0
    opt = torch.optim.AdamW([
        {"params": [leaves[n] for n in params if n not in no_decay], "weight_decay": 0.05},
        {"params": [leaves[n] for n in params if n in no_decay], "weight_decay": 0.0},
    ], lr=1e-3, betas=betas, eps=eps)
    lrs, wds, norms = [], [], []
    for step in range(10):
        lr = 1e-2 * (0.5 + 0.05 * step)
        wd = 0.05 + 0.01 * step
        for grp in opt.param_groups:
            grp["lr"] = lr
            if grp["weight_decay"] != 0.0:
                grp["weight_decay"] = wd
        for n, p in leaves.items():
            scale = 3.0 if step % 3 == 0 else 0.3  # every third step is clipped
            gr = torch.randn(p.shape, generator=g) * scale
            t["grad.%d.%s" % (step, n)] = gr.numpy().copy()
            p.grad = gr.clone()
        norm = torch.nn.utils.clip_grad_norm_(list(leaves.values()), max_norm)
        opt.step()
        lrs.append(lr)
        wds.append(wd)
        norms.append(float(norm))
    for n, p in leaves.items():
        st = opt.state[p]
        t["final." + n] = p.detach().numpy().copy()
        t["final.exp_avg." + n] = st["exp_avg"].numpy().copy()
        t["final.exp_avg_sq." + n] = st["exp_avg_sq"].numpy().copy()
    t["lr"] = np.array(lrs, dtype=np.float32)
    t["wd"] = np.array(wds, dtype=np.float32)
    t["grad_norm"] = np.array(norms, dtype=np.float32)
    meta = {"betas": json.dumps(list(betas)), "eps": repr(eps), "max_norm": repr(max_norm),
            "no_decay": json.dumps(no_decay), "names": json.dumps(list(params)), "case": name,
            "torch": torch.__version__, "generator": "tools/gen_nn_fixtures.py"}
    return name, t, meta


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = [
        layer_case("layer__linear", "linear", {"in": 7, "out": 5, "bias": True}, torch.nn.Linear(7, 5), (2, 3, 7)),
        layer_case("layer__linear_no_bias", "linear", {"in": 7, "out": 5, "bias": False},
                   torch.nn.Linear(7, 5, bias=False), (4, 7)),
        layer_case("layer__layer_norm", "layer_norm", {"dim": 9, "eps": 1e-5, "affine": True},
                   torch.nn.LayerNorm(9, eps=1e-5), (2, 3, 9)),
        layer_case("layer__layer_norm_no_affine", "layer_norm", {"dim": 9, "eps": 1e-6, "affine": False},
                   torch.nn.LayerNorm(9, eps=1e-6, elementwise_affine=False), (2, 3, 9)),
        layer_case("layer__conv2d", "conv2d", {"in": 3, "out": 4, "kernel": 3, "stride": 1, "padding": 1},
                   torch.nn.Conv2d(3, 4, 3, padding=1), (2, 3, 7, 6)),
        layer_case("layer__group_norm", "group_norm", {"groups": 2, "channels": 6, "eps": 1e-6},
                   torch.nn.GroupNorm(2, 6, eps=1e-6), (2, 6, 3, 5)),
        embedding_case(),
        adamw_case(),
    ]
    for name, t, meta in cases:
        t = {k: (v.astype(np.float32) if v.dtype != np.int32 else v) for k, v in t.items()}
        with open(os.path.join(OUT_DIR, name + ".safetensors"), "wb") as f:
            f.write(st_dumps(t, meta))
        print(name)


if __name__ == "__main__":
    main()
