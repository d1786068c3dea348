"""Validation catalogue: QWZ, BHZ, cubic TI, Haldane, Kane–Mele, Rashba gas."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tbspin.models import (
    bhz,
    bhz_kp,
    cubic_ti_kp,
    haldane,
    kane_mele,
    qwz,
    qwz_kp,
    rashba_gas,
    rashba_gas_kp,
)
from tbspin.models.catalogue import form_hamiltonians
from tbspin.units import HBAR2_2M

warnings.filterwarnings("ignore", message="MUMPS is not available")
RNG = np.random.default_rng(7)


def fukui_chern(model, n_occ, n=36):
    """Lattice Chern number of the lowest n_occ bands (Fukui, Hatsugai & Suzuki, JPSJ 74, 1674
    (2005)), computed here independently of tbspin's Berry machinery (cell convention, so the
    link variables are gauge-periodic)."""
    m = model.replace(convention="cell")
    g = np.arange(n) / n
    kred = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    _, V = np.linalg.eigh(m.hamiltonian(kred @ m.reciprocal))
    U = V[..., :n_occ].reshape(n, n, -1, n_occ)

    def link(A, B):
        return np.linalg.det(np.conj(np.swapaxes(A, -1, -2)) @ B)

    Ux = link(U, np.roll(U, -1, 0))
    Uy = link(U, np.roll(U, -1, 1))
    F = np.angle(Ux * np.roll(Uy, -1, 0) / (np.roll(Ux, -1, 1) * Uy))
    return F.sum() / (2 * np.pi)


# ------------------------------------------------------------------ three forms
@pytest.mark.parametrize(
    "factory",
    [
        lambda: qwz_kp(-1.2, a=1.7),
        lambda: bhz_kp(spin_mixing=0.0016, magnetization=(0.001, -0.002, 0.003)),
        lambda: cubic_ti_kp(M=1.5, magnetization=(0.01, 0.0, -0.02)),
        lambda: rashba_gas_kp(magnetization=(0.0, 0.0, 0.002)),
        lambda: haldane(t2=0.13, phi=0.7, M=0.05, a=2.46),
        lambda: kane_mele(magnetization=(0.01, 0.02, -0.03), a=2.46),
    ],
    ids=["qwz", "bhz", "cubic_ti", "rashba", "haldane", "kane_mele"],
)
def test_lattice_pythtb_kwant_forms_agree(factory):
    # Expected: the same H(k) from three independent evaluators (tbspin, PythTB, Kwant).
    obj = factory()
    k = RNG.normal(size=(6, obj.dim)) * 0.8
    H = form_hamiltonians(obj, k)
    assert np.max(np.abs(H["lattice"])) > 0.01
    for name in ("pythtb", "kwant"):
        assert np.max(np.abs(H[name] - H["lattice"])) < 1e-12, name


# ------------------------------------------------------------------ QWZ
@pytest.mark.parametrize("u, chern", [(-1.0, -1), (1.0, 1), (-3.0, 0), (2.5, 0)])
def test_qwz_chern_numbers(u, chern):
    # Expected: |C| = 1 for 0 < |u| < 2 with opposite signs for u > 0 and u < 0, 0 for |u| > 2
    # (QWZ 2006). Sign: C = sign(u) with the Fukui link convention above (F = ∂x A_y − ∂y A_x).
    m = qwz(u)
    assert fukui_chern(m, 1) == pytest.approx(chern, abs=1e-8)


def test_qwz_gap_closings():
    # Expected: |d(k)| = 0 at Γ for u = -2, at X for u = 0 (closed form of QWZ).
    for u, k in ((-2.0, [0.0, 0.0]), (0.0, [np.pi, 0.0])):
        E = np.linalg.eigvalsh(qwz(u).hamiltonian(np.array([k])))
        assert abs(E[0, 1] - E[0, 0]) < 1e-12


# ------------------------------------------------------------------ BHZ
def test_bhz_gamma_levels_and_degeneracy():
    # Expected: at Γ, E = C ± M (E1: C + M, H1: C − M); with Δ = 0 and m = 0 every band is
    # doubly degenerate (h(k) and h*(−k) have equal spectra) and [H, sz] = 0.
    p = dict(A=3.645, B=-68.6, C=0.002, D=-51.2, M=-0.010)
    m = bhz(**p)
    E0 = np.linalg.eigvalsh(m.hamiltonian(np.zeros((1, 2))))[0]
    assert np.allclose(E0, sorted([p["C"] + p["M"]] * 2 + [p["C"] - p["M"]] * 2), atol=1e-14)
    k = RNG.uniform(-0.3, 0.3, size=(200, 2))
    H = m.hamiltonian(k)
    E = np.linalg.eigvalsh(H)
    assert np.max(np.abs(E[:, 0::2] - E[:, 1::2])) < 1e-12
    sz = m.operators["sz"]
    assert np.max(np.abs(H @ sz - sz @ H)) < 1e-14


def test_bhz_spin_chern_and_spin_mixing():
    # Expected: inverted BHZ (M/B > 0) = two opposite Chern copies: the sz = +1 block has
    # |C| = 1 and the sz = −1 block the opposite C; normal regime (M > 0 here) C = 0.
    # Δ ≠ 0 keeps time reversal (Kramers pairs at the TRIMs) but breaks sz conservation.
    for M, c_abs in ((-0.010, 1), (0.010, 0)):
        m = bhz(M=M, a=30.0)
        up = m.replace(hoppings=m.hoppings[:, :2, :2], operators={}, positions=m.positions[:2])
        dn = m.replace(hoppings=m.hoppings[:, 2:, 2:], operators={}, positions=m.positions[2:])
        cu, cd = fukui_chern(up, 1, 48), fukui_chern(dn, 1, 48)
        assert abs(cu) == pytest.approx(c_abs, abs=1e-8)
        assert cd == pytest.approx(-cu, abs=1e-8)
    mix = bhz(spin_mixing=0.002)
    kt = np.array([[0.0, 0.0], [np.pi / 10, 0.0], [0.0, np.pi / 10], [np.pi / 10, np.pi / 10]])
    E = np.linalg.eigvalsh(mix.hamiltonian(kt))
    assert np.max(np.abs(E[:, 0::2] - E[:, 1::2])) < 1e-12
    H = mix.hamiltonian(RNG.normal(size=(3, 2)) * 0.05)
    sz = mix.operators["sz"]
    assert np.max(np.abs(H @ sz - sz @ H)) > 1e-3


# ------------------------------------------------------------------ Haldane
def test_haldane_dirac_gaps_and_chern():
    # Expected (Haldane 1988): at K, K' the bands are −3 t2 cos φ ± |M ∓ 3√3 t2 sin φ|;
    # Chern insulator for |M| < 3√3 |t2 sin φ| with C → −C under φ → −φ, trivial beyond.
    t2, phi, M, a = 0.1, 1.1, 0.2, 1.0
    m = haldane(t2=t2, phi=phi, M=M, a=a)
    K = np.array([[4 * np.pi / (3 * a), 0.0], [-4 * np.pi / (3 * a), 0.0]])
    E = np.linalg.eigvalsh(m.hamiltonian(K))
    dz = sorted([abs(M - 3 * np.sqrt(3) * t2 * np.sin(phi)), abs(M + 3 * np.sqrt(3) * t2 * np.sin(phi))])
    assert np.allclose(E.mean(axis=1), -3 * t2 * np.cos(phi), atol=1e-12)
    assert np.allclose(sorted((E[:, 1] - E[:, 0]) / 2), dz, atol=1e-12)
    c = fukui_chern(m, 1)
    assert abs(c) == pytest.approx(1, abs=1e-8)
    assert fukui_chern(haldane(t2=t2, phi=-phi, M=M), 1) == pytest.approx(-c, abs=1e-8)
    assert fukui_chern(haldane(t2=t2, phi=phi, M=0.6), 1) == pytest.approx(0, abs=1e-8)


# ------------------------------------------------------------------ Kane–Mele
def test_kane_mele_blocks_are_haldane_and_kramers():
    # Expected (Kane & Mele 2005): with λ_R = 0, s_z is conserved and the spin-up block is
    # Haldane(t2 = λ_SO, φ = π/2, M = λ_v), spin-down Haldane(φ = −π/2); λ_R ≠ 0 keeps
    # Kramers pairs at the TRIMs; the QSH gap at K is 2|3√3 λ_SO − λ_v| for λ_R = 0.
    lso, lv = 0.06, 0.1
    km = kane_mele(lambda_so=lso, lambda_r=0.0, lambda_v=lv)
    k = RNG.normal(size=(30, 2)) * 2
    H = km.hamiltonian(k)
    up = haldane(t1=1.0, t2=lso, phi=np.pi / 2, M=lv).hamiltonian(k)
    dn = haldane(t1=1.0, t2=lso, phi=-np.pi / 2, M=lv).hamiltonian(k)
    assert np.allclose(H[:, 0::2][:, :, 0::2], up, atol=1e-14)
    assert np.allclose(H[:, 1::2][:, :, 1::2], dn, atol=1e-14)
    assert np.max(np.abs(H[:, 0::2][:, :, 1::2])) < 1e-15
    EK = np.linalg.eigvalsh(km.hamiltonian(np.array([[4 * np.pi / 3, 0.0]])))[0]
    assert EK[2] - EK[1] == pytest.approx(2 * abs(3 * np.sqrt(3) * lso - lv), abs=1e-12)
    kmr = kane_mele()
    b = kmr.reciprocal
    trims = np.array([[0, 0], [0.5, 0], [0, 0.5], [0.5, 0.5]]) @ b
    E = np.linalg.eigvalsh(kmr.hamiltonian(trims))
    assert np.max(np.abs(E[:, 0::2] - E[:, 1::2])) < 1e-12
    Eg = np.linalg.eigvalsh(kmr.hamiltonian(k))
    assert np.min(np.abs(Eg[:, 1] - Eg[:, 0])) > 1e-6  # Rashba splits away from TRIMs
    assert fukui_chern(km.replace(hoppings=km.hoppings[:, 0::2][:, :, 0::2], operators={},
                                  positions=km.positions[0::2]), 1) in (
        pytest.approx(1, abs=1e-8), pytest.approx(-1, abs=1e-8))


# ------------------------------------------------------------------ Rashba gas
def test_rashba_gas_dispersion_and_spin_locking():
    # Expected (Bychkov–Rashba): E± = ħ²k²/2m* ± α|k| exactly in the k·p form; spin ⟨σ⟩ of
    # the lower band is ⊥ k in-plane; the lattice form agrees to O(a²k²) (bound below).
    meff, alpha, a = 0.05, 0.07, 5.0
    kp = rashba_gas_kp(m_eff=meff, alpha=alpha, a=a)
    q = 0.02
    th = RNG.uniform(0, 2 * np.pi, 16)
    k = q * np.stack([np.cos(th), np.sin(th)], -1)
    E, V = np.linalg.eigh(kp.continuum_hamiltonian(k))
    C = HBAR2_2M / meff
    assert np.allclose(E[:, 0], C * q**2 - alpha * q, atol=1e-14)
    assert np.allclose(E[:, 1], C * q**2 + alpha * q, atol=1e-14)
    m = rashba_gas(m_eff=meff, alpha=alpha, a=a)
    sx, sy = m.operators["sx"], m.operators["sy"]
    v = V[:, :, 0]
    spin = np.stack([np.einsum("ki,ij,kj->k", v.conj(), s, v).real for s in (sx, sy)], -1)
    assert np.allclose(np.sum(spin * k, axis=1), 0, atol=1e-12)
    assert np.allclose(np.linalg.norm(spin, axis=1), 1, atol=1e-12)
    El = np.linalg.eigvalsh(m.hamiltonian(k))
    bound = (alpha * q + C * q**2) * (q * a) ** 2 / 6
    assert np.max(np.abs(El - E)) < bound
    assert np.max(np.abs(El - E)) > 1e-3 * bound
