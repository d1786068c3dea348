"""Lower triangles of Hermitian Bloch sums: the FFT Bloch sums of :mod:`tbspin.bz.fourier`
carry only the N(N+1)/2 entries i ≥ j of every matrix.

A model's hoppings satisfy H_{−R} = H_R† (:mod:`tbspin.model.hoppings`), so H(k) = Σ_R H_R
e^{ik·R} is Hermitian, and so is every derivative ∂_a H(k) = Σ_R i R_a H_R e^{ik·R}
((i R_a H_R e^{ik·R})† = i (−R)_a H_{−R} e^{ik·(−R)}, the term of −R). Each entry of the sum is
a sum of its own: the table, the plane sums over the outer R, the inner sums and the line
transforms can all run on the lower-triangle entries alone (18 orbitals: 171 of 324 entries,
0.53 of the work and of the table's memory), and the upper triangle is the conjugate of the
lower one, filled in per k-point by one gather (:func:`expand_lower`).

The gather costs what a few multiply-adds per entry cost, so the triangle pays when the sums
are long (many R per point: ab-initio fits, small meshes, the sub-meshes of the default error
bar) and not for models of 2–4 orbitals or short sums (:func:`lower_pays`).

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

__all__ = ["GATHER_COST", "lower_pays", "lower_gather", "expand_lower"]

#: the cost of :func:`expand_lower` per output entry, in units of one complex multiply-add of
#: the sums (measured, 27h: Pt 21³ FFT sums 0.104 → 0.072 s of CPU on lower triangles, of which
#: the gather 1.9 ns per entry against 0.44 ns per multiply-add and entry; random 3D models at
#: 16³ gain from 8 orbitals on (0.93×), lose at 3–4 (1.2–1.4×); 2D models with 7 residues at
#: 128² lose (1.0–2.0×): benchmarks/README.md, issue 27 acceptance 3, 27h)
GATHER_COST = 4.5


def lower_pays(n_orbitals: int, sums_per_entry: float) -> bool:
    """Whether the lower-triangle sums are expected to be faster: the work saved,
    (1 − T/N²) · ``sums_per_entry`` multiply-adds per output entry (T = N(N+1)/2), above
    :data:`GATHER_COST`.

    Parameters
    ----------
    n_orbitals : int
        N.
    sums_per_entry : float
        Complex multiply-adds per k-point and entry of the full sums (plane, inner and line
        sums of :class:`tbspin.bz.fourier.MeshFourier`, per point).
    """
    n = int(n_orbitals)
    saved = (1.0 - (n * (n + 1) / 2) / n**2) * float(sums_per_entry)
    return n > 1 and saved > GATHER_COST


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
