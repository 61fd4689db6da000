#!/usr/bin/env python3
"""PyTorch CPU eager peer of TokenizerStepBenchmark: one optimiser step of the default Fashion-MNIST tokenizer.

The same multi-scale VQ-VAE as dev.mvarj.mvar.vq.VqVae with VqVaeConfig.fashionMnist(): 1x32x32 images, ch 16 x
(1, 2, 2), one ResnetBlock per encoder level (two per decoder level), GroupNorm(8, eps 1e-6) + SiLU, single-head
attention in the middle blocks at 8x8, the stride-2 downsample padded right and bottom, nearest x2 upsample + 3x3
conv, Cvae 16, quant_conv / post_quant_conv; the residual quantizer over scales (1,2,3,4,6,8) with V 256 codes,
AREA downsampling of the residual, BICUBIC upsampling of the codes and four phi convolutions (ratio 0.5) picked by
the tick rule; pixel MSE + the VQ loss (beta 0.25), straight-through; AdamW betas (0.9, 0.95), eps 1e-8, no weight
decay, gradient norm clipped at 2; batch 32. Run through bench/peers/run-torch-peer.sh.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from peer_common import blas, ms_per_step

threads = int(sys.argv[1])
torch.set_num_threads(threads)


def norm(c):
    return nn.GroupNorm(8, c, eps=1e-6)


class Resnet(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2, self.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, 1, 1)
        self.nin = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.nin(x) + h


class Attn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c, self.norm = c, norm(c)
        self.qkv, self.proj = nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).unbind(1)
        a = torch.softmax(q.transpose(1, 2) @ k / C ** 0.5, dim=-1)       # (B, N, N)
        h = (a @ v.transpose(1, 2)).transpose(1, 2).reshape(B, C, H, W)
        return x + self.proj(h)


class Down(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def mid(c):
    return [Resnet(c, c), Attn(c), Resnet(c, c)]


def encoder(ch=16, mult=(1, 2, 2), cvae=16):
    layers, cin = [nn.Conv2d(1, ch, 3, 1, 1)], ch
    for i, m in enumerate(mult):
        layers.append(Resnet(cin, ch * m))
        cin = ch * m
        if i != len(mult) - 1:
            layers.append(Down(cin))
    layers += mid(cin) + [norm(cin), nn.SiLU(), nn.Conv2d(cin, cvae, 3, 1, 1)]
    return nn.Sequential(*layers)


def decoder(ch=16, mult=(1, 2, 2), cvae=16):
    cin = ch * mult[-1]
    layers = [nn.Conv2d(cvae, cin, 3, 1, 1)] + mid(cin)
    for i in reversed(range(len(mult))):
        for _ in range(2):
            layers.append(Resnet(cin, ch * mult[i]))
            cin = ch * mult[i]
        if i != 0:
            layers.append(Up(cin))
    layers += [norm(cin), nn.SiLU(), nn.Conv2d(cin, 1, 3, 1, 1)]
    return nn.Sequential(*layers)


class Phi(nn.Conv2d):
    def __init__(self, c, ratio=0.5):
        super().__init__(c, c, 3, 1, 1)
        self.ratio = ratio

    def forward(self, x):
        return x * (1 - self.ratio) + super().forward(x) * self.ratio


class Quantizer(nn.Module):
    def __init__(self, V=256, C=16, sides=(1, 2, 3, 4, 6, 8), beta=0.25, K=4):
        super().__init__()
        self.sides, self.beta = sides, beta
        self.embedding = nn.Embedding(V, C)
        self.phis = nn.ModuleList([Phi(C) for _ in range(K)])
        lo = 1 / 3 / K if K == 4 else 1 / 2 / K
        ticks = torch.linspace(lo, 1 - lo, K)
        S = len(sides)
        self.phi_of = [int((ticks - s / (S - 1)).abs().argmin()) for s in range(S)]

    def forward(self, f):
        B, C, h, w = f.shape
        f_ng = f.detach()
        rest, fhat, loss = f_ng.clone(), torch.zeros_like(f), 0.0
        S = len(self.sides)
        for s, pn in enumerate(self.sides):
            z = F.interpolate(rest, size=(pn, pn), mode="area") if s < S - 1 else rest
            z = z.permute(0, 2, 3, 1).reshape(-1, C)
            with torch.no_grad():
                e = self.embedding.weight
                d = (z * z).sum(1, keepdim=True) + (e * e).sum(1) - 2 * z @ e.t()
                idx = d.argmin(1)
            q = self.embedding(idx).reshape(B, pn, pn, C).permute(0, 3, 1, 2)
            if s < S - 1:
                q = F.interpolate(q, size=(h, w), mode="bicubic")
            u = self.phis[self.phi_of[s]](q)
            fhat = fhat + u
            rest = rest - u.detach()
            loss = loss + F.mse_loss(fhat.detach(), f) * self.beta + F.mse_loss(fhat, f_ng)
        return (fhat.detach() - f_ng) + f, loss / S


class VqVae(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder, self.quantize = encoder(), decoder(), Quantizer()
        self.quant_conv, self.post_quant_conv = nn.Conv2d(16, 16, 3, 1, 1), nn.Conv2d(16, 16, 3, 1, 1)

    def forward(self, x):
        fhat, vq = self.quantize(self.quant_conv(self.encoder(x)))
        return self.decoder(self.post_quant_conv(fhat)), vq


def main():
    torch.manual_seed(0)
    model = VqVae()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    x = torch.rand(256, 1, 32, 32) * 2 - 1
    batch, at = 32, [0]

    def step():
        i = at[0]
        at[0] = (i + batch) % x.shape[0]
        images = x[i:i + batch]
        opt.zero_grad(set_to_none=True)
        rec, vq = model(images)
        loss = F.mse_loss(rec, images) + vq
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        return loss.item()

    ms = ms_per_step(step)
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, {threads} thread(s), BLAS: {blas()}, {params} parameters")
    print(f"tokenizer_step\tfashion\t{threads}\t{ms:.1f}\tms/step\t{batch / ms * 1e3:.0f}\timages/s", flush=True)


if __name__ == "__main__":
    main()
