"""Issue 11: do numpy/LAPACK release the GIL for our kernels? Threads vs processes; (e) dask.

1. GIL probe: a worker thread runs one batched call (4000 18×18 complex matrices) while the main
   thread runs a pure-Python loop; the longest stall of that loop tells whether the call held the
   GIL (stall ≈ call time) or released it (stall ≈ a scheduler tick). Independent of free cores.
2. Scaling of a chunk kernel (batched 18×18 ``eigh`` + two ``matmul``: U† H U, the shape of the
   Pt kernel) over 16 chunks: serial, threads and processes on ``--workers`` workers.
3. (e) The Pt conventional σ^z_xy prototype job (FFT + executor, ``--n``³) on a
   ``dask.distributed.LocalCluster`` (processes, one thread each, loopback) with 1 and 2 workers,
   against the same job serial; the results must be identical.

The machine is shared: each row prints the 1-minute load average; speed-ups need idle cores.

Run:  .venv/bin/python benchmarks/bench_parallel.py [--workers 2] [--n 21] [--repeat 3]
"""

from __future__ import annotations

import argparse
import threading
import time
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
import scipy.fft
from common import FERMI, load, median_time, wannier_model
from prototype_engine import make_payload, prototype_conductivity

from tbspin.engine.executor import default_workers, run_chunks

N_ORB, BATCH = 18, 4000


def hermitian_batch(n_chunks: int, batch: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_chunks):
        A = rng.normal(size=(batch, N_ORB, N_ORB)) + 1j * rng.normal(size=(batch, N_ORB, N_ORB))
        out.append(A + A.conj().swapaxes(-1, -2))
    return out


def eigh_kernel(Hs: list[np.ndarray], c: int) -> float:
    """Batched eigh and the velocity-like sandwich U† H U of chunk c."""
    w, U = np.linalg.eigh(Hs[c])
    V = U.conj().swapaxes(-1, -2) @ Hs[c] @ U
    return float(w.sum() + np.abs(V).sum())


def gil_probe(fn, label: str) -> None:
    done, took = threading.Event(), []

    def work() -> None:
        t0 = time.perf_counter()
        fn()
        took.append(time.perf_counter() - t0)
        done.set()

    th = threading.Thread(target=work)
    gaps, last = [], time.perf_counter()
    th.start()
    while not done.is_set():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    th.join()
    verdict = "released" if max(gaps) < 0.5 * took[0] else "HELD"
    print(f"  {label:34s} call {1e3 * took[0]:7.1f} ms, longest stall {1e3 * max(gaps):6.1f} ms "
          f"-> GIL {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--n", type=int, default=21)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()

    print(f"1. GIL probe ({BATCH} x {N_ORB}x{N_ORB} complex), load {load()}")
    (A,) = hermitian_batch(1, BATCH)
    B = A.copy()
    gil_probe(lambda: np.linalg.eigh(A), "numpy.linalg.eigh")
    gil_probe(lambda: A @ B, "matmul")
    gil_probe(lambda: np.exp(A), "exp")
    gil_probe(lambda: np.einsum("kmn,knm->km", A, B), "einsum (kmn,knm->km)")
    gil_probe(lambda: (A * B).imag.sum(axis=2), "elementwise * + sum")
    gil_probe(lambda: scipy.fft.ifft(A, axis=0), "scipy.fft.ifft")

    Hs = hermitian_batch(16, 1000)
    print(f"2. chunk kernel eigh + U†HU, 16 chunks x 1000 k, {args.workers} workers, medians of "
          f"{args.repeat}")
    t_serial, ref = median_time(lambda: run_chunks(eigh_kernel, 16, payload=Hs, workers=1),
                                args.repeat)
    print(f"  serial     {t_serial:7.2f} s  load {load()}")
    for backend in ("threads", "processes"):
        t, out = median_time(lambda b=backend: run_chunks(eigh_kernel, 16, payload=Hs,
                                                          workers=args.workers, backend=b),
                             args.repeat)
        print(f"  {backend:10s} {t:7.2f} s  speed-up {t_serial / t:4.2f}  identical "
              f"{out == ref}  load {load()}")

    if args.no_dask:
        return
    import distributed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = wannier_model("pt")
        payload = make_payload(model, what="conventional", mesh=args.n,
                               efermi=FERMI["pt"] + np.linspace(-0.4, 0.4, 81), eta=0.05)
        print(f"3. (e) dask LocalCluster, Pt conventional sigma^z_xy {args.n}^3, 81 E_F")
        t_ser, serial = median_time(lambda: prototype_conductivity(payload, workers=1), args.repeat)
        print(f"  serial (no dask)   {t_ser:7.2f} s  load {load()}")
        for nw in (1, 2):
            with distributed.LocalCluster(n_workers=nw, threads_per_worker=1, processes=True,
                                          host="127.0.0.1", dashboard_address=None) as cluster, \
                    distributed.Client(cluster) as client:
                t, res = median_time(lambda c=client: prototype_conductivity(payload, client=c),
                                     args.repeat)
            print(f"  dask {nw} worker(s)   {t:7.2f} s  speed-up vs serial {t_ser / t:4.2f}  "
                  f"identical to serial {np.array_equal(res, serial)}  load {load()}")


if __name__ == "__main__":
    main()
