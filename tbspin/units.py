"""Physical constants and unit conversions (one place, built on :mod:`scipy.constants`).

Internal units of tbspin
------------------------
* energies in eV, lengths in Å, wave vectors in 1/Å (Cartesian);
* Berry connection in Å, Berry curvature in Å²;
* spin operators in units of ħ/2 (Pauli matrices for spin-1/2; 2·J for angular momentum J).

Conductivities
--------------
With ``I = ∫ d^dk/(2π)^d Σ_m f_mk X_mk`` (Å^{2-d}), where X is the Berry curvature (AHC) or the
spin-weighted curvature Σ (spin Hall, spin in units of ħ/2):

* AHC, 3D:  σ_ij = -(e²/ħ) I                      -> S/cm  (canonical unit)
* AHC, 2D:  σ_ij = -(e²/ħ) I = -2π I · e²/h        -> e²/h  (canonical unit)
* SHC, 3D:  σ^l_ij = (e/ħ)(ħ/2) I = (ħ/2e)(e²/ħ) I -> (ħ/2e) S/m (canonical), or (ħ/e) S/cm
* SHC, 2D:  σ^l_ij = (e/2) I = 4π I · (e/8π)       -> e/8π (canonical), or e/2π
"""

from __future__ import annotations

from scipy import constants as _c

from tbspin.errors import ParameterError

#: elementary charge (C)
E_CHARGE = _c.e
#: reduced Planck constant (J s)
HBAR = _c.hbar
#: e²/ħ in siemens
E2_HBAR = _c.e**2 / _c.hbar
#: Boltzmann constant in eV/K
KB_EV = _c.k / _c.e
#: ħ²/(2 m_e) in eV Å²  (≈ 3.80998)
HBAR2_2M = _c.hbar**2 / (2 * _c.m_e) / _c.e * 1e20
#: 1 bohr in Å
BOHR = _c.physical_constants["Bohr radius"][0] * 1e10
ANGSTROM_PER_M = 1e10

# Conversion factors from the raw integral I to each unit, registered by the observable records
# (tbspin.observables: each record carries its own table). key: (kind, dim) -> {unit: factor}
_FACTORS: dict[tuple[str, int], dict[str, float]] = {}
CANONICAL_UNIT: dict[tuple[str, int], str] = {}


def register_units(kind: str, factors: dict[int, dict[str, float]],
                   canonical: dict[int, str]) -> None:
    """Register the unit table of an observable ``kind`` ({dim: {unit: factor}}, {dim: unit})."""
    for dim, table in factors.items():
        if canonical[dim] not in table:
            raise ParameterError(f"{kind}: canonical unit {canonical[dim]!r} not in its table")
        _FACTORS[(kind, int(dim))] = dict(table)
        CANONICAL_UNIT[(kind, int(dim))] = canonical[dim]


def conversion_factor(kind: str, dim: int, unit: str | None = None) -> tuple[float, str]:
    """Factor turning the raw BZ integral into ``unit`` (default: the canonical unit).

    Parameters
    ----------
    kind : str
        The unit-table key of an observable record ("ahc", "shc", "spin_density", ...).
    dim : int
        Number of periodic directions of the model.
    unit : str, optional
        Target unit; one of the keys listed in the module docstring.

    Returns
    -------
    factor, unit
    """
    key = (kind, int(dim))
    if key not in _FACTORS:
        raise ParameterError(f"no conductivity units for kind={kind!r} in dimension {dim}")
    table = _FACTORS[key]
    unit = CANONICAL_UNIT[key] if unit is None else unit
    if unit not in table:
        raise ParameterError(f"unknown unit {unit!r} for {kind} in {dim}D; choose one of {sorted(table)}")
    return table[unit], unit


def available_units(kind: str, dim: int) -> list[str]:
    """Units a result of ``kind`` in ``dim`` dimensions can be expressed in."""
    if (kind, int(dim)) not in _FACTORS:
        raise ParameterError(f"no units for kind={kind!r} in dimension {dim}")
    return sorted(_FACTORS[(kind, int(dim))])
