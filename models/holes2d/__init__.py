"""Two-dimensional hole gas (a package; public names re-exported here): the 4×4 Luttinger
Hamiltonian of a [001] quantum well projected on variational heavy- and light-hole envelopes,
regularized on a square lattice.

This is the 2D hole model of Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eqs. (11)–(12)
(the variational envelope scheme of Marcellina, Hamilton, Winkler & Culcer, PRB 95, 075305
(2017)).

Conventions (read these before using the numbers)
-------------------------------------------------
*Basis.* |3/2,+3/2⟩, |3/2,+1/2⟩, |3/2,−1/2⟩, |3/2,−3/2⟩ (standard Condon–Shortley J matrices),
each multiplied by its own envelope: φ_h(z) for J_z = ±3/2 (heavy holes, HH), φ_l(z) for
J_z = ±1/2 (light holes, LH). The four spinors are orthonormal even though ⟨φ_h|φ_l⟩ ≠ 1.

*Luttinger Hamiltonian (hole picture, holes have positive kinetic energy).* With
ħ²/2m₀ = :data:`tbspin.units.HBAR2_2M` (eV Å²) and {A, B} = (AB + BA)/2 (Luttinger, Phys. Rev.
102, 1030 (1956); Winkler 2003, Chap. 2, written with the J matrices; in the P, Q, R, S form
the (+3/2, +1/2) element is −S with S = (ħ²/2m₀) 2√3 γ₃ k₋ k_z)::

    H_L/(ħ²/2m₀) = (γ₁ + 5γ₂/2) k² − γ₂ (J_x² + J_y²)(k_x² + k_y²) − 2γ₂ J_z² k_z²
                   − γ_a (J_x² − J_y²)(k_x² − k_y²) − 4γ_b {J_x, J_y} k_x k_y
                   − 4γ₃ ({J_x, J_z} k_x + {J_y, J_z} k_y) k_z

with γ_a = γ₂, γ_b = γ₃ (cubic) or γ_a = γ_b = (γ₂ + γ₃)/2 (axial approximation, which only
changes the R element). Expanding the sum over the J_i² gives the familiar
−2γ₂ Σ_i J_i² k_i² + 5γ₂k²/2 form.

*Electron picture (what the returned models contain).* The models are written in the electron
picture, valence bands going *down*::

    H(k) = −H_L(k_x, k_y, k̂_z = −i∂_z) + V(z) + m_z (2/3) J_z,      V(z) = −e F_z z

so that states are occupied from below, as every tbspin transport routine assumes; the bulk
valence-band edge at the well centre (z = 0) is the zero of energy and the HH subband is the
topmost band. ``gate_field`` F_z is given in **MV/m** (1 MV/m = 10⁻⁴ V/Å); with V = −eF_z z
(e > 0) a positive F_z raises the electron energy at −z, which pushes the holes towards
z = −d/2 and makes β > 0 (β grows with F_z).

*Exchange.* The perpendicular magnetization enters as m_z (2/3) J_z (eV): the HH doublet is
split by 2 m_z exactly like a spin-½ with m_z σ_z, the LH doublet by 2 m_z/3.

*Envelopes.* Infinite walls at z = ±d/2 and
φ_v(z) = N_v sin[π(z/d + ½)] exp[−β_v (z/d + ½)], v ∈ {h, l};
each β_v minimizes the k = 0 hole energy of its own J_z sector (at k = 0 the Luttinger
Hamiltonian is diagonal in J_z, so the two minimizations are independent):
E_v(β) = (ħ²/2m₀) γ_z,v ⟨k_z²⟩_β + e F_z ⟨z⟩_β with γ_z,HH = γ₁ − 2γ₂, γ_z,LH = γ₁ + 2γ₂.

*Projection.* Galerkin: H̃_ij = ⟨φ_{v_i}| H_ij(k_x, k_y, k̂_z) |φ_{v_j}⟩ keeps every HH–LH
coupling: the R terms times ⟨φ_h|φ_l⟩, the S terms (∝ k_∓ k_z) times ⟨φ_h|k̂_z|φ_l⟩ (non-zero
only when β_h ≠ β_l, i.e. in an asymmetric well) and the k_z² terms times ⟨φ_v|k̂_z²|φ_v⟩. The
envelope matrix elements are evaluated in closed form (:func:`envelope_matrix_elements`); a
scipy quadrature (``method="quadrature"``) is kept as an independent check.

*Spin.* The attached ``"sx", "sy", "sz"`` (units of ħ/2) are the Galerkin projections of 2·J_i
(``spin="J"``, default) or of (2/3)·J_i (``spin="hh-pseudospin"``; HH states then have
s_z = ±1). s_z is exact within the 4-state basis; s_x and s_y couple HH and LH through the
envelope overlap ⟨φ_h|φ_l⟩ < 1, so they are *not* closed within the basis and do not obey
the SU(2) algebra there: they are the projected (Galerkin) matrices, which is what a Kubo
formula restricted to these bands needs.

*Lattice.* The projected H̃(k) is a degree-2 polynomial in k_x, k_y (a sympy Matrix with
numeric coefficients); :class:`tbspin.continuum.kp.KPModel` regularizes it on a square lattice of
spacing ``a`` (k → sin(ka)/a, k² → 2(1 − cos ka)/a²). The default a = 10 Å keeps lattice and
k·p bands within 1 meV of each other for |k| ≤ 0.02 Å⁻¹ (Kramers-degenerate hole densities
p = k²/2π up to 6×10¹¹ cm⁻²) for all tabulated materials at d = 20 nm, 1 MV/m (measured worst
case 0.44 meV, InSb; 0.14 meV for Ge; tests/test_holes2d.py checks it). The error grows as
a²k⁴; for denser gases pass a smaller ``a``.

*Layout.* :mod:`.parameters` (Luttinger tables, constants), :mod:`.envelopes` (J = 3/2 matrices,
envelopes, closed-form matrix elements, variational β), :mod:`.projection` (Galerkin projection,
coefficients, sympy/continuum forms), :mod:`.models` (lattice models, :class:`HoleGasInfo`,
:func:`rashba_coefficient`).

*Renamed parameter.* The gate field is ``gate_field`` (MV/m) everywhere; the old keyword
``field`` still works and emits a DeprecationWarning.
"""

from .envelopes import (
    _anti,
    _f_osc,
    _f_real,
    _ssc,
    _sss,
    envelope,
    envelope_matrix_elements,
    spin32_matrices,
    variational_beta,
)
from .models import HoleGasInfo, holes2d, holes2d_info, holes2d_kp, rashba_coefficient
from .parameters import (
    BETA_MAX,
    DEFAULT_SPACING,
    FIELD_MV_PER_M_TO_V_PER_ANGSTROM,
    LUTTINGER,
    LuttingerParameters,
)
from .projection import (
    _MONOMIALS,
    _coefficients,
    _expanded,
    _luttinger_terms,
    _setup,
    holes2d_coefficients,
    holes2d_continuum,
    holes2d_hamiltonian,
)

__all__ = [
    "LUTTINGER",
    "LuttingerParameters",
    "HoleGasInfo",
    "DEFAULT_SPACING",
    "FIELD_MV_PER_M_TO_V_PER_ANGSTROM",
    "BETA_MAX",
    "spin32_matrices",
    "envelope",
    "envelope_matrix_elements",
    "variational_beta",
    "holes2d_coefficients",
    "holes2d_hamiltonian",
    "holes2d_continuum",
    "holes2d_kp",
    "holes2d",
    "holes2d_info",
    "rashba_coefficient",
]

# private helpers re-exported for the tests and for callers of the former single module
_PRIVATE = (_anti, _f_osc, _f_real, _sss, _ssc, _MONOMIALS, _coefficients, _expanded,
            _luttinger_terms, _setup)
