"""Ways of choosing k-points and weights, and THE chunk evaluation of tbspin.

Every Brillouin-zone sum of tbspin — a uniform mesh (:mod:`tbspin.engine.integrate`), the randomized
shifted meshes and adaptive trees of :mod:`tbspin.sampling`, the composite meshes of the paper
reproductions — is a *point set* cut into chunks: chunk c is a :class:`Batch` of Cartesian k,
optional precomputed Bloch sums (FFT, :mod:`tbspin.bz.fourier`), optional weights and optional
group labels (the (shift, cell) of a randomized tree). One function evaluates a batch
(:func:`evaluate_batch`: the kernel, one eigensystem per k) and one folds it with the
occupation weights (:func:`sum_batch`, through :func:`tbspin.engine.occupation.fermi_sum`):

    S_c = Σ_{k ∈ c} w_k Σ_m w(ε_mk − E_F) X_mk        (per group g when the batch has groups)

The point sets here are pure and picklable (``batch(c)`` depends on c alone), so chunks run on
any executor (:class:`tbspin.engine.executor.ChunkPool`) and are folded in chunk order: the result does
not depend on the number of workers or the backend.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from tbspin.bz.fourier import MeshFourier
from tbspin.bz.kmesh import Mesh
from tbspin.engine.occupation import fermi_sum
from tbspin.model.lattice import LatticeModel
from tbspin.types import ComplexArray, FloatArray, IntArray

__all__ = ["Batch", "PointSet", "MeshPoints", "CellPoints", "WeightedPoints", "evaluate_batch",
           "sum_batch", "BatchTask"]

#: k (Nk, d) [, (H, dH)] → (energies (Nk, N), X (Nk, N) or (Nk, N, C))
Kernel = Callable[..., tuple[FloatArray, FloatArray]]
#: FFT plans of a uniform mesh: one for "kubo" (H and ∂H), 1 + 2·ndir (H only) for "fd"
FourierPlans = tuple[MeshFourier, ...]


@dataclasses.dataclass
class Batch:
    """One chunk of a point set: Cartesian ``k`` (n, d); ``hamiltonians`` (precomputed Bloch sums
    in the layout of :func:`tbspin.bands.berry.compute_connection`) or None; ``weights`` (n,) or None
    (all 1); ``groups`` (n,) ints or None (one group)."""

    k: FloatArray
    hamiltonians: tuple[ComplexArray, ComplexArray] | None = None
    weights: FloatArray | None = None
    groups: IntArray | None = None


class PointSet(Protocol):
    """Chunks of points and weights (module docstring)."""

    @property
    def n_chunks(self) -> int: ...

    def batch(self, c: int) -> Batch: ...


def evaluate_batch(kernel: Kernel, batch: Batch) -> tuple[FloatArray, FloatArray]:
    """(energies, X) of a batch: the one place a kernel meets its points (FFT or direct sums);
    a non-finite X raises (never a silent NaN)."""
    if batch.hamiltonians is None:
        E, X = kernel(batch.k)
    else:
        E, X = kernel(batch.k, batch.hamiltonians)
    if not np.all(np.isfinite(X)):
        raise FloatingPointError(
            "non-finite integrand (NaN/Inf): check for degeneracies below degen_tol or a "
            "singular gauge operator")
    return E, X


def sum_batch(kernel: Kernel, batch: Batch, efermi: FloatArray, temperature: float,
              fermi: Callable[..., FloatArray] | None = None) -> Any:
    """Weighted Fermi sums of a batch: (n_E[, C]) without groups, else (group labels, sums per
    group (G, n_E[, C])). ``fermi`` replaces :func:`tbspin.engine.occupation.fermi_sum` for the
    ungrouped sum (tests spy on the engine's sum through it)."""
    E, X = evaluate_batch(kernel, batch)
    occ = getattr(kernel, "occupations", ("sea",))
    w = batch.weights
    if batch.groups is None:
        if w is not None:
            X = X * w.reshape((-1,) + (1,) * (X.ndim - 1))
        return (fermi or fermi_sum)(E, X, efermi, temperature, occupation=occ)
    per = fermi_sum(E, X, efermi, temperature, per_point=True, occupation=occ)
    if w is not None:
        per = per * w.reshape((-1,) + (1,) * (per.ndim - 1))
    labels, inv = np.unique(batch.groups, return_inverse=True)
    out = np.zeros((len(labels),) + per.shape[1:])
    np.add.at(out, inv.reshape(-1), per)
    return labels, out


@dataclasses.dataclass(frozen=True, eq=False)
class BatchTask:
    """``task(c) -> (c, sum_batch(...))`` for one point set (pure, picklable)."""

    kernel: Kernel
    points: Any
    efermi: FloatArray
    temperature: float

    def __call__(self, c: int) -> tuple[int, Any]:
        return c, sum_batch(self.kernel, self.points.batch(c), self.efermi, self.temperature)


def _with_displaced(H: ComplexArray, dH: ComplexArray, displaced: list[ComplexArray]
                    ) -> tuple[ComplexArray, ComplexArray]:
    """The Bloch sums of a chunk in :func:`tbspin.bands.berry.compute_connection`'s layout: H at
    k, then (fd) H at k ± δ e_a in the order of ``berry.fd_points``; ∂H at k."""
    return (np.concatenate([H] + displaced) if displaced else H), dH


@dataclasses.dataclass(frozen=True, eq=False)
class MeshPoints:
    """A uniform (shifted) mesh in chunks of ``chunk_size`` points (mesh order), with FFT Bloch
    sums when ``fourier`` plans are given (:func:`tbspin.engine.integrate.fourier_plans`)."""

    model: LatticeModel
    mesh: Mesh
    chunk_size: int
    fourier: FourierPlans | None = None

    @property
    def n_chunks(self) -> int:
        return self.mesh.n_chunks(self.chunk_size)

    def batch(self, c: int) -> Batch:
        if self.fourier is None:
            return Batch(self.mesh.chunk(self.model, c, self.chunk_size))
        start = c * self.chunk_size
        stop = min(start + self.chunk_size, self.mesh.size)
        k, H, dH = self.fourier[0].block(start, stop)
        return Batch(k, _with_displaced(H, dH, [f.block(start, stop)[1]
                                                for f in self.fourier[1:]]))


@dataclasses.dataclass(frozen=True, eq=False)
class WeightedPoints:
    """Explicit reduced points (fractions of the reciprocal vectors) with weights (the composite
    meshes of :mod:`tbspin.reproduce`), in chunks of ``chunk_size``."""

    model: LatticeModel
    points: FloatArray
    weights: FloatArray
    chunk_size: int = 40_000

    @property
    def n_chunks(self) -> int:
        return max(1, -(-len(self.weights) // self.chunk_size))

    def batch(self, c: int) -> Batch:
        s = slice(c * self.chunk_size, (c + 1) * self.chunk_size)
        b = self.model.reciprocal[list(self.model.periodic)]
        return Batch(self.points[s] @ b, weights=self.weights[s])


@dataclasses.dataclass(frozen=True, eq=False)
class MeshSubsetPoints:
    """Scattered points of one uniform mesh (flat indices in mesh order, e.g. the irreducible
    wedge of a symmetric crystal) with weights, in chunks of ``chunk_size``; Bloch sums from the
    mesh's FFT plans restricted to the planes and lines that hold points
    (:meth:`tbspin.bz.fourier.MeshFourier.points`; :func:`tbspin.engine.integrate.subset_plans`)."""

    model: LatticeModel
    index: IntArray
    weights: FloatArray
    fourier: FourierPlans
    chunk_size: int = 40_000

    @property
    def n_chunks(self) -> int:
        return max(1, -(-len(self.index) // self.chunk_size))

    def batch(self, c: int) -> Batch:
        s = slice(c * self.chunk_size, (c + 1) * self.chunk_size)
        index = self.index[s]
        k, H, dH = self.fourier[0].points(index)
        return Batch(k, _with_displaced(H, dH, [f.points(index)[1] for f in self.fourier[1:]]),
                     weights=self.weights[s])


class LockedPoints:
    """Mixin of point sets that guard their per-mesh bookkeeping with ``self._lock``: pickled
    (process pools, dask workers) without the lock, with a fresh one on arrival."""

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_lock", threading.Lock())


class CellPoints(LockedPoints):
    """Leaf cells [origin, origin + size) of a randomized tree (reduced coordinates), one point
    origin + u·size per shift u; weight of a point = cell volume / V_cell; group = m·C + c for
    shift m and cell c (or m alone with ``per_cell=False``).

    Jobs: first the FFT chunks of the unrefined cells, one uniform shifted mesh per shift
    (``fft`` = (tasks' mesh points, FFT plans per shift, the cell of every mesh point (−1:
    refined away), the cells left to direct sums)), then direct-sum chunks of ``points`` points
    over (shift, cell) pairs. A shift's FFT tables (tens of MB for ab-initio models) are dropped
    after its last chunk.
    """

    def __init__(self, model: LatticeModel, origin: FloatArray, size: FloatArray,
                 shifts: FloatArray, points: int, per_cell: bool = True,
                 fft: tuple[list[MeshPoints], IntArray, IntArray] | None = None) -> None:
        self.origin, self.size, self.shifts = origin, size, shifts
        self.b = model.reciprocal[list(model.periodic)]
        self.weight = np.prod(size, axis=1) / model.cell_measure
        self.per_cell = per_cell
        self.points = points
        M, C = len(shifts), len(origin)
        self.n_groups = M * C if per_cell else M
        self.meshes: list[MeshPoints | None] = []
        self.direct = np.arange(C)
        self.cell_of = np.zeros(0, int)
        self.jobs: list[tuple[int, int]] = []  # (shift, FFT chunk), then (−1, start)
        if fft is not None:
            meshes, self.cell_of, self.direct = fft
            self.meshes = list(meshes)
            # FFT chunks whose points all lie in refined-away cells are skipped (an empty
            # batch would reach the kernel)
            live = [c for c in range(meshes[0].n_chunks) if np.any(
                self.cell_of[c * meshes[0].chunk_size:(c + 1) * meshes[0].chunk_size] >= 0)
                ] if meshes else []
            self.jobs = [(m, c) for m in range(len(meshes)) for c in live]
        self.jobs += [(-1, s) for s in range(0, M * len(self.direct), points)]
        self._left = [sum(1 for m_, _ in self.jobs if m_ == m) for m in range(len(self.meshes))]
        self._lock = threading.Lock()

    @property
    def n_chunks(self) -> int:
        return len(self.jobs)

    def _group(self, m: IntArray, c: IntArray) -> IntArray:
        return m * len(self.origin) + c if self.per_cell else m

    def batch(self, j: int) -> Batch:
        m0, index = self.jobs[j]
        if m0 >= 0:  # FFT chunk of the mesh of shift m0: keep the points of present cells
            mp = self.meshes[m0]
            assert mp is not None
            b = mp.batch(index)
            lo = index * mp.chunk_size
            with self._lock:
                self._left[m0] -= 1
                if not self._left[m0]:
                    self.meshes[m0] = None
            cells = self.cell_of[lo: lo + len(b.k)]
            keep = cells >= 0
            c = cells[keep]
            H = None if b.hamiltonians is None else _take(b.hamiltonians, keep, len(b.k))
            return Batch(b.k[keep], H, self.weight[c], self._group(np.full(len(c), m0), c))
        M = len(self.shifts)
        m, i = np.divmod(np.arange(index, min(index + self.points, M * len(self.direct))),
                         len(self.direct))
        c = self.direct[i]
        k = (self.origin[c] + self.shifts[m] * self.size[c]) @ self.b
        return Batch(k, None, self.weight[c], self._group(m, c))


def _take(pair: tuple[ComplexArray, ComplexArray], keep: np.ndarray, n: int
          ) -> tuple[ComplexArray, ComplexArray]:
    """The Bloch sums of the kept points (H may stack k ± δ copies for fd: n rows each)."""
    H, dH = pair
    if keep.all():
        return pair
    reps = len(H) // n
    Hk = H.reshape(reps, n, *H.shape[1:])[:, keep].reshape(-1, *H.shape[1:])
    dHk = dH[:, keep] if dH is not None and np.ndim(dH) == 4 else dH
    return Hk, dHk


def cell_meshes(sizes: Sequence[int], offset: float, shifts: FloatArray) -> list[Mesh]:
    """The uniform shifted meshes (j + offset + u)/n of the unrefined cells, one per shift u."""
    return [Mesh(n=tuple(int(x) for x in sizes), shift=tuple(float(x) for x in offset + u))
            for u in shifts]
