"""Default chunk size of many-band models: time and peak memory against the chunk size.

A random Hermitian 3D model with N bands (hoppings up to |R_i| = 2, 125 R, all centres at the
origin, seed 0, a diagonal ±1 "spin") and the conventional σ_xy (η = 0.05 eV, 81 Fermi energies
in [−1, 1] eV) on an n³ mesh: every chunk size given is timed in interleaved rounds (medians),
the engine's default chunk first; ``--rss`` also runs each chunk size once in a fresh process
and prints its peak RSS. The yardstick of issue 11 (bare batched eigh of every H(k) of the mesh,
1 thread and all cores) is timed in the same rounds.

Run:  .venv/bin/python benchmarks/bench_chunks.py [--bands 64 96] [--chunks 252 60 24] [--n 12]
      [--workers 1 2] [--rss]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import eigh_floor_runner, load, paired_times

import tbspin
from tbspin.engine.executor import blas_threads
from tbspin.engine.integrate import default_chunk_size


def random_model(n_bands: int, seed: int = 0) -> tbspin.LatticeModel:
    """Random Hermitian model: H_R decaying as e^{−|R|₁}, onsite energies of spread 2 eV."""
    rng = np.random.default_rng(seed)
    hop: dict[tuple[int, ...], np.ndarray] = {}
    for R in np.ndindex(5, 5, 5):
        R = tuple(int(x) - 2 for x in R)
        if R in hop:
            continue
        M = 0.05 * np.exp(-np.abs(R).sum()) * (rng.normal(size=(n_bands, n_bands))
                                               + 1j * rng.normal(size=(n_bands, n_bands)))
        if R == (0, 0, 0):
            hop[R] = M + M.conj().T + np.diag(rng.normal(scale=2.0, size=n_bands))
        else:
            hop[R], hop[tuple(-x for x in R)] = M, M.conj().T
    half = n_bands // 2
    sz = np.diag(np.r_[np.ones(half), -np.ones(n_bands - half)]).astype(complex)
    return tbspin.LatticeModel(lattice=3.0 * np.eye(3), hoppings=hop, operators={"sz": sz},
                               positions_reduced=np.zeros((n_bands, 3)), name=f"random{n_bands}")


def call(model: tbspin.LatticeModel, n: int, chunk: int | None, workers: int
         ) -> tbspin.ConductivityResult:
    return tbspin.spin_hall(model, efermi=np.linspace(-1, 1, 81), mesh=n, formula="conventional",
                            eta=0.05, spin="sz", current="x", efield="y", workers=workers,
                            progress=False, chunk_size=chunk)


def peak_rss(bands: int, n: int, chunk: int) -> float:
    """Peak RSS (MB) of one run in a fresh process (VmHWM: ru_maxrss survives exec on Linux and
    would report this parent's peak)."""
    code = ("import re, sys; sys.path.insert(0, 'benchmarks'); import bench_chunks as b; "
            f"b.call(b.random_model({bands}), {n}, {chunk}, 1); "
            "print(int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1]) / 1024)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bands", type=int, nargs="+", default=[64, 96])
    ap.add_argument("--chunks", type=int, nargs="+", default=[252])
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rss", action="store_true")
    args = ap.parse_args()
    for bands in args.bands:
        model = random_model(bands)
        default = default_chunk_size(model, "kubo", mesh=tbspin.make_mesh(model, args.n))
        chunks = [default] + [c for c in args.chunks if c != default]
        calls = {"floor1": eigh_floor_runner(model, args.n),
                 "floorN": eigh_floor_runner(model, args.n, max(args.workers))}
        for w in args.workers:
            for c in chunks:
                calls[f"chunk {c}, {w} worker(s)"] = (
                    lambda c=c, w=w, m=model: call(m, args.n, c, w))
        with warnings.catch_warnings(), blas_threads(1):
            warnings.simplefilter("ignore")
            for fn in calls.values():  # warm-up
                fn()
            times, _ = paired_times(calls, args.repeat)
        row: dict[str, object] = dict(bands=bands, n=args.n, default_chunk=default, load=load())
        row.update({k: round(statistics.median(v), 3) for k, v in times.items()})
        if args.rss:
            row.update({f"rss_MB chunk {c}": round(peak_rss(bands, args.n, c)) for c in chunks})
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
