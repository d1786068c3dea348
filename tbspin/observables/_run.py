"""Engine glue of the public functions: argument checks, run keys, one uniform mesh or a
converged (``tol``) run, and the wrapping into a :class:`tbspin.results.conductivity.ConductivityResult`.

Every public observable (:mod:`tbspin.observables.api`) ends in :func:`_conductivity`, with a
one-component :class:`tbspin.bands.integrands.Integrand` (the 0.2 interface) or a many-component
:class:`tbspin.bands.integrands.BandKernel` (whole tensors from one eigensystem per k-point).
"""

from __future__ import annotations

import dataclasses
import numbers
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tbspin._version import __version__
from tbspin.bands.gauge_tally import GaugeRun
from tbspin.bands.integrands import BandKernel, Integrand
from tbspin.bands.settings import ConnectionSettings, positive_number, resolve_connection
from tbspin.bz.kmesh import Mesh, make_mesh
from tbspin.engine.checkpoint import JsonValue, array_digest
from tbspin.engine.chunk_log import ChunkRunner
from tbspin.engine.integrate import Plan, default_chunk_size, integrate
from tbspin.errors import ArgumentError, ConvergenceWarning, ParameterError
from tbspin.model.lattice import LatticeModel, axis_index
from tbspin.observables._options import (
    DEFAULT_BUDGET_K,
    GAP_PASS_SHIFTS,
    check_sampling,
    warn_long_run,
)
from tbspin.observables._wedge import Wedge
from tbspin.results.conductivity import ConductivityResult, model_provenance
from tbspin.sampling import GENERIC_SHIFT, SampledIntegral, converge
from tbspin.sampling.gaptree import gap_refined
from tbspin.sampling.rules import components as n_components
from tbspin.sampling.rules import fermi_energies as _efermi
from tbspin.sampling.submesh import REL_WARN, submesh_integral, unconverged
from tbspin.sampling.targets import Goal, TolSpec
from tbspin.types import ArrayLike, Direction, FloatArray, GaugeSpec, MeshSpec, PathLike, ShiftSpec, SpinSpec

from .. import units

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



def _chunk(chunk_size: int | None, model: LatticeModel, method: str,
           mesh: Mesh | None = None) -> int:
    """The user's chunk size (validated), else :func:`tbspin.engine.integrate.default_chunk_size`."""
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


def _run_key(integrand: Integrand | BandKernel, *, kind: str, label: str, formula: str,
             ef: FloatArray, temperature: float, eta: float,
             components: Sequence[Sequence[int]] | None = None) -> dict[str, JsonValue]:
    """What determines an integral besides its k-sampling (the checkpoint key of both paths)."""
    if isinstance(integrand, Integrand):
        spin = None if integrand.spin_op is None else array_digest(integrand.spin_op)
        return dict(model=integrand.model.fingerprint(), kind=kind, label=label, formula=formula,
                    directions=[integrand.i, integrand.j], spin_operator=spin,
                    connection=integrand.settings.key(), efermi=array_digest(ef),
                    temperature=temperature, eta=eta)
    terms: list[JsonValue] = []
    for t in integrand.terms:
        spins = getattr(t, "spins", ())
        ops = [s[0] if isinstance(s, tuple) else s for s in spins]
        sts = [s[1].key() for s in spins if isinstance(s, tuple)]
        terms.append(dict(type=type(t).__name__, components=[list(c) for c in t.components],
                          # a slot the components do not use is None (its digest would be
                          # that of a pointer: another key in every process)
                          spin_operators=[None if o is None else array_digest(o) for o in ops],
                          gauges=sts))
    mix: dict[str, JsonValue] = ({} if integrand.mix is None
                                 else {"mix": array_digest(integrand.mix)})
    return dict(model=integrand.model.fingerprint(), kind=kind, label=label, formula=formula,
                components=[list(c) for c in components or ()], terms=terms, **mix,
                connection=integrand.settings.key(), efermi=array_digest(ef),
                temperature=temperature, eta=eta)


def _check_wedge_options(*, tol: TolSpec | None, checkpoint: PathLike | None,
                         executor: object | None, client: object | None,
                         progress: bool | None) -> None:
    """The options an irreducible-wedge run refuses (:mod:`tbspin.observables._wedge`); a
    ``tol`` run with ``symmetry`` (star averages at random k) takes the options of tol runs."""
    if tol is not None:
        return
    given = [name for name, v in (("checkpoint", checkpoint),
                                  ("executor", executor), ("client", client)) if v is not None]
    if progress:
        given.append("progress")
    if given:
        raise ParameterError(f"'symmetry' (irreducible-wedge integrals) does not support "
                             f"{given} yet: run without 'symmetry' for them")


def _converged(
    integrand: Integrand | BandKernel, ef: FloatArray, *, kind: str, mesh: MeshSpec, temperature: float,
    goal: Goal, budget: float | None, seed: int | None,
    workers: int | None, checkpoint: PathLike | None = None,
    key: dict[str, JsonValue] | None = None, budget_k: int = DEFAULT_BUDGET_K,
    client: object | None = None, converge_at: ArrayLike | None = None,
    refine_gap: float | None = None,
) -> tuple[SampledIntegral, dict[str, object]]:
    """The integral to the validated ``goal`` by :func:`tbspin.sampling.converge` (randomized
    shifted meshes and adaptive refinement); its floor is in the canonical unit of the result."""
    model = integrand.model
    floor = goal.floor if goal.floor.size > 1 else float(goal.floor[0])
    tol_ = goal.tol if goal.per_component else float(goal.tol[0])
    secs = None if budget is None else positive_number(budget, "budget")
    factor = abs(units.conversion_factor(kind, model.n_periodic)[0])
    gap_kw: dict[str, Any] = {} if refine_gap is None else {"gap": float(refine_gap)}
    r = converge(integrand, model, ef, tol=tol_, abs_floor=floor / factor, budget_seconds=secs,
                 mesh=mesh, seed=seed, temperature=temperature, workers=workers,
                 checkpoint=checkpoint, key=key, budget_k=budget_k, client=client,
                 converge_at=converge_at, method="adaptive" if refine_gap is None else "gaps",
                 **gap_kw)
    rec = goal.record()
    info: dict[str, object] = dict(
        sampling=dict(method=r.method, tol=rec["tol"], abs_floor=rec["abs_floor"],
                      converge_at=None if converge_at is None else
                      ef[goal.judged].tolist(), budget_seconds=secs,
                      budget_k=budget_k, start_mesh=list(np.atleast_1d(mesh)), seed=r.seed,
                      refine_gap=refine_gap,
                      # (smallest, largest) growth per direction of the base meshes
                      growth=None if r.growth is None else list(r.growth),
                      # as the passes applied it (tbspin.sampling.gaptree)
                      gauge_split=next((h["gauge_split"] for h in r.history
                                        if "gauge_split" in h), None),
                      seed_given=seed, n_k=r.n_k, n_shifts=r.n_shifts, converged=r.converged,
                      confirmed=r.confirmed, mesh=r.mesh, components=r.n_components,
                      refinement=r.refinement, history=r.history,
                      **({} if r.resume is None else {"resume": r.resume})))
    return r, info


def _tol_text(samp: dict[str, object]) -> str:
    """'tol=0.02' or 'tol=[0.02, 0.05] per component', '... at E_F = [...] eV'."""
    info = samp["sampling"]
    assert isinstance(info, dict)
    tol = info["tol"]
    text = f"tol={tol} per component" if isinstance(tol, list) else f"tol={tol:g}"
    return text if info.get("converge_at") is None else \
        f"{text} at E_F = {info['converge_at']} eV"


def _conductivity(integrand: Integrand | BandKernel, **kw: Any) -> ConductivityResult:
    """:func:`_integrate` as one run of the gauge tally (:mod:`tbspin.bands.gauge_tally`): one
    GaugeWarning per gauge operator that leaves degeneracies, whichever path ran the chunks
    (threads, dask, sub-meshes, ``tol`` passes, the wedge), its totals in
    ``extras["gauge_unlifted"]`` (per operator: ``unlifted_k``, ``k_points``, ``fraction``,
    ``batches``; only when a gauge operator fixed some k-batch of this call)."""
    with GaugeRun() as tally:
        result = _integrate(integrand, **kw)
    if tally:
        result.extras["gauge_unlifted"] = tally.record()
    return result


def _integrate(
    integrand: Integrand | BandKernel, *, kind: str, label: str, formula: str, efermi: ArrayLike,
    mesh: MeshSpec | None, shift: ShiftSpec | None, temperature: float, eta: float,
    chunk_size: int | None, progress: bool | None, checkpoint: PathLike | None,
    executor: object | None, workers: int | None = None, backend: str = "auto",
    client: object | None = None, tol: TolSpec | None = None, abs_floor: TolSpec = 0.0,
    budget: float | None = None, seed: int | None = None, budget_k: int | None = None,
    components: Sequence[Sequence[int]] | None = None, indices: Sequence[str] | None = None,
    gauge: str | None = None, wedge: Wedge | None = None, errors: bool = True,
    converge_at: ArrayLike | None = None, refine_gap: float | None = None,
) -> ConductivityResult:
    """Validate the integration arguments, integrate, and wrap with units and provenance.

    With ``tol`` the integral goes through :func:`tbspin.sampling.converge` (value ± error,
    number of k-points, convergence history in ``extras["sampling"]``); else the mesh's
    k-points as randomly shifted sub-meshes (:func:`_sub_meshes`, value ± error, a
    ConvergenceWarning when not converged), or with ``errors=False`` one uniform mesh.
    A :class:`tbspin.bands.integrands.BandKernel` of C components gives ``raw`` (n_E, C) with its
    ``components`` (index tuples in the order of ``indices``). With ``wedge`` the kernel computes
    ``wedge.kernel_components`` on the irreducible points of the (Γ-centred by default) mesh and
    the result holds ``components`` of the rebuilt tensor (:mod:`tbspin.observables._wedge`).
    """
    model, st = integrand.model, integrand.settings
    if not isinstance(errors, (bool, np.bool_)):
        raise ParameterError(f"'errors' must be True or False, got {errors!r}")
    mesh, k_budget = check_sampling(tol=tol, mesh=mesh, shift=shift, budget=budget,
                                    budget_k=budget_k, seed=seed, errors=bool(errors),
                                    refine_gap=refine_gap)
    ef = _efermi(efermi)
    T = positive_number(temperature, "temperature", allow_zero=True)
    extras: dict[str, object] = {}
    stars = None
    if wedge is not None and tol is not None:  # star averages: the kernel returns P·X per k
        if not isinstance(integrand, BandKernel) or components is None:
            raise ArgumentError("a symmetric tol run needs a whole-tensor BandKernel")
        mix = wedge.star_matrix(components)
        integrand = dataclasses.replace(integrand, mix=mix)
        stars = dict(wedge.info, mode="star average at every sampled k (tol run)")
        if mix.shape[0] == mix.shape[1] and np.allclose(mix, np.eye(len(mix)), atol=1e-12):
            # e.g. Bi₂Se₃'s s_y-gauged σ^y_zx: the elements s_y follows keep it invariant
            stars["identity"] = ("the star average maps every requested component onto itself "
                                 "alone: the integrand, its value and its variance are those "
                                 "of the run without symmetry")
    base_key = _run_key(integrand, kind=kind, label=label, formula=formula, ef=ef,
                        temperature=T, eta=eta, components=components)
    comps = None if components is None else [list(c) for c in components]
    idx = None if indices is None else list(indices)
    gauge = st.gauge_description if gauge is None else gauge
    if converge_at is not None and tol is None:
        raise ParameterError("'converge_at' says at which E_F a converged run is judged and "
                             "has no effect without 'tol'; give tol= or drop converge_at")
    # the one validation of tol / abs_floor / converge_at, with the run's number of components
    goal = None if tol is None else Goal.build(tol, abs_floor, ef, n_components(integrand),
                                               converge_at)
    if wedge is not None:
        _check_wedge_options(tol=tol, checkpoint=checkpoint, executor=executor, client=client,
                             progress=progress)
    if goal is not None:
        if executor is not None:
            raise ParameterError("'tol' runs do not take an 'executor': they run on 'workers' "
                                 "threads of this machine or on a dask 'client'")
        if backend not in ("auto", "threads", "serial") and not (backend == "dask" and client):
            raise ParameterError(f"'tol' runs use threads or a dask 'client'; backend={backend!r}"
                                 " is not supported" + (" without client=" if backend == "dask"
                                                        else ""))
        r, samp = _converged(integrand, ef, kind=kind, mesh=mesh, temperature=T, goal=goal,
                             budget=budget, seed=seed,
                             workers=1 if backend == "serial" else workers,
                             checkpoint=checkpoint, key=base_key, budget_k=k_budget,
                             client=client, converge_at=converge_at, refine_gap=refine_gap)
        shape = (len(ef), len(comps)) if comps is not None else (len(ef),)
        return ConductivityResult(
            kind=kind, label=label, efermi=ef, raw=r.values.reshape(shape), dim=model.n_periodic,
            formula=formula, method=st.method, gauge=gauge, mesh=r.mesh,
            shift=(0.0,) * len(r.mesh), temperature=T, eta=float(eta), model=model.name,
            version=__version__,
            extras=dict(samp, position_operator=_position_operator(model), **st.extras(),
                        **({} if stars is None else {"symmetry": stars}),
                        shift_default="random (M shifts of the randomized lattice rule)",
                        errors=f"converged run ({_tol_text(samp)}): spread of randomly "
                               "shifted meshes"),
            fingerprint=model.fingerprint(), provenance=model_provenance(model, st.record()),
            raw_errors=r.errors.reshape(shape), components=comps, indices=idx,
        )
    if refine_gap is not None:  # no tol: one gap-refined pass (tbspin.observables._options)
        for name, given in (("symmetry", wedge), ("checkpoint", checkpoint),
                            ("executor", executor)):
            if given is not None:
                raise ParameterError(
                    f"'{name}' is not supported by a gap-refined pass (refine_gap without tol); "
                    f"drop {name}, or give tol= for a converged gap-refined run")
        return _gap_pass(integrand, ef, kind=kind, label=label, formula=formula, mesh=mesh,
                         gap=float(refine_gap), temperature=T, eta=eta, seed=seed, comps=comps,
                         idx=idx, gauge=gauge, workers=workers, client=client)
    if wedge is not None:
        if not isinstance(integrand, BandKernel) or comps is None:
            raise ArgumentError("a wedge run needs a whole-tensor BandKernel and its components")
        kmesh = make_mesh(model, mesh, 0.0 if shift is None else shift)
        wraw, winfo = wedge.integrate(integrand, kmesh, ef, T, comps,
                                      chunk_size=_chunk(chunk_size, model, st.method, kmesh),
                                      workers=workers, backend=backend)
        return ConductivityResult(
            kind=kind, label=label, efermi=ef, raw=wraw, dim=model.n_periodic, formula=formula,
            method=st.method, gauge=gauge, mesh=kmesh.n, shift=kmesh.shift, temperature=T,
            eta=float(eta), model=model.name, version=__version__,
            extras=dict(winfo, position_operator=_position_operator(model), **st.extras(),
                        errors="not estimated (irreducible wedge: one symmetric "
                               "Γ-centred mesh; tol= gives error bars)"),
            fingerprint=model.fingerprint(), provenance=model_provenance(model, st.record()),
            components=comps, indices=idx)
    if errors and model.n_periodic > 0:
        if checkpoint is not None:
            raise ParameterError(
                "'checkpoint' resumes one plain mesh: give errors=False with it (CLI "
                "--no-errors; checkpoints written by earlier uniform runs resume that way), or "
                "tol= (CLI --tol) for a converged run with error bars and a step journal")
        return _sub_meshes(integrand, ef, kind=kind, label=label, formula=formula, mesh=mesh,
                           temperature=T, eta=eta, chunk_size=chunk_size, seed=seed,
                           comps=comps, idx=idx, gauge=gauge, workers=workers,
                           run_kw=dict(progress=progress, executor=executor, workers=workers,
                                       backend=backend, client=client))
    extras["errors"] = ("not estimated (errors=False: one plain mesh)" if model.n_periodic
                        else "none: no periodic direction (one k-point, exact)")
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
        method=st.method, gauge=gauge, mesh=plan.mesh.n, shift=plan.mesh.shift,
        temperature=T, eta=float(eta), model=model.name, version=__version__,
        extras=dict(info, position_operator=_position_operator(model), **st.extras(), **extras),
        fingerprint=model.fingerprint(), provenance=model_provenance(model, st.record()),
        components=comps, indices=idx,
    )




#: how a label "(10+11)x(10+11)x(10+11)" reads (tbspin.sampling.submesh.Split.label)
_PARTS = "; each direction in the parts shown, every combination one sub-mesh"


def _sub_meshes(
    integrand: Integrand | BandKernel, ef: FloatArray, *, kind: str, label: str, formula: str,
    mesh: MeshSpec, temperature: float, eta: float, chunk_size: int | None, seed: int | None,
    comps: list[list[int]] | None, idx: list[str] | None, gauge: str, workers: int | None,
    run_kw: dict[str, object],
) -> ConductivityResult:
    """The default uniform run: the k-points of ``mesh`` as randomly shifted sub-meshes
    (:mod:`tbspin.sampling.submesh`), value ± Student-t error, and a ConvergenceWarning naming
    the fixes when the estimate is not converged."""
    model, st = integrand.model, integrand.settings
    kmesh = make_mesh(model, mesh, 0.0)
    if chunk_size is not None:
        chunk_size = _chunk(chunk_size, model, st.method)
    warn_long_run(integrand, kmesh, workers, stacklevel=5)
    r = submesh_integral(model, integrand, kmesh.n, ef, temperature, seed=seed,
                         chunk_size=chunk_size, method=st.method, label=label, **run_kw)
    hist = r.history[0]
    sub = hist["sub_mesh"]
    samp = dict(method=r.method, mesh=list(kmesh.n), sub_mesh=sub, sub_meshes=hist["sub_meshes"],
                parts=hist["parts"], n_sub=r.n_shifts,
                n_k=r.n_k, seed=r.seed, seed_given=seed, shifts=hist["shifts"],
                seconds=hist["seconds"], fft_sub_meshes=hist["fft_sub_meshes"])
    n = "x".join(map(str, kmesh.n))
    return _shifted_result(
        integrand, ef, r, kind=kind, label=label, formula=formula, temperature=temperature,
        eta=eta, comps=comps, idx=idx, gauge=gauge, samp=samp,
        errors=(f"{r.n_shifts} randomly shifted {sub} sub-meshes ({r.n_k} k-points, seed "
                f"{r.seed}{_PARTS if '(' in sub else ''}); Student-t standard error (1 sigma)"),
        shift_default=f"random: each of the {r.n_shifts} sub-meshes its own shift",
        where=f"mesh {n}",
        fixes=("tol= (e.g. tol=0.05, CLI --tol) converges to a target error; or a larger mesh; "
               "or, when the Wannier fit breaks a symmetry of the crystal, symmetrize the model "
               "first (tbspin.crystal.symmetrize, model.symmetrized(), CLI --symmetrize)"))


def _shifted_result(
    integrand: Integrand | BandKernel, ef: FloatArray, r: SampledIntegral, *, kind: str,
    label: str, formula: str, temperature: float, eta: float, comps: list[list[int]] | None,
    idx: list[str] | None, gauge: str, samp: dict[str, Any], errors: str, shift_default: str,
    where: str, fixes: str,
) -> ConductivityResult:
    """The result of one randomized estimate without ``tol`` (sub-meshes or a gap-refined
    pass): value ± Student-t error of its M estimates, ``samp`` completed with the samples and
    the reasons it is not converged, and then a ConvergenceWarning naming ``fixes``."""
    model, st = integrand.model, integrand.settings
    shape = (len(ef), len(comps)) if comps is not None else (len(ef),)
    why = unconverged(r.samples, r.values, r.errors, r.n_components)
    samp = dict(samp, rel_warn=REL_WARN, unconverged=why, samples=r.samples.tolist())
    res = ConductivityResult(
        kind=kind, label=label, efermi=ef, raw=r.values.reshape(shape), dim=model.n_periodic,
        formula=formula, method=st.method, gauge=gauge, mesh=tuple(samp["mesh"]),
        shift=(0.0,) * len(samp["mesh"]), temperature=temperature, eta=float(eta),
        model=model.name, version=__version__,
        extras=dict(sampling=samp, position_operator=_position_operator(model), **st.extras(),
                    n_k=r.n_k, seconds=samp["seconds"], errors=errors,
                    shift_default=shift_default),
        fingerprint=model.fingerprint(), provenance=model_provenance(model, st.record()),
        raw_errors=r.errors.reshape(shape), components=comps, indices=idx,
    )
    if why:
        warnings.warn(
            f"{label} on {where} is not converged: {'; '.join(why)}. Fixes: {fixes}. Seed "
            f"{samp['seed']} reruns this estimate", ConvergenceWarning, stacklevel=_caller_level())
    return res


def _gap_pass(
    integrand: Integrand | BandKernel, ef: FloatArray, *, kind: str, label: str, formula: str,
    mesh: MeshSpec, gap: float, temperature: float, eta: float, seed: int | None,
    comps: list[list[int]] | None, idx: list[str] | None, gauge: str, workers: int | None,
    client: object | None,
) -> ConductivityResult:
    """``refine_gap`` without ``tol``: :data:`GAP_PASS_SHIFTS` random shifts of one gap-refined
    tree of base mesh ``mesh`` (:func:`tbspin.sampling.gaptree.gap_refined`; the tree is built
    for the highest E_F, so every E_F of a curve comes from the same leaves), value ± the
    Student-t error of the shifts, and a ConvergenceWarning when that estimate is not
    converged (as for the sub-mesh estimate)."""
    model = integrand.model
    root = seed if seed is not None else int(np.random.default_rng().integers(2**63))
    r = gap_refined(integrand, model, ef, mesh=mesh, gap=gap, n_shifts=GAP_PASS_SHIFTS,
                    seed=root, temperature=temperature, workers=workers,
                    runner=ChunkRunner(workers, client, None))
    h = r.history[0]
    n = "x".join(map(str, r.mesh))
    leaves = r.n_k // GAP_PASS_SHIFTS
    samp = dict(method=r.method, mesh=list(r.mesh), refine_gap=gap, n_shifts=GAP_PASS_SHIFTS,
                gauge_split=h["gauge_split"], gauge_splits=h["gauge_splits"],
                leaf_cap=h["leaf_cap"], pilot_points=h["pilot_points"], leaves=leaves,
                refinement=r.refinement, n_k=r.n_k, seed=root, seed_given=seed,
                seconds=h["seconds"])
    return _shifted_result(
        integrand, ef, r, kind=kind, label=label, formula=formula, temperature=temperature,
        eta=eta, comps=comps, idx=idx, gauge=gauge, samp=samp,
        errors=(f"{GAP_PASS_SHIFTS} random shifts of one gap-refined tree (base mesh {n}, "
                f"refine_gap {gap:g} eV, {leaves} leaves; {r.n_k} k-points, seed {root}); "
                "Student-t standard error (1 sigma)"),
        shift_default="random: each shift of the tree its own",
        where=f"the gap-refined mesh {n} (refine_gap {gap:g} eV)",
        fixes="tol= (e.g. tol=0.05, CLI --tol) with refine_gap converges to a target error; or "
              "a larger base mesh")


def _caller_level() -> int:
    """The ``stacklevel`` of a warning issued here that points at the first frame outside
    tbspin (the user's call, however many public functions it went through)."""
    frame: types.FrameType | None = sys._getframe(2)
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tbspin."):
        level, frame = level + 1, frame.f_back
    return level
