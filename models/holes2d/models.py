"""The hole gas as lattice models, its inspection data and its Rashba coefficient."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from tbspin.continuum.kp import KPModel
from tbspin.errors import ModelError, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.units import HBAR2_2M

from .parameters import DEFAULT_SPACING, LuttingerParameters, resolve_gate_field
from .projection import (
    _coefficients,
    _expanded,
    _momentum_symbols,
    _Setup,
    _setup,
    _spin_operators,
    _sympy_matrix,
)

__all__ = ["HoleGasInfo", "holes2d_kp", "holes2d", "holes2d_info", "rashba_coefficient"]


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
    gate_field : float
        Gate field F_z (MV/m) (``field``: deprecated alias property).
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
    gate_field: float
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
    def field(self) -> float:
        """Deprecated alias of :attr:`gate_field` (MV/m)."""
        warnings.warn("HoleGasInfo.field is deprecated; use gate_field", DeprecationWarning,
                      stacklevel=2)
        return self.gate_field

    @property
    def splitting(self) -> float:
        """HH–LH splitting at k = 0, E_HH − E_LH (eV, > 0 when HH is the top band)."""
        return self.energy_hh - self.energy_lh


def holes2d_kp(
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    gate_field: float | None = None,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    a: float = DEFAULT_SPACING,
    beta: float | tuple[float, float] | None = None,
    spin: str = "J",
    **legacy: float,
) -> KPModel:
    """The projected 2D hole gas as a :class:`tbspin.continuum.kp.KPModel` on a square lattice.

    Parameters are those of :func:`holes2d`.
    """
    s = _setup(material, parameters, width, resolve_gate_field(gate_field, legacy), magnetization,
               axial, beta, spin)
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
    gate_field: float | None = None,
    magnetization: float = 0.0,
    parameters: str = "winkler",
    axial: bool = False,
    a: float = DEFAULT_SPACING,
    beta: float | tuple[float, float] | None = None,
    spin: str = "J",
    **legacy: float,
) -> LatticeModel:
    """2D hole gas of a [001] quantum well as a :class:`tbspin.LatticeModel` (square lattice).

    Parameters
    ----------
    material : str or LuttingerParameters
        "GaAs", "InAs", "InSb", "Ge" (Winkler) or "Ge" (``parameters="liu2023"``), or custom
        :class:`LuttingerParameters`.
    width : float
        Well width d (Å), infinite walls at ±d/2. Default 200 Å (20 nm).
    gate_field : float
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
        material, width=width, gate_field=resolve_gate_field(gate_field, legacy),
        magnetization=magnetization, parameters=parameters,
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
        "gate_field_MV_per_m": s.gate_field,
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
    gate_field: float | None = None,
    parameters: str = "winkler",
    axial: bool = False,
    beta: float | tuple[float, float] | None = None,
    **legacy: float,
) -> HoleGasInfo:
    """β values, k = 0 subband energies and in-plane masses of the projected hole gas.

    Parameters are those of :func:`holes2d` (the information is for m_z = 0).
    """
    s = _setup(material, parameters, width, resolve_gate_field(gate_field, legacy), 0.0, axial,
               beta, "J")
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
        gate_field=s.gate_field,
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


def rashba_coefficient(
    material: str | LuttingerParameters = "Ge",
    *,
    width: float = 200.0,
    gate_field: float | None = None,
    parameters: str = "winkler",
    axial: bool = True,
    k: float = 0.004,
    n_angles: int = 8,
    **legacy: float,
) -> float:
    """Cubic Rashba coefficient β₃ (eV Å³) of the top (HH) subband from its spin splitting.

    The splitting of the top Kramers pair of the projected continuum Hamiltonian (m_z = 0),
    ΔE(k) = E₁(k) − E₂(k), is fitted to the heavy-hole form ΔE = 2 β₃ k³ (Winkler 2003,
    Sec. 6.3): β₃ = ⟨ΔE(k)⟩_φ / (2k³), averaged over ``n_angles`` in-plane directions. The
    splitting exists only through the HH–LH coupling ⟨φ_h|k̂_z|φ_l⟩ of the asymmetric well, so
    β₃ = 0 at zero gate field.

    Parameters
    ----------
    material, width, gate_field, parameters, axial
        As in :func:`holes2d` (``axial=True`` by default: the splitting is then isotropic).
    k : float
        In-plane wave vector (1/Å) at which the splitting is taken; small enough for the k³ law
        (the default 0.004 Å⁻¹ is a hole density of 2.5×10¹⁰ cm⁻²); pass k_F for the value at
        the Fermi surface.
    n_angles : int
        Directions averaged over (they agree exactly when ``axial``).

    Returns
    -------
    float
        β₃ in eV Å³ (≥ 0 by construction: the magnitude of the splitting).
    """
    from .projection import holes2d_continuum

    if not (np.isfinite(k) and k > 0):
        raise ParameterError(f"k must be a positive wave vector in 1/Å, got {k!r}")
    field = resolve_gate_field(gate_field, legacy)
    phi = np.linspace(0.0, np.pi / 2, max(1, int(n_angles)), endpoint=False)
    ks = k * np.column_stack([np.cos(phi), np.sin(phi)])
    e = np.linalg.eigvalsh(holes2d_continuum(
        ks, material, width=width, gate_field=field, parameters=parameters, axial=axial))
    return float(np.mean(e[:, -1] - e[:, -2]) / (2 * k**3))
