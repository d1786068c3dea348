"""FFT Bloch sums of a *family* of uniform meshes: M meshes of one size that differ only by
their shifts (the randomly shifted sub-meshes of the default error bar,
:mod:`tbspin.sampling.submesh`), with the parts that do not depend on the shift computed once.

Mesh m has the points κ = (j + u_m)/n (reduced coordinates, j integer, u_m its shift in units
of the step). With the notation of :mod:`tbspin.bz.fourier` (outer R components, inner R_{p−1},
last R_p folded onto its residues ρ = R_p mod n_p), the Bloch phase factorizes per direction,

    exp(2πi κ·R) = exp(2πi (j_outer + u_outer)·R_outer / n_outer)
                   · exp(2πi (j_{p−1} + u_{p−1}) R_{p−1} / n_{p−1})
                   · exp(2πi j_p ρ / n_p) · exp(2πi u_p R_p / n_p),

and the last factor, the shift along the transformed direction, is a phase *per residue* as
soon as every residue holds a single R_p, i.e. when n_p exceeds the span max R_p − min R_p of
the model (every sub-mesh of 10 or more points along z of the Bi₂Se₃ fit, 13 or more for the
Pt fit). Then

* one table of hoppings on the (outer R, inner R, ρ) box serves all M meshes: the unshifted
  mesh's (M separate :class:`tbspin.bz.fourier.MeshFourier` plans built it M times; a
  Bi₂Se₃ table for σ^y_zx holds 63 MB);
* the plane sums (Σ over the outer R, a product that reads the whole table) of all M shifts
  are one product per group of plane indices, phases (M·G, N_outer) @ table, or per block of
  shifts when M planes exceed :data:`~tbspin.bz.fourier.PLANE_BUDGET` (the plane cache stays
  within the bound of one mesh's);
* the shift phase along the last direction moves into the (n_p × N_res) line phases of each
  mesh, exp(2πi (j ρ mod n_p)/n_p) · exp(2πi u_p R_p(ρ)/n_p).

When some residue holds two R_p (a sub-mesh shorter than the span: the Pt fit's 16 sub-meshes
of 8·8·9 for a 21³ mesh, R_z from −6 to 6) the shared table gets one column per distinct R_p
instead of one per residue (``MeshFourier(..., fold=False)``: 13 columns instead of 9 for Pt,
lines always one product over them), as long as they are at most
:data:`~tbspin.bz.fourier.DFT_RESIDUES`; measured on Pt 21³, the FFT sums of the 16 sub-meshes
took 0.28 s of CPU this way against 0.37 s with a table per shift (the plain mesh: 0.13 s).
Above that bound each member keeps its own :class:`~tbspin.bz.fourier.MeshFourier` (its table
takes the shift in before folding), and drops its table after its last chunk
(:meth:`MeshFamily.release`).

The Bloch convention is the model's (``convention="positions"`` adds exp(i k·(τ_n − τ_m)), in
:meth:`~tbspin.bz.fourier.MeshFourier.block`); member m of a family returns what
``MeshFourier(model, Mesh(n, u_m), directions)`` returns, to rounding (≤ 1e-13 relative: the
plane products have other shapes, and unfolded columns sum the residues in another order).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable

import numpy as np

from tbspin.bz.fourier import DFT_RESIDUES, PLANE_BUDGET, PLANE_GROUP, MeshFourier, residue_phase
from tbspin.bz.kmesh import Mesh
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.types import ComplexArray, Direction, FloatArray

__all__ = ["MeshFamily"]

#: products kept in the plane cache of a family, each the planes of a group of plane indices
#: for a block of members within PLANE_BUDGET bytes (:meth:`MeshFamily._blocking`): ≤ 64 MB as
#: for one mesh (:mod:`tbspin.bz.fourier`), whatever the mesh and the number of shifts
CACHED_GROUPS = 2


class MeshFamily:
    """FFT Bloch sums of M uniform meshes of size ``n`` that differ only by their shifts.

    Parameters
    ----------
    model : LatticeModel
    n : tuple of int
        Points per periodic direction of every member (each ≥ 2).
    shifts : (M, p) array
        Shift of each member in units of its step (the ``Mesh.shift`` of member m).
    directions : iterable of int or str, optional
        Cartesian directions of the derivatives ∂H/∂k_a (default: all d of the model).

    Attributes
    ----------
    members : tuple of MeshFourier
        Member m: :meth:`~tbspin.bz.fourier.MeshFourier.block` and the sizes of the mesh
        ``Mesh(n, shifts[m])``; in a shared family it reads the family's table and plane cache.
    shared : bool
        True when one table serves all members (module docstring), False when each member has
        its own.

    Raises
    ------
    ParameterError
        When ``shifts`` is not (M, p) with M ≥ 1 or has non-finite entries, or ``n`` does not
        fit the model (as :class:`~tbspin.bz.fourier.MeshFourier`).
    """

    def __init__(self, model: LatticeModel, n: tuple[int, ...], shifts: FloatArray,
                 directions: Iterable[Direction] | None = None) -> None:
        n = tuple(int(x) for x in n)
        u = np.asarray(shifts, dtype=float)
        if u.ndim != 2 or u.shape[0] < 1 or u.shape[1] != len(n) or not np.isfinite(u).all():
            raise ParameterError(
                f"'shifts' must be a finite (M, {len(n)}) array of mesh shifts, got shape "
                f"{u.shape}")
        self.n = n
        self.shifts = u
        dirs = None if directions is None else tuple(directions)
        base = MeshFourier(model, Mesh(n=n, shift=(0.0,) * len(n)), dirs)
        if not base.unique_residues and \
                len(np.unique(model.R[:, list(model.periodic)][:, -1])) <= DFT_RESIDUES:
            base = MeshFourier(model, Mesh(n=n, shift=(0.0,) * len(n)), dirs, fold=False)
        self.shared = base.unique_residues
        self._base = base
        self._cache: collections.OrderedDict[tuple[int, int], ComplexArray] = collections.OrderedDict()
        self._lock = threading.Lock()
        if self.shared:
            self.members: tuple[MeshFourier, ...] = tuple(
                _Member(self, m, base) for m in range(len(u)))
        else:
            self.members = tuple(MeshFourier(model, Mesh(n=n, shift=tuple(float(x) for x in s)),
                                             dirs) for s in u)

    @property
    def table(self) -> ComplexArray:
        """The shared (N_outer, row) table (:attr:`tbspin.bz.fourier.MeshFourier.table` of the
        unshifted mesh), built on first use."""
        return self._base.table

    def _blocking(self) -> tuple[int, int]:
        """(members, plane indices) per cached product: all M members and G ≥ 1 plane indices
        when M planes fit in :data:`PLANE_BUDGET`, else one plane index of ⌈M/B⌉ members (B
        blocks as even as possible, each within the budget when one plane alone is)."""
        m = len(self.shifts)
        per = max(1, PLANE_BUDGET // max(16 * int(np.prod(self.table.shape[1:])), 1))
        if per >= m:
            return m, max(1, min(PLANE_GROUP, per // m))
        blocks = -(-m // per)
        return -(-m // blocks), 1

    def plane(self, m: int, plane: int) -> ComplexArray:
        """Σ over the outer R of the table for plane ``plane`` of member ``m``; a miss computes
        the planes of the whole group for a block of members in one product (module
        docstring); :data:`CACHED_GROUPS` products are kept."""
        with self._lock:
            mb, group = self._blocking()
            key = (m // mb, plane // group)
            hit = self._cache.get(key)
            if hit is None:
                first = key[1] * group
                planes = np.arange(first, min(first + group, int(np.prod(self.n[:-2]))))
                j = np.array(np.unravel_index(planes, self.n[:-2])).T  # (G, p − 2)
                u = self.shifts[key[0] * mb: (key[0] + 1) * mb, :-2]
                kap = (j[None] + u[:, None]) / np.asarray(self.n[:-2])
                phase = np.exp(2j * np.pi * (kap @ self._base.outer.T))  # (mb, G, N_outer)
                b = phase.reshape(-1, len(self._base.outer)) @ self.table
                hit = b.reshape(len(u), len(planes), -1)
                self._cache[key] = hit
                while len(self._cache) > CACHED_GROUPS:
                    self._cache.popitem(last=False)
            return hit[m - key[0] * mb, plane - key[1] * group]

    def release(self, m: int) -> None:
        """Drop what member ``m`` holds of its own (the table and planes of a member of an
        unshared family; nothing in a shared one, whose table serves the other members)."""
        if not self.shared:
            member = self.members[m]
            with member._lock:
                member._table = None
                member._planes.clear()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(_cache=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._cache = collections.OrderedDict()
        self._lock = threading.Lock()


class _Member(MeshFourier):
    """Member m of a shared :class:`MeshFamily`: the unshifted plan's arrays, the member's shift,
    its own line phases, and the family's table and plane cache (no table of its own)."""

    def __init__(self, family: MeshFamily, m: int, base: MeshFourier) -> None:
        self.__dict__.update(base.__dict__)
        self.shift = tuple(float(x) for x in family.shifts[m])
        self._family = family
        self._m = m
        self._lock = threading.Lock()
        self._planes = collections.OrderedDict()
        assert base.residue_r is not None  # a shared family
        unshifted = np.exp(2j * np.pi * np.mod(np.outer(np.arange(family.n[-1]), base.residues),
                                                family.n[-1]) / family.n[-1])
        self._residue_phase = residue_phase(base.residue_r, self.shift[-1], family.n[-1])
        self._line_phases = unshifted * self._residue_phase[None]

    @property
    def table(self) -> ComplexArray:
        return self._family.table

    def _plane(self, plane: int) -> ComplexArray:
        if len(self.n) <= 2:
            return self._family.table
        return self._family.plane(self._m, plane)
