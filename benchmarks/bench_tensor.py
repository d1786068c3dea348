"""Issue 22 acceptance 3: a whole 3×3×3 spin Hall tensor from one pass vs one component.

Cases (81 Fermi energies, ±0.4 eV around the DFT E_F):

* ``pt21``  — Pt ``_hr.dat`` (18 WF), 21³, conventional formula, η = 0.05 eV; single = σ^z_xy;
* ``bi24``  — Bi₂Se₃ ``_hr.dat`` (30 WF), 24³, proper formula (gauge s_l per spin component);
  single = σ^z_xy.

One plain mesh per run (errors=False: the same points for every call). Per case and worker
count (1 and all cores), in rounds (each round times the single component
and the whole tensor once, interleaved: the shared VM drifts within minutes), the cost ratio
tensor / single is the median of the per-round ratios (with 1 worker also the ratio of the
process's CPU times, which other jobs on a shared machine disturb least). Once per case, the
tensor is compared with every single-component run the public API accepts (27 for the
conventional formula, the 18 with current ≠ field for the proper one, whose 9 others vanish
identically): largest difference relative to the largest |component|.

Run:  .venv/bin/python benchmarks/bench_tensor.py [--cases pt21 bi24] [--repeat 3] [--no-check]
Targets (issue 22): tensor ≤ 1.5 × single (conventional), ≤ 2 × single (proper); equal to 1e-10.
"""

from __future__ import annotations

import argparse
import json
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import FERMI, load, median_ratio, paired_times, wannier_model

import tbspin
from tbspin.engine.executor import default_workers

CASES = {  # name: (model, mesh, formula, eta)
    "pt21": ("pt", 21, "conventional", 0.05),
    "bi24": ("bi2se3", 24, "proper", 0.0),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-check", action="store_true", help="skip the component-by-component check")
    ap.add_argument("--json", default=None, help="append the rows to this JSON-lines file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for name in args.cases:
        key, mesh, formula, eta = CASES[name]
        model = wannier_model(key)
        ef = FERMI[key] + np.linspace(-0.4, 0.4, 81)
        kw = dict(efermi=ef, mesh=mesh, formula=formula, eta=eta, progress=False, errors=False)
        allw = default_workers()
        for workers in sorted({1, allw}):
            calls = {
                "single": lambda w=workers, m=model, kw=kw: tbspin.spin_hall(
                    m, spin="z", current="x", efield="y", workers=w, **kw),
                "tensor": lambda w=workers, m=model, kw=kw: tbspin.spin_hall(
                    m, spin="all", current="all", efield="all", workers=w, **kw),
            }
            cpu: dict[str, list[float]] = {}
            times, out = paired_times(calls, args.repeat, cpu=cpu)
            ratio = median_ratio(times, "tensor", "single")
            row = dict(case=name, workers=workers, formula=formula, mesh=mesh,
                       single_s=times["single"], tensor_s=times["tensor"], ratio=ratio,
                       n_components=len(out["tensor"].components), load=load())
            extra = ""
            if workers == 1:  # every chunk in this process: its CPU time, least disturbed
                row["cpu_ratio"] = median_ratio(cpu, "tensor", "single")  # by other jobs
                extra = f", CPU-time ratio {row['cpu_ratio']:.2f}"
            print(f"{name} {formula} {mesh}^3 workers={workers}: single "
                  f"{np.median(times['single']):.2f} s, tensor ({row['n_components']} components) "
                  f"{np.median(times['tensor']):.2f} s, ratio {ratio:.2f}{extra} "
                  f"(load {row['load']})", flush=True)
            rows.append(row)
        if not args.no_check:
            T = out["tensor"].tensor()
            scale = float(np.abs(T).max())
            worst, n = 0.0, 0
            for l in range(3):
                for i in range(3):
                    for j in range(3):
                        if i == j and formula != "conventional":
                            assert np.all(T[:, l, i, j] == 0)
                            continue
                        one = tbspin.spin_hall(model, spin="xyz"[l], current="xyz"[i],
                                               efield="xyz"[j], workers=allw, **kw)
                        worst = max(worst, float(np.max(np.abs(one.values - T[:, l, i, j]))))
                        n += 1
            print(f"{name}: tensor vs {n} single-component runs: max |diff| / max |σ| = "
                  f"{worst / scale:.2e} (max |σ| = {scale:.4g} {out['tensor'].unit})", flush=True)
            rows.append(dict(case=name, check_runs=n, max_rel_diff=worst / scale, scale=scale))
    if args.json:
        with open(args.json, "a") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
