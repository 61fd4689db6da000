#!/usr/bin/env python3
"""PyTorch reference fixtures for mvarj's differentiable ops.

Writes one small safetensors file per test case into
autograd/src/test/resources/fixtures/ (see tools/README.md for the convention).

    python3 tools/gen_fixtures.py            # (re)generate every fixture
    python3 tools/gen_fixtures.py --verify   # re-read every file, check format,
                                             # convention, determinism and the
                                             # independent semantic cross-checks
    python3 tools/gen_fixtures.py --list     # list the cases

Needs only torch and numpy (Debian: apt-get install python3-torch python3-numpy).
The safetensors writer/reader are implemented here (no safetensors package).

Inputs are drawn in float32 from a per-case seeded generator, upcast to float64,
the op and its backward are computed in float64 by torch autograd, and output /
gradients are cast back to float32.
"""

import argparse
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

GENERATOR = "tools/gen_fixtures.py"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "autograd", "src", "test", "resources", "fixtures")

F64 = torch.float64

# ---------------------------------------------------------------------------
# safetensors writer / reader
# ---------------------------------------------------------------------------

_DT_NP = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4")}


def st_dumps(tensors, metadata):
    """tensors: dict name -> np.ndarray (float32 or int32). metadata: dict str -> str."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        a = tensors[name]
        if a.dtype == np.float32:
            dt = "F32"
        elif a.dtype == np.int32:
            dt = "I32"
        else:
            raise TypeError("%s: unsupported dtype %s" % (name, a.dtype))
        b = np.ascontiguousarray(a, dtype=_DT_NP[dt]).tobytes(order="C")
        header[name] = {"dtype": dt, "shape": [int(s) for s in a.shape],
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("metadata must be str -> str")
    header["__metadata__"] = dict(metadata)
    hj = json.dumps(header, sort_keys=True, separators=(",", ":"),
                    ensure_ascii=True).encode("ascii")
    hj += b" " * ((-len(hj)) % 8)
    return struct.pack("<Q", len(hj)) + hj + b"".join(blobs)


def st_loads(data):
    """Returns (tensors: dict name -> np.ndarray, metadata: dict). Strictly validated."""
    if len(data) < 8:
        raise ValueError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n % 8 != 0:
        raise ValueError("header length %d not a multiple of 8" % n)
    if 8 + n > len(data):
        raise ValueError("header length past end of file")
    header = json.loads(data[8:8 + n].decode("ascii"))
    metadata = header.pop("__metadata__", {})
    for k, v in metadata.items():
        if not isinstance(v, str):
            raise ValueError("metadata value for %s is not a string" % k)
    body = data[8 + n:]
    tensors = {}
    spans = []
    for name, info in header.items():
        dt = _DT_NP[info["dtype"]]
        shape = tuple(info["shape"])
        b, e = info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if e - b != count * dt.itemsize:
            raise ValueError("%s: byte span %d != %d" % (name, e - b, count * dt.itemsize))
        spans.append((b, e))
        tensors[name] = np.frombuffer(body[b:e], dtype=dt).reshape(shape)
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            raise ValueError("data not contiguous (gap/overlap at %d)" % pos)
        pos = e
    if pos != len(body):
        raise ValueError("trailing bytes after the last tensor")
    return tensors, metadata


# ---------------------------------------------------------------------------
# case registry and input helpers
# ---------------------------------------------------------------------------

CASES = []  # list of dicts


class Gen:
    """Per-case deterministic float32 / int32 input source."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def randn(self, *shape):
        return torch.randn(tuple(shape), generator=self.g, dtype=torch.float32)

    def uniform(self, lo, hi, *shape):
        return (torch.rand(tuple(shape), generator=self.g, dtype=torch.float32) * (hi - lo) + lo).float()

    def randint(self, lo, hi, *shape):
        return torch.randint(lo, hi, shape, generator=self.g, dtype=torch.int64).to(torch.int32)

    def bernoulli(self, p_one, *shape):
        return (torch.rand(tuple(shape), generator=self.g, dtype=torch.float32) < p_one).to(torch.float32)

    def away_from_zero(self, lo, *shape):
        r = self.randn(*shape)
        return (torch.where(r >= 0, 1.0, -1.0) * (lo + r.abs())).float()


def case(op, variant, params, inputs, fn, diff):
    """inputs: builder(gen) -> list of (name, float32|int32 torch tensor).
    fn(*float64/int64 tensors in input order, **params) -> float64 output.
    diff: names of differentiable inputs (get a grad.<name>)."""
    CASES.append(dict(op=op, variant=variant, name="%s__%s" % (op, variant),
                      params=params, inputs=inputs, fn=fn, diff=list(diff)))


def run_case(c):
    seed = zlib.crc32(c["name"].encode("ascii")) & 0x7FFFFFFF
    gen = Gen(seed)
    ins = c["inputs"](gen)
    names = [n for n, _ in ins]
    for d in c["diff"]:
        assert d in names, (c["name"], d)
    tensors = {}
    args = []
    leaves = {}
    for n, t in ins:
        if t.dtype == torch.float32:
            tensors["input." + n] = t.numpy().copy()
            x = t.to(F64)
            if n in c["diff"]:
                x.requires_grad_(True)
                leaves[n] = x
        elif t.dtype == torch.int32:
            assert n not in c["diff"], (c["name"], n)
            tensors["input." + n] = t.numpy().copy()
            x = t.to(torch.int64)
        else:
            raise TypeError(t.dtype)
        args.append(x)
    out = c["fn"](*args, **c["params"])
    assert out.dtype == F64, (c["name"], out.dtype)
    gout = gen.randn(*out.shape)
    tensors["grad_output"] = gout.numpy().copy()
    tensors["output"] = out.detach().to(torch.float32).numpy().copy()
    if leaves:
        if out.requires_grad:
            out.backward(gout.to(F64))
        for n, x in leaves.items():
            g = x.grad if x.grad is not None else torch.zeros_like(x)
            tensors["grad." + n] = g.to(torch.float32).numpy().copy()
    meta = {
        "op": c["op"],
        "case": c["name"],
        "params": json.dumps(c["params"], sort_keys=True),
        "inputs": json.dumps(names),
        "torch": torch.__version__,
        "generator": GENERATOR,
    }
    return tensors, meta


# ---------------------------------------------------------------------------
# op definitions (float64 reference semantics)
# ---------------------------------------------------------------------------

def two(sa, sb, mb=None):
    def b(g):
        a = g.randn(*sa)
        bb = mb(g, sb) if mb else g.randn(*sb)
        return [("a", a), ("b", bb)]
    return b


def one(shape, maker=None):
    def b(g):
        return [("x", maker(g, shape) if maker else g.randn(*shape))]
    return b


BINARY_SHAPES = [
    ("same", (3, 5), (3, 5)),
    ("broadcast_row", (3, 5), (5,)),
    ("broadcast_col", (3, 5), (3, 1)),
    ("broadcast_both", (3, 1, 5), (4, 1)),
    ("broadcast_scalar", (2, 3, 5), (1,)),
]

for op, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
    for variant, sa, sb in BINARY_SHAPES:
        mk = (lambda g, s: g.away_from_zero(0.5, *s)) if op == "div" else None
        case(op, variant, {}, two(sa, sb, mk), (lambda f: lambda a, b: f(a, b))(f), ["a", "b"])

case("neg", "basic", {}, one((3, 5)), lambda x: -x, ["x"])
case("neg", "rank3", {}, one((2, 3, 7)), lambda x: -x, ["x"])

_pos = lambda lo, hi: (lambda g, s: g.uniform(lo, hi, *s))
for variant, e in [("e2_5", 2.5), ("e3", 3.0), ("em0_5", -0.5)]:
    case("pow", variant, {"exponent": e}, one((3, 5), _pos(0.5, 2.0)),
         lambda x, exponent: torch.pow(x, exponent), ["x"])
case("exp", "basic", {}, one((3, 5)), torch.exp, ["x"])
case("log", "basic", {}, one((3, 5), _pos(0.2, 3.0)), torch.log, ["x"])
case("sqrt", "basic", {}, one((3, 5), _pos(0.2, 3.0)), torch.sqrt, ["x"])


def _clamp_input(g, s, lo=-0.5, hi=0.7):
    x = g.randn(*s)
    for bnd in (lo, hi):
        near = (x - bnd).abs() < 0.02
        x = torch.where(near, x + 0.05, x)
    return x


case("clamp", "basic", {"min": -0.5, "max": 0.7}, one((5, 7), _clamp_input),
     lambda x, min, max: torch.clamp(x, min=min, max=max), ["x"])


def _where_inputs(sc, sa, sb):
    def b(g):
        return [("cond", g.randint(0, 2, *sc)), ("a", g.randn(*sa)), ("b", g.randn(*sb))]
    return b


case("where", "same", {}, _where_inputs((3, 5), (3, 5), (3, 5)),
     lambda c, a, b: torch.where(c != 0, a, b), ["a", "b"])
case("where", "broadcast", {}, _where_inputs((3, 4, 5), (3, 1, 5), (4, 1)),
     lambda c, a, b: torch.where(c != 0, a, b), ["a", "b"])


def _mf_inputs(sx, sm):
    def b(g):
        return [("x", g.randn(*sx)), ("mask", g.randint(0, 2, *sm))]
    return b


case("masked_fill", "same", {"value": -3.0}, _mf_inputs((3, 5), (3, 5)),
     lambda x, m, value: x.masked_fill(m != 0, value), ["x"])
case("masked_fill", "mask_broadcast", {"value": -3.0}, _mf_inputs((2, 3, 5), (3, 5)),
     lambda x, m, value: x.masked_fill(m != 0, value), ["x"])

case("matmul", "2d", {}, two((5, 7), (7, 3)), torch.matmul, ["a", "b"])
case("matmul", "batched", {}, two((3, 5, 7), (3, 7, 4)), torch.matmul, ["a", "b"])
case("matmul", "batch_broadcast", {}, two((2, 3, 5, 7), (3, 7, 4)), torch.matmul, ["a", "b"])
case("matmul", "batch_broadcast_both", {}, two((2, 1, 5, 7), (3, 7, 4)), torch.matmul, ["a", "b"])
case("matmul", "3d_by_2d", {}, two((2, 5, 7), (7, 3)), torch.matmul, ["a", "b"])


def _linear_inputs(B, L, cin, cout, bias):
    def b(g):
        r = [("x", g.randn(B, L, cin)), ("weight", g.randn(cout, cin) / math.sqrt(cin))]
        if bias:
            r.append(("bias", g.randn(cout)))
        return r
    return b


case("linear", "bias", {}, _linear_inputs(2, 5, 7, 3, True),
     lambda x, w, b: F.linear(x, w, b), ["x", "weight", "bias"])
case("linear", "no_bias", {}, _linear_inputs(2, 5, 7, 3, False),
     lambda x, w: F.linear(x, w), ["x", "weight"])


def _red(fn):
    return lambda x, axes, keepdim: fn(x, dim=tuple(axes), keepdim=keepdim)


for op, fn in [("sum", torch.sum), ("mean", torch.mean)]:
    for variant, axes, kd in [("axis1", [1], False), ("axis1_keepdim", [1], True),
                              ("axes02_keepdim", [0, 2], True), ("axes02", [0, 2], False),
                              ("last", [2], False),
                              ("all", [0, 1, 2], False), ("all_keepdim", [0, 1, 2], True)]:
        case(op, variant, {"axes": axes, "keepdim": kd}, one((3, 5, 7)), _red(fn), ["x"])

case("reshape", "split", {"shape": [3, 5, 7]}, one((15, 7)),
     lambda x, shape: x.reshape(shape), ["x"])
case("reshape", "merge", {"shape": [7, 15]}, one((3, 5, 7)),
     lambda x, shape: x.reshape(shape), ["x"])
case("permute", "rank3", {"dims": [2, 0, 1]}, one((3, 5, 7)),
     lambda x, dims: x.permute(dims), ["x"])
case("permute", "rank4_heads", {"dims": [0, 2, 1, 3]}, one((2, 5, 3, 4)),
     lambda x, dims: x.permute(dims), ["x"])
case("transpose", "last2", {"axis0": 1, "axis1": 2}, one((3, 5, 7)),
     lambda x, axis0, axis1: x.transpose(axis0, axis1), ["x"])
case("transpose", "outer", {"axis0": 0, "axis1": 2}, one((3, 5, 7)),
     lambda x, axis0, axis1: x.transpose(axis0, axis1), ["x"])


def _slice(x, axis, start, end):
    idx = [slice(None)] * x.dim()
    idx[axis] = slice(start, end)
    return x[tuple(idx)]


case("slice", "axis1", {"axis": 1, "start": 1, "end": 4}, one((3, 5, 7)), _slice, ["x"])
case("slice", "axis2_tail", {"axis": 2, "start": 2, "end": 7}, one((3, 5, 7)), _slice, ["x"])


def _multi(shapes):
    def b(g):
        return [("x%d" % i, g.randn(*s)) for i, s in enumerate(shapes)]
    return b


case("concat", "axis1", {"axis": 1}, _multi([(3, 2, 5), (3, 1, 5), (3, 4, 5)]),
     lambda *xs, axis: torch.cat(xs, dim=axis), ["x0", "x1", "x2"])
case("concat", "axis0", {"axis": 0}, _multi([(2, 5), (3, 5), (1, 5)]),
     lambda *xs, axis: torch.cat(xs, dim=axis), ["x0", "x1", "x2"])
case("stack", "axis0", {"axis": 0}, _multi([(3, 5)] * 3),
     lambda *xs, axis: torch.stack(xs, dim=axis), ["x0", "x1", "x2"])
case("stack", "axis1", {"axis": 1}, _multi([(3, 5)] * 3),
     lambda *xs, axis: torch.stack(xs, dim=axis), ["x0", "x1", "x2"])


def _isel_inputs(g):
    return [("x", g.randn(7, 5)),
            ("index", torch.tensor([2, 0, 2, 6, 1, 2, 6], dtype=torch.int32))]


case("index_select", "axis0_repeats", {"axis": 0}, _isel_inputs,
     lambda x, i, axis: torch.index_select(x, axis, i), ["x"])
case("index_select", "axis1_repeats", {"axis": 1},
     lambda g: [("x", g.randn(3, 5, 4)), ("index", torch.tensor([4, 4, 0, 3], dtype=torch.int32))],
     lambda x, i, axis: torch.index_select(x, axis, i), ["x"])

case("gather", "axis1", {"axis": 1},
     lambda g: [("x", g.randn(3, 5)), ("index", g.randint(0, 5, 3, 7))],
     lambda x, i, axis: torch.gather(x, axis, i), ["x"])
case("gather", "axis2_rank3", {"axis": 2},
     lambda g: [("x", g.randn(2, 3, 5)), ("index", g.randint(0, 5, 2, 3, 4))],
     lambda x, i, axis: torch.gather(x, axis, i), ["x"])


def _emb_inputs(g):
    w = g.randn(7, 5)
    idx = g.randint(0, 7, 2, 5)
    idx[1, 3] = idx[0, 0]
    idx[1, 4] = idx[0, 0]
    return [("weight", w), ("index", idx)]


case("embedding", "basic", {}, _emb_inputs, lambda w, i: F.embedding(i, w), ["weight"])


def _ln_inputs(affine):
    def b(g):
        r = [("x", g.randn(2, 5, 7) * 1.5 + 0.3)]
        if affine:
            r += [("weight", 1.0 + 0.3 * g.randn(7)), ("bias", 0.3 * g.randn(7))]
        return r
    return b


for eps in (1e-6, 1e-5):
    tag = "eps1e-6" if eps == 1e-6 else "eps1e-5"
    case("layer_norm", "affine_" + tag, {"eps": eps}, _ln_inputs(True),
         lambda x, w, b, eps: F.layer_norm(x, (x.shape[-1],), w, b, eps), ["x", "weight", "bias"])
    case("layer_norm", "no_affine_" + tag, {"eps": eps}, _ln_inputs(False),
         lambda x, eps: F.layer_norm(x, (x.shape[-1],), None, None, eps), ["x"])


def _gn_inputs(B, C, H, W):
    def b(g):
        return [("x", g.randn(B, C, H, W) + 0.2), ("weight", 1.0 + 0.3 * g.randn(C)),
                ("bias", 0.3 * g.randn(C))]
    return b


case("group_norm", "g3_c6", {"groups": 3, "eps": 1e-6}, _gn_inputs(2, 6, 3, 5),
     lambda x, w, b, groups, eps: F.group_norm(x, groups, w, b, eps), ["x", "weight", "bias"])
case("group_norm", "g1_c4", {"groups": 1, "eps": 1e-6}, _gn_inputs(1, 4, 5, 3),
     lambda x, w, b, groups, eps: F.group_norm(x, groups, w, b, eps), ["x", "weight", "bias"])
case("group_norm", "g4_c4", {"groups": 4, "eps": 1e-6}, _gn_inputs(2, 4, 3, 3),
     lambda x, w, b, groups, eps: F.group_norm(x, groups, w, b, eps), ["x", "weight", "bias"])

case("gelu_tanh", "basic", {}, one((3, 5, 7), lambda g, s: 2.0 * g.randn(*s)),
     lambda x: F.gelu(x, approximate="tanh"), ["x"])
case("silu", "basic", {}, one((3, 5, 7), lambda g, s: 2.0 * g.randn(*s)), F.silu, ["x"])
case("softmax", "last", {"axis": -1}, one((3, 5, 7), lambda g, s: 2.0 * g.randn(*s)),
     lambda x, axis: torch.softmax(x, dim=axis), ["x"])
case("log_softmax", "last", {"axis": -1}, one((3, 5, 7), lambda g, s: 2.0 * g.randn(*s)),
     lambda x, axis: torch.log_softmax(x, dim=axis), ["x"])
case("l2_normalize", "last", {"axis": -1, "eps": 1e-12}, one((2, 3, 5, 7)),
     lambda x, axis, eps: F.normalize(x, p=2.0, dim=axis, eps=eps), ["x"])
case("mse", "basic", {}, two((3, 5, 7), (3, 5, 7)),
     lambda a, b: ((a - b) ** 2).mean(), ["a", "b"])

case("dropout", "p0_3", {"p": 0.3},
     lambda g: [("x", g.randn(3, 5, 7)), ("mask", g.bernoulli(0.7, 3, 5, 7))],
     lambda x, m, p: x * m / (1.0 - p), ["x"])


def _dp_inputs(g):
    x = g.randn(5, 3, 7)
    keep = torch.tensor([1, 0, 1, 1, 0], dtype=torch.float32)
    return [("x", x), ("keep", keep)]


case("drop_path", "p0_25", {"p": 0.25}, _dp_inputs,
     lambda x, keep, p: x * keep.reshape(-1, 1, 1) / (1.0 - p), ["x"])


# --- attention -------------------------------------------------------------

def attn_ref(q, k, v, mask=None, scale=1.0):
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    if mask is not None:
        logits = logits + mask
    return torch.matmul(torch.softmax(logits, dim=-1), v)


def levels(scales):
    lv = []
    for i, s in enumerate(scales):
        lv += [i] * (s * s)
    return lv


def var_block_causal_mask(scales):
    lv = levels(scales)
    L = len(lv)
    m = torch.full((L, L), float("-inf"), dtype=torch.float32)
    for p in range(L):
        for q in range(L):
            if lv[q] <= lv[p]:
                m[p, q] = 0.0
    return m


def mvar_block_diag_mask(scales):
    lv = levels(scales)
    L = len(lv)
    m = torch.full((L, L), float("-inf"), dtype=torch.float32)
    for p in range(L):
        for q in range(L):
            if lv[q] == lv[p]:
                m[p, q] = 0.0
    return m


def _qkv(B, H, L, d, extra=None):
    def b(g):
        r = [("q", g.randn(B, H, L, d)), ("k", g.randn(B, H, L, d)), ("v", g.randn(B, H, L, d))]
        if extra is not None:
            r.append(("mask", extra))
        return r
    return b


case("attention", "no_mask", {"scale": 1.0 / math.sqrt(4)}, _qkv(2, 3, 7, 4),
     lambda q, k, v, scale: attn_ref(q, k, v, None, scale), ["q", "k", "v"])
case("attention", "var_block_causal", {"scale": 1.0 / math.sqrt(4)},
     _qkv(1, 2, 14, 4, var_block_causal_mask((1, 2, 3))),
     lambda q, k, v, m, scale: attn_ref(q, k, v, m, scale), ["q", "k", "v"])
case("attention", "mvar_block_diag", {"scale": 1.0},
     _qkv(1, 2, 14, 4, mvar_block_diag_mask((1, 2, 3))),
     lambda q, k, v, m, scale: attn_ref(q, k, v, m, scale), ["q", "k", "v"])
case("attention", "odd_l13_d5", {"scale": 1.0 / math.sqrt(5)}, _qkv(2, 1, 13, 5),
     lambda q, k, v, scale: attn_ref(q, k, v, None, scale), ["q", "k", "v"])


def na_window_start(i, p, k):
    return min(max(i - k // 2, 0), p - k)


def na_mask(p, k):
    N = p * p
    m = torch.full((N, N), float("-inf"), dtype=F64)
    for i in range(p):
        for j in range(p):
            ai, aj = na_window_start(i, p, k), na_window_start(j, p, k)
            for r in range(ai, ai + k):
                for c in range(aj, aj + k):
                    m[i * p + j, r * p + c] = 0.0
    return m


def _na_fn(q, k, v, grid, kernel, scale):
    return attn_ref(q, k, v, na_mask(grid, kernel), scale)


for p, kk, B, H, d in [(5, 3, 1, 2, 4), (7, 3, 1, 1, 3), (6, 5, 1, 2, 3), (4, 4, 2, 1, 3)]:
    case("neighborhood_attention", "p%d_k%d" % (p, kk),
         {"grid": p, "kernel": kk, "scale": 1.0 / math.sqrt(d)}, _qkv(B, H, p * p, d),
         _na_fn, ["q", "k", "v"])


# --- losses ----------------------------------------------------------------

def _ce_inputs(N, V):
    def b(g):
        w = g.uniform(0.1, 1.0, N)
        w[1] = 0.0
        return [("logits", 2.0 * g.randn(N, V)), ("target", g.randint(0, V, N)), ("weight", w)]
    return b


for ls in (0.0, 0.1):
    case("cross_entropy", "ls%s" % str(ls).replace(".", "_"), {"label_smoothing": ls},
         _ce_inputs(7, 13),
         lambda lg, t, w, label_smoothing: (w * F.cross_entropy(
             lg, t, reduction="none", label_smoothing=label_smoothing)).sum(), ["logits"])


# --- convolution and resampling -------------------------------------------

def _conv_inputs(B, cin, cout, H, W, kh, kw, bias):
    def b(g):
        r = [("x", g.randn(B, cin, H, W)),
             ("weight", g.randn(cout, cin, kh, kw) / math.sqrt(cin * kh * kw))]
        if bias:
            r.append(("bias", 0.3 * g.randn(cout)))
        return r
    return b


def _conv(x, w, b=None, *, stride, padding):
    top, bottom, left, right = padding
    x = F.pad(x, (left, right, top, bottom))
    return F.conv2d(x, w, b, stride=stride, padding=0)


case("conv2d", "k3_s1_p1", {"stride": 1, "padding": [1, 1, 1, 1]},
     _conv_inputs(2, 3, 4, 5, 5, 3, 3, True), _conv, ["x", "weight", "bias"])
case("conv2d", "k3_s2_downsample", {"stride": 2, "padding": [0, 1, 0, 1]},
     _conv_inputs(1, 3, 4, 8, 8, 3, 3, True), _conv, ["x", "weight", "bias"])
case("conv2d", "k3_s2_downsample_odd", {"stride": 2, "padding": [0, 1, 0, 1]},
     _conv_inputs(1, 2, 3, 7, 9, 3, 3, True), _conv, ["x", "weight", "bias"])
case("conv2d", "k1", {"stride": 1, "padding": [0, 0, 0, 0]},
     _conv_inputs(2, 5, 3, 3, 5, 1, 1, True), _conv, ["x", "weight", "bias"])
case("conv2d", "k3_no_bias_7x9", {"stride": 1, "padding": [1, 1, 1, 1]},
     _conv_inputs(1, 3, 2, 7, 9, 3, 3, False), _conv, ["x", "weight"])

case("upsample_nearest2x", "basic", {}, one((2, 3, 3, 5)),
     lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), ["x"])

RESAMPLE = {
    "area_resample": [("8to3", (8, 8), (3, 3)), ("8to6", (8, 8), (6, 6)),
                      ("16to13", (16, 16), (13, 13)), ("16to10", (16, 16), (10, 10)),
                      ("8to4", (8, 8), (4, 4)), ("8to8_identity", (8, 8), (8, 8)),
                      ("nonsquare_16x8_to_13x3", (16, 8), (13, 3))],
    "bicubic_resample": [("8to3", (8, 8), (3, 3)), ("8to6", (8, 8), (6, 6)),
                         ("16to13", (16, 16), (13, 13)), ("13to16", (13, 13), (16, 16)),
                         ("3to16", (3, 3), (16, 16)), ("1to8", (1, 1), (8, 8)),
                         ("8to8_identity", (8, 8), (8, 8)),
                         ("nonsquare_5x8_to_13x6", (5, 8), (13, 6))],
}


def _area(x, size):
    return F.interpolate(x, size=tuple(size), mode="area")


def _bicubic(x, size):
    return F.interpolate(x, size=tuple(size), mode="bicubic", align_corners=False)


for op, fn in [("area_resample", _area), ("bicubic_resample", _bicubic)]:
    for variant, (h, w), (oh, ow) in RESAMPLE[op]:
        case(op, variant, {"size": [oh, ow]}, one((1, 2, h, w)), fn, ["x"])


# --- gradient plumbing -----------------------------------------------------

case("straight_through", "basic", {},
     lambda g: [("x", g.randn(3, 5)), ("q", g.randn(3, 5))],
     lambda x, q: x + (q - x).detach(), ["x", "q"])
case("stop_gradient", "basic", {}, one((3, 5)), lambda x: x.detach(), ["x"])


# ---------------------------------------------------------------------------
# independent semantic cross-checks (used by --verify)
# ---------------------------------------------------------------------------

def _area_matrix(n, o):
    A = np.zeros((o, n))
    for i in range(o):
        s = (i * n) // o
        e = -((-(i + 1) * n) // o)
        A[i, s:e] = 1.0 / (e - s)
    return A


def _bicubic_matrix(n, o, a=-0.75):
    def k(d):
        d = abs(d)
        if d <= 1:
            return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
        if d < 2:
            return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a
        return 0.0
    B = np.zeros((o, n))
    for j in range(o):
        u = (j + 0.5) * (n / o) - 0.5
        i0 = math.floor(u)
        t = u - i0
        for tap, dist in zip(range(i0 - 1, i0 + 3), (1 + t, t, 1 - t, 2 - t)):
            B[j, min(max(tap, 0), n - 1)] += k(dist)
    return B


def _natten_start(i, n, k):
    """NATTEN reference get_window_start (dilation 1), for odd k; NATTEN has no even
    kernels, so for even k fall back to the clamp rule of the brief."""
    if k % 2 == 0:
        return min(max(i - k // 2, 0), n - k)
    r = k // 2
    return max(i - r, 0) + ((n - i - r - 1) if i + r >= n else 0)


def _na_loop(q, k, v, p, kk, scale):
    """Gather-based neighbourhood attention, written independently of na_mask."""
    B, H, N, d = q.shape
    out = np.zeros((B, H, N, d))
    for b in range(B):
        for h in range(H):
            for i in range(p):
                for j in range(p):
                    si, sj = _natten_start(i, p, kk), _natten_start(j, p, kk)
                    keys = [r * p + c for r in range(si, si + kk) for c in range(sj, sj + kk)]
                    qi = q[b, h, i * p + j]
                    lg = np.array([qi @ k[b, h, t] for t in keys]) * scale
                    w = np.exp(lg - lg.max())
                    w /= w.sum()
                    out[b, h, i * p + j] = sum(wt * v[b, h, t] for wt, t in zip(w, keys))
    return out


def semantic_check(name, op, params, t):
    """Returns max abs error of an independent float64 re-derivation, or None."""
    f64 = lambda n: t[n].astype(np.float64)
    if op in ("area_resample", "bicubic_resample"):
        x = f64("input.x")
        oh, ow = params["size"]
        mk = _area_matrix if op == "area_resample" else _bicubic_matrix
        Mh, Mw = mk(x.shape[2], oh), mk(x.shape[3], ow)
        y = np.einsum("oh,bchw,pw->bcop", Mh, x, Mw)
        gx = np.einsum("oh,bcop,pw->bchw", Mh, f64("grad_output"), Mw)
        return max(np.abs(y - t["output"]).max(), np.abs(gx - t["grad.x"]).max())
    if op == "neighborhood_attention":
        y = _na_loop(f64("input.q"), f64("input.k"), f64("input.v"),
                     params["grid"], params["kernel"], params["scale"])
        return np.abs(y - t["output"]).max()
    if op == "attention" and "input.mask" in t:
        m = t["input.mask"]
        L = m.shape[0]
        lv = levels((1, 2, 3))
        want = np.array([[(lv[qq] <= lv[pp]) if "causal" in name else (lv[qq] == lv[pp])
                          for qq in range(L)] for pp in range(L)])
        ok = np.array_equal(m == 0, want) and np.all(np.isneginf(m[~want]))
        return 0.0 if ok else float("inf")
    if op == "conv2d":
        # direct loop-free im2col conv, independent of F.pad/F.conv2d
        x, w = f64("input.x"), f64("input.weight")
        top, bottom, left, right = params["padding"]
        s = params["stride"]
        xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
        Co, Ci, kh, kw = w.shape
        Ho = (xp.shape[2] - kh) // s + 1
        Wo = (xp.shape[3] - kw) // s + 1
        y = np.zeros((x.shape[0], Co, Ho, Wo))
        for di in range(kh):
            for dj in range(kw):
                patch = xp[:, :, di:di + s * (Ho - 1) + 1:s, dj:dj + s * (Wo - 1) + 1:s]
                y += np.einsum("bchw,oc->bohw", patch, w[:, :, di, dj])
        if "input.bias" in t:
            y += f64("input.bias")[None, :, None, None]
        return np.abs(y - t["output"]).max()
    if op == "cross_entropy":
        lg, tg, w = f64("input.logits"), t["input.target"], f64("input.weight")
        ls = params["label_smoothing"]
        lp = lg - lg.max(1, keepdims=True)
        lp = lp - np.log(np.exp(lp).sum(1, keepdims=True))
        V = lg.shape[1]
        ce = -(1 - ls) * lp[np.arange(len(tg)), tg] - ls * lp.sum(1) / V
        return abs((w * ce).sum() - float(t["output"]))
    return None


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def generate_all():
    os.makedirs(OUT_DIR, exist_ok=True)
    names = set()
    total = 0
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        tensors, meta = run_case(c)
        data = st_dumps(tensors, meta)
        path = os.path.join(OUT_DIR, c["name"] + ".safetensors")
        with open(path, "wb") as f:
            f.write(data)
        total += len(data)
    # drop stale fixtures from removed cases
    for fn in os.listdir(OUT_DIR):
        if fn.endswith(".safetensors") and fn[:-len(".safetensors")] not in names:
            os.remove(os.path.join(OUT_DIR, fn))
    print("wrote %d fixtures, %d bytes, to %s" % (len(CASES), total, os.path.relpath(OUT_DIR, ROOT)))


def verify_all():
    problems = []
    by_name = {c["name"]: c for c in CASES}
    files = sorted(f for f in os.listdir(OUT_DIR) if f.endswith(".safetensors"))
    total = 0
    checked = 0
    for fn in files:
        stem = fn[:-len(".safetensors")]
        path = os.path.join(OUT_DIR, fn)
        with open(path, "rb") as f:
            data = f.read()
        total += len(data)

        def bad(msg):
            problems.append("%s: %s" % (fn, msg))

        if stem not in by_name:
            bad("no such case in the generator (stale file)")
            continue
        c = by_name[stem]
        try:
            t, meta = st_loads(data)
        except Exception as e:  # noqa
            bad("unreadable: %s" % e)
            continue
        need = {"op", "case", "params", "inputs", "torch", "generator"}
        if set(meta) != need:
            bad("metadata keys %s" % sorted(meta))
            continue
        if meta["op"] != c["op"] or meta["case"] != stem or meta["generator"] != GENERATOR:
            bad("metadata op/case/generator mismatch")
        if not stem.startswith(meta["op"] + "__"):
            bad("file stem does not start with op__")
        params = json.loads(meta["params"])
        inputs = json.loads(meta["inputs"])
        if params != c["params"]:
            bad("params mismatch")
        expected = {"output", "grad_output"} | {"input." + n for n in inputs} | \
                   {"grad." + n for n in c["diff"]}
        if set(t) != expected:
            bad("tensor set %s != %s" % (sorted(t), sorted(expected)))
            continue
        if t["output"].shape != t["grad_output"].shape:
            bad("grad_output shape != output shape")
        for n in c["diff"]:
            if t["grad." + n].shape != t["input." + n].shape or t["grad." + n].dtype != np.float32:
                bad("grad.%s shape/dtype" % n)
        for k, a in t.items():
            if a.dtype == np.float32 and not (k == "input.mask" and c["op"] == "attention"):
                if not np.all(np.isfinite(a)):
                    bad("%s has non-finite values" % k)
        # determinism: regenerating must give identical bytes
        tensors2, meta2 = run_case(c)
        if st_dumps(tensors2, meta2) != data:
            bad("regeneration is not byte-identical")
        err = semantic_check(stem, c["op"], params, t)
        if err is not None:
            checked += 1
        if err is not None and not err <= 2e-5 * max(1.0, float(np.abs(t["output"]).max())):
            bad("independent semantic check failed, max err %g" % err)
    for n in by_name:
        if n + ".safetensors" not in files:
            problems.append("%s.safetensors: missing" % n)
    for p in problems:
        print("FAIL", p)
    print("verified %d files (%d with an independent semantic re-derivation), %d bytes total, "
          "%d problems" % (len(files), checked, total, len(problems)))
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verify", action="store_true", help="re-read and check every fixture")
    ap.add_argument("--list", action="store_true", help="list the cases")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.list:
        for c in CASES:
            print(c["name"])
        return 0
    if a.verify:
        return 0 if verify_all() else 1
    generate_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
