"""Tests of the PythTB and Kwant adapters (tbspin.adapters).

Sources of truth used below:
* PythTB's own Bloch Hamiltonian, rebuilt in the test from its public eigenpairs
  (``solve_one(k, eig_vectors=True)``: H = V diag(E) V†);
* Kwant's own ``kwant.wraparound.wraparound(builder).finalized().hamiltonian_submatrix``;
* closed-form lattice Hamiltonians derived in the tests (Haldane, graphene, lattice-regularised
  QWZ from kwant.continuum's central finite differences).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tbspin import LatticeModel, ModelError

pythtb = pytest.importorskip("pythtb")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # "MUMPS is not available"
    pytest.importorskip("kwant")
    import kwant  # noqa: E402
    import kwant.continuum  # noqa: E402
    import kwant.wraparound  # noqa: E402

from tbspin.adapters.kwant import (  # noqa: E402
    from_kwant,
    kwant_k_phases,
    kwant_orbital_order,
    to_kwant,
)
from tbspin.adapters.pythtb import from_pythtb, to_pythtb  # noqa: E402

SQ3 = np.sqrt(3.0)
PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)


# ---------------------------------------------------------------------- helpers
def pythtb_h(tb, k_reduced):
    """PythTB's own H(k) from its public eigenpairs: H = Σ_n E_n |v_n><v_n|."""
    out = []
    for k in np.atleast_2d(k_reduced):
        evals, evecs = tb.solve_one(k, eig_vectors=True)
        V = evecs.reshape(len(evals), -1).T  # columns = eigenvectors, (orbital, spin) order
        out.append((V * evals) @ V.conj().T)
    return np.array(out)


def reduced_to_cart(model, k_reduced):
    return np.atleast_2d(k_reduced) @ model.reciprocal[list(model.periodic)]


def haldane_pythtb(delta=0.2, t=-1.0, t2=0.15, phi=0.5 * np.pi):
    """Haldane model built with PythTB's own API (as in PythTB's haldane example)."""
    tb = pythtb.tb_model(2, 2, [[1.0, 0.0], [0.5, SQ3 / 2]], [[1 / 3, 1 / 3], [2 / 3, 2 / 3]])
    tb.set_onsite([-delta, delta])
    for lv in ([0, 0], [-1, 0], [0, -1]):
        tb.set_hop(t, 0, 1, lv)
    tc = t2 * np.exp(1j * phi)
    for lv in ([1, 0], [-1, 1], [0, -1]):
        tb.set_hop(tc, 0, 0, lv)
    for lv in ([-1, 0], [1, -1], [0, 1]):
        tb.set_hop(tc, 1, 1, lv)
    return tb


def kane_mele_pythtb(lam_so=0.06, lam_r=0.05, m=(0.03, -0.02, 0.04), esite=0.1):
    """Kane–Mele model with Rashba coupling and exchange field, PythTB nspin=2 API."""
    lat = [[1.0, 0.0], [0.5, SQ3 / 2]]
    tb = pythtb.tb_model(2, 2, lat, [[1 / 3, 1 / 3], [2 / 3, 2 / 3]], nspin=2)
    tb.set_onsite([[esite, *m], [-esite, *m]])  # (I, σx, σy, σz) coefficients
    latv = np.array(lat)
    tau = np.array([1 / 3, 1 / 3]) @ latv, np.array([2 / 3, 2 / 3]) @ latv
    for lv in ([0, 0], [-1, 0], [0, -1]):
        dr = np.array(lv) @ latv + tau[1] - tau[0]
        # Rashba: i λ_R (σ × d̂)_z = i λ_R (σx d_y − σy d_x)
        dhat = dr / np.linalg.norm(dr)
        tb.set_hop([1.0, 1j * lam_r * dhat[1], -1j * lam_r * dhat[0], 0.0], 0, 1, lv)
    for lv in ([1, 0], [-1, 1], [0, -1]):
        tb.set_hop([0, 0, 0, 1j * lam_so], 0, 0, lv)
        tb.set_hop([0, 0, 0, -1j * lam_so], 1, 1, lv)
    return tb


def random_model(rng, d=3, n=3, convention="positions"):
    """A generic model: complex hoppings on several R, orbitals partly at the same position."""
    lat = np.eye(d) * 2.5 + 0.3 * rng.normal(size=(d, d))
    if np.linalg.det(lat) < 0:
        lat[0] *= -1
    red = rng.uniform(0, 1, size=(n, d))
    red[2] = red[0]  # orbitals 0 and 2 share a site: Kwant gets one site with norbs=2
    hops = {}
    shifts = [tuple(int(x) for x in r) for r in np.eye(d, dtype=int)] + [(1,) * d, (0,) * d]
    for r in shifts:
        h = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        hops[r] = (h + h.conj().T) / 2 if not any(r) else h
    return LatticeModel(
        lattice=lat, positions_reduced=red, hoppings=hops, complete_hermitian=True,
        convention=convention, name="random",
    )


# ---------------------------------------------------------------------- PythTB
def test_haldane_from_pythtb_matches_pythtb_h_and_closed_form():
    """Haldane via PythTB == PythTB's own H(κ) == closed form, in the 'positions' convention."""
    rng = np.random.default_rng(1)
    delta, t, t2, phi = 0.2, -1.0, 0.15, 0.5 * np.pi
    tb = haldane_pythtb(delta, t, t2, phi)
    model = from_pythtb(tb, check=False)
    kred = rng.uniform(-1, 1, size=(6, 2))
    k = reduced_to_cart(model, kred)
    H = model.hamiltonian(k)
    np.testing.assert_allclose(H, pythtb_h(tb, kred), atol=1e-12, rtol=0)

    # closed form (derived here): τ_0 = (a1+a2)/3, τ_1 = 2(a1+a2)/3
    a = model.lattice
    d1 = np.array([[0, 0], [-1, 0], [0, -1]]) @ a + (a[0] + a[1]) / 3  # R + τ_1 − τ_0
    s1 = np.array([[1, 0], [-1, 1], [0, -1]]) @ a
    f = t * np.exp(1j * k @ d1.T).sum(1)
    g = 2 * t2 * np.cos(k @ s1.T + phi).sum(1)  # Σ (t2 e^{iφ} e^{ik·s} + c.c.)
    g2 = 2 * t2 * np.cos(-(k @ s1.T) + phi).sum(1)
    expect = np.zeros_like(H)
    expect[:, 0, 0], expect[:, 1, 1] = -delta + g, delta + g2
    expect[:, 0, 1], expect[:, 1, 0] = f, f.conj()
    np.testing.assert_allclose(H, expect, atol=1e-12, rtol=0)

    # the convention really is "positions": the "cell" H(k) differs off the diagonal
    Hcell = model.replace(convention="cell").hamiltonian(k)
    assert np.max(np.abs(Hcell - pythtb_h(tb, kred))) > 0.1


def test_kane_mele_nspin2_interleaved_order_and_spin_operators():
    """Spinful PythTB model: H(κ) equals PythTB's; Pauli operators match PythTB's σ convention."""
    rng = np.random.default_rng(2)
    m = np.array([0.03, -0.02, 0.04])
    tb = kane_mele_pythtb(m=tuple(m))
    model = from_pythtb(tb)
    assert model.n_orbitals == 4 and model.has_spin
    kred = rng.uniform(-1, 1, size=(6, 2))
    H = model.hamiltonian(reduced_to_cart(model, kred))
    np.testing.assert_allclose(H, pythtb_h(tb, kred), atol=1e-12, rtol=0)
    # interleaved order: orbitals 2i, 2i+1 sit at PythTB orbital i
    np.testing.assert_allclose(model.positions_reduced, np.repeat(tb.get_orb(), 2, axis=0))
    # PythTB's onsite [e, mx, my, mz] is e + m·σ: the R=0 block of orbital 0 must be e + m·s
    H0 = model.hoppings[np.nonzero(~model.R.any(1))[0][0]]
    ms = sum(m[i] * model.spin(i) for i in range(3))
    np.testing.assert_allclose(H0[:2, :2], 0.1 * np.eye(2) + ms[:2, :2], atol=1e-15)
    np.testing.assert_allclose(model.spin("z"), np.kron(np.eye(2), PAULI[2]))

    # physics: without Rashba and exchange the Kane–Mele model conserves s_z
    km = from_pythtb(kane_mele_pythtb(lam_r=0.0, m=(0, 0, 0)))
    Hk = km.hamiltonian(reduced_to_cart(km, kred))
    sz = km.spin("z")
    assert np.max(np.abs(Hk @ sz - sz @ Hk)) < 1e-14
    # ... and with Rashba it does not (so the check above can fail)
    assert np.max(np.abs(H @ model.spin("z") - model.spin("z") @ H)) > 1e-2


def test_conjugate_pair_stored_twice_is_summed_like_pythtb():
    """allow_conjugate_pair=True: PythTB counts both terms; so must we (vs PythTB's H)."""
    tb = pythtb.tb_model(1, 1, [[1.3]], [[0.0], [0.4]])
    tb.set_onsite([0.3, -0.2])
    tb.set_hop(0.7 + 0.1j, 0, 1, [1])
    tb.set_hop(0.25 - 0.4j, 1, 0, [-1], allow_conjugate_pair=True)
    tb.set_hop(0.1j, 0, 0, [1])
    tb.set_hop(0.05, 0, 0, [-2])
    model = from_pythtb(tb, check=False)
    kred = np.linspace(-1, 1, 7)[:, None]
    np.testing.assert_allclose(
        model.hamiltonian(reduced_to_cart(model, kred)), pythtb_h(tb, kred), atol=1e-12, rtol=0
    )


def test_ribbon_dim_k_less_than_dim_r_maps_to_periodic():
    """A Haldane ribbon made by PythTB's cut_piece (dim_k=1, dim_r=2) vs PythTB's own H(κ)."""
    ribbon = haldane_pythtb().cut_piece(4, 1, glue_edgs=False)
    model = from_pythtb(ribbon, check=False)
    assert model.periodic == (0,) and model.n_orbitals == 8
    kred = np.random.default_rng(3).uniform(-1, 1, size=(5, 1))
    np.testing.assert_allclose(
        model.hamiltonian(reduced_to_cart(model, kred)), pythtb_h(ribbon, kred),
        atol=1e-12, rtol=0,
    )
    back = from_pythtb(to_pythtb(model))
    assert back.periodic == (0,)
    k = reduced_to_cart(model, kred)
    np.testing.assert_allclose(back.hamiltonian(k), model.hamiltonian(k), atol=1e-12, rtol=0)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_lattice_model_pythtb_round_trip(d):
    """LatticeModel -> PythTB -> LatticeModel keeps H(k) (1e-12) and PythTB agrees with it."""
    rng = np.random.default_rng(10 + d)
    model = random_model(rng, d=d)
    tb = to_pythtb(model)
    back = from_pythtb(tb)
    k = rng.normal(size=(8, d))
    np.testing.assert_allclose(back.hamiltonian(k), model.hamiltonian(k), atol=1e-12, rtol=0)
    np.testing.assert_allclose(back.positions, model.positions, atol=1e-12)
    kred = rng.uniform(-1, 1, size=(3, d))
    np.testing.assert_allclose(
        pythtb_h(tb, kred), model.hamiltonian(reduced_to_cart(model, kred)), atol=1e-12, rtol=0
    )


def test_spinful_round_trip_keeps_spin_and_cell_models_export_physically():
    rng = np.random.default_rng(5)
    model = from_pythtb(kane_mele_pythtb())
    tb = to_pythtb(model)  # interleaved Pauli spin detected -> nspin=2
    back = from_pythtb(tb)
    assert back.has_spin
    k = rng.normal(size=(5, 2))
    np.testing.assert_allclose(back.hamiltonian(k), model.hamiltonian(k), atol=1e-12, rtol=0)
    for s in ("sx", "sy", "sz"):
        np.testing.assert_array_equal(back.operators[s], model.operators[s])
    # a "cell"-convention model exports the same physical hoppings: PythTB then gives the
    # "positions" H(k) of the same model
    cell = random_model(rng, d=2, convention="cell")
    kred = rng.uniform(-1, 1, size=(3, 2))
    np.testing.assert_allclose(
        pythtb_h(to_pythtb(cell), kred),
        cell.replace(convention="positions").hamiltonian(reduced_to_cart(cell, kred)),
        atol=1e-12, rtol=0,
    )


def test_pythtb_bad_input():
    with pytest.raises(ModelError, match="block"):
        from_pythtb(kane_mele_pythtb(), spin_order="block")
    with pytest.raises(ModelError, match="even number"):
        from_pythtb(pythtb.tb_model(1, 1, [[1.0]], [[0.0], [0.1], [0.2]]), spin_order="interleaved")
    with pytest.raises(ModelError, match="different positions"):
        from_pythtb(haldane_pythtb(), spin_order="interleaved")
    with pytest.raises(ModelError, match="tb_model"):
        from_pythtb(object())
    with pytest.raises(ModelError, match="same position"):
        to_pythtb(random_model(np.random.default_rng(0), d=2, n=4), nspin=2)


def test_pythtb_spin_block_for_hand_doubled_model():
    """nspin=1 model whose orbitals are (orb↑, orb↓) blocks: spin_order='block' gives σ ⊗ 1."""
    tb = pythtb.tb_model(1, 1, [[1.0]], [[0.0], [0.5], [0.0], [0.5]])
    tb.set_onsite([0.1, 0.2, 0.1, 0.2])
    tb.set_hop(1.0, 0, 1, [0])
    tb.set_hop(1.0, 2, 3, [0])
    model = from_pythtb(tb, spin_order="block")
    np.testing.assert_allclose(model.spin("x"), np.kron(PAULI[0], np.eye(2)))
    with pytest.warns(DeprecationWarning, match="spin_order"):  # the old parameter name
        old = from_pythtb(tb, spin="block")
    np.testing.assert_array_equal(old.spin("x"), model.spin("x"))
    with pytest.raises(ValueError, match="spin_order"):
        from_pythtb(tb, spin_order="up-down")
    Hk = model.hamiltonian(np.array([[0.3], [1.1]]))
    sz = model.spin("z")
    assert np.max(np.abs(Hk @ sz - sz @ Hk)) < 1e-15  # spin-diagonal model


# ---------------------------------------------------------------------- Kwant
def kwant_wrapped_h(builder, model, k, params=None):
    """Kwant's own H(k): wraparound + finalize + hamiltonian_submatrix (k-phases k·a_i)."""
    fsyst = kwant.wraparound.wraparound(builder).finalized()
    names = ("k_x", "k_y", "k_z")
    phases = kwant_k_phases(model, k)
    out = []
    for ph in phases:
        p = dict(params or {})
        p.update({names[i]: ph[i] for i in range(len(ph))})
        out.append(fsyst.hamiltonian_submatrix(params=p))
    # orbital order of the finalized system: its sites in order, orbitals consecutive
    return np.array(out), fsyst


@pytest.mark.parametrize("d", [1, 2, 3])
def test_to_kwant_matches_kwant_wraparound_and_round_trips(d):
    rng = np.random.default_rng(20 + d)
    model = random_model(rng, d=d)
    builder, order = to_kwant(model, return_order=True)
    np.testing.assert_array_equal(order, kwant_orbital_order(model))
    np.testing.assert_array_equal(order, [0, 2, 1])  # orbitals 0 and 2 share a site
    norbs = [s.family.norbs for s in builder.sites()]
    assert norbs == [2, 1]

    k = rng.normal(size=(6, d))
    Hk, fsyst = kwant_wrapped_h(builder, model, k)
    # map finalized-system orbitals to the Builder's site order
    f_off = np.cumsum([0] + [s.family.norbs for s in fsyst.sites])
    perm = np.concatenate(
        [f_off[fsyst.id_by_site[s]] + np.arange(s.family.norbs) for s in builder.sites()]
    )
    Hk = Hk[:, perm][:, :, perm]
    Hcell = model.replace(convention="cell").hamiltonian(k)[:, order][:, :, order]
    np.testing.assert_allclose(Hk, Hcell, atol=1e-12, rtol=0)

    back = from_kwant(builder)
    H = model.hamiltonian(k)[:, order][:, :, order]
    np.testing.assert_allclose(back.hamiltonian(k), H, atol=1e-12, rtol=0)
    np.testing.assert_allclose(back.positions, model.positions[order], atol=1e-12)
    np.testing.assert_allclose(back.lattice, model.lattice)


def test_qwz_continuum_template_reproduces_lattice_dispersion():
    """kwant.continuum QWZ template -> from_kwant == central-difference lattice form (1e-12).

    Discretising k -> sin(k a)/a and k² -> (2 − 2 cos(k a))/a² (kwant.continuum's second-order
    central differences) gives H = d·σ with d_x = A sin(k_x a)/a, d_y = A sin(k_y a)/a,
    d_z = m + B (4 − 2 cos k_x a − 2 cos k_y a)/a².
    """
    a = 0.7
    params = dict(A=0.9, B=-1.3, m=0.4)
    template = kwant.continuum.discretize(
        "(m + B*(k_x**2 + k_y**2))*sigma_z + A*(k_x*sigma_x + k_y*sigma_y)", grid=a
    )
    model = from_kwant(template, params=params, name="qwz")
    assert model.n_orbitals == 2
    np.testing.assert_allclose(model.lattice, a * np.eye(2))
    k = np.random.default_rng(7).uniform(-np.pi / a, np.pi / a, size=(9, 2))
    cx, cy = np.cos(k[:, 0] * a), np.cos(k[:, 1] * a)
    dx = params["A"] * np.sin(k[:, 0] * a) / a
    dy = params["A"] * np.sin(k[:, 1] * a) / a
    dz = params["m"] + params["B"] * (4 - 2 * cx - 2 * cy) / a**2
    expect = np.einsum("ki,iab->kab", np.stack([dx, dy, dz], 1), PAULI)
    np.testing.assert_allclose(model.hamiltonian(k), expect, atol=1e-12, rtol=0)
    E = np.linalg.eigvalsh(model.hamiltonian(k))
    np.testing.assert_allclose(E[:, 1], np.sqrt(dx**2 + dy**2 + dz**2), atol=1e-12)


def test_hand_built_graphene_builder_with_callables():
    """Graphene Builder with callable values and params vs the closed form f(k) = t Σ e^{ik·δ}."""
    graphene = kwant.lattice.honeycomb(a=1.42 * SQ3, norbs=1)
    A, B = graphene.sublattices
    sym = kwant.TranslationalSymmetry(*graphene.prim_vecs)
    syst = kwant.Builder(sym)

    def onsite(site, delta):
        return delta if site.family == A else -delta

    def hop(site1, site2, t):
        return t

    syst[A(0, 0)] = onsite
    syst[B(0, 0)] = onsite
    syst[graphene.neighbors()] = hop
    t, delta = -2.7, 0.3
    model = from_kwant(syst, params=dict(t=t, delta=delta))
    order = [list(syst.sites()).index(A(0, 0)), list(syst.sites()).index(B(0, 0))]
    pos = model.positions[order]
    deltas = []  # the three nearest-neighbour vectors from A to B, found geometrically
    for n1 in (-1, 0, 1):
        for n2 in (-1, 0, 1):
            v = pos[1] + np.array([n1, n2]) @ model.lattice - pos[0]
            if np.isclose(np.linalg.norm(v), 1.42):
                deltas.append(v)
    assert len(deltas) == 3
    k = np.random.default_rng(8).normal(size=(7, 2))
    f = t * np.exp(1j * k @ np.array(deltas).T).sum(1)
    H = model.hamiltonian(k)[:, order][:, :, order]
    np.testing.assert_allclose(H[:, 0, 1], f, atol=1e-12, rtol=0)
    np.testing.assert_allclose(H[:, 0, 0], delta, atol=1e-12)
    np.testing.assert_allclose(H[:, 1, 1], -delta, atol=1e-12)
    # and the same Builder evaluated by Kwant's own wraparound (cell convention)
    Hk, fsyst = kwant_wrapped_h(syst, model, k, params=dict(t=t, delta=delta))
    fperm = [fsyst.id_by_site[s] for s in syst.sites()]
    Hcell = model.replace(convention="cell").hamiltonian(k)
    np.testing.assert_allclose(Hk[:, fperm][:, :, fperm], Hcell, atol=1e-12, rtol=0)


@pytest.mark.filterwarnings("ignore:Not specfying norbs")
def test_kwant_bad_input():
    sq = kwant.lattice.square(1.0, norbs=1)
    no_sym = kwant.Builder()
    no_sym[sq(0, 0)] = 1.0
    with pytest.raises(ValueError, match="no translational symmetry"):
        from_kwant(no_sym)

    lead_like = kwant.Builder(kwant.TranslationalSymmetry((1.0, 0.0)))
    lead_like[sq(0, 0)] = 1.0
    with pytest.raises(ValueError, match="full translational symmetry"):
        from_kwant(lead_like)

    bare = kwant.lattice.square(1.0)  # norbs missing
    syst = kwant.Builder(kwant.TranslationalSymmetry(*bare.prim_vecs))
    syst[bare(0, 0)] = 1.0
    syst[bare.neighbors()] = -1.0
    with pytest.raises(ValueError, match="norbs"):
        from_kwant(syst)

    with pytest.raises(ValueError, match="before .finalized"):
        from_kwant(no_sym.finalized())
    with pytest.raises(ValueError, match="kwant.Builder"):
        from_kwant("not a system")

    ok = kwant.Builder(kwant.TranslationalSymmetry(*sq.prim_vecs))
    ok[sq(0, 0)] = 1.0
    with pytest.raises(ValueError, match="k_x"):
        from_kwant(ok, params=dict(k_x=0.1))


def test_supercell_symmetry_folds_square_lattice_bands():
    """2×2 supercell symmetry on a square lattice: bands are ε(k + G_sc) folded (exact).

    Nearest-neighbour square lattice ε(k) = −2t (cos k_x a + cos k_y a); with periods 2a the
    four bands at k are ε(k + π/a (m, n)), m, n ∈ {0, 1}.
    """
    a, t = 1.1, 0.8
    sq = kwant.lattice.square(a, norbs=1)
    syst = kwant.Builder(kwant.TranslationalSymmetry((2 * a, 0), (0, 2 * a)))
    for i in range(2):
        for j in range(2):
            syst[sq(i, j)] = 0.0
    syst[sq.neighbors()] = -t
    model = from_kwant(syst)
    assert model.n_orbitals == 4
    k = np.random.default_rng(9).normal(size=(6, 2))
    shifts = np.pi / a * np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    kk = k[:, None, :] + shifts[None]
    folded = np.sort(-2 * t * (np.cos(kk[..., 0] * a) + np.cos(kk[..., 1] * a)), axis=1)
    np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(k)), folded, atol=1e-12)


def test_lattice_model_doors_use_the_adapters():
    """LatticeModel.from_pythtb / to_pythtb / from_kwant / to_kwant give the same models."""
    rng = np.random.default_rng(11)
    model = random_model(rng, d=2)
    k = rng.normal(size=(4, 2))
    via_door = LatticeModel.from_pythtb(model.to_pythtb())
    np.testing.assert_allclose(via_door.hamiltonian(k), model.hamiltonian(k), atol=1e-12, rtol=0)
    order = kwant_orbital_order(model)
    via_kwant = LatticeModel.from_kwant(model.to_kwant())
    np.testing.assert_allclose(
        via_kwant.hamiltonian(k), model.hamiltonian(k)[:, order][:, :, order], atol=1e-12, rtol=0
    )


def test_from_kwant_keeps_all_directions_periodic_for_decoupled_chains():
    """Chains along x stacked along y (no y hopping): still a 2D bulk, ε = −2t cos(k_x a)."""
    a, t = 1.0, 0.5
    sq = kwant.lattice.square(a, norbs=1)
    syst = kwant.Builder(kwant.TranslationalSymmetry(*sq.prim_vecs))
    syst[sq(0, 0)] = 0.0
    syst[sq(0, 0), sq(1, 0)] = -t
    model = from_kwant(syst)
    assert model.periodic == (0, 1)
    k = np.random.default_rng(12).normal(size=(5, 2))
    np.testing.assert_allclose(model.hamiltonian(k)[:, 0, 0], -2 * t * np.cos(k[:, 0] * a),
                               atol=1e-12)
