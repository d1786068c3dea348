"""The fast paths of the gauge-fixed eigensystem (issue 22, acceptance 3: the proper tensor's
cost) equal the generic computations they replace, forced on the same data.

* :func:`tbspin.bands.eigen.rotate_matrix` (W† M W from the block rotations) against the
  independent basis change U'† X U' with the rotated vectors themselves, for Kramers pairs at
  every k (the no-copy, products-into-place path), for blocks at some k only (the copying path)
  and for stacked directions;
* :func:`tbspin.bands.eigen.solve` on a shared eigh output (rotated vectors written into a new
  array) against the in-place path of its own diagonalization, bit for bit, eigh's output
  untouched;
* :func:`tbspin.bands.eigen.hermitian_sandwich` against :func:`tbspin.bands.eigen.sandwich`
  (Pauli operators through the row plan, and a dense Hermitian operator);
* ``BandContext.release``: a gauge's arrays dropped and recomputed give the same values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from core_models import kramers_ti

from tbspin.bands import eigen
from tbspin.bands.integrands import BandContext
from tbspin.bands.settings import resolve_connection, spin_operator
from tbspin.errors import GaugeWarning


def _kramers_batch(nk: int = 12, seed: int = 3):
    """H(k), ∂_xH, ∂_zH at random k of a model with Kramers pairs at every k (P and T)."""
    model = kramers_ti()
    rng = np.random.default_rng(seed)
    k = rng.uniform(-1.0, 1.0, (nk, 3))
    H, dH = model.hamiltonian_and_derivatives(k, (0, 2))
    return model, k, H, dH


def _split_batch(nk: int = 10, seed: int = 5):
    """A 6-band batch degenerate at half of the k-points only: two Kramers copies
    diag(h, h) plus a third band pair split everywhere (k-dependent block structure)."""
    rng = np.random.default_rng(seed)
    H = np.zeros((nk, 6, 6), dtype=complex)
    for q in range(nk):
        a = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
        h = a + a.conj().T
        H[q, :2, :2] = h
        H[q, 2:4, 2:4] = h if q % 2 == 0 else h + np.diag([0.3, 0.7])
        H[q, 4:, 4:] = np.diag([5.0, 6.0])
    x = rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6))
    return H, x + x.conj().T


def _dense_rotation(eig0_vectors: np.ndarray, eig: eigen.Eigensystem, X: np.ndarray,
                    rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(M in eigh's basis, the same matrix computed afresh in the rotated basis)."""
    U0, U = eig0_vectors, eig.vectors
    M = U0[:, :, :rows].conj().transpose(0, 2, 1) @ X @ U0
    ref = U[:, :, :rows].conj().transpose(0, 2, 1) @ X @ U
    return M, ref


def test_rotate_matrix_with_kramers_pairs_everywhere_equals_the_basis_change():
    """Every column in a 2×2 block at every k: the no-copy path (products into place). W† M W
    must equal U'†XU' computed with the rotated vectors (an independent product)."""
    model, k, H, dH = _kramers_batch()
    E, U0 = np.linalg.eigh(H)
    sz = spin_operator(model, "z")[0]
    eig = eigen.solve(H, sz, degen_tol=1e-6, eigh=(E, U0))
    (kidx, idx, _), = eig.rotations  # one structure, every k, every band
    assert len(kidx) == len(k) and idx.size == H.shape[1]
    rows = 2  # the first Kramers pair only: rows never cut a block
    Ms, refs = zip(*[_dense_rotation(U0, eig, dH[a], rows) for a in range(2)], strict=True)
    for M, ref in zip(Ms, refs, strict=True):
        got = eigen.rotate_matrix(M, eig.rotations, rows)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    # stacked directions (one call) and out= give the same arrays as one matrix at a time
    stacked = eigen.rotate_matrix(np.stack(Ms), eig.rotations, rows)
    out = np.full_like(stacked, np.nan)
    eigen.rotate_matrix(np.stack(Ms), eig.rotations, rows, out=out)
    for a in range(2):
        one = eigen.rotate_matrix(Ms[a], eig.rotations, rows)
        np.testing.assert_array_equal(stacked[a], one)
        np.testing.assert_array_equal(out[a], one)


def test_rotate_matrix_with_blocks_at_some_k_equals_the_basis_change():
    """Blocks at half of the k-points and bands outside any block: the copying path."""
    H, X = _split_batch()
    E, U0 = np.linalg.eigh(H)
    G = np.diag([1.0, -1.0, 1.0, -1.0, 0.5, -0.5]).astype(complex)
    G[0, 1] = G[1, 0] = 0.2
    eig = eigen.solve(H, G, degen_tol=1e-6, eigh=(E, U0))
    covered = [len(kidx) == len(H) and idx.size == H.shape[1] for kidx, idx, _ in eig.rotations]
    assert eig.rotations and not any(covered)
    rows = 4
    M, ref = _dense_rotation(U0, eig, X, rows)
    got = eigen.rotate_matrix(M, eig.rotations, rows)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    out = np.full_like(M, np.nan)
    eigen.rotate_matrix(M, eig.rotations, rows, out=out)
    np.testing.assert_array_equal(out, got)


@pytest.mark.parametrize("spin", ["x", "y", "z"])
def test_solve_on_a_shared_eigh_equals_the_in_place_path(spin):
    """solve(..., eigh=(E, U)) writes the rotated vectors into a new array (Kramers pairs at
    every k); solve(...) of the same H rotates its own eigh output in place: equal bit for bit,
    and the shared eigh output is left as it was."""
    model, _, H, _ = _kramers_batch()
    G = spin_operator(model, spin)[0]
    E, U0 = np.linalg.eigh(H)
    keep = U0.copy()
    shared = eigen.solve(H, G, degen_tol=1e-6, eigh=(E, U0))
    own = eigen.solve(H, G, degen_tol=1e-6)
    np.testing.assert_array_equal(U0, keep)
    np.testing.assert_array_equal(shared.vectors, own.vectors)
    np.testing.assert_array_equal(shared.gauge_values, own.gauge_values)
    # the gauge values are the diagonal of U'†GU' (G diagonal inside every pair)
    GU = shared.vectors.conj().transpose(0, 2, 1) @ G @ shared.vectors
    np.testing.assert_allclose(np.diagonal(GU, axis1=1, axis2=2).real, shared.gauge_values,
                               rtol=0, atol=1e-12)


def test_hermitian_sandwich_equals_sandwich():
    """U_r†OU for a Pauli spin operator (phased row permutation) and a dense Hermitian O."""
    model, _, H, _ = _kramers_batch()
    _, U = np.linalg.eigh(H)
    rng = np.random.default_rng(0)
    x = rng.normal(size=H.shape[1:]) + 1j * rng.normal(size=H.shape[1:])
    for op in (spin_operator(model, "y")[0], x + x.conj().T):
        for rows in (2, H.shape[1]):
            ref = eigen.sandwich(U, op, rows)
            np.testing.assert_allclose(eigen.hermitian_sandwich(U, op, rows), ref, rtol=0,
                                       atol=1e-13 * np.abs(ref).max())


def test_context_release_drops_a_gauge_and_recomputes_the_same_values():
    """After release(st) the context holds nothing in st's gauge but keeps the shared eigh;
    the pair terms formed again are the same arrays' values."""
    model, k, H, dH = _kramers_batch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaugeWarning)
        st = resolve_connection(model, gauge="x")
        ctx = BandContext(model, k, st, (0, 2))
        first = ctx.pair_terms(st, 0, 2).copy()
        s_first = ctx.spin_diagonal(st, st.gauge).copy()
        eigh = ctx._eigh()
        ctx.release(st)
        g = ctx._gkey(st)
        assert not [key for key in ctx._cache if isinstance(key, tuple) and len(key) > 1
                    and key[1] == g]
        np.testing.assert_array_equal(ctx.pair_terms(st, 0, 2), first)
        np.testing.assert_array_equal(ctx.spin_diagonal(st, st.gauge), s_first)
        assert ctx._eigh() is eigh  # the one diagonalization was kept
