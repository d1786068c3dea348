"""Benchmark of the core evaluator (issue: kubo <= 2x bare eigh, fd <= 1.5 (1 + 2 ndir) x bare eigh).

Model: the regularized 4-band Bi2Se3 model of the catalogue (``--model bi2se3``, default) or a
generic 4-band cubic TI with an extra τ_y term (``--model ti4``); Kramers-degenerate at m = 0,
non-degenerate for m ≠ 0; on an n³ mesh (default 60³). Prints the time of a bare
batched ``numpy.linalg.eigh`` of H(k) on the mesh, of tbspin's proper spin Hall conductivity with
the kubo and fd Berry connections, their ratios to bare eigh, and peak memory (tracemalloc for
numpy allocations, ru_maxrss for the process).

Run:  .venv/bin/python benchmarks/bench_core.py [--n 60] [--magnetization 0.001] [--model ti4]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

import tbspin
from tbspin import LatticeModel


def ti_model(mag: float) -> LatticeModel:
    """4-band cubic TI: H = (M − t Σ cos k_i a_i) τ_z + λ Σ sin(k_i a_i) τ_x σ_i + η sin(k_x) τ_y."""
    s0, sx = np.eye(2), np.array([[0, 1], [1, 0]])
    sy, sz = np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])
    g0 = np.kron(sz, s0)
    gs = [np.kron(sx, s) for s in (sx, sy, sz)]
    gy = np.kron(sy, s0)
    hop = {(0, 0, 0): 2.0 * g0}
    for i in range(3):
        e = np.zeros(3, int)
        e[i] = 1
        extra = -0.25j * gy if i == 0 else 0
        hop[tuple(e)] = -0.5 * g0 - 0.3j * gs[i] + extra
        hop[tuple(-e)] = hop[tuple(e)].conj().T
    ops = {"sx": np.kron(s0, sx), "sy": np.kron(s0, sy), "sz": np.kron(s0, sz)}
    m = LatticeModel(lattice=np.diag([4.0, 4.0, 4.0]), hoppings=hop, operators=ops, name="ti4")
    return m.with_zeeman([0, 0, mag]) if mag else m


def timed(fn, repeat=2):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--magnetization", type=float, default=0.0, help="m_z in eV (0: Kramers pairs)")
    p.add_argument("--model", choices=["bi2se3", "ti4"], default="bi2se3")
    args = p.parse_args()
    if args.model == "bi2se3":
        from tbspin.models import bi2se3

        model = bi2se3(magnetization=(0.0, 0.0, args.magnetization))
    else:
        model = ti_model(args.magnetization)
    mesh = tbspin.make_mesh(model, args.n)
    k = mesh.cartesian(model)
    H = model.hamiltonian(k)
    t_eigh, _ = timed(lambda: np.linalg.eigh(H), repeat=4)
    t_ham, _ = timed(lambda: model.hamiltonian_and_derivatives(k, (2, 0)))
    print(f"model {model.name}, m_z = {args.magnetization} eV, mesh {args.n}^3 = {mesh.size} k-points")
    print(f"bare batched eigh of H(k):            {t_eigh:8.3f} s")
    print(f"H(k) and 2 derivatives (Fourier sum): {t_ham:8.3f} s")
    rows = []
    for method in ("kubo", "fd"):
        tracemalloc.start()
        t, r = timed(lambda method=method: tbspin.spin_hall(
            model, efermi=np.linspace(-0.5, 0.5, 101), mesh=args.n, spin="y", current="z",
            field="x", method=method), repeat=2)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ndir = 2
        target = 2.0 if method == "kubo" else 1.5 * (1 + 2 * ndir)
        rows.append((method, t, t / t_eigh, target, peak / 2**20, r.values[50]))
    print(f"{'method':6s} {'time (s)':>9s} {'x eigh':>8s} {'target':>7s} {'peak MB':>8s}  sigma^y_zx(0)")
    for method, t, ratio, target, peak, val in rows:
        print(f"{method:6s} {t:9.3f} {ratio:8.2f} {target:7.1f} {peak:8.1f}  {val:.6g} (hbar/2e) S/m")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
