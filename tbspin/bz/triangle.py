"""Lower triangles of Hermitian Bloch sums: the FFT Bloch sums of :mod:`tbspin.bz.fourier`
carry only the N(N+1)/2 entries i ≥ j of every matrix.

A model's hoppings satisfy H_{−R} = H_R† (:mod:`tbspin.model.hoppings`), so H(k) = Σ_R H_R
e^{ik·R} is Hermitian, and so is every derivative ∂_a H(k) = Σ_R i R_a H_R e^{ik·R}
((i R_a H_R e^{ik·R})† = i (−R)_a H_{−R} e^{ik·(−R)}, the term of −R). Each entry of the sum is
a sum of its own: the table, the plane sums over the outer R, the inner sums and the line
transforms can all run on the lower-triangle entries alone (18 orbitals: 171 of 324 entries,
0.53 of the work and of the table's memory), and the upper triangle is the conjugate of the
lower one, filled in per k-point by one gather (:func:`expand_lower`).

This is the convention of the direct sum (:mod:`tbspin.model.bloch`): H(k) is the Hermitian
matrix whose lower triangle (with the diagonal) is the Bloch sum. For a model whose hoppings are
Hermitian to rounding (every file and catalogue model: H_{−R} is stored as H_R†) the result is
the full sum to rounding; for one Hermitian only to its ``hermitian_tol`` the upper triangle is
the conjugate of the lower one instead of its own sum (the triangle LAPACK's ``eigh`` reads is
the sum either way).
"""

from __future__ import annotations

import numpy as np

from tbspin.types import ComplexArray, IntArray

__all__ = ["TRIANGLE_MIN_ORBITALS", "lower_gather", "expand_lower"]

#: FFT Bloch sums of models with at least this many orbitals run on lower triangles (below it
#: the gather that fills the upper triangle costs about what the triangle saves: 2 orbitals,
#: 3 of 4 entries; benchmarks/README.md, issue 27 acceptance 3, 27h)
TRIANGLE_MIN_ORBITALS = 3


def lower_gather(n: int) -> tuple[IntArray, IntArray, IntArray]:
    """Indices of the lower triangle of an (n, n) matrix and the gather that rebuilds it.

    Returns
    -------
    il, jl : (T,) int arrays
        Row and column of each lower-triangle entry (i ≥ j, :func:`numpy.tril_indices` order),
        T = n(n + 1)/2.
    gather : (n²,) int array
        For each entry of the flattened (C order) matrix, its position in the concatenation
        [lower entries, conjugated lower entries] (length 2T): entry (i, j) with i ≥ j reads
        the lower entry, (i, j) with i < j the conjugate of entry (j, i).
    """
    il, jl = np.tril_indices(n)
    t = len(il)
    pos = np.empty((n, n), dtype=np.intp)
    pos[jl, il] = np.arange(t) + t  # upper triangle: conjugates of the lower entries
    pos[il, jl] = np.arange(t)  # lower triangle and diagonal (written last: the diagonal wins)
    return il, jl, pos.reshape(-1)


def expand_lower(F: ComplexArray, gather: IntArray, n: int) -> ComplexArray:
    """The Hermitian (…, n, n) matrices whose lower triangles are ``F`` (…, T).

    Parameters
    ----------
    F : (…, T) complex array
        Lower-triangle entries in the order of :func:`lower_gather`.
    gather : (n²,) int array
        From :func:`lower_gather`.
    n : int
        Matrix size.

    Returns
    -------
    (…, n, n) complex array, C-contiguous (a new array)
    """
    t = F.shape[-1]
    both = np.empty(F.shape[:-1] + (2 * t,), dtype=complex)
    both[..., :t] = F
    np.conjugate(F, out=both[..., t:])
    return np.take(both, gather, axis=-1).reshape(F.shape[:-1] + (n, n))
