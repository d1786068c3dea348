"""Band-resolved integrands k → (ε_mk, X_mk): what the Brillouin-zone integrals sum.

With R from :mod:`tbspin.berry` (resolved :class:`tbspin.settings.ConnectionSettings`), spin s in
units of ħ/2 and V^a = ⟨m|∂_a H|n⟩ (k-point k, band m, directions i, j, spin component l):

* Berry curvature   Ω^{ij}_m = i Σ_{n≠m} (R^i_mn R^j_nm − R^j_mn R^i_nm) = −2 Im Σ_n R^i_mn R^j_nm
* proper spin       Σ^{l,ij}_m = i Σ_{n≠m} s^l_nn (R^i_mn R^j_nm − R^j_mn R^i_nm)
  (Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. 2, generalized to the full tensor)
* "s_mm Ω_m"        s^l_mm Ω^{ij}_m  (the same paper, Eq. 9; a diagnostic)
* conventional      −2 Im Σ_{n∉D(m)} ⟨m|½{s^l, V^i}|n⟩⟨n|V^j|m⟩ / ((ε_m − ε_n)² + η²)
  (Kubo formula with the ½{s, v} spin current, as in Wannier90 / WannierBerri; η = 0 by default)

An :class:`Integrand` is a frozen, picklable value (model, formula, directions, operator,
settings, η): calling it on a k-batch is a pure function, so chunks can run on any executor.
A Fermi sum up to E_F,max needs X_m only for the bands that are occupied somewhere: with
``e_max`` set (:func:`with_band_cutoff`, done by the integration engines) the Kubo kernels form
the rows m of the velocity matrices below that energy only — V^j_nm = conj(V^j_mn) needs no
other row — and return X = 0 above it (a third to a half less matrix work for Wannier models).
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

import numpy as np

from .berry import (
    compute_connection,
    kubo_eigensystem,
    kubo_pair_terms,
    rows_below,
    velocity_matrices,
)
from .eigen import Eigensystem, apply_operator, expectation, solve
from .errors import ParameterError
from .model import LatticeModel
from .settings import ConnectionSettings
from .types import ComplexArray, FloatArray

FORMULAS = ("proper", "conventional", "smm_omega")
WHAT = ("berry",) + FORMULAS

__all__ = ["Integrand", "pair_terms", "with_band_cutoff", "FORMULAS"]

K = TypeVar("K")

#: with T > 0 bands up to this many k_B T above the highest Fermi energy are kept (f < 1e-17)
CUTOFF_KT = 40.0


def pair_terms(Ri: ComplexArray, Rj: ComplexArray) -> FloatArray:
    """T[k, m, n] = −2 Im(R^i_mn R^j_nm): Ω_m = Σ_n T_mn."""
    return -2.0 * np.imag(Ri * Rj.transpose(0, 2, 1))


@dataclasses.dataclass(frozen=True, eq=False)
class Integrand:
    """Band-resolved integrand of one observable (module docstring).

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

    @property
    def directions(self) -> tuple[int, int]:
        """The Cartesian directions (i, j) of the connections and derivatives it needs."""
        return (self.i, self.j)

    def __call__(
        self, k: FloatArray, hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """(energies (Nk, N) eV, X (Nk, N)) at validated Cartesian k-points (Nk, d).

        ``hamiltonians``: precomputed Bloch sums of these k (FFT path, :mod:`tbspin.fourier`),
        in the layout of :func:`tbspin.berry.compute_connection`.
        """
        if self.what == "conventional":
            return self._conventional(k, hamiltonians)
        eig, T = self.pairs(k, hamiltonians, self.e_max)
        E = eig.energies
        r = T.shape[1]  # rows computed (bands up to e_max)
        X = np.zeros(E.shape)
        if self.what == "berry":
            X[:, :r] = T.sum(axis=2)
            return E, X
        op = self.spin_op
        assert op is not None  # checked in __post_init__
        sdiag = _spin_diagonal(eig, op, self.settings.gauge)
        if self.what == "proper":
            X[:, :r] = (T @ sdiag[:, :, None])[:, :, 0]
        else:  # smm_omega
            X[:, :r] = sdiag[:, :r] * T.sum(axis=2)
        return E, X

    def pairs(
        self, k: FloatArray, hamiltonians: tuple[ComplexArray, ComplexArray] | None = None,
        e_max: float | None = None,
    ) -> tuple[Eigensystem, FloatArray]:
        """Gauge-fixed eigensystem and T[k, m, n] = −2 Im(R^i_mn R^j_nm) at k (the band-pair
        terms of the Berry-connection formulas; Ω_m = Σ_n T_mn, proper Σ_m = Σ_n T_mn s_nn).
        With ``e_max`` the Kubo path may return the rows m < M only (:func:`~tbspin.berry.
        rows_below`); otherwise T is (Nk, N, N)."""
        st, dirs = self.settings, self.directions
        if st.method == "kubo" and not self.model.uses_position_matrix:
            # T from the velocity matrices directly (berry.kubo_pair_terms: R is never formed)
            eig, V = kubo_eigensystem(self.model, k, dirs, st.gauge, st.degen_tol, st.gauge_tol,
                                      hamiltonians, e_max)
            return eig, kubo_pair_terms(eig, V, st.gauge)
        bc = compute_connection(self.model, k, st, dirs, hamiltonians)
        return bc.eig, pair_terms(bc.R[0], bc.R[1])

    def _conventional(
        self, k: FloatArray, hamiltonians: tuple[ComplexArray, ComplexArray] | None
    ) -> tuple[FloatArray, FloatArray]:
        """The ½{s, V} Kubo integrand from eigenvectors and velocity matrices alone.

        It needs no Berry connection and no gauge fixing: for each degenerate block D the sum
        Σ_{m∈D} Σ_{n∉D} J_mn V_nm is a trace over D, unchanged by any rotation inside D (and
        inside the blocks of n), so eigh's basis is used as it comes.
        """
        H, dH = (self.model.hamiltonian_and_derivatives(k, self.directions)
                 if hamiltonians is None else hamiltonians)
        eig = solve(H, None, degen_tol=self.settings.degen_tol)
        E, n = eig.energies, eig.energies.shape[1]
        r = n if self.e_max is None else rows_below(eig, self.e_max)
        assert self.spin_op is not None  # checked in __post_init__
        # ½{s, ∂_i H} in the orbital basis (s ∂_i H and its adjoint ∂_i H s), then the rows of
        # J and V^j in the eigenbasis together; V^j_nm = conj(V^j_mn)
        sdH = apply_operator(self.spin_op, dH[0])
        ops = np.stack([0.5 * (sdH + sdH.conj().transpose(0, 2, 1)), dH[1]])
        J, Vj = velocity_matrices(eig.vectors, ops, r)
        dE2 = (E[:, :r, None] - E[:, None, :]) ** 2 + self.eta**2
        same = eig.block[:, :r, None] == eig.block[:, None, :]
        w = np.where(same, 0.0, 1.0 / np.where(same, 1.0, dE2))
        X = np.zeros(E.shape)
        im = J.imag * Vj.real  # Im(J conj(V^j)) without complex temporaries
        im -= J.real * Vj.imag
        X[:, :r] = -2.0 * (im * w).sum(axis=2)
        return E, X


def _spin_diagonal(eig: Eigensystem, op: ComplexArray, gauge: ComplexArray | None) -> FloatArray:
    """s_nn = ⟨u_n|op|u_n⟩ (Nk, N). When ``op`` is the gauge operator and every band lies in a
    degenerate block (Kramers pairs everywhere, e.g. a Wannier fit of a T- and P-symmetric
    crystal) these are the gauge values the block rotation already found: no second product."""
    g = eig.gauge_values
    if g is not None and gauge is not None and (op is gauge or np.array_equal(op, gauge)):
        if eig.in_block.all():
            return g
    return expectation(eig.vectors, op)


def with_band_cutoff(kernel: K, efermi: FloatArray, temperature: float = 0.0) -> K:
    """The kernel with ``e_max`` = max(E_F) (+ ``CUTOFF_KT`` k_B T at T > 0) when it is an
    :class:`Integrand` (the bands above never enter the Fermi sums), else the kernel itself."""
    if not isinstance(kernel, Integrand) or kernel.e_max is not None or len(efermi) == 0:
        return kernel
    from .units import KB_EV

    e_max = float(np.max(efermi)) + CUTOFF_KT * KB_EV * float(temperature)
    return dataclasses.replace(kernel, e_max=e_max)
