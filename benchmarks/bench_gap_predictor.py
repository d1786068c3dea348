"""Does the band gap predict where the proper spin Hall integrand's variance hides?

The proper σ^y_zx of symmetrized Bi₂Se₃ (E_F = 4.4195 eV, in the gap) is heavy-tailed
(``bench_proper_tail.py``: α ≈ 1.9). Refinement driven by the sampled variance
(:func:`tbspin.sampling.tree.adaptive`) refines only the spikes its shared shifts hit; a fresh
pass then meets new ones. The hypothesis tested here: the smallest gap between consecutive
non-degenerate bands with an occupied lower band, sampled at the same points, flags the cells
that hold a spike before a sample hits it (a gap small compared with its variation across the
cell can close inside the cell).

Runs R rounds of variance-driven refinement on a base mesh n³ × M shifts (the rule of
``adaptive``: the smallest set of cells carrying 80 % of Cov(A_c, total)/Var(total), at most
2 % of the cells), then a fresh pass with new shifts, and reports for that fresh pass: how many
cells carry 50 % and 80 % of its variance, their refinement level, and where those cells rank by
the gap predictor vol/g_min² computed from the *old* shifts' samples (rank 0 % = the predictor's
first choice). ``--mode gap`` also refines, each round, the 2 % of cells the gap rule flags
(g_min < κ·(g_max − g_min), by vol/g_min²) and reports the fresh error × √points against
``--mode var`` (same seeds).

Usage: ``python benchmarks/bench_gap_predictor.py [--n 12] [--rounds 4] [--seeds 2 3 4]
[--mode var gap]`` (≈ 1–2 min per run and seed on one core).
"""

from __future__ import annotations

import argparse
import time
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import symmetrized_proper

from tbspin.bz.spectrum import band_energies
from tbspin.sampling.rules import _evaluate_tree, _grid, _stats

M = 16  # shifts per pass (adaptive's default)


def smallest_gaps(model, kred, ef, degenerate=1e-5):
    """Per point: the smallest gap between consecutive bands (Kramers partners skipped) whose
    lower band is occupied (eV)."""
    E = band_energies(model, kred @ np.asarray(model.reciprocal)[list(model.periodic)])
    d = np.diff(E, axis=1)
    return np.min(np.where((E[:, :-1] < ef) & (d > degenerate), d, np.inf), axis=1)


def cell_gaps(model, origin, size, shifts, ef):
    k = (origin[None] + shifts[:, None] * size[None]).reshape(-1, origin.shape[1])
    g = smallest_gaps(model, k, ef).reshape(len(shifts), len(origin))
    return g.min(axis=0), g.max(axis=0)


def run(model, kern, ef, n, rounds, seed, mode, kappa=1.0, share=0.8, cap_share=0.02):
    rng = np.random.default_rng(seed)
    shifts = rng.random((M, 3))
    nn = np.array([n] * 3)
    size = np.tile(1.0 / nn, (n**3, 1))
    origin = (_grid(nn) - 0.5) * size
    efs = np.array([ef])

    def ev(o, s, sh):
        return _evaluate_tree(kern, model, o, s, sh, efs, 0.0, workers=1, base=(nn, -0.5))[:, :, 0]

    A = ev(origin, size, shifts)
    nk = A.size
    gmin, gmax = cell_gaps(model, origin, size, shifts, ef)
    children = _grid([2] * 3) / 2
    for _ in range(rounds):
        T = A.sum(axis=1)
        dT = T - T.mean()
        score = np.maximum(((A - A.mean(axis=0)) * dT[:, None]).sum(axis=0) / (dT**2).sum(), 0)
        order = np.argsort(score)[::-1]
        cap = max(8, int(cap_share * len(origin)))
        count = min(int(np.searchsorted(np.cumsum(score[order]) / score.sum(), share) + 1), cap)
        chosen = set(order[:count].tolist())
        if mode == "gap":
            pri = np.where(gmin < kappa * (gmax - gmin),
                           np.prod(size, axis=1) / np.maximum(gmin, 1e-4) ** 2, -1.0)
            top = np.argsort(pri)[::-1][:cap]
            chosen |= set(top[pri[top] > 0].tolist())
        sel = np.array(sorted(chosen))
        keep = np.ones(len(origin), bool)
        keep[sel] = False
        co = (origin[sel, None, :] + children[None] * size[sel, None, :]).reshape(-1, 3)
        cs = np.repeat(size[sel] / 2, len(children), axis=0)
        A = np.concatenate([A[:, keep], ev(co, cs, shifts)], axis=1)
        a, b = cell_gaps(model, co, cs, shifts, ef)
        gmin, gmax = np.concatenate([gmin[keep], a]), np.concatenate([gmax[keep], b])
        origin, size = np.concatenate([origin[keep], co]), np.concatenate([size[keep], cs])
        nk += len(co) * M
    fresh = ev(origin, size, rng.random((M, 3)))
    nk += fresh.size
    v, e = _stats(fresh.sum(axis=1)[:, None])
    T = fresh.sum(axis=1)
    dT = T - T.mean()
    sc = ((fresh - fresh.mean(axis=0)) * dT[:, None]).sum(axis=0) / (dT**2).sum()
    pri = np.prod(size, axis=1) / np.maximum(gmin, 1e-4) ** 2
    rank = np.argsort(np.argsort(-pri)) / len(pri)
    top = np.argsort(sc)[::-1]
    cum = np.cumsum(sc[top])
    out = dict(v=float(v[0]), e=float(e[0]), n_k=nk, n_final=fresh.size, cells=len(origin))
    for q in (0.5, 0.8):
        c = int(np.searchsorted(cum, q)) + 1
        out[f"cells_{int(q * 100)}"] = c
        out[f"worst_rank_{int(q * 100)}"] = float(rank[top[:c]].max())
        out[f"levels_{int(q * 100)}"] = sorted({int(round(1 / size[i, 0] / n)) for i in top[:c]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--mode", nargs="+", default=["var", "gap"], choices=["var", "gap"])
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    mat, model, kern = symmetrized_proper("bi2se3")
    for mode in args.mode:
        for seed in args.seeds:
            t0 = time.perf_counter()
            r = run(model, kern, mat.efermi, args.n, args.rounds, seed, mode)
            print(f"{mode} seed {seed}: {r['v']:.4g} ± {r['e']:.2g} (fresh pass, {r['n_final']} k; "
                  f"{r['n_k']} k in all), error²·points {r['e'] ** 2 * r['n_final']:.3g}; "
                  f"{r['cells_50']} / {r['cells_80']} cells carry 50 / 80 % of the fresh variance "
                  f"(levels {r['levels_80']}), worst gap-predictor rank among them "
                  f"{r['worst_rank_50']:.0%} / {r['worst_rank_80']:.0%} of {r['cells']} cells "
                  f"[{time.perf_counter() - t0:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
