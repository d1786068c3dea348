"""Bulk Bi2Se3 4-band model (paper's Eq. 10) with the Liu 2010 and Zhang 2009 parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tbspin.continuum.kp import RegularizationWarning, band_gap, band_inversions, z2_parity
from tbspin.models import BI2SE3_PARAMETERS, bi2se3, bi2se3_kp
from tbspin.models.bi2se3 import PARITY, ZHANG2009_RAW
from tbspin.models.catalogue import form_hamiltonians

warnings.filterwarnings("ignore", message="MUMPS is not available")
RNG = np.random.default_rng(108195434)
LIU = BI2SE3_PARAMETERS["liu2010"]


def eq10_by_hand(k, p, m=(0.0, 0.0, 0.0)):
    """Eq. (10) of PRB 108, 195434 written out element by element (independent of the model)."""
    kx, ky, kz = k.T
    kp2 = kx**2 + ky**2
    eps = p["C0"] + p["C1"] * kz**2 + p["C2"] * kp2
    MM = p["M0"] + p["M1"] * kz**2 + p["M2"] * kp2
    AA = p["A0"] + p["A2"] * kp2
    BB = p["B0"] + p["B2"] * kz**2
    km, kpl = kx - 1j * ky, kx + 1j * ky
    mm, mp = m[0] - 1j * m[1], m[0] + 1j * m[1]
    z = np.zeros_like(kx)
    H = np.array([
        [-MM + m[2] + z, mm + z, BB * kz, AA * km],
        [mp + z, -MM - m[2] + z, AA * kpl, -BB * kz],
        [BB * kz, AA * km, MM + m[2] + z, mm + z],
        [AA * kpl, -BB * kz, mp + z, MM - m[2] + z],
    ], dtype=complex)
    return np.moveaxis(H, -1, 0) + eps[:, None, None] * np.eye(4)


def continuum_gap(p):
    """Global gap of the continuum model from dense radial scans (rotationally symmetric in
    plane; extrema lie on the k_∥ or k_z axis for these parameters), independent of tbspin."""
    q = np.linspace(0.0, 0.6, 600001)
    out = []
    for C, M, A in ((p["C2"], p["M2"], p["A0"]), (p["C1"], p["M1"], p["B0"])):
        root = np.sqrt((p["M0"] + M * q**2) ** 2 + (A * q) ** 2)
        out.append((p["C0"] + C * q**2 - root, p["C0"] + C * q**2 + root))
    ev = max(o[0].max() for o in out)
    ec = min(o[1].min() for o in out)
    kv = q[np.argmax(out[0][0])]
    return ec - ev, ec, ev, kv


def test_continuum_form_is_eq10():
    # Expected: Eq. (10) element by element (with magnetization m).
    m = (0.011, -0.007, 0.005)
    kp = bi2se3_kp(magnetization=m, A2=1.5, B2=-0.8)
    p = dict(LIU, A2=1.5, B2=-0.8)
    k = RNG.normal(size=(20, 3)) * 0.1
    assert np.allclose(kp.continuum_hamiltonian(k), eq10_by_hand(k, p, m), atol=1e-13)


def test_gamma_levels_and_inversion_only_at_gamma():
    # Expected: at Γ the levels are C0 ± |M0| (Kramers pairs): CB bottom −0.0083 + 0.28 =
    # 0.2717 eV; the Γ conduction pair is orbital 1 (parity +1), i.e. inverted relative to
    # the large-k ordering; no other TRIM inverted; strong Z2 = 1 from parities (Fu–Kane).
    m = bi2se3()
    E, V = np.linalg.eigh(m.hamiltonian(np.zeros((1, 3))))
    assert np.allclose(E[0], [LIU["C0"] - 0.28] * 2 + [LIU["C0"] + 0.28] * 2, atol=1e-14)
    assert E[0, 2] == pytest.approx(0.2717, abs=1e-12)
    par_cb = np.einsum("ia,ij,ja->a", V[0].conj(), PARITY, V[0]).real[2:]
    assert np.allclose(par_cb, 1.0)
    inv = band_inversions(m)
    assert not inv["inverted"].any()
    assert np.all(inv["overlap"][1:] > 0.999)
    z2 = z2_parity(m, PARITY)
    assert z2["nu0"] == 1 and z2["weak"] == (0, 0, 0)
    assert z2["delta"][0] == -1 and np.all(z2["delta"][1:] == 1)


def test_zhang2009_set_sign_convention():
    # Expected: Zhang et al. write +M(k) = M − B1 kz² − B2 k∥² on orbital 1; after the explicit
    # conversion the Γ levels are C ± M = −0.0068 ± 0.28 with orbital 1 (parity +) on top,
    # the model is again a strong TI, and H(k) equals Zhang's matrix (reordered to Eq. 10's
    # basis) written here directly in Zhang's notation.
    z = ZHANG2009_RAW
    m = bi2se3(parameters="zhang2009")
    E = np.linalg.eigvalsh(m.hamiltonian(np.zeros((1, 3))))[0]
    assert np.allclose(E, [z["C"] - z["M"]] * 2 + [z["C"] + z["M"]] * 2, atol=1e-14)
    assert z2_parity(m, PARITY)["nu0"] == 1
    k = RNG.normal(size=(10, 3)) * 0.05
    kx, ky, kz = k.T
    Mk = z["M"] - z["B1"] * kz**2 - z["B2"] * (kx**2 + ky**2)
    eps = z["C"] + z["D1"] * kz**2 + z["D2"] * (kx**2 + ky**2)
    kmn, kpl = kx - 1j * ky, kx + 1j * ky
    zero = 0 * kx
    # Zhang's basis (1↑, 2↑, 1↓, 2↓)
    Hz = np.moveaxis(np.array([
        [Mk, z["A1"] * kz, zero, z["A2"] * kmn],
        [z["A1"] * kz, -Mk, z["A2"] * kmn, zero],
        [zero, z["A2"] * kpl, Mk, -z["A1"] * kz],
        [z["A2"] * kpl, zero, -z["A1"] * kz, -Mk],
    ], dtype=complex), -1, 0) + eps[:, None, None] * np.eye(4)
    perm = [0, 2, 1, 3]  # Eq. 10 basis (1↑, 1↓, 2↑, 2↓) from Zhang's
    Hz = Hz[:, perm][:, :, perm]
    assert np.allclose(bi2se3_kp(parameters="zhang2009").continuum_hamiltonian(k), Hz, atol=1e-13)


def test_large_z_spacing_warns_and_kills_z2():
    # Expected: mass at k_z = π/c is M0 + 4 M1/c², negative for c > √(4M1/|M0|) = 9.90 Å:
    # a second inversion (at Z), ν0 = 0, and a RegularizationWarning.
    cth = np.sqrt(4 * LIU["M1"] / abs(LIU["M0"]))
    assert cth == pytest.approx(9.90, abs=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegularizationWarning)
        ok = bi2se3(c=cth - 0.1)
    assert z2_parity(ok, PARITY)["nu0"] == 1
    with pytest.warns(RegularizationWarning, match=r"\(0.0, 0.0, 0.5\)"):
        bad = bi2se3(c=cth + 0.1)
    assert z2_parity(bad, PARITY)["nu0"] == 0


def test_continuum_agreement_2meV():
    # Acceptance 2: lattice and k·p energies agree to 2 meV for |k| < 0.05 1/Å (default grid).
    kp = bi2se3_kp()
    m = kp.lattice_model()
    d = RNG.normal(size=(3000, 3))
    d /= np.linalg.norm(d, axis=1)[:, None]
    k = np.vstack([d * 0.05 * RNG.random(3000)[:, None] ** (1 / 3), d * 0.05,
                   0.05 * np.eye(3), -0.05 * np.eye(3)])
    dev = np.abs(np.linalg.eigvalsh(m.hamiltonian(k)) - np.linalg.eigvalsh(kp.continuum_hamiltonian(k)))
    assert dev.max() < 2e-3
    assert dev.max() > 1e-5  # the regularization does change something


def test_global_gap_is_the_continuum_one():
    # Expected (independent radial scans of the continuum bands): CB minimum at Γ (0.2717 eV),
    # VB maximum on the M-shaped in-plane valence band at k∥ ≈ 0.092 1/Å, global gap 0.3439 eV
    # < Γ gap 0.56 eV. The lattice reproduces it up to the O(a²) regularization error: halving
    # both spacings divides the error by ≈ 4.
    g_ref, ec, ev, kv_ref = continuum_gap(LIU)
    assert ec == pytest.approx(0.2717, abs=1e-9)
    assert g_ref == pytest.approx(0.3439, abs=2e-4) and g_ref < 0.56
    gap, kv, kc = band_gap(bi2se3(), 24)
    assert np.linalg.norm(kc) < 1e-6
    assert np.linalg.norm(kv) == pytest.approx(kv_ref, abs=0.005) and abs(kv[2]) < 1e-6
    err1 = g_ref - gap
    gap2, _, _ = band_gap(bi2se3(a=4.14 / 2, c=1.5), 48)
    err2 = g_ref - gap2
    assert 0 < err1 < 0.006
    assert err1 / err2 == pytest.approx(4.0, rel=0.15)


def test_magnetization_splitting_and_degeneracies():
    # Expected: the m terms are exactly m·(τ0⊗σ); at m = 0 every band is doubly degenerate
    # (PT symmetry); for |m| = 1 meV along x, y, z no degeneracy remains (PT broken, no
    # symmetry forces one in the gap region), and at Γ each Kramers pair splits by 2|m|.
    k = np.vstack([RNG.normal(size=(400, 3)) * 0.15, np.zeros((1, 3)),
                   np.array([[0, 0, 0.2], [0.2, 0, 0], [0, 0.2, 0], [0.1, 0.1, 0.1]])])
    E0 = np.linalg.eigvalsh(bi2se3().hamiltonian(k))
    assert np.max(np.abs(E0[:, 0::2] - E0[:, 1::2])) < 1e-12
    base = bi2se3()
    for axis in range(3):
        mvec = np.zeros(3)
        mvec[axis] = 1e-3
        mm = bi2se3(magnetization=mvec)
        assert np.allclose(mm.magnetization, mvec)
        assert np.allclose(mm.hamiltonian(k) - base.hamiltonian(k), mm.spin(axis) * 1e-3, atol=1e-15)
        E = np.linalg.eigvalsh(mm.hamiltonian(k))
        split = np.diff(E, axis=1)
        assert split.min() > 1e-6
        assert np.allclose(split[-5, [0, 2]], 2e-3, atol=1e-12)  # the Γ point


def test_three_forms_agree():
    # Expected: tbspin, PythTB and Kwant (kwant.continuum template) give the same H(k).
    H = form_hamiltonians(bi2se3_kp(magnetization=(1e-3, 2e-3, -3e-3)), RNG.normal(size=(6, 3)) * 0.5)
    for name in ("pythtb", "kwant"):
        assert np.max(np.abs(H[name] - H["lattice"])) < 1e-12


def test_spin_hall_depends_on_magnetization_direction():
    # Acceptance 4: σ^y_zx (proper spin current) for |m| = 1 meV along x, z at E_F = 0 (gap)
    # and 0.4 eV (conduction band). Every expected relation has an independent source:
    # (a) time reversal maps H(m, k) to H(−m, −k) and leaves the intrinsic spin Hall response
    #     (spin odd × velocity odd) invariant: σ(−m) = σ(m) on the k → −k symmetric mesh;
    # (b) the lattice model is C4-symmetric about z (square in-plane lattice, rotationally
    #     symmetric Eq. 10): rotating x → y, y → −x gives σ^x_zy(m∥y) = −σ^y_zx(m∥x);
    # (c) degenerate perturbation theory: as m → 0 the Zeeman term only selects the basis
    #     m̂·s inside the Kramers pairs, so σ(m = 1 meV l̂) equals the m = 0 result with the
    #     gauge operator s_l (computed by the intra-block formula, no splitting) up to
    #     O(m / gap) ≈ 3e-3 relative;
    # (d) the direction matters: x and z differ by far more than the bound of (c).
    import tbspin

    # (a) and (b) are exact identities of the mesh sum only on a mesh invariant under k → −k and
    # the C4 rotation: the Γ-centred one (shift=0; the proper formula's default is a generic shift)
    def shc(m, gauge=None, spin="y", current="z", efield="x"):
        res = tbspin.spin_hall(bi2se3(magnetization=m), efermi=[0.0, 0.4], mesh=24, spin=spin,
                               current=current, efield=efield, gauge=gauge, shift=0.0, errors=False)
        assert res.unit == "(hbar/2e) S/m"
        return res.values

    mx, mz = shc((1e-3, 0, 0)), shc((0, 0, 1e-3))
    np.testing.assert_allclose(shc((-1e-3, 0, 0)), mx, rtol=1e-10)  # (a)
    np.testing.assert_allclose(shc((0, 1e-3, 0), spin="x", efield="y"), -mx, rtol=1e-10)  # (b)
    bound = 3e-3 * np.abs(mx)
    assert np.all(np.abs(shc((0, 0, 0), gauge="x") - mx) < bound)  # (c)
    assert np.all(np.abs(shc((0, 0, 0), gauge="z") - mz) < bound)
    assert np.all(np.abs(mx - mz) > 3 * bound)  # (d)
