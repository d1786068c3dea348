"""The spin density of a film at a Fermi level in its bands: intrinsic (dampinglike) and
Fermi-surface (Edelstein, fieldlike) parts per layer, with standard errors.

The intrinsic (Fermi-sea) χ of a metal needs its Fermi lines resolved; the Γ-crowded mesh
(:func:`tbspin.slab.spin_density.graded_points`) converges only in a gap. Here χ(E_F) is the
graded mesh's χ at a reference E_ref in the surface gap plus the difference on a Γ box that
holds every state between E_ref and E_F (:func:`tbspin.sampling.fermi_box.fermi_box`: M shifted
uniform meshes of the box, mean ± Student-t error, refined to a target). The Fermi-surface
part, χ^a_j,FS = −(e/2Γ) ∫ Σ_m (−∂f/∂ε) A_mm V^j_mm (the record's ``"fermi_surface"``
formula with A = P_l s^a, τ = ħ/2Γ), vanishes outside the same box and comes from the same
points and eigensystems.

Which components and which torque
---------------------------------
Spin-orbit torques are classified with σ̂ = ẑ × Ê (ẑ the film normal): fieldlike τ ∝ m × σ̂,
dampinglike τ ∝ m × (σ̂ × m). The exchange torque of a current-induced spin density δS on the
magnet is ∝ m × δS. Take m ∥ ẑ and E ∥ ŷ, so σ̂ = −x̂:

* the intrinsic (T-odd) density is ∥ E (χ^y_y; the massive Dirac relation, tested): m × ŷ ∝
  m × (σ̂ × m), the *dampinglike* torque;
* the Fermi-surface (T-even, Edelstein) density of a Dirac cone is ⊥ E: the upper band has
  ⟨σ⟩ = (−v k_y, v k_x, m)/ε and v_j = v² k_j/ε, so under −∂f/∂ε only k_y² survives in
  ⟨σ_x⟩v_y: δS ∥ x̂ ∥ σ̂, χ^x_y (= −χ^y_x, χ^y_y,FS = 0). m × x̂ ∝ m × σ̂: the *fieldlike*
  torque. So χ^x_y enters, summed over the top half of the layers.

Both convert alike: δS = (ħ/2) χ E precesses in the exchange field m_z σ_z at 2m_z/ħ, the
torque per area is m_z |χ| E, and written as an absorbed spin current (ħ/2e) σ E,

    σ_DL = 2 (e²/ħ) m_z χ^y_y,top,   σ_FL,surf = 2 (e²/ħ) m_z χ^x_y,top   [(ħ/2e) S/m;
    m_z in eV, χ in (ħ/2)/(Å V)] (:func:`tbspin.reproduce._torque_budget.dampinglike_efficiency`).

It scales as 1/Γ (τ = ħ/2Γ), and χ^y_x,top = −χ^x_y,top by the C∞ symmetry of the cone.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tbspin import units
from tbspin.errors import ParameterError
from tbspin.sampling.fermi_box import N_TAIL, FermiBoxResult, fermi_box
from tbspin.slab.build import Slab
from tbspin.slab.spin_density import SlabResponse, layer_spin_density, layer_spin_density_kernel, top_half
from tbspin.types import ArrayLike, FloatArray

__all__ = ["FilmResponse", "film_response"]


@dataclasses.dataclass(frozen=True)
class FilmResponse:
    """χ per layer (intrinsic and Fermi-surface), σ_xy and their errors at each E_F."""

    efermi: FloatArray  #: (n_E,) eV
    e_ref: float
    gamma: float  #: eV, Fermi-surface broadening (τ = ħ/2Γ)
    chi: FloatArray  #: (n_E, N) intrinsic χ^spin_field per layer, (ħ/2)/(Å V)
    chi_fs: FloatArray  #: (n_E, N) Fermi-surface χ^edelstein_field per layer
    chi_top: FloatArray  #: (n_E,) intrinsic, top half of the layers
    chi_top_error: FloatArray
    chi_fs_top: FloatArray  #: (n_E,) Fermi-surface, top half
    chi_fs_top_error: FloatArray
    sigma_xy: FloatArray  #: (n_E,) e²/h
    sigma_xy_error: FloatArray
    graded: tuple[SlabResponse, SlabResponse]  #: graded meshes (coarse, fine) at E_ref, then E_F
    box: FermiBoxResult


def film_response(slab: Slab, efermi: ArrayLike, e_ref: float, *, spin: str = "y",
                  field: str = "y", edelstein: str = "x", gamma: float = 0.01,
                  temperature: float = 30.0, nodes: tuple[int, int] = (32, 48),
                  crowding: float = 40.0, rel: float = 0.02, rel_fs: float = 0.05,
                  floor: float = 0.0,
                  n_start: int = 16, n_shifts: int = 8, max_points: int = 200_000,
                  scan: int = 48, seed: int = 0) -> FilmResponse:
    """χ^spin_field (intrinsic) and χ^edelstein_field (Fermi surface) per layer of a film at each
    E_F: graded-mesh reference at ``e_ref`` (in a gap) + Γ-box difference (module docstring).

    Parameters
    ----------
    slab : Slab
        2 periodic directions, spin operators ``"sx", "sy", "sz"``.
    efermi : array_like
        Fermi energies (eV).
    e_ref : float
        Reference energy in a gap of the film (eV), e.g. the middle of the surface gap.
    gamma : float
        Broadening Γ (eV) of the Fermi-surface part.
    temperature : float
        K, > 0 (it smooths the Fermi lines and gives −∂f/∂ε its width).
    nodes, crowding :
        The two graded meshes of the reference; its error is their difference. They are
        evaluated at every E_F too (same points: kept in ``graded`` for comparison).
    rel, rel_fs, floor :
        Target error of χ_top: max(rel · |χ_top|, floor) ((ħ/2)/(Å V)) for the intrinsic part,
        max(rel_fs · |χ_top,FS|, floor) for the Fermi-surface part.
    n_start, n_shifts, max_points, scan, seed :
        Of :func:`tbspin.sampling.fermi_box.fermi_box`.

    Returns
    -------
    FilmResponse
    """
    if not (np.isfinite(temperature) and temperature > 0):
        raise ParameterError(f"film_response needs temperature > 0 (K), got {temperature!r}")
    if not (np.isfinite(floor) and floor >= 0):
        raise ParameterError(f"film_response: floor must be >= 0, got {floor!r}")
    ef = np.atleast_1d(np.asarray(efermi, dtype=float))
    e_max = max(float(ef.max()), float(e_ref)) + N_TAIL * units.KB_EV * temperature + 0.05
    kernel = layer_spin_density_kernel(slab, spin, field, e_max=e_max, hall=True,
                                       edelstein=edelstein, gamma=gamma)
    coarse, fine = (layer_spin_density(slab, np.r_[e_ref, ef], spin=spin, field=field, nodes=n,
                                       crowding=crowding, temperature=temperature, kernel=kernel)
                    for n in nodes)
    L = slab.n_layers
    # the kernel's raw Hall component is I = −σ_xy/(2π) (σ_xy in e²/h)
    ref = np.concatenate([fine.chi[0], np.zeros(L), [-fine.sigma_xy[0] / (2 * np.pi)]])
    ref_err = ref - np.concatenate([coarse.chi[0], np.zeros(L),
                                    [-coarse.sigma_xy[0] / (2 * np.pi)]])  # signed: fine − coarse
    top = top_half(L)
    judge = np.zeros((2, 2 * L + 1))
    judge[0, :L], judge[1, L:2 * L] = top, top
    box = fermi_box(kernel, slab.model, ef, float(e_ref), temperature, ref, ref_err,
                    judge=judge, rel=[rel, rel_fs], floor=floor, n_start=n_start, n_shifts=n_shifts,
                    max_points=max_points, scan=scan, seed=seed)
    hall = np.zeros((1, 2 * L + 1))
    hall[0, -1] = -2.0 * np.pi
    (tops, top_err), (sxy, sxy_err) = box.linear(judge), box.linear(hall)
    return FilmResponse(ef, float(e_ref), float(gamma), box.values[:, :L], box.values[:, L:2 * L],
                        tops[:, 0], top_err[:, 0], tops[:, 1], top_err[:, 1], sxy[:, 0],
                        sxy_err[:, 0], (coarse, fine), box)
