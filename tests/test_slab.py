"""Slabs and ribbons (issue 5): surface/edge states and the magnetic surface-state gap.

Where the expected numbers come from
------------------------------------
* 4-band TI (Bi2Se3, Liu et al. PRB 82, 045122 (2010) parameters, paper's Eq. 10 names):
  for the semi-infinite model with ψ = 0 at the surface, the two decaying solutions share one
  orbital spinor only at E_D = C0 + C1·|M0|/M1 (with M = |M0| − M1 k² on orbital 1). The
  argument (the matrix (E−ε)+𝓜τz+B0 k τx must annihilate the same spinor for both decay
  constants, which forces (C0 − E + C1 q) = −(C1/M1)(|M0| − M1 q) for every q) only uses
  the structure ε = C0 + C1 q, 𝓜 = |M0| − M1 q, so it holds for the lattice regularization
  (q = 2(1 − cos k c)/c²) as well as for the continuum. The same spinor has orbital weights
  (1 ± C1/M1)/2, which gives (i) the out-of-plane Zeeman slope of the surface gap,
  2[g1(1 + r) + g2(1 − r)]/2 with r = C1/M1 for orbital g-factors g1, g2; (ii) the in-plane
  spin matrix element r between the two Γ surface states and the Dirac velocity
  v = A0·sqrt(1 − r²), so an in-plane exchange m moves the cone by |Δk| = m·r/v.
* Thin films: the hybridization gap decays like the slowest evanescent bulk solution at E_D;
  its decay per layer is computed in the test from the bulk complex band structure (a
  generalized eigenvalue problem for e^{ik_z c}).
* Ribbons: the net number of chiral edge modes per edge equals the Chern number from the core
  evaluator (tbspin.chern_number); the QSH models have one forward and one backward mode on
  each edge. An independent count from sampled band crossings checks Kwant's mode velocities.
* Wannier Bi2Se3 (WannierTools example): E_F and 18 occupied bands from the data README; the
  surface Dirac cone must sit inside the slab's bulk gap with its states on the outer QLs.
"""

from __future__ import annotations

import tarfile
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
from real_fits import HR_ARCHIVE, data_folder

from tbspin import chern_number
from tbspin.bz.kpath import make_kpath
from tbspin.cli.app import run_slab
from tbspin.cli.plotting import plot_gap_vs_magnetization, plot_gap_vs_thickness, plot_slab_bands
from tbspin.errors import ModelError
from tbspin.models import bhz, bi2se3, haldane, kane_mele, qwz
from tbspin.slab import (
    edge_modes,
    exchange_on_layers,
    find_dirac_point,
    gap_vs_magnetization,
    gap_vs_thickness,
    kwant_bands,
    make_slab,
    slab_bands,
    surface_gap,
    surface_weights,
)

# Liu 2010 Bi2Se3 in the paper's Eq. 10 names (models/bi2se3.py "liu2010")
C0, C1, M0, M1, A0, B0 = -0.0083, 5.74, -0.28, 6.86, 3.33, 2.26
E_DIRAC = C0 + C1 * abs(M0) / M1
R_SPIN = C1 / M1
V_DIRAC = A0 * np.sqrt(1 - R_SPIN**2)


@pytest.fixture(scope="module")
def bulk() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bi2se3()  # a = 4.14 Å, c = 3.0 Å grid


@pytest.fixture(scope="module")
def thick(bulk):
    return make_slab(bulk, direction=2, n_layers=30)


def _continuum_ti():
    """The same Bi2Se3 k·p model written by hand as a kwant.continuum string (Kwant path)."""
    import kwant.continuum

    ham = (
        "(C0 + C1*k_z**2 + C2*(k_x**2 + k_y**2))*kron(sigma_0, sigma_0)"
        " - (M0 + M1*k_z**2 + M2*(k_x**2 + k_y**2))*kron(sigma_z, sigma_0)"
        " + A0*(k_x*kron(sigma_x, sigma_x) + k_y*kron(sigma_x, sigma_y))"
        " + B0*k_z*kron(sigma_x, sigma_z)"
    )
    params = dict(C0=C0, C1=C1, C2=30.4, M0=M0, M1=M1, M2=44.5, A0=A0, B0=B0)
    return kwant.continuum.discretize(ham, grid=4.0), params


# ---------------------------------------------------------------- construction and Kwant forms
def test_kwant_fill_equals_numpy_slab_with_layer_terms():
    """Kwant's Builder.fill + wraparound of a continuum template (with an exchange field on the
    two top layers and an electric field) has the spectrum of the batched numpy slab."""
    import kwant

    tmpl, params = _continuum_ti()
    sz = np.kron(np.eye(2), np.diag([1.0, -1.0]))
    spin = [0 * sz, 0 * sz, sz]
    slab = make_slab(tmpl, direction=2, n_layers=7, params=params,
                     layer_onsite=exchange_on_layers(spin, [0, 0, 0.03], [5, 6]), gate_field=100.0)
    wrapped = kwant.wraparound.wraparound(slab.kwant_builder()).finalized()
    qs = np.array([[0.0, 0.0], [0.3, -0.2], [1.1, 0.4]])
    for q in qs:
        Hk = wrapped.hamiltonian_submatrix(params=dict(params, k_x=q[0], k_y=q[1]))
        kc = np.array([q[0] / 4.0, q[1] / 4.0, 0.0])
        np.testing.assert_allclose(np.linalg.eigvalsh(Hk),
                                   np.linalg.eigvalsh(slab.hamiltonian(kc))[0], atol=1e-11)
    # kwant.wraparound(keep=0) + kwant.physics.Bands along a cut at fixed k_y
    line = np.linspace(-np.pi, np.pi, 7)
    kb = kwant_bands(slab, line, other=0.4)
    kc = np.stack([line / 4.0, np.full_like(line, 0.1), np.zeros_like(line)], axis=1)
    np.testing.assert_allclose(kb, np.linalg.eigvalsh(slab.hamiltonian(kc)), atol=1e-11)
    # the field: Tr H(Γ) grows by F·Σ(z − z_c) = 0 for a symmetric slab; the potential step
    # between neighbouring layers is F·c
    onsite = slab.model.hoppings[np.all(slab.model.R == 0, axis=1)][0]
    diag = np.real(np.diag(onsite)).reshape(7, 4)
    no_field = make_slab(tmpl, direction=2, n_layers=7, params=params,
                         layer_onsite=exchange_on_layers(spin, [0, 0, 0.03], [5, 6]))
    diag0 = np.real(np.diag(no_field.model.hoppings[np.all(no_field.model.R == 0, axis=1)][0]))
    # 100 MV/m = 0.01 V/Å: 0.01 eV per Å of height, c = 4 Å per layer
    np.testing.assert_allclose((diag - diag0.reshape(7, 4))[:, 0], 0.01 * 4.0 * (np.arange(7) - 3))


def test_catalogue_kp_builder_slab_equals_lattice_model_slab(bulk):
    """bi2se3_kp().kwant_builder() (kwant.continuum) and bi2se3() (tbspin's regularization)
    are the same lattice model: their slabs must have the same spectrum."""
    from tbspin.models import bi2se3_kp

    kp = bi2se3_kp()
    via_kwant = make_slab(kp.kwant_builder(), direction=2, n_layers=6)
    direct = make_slab(bulk, direction=2, n_layers=6)
    k = np.array([[0.0, 0.0, 0.0], [0.07, -0.02, 0.0]])
    np.testing.assert_allclose(np.linalg.eigvalsh(via_kwant.hamiltonian(k)),
                               np.linalg.eigvalsh(direct.hamiltonian(k)), atol=1e-10)


def test_lattice_model_slab_matches_its_kwant_builder(bulk):
    """LatticeModel path: to_kwant() + Kwant's fill gives the same slab as the numpy form."""
    import kwant

    slab = make_slab(bulk, direction=2, n_layers=5,
                     layer_onsite=exchange_on_layers(bulk, [0.01, 0.0, 0.02], [4]))
    wrapped = kwant.wraparound.wraparound(slab.kwant_builder()).finalized()
    k = np.array([0.05, -0.03, 0.0])
    Hk = wrapped.hamiltonian_submatrix(params=dict(k_x=k @ bulk.lattice[0],
                                                   k_y=k @ bulk.lattice[1]))
    np.testing.assert_allclose(np.linalg.eigvalsh(Hk), np.linalg.eigvalsh(slab.hamiltonian(k))[0],
                               atol=1e-11)


def test_bad_input_is_named(bulk):
    with pytest.raises(ModelError, match="direction"):
        make_slab(bulk, direction=3, n_layers=4)
    with pytest.raises(ModelError, match="layers"):
        make_slab(bulk, direction=2, n_layers=1)
    with pytest.raises(ModelError, match=r"layer_onsite\(0\)"):
        make_slab(bulk, direction=2, n_layers=3, layer_onsite=lambda layer: np.eye(3))
    with pytest.raises(ValueError, match="n_surface_layers"):
        surface_gap(make_slab(bulk, direction=2, n_layers=4), n_surface_layers=3)
    with pytest.raises(ModelError, match="kwant.Builder"):
        make_slab("not a model", direction=0, n_layers=3)


def test_kpath_uses_ase_special_points():
    """Hexagonal surface BZ of Bi2Se3 (a = 4.138 Å): |ΓM| = 2π/(√3 a), |ΓK| = 4π/(3a)."""
    a1, a2 = [-2.069, -3.583614, 0.0], [2.069, -3.583614, 0.0]
    a = np.linalg.norm(a1)
    kp = make_kpath([a1, a2], "GMKG", npoints=61)
    assert kp.labels == ("Γ", "M", "K", "Γ")
    k_at = {lbl: kp.k[np.argmin(np.abs(kp.x - x))] for lbl, x in zip(kp.labels, kp.special_x)}
    assert np.linalg.norm(k_at["M"]) == pytest.approx(2 * np.pi / (np.sqrt(3) * a), rel=1e-6)
    assert np.linalg.norm(k_at["K"]) == pytest.approx(4 * np.pi / (3 * a), rel=1e-6)
    assert np.allclose(kp.k[:, 2], 0.0)  # in the surface plane
    zoom = make_kpath([a1, a2], "GMKG", npoints=41, kmax=0.1)
    assert zoom.labels[0] == "Γ" and zoom.labels[1].endswith("M")
    assert np.max(np.linalg.norm(zoom.k, axis=1)) == pytest.approx(0.1, rel=1e-9)
    assert np.any(np.all(zoom.k == 0.0, axis=1))  # Γ is on the path exactly


# ---------------------------------------------------------------- acceptance 1: Dirac cone
def test_thick_slab_dirac_cone(thick):
    g = surface_gap(thick, n_surface_layers=5)
    assert g.gap < 1e-3  # hybridization of the two surfaces across 90 Å
    assert g.dirac_energy == pytest.approx(E_DIRAC, abs=2e-5)  # exact E_D (module docstring)
    assert np.all(g.weights.sum(axis=1) > 0.8)  # on the outer 5 layers = 15 Å per surface
    assert g.in_bulk_gap and g.bulk_edges[0] < E_DIRAC < g.bulk_edges[1]
    # the cone: symmetric splitting at ±k is linear with the exact Dirac velocity
    kk = 0.004
    E, w, _ = surface_weights(thick, np.array([[kk, 0, 0], [2 * kk, 0, 0]]), 5)
    for i, q in enumerate((kk, 2 * kk)):
        near = np.sort(np.argsort(np.abs(E[i] - E_DIRAC))[:4])
        split = (E[i, near[2:]].mean() - E[i, near[:2]].mean()) / 2
        assert split / q == pytest.approx(V_DIRAC, rel=2e-3)


def test_surface_weights_along_path_separate_surface_states(thick):
    kp = thick.kpath("XGM", npoints=21)  # square surface BZ of the orthorhombic grid
    assert kp.labels == ("X", "Γ", "M")
    E, w = slab_bands(thick, kp, 5)
    assert E.shape == (21, 120) and w.shape == (21, 120, 2)
    g = np.argmin(np.linalg.norm(kp.k, axis=1))
    # at Γ: exactly the 4 states nearest E_D are surface states; bulk states have small weight
    order = np.argsort(np.abs(E[g] - E_DIRAC))
    assert np.all(w[g, order[:4]].sum(axis=1) > 0.8)
    assert np.all(w[g, order[4:12]].sum(axis=1) < 0.5)


# ---------------------------------------------------------------- acceptance 2: m_z and m_∥
def test_gap_linear_in_mz_with_surface_projected_g_factor(bulk):
    """Orbital-dependent Zeeman g1, g2: slope = g1(1 + r) + g2(1 − r), r = C1/M1."""
    g1, g2 = 1.0, 0.3
    sz = np.kron(np.diag([g1, g2]), np.diag([1.0, -1.0]))
    mz = np.linspace(0.001, 0.02, 5)
    sw = gap_vs_magnetization(bulk, mz, direction=2, n_layers=30, spin=[0 * sz, 0 * sz, sz],
                              n_surface_layers=5)
    assert sw.slope == pytest.approx(g1 * (1 + R_SPIN) + g2 * (1 - R_SPIN), rel=1e-3)
    assert sw.residual < 1e-6  # eV: linear
    # with the model's own spin τ0⊗σ the Γ surface states are s_z eigenstates: slope 2
    sw2 = gap_vs_magnetization(bulk, mz, direction=2, n_layers=30, n_surface_layers=5)
    assert sw2.slope == pytest.approx(2.0, abs=1e-9)


def test_gap_linear_in_mz_on_top_layers_only(bulk, thick):
    """m_z on the 3 top layers: linear top-surface gap with the slope of first-order
    (degenerate) perturbation theory in the 4-state Dirac subspace of the m = 0 slab."""
    top3 = range(27, 30)
    mz = np.linspace(0.001, 0.02, 5)
    sw = gap_vs_magnetization(bulk, mz, direction=2, n_layers=30, magnetic_layers=top3,
                              surface="top", n_surface_layers=5)
    E, _, V = surface_weights(thick, None, 5)
    near = np.argsort(np.abs(E[0] - E_DIRAC))[:4]
    mask = np.repeat(np.arange(30) >= 27, 4)
    dH = np.kron(np.eye(30), bulk.spin("z")) * np.outer(mask, mask)
    lam = np.linalg.eigvalsh(V[0][:, near].conj().T @ dH @ V[0][:, near])
    assert sw.slope == pytest.approx(lam.max() - lam.min(), rel=1e-2)
    assert sw.residual < 2e-5
    # the bottom surface stays gapless (up to the m = 0 hybridization)
    slab = thick.with_layer_onsite(exchange_on_layers(bulk, [0, 0, 0.02], top3))
    assert surface_gap(slab, surface="bottom", n_surface_layers=5).gap < 1e-3


def test_inplane_m_moves_the_cone_without_gap(bulk, thick):
    m = 0.02
    gz = surface_gap(thick.with_layer_onsite(exchange_on_layers(bulk, [0, 0, m])),
                     n_surface_layers=5).gap
    slab = thick.with_layer_onsite(exchange_on_layers(bulk, [m, 0, 0]))
    top = find_dirac_point(slab, surface="top", n_surface_layers=5)
    bot = find_dirac_point(slab, surface="bottom", n_surface_layers=5)
    assert top.gap < 0.02 * gz and bot.gap < 0.02 * gz
    shift = m * R_SPIN / V_DIRAC  # module docstring
    assert np.linalg.norm(top.k) == pytest.approx(shift, rel=2e-3)
    assert np.allclose(top.k, -bot.k, atol=1e-6)  # the two surfaces move oppositely
    assert abs(top.k[0]) < 1e-6  # m ∥ x moves the cone along y (k ⟂ m)
    # at Γ both cones are off-centre by the shift: an apparent splitting 2·v·|Δk|
    at_gamma = surface_gap(slab, n_surface_layers=5)
    assert at_gamma.gap == pytest.approx(2 * V_DIRAC * shift, rel=0.02)


def test_perpendicular_field_splits_the_two_dirac_points(bulk, thick):
    """U = +e·F·(z − z_c): to first order the top Dirac point rises by F·(<z>_top − z_c) and the
    bottom one falls by as much; <z> of the m = 0 surface states is computed here."""
    F = 0.002  # V/Å = 20 MV/m (1 V/Å = 10⁴ MV/m)
    slab = make_slab(bulk, direction=2, n_layers=30, gate_field=20.0)
    top = surface_gap(slab, surface="top", n_surface_layers=5).dirac_energy
    bot = surface_gap(slab, surface="bottom", n_surface_layers=5).dirac_energy
    E, _, V = surface_weights(thick, None, 5)
    near = np.argsort(np.abs(E[0] - E_DIRAC))[:4]
    z = np.real(np.diag(thick.model.operator("z")))
    # degenerate first-order PT in the four Dirac states (top and bottom are hybridized by
    # 0.3 meV ≪ the field splitting): the eigenvalues of z there are <z>_bottom, <z>_top
    P = V[0][:, near]
    zs = np.linalg.eigvalsh(P.conj().T @ (z[:, None] * P))
    assert top - bot == pytest.approx(F * (zs[2:].mean() - zs[:2].mean()), rel=0.02)
    assert top > bot  # the field along +n̂ raises the electron energy at the top


# ---------------------------------------------------------------- acceptance 3: thin films
def test_hybridization_gap_decays_exponentially():
    """Grid c = 1/3 QL so N = 3·n_QL; fit over n_QL = 2…10. The decay per QL must approach
    the slowest evanescent bulk solution at E_D (complex band structure, computed here)."""
    ql = 28.636 / 3  # Å, one quintuple layer of Bi2Se3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = bi2se3(c=ql / 3)
    sw = gap_vs_thickness(model, 3 * np.arange(2, 11), direction=2, n_surface_layers=3)
    assert np.all(np.diff(sw.gaps) < 0)
    assert sw.log_residual < 0.15  # ln(gap) is a straight line over 3 decades
    # complex band structure along z at k_par = 0, E = E_D: r = e^{i k_z c}
    R, H = model.R, model.hoppings
    h0 = H[R[:, 2] == 0].sum(axis=0)
    h1, hm = (H[np.all(R == [0, 0, s], axis=1)][0] for s in (1, -1))
    Z, one = np.zeros((4, 4)), np.eye(4)
    r = sla.eigvals(np.block([[Z, one], [-hm, -(h0 - E_DIRAC * one)]]),
                    np.block([[one, Z], [Z, h1]]))
    kappa_ql = -3 * np.log(np.max(np.abs(r[np.abs(r) < 1])))
    local = -np.log(sw.gaps[-1] / sw.gaps[-2])  # per QL between 9 and 10 QL
    assert local == pytest.approx(kappa_ql, rel=5e-3)
    assert sw.decay_per_layer * 3 == pytest.approx(kappa_ql, rel=0.1)  # whole-range fit
    assert sw.dirac_energies[-1] == pytest.approx(E_DIRAC, abs=1e-4)


def test_thin_film_sweep_default_surface_layers(bulk):
    """With the default (adaptive) surface thickness the pair is the hybridized Dirac pair for
    every N: the gap shrinks monotonically and stays below the bulk Γ gap 2|M0|, and the
    mid-gap energy approaches E_D from above (regression: a Kramers doublet or a far pair
    must never be taken)."""
    sw = gap_vs_thickness(bulk, range(4, 13), direction=2)
    assert np.all(np.diff(sw.gaps) < 0) and np.all(sw.gaps > 0)
    assert sw.gaps[0] < 2 * abs(M0)
    assert np.all(np.diff(sw.dirac_energies) < 0) and np.all(sw.dirac_energies > E_DIRAC)


# ---------------------------------------------------------------- acceptance 4: ribbons
def _crossings(ribbon, energy, ns, nk=401):
    """Independent count: sampled band crossings of ``energy`` per edge (forward, backward)."""
    b = 2 * np.pi * np.linalg.inv(ribbon.model.lattice).T[ribbon.model.periodic[0]]
    q = np.linspace(-0.5, 0.5, nk)
    E, w, _ = surface_weights(ribbon, q[:, None] * b[None, :], ns)
    up = (E[:-1] < energy) & (E[1:] >= energy)
    down = (E[:-1] >= energy) & (E[1:] < energy)
    wt = w[:-1]
    return [(int(np.sum(up & (wt[..., j] > 0.5))), int(np.sum(down & (wt[..., j] > 0.5))))
            for j in (0, 1)]


@pytest.mark.parametrize("make, chern_expected", [
    (lambda: qwz(-1.0), 1), (lambda: qwz(-3.0), 0),
    (lambda: haldane(t2=0.1, phi=np.pi / 2), -1), (lambda: haldane(t2=0.1, M=0.8), 0),
])
def test_chern_ribbons_one_chiral_mode_per_edge(make, chern_expected):
    model = make()
    C = chern_number(model, bands=1, mesh=48)
    assert round(C) == chern_expected and abs(C - round(C)) < 1e-6
    ribbon = make_slab(model, direction=1, n_layers=30)
    em = edge_modes(ribbon, 0.1)
    assert em.chirality == (round(C), -round(C))  # top edge: +C, bottom edge: −C
    assert em.bulk == 0
    assert sum(em.top) + sum(em.bottom) == 2 * abs(round(C))
    top, bottom = _crossings(ribbon, 0.1, 2)
    assert (top[0] - top[1], bottom[0] - bottom[1]) == em.chirality


@pytest.mark.parametrize("make, energy", [
    (lambda: kane_mele(), 0.05), (lambda: bhz(M=-0.1, D=0.0), 0.02),
])
def test_qsh_ribbons_helical_edges(make, energy):
    ribbon = make_slab(make(), direction=1, n_layers=40)
    em = edge_modes(ribbon, energy, 4)
    assert em.top == (1, 1) and em.bottom == (1, 1) and em.bulk == 0
    top, bottom = _crossings(ribbon, energy, 4)
    assert top == (1, 1) and bottom == (1, 1)


# ---------------------------------------------------------------- acceptance 5: Wannier Bi2Se3
@pytest.fixture(scope="module")
def wannier_bi2se3(tmp_path_factory):
    folder = data_folder("bi2se3_wanniertools")
    dest = tmp_path_factory.mktemp("bi2se3_slab")
    with tarfile.open(folder / HR_ARCHIVE) as tar:
        tar.extractall(dest, filter="data")
    from tbspin.io.wannier90 import read_wannier90

    lattice = [[-2.069, -3.583614, 0.0], [2.069, -3.583614, 0.0], [0.0, 2.389075, 9.546667]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no centres file: positions at the origin
        return read_wannier90(dest / "wannier90_hr.dat", lattice=lattice, spin_order="block")


def test_wannier_bi2se3_slab_surface_dirac_cone(wannier_bi2se3):
    """8 QL along c: a Dirac cone at Γ̄ inside the bulk gap, on the outer QLs (README: 18
    occupied WFs, E_F = 4.4195 eV)."""
    slab = make_slab(wannier_bi2se3, direction=2, n_layers=8)
    g = surface_gap(slab, n_surface_layers=1, n_occupied=18)
    assert g.gap < 1e-4
    assert g.in_bulk_gap
    assert g.bulk_edges[1] - g.bulk_edges[0] > 0.3  # Bi2Se3: bulk gap ~0.3 eV or more
    assert np.all(g.weights.sum(axis=1) > 0.7)  # 70% on the outermost QL of each side
    # linear cone: the splitting doubles when k doubles (k along Γ̄–M̄)
    m_dir = slab.k_cartesian([[0.5, 0.0]])[0]
    m_dir /= np.linalg.norm(m_dir)
    splits = []
    for q in (0.01, 0.02):
        E, w, _ = surface_weights(slab, q * m_dir, 1)
        near = np.sort(np.argsort(np.abs(E[0] - g.dirac_energy))[:4])
        assert np.all(w[0, near].sum(axis=1) > 0.6)
        splits.append(E[0, near[2:]].mean() - E[0, near[:2]].mean())
    assert splits[1] / splits[0] == pytest.approx(2.0, rel=0.05)
    # out-of-plane exchange m·s_z on every layer (spin from the block spinor order): the gap
    # is linear in m_z with the slope of first-order degenerate perturbation theory in the
    # four Dirac states of the m = 0 slab (the surface states' s_z content, < 1 with SOC);
    # the gap around neutrality is the inner splitting λ2 − λ1 (in an 8-QL film the two
    # surfaces still mix, so |λ| takes two values 1% apart)
    sw = gap_vs_magnetization(wannier_bi2se3, [0.005, 0.01, 0.02], direction=2, n_layers=8,
                              n_surface_layers=1, n_occupied=18)
    E, _, V = surface_weights(slab, None, 1)
    P = V[0][:, np.argsort(np.abs(E[0] - g.dirac_energy))[:4]]
    lam = np.linalg.eigvalsh(P.conj().T @ np.kron(np.eye(8), wannier_bi2se3.spin("z")) @ P)
    assert sw.slope == pytest.approx(lam[2] - lam[1], rel=1e-3)
    assert sw.residual < 1e-6 and 0 < sw.slope < 2


# ---------------------------------------------------------------- figures and CLI
def test_figures_and_cli(tmp_path, thick, bulk):
    import matplotlib.pyplot as plt

    kp = thick.kpath(npoints=30)
    fig = plot_slab_bands(thick, kp, n_surface_layers=5, save=str(tmp_path / "b.png"))
    assert (tmp_path / "b.png").stat().st_size > 0
    plt.close(fig)
    sw = gap_vs_magnetization(bulk, [0.005, 0.01], direction=2, n_layers=20, n_surface_layers=4)
    plt.close(plot_gap_vs_magnetization({"all layers": sw}, save=str(tmp_path / "m.png")))
    sn = gap_vs_thickness(bulk, [4, 6, 8], direction=2)
    plt.close(plot_gap_vs_thickness(sn, save=str(tmp_path / "n.png")))
    assert (tmp_path / "m.png").exists() and (tmp_path / "n.png").exists()
    out = run_slab(["--model", "qwz", "--direction", "1", "--n-layers", "16",
                    "--npoints", "40", "--out", str(tmp_path / "cli"),
                    "--sweep-layers", "4", "6"])
    assert (tmp_path / "cli" / "slab_bands.png").exists()
    summary = (tmp_path / "cli" / "summary.txt").read_text()
    assert "surface gap" in summary and "2nd lattice vector a2" in summary
    # the reported pair are eigenvalues of the ribbon built independently by Kwant (Builder.fill
    # + kwant.physics.Bands at q = 0), and the gap is their difference
    ribbon = make_slab(qwz(), direction=1, n_layers=16)
    ek = kwant_bands(ribbon, [0.0])[0]
    g = out["gap"]
    np.testing.assert_allclose(g.energies, ek[g.indices], atol=1e-10)
    assert g.gap == pytest.approx(ek[g.indices[1]] - ek[g.indices[0]], abs=1e-10)
    # m_z on every layer of a 30-layer Bi2Se3 slab: at k∥ = 0 the Hamiltonian has only τ0, τz
    # and k_z τx⊗σz terms (module docstring of models/bi2se3.py), all commuting with s_z = τ0⊗σz,
    # so every level moves by exactly ±m_z. The m = 0 Dirac doublets sit at E_D ± δ/2 (δ the
    # hybridization of the two surfaces); for m_z > δ/2 the middle gap is 2 m_z − δ exactly.
    mz = 0.01
    out_m = run_slab(["--model", "bi2se3", "--n-layers", "30", "--surface-layers", "5",
                      "--m", "0", "0", str(mz), "--npoints", "10", "--out", str(tmp_path / "m")])
    delta = surface_gap(make_slab(bulk, direction=2, n_layers=30), n_surface_layers=5).gap
    assert 0 < delta < mz
    assert out_m["gap"].gap == pytest.approx(2 * mz - delta, abs=1e-9)
    # through the real command line: m_z on the 2 top layers of a Bi2Se3 slab
    from tbspin.cli.app import main

    assert main(["slab", "--model", "bi2se3", "--layers", "20", "--surface-layers", "4",
                 "--m", "0", "0", "0.01", "--magnetic-top", "2", "--npoints", "20",
                 "--sweep-mz", "0.005", "0.01", "2", "--out", str(tmp_path / "cli2")]) == 0
    assert (tmp_path / "cli2" / "gap_vs_mz.png").exists()
