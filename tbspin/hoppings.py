"""Hopping tables H_R: the −R index and the Hermiticity measure (the one copy).

A model stores ``H_R[m, n] = ⟨m, 0|H|n, R⟩`` on integer lattice vectors R. The Bloch Hamiltonian
is Hermitian for every k exactly when H_{−R} = H_R† for every R. The model constructor and the
Wannier90 reader both pair R with −R through :func:`minus_index` and measure the condition
with :func:`hermiticity_violation`.
"""

from __future__ import annotations

import numpy as np

from .types import ComplexArray, IntArray

__all__ = ["minus_index", "hermiticity_violation"]


def minus_index(R: IntArray) -> IntArray:
    """Index of −R in ``R`` for every row (−1 where −R is absent).

    Parameters
    ----------
    R : (NR, d) int array
        Lattice vectors (with duplicate rows the first one is used).

    Returns
    -------
    (NR,) int array
    """
    R = np.asarray(R)
    if len(R) == 0:
        return np.zeros(0, dtype=int)
    uniq, inv = np.unique(np.concatenate([R, -R]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pos = np.full(len(uniq), -1)
    pos[inv[: len(R)][::-1]] = np.arange(len(R))[::-1]  # the first of duplicate rows wins
    return pos[inv[len(R):]]


def hermiticity_violation(
    R: IntArray, H: ComplexArray
) -> tuple[float, tuple[int, ...] | None, int, int]:
    """Worst |H_R[m, n] − conj(H_{−R}[n, m])| of a hopping table.

    Parameters
    ----------
    R : (NR, d) int array
    H : (NR, N, N) complex array (eV)

    Returns
    -------
    max_dev : float
        The largest deviation (eV); ``inf`` when some R has no −R partner.
    R_vec : tuple of int or None
        Where it occurs (the R without a partner when ``max_dev`` is inf; None for empty R).
    m, n : int
        0-based orbital indices of the worst element (0, 0 when a partner is missing).
    """
    R = np.asarray(R)
    if len(R) == 0:
        return 0.0, None, 0, 0
    mi = minus_index(R)
    missing = np.nonzero(mi < 0)[0]
    if len(missing):
        return float("inf"), tuple(int(x) for x in R[missing[0]]), 0, 0
    diff = np.abs(H - H[mi].conj().transpose(0, 2, 1))
    b, m, n = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return float(diff[b, m, n]), tuple(int(x) for x in R[b]), int(m), int(n)
