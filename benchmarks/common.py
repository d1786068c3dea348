"""Shared helpers of the benchmark scripts: data files, models, timing (not part of tbspin)."""

from __future__ import annotations

import os

# one BLAS thread per process unless the caller decided otherwise: parallelism comes from the
# executor's workers, and oversubscribed OpenBLAS threads on a shared 2-core machine are erratic
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import functools  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tbspin  # noqa: E402
from tbspin.io.shared_data import find_shared_data, require_shared_data  # noqa: E402

LATTICES = {  # lattice vectors (Å) from shared/data/README.md
    "pt": [[0.0, 1.96195, 1.96195], [1.96195, 0.0, 1.96195], [1.96195, 1.96195, 0.0]],
    "fe": [[1.435, 1.435, -1.435], [-1.435, 1.435, 1.435], [1.435, -1.435, 1.435]],
    "bi2se3": [[-2.069, -3.583614, 0.0], [2.069, -3.583614, 0.0], [0.0, 2.389075, 9.546667]],
}
FERMI = {"pt": 11.3158, "fe": 9.1839, "bi2se3": 4.4195}  # eV, shared/data/README.md


def data_folder() -> Path | None:
    """The shared data folder (:mod:`tbspin.io.shared_data`: ``$TBSPIN_SHARED_DATA``, else
    ``../shared/data`` next to the repository or its worktree), None when absent."""
    return find_shared_data()


@functools.cache
def hr_file(name: str) -> Path:
    """Unpack ``<name>_wanniertools/wannier90_hr.dat.tar.gz`` once into a temporary folder."""
    folder = require_shared_data(f"{name}_wanniertools", required=("wannier90_hr.dat.tar.gz",))
    dest = Path(tempfile.mkdtemp(prefix=f"tbspin-bench-{name}-"))
    with tarfile.open(folder / f"{name}_wanniertools" / "wannier90_hr.dat.tar.gz") as tar:
        tar.extractall(dest, filter="data")
    hr = next(dest.rglob("*_hr.dat"))
    # the .win (projections: inversion parities) next to the _hr.dat; not the .wout, whose
    # centres would change the Bloch phases of the model every earlier number was measured on
    for side in (folder / f"{name}_wanniertools").glob("wannier90.win"):
        shutil.copy(side, hr.parent / side.name)
    return hr


def wannier_model(name: str) -> tbspin.LatticeModel:
    """The real Wannier90 model ``name`` ("pt", "fe", "bi2se3"), spinors in block order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tbspin.LatticeModel.from_wannier90(hr_file(name), spin_order="block",
                                                  lattice=LATTICES[name])


def median_time(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def load() -> str:
    """The 1-minute load average (the machine is shared: read the numbers with it)."""
    return f"{os.getloadavg()[0]:.1f}"


def eigh_floor_runner(model: tbspin.LatticeModel, mesh: int, workers: int = 1
                      ) -> Callable[[], object]:
    """A call that runs bare batched numpy.linalg.eigh on every H(k) of the mesh (chunked; H
    from the FFT plan, built here and not timed), on ``workers`` threads of the executor."""
    from tbspin.bz.fourier import MeshFourier
    from tbspin.engine.executor import run_chunks

    plan = MeshFourier(model, tbspin.make_mesh(model, mesh), ())
    cs = plan.chunk_size()
    Hs = [plan.block(c * cs, min((c + 1) * cs, plan.size))[1] for c in range(plan.n_chunks(cs))]
    if workers == 1:
        return lambda: [np.linalg.eigh(H) for H in Hs]
    return lambda: run_chunks(_eigh_task, len(Hs), payload=Hs, workers=workers, backend="threads")


def paired_times(calls: dict[str, Callable[[], object]], repeat: int = 3,
                 cpu: dict[str, list[float]] | None = None
                 ) -> tuple[dict[str, list[float]], dict[str, object]]:
    """Wall times of every call, interleaved: each round runs all calls once, in order.

    On a shared VM whose speed drifts by tens of percent within minutes, a ratio of two
    calls is best taken within a round (the median of the per-round ratios), not as the ratio
    of two medians timed minutes apart. Returns the times per call and its last result.
    ``cpu``: a dict that receives the CPU seconds of this process per call as well (with
    workers = 1 every chunk runs in this process: the measure other jobs on an oversubscribed
    machine disturb least).
    """
    times: dict[str, list[float]] = {name: [] for name in calls}
    out: dict[str, object] = {}
    for _ in range(repeat):
        for name, fn in calls.items():
            t0, c0 = time.perf_counter(), time.process_time()
            out[name] = fn()
            times[name].append(time.perf_counter() - t0)
            if cpu is not None:
                cpu.setdefault(name, []).append(time.process_time() - c0)
    return times, out


def median_ratio(times: dict[str, list[float]], num: str, den: str) -> float:
    """Median over rounds of times[num] / times[den] (:func:`paired_times`)."""
    return statistics.median(a / b for a, b in zip(times[num], times[den], strict=True))


def _eigh_task(Hs: list, c: int) -> float:
    np.linalg.eigh(Hs[c])
    return 0.0


#: the headline proper component (spin, current, field) of the table's insulators
PROPER_HEADLINE = {"bi2se3": ("y", "z", "x"), "wse2": ("z", "x", "y")}


@functools.cache
def symmetrized(key: str) -> tuple[object, tbspin.LatticeModel, object]:
    """(material declaration, symmetrized model, its space group) as the materials table builds
    them (:func:`tbspin.reproduce.materials.symmetry_step`), once per process."""
    from tbspin.reproduce._materials_decl import MATERIALS
    from tbspin.reproduce.materials import data_folder as table_data
    from tbspin.reproduce.materials import load_material, symmetry_step

    mat = MATERIALS[key]
    model, _ = load_material(mat, table_data(None))
    model, group, _ = symmetry_step(mat, model)
    return mat, model, group


def symmetrized_proper(key: str = "bi2se3") -> tuple[object, tbspin.LatticeModel, object]:
    """(material declaration, symmetrized model, proper kernel of its headline component) as the
    materials table builds them (Bi₂Se₃: R-3m + T, σ^y_zx; 1T′-WSe₂: P2₁/m + T, σ^z_xy; E_F =
    ``mat.efermi``, in the gap)."""
    from tbspin.sampling import shc_kernel

    mat, model, _ = symmetrized(key)
    spin, current, field = PROPER_HEADLINE[key]
    return mat, model, shc_kernel(model, spin=spin, current=current, efield=field,
                                  formula="proper")
