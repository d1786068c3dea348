"""Issue 24: per-k cost of a converged run on one worker, and what a 100-band material at 10⁸
k-points costs on N dask workers (docs/cluster.md).

Measured on one worker (one BLAS thread), as CPU time of this process (``time.process_time``:
the machine is shared, and a worker of a cluster has its core to itself; the work is one
thread, so CPU time is the wall time of an unloaded core):

* the seconds per k-point of the proper σ^z_xy of the Pt (18 WF) and Bi₂Se₃ (30 WF) `_hr.dat`
  fits through the path of a ``tol`` run (:func:`tbspin.sampling.randomized_mesh`: randomly
  shifted meshes, FFT Bloch sums, one eigensystem per k), at the DFT E_F; and of the whole
  proper tensor (18 components) from the same eigensystem;
* bare batched ``numpy.linalg.eigh`` per k for N = 18, 30, 100 (random Hermitian matrices);
* the rest (Bloch sums, velocity matrices, the kernel) = total − eigh, its exponent p from
  Pt → Bi₂Se₃: rest(30)/rest(18) = (30/18)^p.

The 100-band estimate is eigh(100) measured + rest(30) · (100/30)^p (the Bloch sums also grow
with the number of R vectors of the fit, not modelled), times 10⁸ k-points, divided by the
workers (the chunks are independent; the fold and the chunk log cost < 1 % per chunk).

Run:  .venv/bin/python benchmarks/bench_cluster_cost.py [--mesh 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import FERMI, load, wannier_model

from tbspin.sampling import randomized_mesh, shc_kernel

K_TOTAL = 1e8
WORKERS = (1, 64, 1024)


def eigh_per_k(n: int, batch: int = 256, repeat: int = 3) -> float:
    """Seconds per k-point of batched eigh of n×n complex Hermitian matrices (best of repeat)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(batch, n, n)) + 1j * rng.normal(size=(batch, n, n))
    h = a + np.conj(np.swapaxes(a, 1, 2))
    best = np.inf
    for _ in range(repeat):
        t = time.process_time()
        np.linalg.eigh(h)
        best = min(best, time.process_time() - t)
    return best / batch


def kernel_per_k(name: str, mesh: int, repeat: int, tensor: bool) -> float:
    """Seconds per k-point of the proper spin Hall kernel of fit ``name`` on a tol run's path."""
    from tbspin import compute

    model = wannier_model(name)
    ef = np.array([FERMI[name]])
    if tensor:
        run = lambda: compute(model, "shc", efermi=ef, formula="proper", tol=0.5,  # noqa: E731
                              mesh=mesh, workers=1, seed=1, budget_k=4 * mesh**3 * 16,
                              progress=False)
        best = np.inf
        for _ in range(repeat):
            t = time.process_time()
            r = run()
            best = min(best, (time.process_time() - t) / r.extras["sampling"]["n_k"])
        return best
    kern = shc_kernel(model, spin="z", current="x", efield="y", formula="proper")
    best = np.inf
    for _ in range(repeat):
        t = time.process_time()
        r = randomized_mesh(kern, model, ef, mesh=mesh, n_shifts=2, seed=1, workers=1)
        best = min(best, (time.process_time() - t) / r.n_k)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mesh", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None, help="append the result to this JSON-lines file")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    eigh = {n: eigh_per_k(n, repeat=args.repeat) for n in (18, 30, 100)}
    total = {name: kernel_per_k(name, args.mesh, args.repeat, tensor=False)
             for name in ("pt", "bi2se3")}
    tens = {name: kernel_per_k(name, max(args.mesh // 2, 4), 1, tensor=True)
            for name in ("pt", "bi2se3")}
    rest = {18: total["pt"] - eigh[18], 30: total["bi2se3"] - eigh[30]}
    p = float(np.log(rest[30] / rest[18]) / np.log(30 / 18))
    t100 = eigh[100] + rest[30] * (100 / 30) ** p
    row = dict(mesh=args.mesh, eigh_per_k=eigh, single_per_k=total, tensor_per_k=tens,
               rest_exponent=p, per_k_100=t100, load=load(),
               hours={n: K_TOTAL * t100 / n / 3600 for n in WORKERS})
    print("eigh per k: " + ", ".join(f"N={n}: {t * 1e6:.1f} us" for n, t in eigh.items()))
    for name, n in (("pt", 18), ("bi2se3", 30)):
        print(f"{name} ({n} bands) proper sigma^z_xy: {total[name] * 1e6:.1f} us per k "
              f"(eigh {eigh[n] * 1e6:.1f} us); whole proper tensor {tens[name] * 1e6:.1f} us per k")
    print(f"rest exponent p = {p:.2f}; 100 bands: {t100 * 1e6:.0f} us per k")
    for n in WORKERS:
        print(f"  1e8 k-points on {n:5d} workers: {K_TOTAL * t100 / n / 3600:8.2f} h")
    print(f"(load {row['load']})")
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
