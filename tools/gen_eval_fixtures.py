#!/usr/bin/env python3
"""Reference values for the image-generation metrics (mvar/src/test/java/dev/mvarj/mvar/eval).

Writes mvar/src/test/resources/eval/metrics_fixture.json: two small float32 feature sets with correlated,
non-diagonal covariances, and for them, computed in float64 with numpy only (no scipy on the build box):
  - the Fréchet distance, by two independent routes that must agree:
      (1) pytorch-fid's formula with the square root of Σ1·Σ2 from its (non-symmetric) eigenvalues, and
      (2) the symmetric form Tr((Σ1^½ Σ2 Σ1^½)^½) with numpy.linalg.eigh;
  - precision and recall with k-NN manifolds (Kynkäänniemi et al. 2019), k = 3, by brute force.

    python3 tools/gen_eval_fixtures.py            # rewrites the fixture (deterministic)
"""
import json
import os

import numpy as np

K = 3
OUT = os.path.join(os.path.dirname(__file__), "..", "mvar", "src", "test", "resources", "eval",
                   "metrics_fixture.json")


def features(rng, n, d, shift, mix_scale):
    mix = rng.normal(size=(d, d)) * mix_scale          # correlates the dimensions
    x = rng.normal(size=(n, d)) @ mix + shift
    return x.astype(np.float32)


def frechet_eigvals(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    lam = np.linalg.eigvals(s1 @ s2)                   # Σ1Σ2 is similar to a PSD matrix: real, >= 0
    tr_sqrt = np.sqrt(np.clip(lam.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def frechet_eigh(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    lam = np.linalg.eigvalsh(r @ s2 @ r)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(lam, 0, None)).sum())


def kth_radii(x, k):
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)                        # itself excluded
    return np.sort(d, axis=1)[:, k - 1]


def coverage(manifold, radii, queries):
    d = np.sqrt(((queries[:, None, :] - manifold[None, :, :]) ** 2).sum(-1))
    # no query may sit on a ball's edge, where float32 distances in Java could decide differently
    assert np.abs(d - radii[None, :]).min() > 1e-4
    return float((d <= radii[None, :]).any(axis=1).mean())


def main():
    rng = np.random.default_rng(20190826)
    d = 6
    real = features(rng, 40, d, 0.0, 0.6)
    gen = features(rng, 33, d, np.linspace(-0.5, 0.7, d), 0.45)
    r64, g64 = real.astype(np.float64), gen.astype(np.float64)
    fd1, fd2 = frechet_eigvals(r64, g64), frechet_eigh(r64, g64)
    assert abs(fd1 - fd2) < 1e-9 * max(1, abs(fd1)), (fd1, fd2)
    fd_biased = frechet_eigh(r64 * np.sqrt(39 / 40) + r64.mean(0) * (1 - np.sqrt(39 / 40)), g64)
    assert abs(fd_biased - fd1) > 1e-3, "the fixture must tell n-1 from n covariances"
    precision = coverage(r64, kth_radii(r64, K), g64)
    recall = coverage(g64, kth_radii(g64, K), r64)
    fixture = {
        "comment": "written by tools/gen_eval_fixtures.py; float64 numpy " + np.__version__,
        "dim": d, "k": K,
        "real": real.flatten().tolist(), "real_n": real.shape[0],
        "generated": gen.flatten().tolist(), "generated_n": gen.shape[0],
        "frechet_distance": fd1,
        "real_radii": kth_radii(r64, K).tolist(),
        "precision": precision, "recall": recall,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}: FD {fd1:.10f} (routes differ by {abs(fd1 - fd2):.2e}), "
          f"precision {precision:.4f}, recall {recall:.4f}")


if __name__ == "__main__":
    main()
