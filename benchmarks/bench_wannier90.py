"""Benchmark: load a large synthetic Wannier90 ``_hr.dat`` (target: 30 MB in < 3 s), and the Bloch
sums of real ``_hr.dat`` files on whole uniform meshes: direct sum vs FFT (tbspin.bz.fourier).

The file is written in Wannier90's own layout (``5I5, 2F12.6``) into a temporary directory:
``num_wann`` spinor-like orbitals on ``nrpts`` Hermitian-paired R vectors, sized so the file is
about ``--mb`` megabytes. It then times :func:`tbspin.io.wannier90.read_hr` (parsing only) and
:func:`tbspin.io.wannier90.read_wannier90` (parsing, Hermiticity check, model construction)
and evaluates H(k) once as a sanity check.

Bloch sums (issue 11): H(k) and ∂H/∂k_x, ∂H/∂k_y (what a σ_xy kernel needs) over every k-point of
Pt 21³ and Bi₂Se₃ 30³ (real files of ../shared/data), chunk by chunk: the direct sum
``LatticeModel.hamiltonian_and_derivatives`` vs ``tbspin.bz.fourier.MeshFourier`` (medians of
``--repeat``, one BLAS thread), with the largest difference relative to max |H|, and the bare
batched eigh of the same H(k) for scale.

Usage::

    python benchmarks/bench_wannier90.py [--mb 30] [--num-wann 30] [--repeat 3] [--no-fft]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import data_folder, load, median_time, wannier_model

import tbspin
from tbspin.bz.fourier import MeshFourier
from tbspin.io.wannier90 import read_hr, read_wannier90


def write_synthetic_hr(path: Path, num_wann: int, target_mb: float, seed: int = 0) -> int:
    """Write a Hermitian synthetic ``_hr.dat`` of about ``target_mb`` MB; return nrpts."""
    line_bytes = 5 * 5 + 2 * 12 + 1
    nrpts = max(1, int(target_mb * 1e6 / (line_bytes * num_wann**2)))
    nrpts += 1 - nrpts % 2  # odd: R = 0 plus pairs ±R
    half = (nrpts - 1) // 2
    rng = np.random.default_rng(seed)
    # distinct R vectors on a box, paired with -R
    span = int(np.ceil(half ** (1 / 3))) + 1
    grid = np.stack(np.meshgrid(*[np.arange(-span, span + 1)] * 3, indexing="ij"),
                    -1).reshape(-1, 3)
    positive = grid[(grid[:, 0] > 0) | ((grid[:, 0] == 0) & (grid[:, 1] > 0))
                    | ((grid[:, 0] == 0) & (grid[:, 1] == 0) & (grid[:, 2] > 0))][:half]
    R = np.concatenate([-positive[::-1], np.zeros((1, 3), int), positive])
    n = num_wann
    Hp = rng.normal(size=(half, n, n)) + 1j * rng.normal(size=(half, n, n))
    H0 = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    H = np.concatenate([Hp[::-1].conj().transpose(0, 2, 1), (H0 + H0.conj().T)[None], Hp])
    H = np.round(H, 6)  # what F12.6 keeps; keeps the file exactly Hermitian
    m, k = np.meshgrid(np.arange(n), np.arange(n), indexing="xy")
    m, k = m.ravel(), k.ravel()
    rows = np.column_stack([np.repeat(R, n * n, axis=0), np.tile(m + 1, nrpts),
                            np.tile(k + 1, nrpts), H[:, m, k].real.ravel(),
                            H[:, m, k].imag.ravel()])
    weights = np.ones(nrpts, int)
    with path.open("w") as fh:
        fh.write(" synthetic benchmark file\n")
        fh.write(f"{n:12d}\n{nrpts:12d}\n")
        for i in range(0, nrpts, 15):
            fh.write("".join(f"{w:5d}" for w in weights[i:i + 15]) + "\n")
        fmt = "%5d%5d%5d%5d%5d%12.6f%12.6f\n"
        chunk = 100_000
        for s in range(0, len(rows), chunk):
            block = rows[s:s + chunk]
            fh.write((fmt * len(block)) % tuple(block.ravel().tolist()))
    return nrpts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=30.0, help="target file size (MB)")
    ap.add_argument("--num-wann", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-fft", action="store_true", help="skip the Bloch-sum comparison")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_hr.dat"
        t0 = time.perf_counter()
        nrpts = write_synthetic_hr(path, args.num_wann, args.mb)
        size = path.stat().st_size / 1e6
        print(f"wrote {path.name}: {size:.1f} MB, num_wann={args.num_wann}, nrpts={nrpts} "
              f"({time.perf_counter() - t0:.1f} s)")
        lat = np.diag([4.0, 4.5, 5.0])
        best_parse = best_model = np.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            data = read_hr(path)
            best_parse = min(best_parse, time.perf_counter() - t0)
            t0 = time.perf_counter()
            model = read_wannier90(path, lattice=lat, positions=np.zeros((args.num_wann, 3)))
            best_model = min(best_model, time.perf_counter() - t0)
        assert data.H.shape == (nrpts, args.num_wann, args.num_wann)
        e = np.linalg.eigvalsh(model.hamiltonian(np.zeros(3)))
        print(f"read_hr         best of {args.repeat}: {best_parse:.2f} s "
              f"({size / best_parse:.0f} MB/s)")
        print(f"read_wannier90  best of {args.repeat}: {best_model:.2f} s (target < 3 s for 30 MB)")
        print(f"H(Γ) eigenvalue range: {e.min():.3f} .. {e.max():.3f} eV")
    if not args.no_fft:
        bloch_sums(args.repeat)


def bloch_sums(repeat: int) -> None:
    """Direct vs FFT Bloch sums of H, ∂_x H, ∂_y H on whole meshes of real Wannier models."""
    if data_folder() is None:
        print("Bloch sums: skipped, the shared data folder is absent")
        return
    print(f"{'model':8s} {'mesh':>5s} {'direct (s)':>10s} {'FFT (s)':>8s} {'speed-up':>8s} "
          f"{'eigh (s)':>8s} {'max rel diff':>12s} load")
    for name, n in (("pt", 21), ("bi2se3", 30)):
        _bloch_row(name, n, repeat)


def _bloch_row(name: str, n: int, repeat: int) -> None:
    model = wannier_model(name)
    mesh = tbspin.make_mesh(model, n)
    plan = MeshFourier(model, mesh, (0, 1))
    cs = plan.chunk_size()
    starts = range(0, mesh.size, cs)
    t_dir, _ = median_time(lambda: [model.hamiltonian_and_derivatives(
        mesh.cartesian(model, s, s + cs), (0, 1)) for s in starts], repeat)
    t_fft, _ = median_time(lambda: [plan.block(s, min(s + cs, mesh.size)) for s in starts], repeat)
    Hs = [plan.block(s, min(s + cs, mesh.size))[1] for s in starts]
    t_eigh, _ = median_time(lambda: [np.linalg.eigh(H) for H in Hs], repeat)
    worst = 0.0
    for s in starts[:: max(1, len(starts) // 8)]:
        k, H, dH = plan.block(s, min(s + cs, mesh.size))
        H0, dH0 = model.hamiltonian_and_derivatives(k, (0, 1))
        worst = max(worst, np.abs(H - H0).max(), np.abs(dH - dH0).max()) / np.abs(H0).max()
    print(f"{name:8s} {n:4d}³ {t_dir:10.2f} {t_fft:8.2f} {t_dir / t_fft:8.1f} {t_eigh:8.2f} "
          f"{worst:12.1e} {load()}", flush=True)


if __name__ == "__main__":
    main()
