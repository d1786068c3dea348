"""One engine run over a *family* of uniform meshes that differ by their shifts and possibly
their sizes (the M randomly shifted sub-meshes of the default error bar, which tile the
requested mesh: :mod:`tbspin.sampling.submesh`).

    I_m(E_F) = (1 / (V_cell N_k)) Σ_{k ∈ mesh m} Σ_n f(ε_nk − E_F) X_nk,     m = 1 … M

Running the M meshes as M separate :func:`tbspin.engine.integrate.integrate` calls paid per mesh
what one mesh pays once: the FFT table of the hoppings (tens of MB for ab-initio fits, rebuilt
per shift), the plane sums (which read that table once per group of planes), the executor and
its chunk window, and a kernel call per mesh even when a mesh is much smaller than a chunk. Here
the meshes are one point set (:class:`FamilyPoints`):

* *units*: each mesh is cut as a plain run cuts it (chunks of ``chunk_size`` points, whole FFT
  lines), and with 3D FFT sums on a shared table additionally at plane boundaries (a unit
  reads one plane); a mesh's units are whole lines of its own length when the chunk holds one;
* *order*: then plane-major within each outer size, (outer size, plane, mesh, start), so the
  plane sums of the meshes of one outer size computed in one product
  (:class:`tbspin.bz.family.MeshFamily`) are used while cached; otherwise mesh-major (a member
  with a table of its own drops it after its last unit);
* *jobs*: consecutive units packed up to ``chunk_size`` points, one kernel call per job (one
  eigensystem per k: the kernel does not see where a unit ends), one Fermi sum
  (:func:`tbspin.engine.occupation.fermi_sum`) per unit;
* *fold*: per mesh, its units' sums in the order of its points, the serial fold of a plain run
  of that mesh on the same units. Results arrive in job order on every backend
  (:class:`tbspin.engine.executor.ChunkPool`): the same bits for any worker count.

Against M separate runs the sums agree to rounding (FFT products taken in another order,
kernel calls on other batches): ≤ 1e-12 relative, tested in ``tests/test_family.py``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tbspin.bands.gauge_tally import GaugeRun, map_counted
from tbspin.bands.integrands import with_band_cutoff
from tbspin.bz.family import MeshFamily, member_sizes
from tbspin.bz.fourier import displaced_mesh, whole_lines
from tbspin.bz.kmesh import Mesh
from tbspin.engine.executor import ChunkPool, one_blas_thread
from tbspin.engine.integrate import _progress_bar, plan_recipes
from tbspin.engine.occupation import fermi_sum
from tbspin.engine.points import Batch, Kernel, LockedPoints, evaluate_batch
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.types import ComplexArray, FloatArray

__all__ = ["FamilyPoints", "FamilyTask", "family_plans", "family_jobs", "integrate_family"]

#: one unit of a job: (mesh m, first point, stop) in the mesh's point order
Segment = tuple[int, int, int]
#: FFT plans of a family: one for "kubo" (H and ∂H), 1 + 2·ndir (H only) for "fd"
FamilyPlans = tuple[MeshFamily, ...]


def family_plans(model: LatticeModel, kernel: Kernel,
                 n: Sequence[int] | Sequence[Sequence[int]], shifts: FloatArray,
                 fft: str = "auto") -> FamilyPlans | None:
    """FFT plans of the family (the plans :func:`tbspin.engine.integrate.plan_recipes` asks
    for, one :class:`~tbspin.bz.family.MeshFamily` each), or None for direct Bloch sums (with
    ``fft="auto"``: unless the cost rule prefers FFT sums for every member size)."""
    u = np.asarray(shifts, dtype=float)
    sizes = member_sizes(n, len(u), u.shape[1])
    meshes = {s: Mesh(n=s, shift=(0.0,) * len(s)) for s in sorted(set(sizes))}
    decisions = [plan_recipes(model, kernel, mesh, fft) for mesh in meshes.values()]
    if any(r is None for r in decisions):
        return None
    plans = []
    for dk, dirs in decisions[0]:  # type: ignore[union-attr]
        moved = np.zeros_like(u) if dk is None else np.array(
            [displaced_mesh(model, meshes[s], dk).shift for s in sizes])
        plans.append(MeshFamily(model, sizes, u + moved, dirs))
    return tuple(plans)


def family_jobs(sizes: Sequence[tuple[int, ...]], chunk_size: int, planes: bool
                ) -> tuple[tuple[Segment, ...], ...]:
    """Units of every mesh (``sizes``: one per mesh), ordered and packed into jobs of
    ≤ ``chunk_size`` points (module docstring; a unit is a whole number of a mesh's lines when
    ``chunk_size`` holds one); ``planes``: also cut at plane boundaries and order plane-major
    per outer size (3D FFT)."""
    units: list[tuple[tuple[int, ...], int, int, int, int]] = []  # (outer, plane, mesh, lo, hi)
    for m, n in enumerate(sizes):
        size = int(np.prod(n))
        plane = int(np.prod(n[-2:])) if planes else size
        step = whole_lines(chunk_size, n[-1]) if chunk_size >= n[-1] else chunk_size
        for start in range(0, size, step):
            stop = min(start + step, size)
            cuts = [start] + list(range((start // plane + 1) * plane, stop, plane)) + [stop]
            for lo, hi in zip(cuts[:-1], cuts[1:]):
                units.append((tuple(n[:-2]) if planes else (), lo // plane if planes else 0,
                              m, lo, hi))
    if planes:
        units.sort()
    jobs: list[tuple[Segment, ...]] = []
    job: list[Segment] = []
    points = 0
    for _, _, m, lo, hi in units:
        if job and points + hi - lo > chunk_size:
            jobs.append(tuple(job))
            job, points = [], 0
        job.append((m, lo, hi))
        points += hi - lo
    jobs.append(tuple(job))
    return tuple(jobs)


@dataclasses.dataclass(frozen=True, eq=False)
class FamilyPoints(LockedPoints):
    """The points of M uniform meshes (``meshes``, any sizes) in ``jobs`` of segments (pure,
    picklable: ``batch(j)`` depends on j alone), with FFT Bloch sums from ``fourier``."""

    model: LatticeModel
    meshes: tuple[Mesh, ...]
    jobs: tuple[tuple[Segment, ...], ...]
    fourier: FamilyPlans | None = None
    _left: list[int] = dataclasses.field(init=False, repr=False, compare=False)
    _lock: threading.Lock = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        left = [0] * len(self.meshes)
        for job in self.jobs:
            for m, _, _ in job:
                left[m] += 1
        object.__setattr__(self, "_left", left)
        object.__setattr__(self, "_lock", threading.Lock())

    @property
    def n_chunks(self) -> int:
        return len(self.jobs)

    def batch(self, j: int) -> Batch:
        """The job's points in segment order (k and, with FFT plans, H and ∂H)."""
        segs = self.jobs[j]
        if self.fourier is None:
            return Batch(np.concatenate([self.meshes[m].cartesian(self.model, lo, hi)
                                         for m, lo, hi in segs]))
        blocks = [[plan.members[m].block(lo, hi) for m, lo, hi in segs] for plan in self.fourier]
        with self._lock:  # a member with a table of its own drops it after its last unit
            for m, _, _ in segs:
                self._left[m] -= 1
                if not self._left[m]:
                    for plan in self.fourier:
                        plan.release(m)
        k = np.concatenate([b[0] for b in blocks[0]])
        H = np.concatenate([b[1] for plan in blocks for b in plan])  # fd: H at k, then k ± δ e_a
        dH: ComplexArray = np.concatenate([b[2] for b in blocks[0]], axis=1)
        return Batch(k, (H, dH))


@dataclasses.dataclass(frozen=True, eq=False)
class FamilyTask:
    """``task(j) -> (j, [Σ f X of each segment of job j])`` (pure, picklable)."""

    kernel: Kernel
    points: FamilyPoints
    efermi: FloatArray
    temperature: float

    def __call__(self, j: int) -> tuple[int, list[FloatArray]]:
        E, X = evaluate_batch(self.kernel, self.points.batch(j))
        occ = getattr(self.kernel, "occupations", ("sea",))
        out, pos = [], 0
        for _, lo, hi in self.points.jobs[j]:
            sl = slice(pos, pos + hi - lo)
            out.append(fermi_sum(E[sl], X[sl], self.efermi, self.temperature, occupation=occ))
            pos += hi - lo
        return j, out


@GaugeRun.wrap
def integrate_family(
    model: LatticeModel, kernel: Kernel, n: Sequence[int] | Sequence[Sequence[int]],
    shifts: FloatArray,
    efermi: FloatArray, temperature: float, *, chunk_size: int, progress: bool | None = None,
    executor: object | None = None, label: str = "", workers: int | None = None,
    backend: str = "auto", client: object | None = None, fft: str = "auto",
) -> tuple[FloatArray, dict[str, float | int]]:
    """Σ f X over each mesh ``Mesh(n_m, shifts[m])``, divided by V_cell N_k of that mesh
    (module docstring).

    Parameters
    ----------
    model : LatticeModel
    kernel : callable
        k (Nk, d) [, (H, ∂H)] → (energies, X), e.g. a :class:`tbspin.bands.integrands.Integrand`.
    n : tuple of int, or (M, p) ints
        Points per periodic direction of every mesh, or of each mesh.
    shifts : (M, p) array
        Shift of each mesh in units of its step.
    efermi : (n_E,) eV
    temperature : float (K)
    chunk_size : int
        k-points per kernel call (and per unit of a mesh; a whole number of lines with FFT).
    progress, executor, label, workers, backend, client, fft
        As for :func:`tbspin.engine.integrate.integrate`.

    Returns
    -------
    raw : (M, n_E[, C]) array
        The integral of each mesh, Å^(2−p).
    info : dict
        ``seconds``, ``n_k`` (all meshes), ``chunk_size``, ``jobs``, ``fft`` (1: FFT sums).

    Raises
    ------
    ParameterError
        For a bad ``chunk_size``, ``n``, ``shifts`` or ``fft``, or both ``executor`` and
        ``workers``/``backend``/``client``.
    """
    if executor is not None and (workers is not None or backend != "auto" or client is not None):
        raise ParameterError("give either 'executor' or 'workers'/'backend'/'client', not both")
    p = np.asarray(n).shape[-1] if np.asarray(n).ndim else 0
    u = np.asarray(shifts, dtype=float)
    if u.ndim != 2 or u.shape[1] != p or len(u) < 1:
        raise ParameterError(f"'shifts' must be an (M, {p}) array, got shape {u.shape}")
    sizes = member_sizes(n, len(u), p)
    if int(chunk_size) < 1:
        raise ParameterError(f"'chunk_size' must be a positive integer, got {chunk_size!r}")
    kernel = with_band_cutoff(kernel, efermi, temperature)
    fourier = family_plans(model, kernel, sizes, u, fft)
    meshes = tuple(Mesh(n=s, shift=tuple(float(x) for x in v)) for s, v in zip(sizes, u, strict=True))
    planes = fourier is not None and p >= 3 and fourier[0].shared
    jobs = family_jobs(sizes, int(chunk_size), planes)
    points = FamilyPoints(model, meshes, jobs, fourier)
    task = FamilyTask(kernel, points, efermi, temperature)
    todo = range(len(jobs))
    if executor is None:
        pool = ChunkPool(workers, backend, client)  # validates workers/backend/client
        if pool.backend != "serial" and (len(jobs) > 1 or client is not None):
            executor = pool
    parts: Iterable[tuple[int, list[FloatArray]]] = (
        one_blas_thread(map(task, todo)) if executor is None
        else map_counted(executor, task, todo)
    )
    t0 = time.perf_counter()
    acc: list[Any] = [0.0] * len(u)
    done = 0
    try:
        for j, sums in _progress_bar(iter(parts), progress, len(jobs), 0, label):  # type: ignore[arg-type]
            for (m, _, _), part in zip(jobs[j], sums):
                acc[m] = acc[m] + part  # 0.0 + x is x: the plain run's fold from zeros
            done += 1
    except KeyboardInterrupt:
        raise KeyboardInterrupt(
            f"interrupted after {done} of {len(jobs)} chunks (sub-meshes keep no checkpoint: "
            "repeat the call with the same seed)") from None
    points_of = np.array([mesh.size for mesh in meshes], dtype=float)
    raw = np.array(acc, dtype=float)
    raw = raw / (points_of.reshape((-1,) + (1,) * (raw.ndim - 1)) * model.cell_measure)
    info = {"seconds": time.perf_counter() - t0, "n_k": int(points_of.sum()),
            "chunk_size": int(chunk_size), "jobs": len(jobs), "fft": int(fourier is not None)}
    return raw, info

