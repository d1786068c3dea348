"""bands.spin_current: the conventional spin Hall sums from row blocks equal the textbook
formula −2 Im Σ_n J_mn V_nm w_mn with J = ½ U†{s, ∂_iH}U formed in full (an independent
computation inside the test), for Pauli spins in both spinor orders, a general Hermitian
operator, any subset of components and any k-block size."""

from __future__ import annotations

import numpy as np
import pytest

from tbspin.bands.eigen import apply_operator
from tbspin.bands.spin_current import conventional_rows
from tbspin.model.spin import spin_operators

RNG = np.random.default_rng(22)


def _hermitian(nk: int, n: int) -> np.ndarray:
    A = RNG.normal(size=(nk, n, n)) + 1j * RNG.normal(size=(nk, n, n))
    return A + A.conj().transpose(0, 2, 1)


def _reference(U, dH, spins, components, E, r, eta):
    """X[k, m, c] = −2 Im Σ_{n≠m} J_mn V_nm / ((ε_m − ε_n)² + η²), every matrix in full."""
    Uh = U.conj().transpose(0, 2, 1)
    dE2 = (E[:, :, None] - E[:, None, :]) ** 2 + eta**2
    off = ~np.eye(E.shape[1], dtype=bool)[None] & np.ones(dE2.shape, dtype=bool)
    w = np.divide(1.0, dE2, out=np.zeros_like(dE2), where=off)
    out = np.empty((len(U), r, len(components)))
    for c, (s, i, j) in enumerate(components):
        op = spins[s]
        J = 0.5 * Uh @ (op @ dH[i] + dH[i] @ op) @ U
        V = Uh @ dH[j] @ U
        out[:, :, c] = (-2.0 * np.imag(J * V.transpose(0, 2, 1) * w).sum(axis=2))[:, :r]
    return out, w[:, :r]


@pytest.mark.parametrize("order", ["block", "interleaved", "general"])
def test_conventional_rows_equal_the_full_matrix_formula(order):
    nk, n, r, eta = 7, 8, 5, 0.05
    H = _hermitian(nk, n)
    E, U = np.linalg.eigh(H)
    dH = [_hermitian(nk, n) for _ in range(3)]
    if order == "general":  # no one-non-zero-per-row structure: the product path
        G = _hermitian(1, n)[0]
        spins = [G, spin_operators(n, "block")["sy"], 0.3 * G @ G]
    else:
        ops = spin_operators(n, order)
        spins = [ops["sx"], ops["sy"], ops["sz"]]
    every = [(s, i, j) for s in range(3) for i in range(3) for j in range(3)]
    some = [(2, 0, 1), (0, 2, 2), (1, 1, 0)]  # a subset with a repeated direction
    for comps in (every, some):
        ref, w = _reference(U, dH, spins, comps, E, r, eta)
        scale = np.abs(ref).max()
        assert scale > 0.1
        for block_bytes in (1, 2**12, 2**30):  # one k per block, a few, the whole batch
            got = conventional_rows(U, dH, (0, 1, 2), spins, comps, w, block_bytes=block_bytes)
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * scale)


def test_conventional_rows_directions_subset_and_order():
    """dH given for a subset of directions in any order: indexed through ``directions``."""
    nk, n, r = 4, 6, 6
    E, U = np.linalg.eigh(_hermitian(nk, n))
    dH = {a: _hermitian(nk, n) for a in (0, 2)}
    sz = spin_operators(n, "block")["sz"]
    ref, w = _reference(U, [dH[0], None, dH[2]], [sz], [(0, 2, 0)], E, r, 0.0)
    got = conventional_rows(U, [dH[2], dH[0]], (2, 0), [sz], [(0, 2, 0)], w)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("order", ["block", "interleaved"])
def test_apply_rows_equals_the_product(order):
    A = RNG.normal(size=(3, 6, 10)) + 1j * RNG.normal(size=(3, 6, 10))
    for op in spin_operators(6, order).values():
        out = np.full((3, 6, 2, 10), np.nan, dtype=complex)
        apply_operator(op, A, out=out[:, :, 1, :])  # into a strided slot, as the kernel does
        np.testing.assert_allclose(out[:, :, 1, :], op @ A, rtol=0, atol=1e-15)
        assert np.isnan(out[:, :, 0, :]).all()  # nothing else written
