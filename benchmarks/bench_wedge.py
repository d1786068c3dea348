"""Issue 23 acceptance 1: irreducible-wedge SHC tensor of symmetrized Pt vs the full mesh.

Pt ``_hr.dat`` (18 WF) symmetrized over its full grey group (Fm-3m + T, 96 elements,
:func:`tbspin.crystal.symmetrize`), Γ-centred mesh (default 42³), conventional static spin Hall
conductivity (η = 1e-3 eV), one Fermi energy (the DFT E_F), one thread:

* ``wedge``  — ``tbspin.compute(model, "shc", components="all", symmetry="auto")``: the whole
  tensor (27 components) from the irreducible points (star weights) rebuilt by the point group;
* ``floor``  — bare batched ``numpy.linalg.eigh`` of every H(k) of the full mesh (H from the FFT
  plan, built before timing: :func:`common.eigh_floor_runner`), the least any full-mesh run pays.

Timed in interleaved rounds (the shared VM drifts); the ratio is the median of the per-round
ratios, of wall and of CPU time (both one thread; CPU time is the least disturbed by other
jobs). Once, the full-mesh tensor (same mesh, no symmetry) is computed and compared with the
wedge tensor: max |difference| / max |σ|.

Run:  .venv/bin/python benchmarks/bench_wedge.py [--mesh 42] [--repeat 3] [--no-check]
Targets (issue 23): wedge ≤ 1/10 of the floor; equal to the full mesh to 1e-10.
The comparison with WannierBerri and its point group (bench_wannierberri.py) is not made here.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import FERMI, eigh_floor_runner, load, median_ratio, paired_times, wannier_model

import tbspin
from tbspin.crystal import symmetrize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mesh", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--eta", type=float, default=1e-3)
    ap.add_argument("--no-check", action="store_true", help="skip the full-mesh comparison")
    ap.add_argument("--json", default=None, help="append the rows to this JSON-lines file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    model, report = symmetrize(wannier_model("pt"), n_k=5)
    print(f"symmetrized in {time.perf_counter() - t0:.1f} s: Kramers splitting "
          f"{report.kramers_before * 1e3:.3g} → {report.kramers_after * 1e3:.2g} meV", flush=True)
    kw = dict(efermi=FERMI["pt"], mesh=args.mesh, formula="conventional", eta=args.eta,
              progress=False, workers=1)
    calls = {
        "floor": eigh_floor_runner(model, args.mesh, workers=1),
        "wedge": lambda: tbspin.compute(model, "shc", symmetry="auto", **kw),
    }
    cpu: dict[str, list[float]] = {}
    times, out = paired_times(calls, args.repeat, cpu=cpu)
    ratio = median_ratio(times, "wedge", "floor")
    cpu_ratio = median_ratio(cpu, "wedge", "floor")  # one thread each: least disturbed by load
    res = out["wedge"]
    sym = res.extras["symmetry"]
    row: dict[str, object] = dict(
        mesh=args.mesh, eta=args.eta, floor_s=times["floor"], wedge_s=times["wedge"],
        ratio=ratio, cpu_ratio=cpu_ratio, n_irreducible=sym["n_irreducible"], n_full=sym["n_full"],
        load=load())
    print(f"Pt {args.mesh}^3: eigh floor {np.median(times['floor']):.3f} s, wedge tensor "
          f"({sym['n_irreducible']} of {sym['n_full']} k) {np.median(times['wedge']):.3f} s, "
          f"ratio {ratio:.3f}, CPU-time ratio {cpu_ratio:.3f} (target ≤ 0.1; load {row['load']})",
          flush=True)
    if not args.no_check:
        t0 = time.perf_counter()
        full = tbspin.compute(model, "shc", shift=0.0, errors=False, **kw)
        secs = time.perf_counter() - t0
        A, B = full.tensor(), res.tensor()
        scale = float(np.abs(A).max())
        rel = float(np.abs(A - B).max()) / scale
        row.update(full_s=secs, max_rel_diff=rel, sigma_zxy=float(B[0, 2, 0, 1]),
                   unit=res.unit)
        print(f"full mesh tensor {secs:.2f} s; σ^z_xy = {B[0, 2, 0, 1]:.6g} {res.unit}; "
              f"max |wedge − full| / max |σ| = {rel:.2e} (target ≤ 1e-10)", flush=True)
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
