"""Issue 11 (a): tbspin vs bare batched eigh, 1 thread and all cores, on the issue's cases.

For every case, in one process (medians of ``--repeat`` runs, one BLAS thread per worker):

* floor    — bare batched ``numpy.linalg.eigh`` of every H(k) of the mesh (1 thread), and the same
             on all cores through the executor's thread pool;
* public   — today's public API (``tbspin.spin_hall`` / ``anomalous_hall``: direct Bloch sums,
             serial);
* proto 1  — the prototype engine (benchmarks/prototype_engine.py: FFT H/∂H + executor around
             today's kernels), 1 worker;
* proto N  — the same on all cores (threads backend);

with ratios to the 1-thread floor and the largest relative difference between the public and the
prototype results (they compute the same integral).

Cases: ``pt21`` Pt ``_hr.dat`` (18 WF, 617 R) 21³ conventional σ^z_xy, η = 0.05 eV; ``bi30c`` /
``bi30p`` Bi₂Se₃ ``_hr.dat`` (30 WF) 30³ conventional / proper σ^z_xy; ``tb60`` 4-band Bi₂Se₃
(catalogue, m_z = 1 meV) 60³ proper σ^y_zx; ``pt41`` and ``tb100`` (``--large``). 81 Fermi
energies each (±0.4 eV around E_F for the Wannier models, ±0.5 eV for the 4-band model).

With ``--fd`` the proper cases run with the finite-difference connection instead, against the fd
floor (bare eigh at k and k ± δ along both directions of the formula: 5 × the eigh floor).

Run:  .venv/bin/python benchmarks/bench_core.py [--cases pt21 tb60] [--large] [--repeat 3] [--fd]
"""

from __future__ import annotations

import argparse
import json
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import FERMI, eigh_floor, load, median_time, wannier_model
from prototype_engine import make_payload, prototype_conductivity

import tbspin
from tbspin.executor import blas_threads, default_workers

CASES = {
    # name: (model key, mesh, formula, spin, current, field, eta)
    "pt21": ("pt", 21, "conventional", "z", 0, 1, 0.05),
    "bi30c": ("bi2se3", 30, "conventional", "z", 0, 1, 0.0),
    "bi30p": ("bi2se3", 30, "proper", "z", 0, 1, 0.0),
    "tb60": ("tb4", 60, "proper", "y", 2, 0, 0.0),
    "pt41": ("pt", 41, "conventional", "z", 0, 1, 0.05),
    "tb100": ("tb4", 100, "proper", "y", 2, 0, 0.0),
}


def model_for(key: str) -> tuple[tbspin.LatticeModel, np.ndarray]:
    """The model of a case and its 81 Fermi energies."""
    if key == "tb4":
        from tbspin.models import bi2se3

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bi2se3(magnetization=(0.0, 0.0, 0.001)), np.linspace(-0.5, 0.5, 81)
    return wannier_model(key), FERMI[key] + np.linspace(-0.4, 0.4, 81)


def run_case(name: str, repeat: int, workers: int) -> dict[str, float | str]:
    key, n, formula, spin, cur, fld, eta = CASES[name]
    model, ef = model_for(key)
    floor1 = eigh_floor(model, n, repeat)
    floorN = eigh_floor(model, n, repeat, workers=workers)
    with warnings.catch_warnings(), blas_threads(1):
        warnings.simplefilter("ignore")
        t_pub, res = median_time(lambda: tbspin.spin_hall(
            model, efermi=ef, mesh=n, spin=spin, current=cur, efield=fld, formula=formula,
            eta=eta, workers=1, progress=False), repeat)
        t_pubN, resN = median_time(lambda: tbspin.spin_hall(
            model, efermi=ef, mesh=n, spin=spin, current=cur, efield=fld, formula=formula,
            eta=eta, workers=workers, progress=False), repeat)
        payload = make_payload(model, what=formula, mesh=n, efermi=ef, spin=spin, current=cur,
                               field=fld, eta=eta)
        t_p1, raw1 = median_time(lambda: prototype_conductivity(payload, workers=1), repeat)
        t_pN, rawN = median_time(lambda: prototype_conductivity(
            payload, workers=workers, backend="threads"), repeat)
    scale = np.max(np.abs(res.raw))
    return dict(case=name, n_k=n**3, floor1=floor1, floorN=floorN, public=t_pub, publicN=t_pubN,
                fft=res.extras.get("fft"), bitwise_public_1_vs_N=bool(np.array_equal(res.raw, resN.raw)),
                proto1=t_p1,
                protoN=t_pN, diff=float(max(np.max(np.abs(raw1 - res.raw)),
                                            np.max(np.abs(rawN - res.raw))) / scale),
                bitwise_1_vs_N=bool(np.array_equal(raw1, rawN)), load=load())


def run_fd(name: str, repeat: int, workers: int) -> dict[str, float | str]:
    """The finite-difference connection (``method="fd"``) of a proper case against its floor:
    bare eigh at k and at k ± δ along the two directions of the formula, i.e. 5 × the eigh
    floor of the mesh (eigh's cost does not depend on k)."""
    key, n, formula, spin, cur, fld, eta = CASES[name]
    if formula != "proper":
        raise SystemExit(f"--fd: {name} is not a proper-formula case")
    model, ef = model_for(key)
    floor1 = eigh_floor(model, n, repeat)
    with warnings.catch_warnings(), blas_threads(1):
        warnings.simplefilter("ignore")
        times = [median_time(lambda w=w: tbspin.spin_hall(
            model, efermi=ef, mesh=n, spin=spin, current=cur, efield=fld, formula=formula,
            method="fd", workers=w, progress=False), repeat)[0] for w in (1, workers)]
    return dict(case=name, method="fd", n_k=n**3, floor1=floor1, fd_floor=5 * floor1,
                public=times[0], publicN=times[1], load=load())


def append_json(path: str | None, row: dict) -> None:
    """Append one result row to a JSON-lines file (nothing without a path)."""
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(row) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["pt21", "bi30c", "bi30p", "tb60"],
                    choices=sorted(CASES))
    ap.add_argument("--large", action="store_true", help="also pt41 and tb100")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--json", help="append the rows to this JSON-lines file")
    ap.add_argument("--fd", action="store_true",
                    help="the finite-difference connection of the proper cases vs the fd floor")
    args = ap.parse_args()
    cases = args.cases + (["pt41", "tb100"] if args.large else [])
    if args.fd:
        print(f"{'case':6s} {'N_k':>8s} {'fd floor':>9s} {'fd 1':>8s} {'x':>5s} {'fd N':>8s} "
              f"{'x':>5s} load (fd floor = 5 x bare eigh of the mesh, 1 thread; N = "
              f"{args.workers} workers)")
        for name in cases:
            r = run_fd(name, args.repeat, args.workers)
            f = r["fd_floor"]
            print(f"{name:6s} {r['n_k']:8d} {f:9.2f} {r['public']:8.2f} {r['public'] / f:5.2f} "
                  f"{r['publicN']:8.2f} {r['publicN'] / f:5.2f} {r['load']}", flush=True)
            append_json(args.json, r)
        return
    print(f"{'case':6s} {'N_k':>8s} {'eigh 1t':>8s} {'eigh Nt':>8s} {'public':>8s} {'x':>5s} "
          f"{'publ N':>8s} {'x':>5s} "
          f"{'proto 1':>8s} {'x':>5s} {'proto N':>8s} {'x':>5s} {'rel diff':>9s} load "
          f"(N = {args.workers} workers; x = ratio to the 1-thread eigh floor)")
    for name in cases:
        r = run_case(name, args.repeat, args.workers)
        f = r["floor1"]
        print(f"{name:6s} {r['n_k']:8d} {f:8.2f} {r['floorN']:8.2f} {r['public']:8.2f} "
              f"{r['public'] / f:5.2f} {r['publicN']:8.2f} {r['publicN'] / f:5.2f} "
              f"{r['proto1']:8.2f} {r['proto1'] / f:5.2f} "
              f"{r['protoN']:8.2f} {r['protoN'] / f:5.2f} {r['diff']:9.1e} {r['load']}", flush=True)
        append_json(args.json, r)


if __name__ == "__main__":
    main()
