"""Public entry points: Berry curvature, anomalous Hall and spin Hall conductivities, Chern numbers.

Each function validates its arguments (a :class:`tbspin.errors.ParameterError` names the bad
one), resolves the connection settings ONCE (:func:`tbspin.settings.resolve_connection`, the one
gauge policy), builds a band-resolved integrand (:mod:`tbspin.integrands`, formulas there) and
hands it to the integration engine (:mod:`tbspin.integrate`: chunks, Fermi sums, checkpoints).

Conductivities: I(E_F) = (1 / (V_cell N_k)) Σ_{k,m} f(ε_mk − E_F) X_mk, converted by
:mod:`tbspin.units`: σ_ij = −(e²/ħ) I for the AHC and σ^l_ij = (e/ħ)(ħ/2) I for the spin Hall
conductivity (J^l_i = σ^l_ij E_j). In 2D, σ_xy = −C e²/h for a filled band set with Chern number
C = (1/2π) ∫ Ω^{xy} d²k (C has the sign of the Berry phase, as PythTB's ``berry_flux``).

Gauge: band-resolved values inside degenerate blocks depend on the basis; tbspin fixes it with a
gauge operator (policy in :mod:`tbspin.settings`) and records it in every result.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from . import units
from ._version import __version__
from .checkpoint import JsonValue, array_digest
from .errors import ArgumentError, ParameterError
from .integrands import FORMULAS, Integrand
from .integrate import (
    ChunkTask,
    Plan,
    default_chunk_size,
    fourier_plans,
    integrate,
    occupied_sum,
)
from .kmesh import Mesh, make_mesh
from .model import LatticeModel, axis_index
from .options import DEFAULT_BUDGET_K, check_eta, check_sampling, warn_long_run
from .results import ConductivityResult, model_provenance
from .sampling import GENERIC_SHIFT, SampledIntegral, converge
from .settings import ConnectionSettings, positive_number, resolve_connection, spin_operator
from .types import (
    ArrayLike,
    Direction,
    FloatArray,
    GaugeSpec,
    KPoints,
    MeshSpec,
    PathLike,
    ShiftSpec,
    SpinSpec,
)

__all__ = ["berry_curvature", "anomalous_hall", "spin_hall", "chern_number",
           "spin_hall_integrand", "spin_hall_kernel", "berry_curvature_kernel", "BandIntegrand",
           "occupied_sum", "FORMULAS"]

_CONN_KW = ("delta", "degen_tol", "gauge_tol")


def _settings(model: LatticeModel, method: str, gauge: GaugeSpec, spin: SpinSpec | None,
              conn_kw: dict[str, float]) -> ConnectionSettings:
    unknown = sorted(set(conn_kw) - set(_CONN_KW))
    if unknown:
        raise ArgumentError(f"unexpected keyword argument(s) {unknown}; connection options are {_CONN_KW}")
    return resolve_connection(model, method=method, gauge=gauge, spin=spin, **conn_kw)


def _pair(component: str | Sequence[Direction]) -> tuple[int, int]:
    if isinstance(component, str) and len(component) != 2:
        raise ParameterError(f"'component' must name two directions like 'xy', got {component!r}")
    i, j = (axis_index(c) for c in component)
    if i == j:
        raise ParameterError(f"'component' needs two different directions, got {component!r}")
    return i, j


def _efield(efield: Direction | None, field: Direction | None, default: Direction = "y") -> Direction:
    """The electric-field direction; ``field`` is its deprecated old name."""
    if field is not None:
        warnings.warn("'field' is deprecated; use 'efield' (direction of the electric field)",
                      DeprecationWarning, stacklevel=3)
        if efield is not None:
            raise ParameterError("give 'efield' only ('field' is its deprecated old name)")
        return field
    return default if efield is None else efield


def _efermi(efermi: ArrayLike) -> FloatArray:
    try:
        arr = np.atleast_1d(np.asarray(efermi, dtype=float))
    except (TypeError, ValueError):
        raise ParameterError(f"'efermi' must be numbers (eV), got {efermi!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ParameterError("'efermi' must be a number or a non-empty 1D array of energies (eV)")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("'efermi' contains NaN or Inf")
    return arr


def _chunk(chunk_size: int | None, model: LatticeModel, method: str,
           mesh: Mesh | None = None) -> int:
    """The user's chunk size (validated), else :func:`tbspin.integrate.default_chunk_size`."""
    if chunk_size is None:
        return default_chunk_size(model, method, mesh=mesh)
    if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, numbers.Integral) \
            or chunk_size < 1:
        raise ParameterError(f"'chunk_size' must be a positive whole number, got {chunk_size!r}")
    return int(chunk_size)


def _check_directions(model: LatticeModel, i: int, j: int) -> None:
    for a, name in ((i, "current/component"), (j, "efield/component")):
        if a >= model.dim:
            raise ParameterError(
                f"direction {'xyz'[a]!r} ({name}) does not exist in a {model.dim}D model")


def _position_operator(model: LatticeModel) -> str:
    """Which position operator the Berry connections used (recorded in every result)."""
    if model.uses_position_matrix:
        return "full Wannier position matrix r_R"
    return f"diagonal (tight-binding, Bloch convention {model.convention!r})"


def _default_shift(model: LatticeModel, formula: str, shift: ShiftSpec | None,
                   extras: dict[str, object]) -> ShiftSpec:
    """The user's shift, else Γ-centred — except for the proper formula, whose integrand spikes on
    high-symmetry points (near-degenerate occupied pairs weighted by s_nn − s_mm, issue 9): there
    the default is the generic shift :data:`tbspin.sampling.GENERIC_SHIFT` (fractional parts of
    √2, √3, √5 − 2 of a mesh step: no mesh point on a rational k), recorded in ``extras``."""
    if shift is not None:
        return shift
    if formula != "proper":
        return 0.0
    extras["shift_default"] = ("generic (fractional parts of sqrt2, sqrt3, sqrt5-2 of a mesh "
                               "step): the proper formula spikes on high-symmetry k")
    return tuple(float(x) for x in GENERIC_SHIFT[:model.n_periodic])


def _run_key(integrand: Integrand, *, kind: str, label: str, formula: str, ef: FloatArray,
             temperature: float, eta: float) -> dict[str, JsonValue]:
    """What determines an integral besides its k-sampling (the checkpoint key of both paths)."""
    spin = None if integrand.spin_op is None else array_digest(integrand.spin_op)
    return dict(model=integrand.model.fingerprint(), kind=kind, label=label, formula=formula,
                directions=[integrand.i, integrand.j], spin_operator=spin,
                connection=integrand.settings.key(), efermi=array_digest(ef),
                temperature=temperature, eta=eta)


def _converged(
    integrand: Integrand, ef: FloatArray, *, kind: str, mesh: MeshSpec, temperature: float,
    tol: float, abs_floor: float, budget: float | None, seed: int | None, workers: int | None,
    checkpoint: PathLike | None = None, key: dict[str, JsonValue] | None = None,
    budget_k: int = DEFAULT_BUDGET_K,
) -> tuple[SampledIntegral, dict[str, object]]:
    """The integral to ``tol`` by :func:`tbspin.sampling.converge` (randomized shifted meshes and
    adaptive refinement); ``abs_floor`` is in the canonical unit of the result."""
    model = integrand.model
    tol = positive_number(tol, "tol")
    floor = positive_number(abs_floor, "abs_floor", allow_zero=True)
    secs = None if budget is None else positive_number(budget, "budget")
    factor = abs(units.conversion_factor(kind, model.n_periodic)[0])
    r = converge(integrand, model, ef, tol=tol, abs_floor=floor / factor, budget_seconds=secs,
                 mesh=mesh, seed=seed, temperature=temperature, workers=workers,
                 checkpoint=checkpoint, key=key, budget_k=budget_k)
    info: dict[str, object] = dict(
        sampling=dict(method=r.method, tol=tol, abs_floor=floor, budget_seconds=secs,
                      budget_k=budget_k, start_mesh=list(np.atleast_1d(mesh)), seed=r.seed,
                      seed_given=seed, n_k=r.n_k, n_shifts=r.n_shifts, converged=r.converged,
                      confirmed=r.confirmed, mesh=r.mesh,
                      refinement=r.refinement, history=r.history))
    return r, info


def _conductivity(
    integrand: Integrand, *, kind: str, label: str, formula: str, efermi: ArrayLike,
    mesh: MeshSpec | None, shift: ShiftSpec | None, temperature: float, eta: float,
    chunk_size: int | None, progress: bool | None, checkpoint: PathLike | None,
    executor: object | None, workers: int | None = None, backend: str = "auto",
    client: object | None = None, tol: float | None = None, abs_floor: float = 0.0,
    budget: float | None = None, seed: int | None = None, budget_k: int | None = None,
) -> ConductivityResult:
    """Validate the integration arguments, integrate, and wrap with units and provenance.

    With ``tol`` the integral goes through :func:`tbspin.sampling.converge` (value ± error,
    number of k-points, convergence history in ``extras["sampling"]``); else one uniform mesh.
    """
    model, st = integrand.model, integrand.settings
    mesh, k_budget = check_sampling(tol=tol, mesh=mesh, shift=shift, budget=budget,
                                    budget_k=budget_k, seed=seed)
    ef = _efermi(efermi)
    T = positive_number(temperature, "temperature", allow_zero=True)
    extras: dict[str, object] = {}
    base_key = _run_key(integrand, kind=kind, label=label, formula=formula, ef=ef,
                        temperature=T, eta=eta)
    if tol is not None:
        if executor is not None or client is not None:
            raise ParameterError("'tol' runs do not support 'executor' or 'client' yet (they run "
                                 "on 'workers' threads of this machine)")
        if backend not in ("auto", "threads", "serial"):
            raise ParameterError(f"'tol' runs use threads; backend={backend!r} is not supported")
        r, samp = _converged(integrand, ef, kind=kind, mesh=mesh, temperature=T, tol=tol,
                             abs_floor=abs_floor, budget=budget, seed=seed,
                             workers=1 if backend == "serial" else workers,
                             checkpoint=checkpoint, key=base_key, budget_k=k_budget)
        return ConductivityResult(
            kind=kind, label=label, efermi=ef, raw=r.values, dim=model.n_periodic,
            formula=formula, method=st.method, gauge=st.gauge_description, mesh=r.mesh,
            shift=(0.0,) * len(r.mesh), temperature=T, eta=float(eta), model=model.name,
            version=__version__,
            extras=dict(samp, position_operator=_position_operator(model), **st.extras(),
                        shift_default="random (M shifts of the randomized lattice rule)"),
            fingerprint=model.fingerprint(), provenance=model_provenance(model, st.record()),
            raw_errors=r.errors,
        )
    shift = _default_shift(model, formula, shift, extras)
    kmesh = make_mesh(model, mesh, shift)
    plan = Plan(mesh=kmesh, chunk_size=_chunk(chunk_size, model, st.method, kmesh), efermi=ef,
                temperature=T)
    warn_long_run(integrand, kmesh, workers, stacklevel=4)
    key = dict(base_key, mesh=list(plan.mesh.n), shift=list(plan.mesh.shift),
               chunk_size=plan.chunk_size)
    raw, info = integrate(model, integrand, plan, key=key, checkpoint=checkpoint,
                          progress=progress, executor=executor, label=label, workers=workers,
                          backend=backend, client=client)
    return ConductivityResult(
        kind=kind, label=label, efermi=ef, raw=raw, dim=model.n_periodic, formula=formula,
        method=st.method, gauge=st.gauge_description, mesh=plan.mesh.n, shift=plan.mesh.shift,
        temperature=T, eta=float(eta), model=model.name, version=__version__,
        extras=dict(info, position_operator=_position_operator(model), **st.extras(), **extras),
        fingerprint=model.fingerprint(), provenance=model_provenance(model, st.record()),
    )


# ---------------------------------------------------------------------- public functions
def berry_curvature(
    model: LatticeModel, k: KPoints, *, component: str | Sequence[Direction] = "xy",
    method: str = "kubo", gauge: GaugeSpec = None, **conn_kw: float,
) -> tuple[FloatArray, FloatArray]:
    """Band-resolved Berry curvature Ω^{ij}_m(k) (Å²).

    Parameters
    ----------
    model : LatticeModel
    k : (Nk, d) array_like
        Cartesian wave vectors (1/Å).
    component : str or pair
        Directions (i, j), e.g. "xy" for Ω^z.
    method : {"kubo", "fd"}
    gauge : GaugeSpec
        Gauge operator inside degenerate blocks (policy: :mod:`tbspin.settings`).
    **conn_kw
        ``delta``, ``degen_tol``, ``gauge_tol`` of :func:`tbspin.berry.berry_connection`.

    Returns
    -------
    energies : (Nk, N) eV; curvature : (Nk, N) Å²
    """
    return berry_curvature_kernel(model, component=component, method=method, gauge=gauge,
                                  **conn_kw)(model._as_k(k))


def berry_curvature_kernel(
    model: LatticeModel, *, component: str | Sequence[Direction] = "xy",
    method: str = "kubo", gauge: GaugeSpec = None, **conn_kw: float,
) -> Integrand:
    """The resolved Berry-curvature integrand (arguments as :func:`berry_curvature`): a picklable
    callable k (Nk, d) → (energies, Ω) for :mod:`tbspin.sampling` and the integration engine."""
    i, j = _pair(component)
    _check_directions(model, i, j)
    st = _settings(model, method, gauge, None, conn_kw)
    return Integrand(model, "berry", i, j, st)


def anomalous_hall(
    model: LatticeModel, *, efermi: ArrayLike, mesh: MeshSpec | None = None,
    shift: ShiftSpec | None = None, component: str | Sequence[Direction] = "xy",
    method: str = "kubo", gauge: GaugeSpec = None,
    temperature: float = 0.0, chunk_size: int | None = None, progress: bool | None = None,
    checkpoint: PathLike | None = None, executor: object | None = None,
    workers: int | None = None, backend: str = "auto", client: object | None = None,
    tol: float | None = None, abs_floor: float = 0.0, budget: float | None = None,
    seed: int | None = None, budget_k: int | None = None, **conn_kw: float,
) -> ConductivityResult:
    """Anomalous Hall conductivity σ_ij(E_F) = −(e²/ħ) ∫ d^pk/(2π)^p Σ_m f_m Ω^{ij}_m.

    Parameters
    ----------
    model : LatticeModel
    efermi : float or array
        Fermi energies (eV, finite); all are computed in one pass.
    mesh : int or sequence of int
        Uniform full-BZ mesh (points per periodic direction, ≥ 2); with ``tol`` the starting
        base mesh (default :data:`tbspin.options.DEFAULT_TOL_MESH` = 8; required without
        ``tol``).
    shift : float or sequence, optional
        Mesh shift in units of the mesh step (default Γ-centred; refused with ``tol``, whose
        meshes are randomly shifted).
    component : str
        "xy" gives σ_xy (current x, field y).
    method : {"kubo", "fd"}
    gauge : GaugeSpec
        Gauge operator inside degenerate blocks (the AHC of whole filled blocks does not
        depend on it).
    temperature : float
        Fermi–Dirac temperature (K, ≥ 0); 0 uses step occupations.
    chunk_size : int, optional
        k-points per batch (default from an 8 MB working-set budget per chunk).
    progress : bool or None
        Progress bar: None (default) shows it when stderr is a terminal; True/False force it.
    checkpoint : path, optional
        Save partial sums there (atomically: after the first chunk, then every 30 s, and on
        Ctrl-C) and resume from it; keyed on the model fingerprint and every parameter. With
        ``tol``: a step journal saved after every completed pass (one per base mesh); the
        repeated call replays them and continues (:func:`tbspin.sampling.converge`).
    executor : object with ``map``, optional
        Runs the chunks (instead of ``workers``/``backend``/``client``), see
        :mod:`tbspin.integrate`.
    workers : int, optional
        Chunks computed concurrently (default: all cores; serial for a one-chunk mesh). The
        result does not depend on it (partial sums are folded in chunk order).
    backend : {"auto", "serial", "threads", "processes", "dask"}
        How the chunks run (:mod:`tbspin.executor`); "auto": threads, or dask with a client.
    client : dask.distributed.Client, optional
        Run the chunks on this dask cluster.
    tol : float, optional
        Relative target, 0 < tol < 1. Converge on request: randomly shifted meshes
        (randomized lattice rule) with adaptive refinement of the dominant k-cells
        (:func:`tbspin.sampling.converge`) until the standard error is
        ≤ max(tol·|value|, abs_floor) at every E_F, or the budget is used up (then a
        ConvergenceWarning). The result carries ``errors``; ``extras["sampling"]`` holds the
        number of k-points, the convergence history and whether ``tol`` was reached.
    abs_floor : float
        Absolute error target for values near zero, in the canonical unit of the result.
    budget : float, optional
        Wall-time budget (s) of a ``tol`` run (refused without ``tol``).
    seed : int, optional
        Seed of the random shifts of a ``tol`` run (refused without ``tol``). Without it a seed
        is drawn; the one used is recorded in ``extras["sampling"]["seed"]`` and reruns the
        same result.
    budget_k : int, optional
        Largest number of k-point evaluations of a ``tol`` run (default
        :data:`tbspin.options.DEFAULT_BUDGET_K` = 2e7; refused without ``tol``).
    **conn_kw
        ``delta``, ``degen_tol``, ``gauge_tol`` (:func:`tbspin.berry.berry_connection`;
        ``degen_tol`` defaults to the model's degeneracy scale, :mod:`tbspin.settings`).

    Returns
    -------
    ConductivityResult
        Values in S/cm (3D) or e²/h (2D); ``.to("S/m")`` etc. for other units; ``errors``
        (1σ) with ``tol``, else None.
    """
    i, j = _pair(component)
    _check_directions(model, i, j)
    st = _settings(model, method, gauge, None, conn_kw)
    return _conductivity(
        Integrand(model, "berry", i, j, st), kind="ahc", label=f"sigma_{'xyz'[i]}{'xyz'[j]}",
        formula="berry", efermi=efermi, mesh=mesh, shift=shift, temperature=temperature,
        eta=0.0, chunk_size=chunk_size, progress=progress, checkpoint=checkpoint,
        executor=executor, workers=workers, backend=backend, client=client, tol=tol,
        abs_floor=abs_floor, budget=budget, seed=seed, budget_k=budget_k,
    )


def _shc_integrand(
    model: LatticeModel, *, spin: SpinSpec, current: Direction, efield: Direction, formula: str,
    method: str, gauge: GaugeSpec, eta: float, conn_kw: dict[str, float],
) -> tuple[Integrand, str]:
    if formula not in FORMULAS:
        raise ParameterError(f"'formula' must be one of {FORMULAS}, got {formula!r}")
    i, j = axis_index(current), axis_index(efield)
    if i == j:
        raise ParameterError(f"'current' and 'efield' must differ, got {current!r} and {efield!r}")
    _check_directions(model, i, j)
    eta = positive_number(eta, "eta", allow_zero=True)
    check_eta(eta, formula)
    spin_op, slabel = spin_operator(model, spin)
    st = _settings(model, method, gauge, spin, conn_kw)
    if formula == "conventional":
        st = st.with_method("kubo")  # velocity matrices; the result records "kubo"
    return Integrand(model, formula, i, j, st, spin_op, eta), f"sigma^{slabel}_{'xyz'[i]}{'xyz'[j]}"


def spin_hall(
    model: LatticeModel, *, efermi: ArrayLike, mesh: MeshSpec | None = None, spin: SpinSpec = "z",
    current: Direction = "x", efield: Direction | None = None, formula: str = "proper",
    method: str = "kubo", gauge: GaugeSpec = None, temperature: float = 0.0, eta: float = 0.0,
    shift: ShiftSpec | None = None, chunk_size: int | None = None, progress: bool | None = None,
    checkpoint: PathLike | None = None, executor: object | None = None,
    workers: int | None = None, backend: str = "auto", client: object | None = None,
    field: Direction | None = None, tol: float | None = None, abs_floor: float = 0.0,
    budget: float | None = None, seed: int | None = None, budget_k: int | None = None,
    **conn_kw: float,
) -> ConductivityResult:
    """Spin Hall conductivity σ^l_ij(E_F): spin l, current i, field j (J^l_i = σ^l_ij E_j).

    Parameters
    ----------
    model : LatticeModel
        Must carry spin operators (units ħ/2) or ``spin`` must name another operator.
    efermi : float or array
        Fermi energies (eV).
    mesh : int or sequence of int
        Uniform full-BZ mesh (≥ 2 points per periodic direction); optional with ``tol`` (the
        starting base mesh, default 8).
    spin : "x", "y", "z", a 3-vector, or an operator name of the model
        Spin component l (an operator name lets you use e.g. a J_z operator you attached).
    current, efield : "x", "y", "z"
        Directions i (spin current) and j (electric field; default "y").
    formula : {"proper", "conventional", "smm_omega"}
        Proper (conserved) spin current of PRB 108, 195434 Eq. 2; conventional ½{s, v} Kubo
        formula; or Σ_m s_mm Ω_m (Eq. 9 of the paper, a diagnostic).
    method : {"kubo", "fd"}
        How the Berry connection is obtained ("proper", "smm_omega"); the conventional formula
        always uses velocity matrices (the result records "kubo").
    gauge : GaugeSpec
        Gauge operator inside degenerate blocks; default m̂·s if the model has a magnetization,
        else s_l (the spin component asked for); "none" = parallel transport, no operator.
        The proper spin current depends on it at degeneracies; recorded in ``result.gauge``.
    temperature : float
        Fermi–Dirac temperature (K).
    eta : float
        Broadening (eV, ≥ 0) of the conventional Kubo denominators (``eta != 0`` with another
        formula is refused).
    shift : float or sequence, optional
        Mesh shift in units of the mesh step. Default: Γ-centred, except for the proper formula,
        whose integrand spikes on high-symmetry k (near-degenerate occupied pairs weighted by
        s_nn − s_mm): there a generic irrational shift (:data:`tbspin.sampling.GENERIC_SHIFT`),
        recorded in ``extras["shift_default"]``.
    tol, abs_floor, budget, seed, budget_k
        Converge on request with an error bar, as in :func:`anomalous_hall` (``abs_floor`` in
        the canonical unit of the result).
    chunk_size, progress, checkpoint, executor, workers, backend, client, **conn_kw
        As in :func:`anomalous_hall`.
    field : deprecated
        Old name of ``efield`` (DeprecationWarning).

    Returns
    -------
    ConductivityResult
        Values in (ħ/2e) S/m (3D) or e/8π (2D); ``.to("(hbar/e) S/cm")`` in 3D; ``errors``
        (1σ) with ``tol``, else None.
    """
    integrand, label = _shc_integrand(
        model, spin=spin, current=current, efield=_efield(efield, field), formula=formula,
        method=method, gauge=gauge, eta=eta, conn_kw=conn_kw)
    return _conductivity(
        integrand, kind="shc", label=label, formula=formula, efermi=efermi, mesh=mesh,
        shift=shift, temperature=temperature, eta=integrand.eta, chunk_size=chunk_size,
        progress=progress, checkpoint=checkpoint, executor=executor, workers=workers,
        backend=backend, client=client, tol=tol, abs_floor=abs_floor, budget=budget, seed=seed,
        budget_k=budget_k,
    )


def chern_number(
    model: LatticeModel, *, bands: int | Sequence[int], mesh: MeshSpec, component: str = "xy",
    method: str = "kubo", gauge: GaugeSpec = None, **conn_kw: float,
) -> float:
    """Chern number C = (1/2π) ∫ Ω^{ij} d²k of a set of bands of a 2D model.

    Parameters
    ----------
    bands : int or sequence of int
        The number of lowest bands (int), or explicit band indices. The set must be separated
        from the other bands by a gap everywhere on the mesh for C to be an integer.
    mesh : int or pair
        Uniform mesh.

    Returns
    -------
    float
        C (close to an integer when converged); its sign is that of the Berry phase
        (PythTB's ``berry_flux`` convention).
    """
    if model.n_periodic != 2:
        raise ParameterError(
            f"chern_number needs a model with 2 periodic directions, got {model.n_periodic}")
    idx = np.arange(int(bands)) if isinstance(bands, numbers.Integral) else np.asarray(bands, dtype=int)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= model.n_orbitals:
        raise ParameterError(
            f"'bands' must select bands among 0..{model.n_orbitals - 1}, got {bands!r}")
    i, j = _pair(component)
    _check_directions(model, i, j)
    kern = Integrand(model, "berry", i, j, _settings(model, method, gauge, None, conn_kw))
    m = make_mesh(model, mesh)
    # the engine's chunk task: FFT Bloch sums when cheaper (tbspin.integrate.fourier_plans)
    task = ChunkTask(model, kern, Plan(m, _chunk(None, model, method, m), np.zeros(1), 0.0),
                     fourier_plans(model, kern, m))
    total = 0.0
    for c in range(task.plan.n_chunks):
        _, X = task.evaluate(c)
        total += X[:, idx].sum()
    return float(total / (m.size * model.cell_measure) * 2 * np.pi)


@dataclasses.dataclass
class BandIntegrand:
    """Band-resolved integrand on explicit k-points (for plots and diagnostics)."""

    k: FloatArray
    energies: FloatArray
    values: FloatArray


def spin_hall_integrand(
    model: LatticeModel, k: KPoints, *, spin: SpinSpec = "z", current: Direction = "x",
    efield: Direction | None = None, formula: str = "proper", method: str = "kubo",
    gauge: GaugeSpec = None, eta: float = 0.0, field: Direction | None = None, **conn_kw: float,
) -> BandIntegrand:
    """Band-resolved spin-Hall integrand X_mk (Å², spin in ħ/2) at given k-points.

    Arguments as in :func:`spin_hall` (``field`` is the deprecated name of ``efield``).
    """
    integrand = spin_hall_kernel(model, spin=spin, current=current, efield=efield,
                                 formula=formula, method=method, gauge=gauge, eta=eta,
                                 field=field, **conn_kw)
    k = model._as_k(k)
    E, X = integrand(k)
    return BandIntegrand(k=k, energies=E, values=X)


def spin_hall_kernel(
    model: LatticeModel, *, spin: SpinSpec = "z", current: Direction = "x",
    efield: Direction | None = None, formula: str = "proper", method: str = "kubo",
    gauge: GaugeSpec = None, eta: float = 0.0, field: Direction | None = None, **conn_kw: float,
) -> Integrand:
    """The resolved spin-Hall integrand (arguments as :func:`spin_hall_integrand`): a picklable
    callable k (Nk, d) → (energies, X) for :mod:`tbspin.sampling` and the integration engine."""
    integrand, _ = _shc_integrand(
        model, spin=spin, current=current, efield=_efield(efield, field), formula=formula,
        method=method, gauge=gauge, eta=eta, conn_kw=conn_kw)
    return integrand


