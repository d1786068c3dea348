"""Issue 11 (b): tbspin vs WannierBerri on the same ``_hr.dat``, mesh and quantity, 1 and all cores.

Quantities (81 Fermi energies, ±0.4 eV around E_F, Γ-centred n³ mesh, tight-binding position
operator with all Wannier centres at the origin, as both files carry no centres):

* ``fe-ahc``  bcc Fe (16 WF): anomalous Hall σ_xy (WannierBerri ``AHC``, external_terms=False);
* ``pt-shc``  fcc Pt (18 WF): conventional spin Hall σ^z_xy, ½{s, v} spin current, η = 0
  (WannierBerri ``SHC`` with spin_current_type="simple"; spins paired (i, i + N/2), block order).

WannierBerri is installed by this script into its own virtual environment (``--venv``, default
/tmp/tbspin-wannierberri-venv, with numba and ray, which it needs for its tetrahedron helpers and
for more than one core) and run in a subprocess (benchmarks/wannierberri_runner.py): it is never a
dependency of tbspin. WannierBerri's results are in S/m (AHC) and S/m·(ħ/e) (SHC); both are
converted to tbspin's S/cm and (ħ/e) S/cm. Times exclude reading the file; WannierBerri's
multi-core time excludes ``ray.init``. tbspin: the public API (``workers=1`` and all cores; the
FFT plan is built inside every timed call) and, for continuity with earlier sessions, the
prototype engine (benchmarks/prototype_engine.py). The acceptance ratio is tbspin on all cores
over WannierBerri's fastest run, over core counts and grids (``tN/WB*``).

Run:  .venv/bin/python benchmarks/bench_wannierberri.py [--n 21] [--repeat 3] [--quantities fe-ahc]
      [--nkfft 21 7]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import FERMI, LATTICES, hr_file, load, median_time, wannier_model
from prototype_engine import make_payload, prototype_conductivity

import tbspin
from tbspin.engine.executor import blas_threads, default_workers

HERE = Path(__file__).resolve().parent
QUANTITIES = {"fe-ahc": ("fe", "ahc"), "pt-shc": ("pt", "shc")}


def ensure_venv(venv: Path) -> Path:
    """Create ``venv`` with WannierBerri (+ numba, ray) unless it exists; return its python."""
    py = venv / "bin" / "python"
    if py.exists() and subprocess.run([py, "-c", "import wannierberri, numba, ray, spglib"],
                                      capture_output=True).returncode == 0:
        return py
    print(f"installing WannierBerri into {venv} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "index", "versions", "wannierberri"], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", "wannierberri", "numba", "ray",
                    "spglib"], check=True)
    return py


def run_wannierberri(py: Path, name: str, quantity: str, n: int, ef: np.ndarray, cpus: int,
                     repeat: int, nkfft: int | None = None) -> dict:
    """WannierBerri's median time and values on ``cpus`` cores; its grid is NKdiv = n / nkfft
    FFT grids of ``nkfft``³ points (default one FFT grid over the whole mesh)."""
    model_args = dict(num_wann=wannier_model(name).n_orbitals,
                      seedname=str(hr_file(name))[: -len("_hr.dat")], lattice=LATTICES[name])
    with tempfile.TemporaryDirectory() as tmp:
        args = dict(model_args, quantity=quantity, efermi=ef.tolist(), cpus=cpus, nk=n,
                    nkfft=nkfft, repeat=repeat, tmp=tmp)
        out = subprocess.run([py, HERE / "wannierberri_runner.py", json.dumps(args)], check=True,
                             capture_output=True, text=True, cwd=tmp)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    data = np.asarray(res["data"])
    # AHC: pseudovector (σ_yz, σ_zx, σ_xy) in S/m; SHC: σ[α, β, spin γ] in (ħ/e) S/m
    values = data[:, 2] / 100 if quantity == "ahc" else data[:, 0, 1, 2] / 100
    return dict(time=float(np.median(res["times"])), values=values, version=res["version"])


def run_tbspin(name: str, quantity: str, n: int, ef: np.ndarray, repeat: int, workers: int) -> dict:
    """The public API on 1 and ``workers`` workers, and the prototype engine on both."""
    model = wannier_model(name)
    if quantity == "ahc":
        what = "berry"
        def call(w: int) -> tbspin.ConductivityResult:
            return tbspin.anomalous_hall(model, efermi=ef, mesh=n, workers=w, progress=False)
        unit = "S/cm"
    else:
        what = "conventional"
        def call(w: int) -> tbspin.ConductivityResult:
            return tbspin.spin_hall(model, efermi=ef, mesh=n, formula="conventional", workers=w,
                                    progress=False)
        unit = "(hbar/e) S/cm"
    with warnings.catch_warnings(), blas_threads(1):
        warnings.simplefilter("ignore")
        call(workers)  # warm-up, not timed
        t_pub1, res = median_time(lambda: call(1), repeat)
        t_pubN, resN = median_time(lambda: call(workers), repeat)
        payload = make_payload(model, what=what, mesh=n, efermi=ef)
        t1, raw = median_time(lambda: prototype_conductivity(payload, workers=1), repeat)
        tN, _ = median_time(lambda: prototype_conductivity(payload, workers=workers,
                                                           backend="threads"), repeat)
    values = res.to(unit)
    if not np.allclose(raw, res.raw, rtol=1e-8, atol=1e-8 * np.max(np.abs(res.raw))):
        raise RuntimeError("prototype and public API disagree: the prototype is wrong")
    if not np.array_equal(res.raw, resN.raw):
        raise RuntimeError("the public API on 1 and on several workers disagree")
    return dict(public1=t_pub1, publicN=t_pubN, proto1=t1, protoN=tN, values=np.asarray(values))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=21)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quantities", nargs="+", default=list(QUANTITIES), choices=list(QUANTITIES))
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--nkfft", type=int, nargs="+", default=None,
                    help="WannierBerri's FFT grids to try (each must divide --n; default: one grid "
                         "over the whole mesh); WB* is its fastest run over grids and core counts")
    ap.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "tbspin-wannierberri-venv")
    args = ap.parse_args()
    py = ensure_venv(args.venv)
    N = args.workers
    grids = args.nkfft or [args.n]
    if any(args.n % g for g in grids):
        raise SystemExit(f"--nkfft {grids}: each must divide --n {args.n}")
    print(f"mesh {args.n}^3, 81 E_F, medians of {args.repeat}; N = {N} cores; times in s; "
          "tbspin = the public API")
    print(f"{'quantity':8s} {'WB 1':>7s} {'WB N':>7s} {'tbspin 1':>8s} {'tbspin N':>8s} "
          f"{'proto 1':>7s} {'proto N':>7s} {'t1/WB1':>6s} {'tN/WBN':>6s} {'tN/WB*':>6s} "
          f"{'value WB':>12s} {'tbspin':>12s} {'max rel diff':>12s} load  (WB* = WB's fastest run)")
    for q in args.quantities:
        name, quantity = QUANTITIES[q]
        ef = FERMI[name] + np.linspace(-0.4, 0.4, 81)
        runs = {(g, c): run_wannierberri(py, name, quantity, args.n, ef, c, args.repeat, g)
                for g in grids for c in (1, N)}
        for (g, c), r in runs.items():
            print(f"  WannierBerri NKFFT {g}^3 x NKdiv {args.n // g}^3 on {c} core(s): "
                  f"{r['time']:.2f} s", flush=True)
        wb1 = min((r for (g, c), r in runs.items() if c == 1), key=lambda r: r["time"])
        wbN = min((r for (g, c), r in runs.items() if c == N), key=lambda r: r["time"])
        tb = run_tbspin(name, quantity, args.n, ef, args.repeat, N)
        diff = np.max(np.abs(tb["values"] - wb1["values"])) / np.max(np.abs(wb1["values"]))
        best = min(wb1["time"], wbN["time"])
        print(f"{q:8s} {wb1['time']:7.2f} {wbN['time']:7.2f} {tb['public1']:8.2f} "
              f"{tb['publicN']:8.2f} {tb['proto1']:7.2f} {tb['protoN']:7.2f} "
              f"{tb['public1'] / wb1['time']:6.2f} {tb['publicN'] / wbN['time']:6.2f} "
              f"{tb['publicN'] / best:6.2f} {wb1['values'][40]:12.4f} {tb['values'][40]:12.4f} "
              f"{diff:12.1e} {load()}", flush=True)
    print(f"WannierBerri {wb1['version']}; values at E_F: AHC in S/cm, SHC in (hbar/e) S/cm")


if __name__ == "__main__":
    main()
