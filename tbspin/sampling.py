"""Brillouin-zone integrals with error bars and adaptive refinement, over any band kernel.

A *kernel* maps Cartesian k (Nk, d) in 1/Å to (E (Nk, N) eV, X (Nk, N)), the band-resolved
integrand; the integral is I(E_F) = ∫ d^pk/(2π)^p Σ_m f(ε_mk − E_F) X_mk, estimated as
(1/V_cell) Σ_k w_k Σ_m f X with Σ_k w_k = 1 (the ``raw`` of :class:`tbspin.ConductivityResult`).

Randomized lattice rule (error bars)
    The BZ (reduced coordinates [0, 1)^p) is cut into the n_1 × … × n_p cells of a base grid;
    cell j holds s^p points (j + (i + u)/s)/n, i ∈ {0 … s−1}^p, weight 1/(n^p s^p), where s is
    the cell's refinement factor (1 for a uniform mesh) and u ∈ [0, 1)^p a shift. For u uniformly
    random every point is uniform in its sub-cell, so each estimate is *unbiased* for any fixed
    refinement map, and never sits on a high-symmetry point (probability 0). M independent
    shifts give M unbiased estimates; value = their mean, error = their standard deviation / √M
    times t_{0.975, M−1}/1.96 (Student's correction for the few samples; 1.09 for the default
    M = 16). Spiky integrands make the estimates heavy-tailed and M of them rarely show the
    tail: on a refined tree the error is therefore at least the one that ignores the lattice
    rule's cancellations between refined leaves, from their per-leaf variances
    (:func:`_tree_stats`). The interval ± 2 errors covers the exact value in ≥ 90% of trials
    (tested against exact answers in tests/test_sampling.py).
Adaptive refinement
    As Wannier90's adaptive refinement of the AHC (postw90 berry.F90, ``berry_curv_adpt_kmesh``:
    a k-point whose curvature exceeds a threshold is replaced by a finer local sub-mesh), but
    driven by the error: the cells carrying the largest share of the variance of the total
    between the M shifts (spikes near small gaps, degeneracy points, high-symmetry lines) get
    subdivided into ``factor``^p children (a tree: refinement stays local however deep it
    goes, and a leaf holds one point per shift at origin + u·size); only the children are
    evaluated. Iterations share
    the M shifts; with ``fresh=True`` (default) the final refinement map is evaluated once more
    with M new shifts, so the reported value and error do not depend on the samples that chose
    the map (no selection bias: the estimate is again unbiased).
Convergence on request
    :func:`converge` refines (adaptive) and grows the base mesh until the standard error is
    ≤ max(tol·|value|, abs_floor) at every Fermi energy, or a budget of k-points / seconds is
    used up (then a :class:`~tbspin.errors.ConvergenceWarning` states what was reached).
    Refinement is kept only while it pays: a randomized rule on a uniformly finer mesh lowers
    the error at least like N^(−1/2), so rounds whose errors fall slower (integrands whose
    spikes are spread over the whole BZ, e.g. the near-degenerate occupied pairs of a 30-band
    Wannier fit) are dropped for the next base mesh, sized from the error at that rate.
Bloch sums
    The unrefined cells of one shift are points of one uniform shifted mesh: their H(k), ∂H/∂k
    come from FFTs (:mod:`tbspin.fourier`) when the engine's cost rule prefers them; refined
    cells use the direct sums (:mod:`tbspin.bloch`).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from scipy.fft import next_fast_len
from scipy.special import expit
from scipy.stats import t as student_t

from . import units
from .checkpoint import JsonValue, StepJournal
from .errors import ConvergenceWarning, ParameterError
from .fourier import whole_lines
from .integrands import with_band_cutoff
from .integrate import default_chunk_size
from .kmesh import Mesh
from .model import LatticeModel
from .types import ArrayLike, FloatArray, IntArray, MeshSpec, PathLike

__all__ = [
    "Kernel",
    "SampledIntegral",
    "GENERIC_SHIFT",
    "per_point_sums",
    "randomized_mesh",
    "adaptive",
    "converge",
    "ahc_kernel",
    "shc_kernel",
]

#: k (Nk, d) 1/Å → (E (Nk, N) eV, X (Nk, N))
Kernel = Callable[[FloatArray], tuple[FloatArray, FloatArray]]

#: a fixed generic shift (fractional parts of √2, √3, √5 − 2): no mesh point on a rational k
GENERIC_SHIFT = (np.sqrt(2) - 1, np.sqrt(3) - 1, np.sqrt(5) - 2)

#: largest k-points per kernel call; fewer for many bands (the engine's working-set rule,
#: :func:`tbspin.integrate.default_chunk_size`: cache-sized batches of 30 bands run 15–25 % faster)
POINTS_PER_CHUNK = 4096
#: refinement rounds on shared shifts continue until the error is below SAFETY·tol (the shared
#: samples chose the refinement and underestimate the error; the fresh pass checks it) until a
#: fresh pass has measured that underestimate: then the aim is tol / (bias × (1 + 2 scatter)),
#: bias = fresh/shared error (≥ 1), scatter = 1/√(2(M−1)) the relative spread of an error
#: estimate from M shifts (:func:`_aim`)
SAFETY = 0.5
#: below this share of the variance in the ``max_cells`` top cells the variance is spread out
#: (a smooth integrand) and refinement stops
MIN_SHARE = 0.2
#: a first round that multiplies every error by more than this is undone and refinement stops
#: (a smooth integrand whose lattice-rule cancellations the refinement broke)
REVERT = 2.0
#: a round may always refine this many cells (small base meshes)
MIN_CAP = 8
#: with ``tol``, rounds on shared shifts stop for a fresh pass once the refined map holds this
#: many times the points of the last fresh estimate (the shared samples chose the map and
#: flatter its error: only fresh passes tell whether refinement pays)
CHECK_GROWTH = 4.0
#: the next base mesh of :func:`converge` is sized for SAFETY_POINTS × the points that the error
#: so far predicts at the N^(−1/2) rate, between ``growth`` and MAX_GROWTH times the last per
#: direction. 1.0: the prediction itself. With 1.3 (until 0.2.0's sixth session) the spiky BHZ
#: coverage test (uniform, tol = 0.05, 600 runs) used 17 % more k-points for the same coverage
#: (0.925 vs 0.922; 0.8: 0.917), and the Bi₂Se₃ `_hr.dat` runs of issue 9 (whose error falls
#: faster than N^(−1/2)) overshot to 2.6–2.8 % for a 5 % target: 392–474 s instead of 254–344 s
SAFETY_POINTS = 1.0
MAX_GROWTH = 3.0
#: the next base mesh of a time-budgeted :func:`converge` is planned at this fraction of the last
#: step's rate (Bi₂Se₃ `_hr.dat`: a 37³ × 16 pass ran 10 % slower per point than the 24³ before
#: it — mostly the prime FFT length, now avoided by :func:`_fast_mesh`; the margin stays for the
#: VM's drift of the rate between passes)
RATE_MARGIN = 0.9
#: smallest confirming pass of :func:`converge`, as a fraction of the points of the unrefined pass
#: it is pooled with (:func:`_confirming_mesh`). Coverage of ± 2 errors on the spiky BHZ
#: integrand (tol = 0.05, uniform, 600 runs): 0.925 at 1/2 (median 67 000 k-points), 0.88 at 1/4,
#: 0.937 (300 runs) with the same mesh always (90 240)
MIN_CONFIRM = 0.5
#: history note of a refinement that did not pay (the next base meshes are not refined)
DROPPED = "refinement dropped: error fell slower than N^-1/2"


@dataclasses.dataclass
class SampledIntegral:
    """A BZ integral per Fermi energy with its standard error and how it was obtained.

    Attributes
    ----------
    efermi : (nE,) eV
    values : (nE,) the integral I (same units as ``ConductivityResult.raw``)
    errors : (nE,) standard error (1σ) of ``values``
    samples : (M, nE) the M independent estimates (one per random shift)
    n_k : int
        k-points evaluated in total (all iterations, including discarded ones).
    mesh : tuple of int
        Base grid n.
    method : {"uniform", "adaptive"}
    history : list of dict
        One entry per step: ``n_k`` (cumulative), ``n_k_final`` (points of the estimate),
        ``mesh``, ``refined_cells``, ``max_factor``, ``values``, ``errors``, ``seconds``; adaptive
        steps also ``aim`` (the fraction of tol the shared-shift rounds aim for; on a fresh pass,
        the one it sets for the rounds after it); ``pooled`` marks two passes pooled by
        :func:`converge` (``mesh`` the deciding pass's, ``confirming_mesh`` the new shifts').
    converged : bool or None
        For :func:`converge`: whether the tolerance was reached.
    confirmed : bool or None
        With a tolerance: True when the reported estimate includes M shifts drawn after the
        pass that decided to stop (:func:`converge` pools them with an unrefined pass); False
        when that pass is reported alone because the new shifts did not fit in the time budget
        (a warning says so).
    refinement : dict {subdivision s: number of leaf cells of 1/s of a base cell per direction}
    seed : int or None
        For :func:`converge`: the root seed of the random shifts actually used (drawn when none
        was given); passing it as ``seed`` reruns the same result.
    """

    efermi: FloatArray
    values: FloatArray
    errors: FloatArray
    samples: FloatArray
    n_k: int
    mesh: tuple[int, ...]
    method: str
    history: list[dict] = dataclasses.field(default_factory=list)
    converged: bool | None = None
    refinement: dict[int, int] = dataclasses.field(default_factory=dict)
    confirmed: bool | None = None
    seed: int | None = None

    @property
    def n_shifts(self) -> int:
        """Number of independent shifted estimates M."""
        return int(self.samples.shape[0])

    def scaled(self, factor: float) -> SampledIntegral:
        """A copy with values, errors and samples multiplied by ``factor`` (unit conversion)."""
        return dataclasses.replace(self, values=self.values * factor,
                                   errors=self.errors * abs(factor), samples=self.samples * factor)

    def __str__(self) -> str:
        lines = [f"{self.method} sampling, base mesh {self.mesh}, {self.n_shifts} random shifts, "
                 f"{self.n_k} k-points evaluated"
                 + ("" if self.converged is None else f", converged: {self.converged}")]
        if any(s > 1 for s in self.refinement):
            lines.append("  leaf cells by subdivision: " + ", ".join(
                f"{c} at 1/{s}" for s, c in sorted(self.refinement.items())))
        for e, v, d in zip(self.efermi, self.values, self.errors, strict=True):
            lines.append(f"  E_F = {e:.6g} eV: {v:.6g} ± {d:.2g}")
        return "\n".join(lines)


# ---------------------------------------------------------------------- Fermi sums per k
def per_point_sums(
    energies: FloatArray, values: FloatArray, efermi: FloatArray, temperature: float = 0.0
) -> FloatArray:
    """c[k, e] = Σ_m f(ε_mk − E_F,e) X_mk for every k-point separately, (Nk, nE).

    At T = 0 a state with ε = E_F counts as occupied (as :func:`tbspin.occupied_sum`).
    """
    nk, n = energies.shape
    ne = len(efermi)
    if temperature == 0:
        order = np.argsort(efermi, kind="stable")
        first = np.searchsorted(efermi[order], energies, side="left")  # (Nk, N) in 0..nE
        flat = (np.arange(nk)[:, None] * (ne + 1) + first).reshape(-1)
        binned = np.bincount(flat, weights=values.reshape(-1), minlength=nk * (ne + 1))
        c = np.cumsum(binned.reshape(nk, ne + 1)[:, :ne], axis=1)
        out = np.empty(c.shape)
        out[:, order] = c
        return out
    kT = units.KB_EV * temperature
    f = expit(-(energies[:, :, None] - efermi[None, None, :]) / kT)
    return np.einsum("kme,km->ke", f, values)


# ---------------------------------------------------------------------- cells and points
def _grid(n: Sequence[int]) -> IntArray:
    idx = np.indices(tuple(n)).reshape(len(n), -1).T
    return idx


def _shifts(rng: np.random.Generator, m: int, p: int, shift: str | ArrayLike) -> FloatArray:
    if isinstance(shift, str):
        if shift == "random":
            return rng.random((m, p))
        if shift == "generic":
            if m != 1:
                raise ParameterError("shift='generic' is one fixed mesh: use n_shifts=1")
            return np.array([GENERIC_SHIFT[:p]])
        raise ParameterError(f"'shift' must be 'random', 'generic' or numbers, got {shift!r}")
    arr = np.atleast_2d(np.asarray(shift, dtype=float))
    if arr.shape[1] != p:
        raise ParameterError(f"'shift' must have {p} components per mesh, got {arr.shape}")
    return np.mod(arr, 1.0)


def _mesh(model: LatticeModel, mesh: MeshSpec) -> tuple[int, ...]:
    p = model.n_periodic
    arr = np.atleast_1d(np.asarray(mesh, dtype=int))
    if arr.size == 1:
        arr = np.repeat(arr, p)
    if arr.shape != (p,) or np.any(arr < 1):
        raise ParameterError(f"'mesh' must be a positive int or {p} of them, got {mesh!r}")
    return tuple(int(x) for x in arr)


def _efermi(efermi: ArrayLike) -> FloatArray:
    arr = np.atleast_1d(np.asarray(efermi, dtype=float))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ParameterError("'efermi' must be a finite number or 1D array of energies (eV)")
    return arr


def _stats(samples: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and standard error of M estimates, the latter scaled by t_{0.975, M−1} / z_{0.975}
    (Student's t): ± 1.96 errors is then the exact 95% interval for Gaussian estimates at any M."""
    m = samples.shape[0]
    if m < 2:
        return samples.mean(axis=0), np.full(samples.shape[1], np.inf)
    return samples.mean(axis=0), _t_scale(m) * samples.std(axis=0, ddof=1) / np.sqrt(m)


def _t_scale(m: int) -> float:
    """t_{0.975, m−1} / z_{0.975}: Student's correction of a standard error from m estimates."""
    return float(student_t.ppf(0.975, m - 1) / student_t.ppf(0.975, 1e9))


# ---------------------------------------------------------------------- public estimators
def randomized_mesh(
    kernel: Kernel,
    model: LatticeModel,
    efermi: ArrayLike,
    *,
    mesh: MeshSpec,
    n_shifts: int = 16,
    shift: str | ArrayLike = "random",
    seed: int | None = None,
    temperature: float = 0.0,
    workers: int | None = 1,
) -> SampledIntegral:
    """Randomized lattice rule: M uniform meshes with random shifts; mean ± std/√M (module doc).

    Parameters
    ----------
    kernel : Kernel
    model : LatticeModel
        Gives the reciprocal lattice, periodic directions and cell measure.
    efermi : float or array (eV)
    mesh : int or sequence
        Points per periodic direction of each mesh.
    n_shifts : int
        M (≥ 2 for an error bar; the default 16 gives ≥ 90% coverage of ± 2 errors).
    shift : "random", "generic" (one fixed irrational shift, ``n_shifts=1``), or (M, p) numbers
        Shifts in units of the mesh step.
    seed : int, optional
    temperature : float (K)
    workers : int, optional
        Threads evaluating the k-chunks (None: all cores); the result does not depend on it.
    """
    ef = _efermi(efermi)
    n = _mesh(model, mesh)
    p = len(n)
    rng = np.random.default_rng(seed)
    shifts = _shifts(rng, n_shifts, p, shift)
    t0 = time.perf_counter()
    size = np.tile(1.0 / np.array(n, float), (int(np.prod(n)), 1))
    samples = _evaluate_tree(kernel, model, _grid(n) * size, size, shifts, ef, temperature,
                             per_cell=False, workers=workers, base=(n, 0.0))
    values, errors = _stats(samples)
    nk = int(np.prod(n)) * len(shifts)
    hist = [dict(n_k=nk, n_k_final=nk, mesh=n, refined_cells=0, max_factor=1, values=values,
                 errors=errors, seconds=time.perf_counter() - t0)]
    return SampledIntegral(efermi=ef, values=values, errors=errors, samples=samples, n_k=nk,
                           mesh=n, method="uniform", history=hist, refinement={1: int(np.prod(n))})


def _evaluate_tree(
    kernel: Kernel,
    model: LatticeModel,
    origin: FloatArray,
    size: FloatArray,
    shifts: FloatArray,
    efermi: FloatArray,
    temperature: float,
    per_cell: bool = True,
    workers: int | None = 1,
    base: tuple[Sequence[int], float] | None = None,
) -> FloatArray:
    """Contributions of leaf cells [origin, origin + size) (reduced coordinates), one point
    origin + u·size per shift u: A[m, c, e] (``per_cell``) or their sums over cells [m, e].

    All (shift, cell) pairs go through the kernel in chunks of ≤ ``POINTS_PER_CHUNK`` points, on
    ``workers`` threads (:class:`tbspin.executor.ChunkPool`; the chunks are folded in order, so
    the result does not depend on the number of workers).

    ``base = (n, offset)`` says the unrefined cells sit on the grid origin = (j + offset)/n: for
    each shift they are points of the uniform mesh (j + offset + u)/n, whose Bloch sums come from
    FFTs (:mod:`tbspin.fourier`) when the engine's cost rule prefers them
    (:func:`tbspin.integrate.fourier_plans`; kernels that are :class:`tbspin.integrands.Integrand`
    only) and at least half of the grid is present. Same values as the direct sums to 1e-12.
    """
    kernel = with_band_cutoff(kernel, efermi, temperature)
    b = model.reciprocal[list(model.periodic)]
    weight = np.prod(size, axis=1) / model.cell_measure  # (C,)
    M, C, ne = len(shifts), len(origin), len(efermi)
    out = np.zeros((M, C, ne) if per_cell else (M, ne))
    method = getattr(getattr(kernel, "settings", None), "method", "kubo")
    points = min(POINTS_PER_CHUNK, default_chunk_size(model, method))

    def finish(m: IntArray, c: IntArray, E: FloatArray, X: FloatArray
               ) -> tuple[IntArray, IntArray, FloatArray]:
        if not np.all(np.isfinite(X)):
            raise FloatingPointError("non-finite integrand (NaN/Inf) during BZ sampling")
        return m, c, per_point_sums(E, X, efermi, temperature) * weight[c, None]

    direct = np.arange(C)
    fft = _fft_tasks(kernel, model, origin, size, shifts, efermi, temperature, points, base)
    jobs: list[tuple[int, int]] = []  # (shift, FFT chunk) jobs, then (−1, start) direct ones
    tasks: list[Any] = []
    if fft is not None:
        tasks, cell_of, direct = fft
        jobs = [(m, c) for m, task in enumerate(tasks) for c in range(task.plan.n_chunks)]
    jobs += [(-1, start) for start in range(0, M * len(direct), points)]
    # a shift's FFT tables (tens of MB for ab-initio models) are dropped after its last chunk
    remaining = [task.plan.n_chunks for task in tasks]
    lock = threading.Lock()

    def chunk(job: tuple[int, int]) -> tuple[IntArray, IntArray, FloatArray]:
        m0, index = job
        if m0 >= 0:  # FFT chunk of the mesh of shift m0; keep the points of present cells
            task = tasks[m0]
            E, X = task.evaluate(index)
            lo = index * task.plan.chunk_size
            with lock:
                remaining[m0] -= 1
                if not remaining[m0]:
                    tasks[m0] = None
            cells = cell_of[lo: lo + len(E)]
            keep = cells >= 0
            c = cells[keep]
            return finish(np.full(len(c), m0), c, E[keep], X[keep])
        m, i = np.divmod(np.arange(index, min(index + points, M * len(direct))), len(direct))
        c = direct[i]
        return finish(m, c, *kernel((origin[c] + shifts[m] * size[c]) @ b))

    parts: Iterable[tuple[IntArray, IntArray, FloatArray]]
    if workers == 1 or len(jobs) < 2:
        from .executor import one_blas_thread

        parts = one_blas_thread(map(chunk, jobs))
    else:
        from .executor import ChunkPool

        parts = ChunkPool(workers, backend="threads").map(chunk, jobs)  # type: ignore[assignment]
    for m, c, contrib in parts:  # in chunk order whatever the worker count
        if per_cell:
            out[m, c] = contrib
        else:
            np.add.at(out, m, contrib)
    return out


def _fft_tasks(
    kernel: Kernel, model: LatticeModel, origin: FloatArray, size: FloatArray, shifts: FloatArray,
    efermi: FloatArray, temperature: float, points: int, base: tuple[Sequence[int], float] | None,
) -> tuple[list[Any], IntArray, IntArray] | None:
    """FFT chunk tasks of the unrefined cells, one per shift (:func:`_evaluate_tree`), the cell
    of every mesh point (−1: refined away) and the cells left to the direct sum; or None."""
    if base is None:
        return None
    from .integrate import ChunkTask, Plan, fourier_plans

    n = np.array(base[0], int)
    offset = float(base[1])
    if np.any(n < 2):
        return None
    at_base = _at_base(size, n)
    if at_base.sum() < 0.5 * np.prod(n):
        return None
    if fourier_plans(model, kernel, Mesh(n=tuple(n), shift=(offset,) * len(n))) is None:
        return None
    cells = np.nonzero(at_base)[0]
    j = np.rint(origin[cells] * n - offset).astype(int)
    cell_of = np.full(int(np.prod(n)), -1)
    cell_of[np.ravel_multi_index(tuple(j.T), tuple(n))] = cells
    L = int(n[-1])
    size_ = whole_lines(points, L)
    tasks = []
    for u in shifts:
        mesh = Mesh(n=tuple(int(x) for x in n), shift=tuple(float(x) for x in offset + u))
        plans = fourier_plans(model, kernel, mesh, "always")
        tasks.append(ChunkTask(model, kernel, Plan(mesh=mesh, chunk_size=size_, efermi=efermi,
                                                   temperature=temperature), plans))
    return tasks, cell_of, np.nonzero(~at_base)[0]


def adaptive(
    kernel: Kernel,
    model: LatticeModel,
    efermi: ArrayLike,
    *,
    mesh: MeshSpec,
    n_shifts: int = 16,
    iterations: int = 30,
    factor: int = 2,
    variance_share: float = 0.8,
    max_cells: float = 0.02,
    fresh: bool = True,
    tol: float | None = None,
    abs_floor: float = 0.0,
    budget_k: int | None = None,
    budget_seconds: float | None = None,
    seed: int | None = None,
    temperature: float = 0.0,
    workers: int | None = 1,
) -> SampledIntegral:
    """Adaptive refinement of the cells that carry the variance (module doc).

    The base grid's cells (centred on the Γ-centred mesh points) are leaves of a tree; a
    refined leaf is replaced by ``factor**p`` children (one point each per shift), so refinement
    stays local however deep it goes.

    Parameters
    ----------
    kernel, model, efermi, mesh, n_shifts, seed, temperature, workers
        As in :func:`randomized_mesh` (``mesh`` is the base grid).
    iterations : int
        Largest number of refinement rounds.
    factor : int
        Children per direction of a refined cell.
    variance_share : float
        Each round refines the smallest set of cells carrying this share of the variance of the
        total, a cell's share being Cov(A_c, total)/Var(total) over the M shifts (summed over
        Fermi energies; it knows about the cancellations between cells of a lattice rule)...
    max_cells : float
        ...but at most this share of all cells (or ``MIN_CAP``) per round; when those carry less than
        ``MIN_SHARE`` of the variance it is not concentrated (a smooth integrand, better served
        by a finer uniform mesh) and refinement stops.
    fresh : bool
        Re-evaluate the final tree with M new random shifts (no selection bias). With ``tol``,
        rounds on shared shifts run until the error is below aim·tol (``SAFETY`` at first; after
        a fresh pass, from the underestimate it measured: :func:`_aim`) or the map has grown
        ``CHECK_GROWTH``-fold, then a fresh pass checks; if it misses, its samples guide further
        rounds — unless its (error/target)² × points exceeds that of the previous unbiased
        estimate: refinement then loses to a uniformly finer mesh, and stops (history note
        ``DROPPED``; :func:`converge` refines no later base mesh).
    tol, abs_floor : float, optional
        Stop once every error ≤ max(tol·|value|, abs_floor).
    budget_k : int, optional
        Stop refining before the evaluated k-points would exceed this.
    budget_seconds : float, optional
        Wall-time budget. A refinement round runs only if it and the fresh pass over the
        refined map fit in what is left, at the rate (seconds per k-point) measured so far;
        the confirmation pass is skipped when it would not fit. The budget can still be
        overrun by the first evaluation of the base mesh and by rate fluctuations.
    """
    ef = _efermi(efermi)
    n = _mesh(model, mesh)
    p = len(n)
    rng = np.random.default_rng(seed)
    shifts = rng.random((n_shifts, p))
    size = np.tile(1.0 / np.array(n, float), (int(np.prod(n)), 1))
    # base cells centred on the Γ-centred mesh points: Γ (and for even n every TRIM) is the
    # centre of one cell, so a spike there is refined as one cell rather than 2^p corners
    origin = (_grid(n) - 0.5) * size
    t0 = time.perf_counter()
    A = _evaluate_tree(kernel, model, origin, size, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5))  # (M, C, nE)
    nk = len(origin) * n_shifts
    history: list[dict] = []
    children = _grid([factor] * p) / factor  # (f^p, p)
    aim = SAFETY  # fraction of tol the shared-shift rounds aim for (measured: _aim)

    def record(refined: int) -> tuple[FloatArray, FloatArray]:
        v, e = _tree_stats(A, ~_at_base(size, n))  # refined leaves
        history.append(dict(n_k=nk, n_k_final=len(origin) * n_shifts, mesh=n,
                            refined_cells=refined,
                            max_factor=int(round(1 / (size.min(axis=0) * np.array(n)).min())),
                            values=v, errors=e, aim=aim, seconds=time.perf_counter() - t0))
        return v, e

    v, e = record(0)
    # work-normalized variance (error/target)² × points of the last unbiased estimate: a fresh
    # pass over a refined map must lower it, else refinement loses to finer uniform meshes
    checked = len(origin) * n_shifts
    cost = _worst(v, e, tol, abs_floor) ** 2 * checked

    def done(v: FloatArray, e: FloatArray, safety: float = 1.0) -> bool:
        return tol is not None and bool(np.all(e <= safety * np.maximum(tol * np.abs(v),
                                                                        abs_floor)))

    def affordable(points: int) -> bool:
        """Whether ``points`` more evaluations fit in the time budget, at the rate so far."""
        if budget_seconds is None:
            return True
        spent = time.perf_counter() - t0
        return spent + points * spent / max(nk, 1) <= budget_seconds

    confirmed: bool | None = None
    rounds = 0
    while rounds < iterations and not done(v, e):
        refined = 0
        while rounds < iterations and not done(v, e, aim):
            if not affordable(0):
                break
            T = A.sum(axis=1)  # (M, nE)
            dT = T - T.mean(axis=0)
            varT = np.maximum((dT**2).sum(axis=0), 1e-300)
            # each cell's share of Var(total), Cov(A_c, T)/Var(T): sums to 1 over the cells and,
            # unlike a cell's own variance, knows the cancellations between cells of a lattice rule
            score = (np.einsum("mce,me->ce", A - A.mean(axis=0), dT) / varT).sum(axis=1)
            score = np.maximum(score, 0.0)
            if not score.sum() > 0:
                break
            order = np.argsort(score)[::-1]
            cum = np.cumsum(score[order]) / score.sum()
            count = int(np.searchsorted(cum, variance_share) + 1)
            cap = min(len(origin), max(MIN_CAP, int(max_cells * len(origin))))
            if count > cap:
                if cum[cap - 1] < MIN_SHARE:
                    break  # variance spread over the BZ: a finer base mesh pays, not refinement
                count = cap
            chosen = order[:count]
            new_cost = count * len(children) * n_shifts
            # the round and the fresh pass over the refined map must both fit in the budgets
            fresh_cost = (len(origin) + new_cost // n_shifts - count) * n_shifts if fresh else 0
            if budget_k is not None and nk + new_cost + fresh_cost > budget_k:
                break
            if not affordable(new_cost + fresh_cost):
                break
            if tol is not None and len(origin) * n_shifts >= CHECK_GROWTH * checked:
                break  # time for a fresh pass to check that refinement pays
            keep = np.ones(len(origin), bool)
            keep[chosen] = False
            co = (origin[chosen, None, :] + children[None] * size[chosen, None, :]).reshape(-1, p)
            cs = np.repeat(size[chosen] / factor, len(children), axis=0)
            An = _evaluate_tree(kernel, model, co, cs, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5))
            A_try = np.concatenate([A[:, keep], An], axis=1)
            nk += new_cost
            rounds += 1
            if rounds == 1 and np.all(_stats(A_try.sum(axis=1))[1] > REVERT * e):
                break  # undone: the lattice rule was better (smooth integrand)
            origin = np.concatenate([origin[keep], co])
            size = np.concatenate([size[keep], cs])
            A = A_try
            refined += count
            v, e = record(count)
        if not (fresh and refined):
            break
        # the final estimate comes from new shifts (no selection bias); if it misses the
        # tolerance its samples guide the next refinement rounds
        shared = _worst(v, e, tol, abs_floor)
        shifts = rng.random((n_shifts, p))
        A = _evaluate_tree(kernel, model, origin, size, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5))
        nk += len(origin) * n_shifts
        v, e = record(0)
        aim = history[-1]["aim"] = _aim(shared, _worst(v, e, tol, abs_floor), n_shifts)
        if not affordable(0):
            break
        if tol is not None and not done(v, e):
            checked, previous = len(origin) * n_shifts, cost
            cost = _worst(v, e, tol, abs_floor) ** 2 * checked
            if cost > previous:
                # the error fell slower than N^(−1/2), the worst rate of a uniformly finer
                # randomized mesh: this fresh estimate stands, converge() grows the base mesh
                history[-1]["note"] = DROPPED
                break
        if done(v, e):
            confirmed = affordable(len(origin) * n_shifts)
            if not confirmed:
                break
            # confirmation: the pass that decided to stop is not the one reported (a stopping
            # rule on a noisy error estimate favours estimates that missed a spike)
            shifts = rng.random((n_shifts, p))
            A = _evaluate_tree(kernel, model, origin, size, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5))
            nk += len(origin) * n_shifts
            v, e = record(0)
            # a miss: further rounds are judged against this unbiased estimate
            checked = len(origin) * n_shifts
            cost = _worst(v, e, tol, abs_floor) ** 2 * checked
    lv, cnt = np.unique(np.round(1 / (size[:, 0] * n[0])).astype(int), return_counts=True)
    return SampledIntegral(efermi=ef, values=v, errors=e, samples=A.sum(axis=1), n_k=nk, mesh=n,
                           method="adaptive", history=history, confirmed=confirmed,
                           refinement={int(a): int(b) for a, b in zip(lv, cnt, strict=True)})


def _at_base(size: FloatArray, n: Sequence[int] | IntArray) -> np.ndarray:
    """Cells (rows of ``size``) that still have the base mesh's size 1/n (children are exact
    divisions: compared exactly)."""
    return np.all(size == 1.0 / np.asarray(n, float), axis=1)


def _tree_stats(A: FloatArray, fine: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Mean and standard error of a tree's total from its per-cell contributions A[m, c, e].

    The error is that of :func:`_stats` (the spread of the M totals, which holds the lattice
    rule's cancellations between cells) or, if larger, the one without cancellations between the
    refined (``fine``) leaves: Var(unrefined part) + Σ_refined Var(A_c). Refined leaves sit on
    spikes; their totals are heavy-tailed and M = 16 of them rarely show the tail (BHZ ring at
    tol = 0.05: final trees whose true error was 9 % reported 2 %; true kurtosis of the total
    ≈ 43, median of the M-shift error estimate half the true one), while the per-leaf variances
    summed over many leaves are stable. Measured coverage of ± 2 errors, 1000 runs: 0.86 → 0.98.
    """
    v, e = _stats(A.sum(axis=1))
    m = A.shape[0]
    if m < 2 or not fine.any():
        return v, e
    var = A[:, ~fine].sum(axis=1).var(axis=0, ddof=1) + A[:, fine].var(axis=0, ddof=1).sum(axis=0)
    return v, np.maximum(e, _t_scale(m) * np.sqrt(var / m))


def _aim(shared: float, fresh: float, n_shifts: int) -> float:
    """Fraction of the tolerance that the rounds on shared shifts aim for, from the measured
    underestimate bias = fresh/shared error (≥ 1: selection only lowers the shared error) and
    a two-σ margin for the scatter 1/√(2(M−1)) of an error estimate from M shifts."""
    bias = max(1.0, fresh / max(shared, 1e-300))
    return 1.0 / (bias * (1.0 + 2.0 / np.sqrt(2.0 * (n_shifts - 1))))


def _worst(v: FloatArray, e: FloatArray, tol: float | None, abs_floor: float) -> float:
    """Largest error in units of its target max(tol·|value|, abs_floor) (relative if no tol)."""
    target = np.maximum((1.0 if tol is None else tol) * np.abs(v), abs_floor)
    return float(np.max(e / np.maximum(target, 1e-300)))


def _next_mesh(n: IntArray, result: SampledIntegral, tol: float, abs_floor: float,
               growth: float, max_growth: float, n_shifts: int) -> IntArray:
    """Base mesh whose pass of ``n_shifts`` shifts is predicted to reach the tolerance: the
    points behind the estimate (whatever its number of shifts, e.g. a pooled one) times
    (error / target)² (the N^(−1/2) rate of a randomized rule at worst) × ``SAFETY_POINTS``,
    per direction between ``growth`` and ``max_growth`` times the last mesh."""
    ratio = _worst(result.values, result.errors, tol, abs_floor)
    points = _final_points(result) * SAFETY_POINTS * min(ratio, 1e6) ** 2
    scale = (points / (int(np.prod(n)) * n_shifts)) ** (1.0 / len(n))
    scale = min(max(scale, growth), max_growth)
    return np.maximum(n + 1, np.ceil(n * scale).astype(int))


def _fast_mesh(n: IntArray, *, above: IntArray | None = None, down: bool = False) -> IntArray:
    """Per direction the FFT-friendly length (:func:`scipy.fft.next_fast_len`: products of 2, 3,
    5, 7, 11) nearest to n in ratio — above ``above`` if given — or with ``down`` the largest
    one ≤ n. The base meshes of :func:`converge` are FFT lengths: on the Bi₂Se₃ `_hr.dat` a
    37³ pass (37 prime) ran 10–20 % slower per k-point than 36³ or 40³."""
    out = []
    for i, x in enumerate(np.asarray(n, int)):
        lo = int(x)
        while lo > 1 and next_fast_len(lo) != lo:
            lo -= 1
        hi = next_fast_len(max(int(x), 1))
        pick = lo if down or (x / lo <= hi / x) else hi
        if above is not None and pick <= above[i]:
            pick = next_fast_len(int(above[i]) + 1)
        out.append(max(pick, 1))
    return np.array(out)


def converge(
    kernel: Kernel,
    model: LatticeModel,
    efermi: ArrayLike,
    *,
    tol: float = 0.02,
    abs_floor: float = 0.0,
    budget_k: int = 20_000_000,
    budget_seconds: float | None = None,
    mesh: MeshSpec = 8,
    method: str = "adaptive",
    n_shifts: int = 16,
    growth: float = 1.5,
    max_growth: float = MAX_GROWTH,
    seed: int | None = None,
    temperature: float = 0.0,
    workers: int | None = 1,
    checkpoint: PathLike | None = None,
    key: dict[str, JsonValue] | None = None,
    **adaptive_kw: Any,
) -> SampledIntegral:
    """Enlarge / refine until every standard error ≤ max(tol·|value|, abs_floor), or the budget
    is used up (then a ConvergenceWarning says what was reached).

    Parameters
    ----------
    tol : float
        Relative target of the standard error (0.02 = 2%).
    abs_floor : float
        Absolute target for values near zero (same units as the values, i.e. the raw integral).
    budget_k : int
        Largest number of k-point evaluations in total.
    budget_seconds : float, optional
        Wall-time budget: steps are planned with the measured seconds per k-point so that the
        last one ends within it (:func:`adaptive`); the next base mesh is cut to what is left
        at ``RATE_MARGIN`` (0.9) × the rate of the last step (the largest pass so far).
    mesh : int or sequence
        Starting base mesh.
    method : {"adaptive", "uniform"}
        "uniform": randomized meshes; "adaptive": at each base mesh, :func:`adaptive`
        refinement up to the tolerance while it pays (errors falling faster than N^(−1/2)).
        If the tolerance is not reached, the next base mesh is sized for it from the error so
        far (points × (error/target)² × ``SAFETY_POINTS``, per direction at least ``growth``
        and at most ``max_growth`` times the last), rounded to FFT-friendly lengths
        (:func:`_fast_mesh`), cut to the budgets, and must use more k-points than the best
        estimate so far. A pass that reaches the tolerance without a pass on new shifts behind
        it is not reported alone: an unrefined pass is pooled with M new shifts of a mesh
        with ½–1 of its points, sized by what the pooled estimate needs
        (:func:`_confirming_mesh`; 2M estimates), a refined tree is replaced by a uniform pass
        on new shifts; the pooled or new estimate must meet the tolerance too (``confirmed``;
        False when the budget left no room). Out of budget, the estimate built on the most
        k-points is reported, not the last one.
    growth, max_growth : float
        Smallest and largest growth factor per direction of the base mesh (equal: fixed steps).
    workers : int, optional
        Threads evaluating the k-chunks (None: all cores); the result does not depend on it.
    checkpoint : path, optional
        Step journal (:class:`tbspin.checkpoint.StepJournal`): every completed step (one pass
        per base mesh) is saved there; repeating the call replays the saved steps and goes on
        from the first one missing, to the result of an uninterrupted run (with ``seed=None``
        the drawn root seed is kept in the file). Needs ``key``, everything else that
        determines the result (model, integrand, E_F, T; the engine's key). A wall-time budget
        counts the replayed steps' recorded time.
    **adaptive_kw
        ``iterations``, ``factor``, ``variance_share``, ``max_cells`` of :func:`adaptive`.
    """
    if method not in ("adaptive", "uniform"):
        raise ParameterError(f"'method' must be 'adaptive' or 'uniform', got {method!r}")
    if not tol > 0:
        raise ParameterError(f"'tol' must be positive, got {tol}")
    ef = _efermi(efermi)
    n = np.array(_mesh(model, mesh))
    if int(np.prod(n)) * n_shifts > budget_k:
        raise ParameterError(
            f"budget_k={budget_k} k-points is less than the first pass ({n_shifts} shifts of "
            f"the {'x'.join(map(str, n))} starting mesh = {int(np.prod(n)) * n_shifts} "
            "k-points); raise budget_k (CLI --budget-k) or start from a smaller mesh")
    journal = None
    # the root seed actually used (drawn when not given) is returned: result.seed reruns it
    root = seed if seed is not None else int(np.random.default_rng().integers(2**63))
    if checkpoint is not None:
        if key is None:
            raise ParameterError("converge: a checkpoint needs the calculation's 'key'")
        run = dict(key, sampling=dict(method=method, tol=tol, abs_floor=abs_floor, mesh=n.tolist(),
                                      n_shifts=n_shifts, growth=growth, max_growth=max_growth,
                                      budget_k=budget_k, seed=seed, temperature=temperature,
                                      **adaptive_kw))
        journal = StepJournal.open(checkpoint, run, root)
        root = journal.entropy
    rng = np.random.default_rng(root)
    t0 = time.perf_counter()
    steps = 0  # index of the next step in the journal

    def step(name: str, run_pass: Callable[..., SampledIntegral], **kw: Any) -> SampledIntegral:
        """One pass, replayed from the journal when it holds the same call (then the budget
        clock is moved back by the recorded time), else computed and recorded."""
        nonlocal t0, steps
        index, steps = steps, steps + 1
        if journal is None:
            return run_pass(kernel, model, ef, temperature=temperature, workers=workers, **kw)
        call = json.dumps(dict({k: v for k, v in kw.items() if k != "budget_seconds"},
                               pass_=name), sort_keys=True, default=_plain)
        saved = journal.replay(index, call)
        if saved is not None:
            t0 -= float(saved["seconds"])  # type: ignore[arg-type]
            return _from_json(saved["result"])  # type: ignore[arg-type]
        t = time.perf_counter()
        try:
            out = run_pass(kernel, model, ef, temperature=temperature, workers=workers, **kw)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(
                f"interrupted in step {index + 1}; checkpoint {journal.path} holds the {index} "
                "completed steps (repeat the same call to resume)") from None
        journal.record(index, call, time.perf_counter() - t, _to_json(out))
        return out

    total = 0
    history: list[dict] = []
    result: SampledIntegral | None = None
    best: SampledIntegral | None = None  # the estimate that used the most k-points so far
    ok = False
    last = (0, 0.0)  # (k-points, seconds) of the last step (set before room() is first used)

    def room() -> int:
        """k-points that fit in what is left of both budgets, at ``RATE_MARGIN`` × the rate of
        the last step (the largest so far: the small first steps carry fixed costs that larger
        passes do not pay per point), or the average so far if that step took no measurable
        time."""
        left = budget_k - total
        if budget_seconds is not None and total:
            spent = time.perf_counter() - t0
            points, seconds = last if last[1] > 0 else (total, spent)
            rate = RATE_MARGIN * points / max(seconds, 1e-9)
            left = min(left, int((budget_seconds - spent) * rate))
        return left

    while True:
        if result is not None:
            # the next base mesh is sized by the error so far, then cut to what the budgets
            # leave; it must use more k-points than the best estimate so far
            previous = n
            n = _fast_mesh(_next_mesh(n, result, tol, abs_floor, growth, max(growth, max_growth),
                                      n_shifts), above=previous)
            fit = room() // n_shifts
            if np.prod(n) > fit:
                n = np.floor(n * (max(fit, 1) / np.prod(n)) ** (1.0 / len(n))).astype(int)
                n = _fast_mesh(n, down=True)
            if np.any(n < 1) or int(np.prod(n)) * n_shifts <= _final_points(best):
                break
        sub_seed = int(rng.integers(2**32))
        start = time.perf_counter() - t0
        if method == "uniform":
            result = step("randomized_mesh", randomized_mesh, mesh=tuple(n), n_shifts=n_shifts,
                          seed=sub_seed)
        else:
            secs = None if budget_seconds is None else budget_seconds - (time.perf_counter() - t0)
            result = step("adaptive", adaptive, mesh=tuple(n), n_shifts=n_shifts,
                          tol=tol, abs_floor=abs_floor, budget_k=budget_k - total,
                          budget_seconds=secs, seed=sub_seed, **adaptive_kw)
        total += result.n_k
        last = (result.n_k, time.perf_counter() - t0 - start)
        for h in result.history:
            history.append(dict(h, n_k=total - result.n_k + h["n_k"], seconds=start + h["seconds"]))
        ok = _worst(result.values, result.errors, tol, abs_floor) <= 1.0
        if ok and result.confirmed is None:
            # the pass that decided to stop is not reported alone (a stopping rule on a noisy
            # error estimate favours estimates that missed a spike): M new shifts of a mesh
            # with ½–1 of its points (_confirming_mesh) are pooled with an unrefined pass (the
            # 2M estimates must meet tol), or M new shifts of the same mesh replace a refined
            # tree. Pooling also when the deciding pass was only within
            # 1.2 or √2 × tol (planned for half the points) lowered the coverage of ±2 errors
            # on the spiky BHZ integrand (tests/test_sampling.py) from 0.94 to 0.91 and 0.89
            # (300 runs of tol=0.05): the deciding pass must meet tol by itself.
            unrefined = set(result.refinement) <= {1}
            n_conf = (_confirming_mesh(result, tol, abs_floor) if unrefined
                      else np.array(result.mesh))
            if int(np.prod(n_conf)) * n_shifts > room():
                result = dataclasses.replace(result, confirmed=False)
            else:
                start = time.perf_counter() - t0
                conf = step("randomized_mesh", randomized_mesh, mesh=tuple(n_conf),
                            n_shifts=n_shifts, seed=int(rng.integers(2**32)))
                total += conf.n_k
                last = (conf.n_k, time.perf_counter() - t0 - start)
                if unrefined:
                    conf = _pooled(result, conf)
                history.append(dict(conf.history[-1], n_k=total,
                                    seconds=start + conf.history[-1]["seconds"]))
                result = dataclasses.replace(conf, confirmed=True)
                ok = _worst(result.values, result.errors, tol, abs_floor) <= 1.0
        if best is None or _final_points(result) >= _final_points(best):
            best = result
        if ok:
            break
        if any(h.get("note") == DROPPED for h in result.history):
            adaptive_kw["iterations"] = 0  # the integrand is not local: finer base meshes only
        if budget_seconds is not None and time.perf_counter() - t0 > budget_seconds:
            break
    assert result is not None and best is not None
    if not ok:
        # out of budget: report the estimate built on the most k-points (a choice that does not
        # look at the values or errors, so it adds no selection bias), not merely the last one
        result = best
    result = dataclasses.replace(result, n_k=total, history=history, converged=bool(ok),
                                 seed=int(root))
    if ok and result.confirmed is False:
        warnings.warn(
            f"BZ integral reached tol={tol:g} on the pass that decided to stop; the confirmation "
            "pass on new shifts did not fit in the time budget (result.confirmed is False)",
            ConvergenceWarning, stacklevel=2)
    if not ok:
        rel = np.max(result.errors / np.maximum(np.abs(result.values), 1e-300))
        warnings.warn(
            f"BZ integral not converged to tol={tol:g}: largest relative standard error "
            f"{rel:.2g} after {total} k-points ({time.perf_counter() - t0:.0f} s, base mesh "
            f"{result.mesh}, k-point budget {budget_k}); raise the budgets (budget_k=, CLI "
            "--budget-k; budget=, CLI --budget) or loosen tol",
            ConvergenceWarning, stacklevel=2)
    return result


def _plain(obj: object) -> JsonValue:
    """numpy scalars and arrays as JSON numbers and lists (floats round-trip exactly)."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot store {type(obj).__name__} in a step journal")


def _to_json(r: SampledIntegral) -> dict[str, JsonValue]:
    """A step's result for the journal (arrays as lists; loaded back by :func:`_from_json`)."""
    return json.loads(json.dumps(dataclasses.asdict(r), default=_plain))


def _from_json(d: dict[str, Any]) -> SampledIntegral:
    """The inverse of :func:`_to_json` (arrays, tuples and integer keys restored)."""
    def entry(h: dict[str, Any]) -> dict[str, Any]:
        h = dict(h)
        for name in ("values", "errors"):
            if name in h:
                h[name] = np.array(h[name], dtype=float)
        for name in ("mesh", "confirming_mesh"):
            if name in h:
                h[name] = tuple(h[name])
        return h

    return SampledIntegral(
        efermi=np.array(d["efermi"], dtype=float), values=np.array(d["values"], dtype=float),
        errors=np.array(d["errors"], dtype=float),
        samples=np.array(d["samples"], dtype=float).reshape(-1, len(d["efermi"])),
        n_k=int(d["n_k"]), mesh=tuple(d["mesh"]), method=d["method"],
        history=[entry(h) for h in d["history"]], converged=d["converged"],
        refinement={int(s): int(c) for s, c in d["refinement"].items()},
        confirmed=d["confirmed"])


def _confirming_mesh(result: SampledIntegral, tol: float, abs_floor: float) -> IntArray:
    """Base mesh of the confirming pass pooled with an unrefined pass that met the tolerance.

    Pooled with equal weights, two passes of errors e_A (deciding) and e_B (confirming) give
    ½ √(e_A² + e_B²). The confirming pass is sized so that this is predicted (e_B at the
    N^(−1/2) rate) to be ≤ target/√2, what the same mesh gives when e_A just meets the target:
    N_B/N_A = r²/(2 − r²), r = e_A/target ≤ 1, at least ``MIN_CONFIRM`` = 1/2 (a coarser pass's
    heavy tail rules the pooled estimate: 1/4 lowered the coverage of the spiky BHZ test from
    0.93 to 0.88) and at most 1 (the same mesh), rounded up to an FFT length. A deciding pass
    that overshot the tolerance (the Bi₂Se₃ `_hr.dat` at tol = 0.05: 2.6 % on 50³) is then
    confirmed by half of its points instead of all of them.
    """
    n = np.array(result.mesh)
    r = min(_worst(result.values, result.errors, tol, abs_floor), 1.0)
    q = min(max(r**2 / (2.0 - r**2), MIN_CONFIRM), 1.0)
    want = n * q ** (1.0 / len(n))
    out = np.array([next_fast_len(int(np.ceil(x - 1e-9))) for x in want])
    return np.minimum(np.maximum(out, 1), n)


def _pooled(a: SampledIntegral, b: SampledIntegral) -> SampledIntegral:
    """Two unrefined passes on independent shifts (the mesh of ``b`` may be coarser) as one
    estimate of M_a + M_b shifts with equal weights: unbiased, and the spread of the pooled
    estimates gives its error (the history entry of ``b`` with the pooled values, errors and
    points, and both meshes; the result keeps the mesh of ``a``)."""
    samples = np.concatenate([a.samples, b.samples])
    v, e = _stats(samples)
    nk = _final_points(a) + _final_points(b)
    hist = [dict(b.history[-1], n_k_final=nk, values=v, errors=e, pooled=True, mesh=a.mesh,
                 confirming_mesh=b.mesh)]
    return dataclasses.replace(b, values=v, errors=e, samples=samples, history=hist, mesh=a.mesh,
                               refinement={1: int(np.prod(a.mesh))})


def _final_points(result: SampledIntegral | None) -> int:
    """k-points behind a result's reported estimate (its last history entry)."""
    return 0 if result is None else int(result.history[-1]["n_k_final"])


# ---------------------------------------------------------------------- kernels
def ahc_kernel(model: LatticeModel, *, component: str = "xy", **kwargs: Any) -> Kernel:
    """Band-resolved Berry curvature Ω^{ij}_m as a kernel (public :func:`tbspin.berry_curvature`;
    an :class:`tbspin.integrands.Integrand`, so uniform passes can use FFT Bloch sums)."""
    from .observables import berry_curvature_kernel

    return berry_curvature_kernel(model, component=component, **kwargs)


def shc_kernel(model: LatticeModel, **kwargs: Any) -> Kernel:
    """Band-resolved spin-Hall integrand as a kernel (public :func:`tbspin.spin_hall_integrand`;
    keywords ``spin``, ``current``, ``efield``, ``formula``, ``method``, ``gauge``, ...; an
    :class:`tbspin.integrands.Integrand`, so uniform passes can use FFT Bloch sums)."""
    from .observables import spin_hall_kernel

    return spin_hall_kernel(model, **kwargs)
