"""Angular momentum 3/2, the variational envelopes and their matrix elements (package docstring)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import integrate, optimize, special

from tbspin.errors import ModelError, ParameterError
from tbspin.types import ArrayLike, FloatArray
from tbspin.units import HBAR2_2M

from .parameters import BETA_MAX, FIELD_MV_PER_M_TO_V_PER_ANGSTROM, resolve_gate_field

__all__ = [
    "spin32_matrices",
    "envelope",
    "envelope_matrix_elements",
    "variational_beta",
]


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
def envelope(z: ArrayLike, beta: float, width: float) -> FloatArray:
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


def _sss(b: ArrayLike, n: int) -> np.ndarray:
    """∫₀¹ uⁿ sin²(πu) e^{−bu} du."""
    return 0.5 * (_f_real(-np.asarray(b, dtype=float), n) - _f_osc(b, n).real)


def _ssc(b: ArrayLike) -> np.ndarray:
    """∫₀¹ sin(πu) cos(πu) e^{−bu} du."""
    return 0.5 * _f_osc(b, 0).imag


def envelope_matrix_elements(
    beta_a: ArrayLike, beta_b: ArrayLike, width: float, method: str = "closed"
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
        raise ParameterError(f"width must be a positive length in Å, got {width!r}")
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
    raise ParameterError(f"method must be 'closed' or 'quadrature', got {method!r}")


def _matrix_elements_quad(ba: float, bb: float, d: float) -> dict[str, np.ndarray]:
    # integrate over u = z/d + 1/2 in [0, 1] so that every integrand is O(1)
    def phi(u: float, beta: float) -> float:
        return math.sin(math.pi * u) * math.exp(-beta * u)

    def dphi(u: float, beta: float) -> float:  # dφ/du
        pu = math.pi * u
        return math.exp(-beta * u) * (math.pi * math.cos(pu) - beta * math.sin(pu))

    def quad(f: Callable[[float], float]) -> float:
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


def variational_beta(
    gamma_z: float, width: float, gate_field: float | None = None, **legacy: float
) -> tuple[float, float]:
    """β minimizing the k = 0 hole energy E(β) = (ħ²/2m₀) γ_z ⟨k_z²⟩_β + e F_z ⟨z⟩_β.

    Parameters
    ----------
    gamma_z : float
        Inverse mass along z (γ₁ − 2γ₂ for HH, γ₁ + 2γ₂ for LH); must be positive.
    width : float
        Well width d (Å).
    gate_field : float
        Gate field F_z (MV/m); ``field`` is a deprecated alias.

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
    field = resolve_gate_field(gate_field, legacy, default=0.0)
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
            f"variational beta is pinned at the search bound |beta| = {BETA_MAX} for gate_field="
            f"{field} MV/m, width={width} Å: the envelope ansatz cannot describe this "
            "triangular well; lower 'gate_field' or 'width' or give 'beta' explicitly"
        )
    return beta, float(res.fun)
