"""Where the proper spin Hall integrand of a symmetrized Wannier fit gets its variance.

Samples the per-k occupied sum of the proper headline of a symmetrized insulator of the materials
table (Bi₂Se₃ σ^y_zx at 4.4195 eV, or 1T′-WSe₂ σ^z_xy at −2.96 eV; both in the gap) at uniformly
random k and reports: the share of Σx² carried by the top 1 % of
points, the smallest gap between occupied bands of different Kramers pairs at those points,
the shares carried by points with such a gap below 10 and 30 meV, and the fitted tail exponent α of
P(|x| > t) ∝ t^(−α) (α ≤ 2: infinite variance, so Monte Carlo error bars converge slower than
1/√N and are optimistic). Usage: ``python benchmarks/bench_proper_tail.py [--points 20000]
[--material bi2se3|wse2]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import symmetrized_proper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--material", default="bi2se3", choices=["bi2se3", "wse2"])
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    mat, model, kern = symmetrized_proper(args.material)
    b = np.asarray(model.reciprocal)[list(model.periodic)]
    rng = np.random.default_rng(args.seed)
    vals, gaps = [], []
    t0 = time.perf_counter()
    for _ in range(max(args.points // 500, 1)):
        k = rng.random((500, len(b))) @ b
        E, X = kern(k)
        X = X.reshape(X.shape[0], X.shape[1], -1).sum(axis=2)
        occ = E[:, :X.shape[1]] < mat.efermi
        vals.append(np.sum(np.where(occ, X, 0.0), axis=1))
        d = np.diff(np.sort(np.where(E < mat.efermi, E, np.nan), axis=1), axis=1)
        gaps.append(np.nanmin(np.where(d < 1e-6, np.inf, d), axis=1))  # skip Kramers partners
    x, g = np.concatenate(vals), np.concatenate(gaps)
    a = np.abs(x)
    top = np.argsort(a)[::-1][: max(len(x) // 100, 1)]
    ts = np.quantile(a, [0.9, 0.99, 0.999])
    alpha = -np.polyfit(np.log(ts), np.log([np.mean(a > t) for t in ts]), 1)[0]
    print(f"{len(x)} random k in {time.perf_counter() - t0:.1f} s; per-point mean {x.mean():.4g}, "
          f"std {x.std():.4g}")
    print(f"top 1 % of points: {(x[top] ** 2).sum() / (x ** 2).sum():.1%} of sum x^2; median "
          f"smallest occupied gap {np.median(g[top]) * 1e3:.0f} meV (all points "
          f"{np.median(g) * 1e3:.0f} meV)")
    for cut in (0.01, 0.03):
        small = g < cut
        print(f"points with an occupied gap < {cut * 1e3:.0f} meV: {small.mean():.2%} of points, "
              f"{(x[small] ** 2).sum() / (x ** 2).sum():.1%} of sum x^2")
    print(f"tail exponent alpha = {alpha:.2f} (P(|x| > t) ~ t^-alpha; <= 2: infinite variance)")


if __name__ == "__main__":
    main()
