"""Two-dimensional hole gas: the 4×4 Luttinger Hamiltonian of a [001] quantum well projected on
variational heavy- and light-hole envelopes, regularized on a square lattice.

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
topmost band. ``field`` F_z is given in **MV/m** (1 MV/m = 10⁻⁴ V/Å); with V = −eF_z z
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
numeric coefficients); :class:`tbspin.kp.KPModel` regularizes it on a square lattice of
spacing ``a`` (k → sin(ka)/a, k² → 2(1 − cos ka)/a²). The default a = 10 Å keeps lattice and
k·p bands within 1 meV of each other for |k| ≤ 0.02 Å⁻¹ (Kramers-degenerate hole densities
p = k²/2π up to 6×10¹¹ cm⁻²) for all tabulated materials at d = 20 nm, 1 MV/m (measured worst
case 0.44 meV, InSb; 0.14 meV for Ge; tests/test_holes2d.py checks it). The error grows as
a²k⁴; for denser gases pass a smaller ``a``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy
from scipy import integrate, optimize, special

from tbspin.errors import ModelError
from tbspin.units import HBAR2_2M

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
]

#: Default lattice spacing (Å) of the regularized model (module docstring).
DEFAULT_SPACING = 10.0
#: 1 MV/m in V/Å.
FIELD_MV_PER_M_TO_V_PER_ANGSTROM = 1e-4
#: Largest |β| the variational search explores; an optimum on this bound is refused.
BETA_MAX = 100.0


@dataclasses.dataclass(frozen=True)
class LuttingerParameters:
    """Luttinger parameters of one material (dimensionless) and where they come from."""

    gamma1: float
    gamma2: float
    gamma3: float
    kappa: float | None
    source: str


_WINKLER = (
    "R. Winkler, Spin-Orbit Coupling Effects in Two-Dimensional Electron and Hole Systems "
    "(Springer 2003), Appendix C (Table C.9 per the tbspin issue); the values are those of "
    "P. Lawaetz, PRB 4, 3460 (1971)"
)
_LIU = (
    "Liu, Cullen & Culcer, PRB 108, 195434 (2023), Table I as quoted in the tbspin issue: "
    "gamma2 = 5.24, gamma3 = 4.69 for Ge (Lawaetz/Winkler: 4.24, 5.69, i.e. gamma2 and gamma3 "
    "look swapped and shifted); gamma1 = 13.38 taken equal to Winkler's, not checked against "
    "the paper"
)

#: Luttinger parameters: ``LUTTINGER[parameters][material]``.
LUTTINGER: dict[str, dict[str, LuttingerParameters]] = {
    "winkler": {
        "GaAs": LuttingerParameters(6.85, 2.10, 2.90, 1.20, _WINKLER),
        "InAs": LuttingerParameters(20.40, 8.30, 9.10, 7.60, _WINKLER),
        "InSb": LuttingerParameters(37.10, 16.50, 17.70, 15.60, _WINKLER),
        "Ge": LuttingerParameters(13.38, 4.24, 5.69, 3.41, _WINKLER),
    },
    "liu2023": {
        "Ge": LuttingerParameters(13.38, 5.24, 4.69, None, _LIU),
    },
}


@dataclasses.dataclass(frozen=True)
class HoleGasInfo:
    """Inspection data of a projected 2D hole gas (energies in eV, electron picture, m_z = 0).

    Attributes
    ----------
    material, parameters : str
        Material name and parameter set (key of :data:`LUTTINGER`).
    gammas : tuple of float
        (γ₁, γ₂, γ₃) used.
    width : float
        Well width d (Å).
    field : float
        Gate field F_z (MV/m).
    beta_hh, beta_lh : float
        Envelope parameters β_h, β_l (variational unless given).
    energy_hh, energy_lh : float
        Subband energies at k = 0 (eV, electron picture: −(hole confinement energy)).
    overlap_hl : float
        ⟨φ_h|φ_l⟩.
    kz_hl : complex
        ⟨φ_h|k̂_z|φ_l⟩ (1/Å), purely imaginary; zero in a symmetric well.
    mass_hh, mass_lh : float
        In-plane masses of the diagonal (decoupled) elements, m₀/(γ₁ + γ₂) and m₀/(γ₁ − γ₂),
        in units of m₀.
    mass_hh_coupled, mass_lh_coupled : float
        In-plane masses (units of m₀) from the k → 0 curvature of the projected 4×4 bands,
        including the HH–LH coupling through ⟨φ_h|k̂_z|φ_l⟩ (second-order perturbation theory,
        exact for the k² coefficient). Positive means hole-like (band curving down in the
        electron picture).
    """

    material: str
    parameters: str
    gammas: tuple[float, float, float]
    width: float
    field: float
    beta_hh: float
    beta_lh: float
    energy_hh: float
    energy_lh: float
    overlap_hl: float
    kz_hl: complex
    mass_hh: float
    mass_lh: float
    mass_hh_coupled: float
    mass_lh_coupled: float

    @property
    def splitting(self) -> float:
        """HH–LH splitting at k = 0, E_HH − E_LH (eV, > 0 when HH is the top band)."""
        return self.energy_hh - self.energy_lh


# ---------------------------------------------------------------------- angular momentum
def spin32_matrices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """J_x, J_y, J_z (units of ħ) for J = 3/2 in the basis m = +3/2, +1/2, −1/2, −3/2."""
    m = np.array([1.5, 0.5, -0.5, -1.5])
    # <m+1|J_+|m> = sqrt(j(j+1) - m(m+1))
    jp = np.diag(np.sqrt(3.75 - m[1:] * (m[1:] + 1)), k=1).astype(complex)
    jm = jp.conj().T
    return (jp + jm) / 2, (jp - jm) / 2j, np.diag(m).astype(complex)


def _anti(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a @ b + b @ a) / 2


# ---------------------------------------------------------------------- envelopes
def envelope(z: Any, beta: float, width: float) -> np.ndarray:
    """Normalized envelope φ_β(z) = N sin[π(z/d + ½)] exp[−β(z/d + ½)] (zero outside the well).

    Parameters
    ----------
    z : array_like
        Positions (Å), the well spans −d/2 ≤ z ≤ d/2.
    beta : float
        Asymmetry parameter β.
    width : float
        Well width d (Å).

    Returns
    -------
    ndarray
        φ(z) in Å^(-1/2), ∫ φ² dz = 1.
    """
    u = np.asarray(z, dtype=float) / width + 0.5
    norm = 1.0 / math.sqrt(width * float(_sss(2.0 * beta, 0)))
    inside = (u >= 0) & (u <= 1)
    return np.where(inside, norm * np.sin(np.pi * u) * np.exp(-beta * u), 0.0)


def _f_real(s: np.ndarray, n: int) -> np.ndarray:
    """∫₀¹ uⁿ e^{su} du for real s (n = 0, 1), stable at small s."""
    s = np.asarray(s, dtype=float)
    if n == 0:
        return special.exprel(s)
    small = np.abs(s) < 1.0
    ss = np.where(small, 1.0, s)
    closed = (np.exp(ss) * (ss - 1.0) + 1.0) / ss**2
    # series Σ sⁿ / (n! (n + 2)), 25 terms reach machine precision for |s| < 1
    terms = np.arange(25)
    coef = 1.0 / (special.factorial(terms) * (terms + 2))
    series = np.polynomial.polynomial.polyval(np.where(small, s, 0.0), coef)
    return np.where(small, series, closed)


def _f_osc(b: np.ndarray, n: int) -> np.ndarray:
    """∫₀¹ uⁿ e^{(−b + 2πi)u} du (n = 0, 1); e^{s} = e^{−b} because e^{2πi} = 1."""
    b = np.asarray(b, dtype=float)
    s = -b + 2j * np.pi
    if n == 0:
        return np.expm1(-b) / s
    return np.exp(-b) / s - np.expm1(-b) / s**2


def _sss(b: Any, n: int) -> np.ndarray:
    """∫₀¹ uⁿ sin²(πu) e^{−bu} du."""
    return 0.5 * (_f_real(-np.asarray(b, dtype=float), n) - _f_osc(b, n).real)


def _ssc(b: Any) -> np.ndarray:
    """∫₀¹ sin(πu) cos(πu) e^{−bu} du."""
    return 0.5 * _f_osc(b, 0).imag


def envelope_matrix_elements(
    beta_a: Any, beta_b: Any, width: float, method: str = "closed"
) -> dict[str, np.ndarray]:
    """Matrix elements ⟨φ_a| O |φ_b⟩ between two envelopes of :func:`envelope`.

    Parameters
    ----------
    beta_a, beta_b : float or array_like
        β of the bra and of the ket (broadcast together for ``method="closed"``).
    width : float
        Well width d (Å).
    method : {"closed", "quadrature"}
        Closed forms (vectorized) or adaptive scipy quadrature of the explicit integrands
        (scalars only; ⟨k̂_z²⟩ then uses the symmetric form ∫ φ_a' φ_b' dz).

    Returns
    -------
    dict
        ``"overlap"`` ⟨a|b⟩, ``"kz"`` ⟨a|−i∂_z|b⟩ (1/Å, imaginary), ``"kz2"`` ⟨a|−∂_z²|b⟩
        (1/Å²), ``"z"`` ⟨a|z|b⟩ (Å).
    """
    if not width > 0:
        raise ValueError(f"width must be a positive length in Å, got {width!r}")
    if method == "closed":
        ba = np.asarray(beta_a, dtype=float)
        bb = np.asarray(beta_b, dtype=float)
        s = ba + bb
        nn = 1.0 / np.sqrt(width * _sss(2 * ba, 0) * width * _sss(2 * bb, 0))  # N_a N_b
        s0, s1, sc = _sss(s, 0), _sss(s, 1), _ssc(s)
        pi = np.pi
        return {
            "overlap": nn * width * s0,
            "kz": -1j * nn * (pi * sc - bb * s0),
            "kz2": nn / width * ((pi**2 - bb**2) * s0 + 2 * pi * bb * sc),
            "z": nn * width**2 * (s1 - 0.5 * s0),
        }
    if method == "quadrature":
        return _matrix_elements_quad(float(beta_a), float(beta_b), float(width))
    raise ValueError(f"method must be 'closed' or 'quadrature', got {method!r}")


def _matrix_elements_quad(ba: float, bb: float, d: float) -> dict[str, np.ndarray]:
    # integrate over u = z/d + 1/2 in [0, 1] so that every integrand is O(1)
    def phi(u: float, beta: float) -> float:
        return math.sin(math.pi * u) * math.exp(-beta * u)

    def dphi(u: float, beta: float) -> float:  # dφ/du
        pu = math.pi * u
        return math.exp(-beta * u) * (math.pi * math.cos(pu) - beta * math.sin(pu))

    def quad(f: Any) -> float:
        return integrate.quad(f, 0.0, 1.0, epsabs=1e-13, epsrel=1e-12, limit=200)[0]

    na = 1.0 / math.sqrt(d * quad(lambda u: phi(u, ba) ** 2))
    nb = 1.0 / math.sqrt(d * quad(lambda u: phi(u, bb) ** 2))
    n = na * nb
    return {
        "overlap": np.asarray(n * d * quad(lambda u: phi(u, ba) * phi(u, bb))),
        "kz": np.asarray(-1j * n * quad(lambda u: phi(u, ba) * dphi(u, bb))),
        "kz2": np.asarray(n / d * quad(lambda u: dphi(u, ba) * dphi(u, bb))),
        "z": np.asarray(n * d**2 * quad(lambda u: (u - 0.5) * phi(u, ba) * phi(u, bb))),
    }


def variational_beta(gamma_z: float, width: float, field: float) -> tuple[float, float]:
    """β minimizing the k = 0 hole energy E(β) = (ħ²/2m₀) γ_z ⟨k_z²⟩_β + e F_z ⟨z⟩_β.

    Parameters
    ----------
    gamma_z : float
        Inverse mass along z (γ₁ − 2γ₂ for HH, γ₁ + 2γ₂ for LH); must be positive.
    width : float
        Well width d (Å).
    field : float
        Gate field F_z (MV/m).

    Returns
    -------
    beta, energy
        The optimal β and the hole energy E(β) (eV, hole picture, > 0 for a bound state
        without field).

    Raises
    ------
    ModelError
        If γ_z ≤ 0 (no bound state) or the optimum is pinned at |β| = :data:`BETA_MAX`
        (field too strong for the envelope ansatz at this width).
    """
    if not gamma_z > 0:
        raise ModelError(
            f"the inverse mass along z must be positive for a bound subband, got {gamma_z!r}"
        )
    f = field * FIELD_MV_PER_M_TO_V_PER_ANGSTROM

    def energy(beta: float) -> float:
        me = envelope_matrix_elements(beta, beta, width)
        return float(HBAR2_2M * gamma_z * me["kz2"] + f * me["z"])

    if field == 0:
        return 0.0, energy(0.0)
    res = optimize.minimize_scalar(
        energy, bounds=(-BETA_MAX, BETA_MAX), method="bounded", options={"xatol": 1e-10}
    )
    beta = float(res.x)
    if abs(beta) > BETA_MAX * (1 - 1e-6):
        raise ModelError(
            f"variational beta is pinned at the search bound |beta| = {BETA_MAX} for field="
            f"{field} MV/m, width={width} Å: the envelope ansatz cannot describe this "
            "triangular well; lower 'field' or 'width' or give 'beta' explicitly"
        )
    return beta, float(res.fun)


# ---------------------------------------------------------------------- projection
_MONOMIALS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))


def _luttinger_terms(
    g1: float, g2: float, g3: float, axial: bool
) -> list[tuple[np.ndarray, tuple[int, int], int, float]]:
    """Hole-picture H_L/(ħ²/2m₀) as a list of (spin matrix, (p_x, p_y), p_z, coefficient)."""
    jx, jy, jz = spin32_matrices()
    one = np.eye(4, dtype=complex)
    ga, gb = ((g2 + g3) / 2, (g2 + g3) / 2) if axial else (g2, g3)
    inplane = jx @ jx + jy @ jy
    aniso = jx @ jx - jy @ jy
    return [
        (one, (2, 0), 0, g1 + 2.5 * g2),
        (one, (0, 2), 0, g1 + 2.5 * g2),
        (one, (0, 0), 2, g1 + 2.5 * g2),
        (inplane, (2, 0), 0, -g2),
        (inplane, (0, 2), 0, -g2),
        (jz @ jz, (0, 0), 2, -2 * g2),
        (aniso, (2, 0), 0, -ga),
        (aniso, (0, 2), 0, ga),
        (_anti(jx, jy), (1, 1), 0, -4 * gb),
        (_anti(jx, jz), (1, 0), 1, -4 * g3),
        (_anti(jy, jz), (0, 1), 1, -4 * g3),
    ]


@dataclasses.dataclass(frozen=True)
class _Setup:
    material: str
    parameters: str
    lp: LuttingerParameters
    width: float
    field: float
    magnetization: float
    axial: bool
    beta_h: float
    beta_l: float
    spin: str


def _setup(
    material: str | LuttingerParameters,
    parameters: str,
    width: float,
    field: float,
    magnetization: float,
    axial: bool,
    beta: Any,
    spin: str,
) -> _Setup:
    if isinstance(material, LuttingerParameters):
        lp, name = material, "custom"
    else:
        if parameters not in LUTTINGER:
            raise ModelError(
                f"unknown parameters={parameters!r}; choose one of {sorted(LUTTINGER)}"
            )
        table = LUTTINGER[parameters]
        if material not in table:
            raise ModelError(
                f"material {material!r} is not in the {parameters!r} Luttinger table; "
                f"available: {sorted(table)}"
            )
        lp, name = table[material], str(material)
    for key, val in (("width", width), ("field", field), ("magnetization", magnetization)):
        if not np.isfinite(val):
            raise ModelError(f"{key} must be finite, got {val!r}")
    if not width > 0:
        raise ModelError(f"width must be a positive length in Å, got {width!r}")
    if spin not in ("J", "hh-pseudospin"):
        raise ModelError(f"spin must be 'J' or 'hh-pseudospin', got {spin!r}")
    g1, g2 = lp.gamma1, lp.gamma2
    if beta is None:
        bh = variational_beta(g1 - 2 * g2, width, field)[0]
        bl = variational_beta(g1 + 2 * g2, width, field)[0]
    else:
        b = np.atleast_1d(np.asarray(beta, dtype=float))
        if b.shape not in ((1,), (2,)) or not np.all(np.isfinite(b)):
            raise ModelError(
                f"beta must be a finite number or a pair (beta_hh, beta_lh), got {beta!r}"
            )
        bh, bl = float(b[0]), float(b[-1])
    return _Setup(name, parameters, lp, float(width), float(field), float(magnetization),
                  bool(axial), bh, bl, spin)


def _expanded(s: _Setup) -> dict[str, np.ndarray]:
    """4×4 envelope matrices E[i, j] = ⟨φ_{v_i}|O|φ_{v_j}⟩, v = (h, l, l, h)."""
    betas = np.array([s.beta_h, s.beta_l, s.beta_l, s.beta_h])
    me = envelope_matrix_elements(betas[:, None], betas[None, :], s.width)
    # exact structure: O, k_z², z real symmetric; k_z imaginary antisymmetric, zero diagonal
    out = {}
    for key in ("overlap", "kz2", "z"):
        m = np.real(me[key])
        out[key] = (m + m.T) / 2
    kz = np.imag(me["kz"])
    out["kz"] = 1j * (kz - kz.T) / 2
    return out


def _coefficients(s: _Setup) -> dict[tuple[int, int], np.ndarray]:
    env = _expanded(s)
    by_pz = {0: env["overlap"], 1: env["kz"], 2: env["kz2"]}
    coef = {mono: np.zeros((4, 4), dtype=complex) for mono in _MONOMIALS}
    lp = s.lp
    for mat, mono, pz, c in _luttinger_terms(lp.gamma1, lp.gamma2, lp.gamma3, s.axial):
        coef[mono] += -HBAR2_2M * c * (mat * by_pz[pz])  # electron picture: −H_L
    jz = spin32_matrices()[2]
    f = s.field * FIELD_MV_PER_M_TO_V_PER_ANGSTROM
    coef[(0, 0)] += np.diag(-f * np.diag(env["z"])) + s.magnetization * (2.0 / 3.0) * jz
    return coef


def _spin_operators(s: _Setup) -> dict[str, np.ndarray]:
    ov = _expanded(s)["overlap"]
    scale = 2.0 if s.spin == "J" else 2.0 / 3.0
    jx, jy, jz = spin32_matrices()
    return {"sx": scale * (jx * ov), "sy": scale * (jy * ov), "sz": scale * (jz * ov)}


def holes2d_coefficients(
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    field: float = 1.0,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
) -> dict[tuple[int, int], np.ndarray]:
    """Numeric coefficients of the projected Hamiltonian H̃(k) = Σ C_(p,q) k_x^p k_y^q.

    Parameters are those of :func:`holes2d`. Returns a dict {(p, q): (4, 4) complex array}
    (eV Å^(p+q)) over the monomials of degree ≤ 2, electron picture.
    """
    return _coefficients(
        _setup(material, parameters, width, field, magnetization, axial, beta, "J")
    )


def _sympy_matrix(coef: Mapping[tuple[int, int], np.ndarray], kx: Any, ky: Any) -> sympy.Matrix:
    def num(c: complex) -> Any:
        re, im = float(np.real(c)), float(np.imag(c))
        return (sympy.Float(re, 17) if re else 0) + (sympy.I * sympy.Float(im, 17) if im else 0)

    entries = [[0] * 4 for _ in range(4)]
    for i in range(4):
        for j in range(4):
            entries[i][j] = sympy.Add(*[
                num(c[i, j]) * kx**p * ky**q for (p, q), c in coef.items() if c[i, j] != 0
            ])
    return sympy.Matrix(entries)


def holes2d_hamiltonian(
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    field: float = 1.0,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
    symbols: tuple[Any, Any] | None = None,
) -> sympy.Matrix:
    """The projected 4×4 H̃(k_x, k_y) as a sympy Matrix with numeric coefficients (eV, Å).

    Parameters are those of :func:`holes2d`; ``symbols`` are the two momentum symbols
    (default: kwant.continuum's non-commutative ``k_x, k_y`` when Kwant is importable,
    otherwise plain sympy symbols of the same names).
    """
    if symbols is None:
        symbols = _momentum_symbols()
    coef = holes2d_coefficients(
        material, width=width, field=field, magnetization=magnetization,
        parameters=parameters, axial=axial, beta=beta,
    )
    return _sympy_matrix(coef, *symbols)


def _momentum_symbols() -> tuple[Any, Any]:
    try:
        from kwant.continuum import momentum_operators
    except ImportError:  # pragma: no cover - kwant is a hard dependency of tbspin
        return sympy.symbols("k_x k_y")
    return momentum_operators[0], momentum_operators[1]


def _evaluate(coef: Mapping[tuple[int, int], np.ndarray], k: Any) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    if k.ndim == 1:
        k = k[None, :]
    if k.ndim != 2 or k.shape[1] != 2:
        raise ValueError(f"k must have shape (Nk, 2) (Cartesian, 1/Å), got {np.shape(k)}")
    kx, ky = k[:, 0], k[:, 1]
    out = np.zeros((len(k), 4, 4), dtype=complex)
    for (p, q), c in coef.items():
        out += (kx**p * ky**q)[:, None, None] * c
    return out


def holes2d_continuum(
    k: Any,
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    field: float = 1.0,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
) -> np.ndarray:
    """The projected continuum (k·p) Hamiltonian H̃(k), shape (Nk, 4, 4), eV.

    ``k`` is (Nk, 2) Cartesian in 1/Å; other parameters as in :func:`holes2d`.
    """
    coef = holes2d_coefficients(
        material, width=width, field=field, magnetization=magnetization,
        parameters=parameters, axial=axial, beta=beta,
    )
    return _evaluate(coef, k)


# ---------------------------------------------------------------------- public models
def holes2d_kp(
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    field: float = 1.0,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    a: float = DEFAULT_SPACING,
    beta: float | tuple[float, float] | None = None,
    spin: str = "J",
) -> Any:
    """The projected 2D hole gas as a :class:`tbspin.kp.KPModel` on a square lattice.

    Parameters are those of :func:`holes2d`.
    """
    from tbspin.kp import KPModel

    s = _setup(material, parameters, width, field, magnetization, axial, beta, spin)
    if not (np.isfinite(a) and a > 0):
        raise ModelError(f"lattice spacing a must be a positive length in Å, got {a!r}")
    ham = _sympy_matrix(_coefficients(s), *_momentum_symbols())
    return KPModel(
        ham, params={}, spacing=float(a), dim=2, operators=_spin_operators(s), name=_name(s),
        metadata=_metadata(s, a),
    )


def holes2d(
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    field: float = 1.0,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    a: float = DEFAULT_SPACING,
    beta: float | tuple[float, float] | None = None,
    spin: str = "J",
) -> Any:
    """2D hole gas of a [001] quantum well as a :class:`tbspin.LatticeModel` (square lattice).

    Parameters
    ----------
    material : str or LuttingerParameters
        "GaAs", "InAs", "InSb", "Ge" (Winkler) or "Ge" (``parameters="liu2023"``), or custom
        :class:`LuttingerParameters`.
    width : float
        Well width d (Å), infinite walls at ±d/2. Default 200 Å (20 nm).
    field : float
        Gate field F_z in MV/m (1 MV/m = 10⁻⁴ V/Å); potential energy V(z) = −eF_z z (electron
        picture, see the module docstring). Default 1 MV/m (≈ e p/ε for p ≈ 10¹¹ cm⁻²).
    magnetization : float
        Perpendicular exchange m_z (eV), term m_z (2/3) J_z.
    parameters : {"winkler", "liu2023"}
        Luttinger parameter table (:data:`LUTTINGER`).
    axial : bool
        Use the axial approximation (γ₂, γ₃ → (γ₂ + γ₃)/2 in the R element).
    a : float
        Lattice spacing (Å) of the regularization, default :data:`DEFAULT_SPACING`.
    beta : float or (float, float), optional
        Fix (β_HH, β_LH) instead of minimizing the k = 0 energies (one number: both).
    spin : {"J", "hh-pseudospin"}
        Spin operators attached: projections of 2J (default) or of (2/3)J, units of ħ/2.

    Returns
    -------
    LatticeModel
        4 orbitals (J_z = +3/2, +1/2, −1/2, −3/2) on one site of a square lattice, electron
        picture, with ``sx, sy, sz``, ``magnetization = (0, 0, m_z)`` and the projection data in
        ``metadata``.
    """
    kp = holes2d_kp(
        material, width=width, field=field, magnetization=magnetization, parameters=parameters,
        axial=axial, a=a, beta=beta, spin=spin,
    )
    return kp.lattice_model().replace(magnetization=np.array([0.0, 0.0, float(magnetization)]))


def _name(s: _Setup) -> str:
    return f"holes2d-{s.material}-{s.parameters}"


def _metadata(s: _Setup, a: float) -> dict[str, Any]:
    return {
        "model": "holes2d",
        "source": "Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eqs. (11)-(12)",
        "material": s.material,
        "luttinger": dataclasses.asdict(s.lp),
        "width_angstrom": s.width,
        "field_MV_per_m": s.field,
        "magnetization_eV": s.magnetization,
        "axial": s.axial,
        "beta_hh": s.beta_h,
        "beta_lh": s.beta_l,
        "spacing_angstrom": float(a),
        "picture": "electron (H = -H_L + V(z) + m_z (2/3) J_z, V = -e F_z z)",
        "basis": ["+3/2", "+1/2", "-1/2", "-3/2"],
        "spin": s.spin,
    }


def holes2d_info(
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    field: float = 1.0,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
) -> HoleGasInfo:
    """β values, k = 0 subband energies and in-plane masses of the projected hole gas.

    Parameters are those of :func:`holes2d` (the information is for m_z = 0).
    """
    s = _setup(material, parameters, width, field, 0.0, axial, beta, "J")
    coef = _coefficients(s)
    env = _expanded(s)
    e0 = np.real(np.diag(coef[(0, 0)]))
    # k_x² coefficient of band i at k → 0: diagonal C_(2,0) + Σ_j |C_(1,0)[j,i]|²/(E_i − E_j);
    # the linear coupling only joins HH and LH (ΔJ_z = ±1), never the Kramers partner.
    curv = np.real(np.diag(coef[(2, 0)])).copy()
    c1 = coef[(1, 0)]
    for i in range(4):
        for j in range(4):
            if abs(c1[j, i]) > 0:
                curv[i] += abs(c1[j, i]) ** 2 / (e0[i] - e0[j])
    lp = s.lp
    return HoleGasInfo(
        material=s.material,
        parameters=s.parameters,
        gammas=(lp.gamma1, lp.gamma2, lp.gamma3),
        width=s.width,
        field=s.field,
        beta_hh=s.beta_h,
        beta_lh=s.beta_l,
        energy_hh=float(e0[0]),
        energy_lh=float(e0[1]),
        overlap_hl=float(env["overlap"][0, 1]),
        kz_hl=complex(env["kz"][0, 1]),
        mass_hh=1.0 / (lp.gamma1 + lp.gamma2),
        mass_lh=1.0 / (lp.gamma1 - lp.gamma2),
        mass_hh_coupled=float(-HBAR2_2M / curv[0]),
        mass_lh_coupled=float(-HBAR2_2M / curv[1]),
    )
