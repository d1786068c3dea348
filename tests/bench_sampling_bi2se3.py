"""Benchmark (not collected by pytest): adaptive refinement vs uniform randomized meshes.

Issue 9 acceptance 3: on the regularized 4-band Bi2Se3 model (Liu, Cullen & Culcer, PRB 108,
195434 (2023), Eq. 10) with a magnetization of 1 meV, the proper σ^y_zx at Fermi energies from
the valence band into the conduction band reaches 2% (standard error; absolute floor ``FLOOR``
for the vanishing in-gap value of m ∥ y) with at most 1/5 of the k-points of the uniform mesh
that reaches 2%. Both counts are measured here:

* uniform: :func:`tbspin.sampling.converge` with ``method="uniform"`` (M randomly shifted n³
  meshes, n grown by 20% per step, not by the error prediction); the count is M·n³ of the
  ensemble that reached 2%.
* adaptive: ``method="adaptive"``; the count is every k-point evaluated (all refinement rounds,
  the fresh final pass, and any discarded base meshes).

The two values must agree within their combined error bars.

Run:  python tests/bench_sampling_bi2se3.py [x|y|z ...]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from tbspin import units
from tbspin.models import bi2se3
from tbspin.sampling import converge, shc_kernel

EFERMI = [-0.1, 0.0, 0.35]  # valence band, gap, conduction band (Γ: ±0.29/0.27 eV)
TOL = 0.02
#: absolute floor, (ħ/2e) S/m: with m ∥ y the in-gap σ^y_zx vanishes (0.0 ± 0.0), where a
#: relative tolerance can never be met; 10 is 2 % of the smallest non-zero value (≈ 530)
FLOOR = 10.0


def run(axis: str) -> dict:
    m = dict(x=(1e-3, 0, 0), y=(0, 1e-3, 0), z=(0, 0, 1e-3))[axis]
    model = bi2se3(magnetization=m)
    kern = shc_kernel(model, spin="y", current="z", efield="x", formula="proper")
    fac = units.conversion_factor("shc", 3)[0]
    out = {}
    for method, kw in (("adaptive", dict(mesh=10)), ("uniform", dict(mesh=16, growth=1.2, max_growth=1.2))):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = converge(kern, model, EFERMI, tol=TOL, abs_floor=FLOOR / abs(fac),
                         method=method, seed=1, budget_k=30_000_000, **kw)
        count = r.n_k if method == "adaptive" else r.n_shifts * int(np.prod(r.mesh))
        out[method] = (r.scaled(fac), count, time.perf_counter() - t0)
    return out


def main(axes: list[str]) -> None:
    for axis in axes:
        out = run(axis)
        a, na, ta = out["adaptive"]
        u, nu, tu = out["uniform"]
        print(f"m = 1 meV ∥ {axis}: proper σ^y_zx in (ħ/2e) S/m")
        for i, e in enumerate(EFERMI):
            diff = abs(a.values[i] - u.values[i]) / np.hypot(a.errors[i], u.errors[i])
            print(f"  E_F = {e:+.2f} eV: adaptive {a.values[i]:8.1f} ± {a.errors[i]:5.1f}   "
                  f"uniform {u.values[i]:8.1f} ± {u.errors[i]:5.1f}   |Δ|/σ = {diff:.2f}")
        print(f"  k-points: adaptive {na} ({ta:.0f} s, converged {a.converged}), uniform {nu} "
              f"(mesh {u.mesh} × {u.n_shifts} shifts, {tu:.0f} s, converged {u.converged}); "
              f"ratio {na / nu:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["z", "x", "y"])
