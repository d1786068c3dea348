"""Public entry points: Berry curvature, anomalous Hall and spin Hall conductivities, Chern numbers.

Each function validates its arguments (a :class:`tbspin.errors.ParameterError` names the bad
one), resolves the connection settings ONCE (:func:`tbspin.bands.settings.resolve_connection`, the one
gauge policy), builds a band-resolved integrand (:mod:`tbspin.bands.integrands`, formulas there) and
hands it to the integration engine (:mod:`tbspin.engine.integrate`: chunks, Fermi sums, checkpoints).

Conductivities: I(E_F) = (1 / (V_cell N_k)) Σ_{k,m} f(ε_mk − E_F) X_mk, converted by
:mod:`tbspin.units`: σ_ij = −(e²/ħ) I for the AHC and σ^l_ij = (e/ħ)(ħ/2) I for the spin Hall
conductivity (J^l_i = σ^l_ij E_j). In 2D, σ_xy = −C e²/h for a filled band set with Chern number
C = (1/2π) ∫ Ω^{xy} d²k (C has the sign of the Berry phase, as PythTB's ``berry_flux``).

Gauge: band-resolved values inside degenerate blocks depend on the basis; tbspin fixes it with a
gauge operator (policy in :mod:`tbspin.bands.settings`) and records it in every result.

Whole tensors: :func:`compute` evaluates any registered observable record
(:mod:`tbspin.observables.base`) for any set of components — "all" by default — from ONE
eigensystem per k-point; ``spin_hall(spin="all", current="all", efield="all")`` and
``anomalous_hall(component="all")`` go through it. With the proper formula the basis inside
degenerate blocks follows the gauge policy per spin component (s_l, or m̂·s for all l when
magnetized): each block is rotated once per distinct operator, and every component equals the
single-component call to round-off. A ``tol`` run converges every component to ``tol`` times
the largest component at its Fermi energy (the largest to ``tol``, the others to the same
absolute error), or to ``abs_floor`` if that is larger.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Sequence

import numpy as np

from tbspin.bands.integrands import FORMULAS, BandKernel, Integrand
from tbspin.bands.settings import ConnectionSettings, positive_number, spin_operator
from tbspin.bz.kmesh import make_mesh
from tbspin.engine.integrate import ChunkTask, Plan, fourier_plans, occupied_sum
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel, axis_index
from tbspin.observables import base
from tbspin.observables._options import check_eta
from tbspin.observables._run import _check_directions, _chunk, _conductivity, _efield, _pair, _settings
from tbspin.observables._wedge import prepare_wedge
from tbspin.results.conductivity import ConductivityResult
from tbspin.sampling.targets import TolSpec
from tbspin.types import (
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
           "occupied_sum", "FORMULAS", "compute"]


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
        Gauge operator inside degenerate blocks (policy: :mod:`tbspin.bands.settings`).
    **conn_kw
        ``delta``, ``degen_tol``, ``gauge_tol`` of :func:`tbspin.bands.berry.berry_connection`.

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
    tol: TolSpec | None = None, abs_floor: TolSpec = 0.0, budget: float | None = None,
    seed: int | None = None, budget_k: int | None = None, symmetry: object = None, errors: bool = True,
    converge_at: ArrayLike | None = None, refine_gap: float | None = None, **conn_kw: float,
) -> ConductivityResult:
    """Anomalous Hall conductivity σ_ij(E_F) = −(e²/ħ) ∫ d^pk/(2π)^p Σ_m f_m Ω^{ij}_m.

    Parameters
    ----------
    model : LatticeModel
    efermi : float or array
        Fermi energies (eV, finite); all are computed in one pass.
    mesh : int or sequence of int
        Uniform full-BZ mesh (points per periodic direction, ≥ 2); with ``tol`` the starting
        base mesh (default :data:`tbspin.observables._options.DEFAULT_TOL_MESH` = 8; required without
        ``tol``). By default its k-points are evaluated as M randomly shifted sub-meshes of the
        same total size for an error bar (``errors``).
    shift : float or sequence, optional
        Shift of a plain mesh (``errors=False``) in units of the mesh step (default Γ-centred;
        refused with ``tol`` or the default error estimate, whose meshes are randomly shifted).
    component : str
        "xy" gives σ_xy (current x, field y); "all" the pseudovector components σ_yz, σ_zx,
        σ_xy (those of the periodic directions) from one pass (:func:`compute`).
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
        :mod:`tbspin.engine.integrate`.
    workers : int, optional
        Chunks computed concurrently (default: all cores; serial for a one-chunk mesh). The
        result does not depend on it (partial sums are folded in chunk order).
    backend : {"auto", "serial", "threads", "processes", "dask"}
        How the chunks run (:mod:`tbspin.engine.executor`); "auto": threads, or dask with a client.
    client : dask.distributed.Client, optional
        Run the chunks on this dask cluster.
    tol : float or sequence, optional
        Relative target, 0 < tol < 1. Converge on request: randomly shifted meshes
        (randomized lattice rule) with adaptive refinement of the dominant k-cells
        (:func:`tbspin.sampling.converge`) until the standard error is
        ≤ max(tol·|value|, abs_floor) at every E_F, or the budget is used up (then a
        ConvergenceWarning). The result carries ``errors``; ``extras["sampling"]`` holds the
        number of k-points, the convergence history and whether ``tol`` was reached. With
        several components: one number (every component to tol × the largest at its E_F) or
        one per component (each to tol_c × max(|its value|, abs_floor_c);
        :class:`tbspin.sampling.targets.Goal`). A ``tol`` run takes ``client`` (dask) and
        ``checkpoint`` (resumes inside the interrupted pass).
    abs_floor : float or sequence
        Absolute error target for values near zero, in the canonical unit of the result (with
        a per-component ``tol``: the size below which a component counts as vanishing); one
        number or one per component.
    converge_at : float or sequence, optional
        With ``tol``: the Fermi energies (eV, among ``efermi``) at which convergence is judged
        (default: all); the others are carried along with the error bars of the final mesh
        (e.g. a curve around a headline E_F). Refused without ``tol``.
    refine_gap : float, optional
        With ``tol``: sample gap-refined meshes instead of variance-driven refinement
        (:mod:`tbspin.sampling.gaptree`): before any integrand is evaluated, the cells where two
        bands with occupied weight come closer than ``refine_gap`` (eV; halved per level of
        subdivision) are split, then the fixed tree is sampled with random shifts. For
        integrands with 1/Δ² peaks between occupied bands (the proper spin current of Wannier
        fits); a few times the change of a gap across a base cell. Without ``tol``: one such
        pass, 16 random shifts of the tree of base mesh ``mesh`` (built for the highest
        ``efermi``: every E_F of a curve from the same leaves), value ± the spread of the
        shifts (refused with ``errors=False``, ``shift``, ``symmetry`` or ``checkpoint``).
    budget : float, optional
        Wall-time budget (s) of a ``tol`` run (refused without ``tol``).
    seed : int, optional
        Seed of the random shifts (of a ``tol`` run or of the default error estimate; refused
        with ``errors=False`` and no ``tol``). Without it a seed is drawn; the one used is
        recorded in ``extras["sampling"]["seed"]`` and reruns the same result.
    budget_k : int, optional
        Largest number of k-point evaluations of a ``tol`` run (default
        :data:`tbspin.observables._options.DEFAULT_BUDGET_K` = 2e7; refused without ``tol``).
    symmetry : None, "auto" or SpaceGroup
        Irreducible-wedge integral with the tensor rebuilt by the point group (antiunitary
        elements with the AHC's odd T parity), as in :func:`compute`.
    errors : bool
        Without ``tol``: True (default) evaluates the mesh's k-points as M randomly shifted
        sub-meshes that tile it (:func:`tbspin.sampling.submesh.split_mesh`: each direction in
        parts of ⌊n/k⌋ or ⌈n/k⌉ points, k = 2 in 3D, 3 in 2D, 8 in 1D, every combination a
        sub-mesh; a 21³ mesh is 8 sub-meshes (10|11)³; exactly the k-points of the plain mesh,
        so the same cost) and returns value ± the
        Student-t standard error of the M estimates, with a
        :class:`~tbspin.errors.ConvergenceWarning` when the relative error exceeds 10 % or one
        sub-mesh lies far from the others. False: one plain (Γ-centred or ``shift``-ed) mesh,
        no error bar (``extras["errors"]`` says so); needed with ``checkpoint``.
    **conn_kw
        ``delta``, ``degen_tol``, ``gauge_tol`` (:func:`tbspin.bands.berry.berry_connection`;
        ``degen_tol`` defaults to the model's degeneracy scale, :mod:`tbspin.bands.settings`).

    Returns
    -------
    ConductivityResult
        Values in S/cm (3D) or e²/h (2D); ``.to("S/m")`` etc. for other units; ``errors``
        (1σ), None with ``errors=False``.
    """
    if (isinstance(component, str) and component == "all") or symmetry is not None:
        comps = ([c for c in ((1, 2), (2, 0), (0, 1)) if max(c) < model.dim]
                 if isinstance(component, str) and component == "all" else [_pair(component)])
        return compute(
            model, "ahc", efermi=efermi, mesh=mesh, components=comps, method=method, gauge=gauge,
            temperature=temperature, shift=shift, chunk_size=chunk_size, progress=progress,
            checkpoint=checkpoint, executor=executor, workers=workers, backend=backend,
            client=client, tol=tol, abs_floor=abs_floor, budget=budget, seed=seed,
            converge_at=converge_at, refine_gap=refine_gap, budget_k=budget_k,
            symmetry=symmetry, errors=errors,
            **conn_kw)  # type: ignore[arg-type]
    i, j = _pair(component)
    _check_directions(model, i, j)
    st = _settings(model, method, gauge, None, conn_kw)
    return _conductivity(
        Integrand(model, "berry", i, j, st), kind="ahc", label=f"sigma_{'xyz'[i]}{'xyz'[j]}",
        formula="berry", efermi=efermi, mesh=mesh, shift=shift, temperature=temperature,
        eta=0.0, chunk_size=chunk_size, progress=progress, checkpoint=checkpoint,
        executor=executor, workers=workers, backend=backend, client=client, tol=tol,
        abs_floor=abs_floor, budget=budget, seed=seed, converge_at=converge_at, refine_gap=refine_gap,
        budget_k=budget_k, errors=errors,
    )


def _shc_integrand(
    model: LatticeModel, *, spin: SpinSpec, current: Direction, efield: Direction, formula: str,
    method: str, gauge: GaugeSpec, eta: float, conn_kw: dict[str, float],
) -> tuple[Integrand, str]:
    if formula not in FORMULAS:
        raise ParameterError(f"'formula' must be one of {FORMULAS}, got {formula!r}")
    i, j = axis_index(current), axis_index(efield)
    if i == j and formula != "conventional":
        raise ParameterError(f"'current' and 'efield' must differ for the {formula!r} formula "
                             f"(antisymmetric in them: σ^l_ii = 0 identically), got {current!r} "
                             f"and {efield!r}")
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
    field: Direction | None = None, tol: TolSpec | None = None, abs_floor: TolSpec = 0.0,
    budget: float | None = None, seed: int | None = None, budget_k: int | None = None,
    components: object = None, symmetry: object = None, errors: bool = True,
    converge_at: ArrayLike | None = None, refine_gap: float | None = None, **conn_kw: float,
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
    spin : "x", "y", "z", "all", a 3-vector, or an operator name of the model
        Spin component l (an operator name lets you use e.g. a J_z operator you attached).
    current, efield : "x", "y", "z" or "all"
        Directions i (spin current) and j (electric field; default "y"). Any "all" (or
        ``components``) computes those components of the tensor from one eigensystem per
        k-point (:func:`compute`): ``raw`` (n_E, C), ``result.tensor()`` (n_E, 3, 3, 3).
    components : str or sequence, optional
        Explicit components "lij" (e.g. "zxy,xyz"), instead of spin/current/efield.
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
        Shift of a plain mesh (``errors=False``) in units of the mesh step. Default: Γ-centred,
        except for the proper formula,
        whose integrand spikes on high-symmetry k (near-degenerate occupied pairs weighted by
        s_nn − s_mm): there a generic irrational shift (:data:`tbspin.sampling.GENERIC_SHIFT`),
        recorded in ``extras["shift_default"]``.
    tol, abs_floor, converge_at, refine_gap, budget, seed, budget_k, errors
        Converge on request with an error bar, or the default error bar of one mesh, as in
        :func:`anomalous_hall` (``abs_floor`` in the canonical unit of the result).
    chunk_size, progress, checkpoint, executor, workers, backend, client, **conn_kw
        As in :func:`anomalous_hall`.
    field : deprecated
        Old name of ``efield`` (DeprecationWarning).
    symmetry : None, "auto" or SpaceGroup
        Irreducible-wedge integral with the tensor rebuilt by the point group, as in
        :func:`compute` (``spin`` must then be an axis or "all").

    Returns
    -------
    ConductivityResult
        Values in (ħ/2e) S/m (3D) or e/8π (2D); ``.to("(hbar/e) S/cm")`` in 3D; ``errors``
        (1σ), None with ``errors=False``.
    """
    efield = _efield(efield, field)
    if components is not None or symmetry is not None or \
            "all" in [x for x in (spin, current, efield) if isinstance(x, str)]:
        if components is None:
            antisym = formula in ("proper", "smm_omega")
            ls = _axes(spin, 3, "spin")
            comps: object = [(l, i, j) for l in ls for i in _axes(current, model.dim, "current")
                             for j in _axes(efield, model.dim, "efield")
                             if not (antisym and i == j)]
        else:
            comps = components
        if formula not in FORMULAS:
            raise ParameterError(f"'formula' must be one of {FORMULAS}, got {formula!r}")
        return compute(
            model, "shc", efermi=efermi, mesh=mesh, components=comps, formula=formula,
            method=method, gauge=gauge, eta=eta, temperature=temperature, shift=shift,
            chunk_size=chunk_size, progress=progress, checkpoint=checkpoint, executor=executor,
            workers=workers, backend=backend, client=client, tol=tol, abs_floor=abs_floor,
            converge_at=converge_at, refine_gap=refine_gap, budget=budget, seed=seed, budget_k=budget_k,
            symmetry=symmetry, errors=errors,
            **conn_kw)  # type: ignore[arg-type]
    integrand, label = _shc_integrand(
        model, spin=spin, current=current, efield=efield, formula=formula,
        method=method, gauge=gauge, eta=eta, conn_kw=conn_kw)
    return _conductivity(
        integrand, kind="shc", label=label, formula=formula, efermi=efermi, mesh=mesh,
        shift=shift, temperature=temperature, eta=integrand.eta, chunk_size=chunk_size,
        progress=progress, checkpoint=checkpoint, executor=executor, workers=workers,
        backend=backend, client=client, tol=tol, abs_floor=abs_floor, budget=budget, seed=seed,
        converge_at=converge_at, refine_gap=refine_gap, budget_k=budget_k, errors=errors,
    )


# ---------------------------------------------------------------------- whole tensors
def _spin_slots(
    model: LatticeModel, comps: Sequence[Sequence[int]], method: str, gauge: GaugeSpec,
    conn_kw: dict[str, float], formula: str,
) -> tuple[tuple[tuple[object, ConnectionSettings] | None, ...], str]:
    """(operator, gauge-resolved settings) per spin component l used by ``comps`` (slot l), and
    one line describing the gauges."""
    slots: list[tuple[object, ConnectionSettings] | None] = [None, None, None]
    desc: dict[str, str] = {}
    seen: dict[str, ConnectionSettings] = {}
    for l in sorted({int(c[0]) for c in comps}):
        op, label = spin_operator(model, "xyz"[l])
        st = _settings(model, method, gauge, "xyz"[l], conn_kw)
        if formula == "conventional":
            st = st.with_method("kubo")
        # one settings object per distinct gauge (e.g. m̂·s of a magnet for every l): the band
        # context caches the rotated basis, velocities and pair terms by that object
        st = seen.setdefault(repr(sorted(st.key().items())), st)
        slots[l] = (op, st)
        desc[label] = st.gauge_description
    if len(set(desc.values())) == 1:
        return tuple(slots), next(iter(desc.values()))
    return tuple(slots), "; ".join(f"spin {k}: {v}" for k, v in desc.items())


def compute(
    model: LatticeModel, observable: str, *, efermi: ArrayLike, mesh: MeshSpec | None = None,
    components: object = "all", formula: str | None = None, method: str = "kubo",
    gauge: GaugeSpec = None, eta: float = 0.0, temperature: float = 0.0,
    shift: ShiftSpec | None = None, chunk_size: int | None = None,
    progress: bool | None = None, checkpoint: PathLike | None = None,
    executor: object | None = None, workers: int | None = None, backend: str = "auto",
    client: object | None = None, tol: TolSpec | None = None, abs_floor: TolSpec = 0.0,
    budget: float | None = None, seed: int | None = None, budget_k: int | None = None,
    options: dict | None = None, symmetry: object = None, errors: bool = True,
    converge_at: ArrayLike | None = None, refine_gap: float | None = None, **conn_kw: float,
) -> ConductivityResult:
    """Any registered observable, many components from one eigensystem per k-point.

    Parameters
    ----------
    model : LatticeModel
    observable : str
        A record name (:func:`tbspin.observables.available`: "ahc", "shc", "spin_density", …).
    efermi, mesh, shift, temperature, chunk_size, progress, checkpoint, executor, workers, \
backend, client, tol, abs_floor, converge_at, refine_gap, budget, seed, budget_k, errors, **conn_kw
        As in :func:`spin_hall`. With ``tol`` every component converges to ``tol`` × the largest
        |component| at its E_F, or ``abs_floor`` (module docstring); with one ``tol`` per
        component (in the order of ``components``) each to its own tol_c × max(|value|,
        abs_floor_c).
    components : "all", str or sequence
        Index tuples in the order of the record's ``indices`` ("zxy" = σ^z_xy); "all": every
        component that does not vanish identically
        (:func:`tbspin.observables.base.parse_components`).
    formula : str, optional
        One of the record's formulas (default: its first).
    method, gauge, eta
        Connection method, gauge operator (per spin component by default), Kubo broadening.
    options : dict, optional
        Record-specific options (e.g. ``projector`` of the spin density).
    symmetry : None, "auto", SpaceGroup or (SpaceGroup, OrbitalBasis)
        "auto" (the space group of the model's crystal structure, grey with T unless magnetic),
        a :class:`tbspin.crystal.SpaceGroup` (basis from the model's ``.win`` projections) or
        a group with its :class:`tbspin.crystal.OrbitalBasis`: integrate over the irreducible points of the
        mesh (Γ-centred unless ``shift`` is given, and the group must keep it) with star
        weights and rebuild the tensor with the point group
        (:mod:`tbspin.observables._wedge`); equal to the full mesh to rounding on a model that
        commutes with the group (checked; symmetrize a fit first with
        :func:`tbspin.crystal.symmetrize`). The proper formula is accepted when its gauge
        operators follow the group (s_l under cubic groups); refused otherwise.
        ``extras["symmetry"]`` records the group, the number of irreducible points and the
        checks. With ``tol``: no wedge (random shifted meshes are not invariant) but the star
        average at every sampled k — the integrand's tensor projected on the group's tensor
        shape, X → P X, which is the average of X over the star {gk} at no extra
        diagonalization: the same integral, a smaller variance where P mixes components that
        the integrand's spikes feed differently (Pt's six ε_lij); where P maps the requested
        components onto themselves alone it changes nothing (``extras["symmetry"]["identity"]``).
        A proper-formula gauge that does not follow every element is then not refused:
        P averages over the elements it follows (``extras["symmetry"]["star_elements"]``).
        None (default): the full mesh.

    Returns
    -------
    ConductivityResult
        ``raw`` (n_E, C) with ``components`` and ``indices``;
        :meth:`~tbspin.results.conductivity.ConductivityResult.tensor` gives the dense (n_E, 3, …) array.
    """
    rec = base.get(observable)
    formula = rec.formulas[0] if formula is None else formula
    if formula not in rec.formulas:
        raise ParameterError(f"{rec.name}: 'formula' must be one of {rec.formulas}, got {formula!r}")
    comps = rec.components(model, components)
    eta = positive_number(eta, "eta", allow_zero=True)
    if rec.name == "shc":
        check_eta(eta, formula)
    if not rec.uses_gauge:
        gauge = "none" if gauge is None else gauge
    if "spin" in rec.indices:
        spins, desc = _spin_slots(model, comps, method, gauge, dict(conn_kw), formula)
        st = next(s[1] for s in spins if s is not None)
    else:
        spins, st = (), _settings(model, method, gauge, None, dict(conn_kw))
        desc = st.gauge_description
    kernel_comps = comps
    wedge = None
    if symmetry is not None:  # the components the group average needs, all gauges resolved
        every = rec.components(model, "all")
        if "spin" in rec.indices:
            spins, desc = _spin_slots(model, every, method, gauge, dict(conn_kw), formula)
        wedge = prepare_wedge(model, rec, formula, symmetry, every, comps, spins, options,
                              stars=tol is not None)
        if wedge is not None:
            kernel_comps = wedge.kernel_components
    term = rec.term(model, kernel_comps, formula=formula, settings=st, spins=spins, eta=eta,
                    **(options or {}))
    kernel = BandKernel(model, (term,), st)
    return _conductivity(
        kernel, kind=rec.kind, label=f"{rec.name} tensor", formula=formula, efermi=efermi,
        mesh=mesh, shift=shift, temperature=temperature, eta=eta, chunk_size=chunk_size,
        progress=progress, checkpoint=checkpoint, executor=executor, workers=workers,
        backend=backend, client=client, tol=tol, abs_floor=abs_floor, budget=budget, seed=seed,
        converge_at=converge_at, refine_gap=refine_gap, budget_k=budget_k, components=comps,
        indices=rec.indices,
        gauge=desc, wedge=wedge, errors=errors,
    )


def _axes(spec: object, n: int, name: str) -> list[int]:
    """Directions of one index: "all" → 0 … n−1, else one direction."""
    if isinstance(spec, str) and spec == "all":
        return list(range(n))
    try:
        return [axis_index(spec)]  # type: ignore[arg-type]
    except (ParameterError, TypeError):
        raise ParameterError(f"'{name}' must be 'x', 'y', 'z' or 'all', got {spec!r}") from None


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
    # the engine's chunk task: FFT Bloch sums when cheaper (tbspin.engine.integrate.fourier_plans)
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


