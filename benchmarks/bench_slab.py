"""Benchmark of slab band structures (issue 5 cost targets).

1. 40-layer slab of the 4-band Bi2Se3 lattice model (tbspin.models.bi2se3, 160 bands): bands
   and top/bottom surface weights along a 200-point surface k-path (target: a few seconds).
2. 10-QL slab of the imported 30-WF Bi2Se3 Wannier model (../shared/data/bi2se3_wanniertools,
   300 bands, 95 in-plane hopping vectors): build + 200-point path (target: < 1 minute).
3. The same 4-band path through Kwant (kwant.wraparound(keep=0) + kwant.physics.Bands on
   straight cuts) for comparison of the two forms.

Note: OpenBLAS threads oversubscribed on a loaded 2-core machine made a 300×300 eigh 400×
slower in our runs; time with ``OPENBLAS_NUM_THREADS=1`` (set here before numpy loads unless
already set).

Run:  .venv/bin/python benchmarks/bench_slab.py [--layers 40] [--npoints 200] [--wannier-layers 10]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from tbspin.models import bi2se3  # noqa: E402
from tbspin.slab import kwant_bands, make_slab, slab_bands, surface_gap  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bi2se3_wanniertools"
LATTICE = [[-2.069, -3.583614, 0.0], [2.069, -3.583614, 0.0], [0.0, 2.389075, 9.546667]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=40)
    ap.add_argument("--npoints", type=int, default=200)
    ap.add_argument("--wannier-layers", type=int, default=10)
    args = ap.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bulk = bi2se3()
    t = time.perf_counter()
    slab = make_slab(bulk, direction=2, layers=args.layers)
    t_build = time.perf_counter() - t
    kp = slab.kpath(npoints=args.npoints)
    t = time.perf_counter()
    E, w = slab_bands(slab, kp, 5)
    t_bands = time.perf_counter() - t
    g = surface_gap(slab, n_surface_layers=5)
    print(f"[4-band] {args.layers} layers ({slab.n_orbitals} bands), {len(kp.k)} k: "
          f"build {t_build:.3f} s, bands+weights {t_bands:.2f} s; "
          f"Γ gap {g.gap * 1e3:.4f} meV at {g.dirac_energy:.5f} eV")

    t = time.perf_counter()
    line = np.linspace(-np.pi, np.pi, args.npoints)
    kwant_bands(slab, line, other=0.0)
    print(f"[4-band] Kwant wraparound(keep)+Bands, {args.npoints} k on one cut: "
          f"{time.perf_counter() - t:.2f} s (includes Kwant fill + finalize)")

    archive = DATA / "wannier90_hr.dat.tar.gz"
    if not archive.exists():
        print(f"[wannier] skipped: {archive} not found")
        return
    from tbspin.io.wannier90 import read_wannier90

    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = read_wannier90(Path(tmp) / "wannier90_hr.dat", lattice=LATTICE,
                                   spin_order="block")
        t_read = time.perf_counter() - t
    t = time.perf_counter()
    ws = make_slab(model, direction=2, layers=args.wannier_layers)
    t_build = time.perf_counter() - t
    kp = ws.kpath(npoints=args.npoints)
    t = time.perf_counter()
    E, w = slab_bands(ws, kp, 1)
    t_bands = time.perf_counter() - t
    g = surface_gap(ws, n_surface_layers=1, n_occupied=18)
    print(f"[wannier] {args.wannier_layers} QL ({ws.n_orbitals} bands, {len(ws.model.R)} R): "
          f"read {t_read:.2f} s, build {t_build:.2f} s, {len(kp.k)}-k bands+weights "
          f"{t_bands:.2f} s; Dirac point {g.dirac_energy:.4f} eV in bulk gap "
          f"{g.bulk_edges.round(4).tolist()}, weights {g.weights.sum(axis=1).round(3).tolist()}")


if __name__ == "__main__":
    main()
