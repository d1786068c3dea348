"""Issue 9 acceptance 1 and 2: converged proper spin Hall conductivities of real Wannier fits.

    python benchmarks/bench_trust.py bi2se3 --mesh 6 --method kubo --tol 0.05 --budget 1800
    python benchmarks/bench_trust.py pt --symmetrize --formula proper --tol 0.02 --budget 2400
    python benchmarks/bench_trust.py pt --formula conventional --eta 0.05 --tol 0.02

Bi₂Se₃: σ^y_zx (spin y, current z, field x); Pt: σ^z_xy. E_F from shared/data/README.md. Prints
value ± standard error in (ħ/e) S/cm, the k-points evaluated, whether ``tol`` was reached and
the wall time; ``--json`` appends the record to a file.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import FERMI, load, wannier_model

import tbspin
from tbspin.symmetry.operations import source_file, symmetrized

COMPONENTS = {"bi2se3": ("y", "z", "x"), "pt": ("z", "x", "y")}


def main() -> None:
    """Run one converged spin Hall calculation and print (and optionally save) its record."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", choices=sorted(COMPONENTS))
    p.add_argument("--formula", default="proper", choices=["proper", "conventional"])
    p.add_argument("--method", default="kubo", choices=["kubo", "fd"])
    p.add_argument("--eta", type=float, default=0.0, help="broadening of the conventional formula")
    p.add_argument("--mesh", type=int, default=16, help="starting base mesh")
    p.add_argument("--tol", type=float, default=0.05)
    p.add_argument("--budget", type=float, default=1800.0, help="seconds")
    p.add_argument("--workers", type=int, default=None, help="threads [all cores]")
    p.add_argument("--symmetrize", action="store_true", help="restore T and P (.win parities)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args()

    model = wannier_model(a.model)
    if a.symmetrize:
        model, report = symmetrized(model, inversion=source_file(model, "win"))
        print(report)
    spin, current, efield = COMPONENTS[a.model]
    extra = {"eta": a.eta} if a.formula == "conventional" else {"method": a.method}
    t0 = time.perf_counter()
    r = tbspin.spin_hall(model, spin=spin, current=current, efield=efield,
                         efermi=[FERMI[a.model]], formula=a.formula, mesh=a.mesh, tol=a.tol,
                         budget=a.budget, seed=a.seed, workers=a.workers, **extra)
    seconds = time.perf_counter() - t0
    unit = "(hbar/e) S/cm"
    s = r.extras["sampling"]
    steps = [dict(mesh=h["mesh"][0], n_k=int(h["n_k"]), n_k_final=int(h["n_k_final"]),
                  rel_error=float(abs(h["errors"][0] / h["values"][0])),
                  seconds=round(float(h["seconds"]), 1)) for h in s["history"]]
    for st in steps:
        print("  step: base {mesh}^3, {n_k} k so far, estimate on {n_k_final} k, rel. error "
              "{rel_error:.3f}, {seconds} s".format(**st))
    record = dict(model=a.model, symmetrized=a.symmetrize, formula=a.formula, method=a.method,
                  eta=a.eta, start_mesh=a.mesh, tol=a.tol, workers=a.workers,
                  value=float(r.to(unit)[0]), error=float(r.errors_to(unit)[0]), unit=unit,
                  n_k=s["n_k"], converged=s["converged"], confirmed=s.get("confirmed"),
                  n_shifts=s.get("n_shifts"), seconds=seconds, steps=steps,
                  reported_mesh=s.get("mesh"),
                  degen_tol=r.extras.get("degen_tol"), load=load())
    print(f"{a.model} {a.formula} ({a.method}), start {a.mesh}: {record['value']:.1f} ± "
          f"{record['error']:.1f} {unit}; {s['n_k']} k-points, converged {s['converged']} "
          f"(confirmed {s.get('confirmed')}, {s.get('n_shifts')} shifts), "
          f"{seconds:.0f} s, load {record['load']}")
    if a.json is not None:
        with a.json.open("a") as fh:
            fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
