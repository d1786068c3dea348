"""Record: the anomalous Hall conductivity (Berry curvature of the Fermi sea).

    σ_ij = −(e²/ħ) ∫ d^pk/(2π)^p Σ_m f_m Ω^{ij}_m,   Ω^{ij}_m = i Σ_{n≠m} (R^i_mn R^j_nm − R^j_mn R^i_nm)

(Wang et al., PRB 74, 195118 (2006); Wannier90's sign). Indices (current i, field j),
antisymmetric: the pseudovector σ_k = ½ ε_kij σ_ij holds its three independent components
(yz, zx, xy). Units: S/cm (3D, canonical) or S/m; e²/h (2D, canonical) or S; in 2D
σ_xy = −C e²/h with C the Chern number of the filled bands (PythTB's ``berry_flux`` sign).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tbspin.bands.integrands import BandContext, register_term
from tbspin.bands.settings import ConnectionSettings
from tbspin.model.lattice import LatticeModel
from tbspin.observables.base import Observable, register
from tbspin.types import ComplexArray, FloatArray

from .. import units

_E2 = units.E2_HBAR


@dataclasses.dataclass(frozen=True, eq=False)
class BerryCurvatureTerm:
    """X_m,c = Ω^{ij}_m for the components c = (i, j), in the gauge of ``settings`` (the sum
    over whole filled blocks does not depend on it)."""

    components: tuple[tuple[int, int], ...]
    settings: ConnectionSettings
    occupation: str = "sea"

    @property
    def directions(self) -> tuple[int, ...]:
        return tuple(sorted({a for c in self.components if c[0] != c[1] for a in c}))

    @property
    def n_components(self) -> int:
        return len(self.components)

    def evaluate(self, ctx: BandContext) -> FloatArray:
        out = np.zeros((len(ctx.k), ctx.rows, len(self.components)))
        for c, (i, j) in enumerate(self.components):
            if i != j:
                out[:, :, c] = ctx.pair_terms(self.settings, i, j).sum(axis=2)
        return out


def _term(model: LatticeModel, components: tuple[tuple[int, ...], ...], *, formula: str = "berry",
          settings: ConnectionSettings, **_: object) -> BerryCurvatureTerm:
    return BerryCurvatureTerm(tuple((c[0], c[1]) for c in components), settings)


RECORD = register(Observable(
    name="ahc", title="anomalous Hall conductivity", kind="ahc", indices=("current", "field"),
    axial=(False, False), time_odd=True, occupation="sea",
    units={3: {"S/cm": -_E2 * units.ANGSTROM_PER_M / 100.0, "S/m": -_E2 * units.ANGSTROM_PER_M},
           2: {"e^2/h": -2.0 * np.pi, "S": -_E2},
           1: {"e^2/h Å": -2.0 * np.pi}},
    canonical={3: "S/cm", 2: "e^2/h", 1: "e^2/h Å"},
    formulas=("berry",), term=_term, antisymmetric=(0, 1), doc=__doc__ or "",
))


def _legacy(model: LatticeModel, i: int, j: int, settings: ConnectionSettings,
            spin_op: ComplexArray | None, eta: float) -> BerryCurvatureTerm:
    return BerryCurvatureTerm(((i, j),), settings)


register_term("berry", _legacy)
