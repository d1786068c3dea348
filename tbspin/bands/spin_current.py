"""The conventional (½{s, V}) spin Hall Kubo sums of many components from one eigensystem.

For spin components l, current directions i and field directions j (spin s in units of ħ/2,
V^a = U† ∂_aH U, rows m < r of the bands a Fermi sum needs):

    X^{lij}_m = −2 Im Σ_n J^{li}_mn conj(V^j_mn w_mn),   2J^{li} = U† (s_l ∂_iH + ∂_iH s_l) U,

with w_mn = 1/((ε_m − ε_n)² + η²) between different degenerate blocks and 0 inside a block
(:meth:`tbspin.bands.integrands.BandContext.kubo_weights`). Since s_l and ∂_iH are Hermitian,
the rows m < r of 2J^{li} are two products of row blocks, with no transposed matrix:

    (2J^{li})_{m·} = (U_r† s_l)(∂_iH U) + (U_r† ∂_iH)(s_l U)     ("T1" + "T2"),

formed for all (l, i) in two batched products whose results come out with the band m outer:
T1 = U_r† · [s_l ∂_iH U]_{l,i} (k, m, l, i, n) and T2 = [U_r† ∂_iH]_i · [s_l U]_l
(k, m, i, l, n). The sum over n is then one batched real product per term: with a complex
array viewed as interleaved (Re, Im) floats, Im(a conj b) = a · (i b) in those floats, so
Σ_n over all (l, i) × j at once is (k, m)-batched (l i × 2n) @ (2n × j) with no copy of T.

This replaces the former layout (the nine full blocks U† s_l ∂_iH U in one product, then
2J = M + M† written into split real/imaginary halves through strided transposes, the largest
single cost of a whole tensor): 18 r N² multiply-adds instead of 9 N³, but every operand
contiguous or a plain row-strided view (benchmarks/README.md, issue 22 acceptance 3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tbspin.types import ComplexArray, FloatArray

__all__ = ["apply_rows", "conventional_rows"]


def apply_rows(op: ComplexArray, A: ComplexArray, out: ComplexArray) -> None:
    """out[...] = op @ A for one operator op (N, N) and a batch A (Nk, N, M), written into
    ``out`` (any view of that shape, e.g. a slot of a side-by-side buffer).

    Operators with one non-zero per row (Pauli spin matrices in either spinor order) are a
    phased row permutation: contiguous runs of rows are copied as slices (a unit phase is a
    plain copy, −1 a negation). Others: a batched product.
    """
    nz = op != 0
    n = op.shape[0]
    if not np.all(nz.sum(axis=1) == 1):
        np.matmul(op, A, out=out)
        return
    cols = np.argmax(nz, axis=1)
    phase = op[np.arange(n), cols]
    # runs of consecutive source rows sharing one phase
    cuts = np.nonzero((np.diff(cols) != 1) | (phase[1:] != phase[:-1]))[0] + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True):
        src = A[:, int(cols[lo]):int(cols[lo]) + hi - lo, :]
        p = complex(phase[lo])
        if p == 1:
            np.copyto(out[:, lo:hi, :], src)
        elif p == -1:
            np.negative(src, out=out[:, lo:hi, :])
        else:
            np.multiply(src, p, out=out[:, lo:hi, :])


#: working set (bytes) of one block of k-points in :func:`conventional_rows`: the k-batch is
#: cut into blocks whose largest temporaries stay in the cache
BLOCK_BYTES = 2**20


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
        The k-points are taken in blocks whose largest temporary (the rows of all 2J^{li})
        stays below this size (the elementwise steps run in the cache).

    Returns
    -------
    (Nk, r, len(components)) float
    """
    nk, n = U.shape[:2]
    r = weights.shape[1]
    per_k = 16 * r * n * len({s for s, _, _ in components}) * len({i for _, i, _ in components})
    step = max(1, block_bytes // max(per_k, 1))
    if step < nk:
        out = np.empty((nk, r, len(components)))
        for a in range(0, nk, step):
            b = min(a + step, nk)
            out[a:b] = _rows(U[a:b], [d[a:b] for d in dH], directions, spins, components,
                             weights[a:b])
        return out
    return _rows(U, dH, directions, spins, components, weights)


def _rows(U: ComplexArray, dH: Sequence[ComplexArray], directions: Sequence[int],
          spins: Sequence[ComplexArray], components: Sequence[tuple[int, int, int]],
          weights: FloatArray) -> FloatArray:
    """:func:`conventional_rows` of one block of k-points."""
    nk, n = U.shape[:2]
    r = weights.shape[1]
    cur = sorted({i for _, i, _ in components})
    fld = sorted({j for _, _, j in components})
    used = sorted(set(cur) | set(fld))
    slots = sorted({s for s, _, _ in components})
    nl, nc, nf = len(slots), len(cur), len(fld)
    # D[k, o, a, n] = (∂_aH U)[o, n], the directions side by side: currents first, then the
    # field directions that are not currents (so that D[:, :, :nc] is the currents' block)
    order = cur + [a for a in used if a not in cur]
    D = np.empty((nk, n, len(order), n), dtype=complex)
    for b, a in enumerate(order):
        np.matmul(dH[list(directions).index(a)], U, out=D[:, :, b, :])
    Uh = np.ascontiguousarray(U[:, :, :r].transpose(0, 2, 1))
    np.conjugate(Uh, out=Uh)  # U_r† (Nk, r, N)
    # S[k, o, l, n] = (s_l U)[o, n], the spin slots side by side
    S = np.empty((nk, n, nl, n), dtype=complex)
    for c, s in enumerate(slots):
        apply_rows(spins[s], U, S[:, :, c, :])
    # T1 = [U_r† s_l]_l [D_i]_i → (k, m, l, i, n); U_r† s_l = (s_l U_r)† (Hermitian s_l): the
    # conjugated columns m < r of S, stacked with m outer
    SR = np.empty((nk, r, nl, n), dtype=complex)
    np.conjugate(S[:, :, :, :r].transpose(0, 3, 2, 1), out=SR)
    T1 = SR.reshape(nk, r * nl, n) @ D[:, :, :nc, :].reshape(nk, n, nc * n)
    # T2 = [U_r† ∂_iH]_i [s_l U]_l → (k, m, i, l, n); U_r† ∂_iH = (∂_iH U_r)†: the conjugated
    # columns m < r of D_i (Hermitian ∂_iH)
    E = np.empty((nk, r, nc, n), dtype=complex)
    np.conjugate(D[:, :, :nc, :r].transpose(0, 3, 2, 1), out=E)
    T2 = E.reshape(nk, r * nc, n) @ S.reshape(nk, n, nl * n)
    # V^j rows m < r and the weighted, rotated i V^j w of the real products (k, m, j, n)
    fcols = [order.index(j) for j in fld]
    if fcols == list(range(fcols[0], fcols[0] + nf)):  # a slice: a view, no copy
        Df = D[:, :, fcols[0]:fcols[0] + nf, :].reshape(nk, n, nf * n)
    else:
        Df = D[:, :, fcols, :].reshape(nk, n, nf * n)
    Q = (Uh @ Df).reshape(nk, r, nf, n)
    Q *= weights[:, :, None, :]
    Q *= 1j
    Qf = Q.view(float).transpose(0, 1, 3, 2)  # (k, m, 2N, j): interleaved (−Im, Re) of V w
    # −Im Σ_n (2J)_mn conj(V w)_mn = −(2J as floats) · (i V w as floats)
    X1 = (T1.view(float).reshape(nk, r, nl * nc, 2 * n) @ Qf).reshape(nk, r, nl, nc, nf)
    X2 = (T2.view(float).reshape(nk, r, nc * nl, 2 * n) @ Qf).reshape(nk, r, nc, nl, nf)
    out = np.empty((nk, r, len(components)))
    for c, (s, i, j) in enumerate(components):
        a, b, f = slots.index(s), cur.index(i), fld.index(j)
        np.add(X1[:, :, a, b, f], X2[:, :, b, a, f], out=out[:, :, c])
    np.negative(out, out=out)
    return out
