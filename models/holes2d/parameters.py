"""Luttinger parameter tables and constants of the 2D hole gas (see the package docstring)."""

from __future__ import annotations

import dataclasses
import warnings

from tbspin.errors import ArgumentError, ParameterError

__all__ = [
    "LUTTINGER",
    "LuttingerParameters",
    "DEFAULT_SPACING",
    "FIELD_MV_PER_M_TO_V_PER_ANGSTROM",
    "BETA_MAX",
    "resolve_gate_field",
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
    "Liu, Cullen & Culcer, PRB 108, 195434 (2023), Table I (which cites Winkler 2003). GaAs, InAs "
    "and InSb equal Winkler's values; for Ge the paper prints gamma2 = 5.24, gamma3 = 4.69 where "
    "Lawaetz/Winkler have 4.24, 5.69 (same gamma2 + gamma3, different gamma2 - gamma3)"
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
        "GaAs": LuttingerParameters(6.85, 2.10, 2.90, None, _LIU),
        "InAs": LuttingerParameters(20.40, 8.30, 9.10, None, _LIU),
        "InSb": LuttingerParameters(37.10, 16.50, 17.70, None, _LIU),
        "Ge": LuttingerParameters(13.38, 5.24, 4.69, None, _LIU),
    },
}


def resolve_gate_field(gate_field: float | None, legacy: dict[str, float], default: float = 1.0) -> float:
    """The gate field in MV/m from ``gate_field`` or the deprecated keyword ``field``.

    Parameters
    ----------
    gate_field : float or None
        The new keyword (MV/m); None when not given.
    legacy : dict
        The remaining keyword arguments of the caller; only ``field`` is accepted there.
    default : float
        Value when neither is given.
    """
    unknown = sorted(set(legacy) - {"field"})
    if unknown:
        raise ArgumentError(f"unexpected keyword argument(s) {unknown}")
    if "field" in legacy:
        warnings.warn("the keyword 'field' is deprecated; use 'gate_field' (MV/m)",
                      DeprecationWarning, stacklevel=3)
        if gate_field is not None:
            raise ParameterError("give either 'gate_field' or the deprecated 'field', not both")
        return float(legacy["field"])
    return default if gate_field is None else float(gate_field)
