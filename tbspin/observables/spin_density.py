"""Record: the current-induced spin density δS^a = χ^a_j E_j (spin a, field j), Kubo linear response.

The spin operator may be projected, A = ½{P, s^a}, with P a Hermitian (N, N) projector on some
orbitals (a layer, a site, a sublattice: ``options={"projector": P}``), so that the response can
be resolved in space (P = 1 by default). Two formulas, the two parts of the static Kubo formula
in the clean limit with a constant broadening Γ (Freimuth, Blügel & Mokrousov, PRB 90, 174423
(2014); Garello et al., Nat. Nanotechnol. 8, 587 (2013)):

* "intrinsic" (Fermi sea, interband, independent of Γ; odd under time reversal: it vanishes in a
  T-symmetric crystal and gives the dampinglike torque of a magnet):

      χ^a_j = e ∫ d^pk/(2π)^p Σ_m f_m (−2 Im Σ_{n∉D(m)} A_mn V^j_nm / ((ε_m − ε_n)² + η²)),

  the AHC's Kubo formula with the velocity ∂_iH replaced by A: for A = ∂_iH the integrand is the
  Berry curvature Ω^{ij}_m (so the spin density of a Dirac surface with s^y ∝ ∂_xH follows from
  its σ_xy: "charge current ↔ spin density").
* "fermi_surface" (intraband, ∝ 1/Γ; even under time reversal: the Edelstein effect, present
  without magnetization, and the fieldlike torque):

      χ^a_j = −(e / 2Γ) ∫ d^pk/(2π)^p Σ_m (−∂f/∂ε)_m A_mm V^j_mm

  (Boltzmann with τ = ħ/2Γ; A_mm V_mm summed over each degenerate block, a trace; −∂f/∂ε
  at the run's ``temperature`` > 0, the smearing of the Fermi surface;
  ``options={"gamma": Γ}`` in eV, default 0.01).

Units: the raw integral has Å^(1−p) (per eV, folded with e into per volt): χ in
(ħ/2)/(Å^(p−1) V) — spin (in units of ħ/2) per unit cell area (2D) or volume (3D) per V/Å of
field — canonical "hbar/2 per (A^(p-1) V)"; also per (nm^(p−1) V).
Electrons carry the charge −e; spin in units of ħ/2 (Pauli matrices).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tbspin.bands.integrands import BandContext
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.observables.base import Observable, register
from tbspin.types import ComplexArray, FloatArray

FORMULAS = ("intrinsic", "fermi_surface")


@dataclasses.dataclass(frozen=True, eq=False)
class SpinDensityTerm:
    """Components (a, j) of χ with operators A^a = ½{P, s^a} (``ops[a]``)."""

    ops: tuple[ComplexArray | None, ...]
    components: tuple[tuple[int, int], ...]
    formula: str = "intrinsic"
    eta: float = 0.0
    gamma: float = 0.01

    @property
    def occupation(self) -> str:
        return "sea" if self.formula == "intrinsic" else "surface"

    @property
    def directions(self) -> tuple[int, ...]:
        return tuple(sorted({j for _, j in self.components}))

    @property
    def n_components(self) -> int:
        return len(self.components)

    def evaluate(self, ctx: BandContext) -> FloatArray:
        eig = ctx.eigensystem(None)
        E, r = eig.energies, ctx.rows
        U = eig.vectors
        Uh = np.ascontiguousarray(U[:, :, :r].transpose(0, 2, 1).conj())
        out = np.zeros((len(E), r, len(self.components)))
        if self.formula == "intrinsic":
            w = ctx.kubo_weights(self.eta)
        A: dict[int, ComplexArray] = {}
        for c, (a, j) in enumerate(self.components):
            if a not in A:
                op = self.ops[a]
                assert op is not None
                A[a] = (Uh @ op) @ U  # rows m < r of U† A U
            V = ctx.velocity(None, j)
            if self.formula == "intrinsic":
                Vw = V * w
                im = A[a].imag * Vw.real  # Im(A_mn conj(V_mn w_mn)) = Im(A_mn V_nm) w_mn
                im -= A[a].real * Vw.imag
                out[:, :, c] = -2.0 * im.sum(axis=2)
            else:  # Re Σ_{n∈D(m)} A_mn V_nm: A_mm V_mm, summed inside degenerate blocks (the
                # block trace, independent of the basis inside D)
                same = eig.block[:, :r, None] == eig.block[:, None, :]
                re = A[a].real * V.real
                re += A[a].imag * V.imag  # Re(A_mn conj(V_mn))
                out[:, :, c] = (re * same).sum(axis=2) / (-2.0 * self.gamma)
        return out


def _term(model: LatticeModel, components: tuple[tuple[int, ...], ...], *, formula: str,
          spins: tuple, eta: float = 0.0, projector: object = None, gamma: float = 0.01,
          **_: object) -> SpinDensityTerm:
    n = model.n_orbitals
    P = np.eye(n) if projector is None else np.asarray(projector, dtype=complex)
    if P.shape != (n, n) or not np.allclose(P, P.conj().T, atol=1e-12):
        raise ParameterError(f"spin density: 'projector' must be a Hermitian ({n}, {n}) matrix, "
                             f"got shape {P.shape}")
    if not (np.isfinite(gamma) and gamma > 0):
        raise ParameterError(f"spin density: 'gamma' must be a positive broadening (eV), got {gamma}")
    ops: list[ComplexArray | None] = [None, None, None]
    for a, slot in enumerate(spins):
        if slot is not None:
            s = np.asarray(slot[0], dtype=complex)
            ops[a] = 0.5 * (P @ s + s @ P)
    return SpinDensityTerm(tuple(ops), tuple((int(c[0]), int(c[1])) for c in components),
                           formula, float(eta), float(gamma))


RECORD = register(Observable(
    name="spin_density", title="current-induced spin density", kind="spin_density",
    indices=("spin", "field"), axial=(True, False), time_odd=True, occupation="sea",
    units={3: {"hbar/2 per (A^2 V)": 1.0, "hbar/2 per (nm^2 V)": 100.0},
           2: {"hbar/2 per (A V)": 1.0, "hbar/2 per (nm V)": 10.0},
           1: {"hbar/2 per V": 1.0}},
    canonical={3: "hbar/2 per (A^2 V)", 2: "hbar/2 per (A V)", 1: "hbar/2 per V"},
    formulas=FORMULAS, term=_term, doc=__doc__ or "", uses_gauge=False,
    time_even_formulas=("fermi_surface",),
))
__all__ = ["RECORD", "SpinDensityTerm", "FORMULAS"]

