"""The integration engine: k-chunks, Fermi sums, checkpoints, progress, Ctrl-C.

    I(E_F) = (1 / (V_cell N_k)) Σ_{k,m} f(ε_mk − E_F) X_mk

over a uniform mesh (:mod:`tbspin.bz.kmesh`), for a band-resolved integrand k → (ε, X)
(:mod:`tbspin.bands.integrands`). The mesh is cut into chunks of ``chunk_size`` points. The partial
sum of chunk c (:class:`ChunkTask`, a pure function of picklable inputs) is separate from the
loop that reduces the partial sums (:func:`integrate`), so chunks can run on another executor:
``executor`` is any object with ``map(fn, iterable)`` (e.g. a ``concurrent.futures`` executor);
each task returns ``(c, partial sum)`` and the reduction does not depend on completion order
beyond floating-point rounding. ``executor=None`` runs the chunks on the backend chosen by
``workers``/``backend``/``client`` (:class:`tbspin.engine.executor.ChunkPool`: serial, threads,
processes or a dask.distributed cluster), whose results arrive in chunk order, so the fold is the
serial one bit for bit whatever the backend.

Only the bands that some Fermi energy occupies are worked on: the kernel's ``e_max`` is set to
the highest E_F (+40 k_BT at T > 0; :func:`tbspin.bands.integrands.with_band_cutoff`).

H(k) and ∂H on the uniform mesh come from FFT Bloch sums (:mod:`tbspin.bz.fourier`) when the cost
estimate :func:`use_fourier` says they are cheaper than the direct sum (the k-chunks, Fermi sums
and checkpoints are the same either way; the results agree to rounding).

Checkpoints (:mod:`tbspin.engine.checkpoint`) are written after the first chunk, then at most every
``CHECKPOINT_SECONDS``, at the end, and when the run is interrupted (Ctrl-C): the
KeyboardInterrupt is re-raised with a one-line message saying what was saved.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from tbspin.bands.gauge_tally import GaugeRun, map_counted
from tbspin.bands.integrands import with_band_cutoff
from tbspin.bz.fourier import PLANE_GROUP, MeshFourier, displaced_mesh, whole_lines
from tbspin.bz.kmesh import Mesh
from tbspin.engine.checkpoint import (
    CheckpointState,
    JsonValue,
    check_writable,
    load_checkpoint,
    save_checkpoint,
)
from tbspin.engine.executor import ChunkPool, one_blas_thread
from tbspin.engine.occupation import fermi_sum
from tbspin.engine.points import FourierPlans, Kernel, MeshPoints, evaluate_batch, sum_batch
from tbspin.errors import ArgumentError, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.types import FloatArray, IntArray, PathLike

log = logging.getLogger(__name__)

MEMORY_BUDGET = 8 * 2**20  # bytes of complex work arrays per k-chunk (cache-sized: faster, flat RSS)
#: a default chunk holds at least MIN_POINTS k-points (per-chunk Python work: the Fe, Pt,
#: Bi₂Se₃ fits run 10–27 % slower on chunks of 30–84 points) unless one (chunk, N, N) complex
#: array would then exceed ARRAY_BYTES (N > 32): many-band models take smaller chunks, at least
#: 8 points. 256 points of 64 / 96 bands made 17 / 38 MB arrays, far beyond the caches (and the
#: 38 MB ones beyond what malloc reuses: fresh pages from the OS, 4× the cost of refilling, on
#: every chunk): a conventional SHC of a random 96-band model on 12³ took 5.9 s on 252-point
#: chunks, 4.0 s on 24 (2 workers: 3.25 s / 1.88 s; 64 bands on 252 / 60: 2.06 s / 1.51 s;
#: benchmarks/README.md, eighth session)
MIN_POINTS = 256
ARRAY_BYTES = 4 * 2**20
CHECKPOINT_SECONDS = 30.0  # minimum time between two checkpoint writes (after the first chunk)


__all__ = ["occupied_sum", "default_chunk_size", "Plan", "ChunkTask", "integrate",
           "fourier_plans", "plan_recipes", "use_fourier", "CHECKPOINT_SECONDS", "FFT_MODES", "MIN_POINTS",
           "ARRAY_BYTES"]

FFT_MODES = ("auto", "always", "never")


def occupied_sum(
    energies: FloatArray, values: FloatArray, efermi: FloatArray, temperature: float = 0.0,
    occupation: str | Sequence[str] = "sea",
) -> FloatArray:
    """Σ_{k,m} w(ε_mk − E_F) X_mk for many Fermi energies at once: the one Fermi sum,
    :func:`tbspin.engine.occupation.fermi_sum` (f by default; a state with ε = E_F counts as
    occupied at T = 0). ``values`` (Nk, N) gives (nE,), (Nk, N, C) gives (nE, C)."""
    return fermi_sum(energies, values, efermi, temperature, occupation=occupation)


def default_chunk_size(model: LatticeModel, method: str, ndir: int = 2,
                       mesh: Mesh | None = None) -> int:
    """k-points per chunk from the working-set budget ``MEMORY_BUDGET`` (8 MB), at least
    ``MIN_POINTS`` or as many as keep one (chunk, N, N) array within ``ARRAY_BYTES`` (≥ 8); on
    a ``mesh`` that takes FFT Bloch sums (:func:`use_fourier`) a whole number of its lines."""
    n = model.n_orbitals
    per_k = 16 * n * n * (6 + 3 * ndir) * ((1 + 2 * ndir) if method == "fd" else 1)
    floor = min(MIN_POINTS, max(8, ARRAY_BYTES // (16 * n * n)))
    size = int(max(floor, min(100_000, MEMORY_BUDGET // max(per_k, 1))))
    if mesh is not None and use_fourier(model, mesh):
        size = whole_lines(size, int(mesh.n[-1]))
    return size


@dataclasses.dataclass(frozen=True, eq=False)
class Plan:
    """What to sum over: mesh, chunking, Fermi energies (eV) and temperature (K)."""

    mesh: Mesh
    chunk_size: int
    efermi: FloatArray
    temperature: float

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return self.mesh.n_chunks(self.chunk_size)


@dataclasses.dataclass(frozen=True, eq=False)
class ChunkTask:
    """Partial Fermi sum of one chunk of a uniform mesh: ``task(c) -> (c, Σ_chunk f X)`` (pure,
    picklable): the points are :class:`tbspin.engine.points.MeshPoints`, the evaluation and the sum
    the engine's one path (:func:`tbspin.engine.points.sum_batch`)."""

    model: LatticeModel
    kernel: Kernel
    plan: Plan
    fourier: FourierPlans | None = None

    @property
    def points(self) -> MeshPoints:
        """The chunks of the plan's mesh (FFT Bloch sums with ``fourier``)."""
        return MeshPoints(self.model, self.plan.mesh, self.plan.chunk_size, self.fourier)

    def evaluate(self, c: int) -> tuple[FloatArray, FloatArray]:
        """(energies, X) of the points of chunk ``c`` (FFT or direct Bloch sums)."""
        return evaluate_batch(self.kernel, self.points.batch(c))

    def __call__(self, c: int) -> tuple[int, FloatArray]:
        return c, sum_batch(self.kernel, self.points.batch(c), self.plan.efermi,
                            self.plan.temperature, fermi=_engine_sum)


def _engine_sum(E: FloatArray, X: FloatArray, efermi: FloatArray, temperature: float,
                occupation: str | Sequence[str] = "sea") -> FloatArray:
    """The module's :func:`occupied_sum`, looked up at call time (tests spy on it)."""
    return occupied_sum(E, X, efermi, temperature, occupation)


def _acc_shape(kernel: Kernel, plan: Plan) -> tuple[int, ...]:
    """(n_E,) for a one-component kernel, (n_E, C) for a :class:`tbspin.bands.integrands.BandKernel`."""
    if hasattr(kernel, "terms"):
        return (len(plan.efermi), int(kernel.n_components))  # type: ignore[attr-defined]
    return (len(plan.efermi),)


def use_fourier(model: LatticeModel, mesh: Mesh) -> bool:
    """Whether FFT Bloch sums are expected to be cheaper than the direct sum on ``mesh``.

    Per k-point and matrix the direct sum costs ~N_R·N², the FFT path
    ~(N_lead·N_res/n_p + 2 log₂ n_p + 2)·N² (N_lead: distinct leading R components, N_res:
    distinct R_p mod n_p; the +2 covers the transposes and copies). Measured on the catalogue
    and Wannier models (benchmarks/README.md).
    """
    if model.n_periodic == 0 or min(mesh.n) < 2:
        return False
    per = list(model.periodic)
    Rp = model.R[:, per]
    n_last = int(mesh.n[-1])
    lead = len(np.unique(Rp[:, :-1], axis=0)) if Rp.shape[1] > 1 else 1
    n_res = len(np.unique(np.mod(Rp[:, -1], n_last)))
    fft = lead * n_res / n_last + 2.0 * np.log2(n_last) + 2.0
    return bool(fft < len(model.R))


def plan_recipes(model: LatticeModel, kernel: Kernel, mesh: Mesh, fft: str = "auto"
                 ) -> list[tuple[FloatArray | None, tuple[int, ...]]] | None:
    """Which FFT plans a chunk task needs, or None for the direct Bloch sum: per plan the
    Cartesian displacement of its points (None: the mesh itself; ±δ e_a for the
    finite-difference connection) and the directions of ∂H it carries.

    ``kernel`` must be an :class:`tbspin.bands.integrands.Integrand` (it has ``settings`` and
    ``directions``); other kernels always use the direct sum. ``fft``: "auto" (cost estimate
    :func:`use_fourier`), "always" or "never". One decision for :func:`fourier_plans` and
    :func:`tbspin.engine.family.family_plans`.
    """
    if fft not in FFT_MODES:
        raise ParameterError(f"'fft' must be one of {FFT_MODES}, got {fft!r}")
    settings = getattr(kernel, "settings", None)
    dirs = getattr(kernel, "directions", None)
    if fft == "never" or settings is None or dirs is None:
        return None
    if fft == "auto" and not use_fourier(model, mesh):
        return None
    if settings.method == "kubo":
        return [(None, tuple(dirs))]
    recipes: list[tuple[FloatArray | None, tuple[int, ...]]] = [(None, ())]
    for a in dirs:
        for sign in (1.0, -1.0):
            dk = np.zeros(model.dim)
            dk[a] = sign * settings.delta
            try:
                displaced_mesh(model, mesh, dk)
            except ParameterError:  # δ along a non-periodic direction: not a mesh shift
                return None
            recipes.append((dk, ()))
    return recipes


def fourier_plans(model: LatticeModel, kernel: Kernel, mesh: Mesh, fft: str = "auto"
                  ) -> FourierPlans | None:
    """FFT plans for a chunk task (:func:`plan_recipes`), or None for the direct sum."""
    recipes = plan_recipes(model, kernel, mesh, fft)
    return None if recipes is None else _plans(model, mesh, recipes)


def _plans(model: LatticeModel, mesh: Mesh,
           recipes: list[tuple[FloatArray | None, tuple[int, ...]]]) -> FourierPlans:
    """The MeshFourier of each recipe (:func:`plan_recipes`): the mesh, or its displaced copy."""
    return tuple(MeshFourier(model, mesh if dk is None else displaced_mesh(model, mesh, dk), d)
                 for dk, d in recipes)


def subset_plans(model: LatticeModel, kernel: Kernel, mesh: Mesh, index: IntArray,
                 fft: str = "auto") -> FourierPlans | None:
    """FFT plans for the scattered points ``index`` (flat, mesh order) of ``mesh``
    (:class:`tbspin.engine.points.MeshSubsetPoints`), or None for the direct Bloch sum.

    With ``fft="auto"`` the plans are used when their cost, in units of one (1+nd)·N² block,
    N_planes·N_outer·N_inner·N_res (plane sums, in the fixed groups of
    :data:`~tbspin.bz.fourier.PLANE_GROUP` planes that hold points) + N_lines·N_inner·N_res +
    N_points·N_res, is below the direct sum's N_points·N_R
    (the irreducible wedge of Pt 42³: 1903 points on 11 planes and 132 lines, ~1/16 of the
    direct sum's).
    """
    recipes = plan_recipes(model, kernel, mesh, "never" if fft == "never" else "always")
    if recipes is None or len(index) == 0:
        return None
    if fft == "auto":
        per = list(model.periodic)
        Rp = model.R[:, per]
        n = [int(x) for x in mesh.n]
        lead = len(np.unique(Rp[:, :-2], axis=0)) if len(n) > 2 else 1
        inner = len(np.unique(Rp[:, -2])) if len(n) > 1 else 1
        res = len(np.unique(np.mod(Rp[:, -1], n[-1])))
        lines = np.unique(np.asarray(index) // n[-1])
        # the planes are summed in fixed groups of PLANE_GROUP (MeshFourier._plane)
        planes = (len(np.unique(lines // n[-2] // PLANE_GROUP)) * PLANE_GROUP
                  if len(n) > 2 else 0)
        cost = planes * lead * inner * res + len(lines) * inner * res + len(index) * res
        if cost >= len(index) * len(model.R):
            return None
    return _plans(model, mesh, recipes)


def _progress_bar(
    items: Iterator[tuple[int, FloatArray]], progress: bool | None, total: int, initial: int,
    label: str,
) -> Iterator[tuple[int, FloatArray]]:
    if progress is False:
        return items
    from tqdm.auto import tqdm

    # progress=None: tqdm decides (shown on a terminal, silent when stderr is not a TTY)
    return iter(tqdm(items, total=total, initial=initial, unit="chunk", desc=label or None,
                     disable=None if progress is None else False, leave=False))


@GaugeRun.wrap
def integrate(
    model: LatticeModel,
    kernel: Kernel,
    plan: Plan,
    *,
    key: dict[str, JsonValue] | None = None,
    checkpoint: PathLike | None = None,
    progress: bool | None = None,
    executor: object | None = None,
    label: str = "",
    workers: int | None = None,
    backend: str = "auto",
    client: object | None = None,
    fft: str = "auto",
) -> tuple[FloatArray, dict[str, float | int]]:
    """Σ f X over the mesh of ``plan``, divided by V_cell N_k (module docstring).

    Parameters
    ----------
    model : LatticeModel
    kernel : callable
        k (Nk, d) → (energies, X), e.g. a :class:`tbspin.bands.integrands.Integrand`.
    plan : Plan
    key : dict, optional
        Everything that determines the result (required with ``checkpoint``).
    checkpoint : path, optional
        Resume from / save partial sums to this file.
    progress : bool or None
        None: tqdm's automatic choice (a bar on a terminal); True: always; False: never.
    executor : object with ``map(fn, iterable)``, optional
        Runs the chunk tasks (results in any order); excludes ``workers``/``backend``/``client``.
    label : str
        Progress-bar label.
    workers : int, optional
        Concurrent chunk workers (default :func:`tbspin.engine.executor.default_workers`:
        ``$TBSPIN_WORKERS`` if set, else all cores; serial when one chunk is left).
    backend : {"auto", "serial", "threads", "processes", "dask"}
        :mod:`tbspin.engine.executor` backend ("auto": dask with a client, serial for one worker or one
        chunk, else threads).
    client : dask.distributed.Client, optional
        Run the chunks on this cluster (the task, with the model, is shipped once).
    fft : {"auto", "always", "never"}
        FFT Bloch sums on the mesh (:func:`fourier_plans`).

    Returns
    -------
    raw : (n_E,) array, the integral I(E_F) in Å^(2−p)
    info : dict with ``seconds``, ``n_k``, ``chunk_size``, ``resumed_chunks``, ``fft``
    """
    if checkpoint is not None and key is None:
        raise ArgumentError("integrate: a checkpoint needs the calculation's 'key'")
    if executor is not None and (workers is not None or backend != "auto" or client is not None):
        raise ParameterError("give either 'executor' or 'workers'/'backend'/'client', not both")
    key = key or {}
    kernel = with_band_cutoff(kernel, plan.efermi, plan.temperature)
    n_chunks = plan.n_chunks
    state = None
    if checkpoint is not None:
        check_writable(checkpoint)
        state = load_checkpoint(checkpoint, key, _acc_shape(kernel, plan), n_chunks)
        if state is not None:
            log.info("resuming %s: %d of %d chunks done", checkpoint, state.done.sum(), n_chunks)
    if state is None:
        state = CheckpointState.empty(_acc_shape(kernel, plan), n_chunks)
    resumed = int(state.done.sum())
    todo = [c for c in range(n_chunks) if not state.done[c]]
    fourier = fourier_plans(model, kernel, plan.mesh, fft) if todo else None
    task = ChunkTask(model, kernel, plan, fourier)
    if executor is None:
        pool = ChunkPool(workers, backend, client)  # validates workers/backend/client
        if pool.backend != "serial" and (len(todo) > 1 or client is not None):
            executor = pool
    parts: Iterable[tuple[int, FloatArray]] = (
        one_blas_thread(map(task, todo)) if executor is None
        else map_counted(executor, task, todo)
    )
    t0 = time.perf_counter()
    last_save = None
    try:
        for c, part in _progress_bar(iter(parts), progress, n_chunks, resumed, label):
            done = state.done.copy()
            done[c] = True
            state = CheckpointState(acc=state.acc + part, done=done)  # one assignment: consistent
            now = time.perf_counter()
            if checkpoint is not None and (
                last_save is None or now - last_save >= CHECKPOINT_SECONDS or done.all()
            ):
                save_checkpoint(checkpoint, key, state)
                last_save = time.perf_counter()
    except KeyboardInterrupt:
        n_done = int(state.done.sum())
        if checkpoint is not None and n_done > resumed:
            save_checkpoint(checkpoint, key, state)
        where = (f"; checkpoint {checkpoint} holds {n_done} of {n_chunks} chunks (repeat the "
                 "same call to resume)" if checkpoint is not None else "")
        raise KeyboardInterrupt(f"interrupted after {n_done} of {n_chunks} chunks{where}") from None
    raw = state.acc / (plan.mesh.size * model.cell_measure)
    info = {"seconds": time.perf_counter() - t0, "n_k": plan.mesh.size,
            "chunk_size": plan.chunk_size, "resumed_chunks": resumed, "fft": int(fourier is not None)}
    return raw, info
