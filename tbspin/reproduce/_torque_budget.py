"""The torque budget of a magnetized Bi₂Se₃ film (issue 25, part 3): dampinglike torque from the
surface spin density versus fieldlike torque from the bulk proper spin Hall current, in one
unit.

Set-up: the film of :mod:`tbspin.reproduce.torque` (Kwant fill of the regularized Eq. 10 model,
c = 3 Å per layer, i.e. 3.18 layers per quintuple layer of 9.54 Å), exchange m_z s_z on **every**
layer. Uniform m keeps inversion, so the layer-resolved intrinsic spin density is odd about the
centre: the top and bottom surfaces carry opposite spin densities, and the torque on a magnet
sitting on the top surface comes from the top half of the layers.

Units and conversions
---------------------
* χ_top = Σ_{top half} χ^y_y, the intrinsic (T-odd, Fermi-sea) current-induced spin density per
  unit field: spin (units ħ/2) per Å² per V/Å, i.e. (ħ/2)/(Å V) = 10¹⁰ (ħ/2)/(m V)
  (:func:`tbspin.slab.spin_density.layer_spin_density`). It is ∥ E (χ^y_y = χ^x_x): with m ∥ ẑ
  it exerts the *dampinglike* torque.
* Exchange torque per unit area on the magnet: the electron spin δS = (ħ/2) χ E precesses in the
  exchange field m_z σ_z at 2m_z/ħ, so τ = (2m_z/ħ)(ħ/2) χ E = m_z χ E (J/m²).
* The same torque written as an absorbed spin current, τ = (ħ/2e) σ_eff E, defines the torque
  efficiency in the paper's unit (ħ/2e) S/m:

      σ_DL = 2 e m_z χ / ħ = 2 (e²/ħ) m_z[eV] χ[(ħ/2)/(Å V)] × 10¹⁰  (ħ/2e) S/m.

* The bulk proper spin Hall conductivity σ^y_zx (paper Eq. 2, spin y flowing along z for E ∥ x)
  is already a spin current per field in (ħ/2e) S/m: the *fieldlike* torque efficiency
  σ_FL = σ^y_zx, independent of thickness.
* The top surface's Fermi-surface (T-even, Edelstein) spin density is ⊥ E (χ^x_y for E ∥ ŷ):
  a *fieldlike* torque, σ_FL,surf = 2 (e²/ħ) m_z χ^x_y,top × 10¹⁰, the same conversion; it
  scales as 1/Γ (Γ = ``gamma``, τ = ħ/2Γ; derivation in :mod:`tbspin.slab.fermi_level`).

On the E_F grid χ_top is the graded mesh's mid-gap value (converged to ≤ 0.03 %) plus the
difference on a Γ box holding every state between mid-gap and E_F
(:func:`tbspin.slab.fermi_level.film_response`, :mod:`tbspin.sampling.fermi_box`): mean ±
Student-t standard error of 8 shifted box meshes, refined towards max(2 % |σ_DL|, 20 (ħ/2e)
S/m) (5 % for σ_FL,surf) within a k budget per film.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from tbspin import units
from tbspin.types import FloatArray

if TYPE_CHECKING:
    from tbspin.slab.fermi_level import FilmResponse

#: (ħ/2e) S/m of dampinglike torque efficiency per eV of exchange per (ħ/2)/(Å V) of χ
SIGMA_DL_PER_EV_CHI = 2.0 * units.E2_HBAR * units.ANGSTROM_PER_M
#: error method of the box results (:mod:`tbspin.sampling.fermi_box`)
ERROR_BY_BOX = ("Student-t standard error of M randomly shifted uniform meshes of the Gamma box "
                "(difference from the mid-gap reference) + the reference's two-mesh spread")
#: thickness of one Bi₂Se₃ quintuple layer (Å): c = 28.64 Å of the hexagonal cell / 3
QL_ANGSTROM = 9.547


def dampinglike_efficiency(chi_top: FloatArray | float, m_z: float) -> FloatArray:
    """σ_DL in (ħ/2e) S/m from χ_top in (ħ/2)/(Å V) and the exchange m_z in eV (module doc)."""
    return SIGMA_DL_PER_EV_CHI * float(m_z) * np.asarray(chi_top, dtype=float)


@dataclasses.dataclass(frozen=True)
class BudgetSettings:
    """Discretization of the budget."""

    layers: tuple[int, ...]  #: film thicknesses (layers of c = 3 Å)
    m_z: float  #: exchange on every layer (eV)
    efermi: tuple[float, float, float]  #: E_F grid start, stop, step (eV)
    nodes: tuple[int, int]  #: coarse and fine Γ-crowded meshes of the slab (per direction)
    crowding: float  #: point density at Γ relative to a uniform mesh
    temperature: float  #: K (smooths the Fermi surfaces of the slab subbands)
    gamma: float = 0.01  #: eV, broadening of the Fermi-surface (Edelstein) part, τ = ħ/2Γ
    box_start: int = 16  #: first box mesh per direction (per shift) of the Γ-box difference
    box_points: int = 40_000  #: k-point budget of the box per film
    box_scan: int = 32  #: scan points per direction that choose the box
    box_shifts: int = 8  #: randomly shifted box meshes (the standard error's M)
    box_seed: int = 0  #: seed of the box shifts (recorded: the run is rerun from the JSON)
    rel: float = 0.02  #: target error of σ_DL (relative) ...
    rel_fs: float = 0.05  #: ... and of σ_FL,surf
    floor: float = 20.0  #: ... or this absolute error, (ħ/2e) S/m

    def grid(self) -> FloatArray:
        """The E_F grid (eV)."""
        a, b, d = self.efermi
        return np.round(np.arange(a, b + 0.5 * d, d), 6)


BUDGET = {
    False: BudgetSettings(layers=(12, 16, 20, 30, 40), m_z=0.02, efermi=(0.14, 0.42, 0.01),
                          nodes=(32, 48), crowding=40.0, temperature=30.0),
    True: BudgetSettings(layers=(16, 20), m_z=0.02, efermi=(0.15, 0.41, 0.02),
                         nodes=(16, 24), crowding=40.0, temperature=30.0, box_start=8,
                         box_points=3_500, box_scan=24),
}


def region(e: float, surface: tuple[float, float], bulk: tuple[float, float]) -> str:
    """Where E_F sits: "surface gap", "bulk gap" (surface bands only), "conduction band",
    "valence band"."""
    if surface[0] <= e <= surface[1]:
        return "surface gap"
    if e >= bulk[1]:
        return "conduction band"
    if e <= bulk[0]:
        return "valence band"
    return "bulk gap"


def bulk_edges(model: object, box: float = 0.15, n: int = 21) -> tuple[float, float]:
    """(valence top, conduction bottom) of a 4-band bulk model near Γ (|k_i| ≤ box, 1/Å)."""
    g = np.linspace(-box, box, n)
    k = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    E = np.linalg.eigvalsh(model.hamiltonian(k))  # type: ignore[attr-defined]
    return float(E[:, 1].max()), float(E[:, 2].min())


@dataclasses.dataclass
class FilmBudget:
    """One film thickness: surface spin density and Hall conductance on the E_F grid (+ mid-gap)."""

    layers: int
    dirac_energy: float
    surface_gap: float
    velocity: float
    polarization: float
    efermi: FloatArray
    chi_top: tuple[FloatArray, FloatArray]  #: graded coarse, fine mesh (mid-gap, then the grid)
    sigma_xy: tuple[FloatArray, FloatArray]
    profile: FloatArray  #: χ per layer at mid-gap (fine mesh)
    response: FilmResponse  #: on the grid: mid-gap reference + Γ-box difference, Edelstein part


def film_budget(slab: object, slab0: object, layers: int, grid: FloatArray, st: BudgetSettings
                ) -> FilmBudget:
    """χ_top and σ_xy of one film on the grid plus its mid-gap E_F, on two graded meshes, and
    on the grid the intrinsic χ_top (mid-gap reference + Γ-box difference) and the Edelstein
    χ^x_y,top with standard errors (:func:`tbspin.slab.fermi_level.film_response`); the cone's
    v and ξ from the same film without magnetization (``slab0``)."""
    from tbspin.slab import surface_gap
    from tbspin.slab.fermi_level import film_response
    from tbspin.slab.spin_density import surface_cone

    g = surface_gap(slab)  # type: ignore[arg-type]
    ef = np.concatenate([[g.dirac_energy], grid])
    g0 = surface_gap(slab0)  # type: ignore[arg-type]
    v, xi = surface_cone(slab0, g0.dirac_energy, g0.gap)  # type: ignore[arg-type]
    floor = st.floor / (SIGMA_DL_PER_EV_CHI * st.m_z)  # in χ units
    r = film_response(slab, grid, g.dirac_energy, spin="y", field="y", edelstein="x",  # type: ignore[arg-type]
                      gamma=st.gamma, temperature=st.temperature, nodes=st.nodes,
                      crowding=st.crowding, rel=st.rel, rel_fs=st.rel_fs, floor=floor,
                      n_start=st.box_start, max_points=st.box_points, scan=st.box_scan,
                      n_shifts=st.box_shifts, seed=st.box_seed)
    res = r.graded
    return FilmBudget(layers, g.dirac_energy, g.gap, v, xi, ef,
                      (res[0].top(), res[1].top()), (res[0].sigma_xy, res[1].sigma_xy),
                      res[1].chi[0], r)


def verdict(dl: tuple[float, float], fl_surface: tuple[float, float],
            fl_bulk: tuple[float, float]) -> str:
    """The largest of |σ_DL|, |σ_FL,surf|, |σ_FL,bulk| (value, error each), decided only when
    its value minus its error exceeds every other value plus its error, else "undecided"."""
    names = ("dampinglike (surface)", "fieldlike (surface Edelstein)", "fieldlike (bulk)")
    mags = [(abs(v), e) for v, e in (dl, fl_surface, fl_bulk)]
    i = int(np.argmax([m for m, _ in mags]))
    low = mags[i][0] - mags[i][1]
    return names[i] if all(low > m + e for j, (m, e) in enumerate(mags) if j != i) else "undecided"
