"""Galerkin projection of the Luttinger well on the HH/LH envelopes (see the package docstring)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy

from tbspin.bz.kmesh import as_kpoints
from tbspin.errors import ModelError
from tbspin.types import ArrayLike, ComplexArray
from tbspin.units import HBAR2_2M

from .envelopes import _anti, envelope_matrix_elements, spin32_matrices, variational_beta
from .parameters import FIELD_MV_PER_M_TO_V_PER_ANGSTROM, LUTTINGER, LuttingerParameters, resolve_gate_field

__all__ = ["holes2d_coefficients", "holes2d_hamiltonian", "holes2d_continuum"]


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
    gate_field: float
    magnetization: float
    axial: bool
    beta_h: float
    beta_l: float
    spin: str


def _setup(
    material: str | LuttingerParameters,
    parameters: str,
    width: float,
    gate_field: float,
    magnetization: float,
    axial: bool,
    beta: ArrayLike | None,
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
    for key, val in (("width", width), ("gate_field", gate_field), ("magnetization", magnetization)):
        if not np.isfinite(val):
            raise ModelError(f"{key} must be finite, got {val!r}")
    if not width > 0:
        raise ModelError(f"width must be a positive length in Å, got {width!r}")
    if spin not in ("J", "hh-pseudospin"):
        raise ModelError(f"spin must be 'J' or 'hh-pseudospin', got {spin!r}")
    g1, g2 = lp.gamma1, lp.gamma2
    if beta is None:
        bh = variational_beta(g1 - 2 * g2, width, gate_field)[0]
        bl = variational_beta(g1 + 2 * g2, width, gate_field)[0]
    else:
        b = np.atleast_1d(np.asarray(beta, dtype=float))
        if b.shape not in ((1,), (2,)) or not np.all(np.isfinite(b)):
            raise ModelError(
                f"beta must be a finite number or a pair (beta_hh, beta_lh), got {beta!r}"
            )
        bh, bl = float(b[0]), float(b[-1])
    return _Setup(name, parameters, lp, float(width), float(gate_field), float(magnetization),
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
    f = s.gate_field * FIELD_MV_PER_M_TO_V_PER_ANGSTROM
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
    gate_field: float | None = None,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
    **legacy: float,
) -> dict[tuple[int, int], np.ndarray]:
    """Numeric coefficients of the projected Hamiltonian H̃(k) = Σ C_(p,q) k_x^p k_y^q.

    Parameters are those of :func:`holes2d`. Returns a dict {(p, q): (4, 4) complex array}
    (eV Å^(p+q)) over the monomials of degree ≤ 2, electron picture.
    """
    return _coefficients(
        _setup(material, parameters, width, resolve_gate_field(gate_field, legacy), magnetization,
               axial, beta, "J")
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
    gate_field: float | None = None,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
    symbols: tuple[Any, Any] | None = None,
    **legacy: float,
) -> sympy.Matrix:
    """The projected 4×4 H̃(k_x, k_y) as a sympy Matrix with numeric coefficients (eV, Å).

    Parameters are those of :func:`holes2d`; ``symbols`` are the two momentum symbols
    (default: kwant.continuum's non-commutative ``k_x, k_y`` when Kwant is importable,
    otherwise plain sympy symbols of the same names).
    """
    if symbols is None:
        symbols = _momentum_symbols()
    coef = holes2d_coefficients(
        material, width=width, gate_field=resolve_gate_field(gate_field, legacy),
        magnetization=magnetization,
        parameters=parameters, axial=axial, beta=beta,
    )
    return _sympy_matrix(coef, *symbols)


def _momentum_symbols() -> tuple[Any, Any]:
    try:
        from kwant.continuum import momentum_operators
    except ImportError:  # pragma: no cover - kwant is a hard dependency of tbspin
        return sympy.symbols("k_x k_y")
    return momentum_operators[0], momentum_operators[1]


def _evaluate(coef: Mapping[tuple[int, int], np.ndarray], k: ArrayLike) -> ComplexArray:
    k = as_kpoints(k, 2)
    kx, ky = k[:, 0], k[:, 1]
    out = np.zeros((len(k), 4, 4), dtype=complex)
    for (p, q), c in coef.items():
        out += (kx**p * ky**q)[:, None, None] * c
    return out


def holes2d_continuum(
    k: ArrayLike,
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    gate_field: float | None = None,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
    **legacy: float,
) -> np.ndarray:
    """The projected continuum (k·p) Hamiltonian H̃(k), shape (Nk, 4, 4), eV.

    ``k`` is (Nk, 2) Cartesian in 1/Å; other parameters as in :func:`holes2d`.
    """
    coef = holes2d_coefficients(
        material, width=width, gate_field=resolve_gate_field(gate_field, legacy),
        magnetization=magnetization,
        parameters=parameters, axial=axial, beta=beta,
    )
    return _evaluate(coef, k)
