"""k·p → lattice regularization (tbspin.continuum.kp) and the band checks (tbspin.bz.spectrum)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy

from tbspin import LatticeModel, ModelError
from tbspin.continuum.kp import (
    KPModel,
    RegularizationWarning,
    band_gap,
    band_inversions,
    regularize,
    z2_parity,
)

warnings.filterwarnings("ignore", message="MUMPS is not available")

RNG = np.random.default_rng(20231195)


def test_discretization_closed_forms_anisotropic_3d():
    # Expected: kwant.continuum's finite differences are k->sin(ka)/a, k^2->2(1-cos ka)/a^2,
    # k_i k_j -> sin sin/(a_i a_j); the closed forms are evaluated here independently.
    ax, ay, az = 1.3, 0.7, 2.1
    kp = KPModel(
        "A*k_x + B*k_y**2 + C*k_x*k_z + D*k_z**2 + E*k_y*k_z",
        params=dict(A=1.7, B=-0.9, C=0.4, D=2.3, E=-1.1), spacing=(ax, ay, az),
    )
    m = kp.lattice_model()
    assert m.dim == 3 and np.allclose(m.lattice, np.diag([ax, ay, az]))
    k = RNG.normal(size=(50, 3)) * 1.5
    kx, ky, kz = k.T
    s = lambda q, a: np.sin(q * a) / a  # noqa: E731
    c2 = lambda q, a: 2 * (1 - np.cos(q * a)) / a**2  # noqa: E731
    expect = (
        1.7 * s(kx, ax) - 0.9 * c2(ky, ay) + 0.4 * s(kx, ax) * s(kz, az) + 2.3 * c2(kz, az)
        - 1.1 * s(ky, ay) * s(kz, az)
    )
    assert np.allclose(m.hamiltonian(k)[:, 0, 0], expect, atol=1e-12, rtol=0)
    # dH/dk of the lattice model is the derivative of the closed form (checked by central FD)
    h = 1e-6
    _, dH = m.hamiltonian_and_derivatives(k, "x")
    fd = (m.hamiltonian(k + [h, 0, 0]) - m.hamiltonian(k - [h, 0, 0])) / (2 * h)
    assert np.allclose(dH[0], fd, atol=1e-7)


def test_matrix_model_pauli_structure_and_sympy_input():
    # Expected: QWZ closed form sin kx σx + sin ky σy + (u + cos kx + cos ky) σz for A = 1,
    # B = 1/2, M = u + 2 (a = 1); a sympy Matrix in commutative k symbols gives the same model.
    u = -0.6
    s = "A*(k_x*sigma_x + k_y*sigma_y) + (M - B*(k_x**2 + k_y**2))*sigma_z"
    params = dict(A=1.0, B=0.5, M=u + 2)
    m1 = regularize(s, params=params)
    kx_, ky_, A, B, M = sympy.symbols("k_x k_y A B M")
    mat = sympy.Matrix([
        [M - B * (kx_**2 + ky_**2), A * (kx_ - sympy.I * ky_)],
        [A * (kx_ + sympy.I * ky_), -(M - B * (kx_**2 + ky_**2))],
    ])
    m2 = regularize(mat, params=params)
    k = RNG.uniform(-np.pi, np.pi, size=(40, 2))
    kx, ky = k.T
    dz = u + np.cos(kx) + np.cos(ky)
    expect = np.stack([
        np.stack([dz, np.sin(kx) - 1j * np.sin(ky)], -1),
        np.stack([np.sin(kx) + 1j * np.sin(ky), -dz], -1),
    ], -2)
    assert np.allclose(m1.hamiltonian(k), expect, atol=1e-12)
    assert np.allclose(m2.hamiltonian(k), expect, atol=1e-12)


@pytest.mark.parametrize("spacing0", [2.0, 1.0])
def test_continuum_limit_is_second_order(spacing0):
    # Expected: the regularization error at fixed k is O(a^2) (Taylor series of sin, cos),
    # so halving a divides it by 4 (ratio -> 4 as a -> 0).
    ham = (
        "(C - D*(k_x**2 + k_y**2 + k_z**2))*kron(sigma_0, sigma_0) + A*(k_x*kron(sigma_x, sigma_x)"
        " + k_y*kron(sigma_x, sigma_y) + k_z*kron(sigma_x, sigma_z))"
        " + (M - B*(k_x**2 + k_y**2) - F*k_z**2)*kron(sigma_z, sigma_0)"
    )
    params = dict(A=3.0, B=-40.0, C=0.01, D=20.0, M=-0.3, F=-7.0)
    k = RNG.normal(size=(20, 3)) * 0.05
    errs = []
    for a in (spacing0, spacing0 / 2, spacing0 / 4):
        kp = KPModel(ham, params=params, spacing=(a, a, 1.3 * a))
        Hl = kp.lattice_model().hamiltonian(k)
        Hc = kp.continuum_hamiltonian(k)
        errs.append(np.max(np.abs(Hl - Hc)))
    assert errs[0] > 1e-6  # not trivially equal
    assert errs[0] / errs[1] == pytest.approx(4.0, rel=0.03)
    assert errs[1] / errs[2] == pytest.approx(4.0, rel=0.01)


def test_continuum_hamiltonian_exact():
    # Expected: the k·p polynomial evaluated by hand.
    kp = KPModel("a1*k_x**3*sigma_z + a2*k_x*k_y*sigma_x + c*sigma_0", params=dict(a1=2.0, a2=-3.0, c=0.5),
                 dim=2)
    k = RNG.normal(size=(7, 2))
    H = kp.continuum_hamiltonian(k)
    kx, ky = k.T
    assert np.allclose(H[:, 0, 0], 2 * kx**3 + 0.5)
    assert np.allclose(H[:, 1, 1], -2 * kx**3 + 0.5)
    assert np.allclose(H[:, 0, 1], -3 * kx * ky)


def test_magnetization_equals_with_zeeman_and_operators_carried():
    # Expected: the m·s term of KPModel is exactly LatticeModel.with_zeeman(m).
    sx = np.array([[0, 1], [1, 0]])
    sy = np.array([[0, -1j], [1j, 0]])
    sz = np.diag([1.0, -1.0])
    ops = dict(sx=sx, sy=sy, sz=sz)
    ham = "C*(k_x**2 + k_y**2)*sigma_0 + alpha*(k_x*sigma_y - k_y*sigma_x)"
    params = dict(C=50.0, alpha=0.1)
    mvec = (0.003, -0.002, 0.001)
    with_m = KPModel(ham, params=params, spacing=4.0, operators=ops, magnetization=mvec)
    base = KPModel(ham, params=params, spacing=4.0, operators=ops).lattice_model()
    ref = base.with_zeeman(mvec)
    lm = with_m.lattice_model()
    k = RNG.normal(size=(10, 2)) * 0.3
    assert np.allclose(lm.hamiltonian(k), ref.hamiltonian(k), atol=1e-14)
    assert np.allclose(lm.magnetization, mvec)
    assert np.allclose(lm.operators["sy"], sy)
    cont = with_m.continuum_hamiltonian(k) - KPModel(ham, params=params).continuum_hamiltonian(k)
    assert np.allclose(cont, mvec[0] * sx + mvec[1] * sy + mvec[2] * sz)
    # replace() keeps the term consistent (no double counting)
    assert np.allclose(with_m.replace(spacing=4.0).lattice_model().hamiltonian(k), ref.hamiltonian(k))


def test_overrides_and_errors():
    kp = KPModel("M*sigma_z + A*k_x*sigma_x", params=dict(M=1.0, A=2.0), spacing=1.0)
    m = kp.lattice_model(M=-0.5)
    assert np.allclose(m.hamiltonian([[0.0]])[0], np.diag([-0.5, 0.5]))
    with pytest.raises(ModelError, match="unknown parameter"):
        kp.lattice_model(Q=1.0)
    with pytest.raises(ModelError, match=r"no value for parameter\(s\) \['A'\]"):
        KPModel("M*sigma_z + A*k_x*sigma_x", params=dict(M=1.0)).lattice_model()
    with pytest.raises(ModelError, match="position"):
        KPModel("x*k_x*sigma_z", params={})
    with pytest.raises(ModelError, match="spacing"):
        KPModel("k_x*sigma_z", spacing=(1.0, -2.0))
    with pytest.raises(ModelError, match="no momentum"):
        KPModel("M*sigma_z", params=dict(M=1))
    with pytest.raises(ModelError, match="cannot parse"):
        KPModel("k_x*sigma_z +* 2")
    with pytest.raises(ModelError, match="identity"):
        KPModel("k_x*sigma_z + 2")
    with pytest.raises(ModelError, match="spin operators"):
        KPModel("k_x*sigma_z", magnetization=(0, 0, 1e-3))


def test_kwant_builder_is_kwant_continuum_template():
    # Expected: the Kwant Builder, wrapped around by Kwant, equals the LatticeModel's H(k)
    # (all orbitals at the origin: cell convention = positions convention).
    import kwant

    kp = KPModel("A*(k_x*sigma_x + k_y*sigma_y) + (M - B*(k_x**2 + 2*k_y**2))*sigma_z",
                 params=dict(A=1.0, B=0.3, M=0.2), spacing=(1.5, 0.8))
    b = kp.kwant_builder()
    f = kwant.wraparound.wraparound(b).finalized()
    m = kp.lattice_model()
    for k in RNG.normal(size=(5, 2)):
        Hk = f.hamiltonian_submatrix(params=dict(k_x=k[0] * 1.5, k_y=k[1] * 0.8), sparse=False)
        assert np.allclose(Hk, m.hamiltonian(k)[0], atol=1e-12)


def test_band_gap_haldane_at_dirac_point():
    # Expected (exact): with phi = pi/2 the Haldane gap is min over K, K' of 2|M ∓ 3√3 t2|,
    # direct, at a Dirac point |k| = 4π/(3a).
    from tbspin.models import haldane

    t2, M = 0.1, 0.2
    m = haldane(t1=1.0, t2=t2, phi=np.pi / 2, M=M)
    gap, kv, kc = band_gap(m, 30)
    assert gap == pytest.approx(2 * abs(M - 3 * np.sqrt(3) * t2), abs=1e-8)
    assert np.linalg.norm(kc) == pytest.approx(4 * np.pi / 3, abs=1e-5)
    assert np.allclose(kv, kc, atol=1e-4)


def test_band_gap_mexican_hat_refined_off_mesh():
    # Expected (exact): bands ±sqrt((M + B k^2)^2 + A^2 k^2) + D k^2 on a fine grid have the
    # continuum minimum 2*sqrt(f(x*)) at x* = -(2MB + A^2)/(2B^2) up to O(a^2); here the lattice
    # value is checked against the same formula with the lattice dispersion along x.
    A, B, M, a = 0.5, 1.0, -0.3, 0.25
    m = regularize("A*(k_x*sigma_x + k_y*sigma_y) + (M + B*(k_x**2 + k_y**2))*sigma_z",
                   params=dict(A=A, B=B, M=M), spacing=a)
    gap, kv, kc = band_gap(m, 16)
    q = np.linspace(0, np.pi / a, 200001)
    s, c2 = np.sin(q * a) / a, 2 * (1 - np.cos(q * a)) / a**2
    ref = 2 * np.min(np.sqrt((M + B * c2) ** 2 + A**2 * s**2))
    assert gap == pytest.approx(ref, abs=1e-7)
    assert gap < 2 * abs(M)  # the minimum is off Γ, not on the coarse mesh


def test_band_inversion_warning_threshold_1d():
    # Expected: H = (M - B k^2) σz + A k σx has mass M - 4B/a^2 at k = π/a; for M, B > 0 the
    # regularization inverts the zone boundary relative to the kinetic term when a > 2√(B/M).
    ham = "(M - B*k_x**2)*sigma_z + A*k_x*sigma_x"
    params = dict(M=1.0, B=1.0, A=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegularizationWarning)
        m_ok = KPModel(ham, params=params, spacing=1.9).lattice_model()
    assert not band_inversions(m_ok)["inverted"].any()
    with pytest.warns(RegularizationWarning, match=r"\(0.5,\)"):
        m_bad = KPModel(ham, params=params, spacing=2.1).lattice_model()
    res = band_inversions(m_bad)
    assert res["inverted"].tolist() == [False, True] and np.isnan(res["overlap"][0])


@pytest.mark.parametrize("M", [2.0, 6.0, 10.0, -1.0, 13.0])
def test_parity_z2_cubic_ti_phase_diagram(M):
    # Expected (independent): with Dirac masses m_K = M - 4B·(number of π components)/a^2 at the
    # 8 TRIMs and δ_K = -sign(m_K) (parity of the occupied pair for P = τz), Fu-Kane gives
    # (-1)^ν0 = Π δ_K and weak indices from the k_i = π planes.
    from tbspin.models import cubic_ti

    m = cubic_ti(A=1.0, B=1.0, M=M, a=1.0)
    res = z2_parity(m, np.kron(np.diag([1, -1]), np.eye(2)))
    red = res["reduced"]
    npi = (red == 0.5).sum(axis=1)
    delta = -np.sign(M - 4.0 * npi)
    assert res["delta"].tolist() == delta.astype(int).tolist()
    assert res["nu0"] == int(np.prod(delta) < 0)
    weak = tuple(int(np.prod(delta[red[:, i] == 0.5]) < 0) for i in range(3))
    assert res["weak"] == weak
    assert res["nu0"] == {2.0: 1, 6.0: 0, 10.0: 1, -1.0: 0, 13.0: 0}[M]
    if M == 6.0:
        assert weak == (1, 1, 1)


def test_z2_rejects_non_symmetric_parity():
    from tbspin.models import cubic_ti

    with pytest.raises(ModelError, match="does not commute"):
        z2_parity(cubic_ti(), np.kron(np.array([[0, 1], [1, 0]]), np.eye(2)))


def test_regularize_returns_lattice_model():
    m = regularize("k_x**2 + k_y**2", spacing=2.0)
    assert isinstance(m, LatticeModel) and m.n_orbitals == 1 and m.periodic == (0, 1)
    k = np.array([[0.3, -0.1]])
    assert m.hamiltonian(k)[0, 0, 0].real == pytest.approx(
        sum(2 * (1 - np.cos(2.0 * q)) / 4.0 for q in k[0])
    )


def test_user_kp_string_end_to_end_spin_hall():
    # A user's k·p string -> LatticeModel -> spin Hall conductivity (README example).
    # Expected (exact): this BHZ-type model conserves s_z. For electrons (charge −e) the spin
    # current (ħ/2)(v↑ − v↓) equals −(ħ/2e)(j↑ − j↓), so σ^z_xy = −(ħ/2e)(σ↑_xy − σ↓_xy), i.e.
    # σ^z_xy [e/8π] = −2 (σ↑_xy − σ↓_xy) [e²/h]; the blocks are opposite Chern insulators
    # (|σ↑ − σ↓| = 2 e²/h), so |σ^z_xy| = 4 e/8π = e/2π in the gap.
    import tbspin
    from tbspin.models.catalogue import PAULI

    ham = (
        "A*(k_x*kron(sigma_z, sigma_x) - k_y*kron(sigma_0, sigma_y))"
        " + (M - B*(k_x**2 + k_y**2))*kron(sigma_0, sigma_z)"
    )
    spin = {n: np.kron(s, np.eye(2)) for n, s in zip(("sx", "sy", "sz"), PAULI[1:])}
    model = regularize(ham, params=dict(A=1.0, B=1.0, M=1.0), spacing=1.0, operators=spin)
    res = tbspin.spin_hall(model, efermi=[0.0], mesh=48, spin="z", current="x", efield="y", errors=False)
    assert res.unit == "e/8pi"
    blocks = [
        model.replace(hoppings=model.hoppings[:, s, s], operators={}, positions=model.positions[s])
        for s in (slice(0, 2), slice(2, 4))
    ]
    ahc = [tbspin.anomalous_hall(b, efermi=[0.0], mesh=48, errors=False).values[0] for b in blocks]
    assert abs(ahc[0] - ahc[1]) == pytest.approx(2.0, abs=1e-6)  # opposite Chern copies
    assert res.values[0] == pytest.approx(-2 * (ahc[0] - ahc[1]), abs=1e-6)
    assert abs(res.values[0]) == pytest.approx(4.0, abs=1e-6)
