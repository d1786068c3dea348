"""Hopping tables H_R and position matrices r_R: −R index, Hermiticity check and completion.

A model stores ``H_R[m, n] = ⟨m, 0|H|n, R⟩`` on integer lattice vectors R. The Bloch Hamiltonian
is Hermitian for every k exactly when H_{−R} = H_R† for every R. This module is the one place
that pairs R with −R (:func:`minus_index`) and measures or repairs that condition; the model
constructor and the Wannier90 reader both use it. :class:`PositionMatrix` is the other
R-indexed matrix a model can carry (the Wannier position matrix, see :mod:`tbspin.model.lattice`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from tbspin.errors import ModelError
from tbspin.types import ArrayLike, ComplexArray, IntArray

__all__ = ["minus_index", "hermiticity_violation", "complete_hermitian", "merge_duplicates",
           "normalize_hoppings", "PositionMatrix", "check_position_matrix"]


def minus_index(R: IntArray) -> IntArray:
    """Index of −R in ``R`` for every row (−1 where −R is absent).

    Parameters
    ----------
    R : (NR, d) int array
        Lattice vectors; rows need not be sorted (with duplicate rows the first one is used).

    Returns
    -------
    (NR,) int array
    """
    R = np.asarray(R)
    if len(R) == 0:
        return np.zeros(0, dtype=int)
    allR = np.concatenate([R, -R])
    uniq, inv = np.unique(allR, axis=0, return_inverse=True)
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
        The R where it occurs (the R without partner when ``max_dev`` is inf; None if R is empty).
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


def merge_duplicates(R: IntArray, H: ComplexArray) -> tuple[IntArray, ComplexArray]:
    """Sum hoppings listed more than once for the same R; sort R lexicographically."""
    uniq, inv = np.unique(R, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    if len(uniq) == len(R):
        order = np.lexsort(R.T[::-1])
        return R[order], H[order]
    Hs = np.zeros((len(uniq),) + H.shape[1:], dtype=complex)
    np.add.at(Hs, inv, H)
    return uniq, Hs


def complete_hermitian(R: IntArray, H: ComplexArray) -> tuple[IntArray, ComplexArray]:
    """Add H_{−R} = H_R† for every R whose −R is missing (PythTB and Kwant store one of two)."""
    R, H = merge_duplicates(R, H)
    mi = minus_index(R)
    missing = np.nonzero(mi < 0)[0]
    if len(missing) == 0:
        return R, H
    return np.vstack([R, -R[missing]]), np.concatenate([H, H[missing].conj().transpose(0, 2, 1)])


def normalize_hoppings(
    hoppings: ArrayLike | Mapping[tuple[int, ...], ArrayLike], R: ArrayLike | None, d: int
) -> tuple[IntArray, ComplexArray]:
    """Hoppings as (R (NR, d) int, H (NR, N, N) complex) from an array plus R, or a mapping."""
    if isinstance(hoppings, Mapping):
        if R is not None:
            raise ModelError("give R only with an array of hoppings, not with a mapping")
        if not hoppings:
            raise ModelError("'hoppings' is empty")
        keys = list(hoppings)
        Rs = np.array([tuple(np.atleast_1d(r)) for r in keys], dtype=float)
        H = np.array([np.atleast_2d(np.asarray(hoppings[r], dtype=complex)) for r in keys])
    else:
        if R is None:
            raise ModelError("'R' (integer lattice vectors) is required with an array of hoppings")
        Rs = np.array(R, dtype=float)
        H = np.array(hoppings, dtype=complex)
    if Rs.ndim == 1:
        Rs = Rs.reshape(-1, d) if d == 1 else Rs[None]
    if Rs.ndim != 2 or Rs.shape[1] != d:
        raise ModelError(f"'R' must have shape (NR, {d}), got {Rs.shape}")
    if not np.allclose(Rs, np.round(Rs)):
        raise ModelError("'R' must hold integer lattice vectors")
    if H.ndim != 3 or H.shape[1] != H.shape[2] or H.shape[0] != Rs.shape[0]:
        raise ModelError(
            f"'hoppings' must have shape (NR, N, N) with NR={Rs.shape[0]}, got {H.shape}"
        )
    if not np.all(np.isfinite(H)):
        bad = np.argwhere(~np.isfinite(H))[0]
        raise ModelError(f"'hoppings' contain NaN or Inf (first at R={Rs[bad[0]]}, m={bad[1]}, n={bad[2]})")
    return np.round(Rs).astype(int), H


@dataclasses.dataclass(frozen=True, eq=False)
class PositionMatrix:
    """Wannier position matrix r_R[a, m, n] = ⟨m, 0|r_a|n, R⟩ (Å) on integer lattice vectors R.

    Attributes
    ----------
    R : (NR, d) int array
    r : (NR, d, N, N) complex array, Å
    used : bool
        Whether Berry connections include it (False keeps a ``_tb.dat``'s r_R for a round trip
        while the diagonal tight-binding position operator is used).
    """

    R: IntArray
    r: ComplexArray
    used: bool = True

    def rotated(self, U: ComplexArray) -> PositionMatrix:
        """The matrix in the basis |m'⟩ = Σ_m U[m, m'] |m⟩: r_R → U† r_R U."""
        r = np.einsum("am,rdab,bn->rdmn", U.conj(), self.r, U)
        return PositionMatrix(R=self.R, r=r, used=self.used)


def check_position_matrix(pm: PositionMatrix | tuple[ArrayLike, ArrayLike], n: int, d: int
                           ) -> PositionMatrix:
    """Validated, read-only copy of a position matrix for N orbitals in d dimensions."""
    R, r = (pm.R, pm.r) if isinstance(pm, PositionMatrix) else pm
    used = pm.used if isinstance(pm, PositionMatrix) else True
    R = np.asarray(R)
    r = np.array(r, dtype=complex)
    if R.ndim != 2 or R.shape[1] != d or r.shape != (len(R), d, n, n):
        raise ModelError(
            f"position matrix must be R ({len(R)}, {d}) and r ({len(R)}, {d}, {n}, {n}); got "
            f"{R.shape} and {r.shape}"
        )
    if not np.allclose(R, np.round(R)):
        raise ModelError("position matrix: 'R' must hold integer lattice vectors")
    if not np.all(np.isfinite(r)):
        raise ModelError("position matrix 'r' contains NaN or Inf")
    Ri = np.round(R).astype(int)
    Ri.setflags(write=False)
    r.setflags(write=False)
    return PositionMatrix(R=Ri, r=r, used=used)
