"""Bloch sums of a whole uniform k-mesh by discrete Fourier transforms, streamed in bounded chunks.

The direct Bloch sum (:meth:`tbspin.LatticeModel.hamiltonian_and_derivatives`) costs
N_R · N² per k-point and per matrix (H and each ∂H/∂k_a). On a uniform mesh
κ_i = (j_i + s_i)/n_i (:class:`tbspin.bz.kmesh.Mesh`) the phase factorizes,

    exp(i k·R) = Π_i exp(2πi (j_i + s_i) R_i / n_i),

so along the *last* periodic direction the sum over R_p is a discrete Fourier transform of
length n_p: hoppings are folded onto R_p mod n_p (exact: exp(2πi j R/n) depends on R mod n only,
so a mesh smaller than the R-range folds instead of aliasing incorrectly), with the shift phase
exp(2πi s_p R_p / n_p) — a phase per residue, applied to the line phases, when every residue
holds one R_p (n_p above the span of R_p; the table is then the same for every shift,
:mod:`tbspin.bz.family`), else multiplied in *before* folding — and transformed along each line of k-points:
with few residues (≤ :data:`DFT_RESIDUES`, every Wannier fit we have: 9–17) as one matrix
product (n_p × N_res phases) @ (N_res × N² entries), which costs N_res per entry whatever the
factorization of n_p; with more, by an FFT of the zero-padded line (log n_p per entry; slow for
prime n_p). Along the other periodic directions the sum is a small matrix product over the
distinct (R_1, …, R_{p−1}) of the model, evaluated for the lines of one chunk only. Per k-point
this costs (N_pairs · N_res / n_p + N_res or log n_p) · N² instead of N_R · N² (N_pairs:
distinct leading R components, N_res: distinct residues R_p mod n_p), 10–30× less for
ab-initio models; the working memory is proportional to the chunk, not to the mesh. (The
engine calls this whole path "FFT", its name since 0.2, whichever transform runs along lines.)

H(k) and ∂H/∂k are Hermitian: when the sums per point are long enough to pay for it (the
cost rule of :mod:`tbspin.bz.triangle`: ab-initio fits, not the 2–4-orbital catalogue models)
the table, the plane, inner and line sums carry the N(N+1)/2 lower-triangle entries only and
the upper triangle is filled with their conjugates per k-point (Pt 21³: 0.53 of the
multiply-adds, FFT sums 0.10 → 0.07 s of CPU; benchmarks/README.md, 27h).

Points come out in the order of :meth:`tbspin.bz.kmesh.Mesh.reduced` (C order, last direction
fastest), so a chunk is the contiguous point range ``start … stop − 1`` of the mesh: the engine
can use the same chunk indices, checkpoints and Fermi sums as with the direct sum.

Bloch convention (see :mod:`tbspin.model.lattice`): with ``convention="positions"`` the result is
multiplied by exp(i k·(τ_n − τ_m)) and ∂_a H gains i (τ_n − τ_m)_a H, exactly as the direct sum.
The direct sum stays the tool for arbitrary k lists and refinement patches.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Iterable, Iterator

import numpy as np
import scipy.fft

import tbspin.bz.triangle as triangle
from tbspin.bz.kmesh import Mesh
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel, axis_index
from tbspin.types import ComplexArray, Direction, FloatArray, IntArray

__all__ = ["FourierChunk", "MeshFourier", "displaced_mesh", "mesh_hamiltonian_chunks",
           "residue_phase", "whole_lines"]

#: default budget (bytes) of the FFT arrays of one chunk; the kernels after it need a few times more
CHUNK_BUDGET = 8 * 2**20
#: planes (partial sums over the leading R components) are computed in groups of consecutive
#: planes, one product that reads the table once per group instead of once per plane (the sum is
#: memory-bound: the tables of the Fe, Pt, Bi₂Se₃ `_hr.dat` files hold 58, 33, 63 MB), at most
#: PLANE_GROUP planes and PLANE_BUDGET bytes per group (two groups are cached: ≤ 64 MB, whatever
#: the mesh)
PLANE_GROUP = 8
PLANE_BUDGET = 32 * 2**20
#: along a line, up to this many residues R_p mod n_p are summed as one matrix product (cost
#: N_res per entry, any n_p) instead of an FFT of the zero-padded line (~log n_p per entry plus
#: the padding; Bluestein's algorithm for prime n_p is several times slower). Measured per
#: k-point (benchmarks/README.md, seventh session): Pt / Fe / Bi₂Se₃ `_hr.dat` (13 / 17 / 9
#: residues) 0.7–1.0× the FFT's time at n_p = 21, 64 and 0.25–0.36× at n_p = 41; a random
#: 18-band model with 33 residues 1.4× at n_p = 64 (hence the FFT above this bound)
DFT_RESIDUES = 24


def whole_lines(points: int, line: int) -> int:
    """``points`` rounded down to a whole number of mesh lines of ``line`` points (at least one):
    a chunk that ends mid-line transforms that line again in the next chunk and copies both."""
    return max(line, points // line * line)


@dataclasses.dataclass(frozen=True)
class FourierChunk:
    """H(k) and ∂H/∂k_a of the contiguous mesh points ``start … stop − 1``.

    Attributes
    ----------
    index : int
        Chunk number (``start == index * chunk_size``).
    start, stop : int
        Point range in :meth:`tbspin.bz.kmesh.Mesh.reduced` order.
    k : (stop − start, d) float array
        Cartesian wave vectors (1/Å), identical to ``Mesh.cartesian(model, start, stop)``.
    H : (stop − start, N, N) complex array
        Bloch Hamiltonian (eV).
    dH : (len(directions), stop − start, N, N) complex array
        Cartesian derivatives (eV Å).
    """

    index: int
    start: int
    stop: int
    k: FloatArray
    H: ComplexArray
    dH: ComplexArray


class MeshFourier:
    """Precomputed FFT Bloch sums of one model on one uniform mesh (picklable, read-only).

    Parameters
    ----------
    model : LatticeModel
    mesh : Mesh
        From :func:`tbspin.make_mesh` (any size ≥ 2 per direction, any shift).
    directions : iterable of int or str
        Cartesian directions a of the derivatives ∂H/∂k_a (default: all d of the model).
    fft_workers : int
        Threads of :func:`scipy.fft.ifft` (1: parallelism belongs to :mod:`tbspin.engine.executor`).
    fold : bool
        True (default): the columns of the table are the residues R_p mod n_p. False: the
        distinct R_p themselves (more columns when n_p is below the span of R_p, but each holds
        one R_p, so the table does not depend on the shift: :mod:`tbspin.bz.family`); lines are
        then always one product over the columns.
    lower : bool, optional
        Sum the lower triangles only (:mod:`tbspin.bz.triangle`: H and ∂H are Hermitian, the
        upper triangle is the conjugate of the lower one). Default: when it is expected to be
        faster (:func:`tbspin.bz.triangle.lower_pays`: long sums per point; the 2–4-orbital
        catalogue models keep whole matrices).

    Notes
    -----
    Build it once per (model, mesh, directions) — the cost is one pass over the hoppings — and
    ship it to the workers instead of the model: :meth:`block` needs nothing else.
    """

    def __init__(
        self,
        model: LatticeModel,
        mesh: Mesh,
        directions: Iterable[Direction] | None = None,
        *,
        fft_workers: int = 1,
        fold: bool = True,
        lower: bool | None = None,
    ) -> None:
        p = model.n_periodic
        if len(mesh.n) != p:
            raise ParameterError(
                f"'mesh' has {len(mesh.n)} directions but model {model.name!r} has {p} periodic "
                "directions; build it with tbspin.make_mesh(model, ...)"
            )
        dirs = tuple(range(model.dim)) if directions is None else tuple(
            axis_index(a) for a in directions)
        if any(a >= model.dim for a in dirs):
            raise ParameterError(f"'directions' {dirs} include one beyond the {model.dim}D model")
        self.directions = dirs
        self.n = tuple(int(x) for x in mesh.n)
        self.shift = tuple(float(s) for s in mesh.shift)
        self.n_orbitals = model.n_orbitals
        self.fft_workers = int(fft_workers)
        self.recip: FloatArray = model.reciprocal[list(model.periodic)]
        per = list(model.periodic)
        Rp = model.R[:, per]  # (NR, p) integer components along the periodic directions
        Rcart = model.R @ model.lattice  # (NR, d)
        nlast, slast = self.n[-1], self.shift[-1]

        # weights of H and of each derivative; the shift phase of the FFT direction is a phase
        # per residue when each residue holds one R_p (n_p above the span of R_p: it then goes
        # into the line phases below and the table does not depend on the shift, which lets
        # tbspin.bz.family share it between shifted meshes), else it is applied before folding
        w = np.concatenate([np.ones((len(Rp), 1)), 1j * Rcart[:, dirs]], axis=1)  # (NR, 1+nd)
        values = np.unique(Rp[:, -1])
        self.fold = bool(fold)
        #: whether each column (residue R_p mod n_p, or R_p unfolded) holds a single R_p
        self.unique_residues = not fold or len(values) == len(np.unique(np.mod(values, nlast)))
        if not self.unique_residues:
            w = w * np.exp(2j * np.pi * slast * Rp[:, -1] / nlast)[:, None]
        # leading directions: "outer" (all but the last two) and "inner" (the one before last);
        # the table is dense in (outer R, inner R) so a plane of lines costs two small products
        outer, out_of = np.unique(Rp[:, :-2], axis=0, return_inverse=True)
        inner, in_of = np.unique(Rp[:, -2] if p > 1 else np.zeros(len(Rp), int), return_inverse=True)
        residues, res_of = np.unique(np.mod(Rp[:, -1], nlast) if fold else Rp[:, -1],
                                     return_inverse=True)
        if not fold:  # R_p ≥ 0, then R_p < 0: the folded columns' order when n_p > the span,
            # so both tables sum the same terms in the same order (tbspin.bz.family)
            order = np.argsort(residues < 0, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            residues, res_of = residues[order], rank[res_of.reshape(-1)]
        # the dense table is built lazily from these (a pickled plan ships only the hoppings)
        self._where = (out_of.reshape(-1), in_of.reshape(-1), res_of.reshape(-1))
        self._weights: ComplexArray = w
        n = model.n_orbitals
        if lower is None:  # the sums' multiply-adds per point and entry: planes, lines, points
            nres = len(residues)
            per_point = float(nres if nres <= DFT_RESIDUES or not fold else 2 * np.log2(nlast) + 2)
            if p > 1:
                per_point += len(inner) * nres / nlast
            if p > 2:
                per_point += len(outer) * len(inner) * nres / (nlast * self.n[-2])
            lower = triangle.lower_pays(n, per_point)
        #: whether the sums run on lower triangles (upper = conjugate: tbspin.bz.triangle)
        self.lower = bool(lower)
        il, jl, self._gather = triangle.lower_gather(n)
        #: (NR, E) hopping entries summed: the lower triangle (E = N(N+1)/2) or all (E = N²)
        self._hoppings: ComplexArray = model.hoppings[:, il, jl] if self.lower else \
            model.hoppings.reshape(len(model.R), n * n)
        self.entries = self._hoppings.shape[1]
        self._table: ComplexArray | None = None
        self._planes: collections.OrderedDict[int, ComplexArray] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.outer: IntArray = outer  # (N_outer, p − 2) distinct R components before the inner one
        self.inner: IntArray = inner.reshape(-1)  # (N_inner,) distinct R_{p−1} (zero when p = 1)
        self.residues: IntArray = residues  # (N_res,) distinct R_p mod n_p (unfolded: R_p)
        # e^{2πi j ρ/n_p} for the points j of a line and the residues ρ (the product j·ρ is
        # reduced mod n_p first: exact integer arithmetic, phases accurate for any n_p)
        jr = np.mod(np.outer(np.arange(nlast), residues), nlast)
        self._line_phases: ComplexArray = np.exp(2j * np.pi * jr / nlast)  # (n_p, N_res)
        #: the R_p of each residue (residue order) when they are unique, else None
        self.residue_r: IntArray | None = None
        #: the shift phase e^{2πi s_p R_p(ρ)/n_p} per residue (unique residues), else None
        self._residue_phase: ComplexArray | None = None
        if self.unique_residues:
            self.residue_r = values[np.argsort(np.mod(values, nlast), kind="stable")] if fold \
                else residues
            self._residue_phase = residue_phase(self.residue_r, slast, nlast)
            self._line_phases = self._line_phases * self._residue_phase[None]

        self.positions_phase = model.convention == "positions" and bool(
            np.ptp(model.positions, axis=0).any())
        self.positions: FloatArray = np.array(model.positions)
        for arr in (self.recip, self.outer, self.inner, self.residues, self.positions):
            arr.setflags(write=False)

    @property
    def table(self) -> ComplexArray:
        """(N_outer, N_inner·(1+nd)·N_res·E): hoppings × weights on the (outer R, inner R, R_p mod
        n_p) box, E entries per matrix (:attr:`entries`: the lower triangle, or all N²), built on
        first use (in each worker process)."""
        if self._table is None:
            nd1 = self._weights.shape[1]
            A = np.zeros((len(self.outer), len(self.inner), nd1, len(self.residues), self.entries),
                         dtype=complex)
            out_of, in_of, res_of = self._where
            # (numpy's stubs reject a slice inside the index tuple of ufunc.at, which numpy accepts)
            np.add.at(A, (out_of, in_of, slice(None), res_of),  # type: ignore[arg-type]
                      self._weights[:, :, None] * self._hoppings[:, None])
            table = A.reshape(len(self.outer), -1)
            table.setflags(write=False)
            self._table = table
        return self._table

    def _group(self) -> int:
        """Planes per group (:data:`PLANE_GROUP`, :data:`PLANE_BUDGET`)."""
        row = 16 * int(np.prod(self.table.shape[1:]))
        return max(1, min(PLANE_GROUP, PLANE_BUDGET // max(row, 1)))

    def _plane(self, plane: int) -> ComplexArray:
        """Σ over the outer R of the table for one plane (fixed outer mesh index), cached: the
        chunks of one plane (and the threads working on neighbouring chunks) share it, and a
        miss computes the plane's whole group in one product (:data:`PLANE_GROUP`); two groups
        are kept, for the threads."""
        if len(self.n) <= 2:
            return self.table
        with self._lock:  # a thread that misses computes the group; the others wait for it
            hit = self._planes.get(plane)
            if hit is not None:
                return hit
            # fixed groups (not "from the missing plane on"): a plane's value does not depend
            # on the order in which threads ask for the planes
            group = self._group()
            first = plane // group * group
            planes = np.arange(first, min(first + group, int(np.prod(self.n[:-2]))))
            j = np.array(np.unravel_index(planes, self.n[:-2])).T  # (G, p − 2)
            kap = (j + np.asarray(self.shift[:-2])) / np.asarray(self.n[:-2])
            b = np.exp(2j * np.pi * (kap @ self.outer.T)) @ self.table  # (G, row)
            for i, pl in enumerate(planes):
                self._planes[int(pl)] = b[i]
            while len(self._planes) > 2 * group:
                self._planes.popitem(last=False)
            return b[plane - first]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(_table=None, _planes=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._planes = collections.OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ sizes
    @property
    def size(self) -> int:
        """Number of k-points of the mesh."""
        return int(np.prod(self.n))

    @property
    def line_length(self) -> int:
        """Points per FFT line (the mesh size along the last periodic direction)."""
        return self.n[-1]

    def bytes_per_point(self) -> int:
        """Working memory (bytes) per k-point of :meth:`block` (transform and outputs)."""
        return 16 * self.n_orbitals**2 * (1 + len(self.directions)) * 3

    def chunk_size(self, budget: int = CHUNK_BUDGET) -> int:
        """A chunk size (points) within ``budget`` bytes, a whole number of lines when possible."""
        pts = max(1, budget // self.bytes_per_point())
        return whole_lines(pts, self.line_length)

    def n_chunks(self, chunk_size: int) -> int:
        """Number of chunks of ``chunk_size`` points."""
        return -(-self.size // chunk_size)

    # ------------------------------------------------------------------ evaluation
    def cartesian(self, start: int, stop: int) -> FloatArray:
        """Cartesian k (1/Å) of points start … stop−1 (same arithmetic as Mesh.cartesian)."""
        return self._cartesian_of(np.arange(start, stop))

    def _cartesian_of(self, index: IntArray) -> FloatArray:
        """Cartesian k (1/Å) of flat mesh indices (the arithmetic of Mesh.cartesian)."""
        idx = np.unravel_index(index, self.n)
        red = np.stack([(j + s) / m for j, s, m in zip(idx, self.shift, self.n)], axis=1)
        return red @ self.recip

    def block(self, start: int, stop: int) -> tuple[FloatArray, ComplexArray, ComplexArray]:
        """k, H(k) and ∂H/∂k of the mesh points start … stop−1 (Mesh.reduced order).

        Returns
        -------
        k : (M, d) float array, 1/Å
        H : (M, N, N) complex array, eV
        dH : (len(directions), M, N, N) complex array, eV Å
        """
        if not 0 <= start < stop <= self.size:
            raise ParameterError(f"point range [{start}, {stop}) is not inside the mesh of {self.size}")
        L = self.line_length
        first, last = start // L, -(-stop // L)
        F = self._lines(first, last)  # (1+nd, (last − first)·L, N, N)
        F = F[:, start - first * L: stop - first * L]
        return self._finish(self.cartesian(start, stop), F)

    def points(self, index: IntArray) -> tuple[FloatArray, ComplexArray, ComplexArray]:
        """k, H(k) and ∂H/∂k of scattered mesh points (flat indices in Mesh.reduced order).

        For point sets that are a small part of the mesh on few planes and lines (the
        irreducible wedge of a symmetric crystal: Pt 42³, 1903 points on 11 planes and 132
        lines): the plane sums over the outer R (cached, as for :meth:`block`) and the inner
        sums are taken for the planes and lines that hold points only, then each point sums its
        line's residues — (N_planes·N_outer·N_inner + N_lines·N_inner + N_points)·N_res blocks
        instead of N_points·N_R for the direct sum. Same values as :meth:`block` at those points.

        Parameters
        ----------
        index : (M,) int array
            Flat mesh indices (0 ≤ index < :attr:`size`), any order, repeats allowed.

        Returns
        -------
        k, H, dH
            As :meth:`block`, in the order of ``index``.
        """
        index = np.asarray(index, dtype=np.int64).reshape(-1)
        if index.size and (index.min() < 0 or index.max() >= self.size):
            raise ParameterError(f"mesh indices outside [0, {self.size}) of the mesh {self.n}")
        L, e = self.line_length, self.entries
        nd1, nres = 1 + len(self.directions), len(self.residues)
        lines, which = np.unique(index // L, return_inverse=True)
        C = self._line_set(lines).reshape(len(lines), nd1, nres, e)
        F = np.empty((nd1, len(index), e), dtype=complex)
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(lines) + 1))
        for ln in range(len(lines)):  # one product per line (its points × its residues)
            at = order[bounds[ln]:bounds[ln + 1]]
            F[:, at] = np.matmul(self._line_phases[index[at] % L], C[ln])
        return self._finish(self._cartesian_of(index), F)

    def _finish(self, k: FloatArray, F: ComplexArray
                ) -> tuple[FloatArray, ComplexArray, ComplexArray]:
        """(k, H, ∂H) from cell-convention sums F = [H, ∂H...] ((1+nd, M, E): lower triangles
        or whole matrices): the upper triangles, then the orbital-position phases."""
        n = self.n_orbitals
        if self.lower:
            F = triangle.expand_lower(F, self._gather, n)
        else:
            F = F.reshape(F.shape[:2] + (n, n))
        H, dH = F[0], F[1:]
        if self.positions_phase:
            tau = self.positions
            c = np.exp(1j * (k @ tau.T))  # (M, N): exp(i k·τ_n)
            orb = c.conj()[:, :, None] * c[:, None, :]  # exp(i k·(τ_n − τ_m))
            dtau = tau[None, :, :] - tau[:, None, :]  # (N, N, d): τ_n − τ_m
            for i, a in enumerate(self.directions):
                dH[i] += 1j * dtau[:, :, a] * H
                dH[i] *= orb
            H *= orb
        return k, np.ascontiguousarray(H), np.ascontiguousarray(dH)

    def _line_set(self, lines: IntArray) -> ComplexArray:
        """(len(lines), (1+nd)·N_res·E) inner sums of the lines ``lines`` (sorted, distinct
        flat line indices), before the transform along them: :meth:`_lines` for any set."""
        X = (1 + len(self.directions)) * len(self.residues) * self.entries
        ninner = self.n[-2] if len(self.n) > 1 else 1
        C = np.empty((len(lines), X), dtype=complex)
        planes = lines // ninner
        for plane in np.unique(planes):
            b = self._plane(int(plane)).reshape(-1, X)
            rows = np.flatnonzero(planes == plane)
            if len(self.n) > 1:
                kin = (lines[rows] - plane * ninner + self.shift[-2]) / ninner
                C[rows] = np.exp(2j * np.pi * np.outer(kin, self.inner)) @ b
            else:
                C[rows] = b
        return C

    def chunk(self, index: int, chunk_size: int) -> FourierChunk:
        """Chunk ``index`` of ``chunk_size`` points (the same ranges as Mesh.chunks)."""
        start = index * chunk_size
        stop = min(start + chunk_size, self.size)
        k, H, dH = self.block(start, stop)
        return FourierChunk(index=index, start=start, stop=stop, k=k, H=H, dH=dH)

    def chunks(self, chunk_size: int | None = None) -> Iterator[FourierChunk]:
        """All chunks in mesh order (default size: :meth:`chunk_size`)."""
        cs = chunk_size or self.chunk_size()
        for c in range(self.n_chunks(cs)):
            yield self.chunk(c, cs)

    def _lines(self, first: int, last: int) -> ComplexArray:
        """Cell-convention H and ∂H on lines first … last−1 along the last direction,
        (1+nd, (last − first)·L, E) (E entries per matrix: :attr:`entries`)."""
        nd1 = 1 + len(self.directions)
        e, L = self.entries, self.line_length
        p, nres = len(self.n), len(self.residues)
        ninner = self.n[-2] if p > 1 else 1
        X = nd1 * nres * e
        C = np.empty((last - first, X), dtype=complex)
        # lines first … last−1 cross consecutive planes (fixed outer index): the plane's sum over
        # the outer R comes from the cache, the inner R sum is one small product per plane
        for plane in range(first // ninner, (last - 1) // ninner + 1):
            b = self._plane(plane).reshape(-1, X)
            lo, hi = max(first, plane * ninner), min(last, (plane + 1) * ninner)
            if p > 1:
                kin = (np.arange(lo, hi) - plane * ninner + self.shift[-2]) / ninner
                C[lo - first: hi - first] = np.exp(2j * np.pi * np.outer(kin, self.inner)) @ b
            else:
                C[:] = b
        if nres <= DFT_RESIDUES or not self.fold:
            # Σ_ρ e^{2πi j ρ/L} C_ρ as one product over the residues, out in its final layout
            # (the inner (N_res, N²) blocks of the transposed view are contiguous: no copy)
            Ct = C.reshape(last - first, nd1, nres, e).transpose(1, 0, 2, 3)
            return np.matmul(self._line_phases, Ct).reshape(nd1, (last - first) * L, e)
        Z = np.zeros((nd1, last - first, L, e), dtype=complex)
        Cr = C.reshape(last - first, nd1, nres, e).transpose(1, 0, 2, 3)
        if self._residue_phase is not None:  # the shift along the line, per residue
            Cr = Cr * self._residue_phase[:, None]
        Z[:, :, self.residues] = Cr
        F = scipy.fft.ifft(Z, axis=2, norm="forward", overwrite_x=True, workers=self.fft_workers)
        return F.reshape(nd1, (last - first) * L, e)


def residue_phase(r: IntArray, shift: float, n: int) -> ComplexArray:
    """The shift phase e^{2πi s R_p(ρ)/n} of each residue's one R_p (``r``, residue order): the
    mesh shift s along the transformed direction of length n, a phase per residue."""
    return np.exp(2j * np.pi * shift * r / n)


def displaced_mesh(model: LatticeModel, mesh: Mesh, dk: FloatArray) -> Mesh:
    """The mesh of the points k + dk (Cartesian dk, 1/Å) for every k of ``mesh``, in the same order.

    A constant Cartesian displacement is a constant shift in reduced coordinates,
    s_i → s_i + n_i (a_i · dk) / 2π, so the finite-difference points k ± δ e_a of a uniform mesh
    are uniform meshes too and get FFT Bloch sums as well.

    Raises
    ------
    ParameterError
        If dk leaves the span of the periodic reciprocal vectors (it would change κ along a
        non-periodic direction, which a mesh of the model cannot express).
    """
    dk = np.asarray(dk, dtype=float).reshape(model.dim)
    per = list(model.periodic)
    red = model.lattice @ dk / (2 * np.pi)  # κ_i of dk along every lattice vector
    off = np.delete(red, per)
    if off.size and np.abs(off).max() > 1e-12 * max(1.0, np.abs(red).max()):
        raise ParameterError(
            f"displacement {dk.tolist()} has a component along a non-periodic direction of "
            f"model {model.name!r}; it is not a shift of the mesh"
        )
    shift = tuple(s + n * r for s, n, r in zip(mesh.shift, mesh.n, red[per]))
    return Mesh(n=mesh.n, shift=shift)


def mesh_hamiltonian_chunks(
    model: LatticeModel,
    mesh: Mesh,
    directions: Iterable[Direction] | None = None,
    chunk_size: int | None = None,
) -> Iterator[FourierChunk]:
    """Stream H(k), ∂H/∂k over a whole uniform mesh by FFT, chunk by chunk, in mesh order.

    Parameters
    ----------
    model : LatticeModel
    mesh : Mesh
    directions : iterable of int or str, optional
        Cartesian derivative directions (default: all).
    chunk_size : int, optional
        Points per chunk (default: whole lines within :data:`CHUNK_BUDGET`).

    Yields
    ------
    FourierChunk
        ``k``, ``H``, ``dH`` of points ``start … stop − 1``; equal to
        ``model.hamiltonian_and_derivatives(mesh.cartesian(model, start, stop), directions)``
        to rounding.
    """
    yield from MeshFourier(model, mesh, directions).chunks(chunk_size)
