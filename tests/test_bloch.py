"""Direct Bloch sums (tbspin.model.bloch), the spin-operator shortcut and the gauge-free conventional
integrand: each against an independent computation written in the test.

References: H(k) = Σ_R H_R exp(i k·(R + τ_n − τ_m)) and its derivative summed term by term over
*every* R with ``np.einsum`` (the definition in tbspin.model.lattice); O @ U by a dense matrix product;
for the conventional integrand, the same integrand after a random unitary rotation inside every
Kramers pair (the formula is a trace over degenerate blocks, so it must not change).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from core_models import kramers_ti

from tbspin import LatticeModel
from tbspin.bands import eigen
from tbspin.bands.integrands import Integrand
from tbspin.bands.settings import resolve_connection
from tbspin.model.bloch import FULL_BELOW


def _model(reach: int, n: int, seed: int, convention: str = "positions") -> LatticeModel:
    """Hermitian random hoppings on a (2·reach + 1)³ box, random positions, skewed lattice."""
    rng = np.random.default_rng(seed)
    box = np.arange(-reach, reach + 1)
    hop: dict[tuple[int, ...], np.ndarray] = {}
    for R in np.stack(np.meshgrid(box, box, box, indexing="ij"), -1).reshape(-1, 3):
        r = tuple(int(x) for x in R)
        if r in hop:
            continue
        h = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        minus = tuple(-x for x in r)
        hop[r] = h + h.conj().T if r == minus else h
        hop[minus] = hop[r].conj().T
    lattice = np.eye(3) * 3.0 + 0.4 * rng.normal(size=(3, 3))
    return LatticeModel(lattice=lattice, hoppings=hop, positions_reduced=rng.random((n, 3)),
                        convention=convention)


def _reference(model: LatticeModel, k: np.ndarray, dirs: tuple[int, ...]):
    Rc = model.R @ model.lattice
    phase = np.exp(1j * k @ Rc.T)
    H = np.einsum("kr,rmn->kmn", phase, model.hoppings)
    dH = [np.einsum("kr,rmn->kmn", phase * 1j * Rc[:, a], model.hoppings) for a in dirs]
    if model.convention == "positions":
        dtau = model.positions[None, :, :] - model.positions[:, None, :]  # τ_n − τ_m
        orb = np.exp(1j * np.einsum("kd,mnd->kmn", k, dtau))
        dH = [(dH[i] + 1j * dtau[None, :, :, a] * H) * orb for i, a in enumerate(dirs)]
        H = H * orb
    return H, dH


@pytest.mark.parametrize("reach, convention", [(1, "positions"), (2, "positions"), (2, "cell")])
def test_direct_sum_matches_the_term_by_term_definition(reach: int, convention: str) -> None:
    """Both layouts (all N² entries for few R, mirrored lower triangle for many) to 1e-13."""
    model = _model(reach, n=5, seed=reach, convention=convention)
    pairs = (len(model.R) - 1) // 2
    assert (pairs < FULL_BELOW) == (reach == 1)  # both code paths are exercised
    k = np.random.default_rng(0).normal(size=(300, 3))
    for dirs in [(0, 1, 2), (2, 0), ()]:
        H, dH = model.hamiltonian_and_derivatives(k, dirs)
        Href, dHref = _reference(model, k, dirs)
        scale = np.abs(Href).max()
        assert np.abs(H - Href).max() < 1e-13 * scale
        assert dH.shape == (len(dirs), len(k), 5, 5)
        for i in range(len(dirs)):
            assert np.abs(dH[i] - dHref[i]).max() < 1e-13 * np.abs(dHref[i]).max()
        assert np.array_equal(H, H.conj().transpose(0, 2, 1))  # Hermitian by construction


def test_model_pickles_without_its_bloch_tables() -> None:
    """The cached tables are rebuilt where a model is unpickled (dask ships models)."""
    model = _model(2, n=3, seed=5)
    k = np.random.default_rng(1).normal(size=(7, 3))
    H = model.hamiltonian(k)
    assert "_bloch_sum" in model.__dict__
    blob = pickle.dumps(model)
    copy = pickle.loads(blob)
    assert "_bloch_sum" not in copy.__dict__
    assert np.array_equal(copy.hamiltonian(k), H)
    assert copy.fingerprint() == model.fingerprint()


@pytest.mark.parametrize("layout", ["block", "interleaved", "scattered"])
def test_permutation_operators_equal_the_dense_product(layout: str) -> None:
    """apply_operator's slice path (few runs) and gather path (many runs) equal O @ U."""
    rng = np.random.default_rng(2)
    n = 24
    if layout == "block":  # s_y of block spinors: two runs
        half = n // 2
        op = np.zeros((n, n), complex)
        op[:half, half:] = -1j * np.eye(half)
        op[half:, :half] = 1j * np.eye(half)
    elif layout == "interleaved":  # s_x of interleaved spinors: n runs
        op = np.kron(np.eye(n // 2), np.array([[0, 1], [1, 0]], complex))
    else:
        perm = rng.permutation(n)
        op = np.zeros((n, n), complex)
        op[np.arange(n), perm] = np.exp(2j * np.pi * rng.random(n))
    U = rng.normal(size=(9, n, n)) + 1j * rng.normal(size=(9, n, n))
    assert np.allclose(eigen.apply_operator(op, U), op @ U, rtol=0, atol=1e-13)


def test_conventional_integrand_ignores_the_basis_inside_kramers_pairs(monkeypatch) -> None:
    """Rotate LAPACK's eigenvectors by a random U(2) inside every Kramers pair: the conventional
    integrand (computed without gauge fixing) is unchanged to 1e-10 (it is a trace over blocks)."""
    model = kramers_ti()  # P and T: every band is exactly a Kramers pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = resolve_connection(model, method="kubo", gauge=None, spin="y")
    integrand = Integrand(model, "conventional", 2, 0, st, model.spin("y"), eta=0.01)
    k = np.random.default_rng(4).normal(size=(200, 3))
    E0, X0 = integrand(k)
    rng = np.random.default_rng(5)
    real_eigh = eigen._eigh

    def rotated(H):
        E, U = real_eigh(H)
        U = U.copy()
        for p in range(0, U.shape[2], 2):
            A = rng.normal(size=(len(H), 2, 2)) + 1j * rng.normal(size=(len(H), 2, 2))
            Q, _ = np.linalg.qr(A)
            U[:, :, p:p + 2] = U[:, :, p:p + 2] @ Q
        return E, U

    monkeypatch.setattr(eigen, "_eigh", rotated)
    E1, X1 = integrand(k)
    assert np.allclose(E1, E0)
    assert np.abs(X1 - X0).max() < 1e-10 * np.abs(X0).max()
