"""Band-resolved integrands k → (ε_mk, X_mk,c) from ONE eigensystem per k-point.

A :class:`BandKernel` evaluates a tuple of *terms* (bound observable records, :mod:`tbspin.
observables`) on a k-batch: it builds one :class:`BandContext` — the Bloch sums H, ∂_aH of the
batch and ONE ``eigh`` — and every term asks the context for what it needs. The context caches
what it hands out: the eigensystem rotated inside degenerate blocks by a gauge operator (one per
distinct operator; the diagonalization is shared), velocity matrices V^a = U†∂_aH U in that
basis, band-pair terms T^{ij}_mn = −2 Im(R^i_mn R^j_nm). A whole 3×3×3 spin Hall tensor and
the AHC vector therefore cost one diagonalization (the floor of every run), not 27.

A term is any object with

* ``directions`` — the Cartesian derivative directions it needs,
* ``n_components`` — how many tensor components it returns,
* ``occupation`` — "sea" (weight f) or "surface" (weight −∂f/∂ε), :mod:`tbspin.engine.occupation`,
* ``evaluate(ctx) -> (Nk, r, n_components)`` — X for the bands m < r = ``ctx.rows``.

Formulas (spin s in units of ħ/2, V^a = ⟨m|∂_aH|n⟩): Berry curvature Ω^{ij}_m = Σ_n T^{ij}_mn;
proper spin Σ^{l,ij}_m = Σ_n T^{ij}_mn s^l_nn (Liu, Cullen & Culcer, PRB 108, 195434 (2023),
Eq. 2); conventional −2 Im Σ_{n∉D(m)} ⟨m|½{s^l, V^i}|n⟩⟨n|V^j|m⟩ / ((ε_m − ε_n)² + η²); the
records in :mod:`tbspin.observables` hold them with their units and index conventions.

A Fermi sum up to E_F,max needs X_m only for bands occupied somewhere: with ``e_max`` set
(:func:`with_band_cutoff`, done by the integration engines) the context forms the rows m of the
velocity matrices below that energy only — V^j_nm = conj(V^j_mn) needs no other row — and X = 0
above it (a third to a half less matrix work for Wannier models).

:class:`Integrand` is the one-component kernel of the 0.2 API (``what``, ``i``, ``j``,
``spin_op``, ``eta``), built from the same records: its values equal the corresponding component
of a whole-tensor kernel to round-off.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from tbspin.bands import eigen
from tbspin.bands.berry import (
    BerryConnection,
    _inverse_gaps,
    compute_connection,
    kubo_pair_terms_many,
    pair_weights,
    rows_below,
    velocity_matrices,
)
from tbspin.bands.eigen import Eigensystem, expectation
from tbspin.bands.settings import ConnectionSettings
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.types import ComplexArray, FloatArray

FORMULAS = ("proper", "conventional", "smm_omega")
WHAT = ("berry",) + FORMULAS

__all__ = ["Integrand", "BandKernel", "BandContext", "Term", "pair_terms", "with_band_cutoff",
           "register_term", "FORMULAS"]

K = TypeVar("K")

#: with T > 0 bands up to this many k_B T above the highest Fermi energy are kept (f < 1e-17)
CUTOFF_KT = 40.0


def pair_terms(Ri: ComplexArray, Rj: ComplexArray) -> FloatArray:
    """T[k, m, n] = −2 Im(R^i_mn R^j_nm): Ω_m = Σ_n T_mn."""
    return -2.0 * np.imag(Ri * Rj.transpose(0, 2, 1))


class Term(Protocol):
    """What a :class:`BandKernel` evaluates (module docstring)."""

    @property
    def directions(self) -> tuple[int, ...]: ...

    @property
    def n_components(self) -> int: ...

    @property
    def occupation(self) -> str: ...

    def evaluate(self, ctx: BandContext) -> FloatArray: ...


class BandContext:
    """Everything the terms of one k-batch share: H, ∂H, one eigh, cached gauge-fixed bases.

    Parameters
    ----------
    model : LatticeModel
    k : (Nk, d) validated Cartesian k-points (1/Å)
    settings : ConnectionSettings
        The kernel's base settings (method, δ, ``degen_tol``): the eigensystem without a gauge
        operator and the row cutoff use them.
    directions : tuple of int
        Derivative directions of ``dH`` (the kernel's).
    hamiltonians : (H, dH), optional
        Precomputed Bloch sums (FFT path, :mod:`tbspin.bz.fourier`); for "fd" H at k and k ± δe_a
        stacked as :func:`tbspin.bands.berry.fd_points` orders them.
    e_max : float, optional
        Only bands m < :func:`tbspin.bands.berry.rows_below` get X (the others are 0).
    """

    def __init__(self, model: LatticeModel, k: FloatArray, settings: ConnectionSettings,
                 directions: tuple[int, ...],
                 hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
                 e_max: float | None = None) -> None:
        self.model, self.k, self.settings = model, k, settings
        self.directions = directions
        self.e_max = e_max
        self._hamiltonians = hamiltonians
        self._cache: dict[Any, Any] = {}

    # ------------------------------------------------------------------ Bloch sums, eigh
    def _bloch(self) -> tuple[ComplexArray, ComplexArray]:
        if "bloch" not in self._cache:
            if self._hamiltonians is not None and self.settings.method == "kubo":
                self._cache["bloch"] = self._hamiltonians
            elif self._hamiltonians is not None:  # fd stack: H at k first, no derivatives
                H = self._hamiltonians[0][: len(self.k)]
                dH = self.model.hamiltonian_and_derivatives(self.k, self.directions)[1]
                self._cache["bloch"] = (H, dH)
            else:
                self._cache["bloch"] = self.model.hamiltonian_and_derivatives(
                    self.k, self.directions)
        return self._cache["bloch"]

    @property
    def hamiltonian(self) -> ComplexArray:
        """H(k) (Nk, N, N)."""
        return self._bloch()[0]

    def derivative(self, a: int) -> ComplexArray:
        """∂_aH (Nk, N, N) for a direction of :attr:`directions`."""
        return self._bloch()[1][self.directions.index(a)]

    def _eigh(self) -> tuple[FloatArray, ComplexArray]:
        if "eigh" not in self._cache:
            self._cache["eigh"] = eigen._eigh(self.hamiltonian)
        return self._cache["eigh"]

    @staticmethod
    def _gkey(st: ConnectionSettings | None) -> tuple:
        if st is None:
            return (None,)
        return (None if st.gauge is None else id(st.gauge), st.degen_tol, st.gauge_tol)

    def eigensystem(self, st: ConnectionSettings | None = None) -> Eigensystem:
        """The eigensystem with the gauge of ``st`` (None: no gauge operator, the base
        ``degen_tol``), from the one shared diagonalization (kubo) or the fd connection."""
        key = ("eig", self._gkey(st))
        if key not in self._cache:
            s = st or self.settings
            if self.settings.method == "fd" and st is not None:
                self._cache[key] = self.connection(st).eig
            else:
                G = None if st is None else s.gauge
                self._cache[key] = eigen.solve(self.hamiltonian, G, degen_tol=s.degen_tol,
                                               gauge_tol=s.gauge_tol, eigh=self._eigh(),
                                               gauge_label=s.gauge_name)
        return self._cache[key]

    @property
    def energies(self) -> FloatArray:
        """ε_mk (Nk, N), ascending."""
        if self.settings.method == "kubo" or self._hamiltonians is None:
            return self._eigh()[0]
        return self.eigensystem().energies

    @property
    def rows(self) -> int:
        """Bands m < rows get X (all without ``e_max``; blocks never straddle the cut)."""
        if "rows" not in self._cache:
            E = self.energies
            if self.e_max is None:
                self._cache["rows"] = E.shape[1]
            else:  # the block labels alone (no eigenvector work)
                block = eigen.block_labels(E, self.settings.degen_tol)
                # rows_below reads energies and blocks only
                lite = Eigensystem(energies=E, vectors=E, block=block, gauge_values=None,
                                   group=block)
                self._cache["rows"] = rows_below(lite, self.e_max)
        return self._cache["rows"]

    # ------------------------------------------------------------------ matrices
    def velocity(self, st: ConnectionSettings | None, a: int) -> ComplexArray:
        """V^a_mn = (U† ∂_aH U)_mn, m < :attr:`rows`, in the basis of ``st``'s gauge (all
        :attr:`directions` are formed together on first use)."""
        return self.velocities(st)[self.directions.index(a)]

    def velocities(self, st: ConnectionSettings | None) -> ComplexArray:
        """V^a for all :attr:`directions` stacked in their order, (ndir, Nk, rows, N), in the
        basis of ``st``'s gauge (formed once; :meth:`velocity` hands out views)."""
        key = ("V", self._gkey(st))
        if key not in self._cache:
            eig = self.eigensystem(st)
            if eig.rotations is not None and self.settings.method == "kubo":
                # the eigh basis rotated inside blocks: rotate eigh's velocity matrices
                # (O(r N) per block, every direction in one call) instead of a new basis change
                # per gauge operator
                if "V0" not in self._cache:
                    self._cache["V0"] = velocity_matrices(self._eigh()[1], self._bloch()[1],
                                                          self.rows)
                self._cache[key] = eigen.rotate_matrix(self._cache["V0"], eig.rotations,
                                                       self.rows)
            else:
                self._cache[key] = velocity_matrices(eig.vectors, self._bloch()[1], self.rows)
        return self._cache[key]

    def kubo_weights(self, eta: float = 0.0) -> FloatArray:
        """w[k, m, n] = 1/((ε_m − ε_n)² + η²) between different degenerate blocks, 0 inside a
        block (the trace over a block needs no gauge), rows m < :attr:`rows`; the energy
        denominators of the Kubo formulas (conventional spin Hall, intrinsic spin density)."""
        key = ("w", float(eta))
        if key not in self._cache:
            eig = self.eigensystem(None)
            E, r = eig.energies, self.rows
            dE2 = (E[:, :r, None] - E[:, None, :]) ** 2 + eta**2
            same = eig.block[:, :r, None] == eig.block[:, None, :]
            self._cache[key] = np.where(same, 0.0, 1.0 / np.where(same, 1.0, dE2))
        return self._cache[key]

    def connection(self, st: ConnectionSettings) -> BerryConnection:
        """Berry connections of all :attr:`directions` (any method; full rows)."""
        key = ("R", self._gkey(st))
        if key not in self._cache:
            self._cache[key] = compute_connection(self.model, self.k, st, self.directions,
                                                  self._hamiltonians)
        return self._cache[key]

    def pair_terms(self, st: ConnectionSettings, i: int, j: int) -> FloatArray:
        """T^{ij}[k, m, n] = −2 Im(R^i_mn R^j_nm) in the gauge of ``st``, rows m < :attr:`rows`
        (Kubo path without forming R when the model has no position matrix).

        Formed for i < j only; T^{ji} is −T^{ij} by definition. (The intra-block connection of
        a block whose bands are not exactly degenerate is Hermitian only up to the splitting
        over the gaps, so forming T^{ji} on its own differed from −T^{ij} at that level: a
        single-component run with current > field direction then differed from the whole
        tensor, e.g. 7e-5 of the largest component for Bi₂Se₃ 24³.)"""
        if i > j:
            return -self.pair_terms(st, j, i)
        key = ("T", self._gkey(st), i, j)
        if key in self._cache:
            return self._cache[key]
        if st.method == "kubo" and not self.model.uses_position_matrix:
            # every pair of the context's directions at once: one intra-block connection per
            # direction, shared by the pairs (berry.kubo_pair_terms_many); ascending directions
            # (the pairs (p, q), p < q, are the i < j the cache holds)
            eig = self.eigensystem(st)
            dirs = tuple(sorted(self.directions))
            if dirs == self.directions:  # the stacked velocities as they are (no copy)
                V = self.velocities(st)
            else:
                V = np.stack([self.velocity(st, a) for a in dirs])
            pairs = tuple((p, q) for p in range(len(dirs)) for q in range(p + 1, len(dirs)))
            gkey = ("gaps", st.degen_tol)  # 1/(ε_n − ε_m) between blocks: gauge-independent
            if gkey not in self._cache:
                gaps = _inverse_gaps(eig, self.rows)
                self._cache[gkey] = (gaps, pair_weights(gaps[0]))
            gaps, inv2 = self._cache[gkey]
            terms = kubo_pair_terms_many(eig, V, st.gauge, pairs, gaps, inv2)
            for (p, q), Tpq in zip(pairs, terms, strict=True):
                self._cache[("T", self._gkey(st), dirs[p], dirs[q])] = Tpq
            return self.pair_terms(st, i, j)
        bc = self.connection(st)
        a, b = self.directions.index(i), self.directions.index(j)
        T = pair_terms(bc.R[a], bc.R[b])[:, : self.rows]
        self._cache[key] = T
        return T

    def release(self, st: ConnectionSettings) -> None:
        """Drop what the context holds in the gauge of ``st`` (rotated basis, velocities, pair
        terms, spin diagonal, connection): a term done with a gauge frees its arrays before the
        next gauge's are formed (a smaller working set). Asking again recomputes them; what is
        shared by all gauges (eigh, eigh-basis velocities, gaps) stays."""
        g = self._gkey(st)
        if g == (None,):
            return
        for key in [key for key in self._cache if isinstance(key, tuple) and len(key) > 1
                    and key[1] == g]:
            del self._cache[key]

    def spin_diagonal(self, st: ConnectionSettings, op: ComplexArray) -> FloatArray:
        """s_nn = ⟨u_n|op|u_n⟩ (Nk, N) in the gauge of ``st``. When ``op`` is the gauge operator
        and every band lies in a degenerate block (Kramers pairs everywhere), these are the
        gauge values the block rotation already found: no second product."""
        key = ("s", self._gkey(st), id(op))
        if key not in self._cache:
            self._cache[key] = _spin_diagonal(self.eigensystem(st), op, st.gauge)
        return self._cache[key]


def _spin_diagonal(eig: Eigensystem, op: ComplexArray, gauge: ComplexArray | None) -> FloatArray:
    """s_nn = ⟨u_n|op|u_n⟩ (Nk, N); the gauge values themselves when ``op`` is the gauge
    operator and every band lies in a degenerate block."""
    g = eig.gauge_values
    if g is not None and gauge is not None and (op is gauge or np.array_equal(op, gauge)):
        if eig.in_block.all():
            return g
    return expectation(eig.vectors, op)


def union_directions(terms: Sequence[Term]) -> tuple[int, ...]:
    """Sorted union of the terms' derivative directions."""
    return tuple(sorted({a for t in terms for a in t.directions}))


@dataclasses.dataclass(frozen=True, eq=False)
class BandKernel:
    """k (Nk, d) → (energies (Nk, N), X (Nk, N, C)) for a tuple of terms (module docstring).

    Frozen and picklable: calling it on a k-batch is a pure function, so chunks can run on any
    executor. ``settings``: the base connection settings (method, δ, ``degen_tol``; the terms
    carry their own gauge-resolved settings). ``mix``: an optional fixed real matrix
    (C, C_terms) applied to the terms' components at every k — X = X_terms · mixᵀ (the
    star average of a symmetric crystal, :mod:`tbspin.observables._wedge`); its components
    must share one occupation.
    """

    model: LatticeModel
    terms: tuple[Any, ...]
    settings: ConnectionSettings
    e_max: float | None = None
    mix: FloatArray | None = None

    def __post_init__(self) -> None:
        if self.mix is None:
            return
        mix = np.asarray(self.mix, dtype=float)
        c_terms = sum(t.n_components for t in self.terms)
        if mix.ndim != 2 or mix.shape[1] != c_terms or mix.shape[0] < 1:
            raise ParameterError(f"BandKernel 'mix' must have shape (C, {c_terms}), got "
                                 f"{mix.shape}")
        if len({t.occupation for t in self.terms}) > 1:
            raise ParameterError("BandKernel 'mix' combines terms of different occupations")
        mix.setflags(write=False)
        object.__setattr__(self, "mix", mix)

    @property
    def directions(self) -> tuple[int, ...]:
        """The Cartesian directions of the Bloch-sum derivatives it needs."""
        return union_directions(self.terms)

    @property
    def n_components(self) -> int:
        """Total number of components C (the rows of ``mix`` when given)."""
        if self.mix is not None:
            return int(self.mix.shape[0])
        return sum(t.n_components for t in self.terms)

    @property
    def occupations(self) -> tuple[str, ...]:
        """Occupation weight of every component ("sea" or "surface")."""
        if self.mix is not None:
            return (self.terms[0].occupation,) * int(self.mix.shape[0])
        return tuple(t.occupation for t in self.terms for _ in range(t.n_components))

    def context(self, k: FloatArray, hamiltonians: tuple[ComplexArray, ComplexArray] | None = None
                ) -> BandContext:
        """The shared band context of a k-batch."""
        return BandContext(self.model, k, self.settings, self.directions, hamiltonians,
                           self.e_max)

    def __call__(
        self, k: FloatArray, hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """(energies (Nk, N) eV, X (Nk, N, C)) at validated Cartesian k-points (Nk, d)."""
        ctx = self.context(k, hamiltonians)
        E = ctx.energies
        X = np.zeros(E.shape + (sum(t.n_components for t in self.terms),))
        c = 0
        for t in self.terms:
            x = t.evaluate(ctx)
            X[:, : x.shape[1], c: c + t.n_components] = x
            c += t.n_components
        if self.mix is not None:
            X = X @ self.mix.T
        return E, X


#: legacy ``what`` → factory(model, i, j, settings, spin_op, eta) of a one-component term;
#: filled by the records of :mod:`tbspin.observables` when they are imported
_TERMS: dict[str, Callable[..., Any]] = {}


def register_term(what: str, factory: Callable[..., Any]) -> None:
    """Register the one-component term behind ``Integrand(what=...)`` (done by the records)."""
    _TERMS[what] = factory


@dataclasses.dataclass(frozen=True, eq=False)
class Integrand:
    """Band-resolved integrand of one component (the 0.2 interface; module docstring).

    Attributes
    ----------
    model : LatticeModel
    what : {"berry", "proper", "conventional", "smm_omega"}
    i, j : int
        Cartesian directions (current i, field j; curvature Ω^{ij}).
    settings : ConnectionSettings
        Resolved connection settings (the conventional formula always uses "kubo").
    spin_op : (N, N) complex array or None
        Spin (or other) operator l of the spin Hall formulas, units ħ/2.
    eta : float
        Broadening (eV) of the conventional Kubo denominators.
    e_max : float or None
        Only bands with ε ≤ e_max somewhere in a k-batch get X computed (the others return 0);
        None: all bands. Set by :func:`with_band_cutoff`.
    """

    model: LatticeModel
    what: str
    i: int
    j: int
    settings: ConnectionSettings
    spin_op: ComplexArray | None = None
    eta: float = 0.0
    e_max: float | None = None

    def __post_init__(self) -> None:
        if self.what not in WHAT:
            raise ParameterError(f"unknown integrand {self.what!r}; choose one of {WHAT}")
        if self.what != "berry" and self.spin_op is None:
            raise ParameterError(f"the {self.what!r} integrand needs a spin operator")

    @functools.cached_property
    def kernel(self) -> BandKernel:
        """The equivalent one-term :class:`BandKernel`."""
        if self.what not in _TERMS:  # the records register on import of tbspin.observables
            import tbspin.observables  # noqa: F401
        term = _TERMS[self.what](self.model, self.i, self.j, self.settings, self.spin_op,
                                 self.eta)
        return BandKernel(self.model, (term,), self.settings, self.e_max)

    @property
    def directions(self) -> tuple[int, ...]:
        """The Cartesian directions (i, j) of the connections and derivatives it needs."""
        return (self.i, self.j)

    @property
    def n_components(self) -> int:
        """One component (the 0.2 interface); X is returned as (Nk, N)."""
        return 1

    @property
    def occupations(self) -> tuple[str, ...]:
        """("sea",): every formula of this interface is a Fermi-sea sum."""
        return ("sea",)

    def __call__(
        self, k: FloatArray, hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """(energies (Nk, N) eV, X (Nk, N)) at validated Cartesian k-points (Nk, d).

        ``hamiltonians``: precomputed Bloch sums of these k (FFT path, :mod:`tbspin.bz.fourier`),
        in the layout of :func:`tbspin.bands.berry.compute_connection` for :attr:`directions`.
        """
        ctx = BandContext(self.model, k, self.settings, self.directions, hamiltonians,
                          self.e_max)
        E = ctx.energies
        X = np.zeros(E.shape)
        x = self.kernel.terms[0].evaluate(ctx)
        X[:, : x.shape[1]] = x[..., 0]
        return E, X

    def pairs(
        self, k: FloatArray, hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
        e_max: float | None = None,
    ) -> tuple[Eigensystem, FloatArray]:
        """Gauge-fixed eigensystem and T[k, m, n] = −2 Im(R^i_mn R^j_nm) at k (the band-pair
        terms of the Berry-connection formulas). With ``e_max`` the rows m < M only."""
        ctx = BandContext(self.model, k, self.settings, self.directions, hamiltonians, e_max)
        return ctx.eigensystem(self.settings), ctx.pair_terms(self.settings, self.i, self.j)


def with_band_cutoff(kernel: K, efermi: FloatArray, temperature: float = 0.0) -> K:
    """The kernel with ``e_max`` = max(E_F) (+ ``CUTOFF_KT`` k_B T at T > 0) when it is an
    :class:`Integrand` or :class:`BandKernel` (the bands above never enter the Fermi sums), else
    the kernel itself."""
    if not isinstance(kernel, (Integrand, BandKernel)) or kernel.e_max is not None \
            or len(efermi) == 0:
        return kernel
    from tbspin.units import KB_EV

    e_max = float(np.max(efermi)) + CUTOFF_KT * KB_EV * float(temperature)
    return dataclasses.replace(kernel, e_max=e_max)
