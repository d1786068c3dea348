"""The current-induced spin density record (tbspin/observables/spin_density.py) against closed forms.

Two-band models H = ε0(k) + d(k)·σ with spin s = σ (units ħ/2) have closed-form integrands:

* intrinsic (Fermi sea): for the filled lower band, −2 Im ⟨−|σ_a|+⟩⟨+|∂_jH|−⟩/(2d)² with
  ⟨−|σ_a|+⟩⟨+|σ_b|−⟩ = δ_ab − d̂_a d̂_b − i ε_abc d̂_c gives X_a = (∂_j d × d)_a / (2 d³);
* Fermi surface: band ± has ⟨σ⟩ = ±d̂ and velocity ∂_j ε0 ± ∂_j |d|, so
  χ^a_j = −(1/2Γ) Σ_± ∫ (−∂f/∂ε) (±d̂_a)(∂_j ε0 ± ∂_j|d|).

The tests evaluate these formulas with numpy on the same k-points as tbspin and compare.
"""

from __future__ import annotations

import numpy as np
import pytest
from core_models import S0, SX, SY, SZ, qwz_hoppings

import tbspin
from tbspin import LatticeModel, units

PAULI = {"sx": SX, "sy": SY, "sz": SZ}


def qwz_spin(u: float = -1.0) -> LatticeModel:
    """QWZ with its pseudospin declared as spin: d = (sin kx, sin ky, u + cos kx + cos ky)."""
    return LatticeModel(lattice=np.eye(2), hoppings=qwz_hoppings(u), operators=PAULI, name="qwz")


def mesh_points(n: int, shift: float = 0.0) -> np.ndarray:
    g = (np.arange(n) + shift) / n
    kx, ky = np.meshgrid(g, g, indexing="ij")
    return 2 * np.pi * np.stack([kx.ravel(), ky.ravel()], axis=1)


def test_intrinsic_spin_density_matches_the_two_band_closed_form():
    """Closed form (module docstring) on the same 24² mesh, E_F in the gap (lower band filled)."""
    model = qwz_spin(-1.0)
    n = 24
    r = tbspin.compute(model, "spin_density", efermi=[0.0], mesh=n, formula="intrinsic",
                       workers=1, errors=False)
    k = mesh_points(n)
    kx, ky = k.T
    d = np.stack([np.sin(kx), np.sin(ky), -1.0 + np.cos(kx) + np.cos(ky)], axis=1)
    dd = {0: np.stack([np.cos(kx), 0 * kx, -np.sin(kx)], axis=1),
          1: np.stack([0 * ky, np.cos(ky), -np.sin(ky)], axis=1)}
    dn = np.linalg.norm(d, axis=1)
    for c, (a, j) in enumerate(r.components):
        X = np.cross(dd[j], d)[:, a] / (2 * dn**3)
        expected = X.sum() / (n * n * model.cell_measure)  # e·I: χ in (ħ/2)/(Å V)
        assert r.values[0, c] == pytest.approx(expected, rel=1e-10, abs=1e-13)
    assert r.unit == "hbar/2 per (A V)"
    assert [tuple(c) for c in r.components] == [(a, j) for a in range(3) for j in range(2)]
    # the spin density of the filled lower band is T-odd: it is not zero for this Chern insulator
    assert np.max(np.abs(r.values)) > 1e-3


def rashba_lattice(C: float, alpha: float, a: float) -> LatticeModel:
    """ε0 = C(4 − 2cos kx a − 2cos ky a)/a², d = (α/a)(−sin ky a, sin kx a, 0): the Rashba gas
    C k² + α(kx σy − ky σx) with k → sin(ka)/a, k² → 2(1 − cos ka)/a², written out by hand."""
    t, s = C / a**2, alpha / (2 * a)
    hop = {(0, 0): 4 * t * S0, (1, 0): -t * S0 - 1j * s * SY, (-1, 0): -t * S0 + 1j * s * SY,
           (0, 1): -t * S0 + 1j * s * SX, (0, -1): -t * S0 - 1j * s * SX}
    return LatticeModel(lattice=a * np.eye(2), hoppings=hop, operators=PAULI, name="rashba")


def test_fermi_surface_spin_density_matches_the_edelstein_closed_form():
    """Fermi-surface (Edelstein) part on a Rashba lattice gas at T = 300 K, Γ = 0.02 eV, against
    the band-resolved closed form (module docstring) on the same shifted mesh; and the
    continuum Edelstein value χ^y_x = m α / (4π ħ² Γ) (Edelstein, Solid State Commun. 73, 233
    (1990); independent of E_F above the band crossing) within the lattice-regularization and
    smearing error of this mesh (3 %)."""
    C, alpha, a, gamma, T = 3.81, 0.5, 2.0, 0.02, 300.0
    model = rashba_lattice(C, alpha, a)
    n, ef = 96, np.array([0.15])
    r = tbspin.compute(model, "spin_density", efermi=ef, mesh=n, formula="fermi_surface",
                       temperature=T, shift=0.5, workers=1, options={"gamma": gamma}, errors=False)
    k = mesh_points(n, 0.5) / a
    kx, ky = k.T
    e0 = C * (4 - 2 * np.cos(kx * a) - 2 * np.cos(ky * a)) / a**2
    d = alpha / a * np.stack([-np.sin(ky * a), np.sin(kx * a), 0 * kx], axis=1)
    dn = np.linalg.norm(d, axis=1)
    grad_e0 = {0: 2 * C * np.sin(kx * a) / a, 1: 2 * C * np.sin(ky * a) / a}
    grad_dn = {0: (alpha / a) ** 2 * np.sin(kx * a) * np.cos(kx * a) * a / dn,
               1: (alpha / a) ** 2 * np.sin(ky * a) * np.cos(ky * a) * a / dn}
    kT = units.KB_EV * T
    for c, (s, j) in enumerate(r.components):
        total = 0.0
        for sign in (1, -1):
            f = 1 / (1 + np.exp((e0 + sign * dn - ef[0]) / kT))
            mf = f * (1 - f) / kT
            total += np.sum(mf * sign * d[:, s] / dn * (grad_e0[j] + sign * grad_dn[j]))
        expected = -total / (2 * gamma) / (n * n * model.cell_measure)
        assert r.values[0, c] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    chi_yx = r.component("yx")[0]
    edelstein = (alpha / (2 * C)) / (4 * np.pi * gamma)  # m α/ħ² = α/(2C), C = ħ²/2m
    assert chi_yx == pytest.approx(edelstein, rel=0.03)
    assert r.component("xy")[0] == pytest.approx(-edelstein, rel=0.03)  # spin ⟂ field
    assert abs(r.component("zx")[0]) < 1e-12  # in-plane spins only


def test_spin_density_projector_resolves_the_response():
    """Projectors that sum to 1 split the response exactly (linear in A = ½{P, s}); a
    non-Hermitian or wrongly sized projector is refused, naming the parameter."""
    model = qwz_spin(-1.0)
    P0 = np.diag([1.0, 0.0]).astype(complex)
    kw = dict(efermi=[0.0], mesh=12, formula="intrinsic", workers=1)
    full = tbspin.compute(model, "spin_density", **kw, errors=False)
    parts = [tbspin.compute(model, "spin_density", options={"projector": P}, **kw, errors=False)
             for P in (P0, np.eye(2) - P0)]
    np.testing.assert_allclose(parts[0].values + parts[1].values, full.values, atol=1e-13)
    with pytest.raises(tbspin.errors.ParameterError, match="projector"):
        tbspin.compute(model, "spin_density", options={"projector": np.eye(3)}, **kw, errors=False)
    with pytest.raises(tbspin.errors.ParameterError, match="temperature"):
        tbspin.compute(model, "spin_density", efermi=[0.0], mesh=8, formula="fermi_surface", errors=False)
