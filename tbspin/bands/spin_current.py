"""The conventional (½{s, V}) spin Hall Kubo sums of many components from one eigensystem.

For spin components l, current directions i and field directions j (spin s in units of ħ/2,
V^a = U† ∂_aH U, rows m < r of the bands a Fermi sum needs):

    X^{lij}_m = −2 Im Σ_n J^{li}_mn conj(V^j_mn w_mn),   2J^{li} = U† (s_l ∂_iH + ∂_iH s_l) U,

with w_mn = 1/((ε_m − ε_n)² + η²) between different degenerate blocks and 0 inside a block
(:meth:`tbspin.bands.integrands.BandContext.kubo_weights`). Since s_l and ∂_iH are Hermitian,
2J^{li} = M^{li} + M^{li}† with M^{li} = (s_l U)† (∂_iH U): all blocks M^{li} come from ONE
batched product [(s_l U)†]_l @ [∂_iH U]_i (9 N³ for a whole tensor), and the rows m < r of 2J
are written with the band m outer, T[k, m, l, i, n], by one conjugating copy of the columns
m < r of M plus one add — plain complex copies, no split into real and imaginary halves. The sum
over n is then one batched real product: a complex array viewed as interleaved (Re, Im)
floats gives Im(a conj b) = a · (i b) in those floats, so Σ_n over all (l, i) × j at once is
(k, m)-batched (l i × 2N) @ (2N × j) with no copy of T.

The k-points are taken in blocks of about :data:`BLOCK_BYTES` of M, so that these
elementwise steps run in the cache. The spin operators are applied as phased row permutations
planned once per call (:func:`tbspin.bands.eigen.row_plan`). Against the former layout (M + M†
written into split real/imaginary halves through strided transposes over the whole batch) a Pt
tensor costs about half (benchmarks/README.md, issue 22 acceptance 3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tbspin.bands.eigen import RowPlan, apply_operator, row_plan
from tbspin.types import ComplexArray, FloatArray

__all__ = ["conventional_rows"]


#: working set (bytes) of one block of k-points in :func:`conventional_rows`: the k-batch is
#: cut into blocks whose largest temporaries stay in the cache
BLOCK_BYTES = 2**21


def conventional_rows(
    U: ComplexArray, dH: Sequence[ComplexArray], directions: Sequence[int],
    spins: Sequence[ComplexArray], components: Sequence[tuple[int, int, int]],
    weights: FloatArray, block_bytes: int = BLOCK_BYTES,
) -> FloatArray:
    """X[k, m, c] of the conventional formula (module docstring) for bands m < r.

    Parameters
    ----------
    U : (Nk, N, N) complex
        Eigenvectors (columns), any basis inside degenerate blocks (the sum is a trace there).
    dH : sequence of (Nk, N, N) complex
        ∂_aH of the Bloch Hamiltonian, one per direction of ``directions``.
    directions : sequence of int
        The Cartesian directions of ``dH``.
    spins : sequence of (N, N) complex
        The spin operators; ``components`` refer to them by position (a slot no component uses
        is never read).
    components : sequence of (slot, i, j)
        Spin slot, current direction i, field direction j (both in ``directions``).
    weights : (Nk, r, N) float
        w_mn (module docstring); r is the number of rows returned.
    block_bytes : int
        The k-points are taken in blocks whose largest temporary (the blocks M^{li}) stays
        below this size (the elementwise steps run in the cache).

    Returns
    -------
    (Nk, r, len(components)) float
    """
    nk, n = U.shape[:2]
    r = weights.shape[1]
    slots = sorted({s for s, _, _ in components})
    cur = sorted({i for _, i, _ in components})
    fld = sorted({j for _, _, j in components})
    order = cur + [a for a in sorted(set(fld)) if a not in cur]
    dirs = list(directions)
    dsel = [dH[dirs.index(a)] for a in order]
    plans = [(spins[s], row_plan(spins[s])) for s in slots]
    step = max(1, block_bytes // (16 * n * n * len(slots) * len(cur)))
    out = np.empty((nk, r, len(components)))
    for a in range(0, nk, step):
        b = min(a + step, nk)
        _rows(U[a:b], [d[a:b] for d in dsel], order, plans, slots, cur, fld, components,
              weights[a:b], out[a:b])
    return out


def _rows(U: ComplexArray, dH: list[ComplexArray], order: list[int],
          plans: list[tuple[ComplexArray, RowPlan]], slots: list[int], cur: list[int],
          fld: list[int], components: Sequence[tuple[int, int, int]], weights: FloatArray,
          out: FloatArray) -> None:
    """:func:`conventional_rows` of one block of k-points, into ``out``; ``dH`` in ``order``
    (the currents first)."""
    nk, n = U.shape[:2]
    r = weights.shape[1]
    nl, nc, nf = len(slots), len(cur), len(fld)
    # D[k, o, a, n] = (∂_aH U)[o, n], the directions side by side (currents first)
    D = np.empty((nk, n, len(order), n), dtype=complex)
    for b in range(len(order)):
        np.matmul(dH[b], U, out=D[:, :, b, :])
    # S[k, o, l, n] = (s_l U)[o, n] side by side; A[k, l] = (s_l U)† = U† s_l
    S = np.empty((nk, n, nl, n), dtype=complex)
    for c, (op, plan) in enumerate(plans):
        apply_operator(op, U, out=S[:, :, c, :], plan=plan)
    A = np.empty((nk, nl, n, n), dtype=complex)
    np.conjugate(S.transpose(0, 2, 3, 1), out=A)
    # all blocks M^{li} = U† s_l ∂_iH U in one product: M[k, l, m, i, n]
    M = (A.reshape(nk, nl * n, n) @ D[:, :, :nc, :].reshape(nk, n, nc * n)).reshape(
        nk, nl, n, nc, n)
    # rows m < r of 2J^{li} = M + M† with the band m outer: T[k, m, l, i, n]
    T = np.empty((nk, r, nl, nc, n), dtype=complex)
    np.conjugate(M[..., :r].transpose(0, 4, 1, 3, 2), out=T)
    T += M[:, :, :r].transpose(0, 2, 1, 3, 4)
    # V^j rows m < r and the weighted, rotated i V^j w of the real product (k, m, j, n)
    Uh = np.ascontiguousarray(U[:, :, :r].transpose(0, 2, 1))
    np.conjugate(Uh, out=Uh)  # U_r†
    fcols = [order.index(j) for j in fld]
    if fcols == list(range(fcols[0], fcols[0] + nf)):  # a slice: a view, no copy
        Df = D[:, :, fcols[0]:fcols[0] + nf, :].reshape(nk, n, nf * n)
    else:
        Df = D[:, :, fcols, :].reshape(nk, n, nf * n)
    Q = (Uh @ Df).reshape(nk, r, nf, n)
    Q *= weights[:, :, None, :]
    Q *= 1j
    Qf = Q.view(float).transpose(0, 1, 3, 2)  # (k, m, 2N, j): interleaved (−Im, Re) of V w
    # −Im Σ_n (2J)_mn conj(V w)_mn = −(2J as floats) · (i V w as floats), all (l, i) × j
    X = T.view(float).reshape(nk, r, nl * nc, 2 * n) @ Qf  # (k, m, (l, i), j)
    cols = [(slots.index(s) * nc + cur.index(i)) * nf + fld.index(j) for s, i, j in components]
    np.take(X.reshape(nk, r, nl * nc * nf), cols, axis=2, out=out)
    np.negative(out, out=out)
