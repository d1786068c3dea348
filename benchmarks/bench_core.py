"""Issue 11 (a): tbspin vs bare batched eigh, 1 thread and all cores, on the issue's cases.

For every case, in one process (``--repeat`` rounds, one BLAS thread per worker; each round runs
every call below once, so a ratio is the median of per-round ratios: the VM drifts by tens of
percent within minutes):

* floor    — bare batched ``numpy.linalg.eigh`` of every H(k) of the mesh (1 thread), and the same
             on all cores through the executor's thread pool;
* public   — the public API (``tbspin.spin_hall``: FFT Bloch sums where the cost estimate
             prefers them, the executor's chunks), 1 worker and all workers;
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
import statistics
import warnings
from collections.abc import Callable

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import FERMI, eigh_floor_runner, load, median_ratio, paired_times, wannier_model
from prototype_engine import make_payload, prototype_conductivity

import tbspin
from tbspin.engine.executor import blas_threads, default_workers

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


def _spin_hall(model: tbspin.LatticeModel, ef: np.ndarray, name: str, workers: int,
               method: str = "kubo") -> Callable[[], tbspin.ConductivityResult]:
    """The public call of case ``name`` on ``workers`` workers."""
    key, n, formula, spin, cur, fld, eta = CASES[name]
    return lambda: tbspin.spin_hall(
        model, efermi=ef, mesh=n, spin=spin, current=cur, efield=fld, formula=formula,
        eta=eta, method=method, workers=workers, progress=False)


def run_case(name: str, repeat: int, workers: int, proto: bool = True) -> dict:
    """Floor, public and (``proto``) prototype runs of one case, interleaved in rounds; the
    ratios are medians of the per-round ratios to that round's 1-thread floor."""
    key, n, formula, spin, cur, fld, eta = CASES[name]
    model, ef = model_for(key)
    calls = {"floor1": eigh_floor_runner(model, n), "floorN": eigh_floor_runner(model, n, workers),
             "public": _spin_hall(model, ef, name, 1), "publicN": _spin_hall(model, ef, name, workers)}
    if proto:
        payload = make_payload(model, what=formula, mesh=n, efermi=ef, spin=spin, current=cur,
                               field=fld, eta=eta)
        calls["proto1"] = lambda: prototype_conductivity(payload, workers=1)
        calls["protoN"] = lambda: prototype_conductivity(payload, workers=workers,
                                                         backend="threads")
    with warnings.catch_warnings(), blas_threads(1):
        warnings.simplefilter("ignore")
        for fn in calls.values():  # warm-up (plans, caches), not timed
            fn()
        times, out = paired_times(calls, repeat)
    res, resN = out["public"], out["publicN"]
    row = dict(case=name, n_k=n**3, fft=res.extras.get("fft"),
               bitwise_public_1_vs_N=bool(np.array_equal(res.raw, resN.raw)), load=load(),
               times={k: [round(t, 4) for t in v] for k, v in times.items()})
    for key_ in calls:
        row[key_] = statistics.median(times[key_])
        row["x_" + key_] = median_ratio(times, key_, "floor1")
    if proto:
        scale = np.max(np.abs(res.raw))
        raw1, rawN = out["proto1"], out["protoN"]
        row.update(diff=float(max(np.max(np.abs(raw1 - res.raw)),
                                  np.max(np.abs(rawN - res.raw))) / scale),
                   bitwise_1_vs_N=bool(np.array_equal(raw1, rawN)))
    return row


def run_fd(name: str, repeat: int, workers: int) -> dict:
    """The finite-difference connection (``method="fd"``) of a proper case against its floor:
    bare eigh at k and at k ± δ along the two directions of the formula, i.e. 5 × the eigh
    floor of the mesh (eigh's cost does not depend on k), interleaved in rounds."""
    key, n, formula, spin, cur, fld, eta = CASES[name]
    if formula != "proper":
        raise SystemExit(f"--fd: {name} is not a proper-formula case")
    model, ef = model_for(key)
    calls = {"floor1": eigh_floor_runner(model, n),
             "public": _spin_hall(model, ef, name, 1, "fd"),
             "publicN": _spin_hall(model, ef, name, workers, "fd")}
    with warnings.catch_warnings(), blas_threads(1):
        warnings.simplefilter("ignore")
        times, _ = paired_times(calls, repeat)
    row = dict(case=name, method="fd", n_k=n**3, load=load())
    for key_ in calls:
        row[key_] = statistics.median(times[key_])
    row["fd_floor"] = 5 * row["floor1"]
    for key_ in ("public", "publicN"):
        row["x_" + key_] = median_ratio(times, key_, "floor1") / 5
    return row


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
            print(f"{name:6s} {r['n_k']:8d} {r['fd_floor']:9.2f} {r['public']:8.2f} "
                  f"{r['x_public']:5.2f} {r['publicN']:8.2f} {r['x_publicN']:5.2f} {r['load']}",
                  flush=True)
            append_json(args.json, r)
        return
    print(f"{'case':6s} {'N_k':>8s} {'eigh 1t':>8s} {'eigh Nt':>8s} {'x':>5s} {'public':>8s} "
          f"{'x':>5s} {'publ N':>8s} {'x':>5s} {'proto 1':>8s} {'x':>5s} {'proto N':>8s} {'x':>5s} "
          f"{'rel diff':>9s} load (N = {args.workers} workers; times: medians; x: median of the "
          "per-round ratios to that round's 1-thread eigh floor)")
    for name in cases:
        r = run_case(name, args.repeat, args.workers)
        cols = "".join(f" {r[c]:8.2f} {r['x_' + c]:5.2f}"
                       for c in ("floorN", "public", "publicN", "proto1", "protoN"))
        print(f"{name:6s} {r['n_k']:8d} {r['floor1']:8.2f}{cols} {r['diff']:9.1e} {r['load']}",
              flush=True)
        append_json(args.json, r)


if __name__ == "__main__":
    main()
