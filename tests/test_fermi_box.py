"""Metals in 2D: a gapped reference plus the Γ-box difference (tbspin.sampling.fermi_box), and
the Fermi-surface (Edelstein) spin density per layer (issue 25, part 3).

Closed form used in ``test_edelstein_of_a_massive_dirac_cone`` (Boltzmann/Kubo Fermi-surface
term with τ = ħ/2Γ, the record's ``"fermi_surface"`` formula). For H = v(k_xσ_y − k_yσ_x) + mσ_z
the upper band ε = √(v²k² + m²) has the spinor ⟨σ⟩ = (−v k_y, v k_x, m)/ε and the velocity
∂_jε = v² k_j/ε. The record's

    χ^a_j = −(1/2Γ) ∫ d²k/(2π)² (−∂f/∂ε) ⟨σ_a⟩ ∂_jε

at T = 0 puts δ(ε − E_F) on the ring k_F = √(E_F² − m²)/v. For (a, j) = (x, y):
⟨σ_x⟩∂_yε = −v³k_y²/ε², ∫ d²k/(2π)² δ(ε − E_F) k_y² = (1/4π²) π k_F³ / (dε/dk) with
dε/dk = v²k_F/E_F, so ∫ = −v³ k_F³ E_F / (4π E_F² v² k_F) = −v k_F²/(4π E_F) and

    χ^x_y = v k_F²/(8πΓE_F) = (E_F² − m²)/(8π Γ v E_F),   χ^y_x = −χ^x_y,

(χ in (ħ/2)/(Å V) with v in eV Å, energies in eV), for E_F > |m|; at T > 0 its thermal
average ∫ dE (−∂f/∂E) χ(E) (done by quadrature in the test). The intrinsic part's E_F
dependence is the pocket of tests/test_torque_budget.py: χ^y_y(E_F) − χ^y_y(gap) =
(m/max(|m|, E) − 1)/(4πv), thermally averaged.
"""

from __future__ import annotations

import numpy as np
import pytest
from core_models import SX, SY, SZ
from scipy import integrate
from test_torque_budget import small_slab, wilson_dirac

import tbspin
from tbspin import units
from tbspin.bands.integrands import BandKernel
from tbspin.bands.settings import resolve_connection
from tbspin.engine.points import BatchTask, WeightedPoints
from tbspin.errors import ParameterError
from tbspin.observables.spin_density import SpinDensityTerm
from tbspin.sampling import fermi_box as fb
from tbspin.slab.spin_density import layer_spin_density_kernel

OPS = (SX, SY, SZ)


def dirac_kernel(model: tbspin.LatticeModel, gamma: float) -> BandKernel:
    """Intrinsic χ^y_y, χ^x_x and Fermi-surface χ^x_y, χ^y_x of the record, one eigensystem."""
    st = resolve_connection(model, gauge="none")
    terms = (SpinDensityTerm(OPS, ((1, 1), (0, 0)), "intrinsic"),
             SpinDensityTerm(OPS, ((0, 1), (1, 0)), "fermi_surface", gamma=gamma))
    return BandKernel(model, terms, st, None)


def thermal(g, ef: float, T: float, m: float) -> float:
    kT = units.KB_EV * T
    return integrate.quad(lambda E: g(E) / (4 * kT * np.cosh((E - ef) / (2 * kT)) ** 2),
                          ef - 40 * kT, ef + 40 * kT, points=[m], limit=200)[0]


def test_reference_plus_box_equals_a_dense_full_zone_integral():
    """Wilson-Dirac lattice (v = 1 eV Å, m = 60 meV, B = 0.3 eV Å², a = 1 Å: the zone-boundary
    bands at ±1.26 eV, far from the window), T = 100 K, Γ = 10 meV, E_F = 0.10 and 0.15 eV in
    the upper band, E_ref = 0 in the gap. Independent computation: the engine's uniform
    full-zone mesh of 800² points (its smooth periodic integrand at this T is converged: 600²
    agrees to 1e-6, asserted) at E_F for both formulas and at E_ref for the reference. The box
    result (reference + difference, intrinsic; box alone, Fermi surface) equals it within 4 of
    its standard errors + 1e-6 (relative); the box holds the Fermi ring with its
    n_tail k_BT tails (κ|b| > k at E_F + 30 k_BT on the cone) and its edge check is clean."""
    v, m, T, G = 1.0, 0.06, 100.0, 0.01
    model = wilson_dirac(v, m, 0.3, 1.0)
    ef = np.array([0.10, 0.15])
    def uniform(n: int) -> np.ndarray:  # (1 + n_E, 4): E_ref, then E_F; intrinsic, then FS
        kw = dict(mesh=n, temperature=T, workers=1, errors=False, shift=0.5, efermi=np.r_[0.0, ef])
        sea = tbspin.compute(model, "spin_density", formula="intrinsic", components=["yy", "xx"],
                             **kw).values
        fs = tbspin.compute(model, "spin_density", formula="fermi_surface", options={"gamma": G},
                            components=["xy", "yx"], **kw).values
        return np.concatenate([sea, fs], axis=1)

    dense, coarse = uniform(800), uniform(600)
    np.testing.assert_allclose(coarse, dense, rtol=1e-6, atol=1e-9)
    r = fb.fermi_box(dirac_kernel(model, G), model, ef, 0.0, T, dense[0], 0.0, rel=1e-3,
                     max_points=100_000)
    assert r.converged and r.boundary_ratio < 1e-10 and r.tail_bound < 1e-9
    expect = dense[1:]
    assert np.all(np.abs(r.values - expect) <= 4 * r.errors + 1e-6 * np.abs(expect))
    assert np.all(r.errors[:, 2:] <= 1e-3 * np.abs(expect[:, 2:]))
    k_top = np.sqrt((ef.max() + fb.N_TAIL * units.KB_EV * T) ** 2 - m**2) / v
    assert min(r.half_width_k) > k_top
    assert r.half_width < 0.25  # the box, not the zone
    vals, errs = r.linear([[1.0, -1.0, 0, 0], [0, 0, 1.0, 1.0]])  # C∞: χ^y_y = χ^x_x, χ^x_y = −χ^y_x
    assert np.all(np.abs(vals) <= 4 * errs + 1e-8)


def test_edelstein_of_a_massive_dirac_cone():
    """Module docstring closed form, on a fine Wilson-Dirac lattice (a = 0.25 Å, B = 0.01 eV Å²:
    lattice corrections (k_F a)², B k_F²/m ≲ 0.2 %) at T = 100 K, E_F = 0.10, 0.15 eV, Γ = 10 meV:
    the box's Fermi-surface χ^x_y and −χ^y_x equal the thermally averaged
    (E² − m²)/(8πΓvE) to 1 % (measured 0.11 %), the intrinsic difference from the gap equals
    the pocket (m/E − 1)/(4πv) to 1 %, and Γ → 2Γ halves the Fermi-surface part (∝ 1/Γ: the same
    points, 1e-12) and leaves the intrinsic part alone."""
    v, m, T, G = 1.0, 0.06, 100.0, 0.01
    model = wilson_dirac(v, m, 0.01, 0.25)
    ef = np.array([0.10, 0.15])
    runs = [fb.fermi_box(dirac_kernel(model, g), model, ef, 0.0, T, 0.0, 0.0, rel=1e-3,
                         max_points=100_000) for g in (G, 2 * G)]
    r = runs[0]
    assert r.converged
    for i, e in enumerate(ef):
        edelstein = thermal(lambda E: (E * E - m * m) / (8 * np.pi * G * v * E) if E > m else 0.0,
                            e, T, m)
        pocket = thermal(lambda E: (m / max(abs(E), m) - 1.0) / (4 * np.pi * v), e, T, m)
        assert r.values[i, 2] == pytest.approx(edelstein, rel=0.01)
        assert -r.values[i, 3] == pytest.approx(edelstein, rel=0.01)
        assert r.values[i, 0] == pytest.approx(pocket, rel=0.01)
    np.testing.assert_allclose(runs[1].values[:, 2:], 0.5 * r.values[:, 2:], rtol=1e-12)
    np.testing.assert_allclose(runs[1].values[:, :2], r.values[:, :2], rtol=1e-12)
    # chunks on two threads (one BLAS thread each), summed in chunk order: the same bits
    two = fb.fermi_box(dirac_kernel(model, G), model, ef, 0.0, T, 0.0, 0.0, rel=1e-3,
                       max_points=100_000, workers=2)
    np.testing.assert_array_equal(two.values, r.values)
    np.testing.assert_array_equal(two.errors, r.errors)


def test_box_refuses_a_window_at_the_zone_boundary_and_grows_to_hold_the_window(monkeypatch):
    """(1) A Wilson-Dirac model with a small Wilson mass (B = 0.02 eV Å²) has bands at ±0.14 eV
    on the zone edge (X points: m + 4B/a²), inside the window of E_F = 0.1 eV with 30 k_BT tails
    at 58 K: refused. (2) The box found for the B = 0.3 model holds every state in the window:
    on an independent 200² scan of the whole zone, no band in the window outside the box.
    (3) Handed a box too small (window_box patched to 0.01), fermi_box grows it by scan steps
    until no band of the window is on its edge, and gives the same numbers as before within
    their errors; handed a box whose growth reaches the zone edge, it refuses."""
    model = wilson_dirac(1.0, 0.06, 0.02, 1.0)
    kern = dirac_kernel(model, 0.01)
    with pytest.raises(ParameterError, match="zone boundary"):
        fb.fermi_box(kern, model, [0.1], 0.0, 58.0, 0.0, 0.0)
    model = wilson_dirac(1.0, 0.06, 0.3, 1.0)
    kern = dirac_kernel(model, 0.01)
    window = (-0.2, 0.35)
    kappa = fb.window_box(model, window)
    g = (np.arange(200) + 0.5) / 200 - 0.5
    t = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    E = np.linalg.eigvalsh(model.hamiltonian(t @ model.reciprocal))
    inside = np.any((E >= window[0]) & (E <= window[1]), axis=1)
    assert inside.any() and np.abs(t[inside]).max() <= kappa
    ref = fb.fermi_box(kern, model, [0.12], 0.0, 100.0, 0.0, 0.0, rel=1e-3)
    monkeypatch.setattr(fb, "window_box", lambda *a, **k: 0.01)
    grown = fb.fermi_box(kern, model, [0.12], 0.0, 100.0, 0.0, 0.0, rel=1e-3)
    assert grown.half_width > 0.01 + 1 / 48
    assert np.all(np.abs(grown.values - ref.values) <= 4 * (grown.errors + ref.errors) + 1e-9)
    flat = wilson_dirac(1.0, 0.06, 0.02, 1.0)
    monkeypatch.setattr(fb, "window_box", lambda *a, **k: 0.49)
    with pytest.raises(ParameterError, match="zone"):
        fb.fermi_box(dirac_kernel(flat, 0.01), flat, [0.1], 0.0, 58.0, 0.0, 0.0)


def test_layer_fermi_surface_term_equals_the_record_layer_by_layer():
    """4-layer Bi₂Se₃ slab, m_z = 20 meV, E_F in the bands, T = 600 K (wide −∂f/∂ε), 8² mesh: the layer
    kernel's Fermi-surface χ^x_y per layer (one product per k, :class:`LayerSpinDensityTerm`
    with formula "fermi_surface") equals the record's ``fermi_surface`` formula with one layer
    projector per layer (1e-9 of the largest), its intrinsic components are unchanged by
    adding it, and both scale as stated with Γ (∝ 1/Γ, 1e-12)."""
    slab = small_slab(4)
    model = slab.model
    n, shift, T = 8, 0.29, 600.0
    ef = np.array([0.1, 0.5])
    kw = dict(efermi=ef, mesh=n, shift=shift, formula="fermi_surface", workers=1, errors=False,
              temperature=T, components=["xy"])
    per = np.array([tbspin.compute(model, "spin_density", options={
        "projector": np.diag((slab.layer_of_orbital == layer).astype(float)), "gamma": 0.02},
        **kw).values[:, 0] for layer in range(slab.n_layers)])  # (N, n_E)
    scale = np.abs(per).max()
    assert scale > 1e-4
    g = (np.arange(n) + shift) / n
    pts = WeightedPoints(model, np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2),
                         np.full(n * n, 1.0 / n**2))
    both = BatchTask(layer_spin_density_kernel(slab, "y", "y", edelstein="x", gamma=0.02),
                     pts, ef, T)(0)[1] / model.cell_measure
    L = slab.n_layers
    np.testing.assert_allclose(both[:, L:].T, per, rtol=0, atol=1e-9 * scale)
    alone = BatchTask(layer_spin_density_kernel(slab, "y", "y"), pts, ef, T)(0)[1]
    np.testing.assert_allclose(both[:, :L], alone / model.cell_measure, rtol=1e-12, atol=0)
    half = BatchTask(layer_spin_density_kernel(slab, "y", "y", edelstein="x", gamma=0.04),
                     pts, ef, T)(0)[1] / model.cell_measure
    np.testing.assert_allclose(half[:, L:], 0.5 * both[:, L:], rtol=1e-12, atol=0)
    with pytest.raises(ParameterError, match="gamma"):
        layer_spin_density_kernel(slab, "y", "y", edelstein="x", gamma=0.0)
