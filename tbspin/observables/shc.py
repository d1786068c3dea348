"""Record: the spin Hall conductivity σ^l_ij (spin l, current i, field j; J^l_i = σ^l_ij E_j).

Formulas (spin s in units of ħ/2, V^a = ⟨m|∂_aH|n⟩, prefactor (e/ħ)(ħ/2)):

* "proper" — the conserved spin current of Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. 2,
  generalized to the full tensor: Σ^{l,ij}_m = i Σ_{n≠m} s^l_nn (R^i_mn R^j_nm − R^j_mn R^i_nm);
  antisymmetric in (i, j). Inside degenerate blocks the basis follows the gauge operator of each
  spin component (default m̂·s if magnetized, else s_l: :mod:`tbspin.bands.settings`), so a
  whole-tensor pass rotates each block once per distinct operator and equals the
  single-component calls.
* "conventional" — −2 Im Σ_{n∉D(m)} ⟨m|½{s^l, V^i}|n⟩⟨n|V^j|m⟩ / ((ε_m − ε_n)² + η²) (the Kubo
  formula of Wannier90 / WannierBerri with the ½{s, v} spin current); a trace over degenerate
  blocks: no gauge.
* "smm_omega" — s^l_mm Ω^{ij}_m (the paper's Eq. 9; a diagnostic).

Units: (ħ/2e) S/m (3D, canonical) or (ħ/e) S/cm; e/8π (2D, canonical), e/4π, e/2π.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tbspin.bands.integrands import BandContext, register_term
from tbspin.bands.settings import ConnectionSettings
from tbspin.bands.spin_current import conventional_rows
from tbspin.model.lattice import LatticeModel
from tbspin.observables.base import Observable, register
from tbspin.types import ComplexArray, FloatArray

from .. import units

FORMULAS = ("proper", "conventional", "smm_omega")


@dataclasses.dataclass(frozen=True, eq=False)
class BerrySpinTerm:
    """"proper" (Σ_n T^{ij}_mn s^l_nn) or "smm_omega" (s^l_mm Σ_n T^{ij}_mn) components
    (slot, i, j); ``spins[slot]`` = (operator, settings with its gauge)."""

    spins: tuple[tuple[ComplexArray, ConnectionSettings], ...]
    components: tuple[tuple[int, int, int], ...]
    smm: bool = False
    occupation: str = "sea"

    @property
    def directions(self) -> tuple[int, ...]:
        return tuple(sorted({a for _, i, j in self.components if i != j for a in (i, j)}))

    @property
    def n_components(self) -> int:
        return len(self.components)

    def evaluate(self, ctx: BandContext) -> FloatArray:
        r = ctx.rows
        out = np.zeros((len(ctx.k), r, len(self.components)))
        done: dict[tuple[int, int, int], int] = {}
        # the components of one gauge together, its arrays released before the next gauge's
        # are formed (a whole tensor: three gauges, a third of the working set)
        first: dict[int, int] = {}  # id(settings) -> its first component
        for c, (slot, _, _) in enumerate(self.components):
            first.setdefault(id(self.spins[slot][1]), c)
        order = sorted(range(len(self.components)),
                       key=lambda c: (first[id(self.spins[self.components[c][0]][1])], c))
        last = {id(self.spins[self.components[c][0]][1]): pos for pos, c in enumerate(order)}
        for pos, c in enumerate(order):
            slot, i, j = self.components[c]
            st_c = self.spins[slot][1]
            if i == j:
                if last[id(st_c)] == pos:
                    ctx.release(st_c)
                continue
            if (slot, j, i) in done:  # T^{ji} = −T^{ij}: the negated column, no second sum
                np.negative(out[:, :, done[(slot, j, i)]], out=out[:, :, c])
                continue
            op, st = self.spins[slot]
            T = ctx.pair_terms(st, i, j)
            s = ctx.spin_diagonal(st, op)
            if self.smm:
                out[:, :, c] = s[:, :r] * T.sum(axis=2)
            else:
                out[:, :, c] = (T @ s[:, :, None])[:, :, 0]
            done[(slot, i, j)] = c
            if last[id(st)] == pos:
                ctx.release(st)
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class ConventionalTerm:
    """The ½{s, V} Kubo components (slot, i, j) from eigenvectors and velocity matrices alone.

    No Berry connection and no gauge: for each degenerate block D the sum
    Σ_{m∈D} Σ_{n∉D} J_mn V_nm is a trace over D, unchanged by any rotation inside D (and inside
    the blocks of n), so eigh's basis is used as it comes. J^{li} is formed once per (l, i) and
    V^j once per j, whatever the number of components.
    """

    spins: tuple[ComplexArray, ...]  # (None at a spin component that no component uses)
    components: tuple[tuple[int, int, int], ...]
    eta: float = 0.0
    occupation: str = "sea"

    @property
    def directions(self) -> tuple[int, ...]:
        return tuple(sorted({a for _, i, j in self.components for a in (i, j)}))

    @property
    def n_components(self) -> int:
        return len(self.components)

    def evaluate(self, ctx: BandContext) -> FloatArray:
        # rows of 2J^{li} = U_r†{s_l, ∂_iH}U as two products of row blocks, no transposes
        # (:mod:`tbspin.bands.spin_current`); eigh's basis as it comes
        U = ctx.eigensystem(None).vectors
        w = ctx.kubo_weights(self.eta)
        dH = [ctx.derivative(a) for a in self.directions]
        return conventional_rows(U, dH, self.directions, self.spins, self.components, w)


def _term(model: LatticeModel, components: tuple[tuple[int, ...], ...], *, formula: str,
          spins: tuple[tuple[ComplexArray, ConnectionSettings], ...], eta: float = 0.0,
          **_: object) -> BerrySpinTerm | ConventionalTerm:
    """``components`` (slot, i, j) with ``spins[slot]`` = (operator, gauge settings), None for a
    spin component that no requested component uses."""
    comps = tuple((int(c[0]), int(c[1]), int(c[2])) for c in components)
    if formula == "conventional":
        # slots of spin components not requested are None (the term never reads them)
        return ConventionalTerm(tuple(None if s is None else s[0] for s in spins), comps,
                                float(eta))
    return BerrySpinTerm(spins, comps, smm=formula == "smm_omega")


_E2 = units.E2_HBAR
RECORD = register(Observable(
    name="shc", title="spin Hall conductivity", kind="shc", indices=("spin", "current", "field"),
    axial=(True, False, False), time_odd=False, occupation="sea",
    units={3: {"(hbar/2e) S/m": _E2 * units.ANGSTROM_PER_M,
               "(hbar/e) S/cm": 0.5 * _E2 * units.ANGSTROM_PER_M / 100.0},
           2: {"e/8pi": 4.0 * np.pi, "e/2pi": np.pi, "e/4pi": 2.0 * np.pi},
           1: {"e/8pi Å": 4.0 * np.pi}},
    canonical={3: "(hbar/2e) S/m", 2: "e/8pi", 1: "e/8pi Å"},
    formulas=FORMULAS, term=_term, doc=__doc__ or "",
))


def _legacy(formula: str):  # type: ignore[no-untyped-def]
    def make(model: LatticeModel, i: int, j: int, settings: ConnectionSettings,
             spin_op: ComplexArray | None, eta: float) -> BerrySpinTerm | ConventionalTerm:
        assert spin_op is not None  # Integrand checks it
        return _term(model, ((0, i, j),), formula=formula, spins=((spin_op, settings),), eta=eta)
    return make


for _f in FORMULAS:
    register_term(_f, _legacy(_f))
