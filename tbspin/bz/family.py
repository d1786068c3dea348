"""FFT Bloch sums of a *family* of uniform meshes: M meshes that differ by their shifts and
possibly by their sizes (the randomly shifted sub-meshes of the default error bar,
:mod:`tbspin.sampling.submesh`: at most 2^p sizes, ⌊n_i/k⌋ or ⌈n_i/k⌉ per direction), with
the parts that depend neither on the shift nor on the size computed once.

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

Sizes. The table depends on the mesh only through the residues R_p mod n_p: the outer and
inner R of its rows and columns are the model's. Members of different sizes therefore share
it too: when every residue of every member's last length holds one R_p, one table of residues
if all members have the same last length (the table of before, for meshes of one size), else
one table with a column per distinct R_p (the same columns, in residue order — R_p ≥ 0, then
R_p < 0, the order of every folded table of a last length above the span, so each member sums
the terms of its own folded table in the same order; members of both last lengths read it)
as long as they are at most :data:`~tbspin.bz.fourier.DFT_RESIDUES`, else one table of
residues per last length (at most two). Each member has its own line phases (its n_p
and shift). The plane sums depend on the outer sizes n_1 … n_{p−2}: members of one outer size
(and one table) form a *class*, whose plane sums are computed together as above; the engine
takes the classes one after the other (:func:`tbspin.engine.family.family_jobs`), so the cache
holds the products of one class at a time.

When some residue holds two R_p (a sub-mesh shorter than the span: the Pt fit's 10|11-point
sub-meshes of a 21³ mesh, R_z from −6 to 6) the shared table gets one column per distinct R_p
instead of one per residue (``MeshFourier(..., fold=False)``: 13 columns instead of 10 or 11
for Pt, lines always one product over them), as long as they are at most
:data:`~tbspin.bz.fourier.DFT_RESIDUES`; measured on Pt 21³ with the former 16 sub-meshes of
8·8·9, the FFT sums took 0.28 s of CPU this way against 0.37 s with a table per shift.
Above that bound each member keeps its own :class:`~tbspin.bz.fourier.MeshFourier` (its table
takes the shift in before folding), and drops its table after its last chunk
(:meth:`MeshFamily.release`).

The Bloch convention is the model's (``convention="positions"`` adds exp(i k·(τ_n − τ_m)), in
:meth:`~tbspin.bz.fourier.MeshFourier.block`); member m of a family returns what
``MeshFourier(model, Mesh(n_m, u_m), directions)`` returns, to rounding (≤ 1e-13 relative: the
plane products have other shapes). Every plan of the family — its tables' and the members'
— sums lower triangles or whole matrices by the cost rule of :mod:`tbspin.bz.triangle`,
decided per table from the sizes of the member that built it.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable, Sequence

import numpy as np

from tbspin.bz.fourier import DFT_RESIDUES, PLANE_BUDGET, PLANE_GROUP, MeshFourier, residue_phase
from tbspin.bz.kmesh import Mesh
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.types import ComplexArray, Direction, FloatArray

__all__ = ["MeshFamily", "member_sizes"]

#: products kept in the plane cache of a family, each the planes of a group of plane indices
#: for a block of members within PLANE_BUDGET bytes (:meth:`MeshFamily._blocking`): ≤ 64 MB as
#: for one mesh (:mod:`tbspin.bz.fourier`), whatever the mesh and the number of shifts
CACHED_GROUPS = 2


def member_sizes(n: Sequence[int] | Sequence[Sequence[int]], m: int, p: int
                 ) -> tuple[tuple[int, ...], ...]:
    """The size of each of ``m`` members: ``n`` one size (p,) for all, or one per member (m, p).

    Raises
    ------
    ParameterError
        When ``n`` is neither, or a size is below 1.
    """
    arr = np.asarray(n)
    if arr.ndim == 1 and arr.shape == (p,):
        arr = np.broadcast_to(arr, (m, p))
    if arr.shape != (m, p) or not np.issubdtype(arr.dtype, np.integer) or (arr < 1).any():
        raise ParameterError(
            f"mesh sizes must be {p} positive integers, or one such row per member ({m}, {p}); "
            f"got shape {arr.shape}")
    return tuple(tuple(int(x) for x in row) for row in arr)


class MeshFamily:
    """FFT Bloch sums of M uniform meshes that differ by their shifts (and sizes).

    Parameters
    ----------
    model : LatticeModel
    n : tuple of int, or (M, p) ints
        Points per periodic direction of every member (each ≥ 2), or of each member.
    shifts : (M, p) array
        Shift of each member in units of its step (the ``Mesh.shift`` of member m).
    directions : iterable of int or str, optional
        Cartesian directions of the derivatives ∂H/∂k_a (default: all d of the model).

    Attributes
    ----------
    sizes : tuple of tuple of int
        The size of each member.
    members : tuple of MeshFourier
        Member m: :meth:`~tbspin.bz.fourier.MeshFourier.block` and the sizes of the mesh
        ``Mesh(sizes[m], shifts[m])``; in a shared family it reads the family's table and
        plane cache.
    shared : bool
        True when tables serve all members (module docstring: one, or one per last length),
        False when each member has its own.

    Raises
    ------
    ParameterError
        When ``shifts`` is not (M, p) with M ≥ 1 or has non-finite entries, ``n`` is neither
        one size nor one per member, or a size does not fit the model (as
        :class:`~tbspin.bz.fourier.MeshFourier`).
    """

    def __init__(self, model: LatticeModel, n: Sequence[int] | Sequence[Sequence[int]],
                 shifts: FloatArray, directions: Iterable[Direction] | None = None) -> None:
        u = np.asarray(shifts, dtype=float)
        p = np.asarray(n).shape[-1] if np.asarray(n).ndim else 0
        if u.ndim != 2 or u.shape[0] < 1 or u.shape[1] != p or not np.isfinite(u).all():
            raise ParameterError(
                f"'shifts' must be a finite (M, {p}) array of mesh shifts, got shape {u.shape}")
        self.sizes = member_sizes(n, len(u), p)
        self.shifts = u
        dirs = None if directions is None else tuple(directions)
        values = np.unique(model.R[:, list(model.periodic)][:, -1])
        lasts = sorted({s[-1] for s in self.sizes})
        first = {last: next(s for s in self.sizes if s[-1] == last) for last in lasts}

        def plan(size: tuple[int, ...], fold: bool = True) -> MeshFourier:
            return MeshFourier(model, Mesh(n=size, shift=(0.0,) * len(size)), dirs, fold=fold)

        folded = {last: plan(first[last]) for last in lasts}
        unique = all(b.unique_residues for b in folded.values())
        self._bases: dict[int, MeshFourier]  # last length → the table's plan (key 0: all)
        if unique and (len(lasts) == 1 or len(values) > DFT_RESIDUES):
            self._bases = folded
        elif len(values) <= DFT_RESIDUES:
            self._bases = {0: plan(first[lasts[0]], fold=False)}
        else:
            self._bases = {}
        self.shared = bool(self._bases)
        self._key = [s[-1] if s[-1] in self._bases else 0 for s in self.sizes]
        # classes: members of one outer size and one table share their plane products
        classes: dict[tuple[tuple[int, ...], int], list[int]] = {}
        for m, s in enumerate(self.sizes):
            classes.setdefault((s[:-2], self._key[m]), []).append(m)
        self._classes = tuple(tuple(v) for v in classes.values())
        self._class_of = {m: (c, i) for c, v in enumerate(self._classes) for i, m in enumerate(v)}
        self._cache: collections.OrderedDict[tuple[int, int, int], ComplexArray] = \
            collections.OrderedDict()
        self._lock = threading.Lock()
        if self.shared:
            self.members: tuple[MeshFourier, ...] = tuple(
                _Member(self, m, self._bases[self._key[m]]) for m in range(len(u)))
        else:
            self.members = tuple(MeshFourier(model, Mesh(n=n_m, shift=tuple(float(x) for x in s)),
                                             dirs) for n_m, s in zip(self.sizes, u, strict=True))

    @property
    def _base(self) -> MeshFourier:
        """The table's plan of member 0 (the only one when all members share one table)."""
        return self._bases[self._key[0]] if self.shared else self.members[0]

    @property
    def table(self) -> ComplexArray:
        """The shared (N_outer, row) table of member 0 (:attr:`tbspin.bz.fourier.MeshFourier.table`
        of an unshifted mesh), built on first use."""
        return self.table_of(0)

    def table_of(self, m: int) -> ComplexArray:
        """The table member ``m`` reads (shared by its last length or by all members)."""
        if not self.shared:
            return self.members[m].table
        return self._bases[self._key[m]].table

    def _blocking(self, c: int = 0) -> tuple[int, int]:
        """(members, plane indices) per cached product of class ``c``: all its members and
        G ≥ 1 plane indices when its planes fit in :data:`PLANE_BUDGET`, else one plane index
        of ⌈M_c/B⌉ members (B blocks as even as possible, each within the budget when one plane
        alone is)."""
        m = len(self._classes[c])
        table = self.table_of(self._classes[c][0])
        per = max(1, PLANE_BUDGET // max(16 * int(np.prod(table.shape[1:])), 1))
        if per >= m:
            return m, max(1, min(PLANE_GROUP, per // m))
        blocks = -(-m // per)
        return -(-m // blocks), 1

    def plane(self, m: int, plane: int) -> ComplexArray:
        """Σ over the outer R of the table for plane ``plane`` of member ``m``; a miss computes
        the planes of the whole group for a block of members of its class in one product
        (module docstring); :data:`CACHED_GROUPS` products are kept."""
        with self._lock:
            c, i = self._class_of[m]
            mb, group = self._blocking(c)
            key = (c, i // mb, plane // group)
            hit = self._cache.get(key)
            if hit is None:
                outer_n = self.sizes[m][:-2]
                first = key[2] * group
                planes = np.arange(first, min(first + group, int(np.prod(outer_n))))
                j = np.array(np.unravel_index(planes, outer_n)).T  # (G, p − 2)
                block = list(self._classes[c][key[1] * mb: (key[1] + 1) * mb])
                u = self.shifts[block, :-2]
                kap = (j[None] + u[:, None]) / np.asarray(outer_n)
                base = self._bases[self._key[m]]
                phase = np.exp(2j * np.pi * (kap @ base.outer.T))  # (mb, G, N_outer)
                b = phase.reshape(-1, len(base.outer)) @ base.table
                hit = b.reshape(len(u), len(planes), -1)
                self._cache[key] = hit
                while len(self._cache) > CACHED_GROUPS:
                    self._cache.popitem(last=False)
            return hit[i - key[1] * mb, plane - key[2] * group]

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
    """Member m of a shared :class:`MeshFamily`: the unshifted plan's arrays, the member's size
    and shift, its own line phases, and the family's table and plane cache (no table of its
    own)."""

    def __init__(self, family: MeshFamily, m: int, base: MeshFourier) -> None:
        self.__dict__.update(base.__dict__)
        self.n = family.sizes[m]
        self.shift = tuple(float(x) for x in family.shifts[m])
        self._family = family
        self._m = m
        self._lock = threading.Lock()
        self._planes = collections.OrderedDict()
        assert base.residue_r is not None  # a shared family
        last = self.n[-1]
        unshifted = np.exp(2j * np.pi * np.mod(np.outer(np.arange(last), base.residues), last)
                           / last)
        self._residue_phase = residue_phase(base.residue_r, self.shift[-1], last)
        self._line_phases = unshifted * self._residue_phase[None]

    @property
    def table(self) -> ComplexArray:
        return self._family.table_of(self._m)

    def _plane(self, plane: int) -> ComplexArray:
        if len(self.n) <= 2:
            return self.table
        return self._family.plane(self._m, plane)
