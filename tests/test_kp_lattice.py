"""k·p regularization on any Bravais lattice (tbspin.continuum.lattice) and Bi₂Se₃ on the hexagonal one."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy

from tbspin import ModelError, ParameterError
from tbspin.continuum.kp import band_inversions, z2_parity
from tbspin.continuum.lattice import (
    harmonic_coefficients,
    hexagonal_lattice,
    lattice_shells,
    monomials,
    regularize_on_lattice,
)
from tbspin.models import bi2se3, bi2se3_kp
from tbspin.models.bi2se3 import PARITY

warnings.filterwarnings("ignore", message="MUMPS is not available")
RNG = np.random.default_rng(2510)


def rotation_z(angle: float, dim: int = 3) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return rot[:dim, :dim]


def harmonic(lattice: np.ndarray, alpha: tuple[int, ...], k: np.ndarray, accuracy: int = 0):
    """f_α(k) from its coefficients: Σ b_R sin(k·R) (odd) or Σ b_R (cos(k·R) − 1) (even)."""
    Rs, coef = harmonic_coefficients(lattice, sum(alpha), accuracy=accuracy)
    phase = k @ (np.asarray(Rs) @ lattice).T
    basis = np.sin(phase) if sum(alpha) % 2 else np.cos(phase) - 1.0
    return basis @ coef[alpha]


def test_square_grid_is_kwants_finite_differences():
    # Expected: on the orthorhombic grid diag(a, a, c) the nearest-shell harmonics of degree ≤ 2
    # are k → sin(ka)/a, k² → 2(1 − cos ka)/a², k_i k_j → sin(k_i a_i) sin(k_j a_j)/(a_i a_j):
    # Kwant's discretization (an independent code), here through tbspin.continuum.kp on Eq. (10).
    kp = bi2se3_kp(magnetization=(0.002, -0.001, 0.003), A2=0.0, B2=0.0)
    lat = np.diag([4.14, 4.14, 3.0])
    mine = regularize_on_lattice(kp, lattice=lat)
    kwant_form = kp.lattice_model()
    k = RNG.uniform(-1, 1, size=(50, 3)) * np.pi / np.array([4.14, 4.14, 3.0])
    assert np.allclose(mine.hamiltonian(k), kwant_form.hamiltonian(k), atol=1e-12)
    # the mixed term k_x k_y (degree 2) by hand on the square net a = 2
    k2 = RNG.normal(size=(20, 2))
    f = harmonic(np.diag([2.0, 2.0]), (1, 1), k2)
    assert np.allclose(f, np.sin(2 * k2[:, 0]) * np.sin(2 * k2[:, 1]) / 4, atol=1e-13)


def test_hexagonal_laplacian_closed_form():
    # Expected: the C6-symmetric second difference on the triangular net,
    # k_x² + k_y² → (2/3a²) Σ_{i=1..3} 2(1 − cos k·a_i), a_3 = −a_1 − a_2 (Taylor: Σ(k·a_i)² = 3a²k²/2).
    a = 4.14
    lat = hexagonal_lattice(a)
    k = RNG.normal(size=(30, 2))
    f = harmonic(lat, (2, 0), k) + harmonic(lat, (0, 2), k)
    vecs = np.vstack([lat, -lat.sum(axis=0)])
    exact = (2 / (3 * a * a)) * np.sum(2 * (1 - np.cos(k @ vecs.T)), axis=1)
    assert np.allclose(f, exact, atol=1e-12)


@pytest.mark.parametrize("accuracy", [0, 1])
def test_taylor_match_order_on_a_triclinic_lattice(accuracy: int) -> None:
    # Expected (module docstring): f_α(k) = k^α + O(k^{n+2+2·accuracy}); checked by halving |k|:
    # the error must fall by 2^{n+2+2·accuracy} (±15 %) and be small at |k| = 0.02/Å.
    lat = np.array([[3.1, 0.2, -0.1], [0.7, 2.9, 0.3], [0.4, -0.5, 3.6]])
    direction = RNG.normal(size=3)
    direction /= np.linalg.norm(direction)
    for n in (1, 2, 3):
        for alpha in monomials(3, n):
            errs = []
            for eps in (0.02, 0.01):
                k = eps * direction[None]
                errs.append(abs(harmonic(lat, alpha, k, accuracy)[0] - np.prod(k[0] ** alpha)))
            order = n + 2 + 2 * accuracy
            assert errs[0] < 0.1 * 0.02**n
            assert errs[0] / errs[1] == pytest.approx(2.0**order, rel=0.15)


def test_regularization_commutes_with_the_lattice_point_group():
    # Expected (module docstring): for g in the lattice point group the regularization of
    # P(g⁻¹k) equals the regularization of P at g⁻¹k. Here g = C6 of the triangular net and a
    # random cubic + linear + quadratic polynomial P (matrix-valued, random Hermitian).
    lat = hexagonal_lattice(1.7)
    g = rotation_z(np.pi / 3, 2)
    ginv = g.T
    herm = RNG.normal(size=(7, 2, 2)) + 1j * RNG.normal(size=(7, 2, 2))
    herm = herm + np.conj(np.swapaxes(herm, 1, 2))
    alphas = [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (1, 2)]

    kx, ky = sympy.symbols("k_x k_y")

    def poly(rot: np.ndarray) -> sympy.Matrix:
        qx = float(rot[0, 0]) * kx + float(rot[0, 1]) * ky
        qy = float(rot[1, 0]) * kx + float(rot[1, 1]) * ky
        return sum((qx**p * qy**q * sympy.Matrix(h.tolist()) for (p, q), h in zip(alphas, herm,
                                                                                  strict=True)),
                   sympy.zeros(2, 2))

    plain = regularize_on_lattice(poly(np.eye(2)), lattice=lat, check_inversions=False)
    rotated = regularize_on_lattice(poly(ginv), lattice=lat, check_inversions=False)
    k = RNG.uniform(-2, 2, size=(40, 2))
    assert np.allclose(rotated.hamiltonian(k), plain.hamiltonian(k @ ginv.T), atol=1e-10)


def test_lattice_shells_hexagonal_counts():
    # Expected: the simple hexagonal lattice (a, c = 3 < a = 4.14) has shells, nearest first:
    # ±c (1 pair), in-plane a (3 pairs), a ± c (6 pairs), 2c (1), √3 a (3).
    shells = lattice_shells(hexagonal_lattice(4.14, 3.0), 5)
    assert [len(s) for s in shells] == [1, 3, 6, 1, 3]


def test_bad_input_is_named():
    with pytest.raises(ModelError, match="'lattice' must be"):
        regularize_on_lattice("k_x*sigma_x + k_y*sigma_y", lattice=np.eye(3))
    with pytest.raises(ModelError, match="singular"):
        regularize_on_lattice("k_x*sigma_x + k_y*sigma_y", lattice=[[1.0, 0.0], [2.0, 0.0]])
    with pytest.raises(ParameterError, match="accuracy"):
        regularize_on_lattice("k_x*sigma_x", lattice=[[1.0]], accuracy=-1)
    with pytest.raises(ParameterError, match="positive"):
        hexagonal_lattice(-1.0)
    with pytest.raises(ModelError, match="lattice must be 'square' or 'hexagonal'"):
        bi2se3(lattice="cubic")


# ---------------------------------------------------------------- Bi2Se3 on the hexagonal lattice
@pytest.mark.parametrize("m", [(0.0, 0.0, 0.0), (0.0, 0.0, 1e-3)])
def test_bi2se3_hexagonal_warping_is_c3_symmetric(m):
    # Acceptance 1 (issue 25): with the warping terms R1 = 50.6, R2 = −113.3 eV Å³ (Liu et al.
    # PRB 82, 045122) the band energies at k and C3 k agree to 1e-10 eV at 100 random k
    # anywhere in the zone (m = 0 and m ∥ z both keep C3 about z). Controls that the check can
    # fail: C6 is broken by the warping (> 0.1 eV), and the square-grid regularization of the
    # same k·p model breaks C3 by > 0.1 eV.
    hexm = bi2se3(lattice="hexagonal", warping=True, magnetization=m)
    k = RNG.uniform(-0.5, 0.5, size=(100, 3)) @ hexm.reciprocal
    e = np.linalg.eigvalsh(hexm.hamiltonian(k))
    c3 = rotation_z(2 * np.pi / 3)
    assert np.max(np.abs(e - np.linalg.eigvalsh(hexm.hamiltonian(k @ c3.T)))) < 1e-10
    assert np.max(np.abs(e - np.linalg.eigvalsh(hexm.hamiltonian(k @ c3.T @ c3.T)))) < 1e-10
    c6 = rotation_z(np.pi / 3)
    assert np.max(np.abs(e - np.linalg.eigvalsh(hexm.hamiltonian(k @ c6.T)))) > 0.1
    square = bi2se3(warping=True, magnetization=m)
    kq = RNG.uniform(-0.3, 0.3, size=(100, 3))
    eq = np.linalg.eigvalsh(square.hamiltonian(kq))
    assert np.max(np.abs(eq - np.linalg.eigvalsh(square.hamiltonian(kq @ c3.T)))) > 0.1


def test_bi2se3_hexagonal_matches_continuum_at_small_k():
    # Expected: the regularization error is O(k^{n+2}) per term; at |k| ≤ 0.05/Å the lattice
    # bands agree with the k·p ones (bi2se3_kp(...).continuum_hamiltonian, the polynomial
    # itself) to 1 meV, with and without warping; and exactly at Γ.
    for warping in (False, True):
        kp = bi2se3_kp(warping=warping, magnetization=(0.0, 0.0, 1e-3))
        hexm = bi2se3(lattice="hexagonal", warping=warping, magnetization=(0.0, 0.0, 1e-3))
        d = RNG.normal(size=(2000, 3))
        d /= np.linalg.norm(d, axis=1)[:, None]
        k = np.vstack([d * 0.05 * RNG.random(2000)[:, None] ** (1 / 3), d * 0.05])
        dev = np.abs(np.linalg.eigvalsh(hexm.hamiltonian(k))
                     - np.linalg.eigvalsh(kp.continuum_hamiltonian(k)))
        assert dev.max() < 1e-3
        assert dev.max() > 1e-6  # the regularization does change something
        g = np.zeros((1, 3))
        assert np.allclose(hexm.hamiltonian(g), kp.continuum_hamiltonian(g), atol=1e-14)


def test_bi2se3_hexagonal_inverted_only_at_gamma():
    # Expected: Γ levels C0 ± |M0| with the parity-even orbital 1 on top (inverted); no other
    # TRIM (M, A, L) inverted; Fu–Kane strong index ν0 = 1 with the only δ = −1 at Γ.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RegularizationWarning
        hexm = bi2se3(lattice="hexagonal", warping=True)
    inv = band_inversions(hexm)
    assert not inv["inverted"].any() and np.all(inv["overlap"][1:] > 0.99)
    z2 = z2_parity(hexm, PARITY)
    assert z2["nu0"] == 1 and z2["weak"] == (0, 0, 0)
    assert z2["delta"][0] == -1 and np.all(z2["delta"][1:] == 1)
    E, V = np.linalg.eigh(hexm.hamiltonian(np.zeros((1, 3))))
    assert E[0, 2] == pytest.approx(-0.0083 + 0.28, abs=1e-12)
    assert np.allclose(np.einsum("ia,ij,ja->a", V[0].conj(), PARITY, V[0]).real[2:], 1.0)


def test_warped_valence_bands_touch_at_weyl_points():
    # Expected (tbspin/reproduce/_warping.py, why Fig. 1's warping curves need tol runs): with
    # warping and m ∥ z the two valence bands touch near |k_∥| = 0.079/Å, k_z = +0.024/Å at
    # azimuth 30° (and its C3 images); by inversion P (kept by m) at −k. Independent check: a
    # Nelder–Mead minimization of ε₂ − ε₁ from nearby starts reaches < 1e-9 eV, while at
    # the same points without warping the pair stays split by > 1e-4 eV (its touching is a ring
    # at k_z = 0).
    from scipy.optimize import minimize

    hexm = bi2se3(lattice="hexagonal", warping=True, magnetization=(0.0, 0.0, 1e-3))
    plain = bi2se3(lattice="hexagonal", magnetization=(0.0, 0.0, 1e-3))

    def split(model, k):
        e = np.linalg.eigvalsh(model.hamiltonian(np.atleast_2d(k)))[0]
        return e[1] - e[0]

    c3 = rotation_z(2 * np.pi / 3)
    guess = np.array([0.079 * np.cos(np.pi / 6), 0.079 * np.sin(np.pi / 6), 0.024])
    for start in (guess, c3 @ guess, -guess):
        res = minimize(lambda k: split(hexm, k), start + 0.003, method="Nelder-Mead",
                       options=dict(xatol=1e-10, fatol=1e-14, maxiter=4000))
        assert res.fun < 1e-9
        assert np.linalg.norm(res.x - start) < 0.005
        assert split(plain, res.x) > 1e-4
