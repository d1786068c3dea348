"""Irreducible-wedge integrals of the observables: ``compute(..., symmetry="auto")``.

On a model that commutes with its crystal's (magnetic) point group, a uniform Γ-centred mesh is
reduced to its irreducible points with star weights (:func:`tbspin.crystal.wedge.irreducible_mesh`),
the whole tensor of the observable (every component, one eigensystem per k) is summed over them
by the engine's one path (:class:`tbspin.engine.points.BatchTask` on
:class:`tbspin.engine.points.MeshSubsetPoints`: Bloch sums from the mesh's FFT plans on the few
planes and lines that hold irreducible points, or :class:`~tbspin.engine.points.WeightedPoints`
with direct sums when those are cheaper), and the full-mesh tensor is rebuilt as the group
average P of the wedge sum (:func:`tbspin.crystal.wedge.rebuild_tensor`: spin axial, current
and field polar, antiunitary elements with the observable's T parity). The result equals the
full-mesh sum on the same mesh to rounding when

* the model commutes with every element in its own Bloch convention and its spin operators
  rotate as axial vectors (checked on random k for a generating set of the group, which
  implies every element: :func:`tbspin.crystal.wedge.model_covariance`;
  a fit that breaks the symmetry is refused — symmetrize it with :func:`tbspin.crystal.symmetrize`);
* the integrand is a trace over degenerate blocks (conventional SHC, AHC, spin density), or
  its basis inside the blocks follows the operations: the proper and s_mm Ω formulas fix that
  basis with one gauge operator per spin component (s_l by default), and under an element the
  s_z-gauged σ^z_xy maps onto the s_x-gauged σ^x_yz, etc. This holds when every element
  permutes the Cartesian spin axes up to sign (the cubic Pt group; checked by
  :func:`tbspin.crystal.wedge.gauge_covariance`, refused otherwise, e.g. hexagonal groups
  with s_l gauges or parallel transport);
* the mesh is mapped onto itself (Γ-centred with equal divisions for cubic groups; a shift
  only when the group keeps it).

Not supported here (refused with a ParameterError): ``tol`` runs (their randomized shifted
meshes are not invariant), checkpoints, ``executor``/``client``, record options that are not
group-invariant (the spin density's ``projector``), and a full Wannier position matrix (not
symmetrized by :func:`tbspin.crystal.symmetrize`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tbspin.bands.gauge_tally import GaugeRun
from tbspin.bands.integrands import BandKernel, with_band_cutoff
from tbspin.bands.settings import ConnectionSettings
from tbspin.bz.kmesh import Mesh
from tbspin.crystal.basis import OrbitalBasis
from tbspin.crystal.representation import OperationRep
from tbspin.crystal.spacegroup import SpaceGroup
from tbspin.crystal.wedge import gauge_covariance, irreducible_mesh, model_covariance, rebuild_tensor
from tbspin.engine.executor import ChunkPool, one_blas_thread
from tbspin.engine.integrate import subset_plans
from tbspin.engine.points import BatchTask, MeshSubsetPoints, WeightedPoints
from tbspin.errors import ModelError, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.observables.base import Observable
from tbspin.types import FloatArray

__all__ = ["Wedge", "prepare_wedge", "COVARIANCE_TOL", "TRACE_FORMULAS"]

#: largest |H(gk) − M H(k) M†| (eV) and spin-operator residual accepted as "symmetric"
COVARIANCE_TOL = 1e-8
#: formulas whose per-k Fermi sum is a trace over degenerate blocks (no gauge enters)
TRACE_FORMULAS = ("conventional", "berry", "intrinsic", "fermi_surface")
#: record options that may break the group (refused with ``symmetry``)
_NON_INVARIANT_OPTIONS = ("projector",)


@dataclasses.dataclass(frozen=True, eq=False)
class Wedge:
    """What a wedge run needs: the group, the tensor layout, the kernel's components.

    Attributes
    ----------
    group : SpaceGroup
    record : Observable
    formula : str
    kernel_components : tuple of index tuples
        The components the kernel computes, in order: those the projector P reads to give the
        requested ones (for σ^l_ij of a cubic crystal the 6 with ε_lij ≠ 0).
    projector : (3^n, 3^n) float array
        P of :func:`tbspin.crystal.shapes.tensor_shape` with the observable's kinds and T parity.
    info : dict
        The checks' numbers (recorded in ``result.extras["symmetry"]``).
    """

    group: SpaceGroup
    record: Observable
    formula: str
    kernel_components: tuple[tuple[int, ...], ...]
    projector: FloatArray
    info: dict[str, object]

    @GaugeRun.wrap
    def integrate(self, kernel: BandKernel, mesh: Mesh, efermi: FloatArray, temperature: float,
                  requested: Sequence[Sequence[int]], *, chunk_size: int,
                  workers: int | None = None, backend: str = "auto"
                  ) -> tuple[FloatArray, dict[str, object]]:
        """The full-mesh integral I(E_F) (n_E, len(requested)) from the wedge (module docstring),
        and run information."""
        model = kernel.model
        t0 = time.perf_counter()
        irr = irreducible_mesh(self.group, mesh.n, mesh.shift)
        t_reduce = time.perf_counter() - t0
        # Bloch sums from the mesh's FFT plans on the planes and lines that hold irreducible
        # points when that is cheaper than the direct sums (engine.integrate.subset_plans)
        plans = subset_plans(model, kernel, mesh, irr.index)
        points: WeightedPoints | MeshSubsetPoints = (
            WeightedPoints(model, irr.points, irr.weights.astype(float), chunk_size)
            if plans is None else
            MeshSubsetPoints(model, irr.index, irr.weights.astype(float), plans, chunk_size))
        task = BatchTask(with_band_cutoff(kernel, efermi, temperature), points, efermi,
                         temperature)
        todo = range(points.n_chunks)
        pool = ChunkPool(workers, backend)
        parts: Iterable[Any] = (pool.map(task, todo)
                                if pool.backend != "serial" and points.n_chunks > 1
                                else one_blas_thread(map(task, todo)))
        acc = np.zeros((len(efermi), len(self.kernel_components)))
        for _, part in parts:  # in chunk order: the same fold for any worker count
            acc = acc + np.asarray(part)
        wedge = acc / (irr.full_size * model.cell_measure)  # (n_E, C)
        rank = len(self.record.indices)
        dense = np.zeros((len(efermi),) + (3,) * rank)
        for c, comp in enumerate(self.kernel_components):
            dense[(slice(None),) + tuple(comp)] = wedge[:, c]
        full = rebuild_tensor(self.projector, dense)
        raw = np.stack([full[(slice(None),) + tuple(c)] for c in requested], axis=1)
        info: dict[str, object] = {
            "seconds": time.perf_counter() - t0, "n_k": irr.size, "n_k_full_mesh": irr.full_size,
            "chunk_size": chunk_size, "resumed_chunks": 0, "fft": int(plans is not None),
            "symmetry": dict(self.info, n_irreducible=irr.size, n_full=irr.full_size,
                             k_actions=irr.n_actions, reduce_seconds=t_reduce)}
        return raw, info

    def star_matrix(self, requested: Sequence[Sequence[int]]) -> FloatArray:
        """(len(requested), len(kernel_components)): the rows of P for the requested components
        read on the kernel's — the star average of the integrand at one k (module docstring,
        "tol runs")."""
        rank = len(self.record.indices)
        rows, cols = _flat(requested, rank), _flat(self.kernel_components, rank)
        return np.ascontiguousarray(self.projector[np.ix_(rows, cols)])


def _flat(components: Sequence[Sequence[int]], rank: int) -> list[int]:
    """Row indices of tensor components in the flattened 3^rank layout of the projector."""
    return [int(np.ravel_multi_index(tuple(c), (3,) * rank)) for c in components]


def _group(model: LatticeModel, symmetry: object) -> tuple[SpaceGroup, OrbitalBasis | None]:
    """(group, basis or None = the model's projections) of a ``symmetry`` argument."""
    from tbspin.crystal.spacegroup import space_group
    from tbspin.crystal.structure import structure_of

    if isinstance(symmetry, SpaceGroup):
        return symmetry, None
    if (isinstance(symmetry, tuple) and len(symmetry) == 2 and isinstance(symmetry[0], SpaceGroup)
            and isinstance(symmetry[1], OrbitalBasis)):
        return symmetry[0], symmetry[1]
    if isinstance(symmetry, str) and symmetry == "auto":
        return space_group(structure_of(model)), None
    raise ParameterError(f"'symmetry' must be None, 'auto' (the space group of the model's "
                         f"crystal structure), a tbspin.crystal.SpaceGroup or a (SpaceGroup, "
                         f"OrbitalBasis) pair, got {symmetry!r}")


def _covariance_info(model: LatticeModel, reps: Sequence[OperationRep], seed: int = 0
                     ) -> dict[str, object]:
    per = list(model.periodic)
    k = np.random.default_rng(seed).random((4, len(per))) @ np.asarray(model.reciprocal)[per]
    dh, ds, worst = model_covariance(model, reps, k)
    if max(dh, ds) > COVARIANCE_TOL:
        raise ModelError(
            f"symmetry: model {model.name!r} does not commute with its group (worst element "
            f"{worst}: |H(gk) − M H(k) M†| = {dh:.3g} eV, spin-operator residual {ds:.3g}; "
            f"limit {COVARIANCE_TOL:g}); symmetrize it first (tbspin.crystal.symmetrize) or "
            "run without 'symmetry'")
    return {"hamiltonian_residual_eV": dh, "spin_residual": ds}


def prepare_wedge(
    model: LatticeModel, record: Observable, formula: str, symmetry: object,
    components: Sequence[Sequence[int]], requested: Sequence[Sequence[int]],
    spins: Sequence[tuple[object, ConnectionSettings] | None] = (),
    options: dict | None = None, stars: bool = False,
) -> Wedge | None:
    """The checked :class:`Wedge` of a run, or None for ``symmetry`` None/"none".

    With ``stars`` (a ``tol`` run: star averages at random k, no mesh reduction) a gauge that
    does not follow every element is not refused: P is the average over the elements it does
    follow (a subgroup; ``info["star_elements"]`` names how many).

    ``components``: every component the record can compute (those not vanishing
    identically); ``requested``: the ones the result holds; ``spins``: (operator, gauge
    settings) per spin component of ``components``.

    Raises
    ------
    ParameterError
        Bad ``symmetry``, or a non-invariant record option.
    ModelError
        Not a 3D crystal with a structure and projections, a full position matrix, a model
        that breaks its group, or a gauge that does not follow it (module docstring).
    """
    if symmetry is None or (isinstance(symmetry, str) and symmetry.lower() == "none"):
        return None
    if model.dim != 3 or (model.n_periodic != 3 and not stars):
        raise ModelError(f"symmetry: irreducible-wedge integrals need a 3D crystal; "
                         f"{model.name!r} has {model.n_periodic} periodic directions (a tol "
                         "run takes a slab: star averages)")
    bad = sorted(set(options or {}) & set(_NON_INVARIANT_OPTIONS))
    if bad:
        raise ParameterError(f"symmetry: option(s) {bad} may break the crystal's symmetry; "
                             "run without 'symmetry'")
    if model.uses_position_matrix:
        raise ModelError("symmetry: the model carries a full Wannier position matrix, which "
                         "tbspin.crystal.symmetrize does not symmetrize; run without 'symmetry'")
    from tbspin.crystal.symmetrize import group_representations

    group, basis = _group(model, symmetry)
    group, _, reps = group_representations(model, group, basis, generators_only=True)
    if model.n_periodic != 3:  # a slab: every element must keep the plane of its k-points
        plane = np.asarray(model.reciprocal)[list(model.periodic)]
        for R, _anti in group.point_operations():
            img = plane @ np.asarray(R).T
            if np.linalg.matrix_rank(np.vstack([plane, img]), tol=1e-8) > len(plane):
                raise ModelError(f"symmetry: an element of {group} takes k out of the periodic "
                                 f"plane of {model.name!r}; run without 'symmetry'")
    info: dict[str, object] = {"group": str(group), "elements": group.order,
                               "generators_checked": [r.op.name for r in reps],
                               **_covariance_info(model, reps)}
    if formula not in TRACE_FORMULAS:
        gauges: list[np.ndarray | None] = [None, None, None]
        for slot, s in enumerate(spins):
            if s is None:
                continue
            if s[1].gauge is None:
                raise ModelError(
                    f"symmetry: the {formula!r} formula depends on the basis inside degenerate "
                    "blocks and parallel transport (gauge 'none') does not follow the group's "
                    "operations; use the default gauge (s_l per spin component)")
            gauges[slot] = np.asarray(s[1].gauge)
        if stars:  # only the spin components the star average of the requested ones reads
            read = _spin_slots_read(record, formula, group, requested)
            gauges = [g if slot in read else None for slot, g in enumerate(gauges)]
        res, worst = gauge_covariance(reps, gauges)
        if not res < COVARIANCE_TOL and stars:
            point_ops, names, kept = _covariant_elements(model, group, basis, gauges)
            info.update(gauge_residual=kept, star_elements=len(point_ops),
                        star_subgroup=names, star_note=(
                            f"the gauge operators do not follow element {worst}: star average "
                            f"over the {len(point_ops)} elements they follow"))
            return _finish(record, formula, group, point_ops, components, requested, info)
        if not res < COVARIANCE_TOL:
            raise ModelError(
                f"symmetry: the {formula!r} formula depends on the basis inside degenerate "
                f"blocks, fixed by the gauge operators {[s[1].gauge_description for s in spins if s]}; "
                f"element {worst} does not map them onto each other (residual {res:.3g}), so "
                "the wedge would not equal the full mesh; run without 'symmetry' or use a "
                "trace formula (conventional)")
        info["gauge_residual"] = res
    return _finish(record, formula, group, group, components, requested, info)


def _projector(record: Observable, formula: str, averaged: object) -> FloatArray:
    """P of the record's index kinds and T parity averaged over a group or point operations."""
    from tbspin.crystal.shapes import tensor_shape

    kinds = ["axial" if ax else "polar" for ax in record.axial]
    return tensor_shape(averaged, kinds,  # type: ignore[arg-type]
                        time_parity="odd" if record.is_time_odd(formula) else "even").projector


def _spin_slots_read(record: Observable, formula: str, group: SpaceGroup,
                     requested: Sequence[Sequence[int]]) -> set[int]:
    """The spin directions of the components the group average of ``requested`` reads."""
    P = _projector(record, formula, group)
    dims = (3,) * len(record.indices)
    pos = record.indices.index("spin")
    cols = np.nonzero(np.abs(P[_flat(requested, len(dims))]).max(axis=0) > 1e-12)[0]
    return {int(np.unravel_index(int(c), dims)[pos]) for c in cols}


def _covariant_elements(model: LatticeModel, group: SpaceGroup, basis: OrbitalBasis | None,
                        gauges: Sequence[np.ndarray | None]
                        ) -> tuple[list[tuple[FloatArray, bool]], list[str], float]:
    """The point operations (R, antiunitary) of the elements whose action maps the gauge
    operators onto each other (a subgroup: the property survives products), their names, and
    the largest gauge residual among them."""
    from tbspin.crystal.symmetrize import group_representations

    _, _, reps = group_representations(model, group, basis)
    res = [gauge_covariance([r], gauges)[0] for r in reps]
    keep = [(r, x) for r, x in zip(reps, res, strict=True) if x < COVARIANCE_TOL]
    return ([(np.asarray(r.op.cart_rotation, float), bool(r.antiunitary)) for r, _ in keep],
            [r.op.name for r, _ in keep], max(x for _, x in keep))


def _finish(record: Observable, formula: str, group: SpaceGroup, averaged: object,
            components: Sequence[Sequence[int]], requested: Sequence[Sequence[int]],
            info: dict[str, object]) -> Wedge:
    """The :class:`Wedge` with P averaged over ``averaged`` (the group or a list of point
    operations) and the components P reads for the requested ones."""
    P = _projector(record, formula, averaged)
    rank = len(record.indices)
    read = np.abs(P[_flat(requested, rank)]).max(axis=0) > 1e-12  # columns P reads
    needed = tuple(tuple(int(a) for a in c) for c, i in zip(components, _flat(components, rank),
                                                              strict=True) if read[i])
    if not needed:  # every requested component vanishes by symmetry: compute one anyway
        needed = (tuple(int(a) for a in components[0]),)
    info["kernel_components"] = len(needed)
    return Wedge(group=group, record=record, formula=formula, kernel_components=needed,
                 projector=P, info=info)
