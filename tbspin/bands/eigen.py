"""Batched eigensystems with an explicit gauge inside degenerate blocks.

Eigenvectors of a degenerate eigenvalue are defined only up to a unitary rotation inside the
degenerate block. Band-resolved quantities that are not traces over whole blocks -- the proper
spin current among them -- depend on that choice. tbspin fixes it explicitly: inside every block
of bands with |ε_n − ε_m| < ``degen_tol`` the eigenvectors are rotated to diagonalize a Hermitian
*gauge operator* G (projected on the block), with eigenvalues g sorted ascending. Where G leaves a
sub-block degenerate too (|g_n − g_m| < ``gauge_tol``), the remaining freedom is fixed by parallel
transport (it never matters for the quantities tbspin reports as gauge-independent); :func:`solve`
reports those k-points to the run's tally (:mod:`tbspin.bands.gauge_tally`: one GaugeWarning per
run and gauge operator with the totals of all its chunks).

Blocks are found per k-point; all k-points that share the same block structure are processed
together, so the only Python loops run over distinct block structures and block sizes, never over
k-points or orbitals.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator

import numpy as np

from tbspin.bands import gauge_tally
from tbspin.errors import GaugeWarning
from tbspin.types import IntArray


@dataclasses.dataclass
class Eigensystem:
    """Energies and gauge-fixed eigenvectors at a batch of k-points.

    Attributes
    ----------
    energies : (Nk, N) float array, eV, ascending per k
    vectors : (Nk, N, N) complex array; column n of ``vectors[k]`` is |u_nk⟩
    block : (Nk, N) int array; bands with equal value are degenerate (within degen_tol)
    gauge_values : (Nk, N) float array or None; ⟨u_n|G|u_n⟩ after gauge fixing, for bands in
        degenerate blocks (0 for the others)
    group : (Nk, N) int array; bands degenerate in both ε and g (parallel-transport sub-blocks)
    rotations : list or None; when the gauge was fixed on a given eigh output (``eigh=`` of
        :func:`solve`), the block rotations W with vectors = eigh's vectors · W, as
        (k indices, band indices (nb, s), W (nk, nb, s, s)) per block structure
        (:func:`rotate_matrix` applies them to a matrix in eigh's basis)
    """

    energies: np.ndarray
    vectors: np.ndarray
    block: np.ndarray
    gauge_values: np.ndarray | None
    group: np.ndarray
    rotations: list | None = None

    @property
    def in_block(self) -> np.ndarray:
        """(Nk, N) bool: band n shares a degenerate block with a neighbour."""
        paired = self.block[:, 1:] == self.block[:, :-1]  # band n and n+1 share a block
        out = np.zeros(self.block.shape, dtype=bool)
        out[:, 1:] |= paired
        out[:, :-1] |= paired
        return out

    @property
    def has_degeneracies(self) -> bool:
        """True when any k-point has a degenerate block."""
        return bool(np.any(self.block[:, 1:] == self.block[:, :-1]))


def _eigh(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one call to LAPACK (a seam: tests replace it to scramble eigenvector phases)."""
    return np.linalg.eigh(H)


#: how :func:`apply_operator` applies an operator (:func:`row_plan`): runs (first row, end row,
#: first source row, phase), or None for a dense product
RowPlan = tuple[tuple[int, int, int, complex], ...] | None
_PLAN = object()  # "plan not given": apply_operator plans it


def row_plan(op: np.ndarray) -> RowPlan:
    """How :func:`apply_operator` applies ``op``: for an operator with one non-zero per row
    (Pauli spin matrices in either spinor order, parities) the runs (first row, end row, first
    source row, phase) of consecutive source rows with one phase; None for any other operator.
    Plan once, apply to many batches."""
    nz = op != 0
    n = op.shape[0]
    if not np.all(nz.sum(axis=1) == 1):
        return None
    cols = np.argmax(nz, axis=1)
    phase = op[np.arange(n), cols]
    cuts = np.nonzero((np.diff(cols) != 1) | (phase[1:] != phase[:-1]))[0] + 1
    return tuple((int(lo), int(hi), int(cols[lo]), complex(phase[lo]))
                 for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True))


def apply_operator(op: np.ndarray, U: np.ndarray, out: np.ndarray | None = None,
                   plan: object = _PLAN) -> np.ndarray:
    """O U for one operator O (N, N) and a batch U (Nk, N, M), into ``out`` when given (any
    strides, nothing else written).

    Operators with one non-zero per row (Pauli-type spin matrices, parities) are applied as a
    phased row permutation (:func:`row_plan`; pass ``plan`` to plan once for many batches),
    several times cheaper than a batched matmul: contiguous runs are copied as slices; with
    many runs (interleaved spinors) as one gather.
    """
    if plan is _PLAN:
        plan = row_plan(op)
    if out is None:
        out = np.empty(U.shape, dtype=np.result_type(U, op))
    if plan is None:
        return np.matmul(op, U, out=out)
    runs: RowPlan = plan  # type: ignore[assignment]
    assert runs is not None
    if len(runs) > 8:  # phases that alternate (interleaved spinors): runs by columns alone
        n = op.shape[0]
        cols = np.argmax(op != 0, axis=1)
        phase = op[np.arange(n), cols][:, None]
        cuts = np.nonzero(np.diff(cols) != 1)[0] + 1
        if len(cuts) > 8:  # a scattered permutation: one gather beats a loop of slices
            np.multiply(phase, U[:, cols, :], out=out)
            return out
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True):
            c0 = int(cols[lo])
            np.multiply(phase[lo:hi], U[:, c0:c0 + hi - lo, :], out=out[:, lo:hi, :])
        return out
    for lo, hi, c0, p in runs:
        src = U[:, c0:c0 + hi - lo, :]
        if p == 1:
            np.copyto(out[:, lo:hi, :], src)
        elif p == -1:
            np.negative(src, out=out[:, lo:hi, :])
        else:
            np.multiply(src, p, out=out[:, lo:hi, :])
    return out


def sandwich(U: np.ndarray, op: np.ndarray, rows: int | None = None) -> np.ndarray:
    """U† O U for a batch of unitaries U (Nk, N, N) and one operator O (N, N); with ``rows``
    only its first rows, (U[:, :, :rows])† O U."""
    left = U if rows is None else U[:, :, :rows]
    return np.ascontiguousarray(left.conj().transpose(0, 2, 1)) @ apply_operator(op, U)


def hermitian_sandwich(U: np.ndarray, op: np.ndarray, rows: int) -> np.ndarray:
    """(U[:, :, :rows])† O U for a Hermitian O: :func:`sandwich` with fewer passes over memory.

    The left factor U_r† O = (O U_r)† is formed as O applied to the first ``rows`` columns only,
    written transposed into one contiguous buffer and conjugated there (no copy of O U, no
    separate conjugate and transpose copies); then one batched product with U. Equal to
    :func:`sandwich` to rounding (another summation order) for Hermitian ``op`` only.
    """
    nk, n, _ = U.shape
    left = np.empty((nk, rows, n), dtype=np.result_type(U, op))
    apply_operator(op, U[:, :, :rows], out=left.transpose(0, 2, 1))
    np.conjugate(left, out=left)
    return left @ U


def expectation(U: np.ndarray, op: np.ndarray) -> np.ndarray:
    """Diagonal ⟨u_n|O|u_n⟩ (Nk, N), real part, without forming U† O U."""
    return np.real(np.sum(U.conj() * apply_operator(op, U), axis=1))


def block_labels(energies: np.ndarray, tol: float) -> np.ndarray:
    """Label degenerate blocks: bands n, n+1 share a label when ε_{n+1} − ε_n < tol."""
    nk, n = energies.shape
    new = np.ones((nk, n), dtype=bool)
    new[:, 1:] = np.diff(energies, axis=1) >= tol
    return np.cumsum(new, axis=1) - 1


def _block_index_sets(labels: np.ndarray) -> Iterator[tuple[IntArray, int, IntArray]]:
    """Yield (k_indices, size, idx) with idx (nblocks, size) band indices of blocks > 1.

    k-points are grouped by their block structure (np.unique over the packed starts).
    """
    nk, n = labels.shape
    starts = np.ones((nk, n), dtype=bool)
    starts[:, 1:] = labels[:, 1:] != labels[:, :-1]
    multi = ~np.all(starts, axis=1)
    kall = np.nonzero(multi)[0]
    if len(kall) == 0:
        return
    packed = np.packbits(starts[kall], axis=1)
    if np.all(packed == packed[0]):  # the common case: one block structure everywhere
        sigs, inv = packed[:1], np.zeros(len(kall), dtype=int)
    else:
        sigs, inv = np.unique(packed, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
    for s in range(len(sigs)):
        kidx = kall[inv == s]
        st = np.nonzero(starts[kidx[0]])[0]
        sizes = np.diff(np.append(st, n))
        for size in np.unique(sizes):
            if size < 2:
                continue
            idx = st[sizes == size][:, None] + np.arange(size)[None, :]
            yield kidx, int(size), idx


def eigh_small(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched Hermitian eigensolver; closed form for 2×2 (the Kramers-pair case), else LAPACK.

    Parameters
    ----------
    A : (..., s, s) complex array (Hermitian)

    Returns
    -------
    w : (..., s) ascending eigenvalues; v : (..., s, s) eigenvectors as columns
    """
    if A.shape[-1] != 2:
        return np.linalg.eigh(A)
    # [[a, b], [b*, d]] = c + [[h, b], [b*, −h]], eigenvalues c ∓ r, r = √(h² + |b|²).
    # Lower eigenvector (−b, h + r) for h ≥ 0, (r − h, −b*) for h < 0 (no cancellation);
    # the upper one is its orthogonal complement (−y*, x*). No trigonometric functions.
    a = A[..., 0, 0].real
    d = A[..., 1, 1].real
    b = A[..., 0, 1]
    c = 0.5 * (a + d)
    h = 0.5 * (a - d)
    r = np.sqrt(h * h + (b.real * b.real + b.imag * b.imag))
    pos = h >= 0
    x = np.where(pos, -b, r - h)
    y = np.where(pos, h + r, -np.conj(b))
    norm = np.sqrt(np.abs(x) ** 2 + np.abs(y) ** 2)
    flat = norm <= 1e-300  # G proportional to 1 in this block: keep the basis
    inv = 1.0 / np.where(flat, 1.0, norm)
    x = np.where(flat, 1.0, x * inv)
    y = np.where(flat, 0.0, y * inv)
    w = np.stack([c - r, c + r], axis=-1)
    v = np.empty(A.shape, dtype=complex)
    v[..., 0, 0] = x
    v[..., 1, 0] = y
    v[..., 0, 1] = -np.conj(y)
    v[..., 1, 1] = np.conj(x)
    return w, v


def as_slice(cols: np.ndarray) -> slice | np.ndarray:
    """A slice for evenly spaced column indices (a view instead of a copy), else the indices."""
    if len(cols) == 0:
        return cols
    if len(cols) == 1:
        return slice(int(cols[0]), int(cols[0]) + 1)
    step = int(cols[1] - cols[0])
    if step > 0 and np.all(np.diff(cols) == step):
        return slice(int(cols[0]), int(cols[-1]) + 1, step)
    return cols


def _fix_blocks(U: np.ndarray, op: np.ndarray, labels: np.ndarray,
                rotations: list | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """In place: rotate eigenvectors inside each degenerate block to diagonalize ``op``
    (the rotations W, U ← U W, are appended to ``rotations`` when it is a list).

    Returns the gauge values g_n = ⟨u_n|op|u_n⟩ (Nk, N) in the final basis for bands inside
    degenerate blocks (0 for non-degenerate bands, where they are never used). Pairs (the
    Kramers case) take an elementwise closed-form path; larger blocks go through LAPACK.
    With ``out`` (an array shaped like U) U is left as it is and the rotated vectors are
    written there: when 2×2 blocks cover every band at every k (Kramers pairs everywhere)
    each column is written once from U, otherwise U is copied into ``out`` first.
    """
    nk, n, _ = U.shape
    g = np.zeros((nk, n))
    blocks = list(_block_index_sets(labels))
    if out is not None:
        if len(blocks) == 1 and blocks[0][1] == 2 and len(blocks[0][0]) == nk \
                and blocks[0][2].size == n:
            return _fix_pairs_into(U, apply_operator(op, U), blocks[0][2], out, g, rotations)
        np.copyto(out, U)
        U = out
    if not blocks:
        return g
    GU = apply_operator(op, U)
    for kidx, size, idx in blocks:
        allk = len(kidx) == nk
        nb = idx.shape[0]
        Uk = U if allk else U[kidx]
        GUk = GU if allk else GU[kidx]
        if size == 2:
            c0, c1 = as_slice(idx[:, 0]), as_slice(idx[:, 1])
            U0, U1 = Uk[:, :, c0], Uk[:, :, c1]  # (nk', N, nb)
            sub = np.empty((len(kidx), nb, 2, 2), dtype=complex)
            U0c = U0.conj()
            sub[..., 0, 0] = np.einsum("kon,kon->kn", U0c, GUk[:, :, c0])
            sub[..., 1, 1] = np.einsum("kon,kon->kn", U1.conj(), GUk[:, :, c1])
            sub[..., 0, 1] = np.einsum("kon,kon->kn", U0c, GUk[:, :, c1])
            sub[..., 1, 0] = sub[..., 0, 1].conj()
            w, W = eigh_small(sub)  # (nk', nb, 2), (nk', nb, 2, 2)
            if rotations is not None:
                rotations.append((kidx, idx, W))
            W = W[:, None]  # broadcast over orbitals
            new0 = U0 * W[..., 0, 0] + U1 * W[..., 1, 0]
            new1 = U0 * W[..., 0, 1] + U1 * W[..., 1, 1]
            if allk:
                U[:, :, c0], U[:, :, c1] = new0, new1
                g[:, c0], g[:, c1] = w[..., 0], w[..., 1]
            else:
                i0, i1 = np.arange(n)[c0], np.arange(n)[c1]
                U[np.ix_(kidx, np.arange(n), i0)] = new0
                U[np.ix_(kidx, np.arange(n), i1)] = new1
                g[np.ix_(kidx, i0)] = w[..., 0]
                g[np.ix_(kidx, i1)] = w[..., 1]
            continue
        cols = idx.reshape(-1)
        V = Uk[:, :, idx].transpose(0, 2, 1, 3)  # (nk', nb, N, s)
        GV = GUk[:, :, idx].transpose(0, 2, 1, 3)
        sub = V.conj().transpose(0, 1, 3, 2) @ GV  # (nk', nb, s, s)
        w, W = eigh_small(sub)
        if rotations is not None:
            rotations.append((kidx, idx, W))
        newV = (V @ W).transpose(0, 2, 1, 3).reshape(len(kidx), n, nb * size)
        if allk:
            U[:, :, cols] = newV
            g[:, cols] = w.reshape(nk, nb * size)
        else:
            U[np.ix_(kidx, np.arange(n), cols)] = newV
            g[np.ix_(kidx, cols)] = w.reshape(len(kidx), nb * size)
    return g


def _fix_pairs_into(U: np.ndarray, GU: np.ndarray, idx: np.ndarray, out: np.ndarray,
                    g: np.ndarray, rotations: list | None) -> np.ndarray:
    """:func:`_fix_blocks` when the 2×2 blocks ``idx`` cover every band at every k: the rotated
    vectors written into ``out`` (products into place, one temporary), the gauge values into g."""
    c0, c1 = as_slice(idx[:, 0]), as_slice(idx[:, 1])
    U0, U1 = U[:, :, c0], U[:, :, c1]
    nb = idx.shape[0]
    sub = np.empty((len(U), nb, 2, 2), dtype=complex)
    U0c = U0.conj()
    sub[..., 0, 0] = np.einsum("kon,kon->kn", U0c, GU[:, :, c0])
    sub[..., 1, 1] = np.einsum("kon,kon->kn", U1.conj(), GU[:, :, c1])
    sub[..., 0, 1] = np.einsum("kon,kon->kn", U0c, GU[:, :, c1])
    sub[..., 1, 0] = sub[..., 0, 1].conj()
    w, W = eigh_small(sub)  # (Nk, nb, 2), (Nk, nb, 2, 2)
    if rotations is not None:
        rotations.append((np.arange(len(U)), idx, W))
    # GU is not needed any more: its columns serve as the temporary
    _pair_columns(U0, U1, W, out[:, :, c0], out[:, :, c1], GU[:, :, c0])
    g[:, c0], g[:, c1] = w[..., 0], w[..., 1]
    return g


def rotate_in_blocks(
    energies: np.ndarray, vectors: np.ndarray, operator: np.ndarray, tol: float
) -> np.ndarray:
    """Eigenvectors rotated inside degenerate blocks to diagonalize ``operator`` (a copy).

    The one degenerate-subspace rotation of tbspin (also used by :func:`solve`): bands with
    ε_{n+1} − ε_n < ``tol`` form a block; inside it the columns become eigenvectors of the
    projected operator, ascending eigenvalues.

    Parameters
    ----------
    energies : (Nk, N) ascending eigenvalues
    vectors : (Nk, N, N) eigenvectors as columns
    operator : (N, N) Hermitian matrix, or (N,) real diagonal (e.g. a layer-weight projector)
    tol : float
        Degeneracy window (same units as ``energies``).
    """
    op = np.diag(np.asarray(operator)) if np.ndim(operator) == 1 else np.asarray(operator)
    U = np.array(vectors, dtype=complex)
    _fix_blocks(U, op.astype(complex), block_labels(np.asarray(energies), tol))
    return U


def group_labels(block: np.ndarray, gvals: np.ndarray | None, gauge_tol: float) -> np.ndarray:
    """Sub-blocks degenerate in both energy and gauge value."""
    if gvals is None:
        return block.copy()
    nk, n = block.shape
    new = np.ones((nk, n), dtype=bool)
    new[:, 1:] = (block[:, 1:] != block[:, :-1]) | (np.diff(gvals, axis=1) >= gauge_tol)
    return np.cumsum(new, axis=1) - 1


def solve(
    H: np.ndarray,
    gauge: np.ndarray | None = None,
    *,
    degen_tol: float = 1e-4,
    gauge_tol: float = 1e-6,
    labels: np.ndarray | None = None,
    warn: bool = True,
    eigh: tuple[np.ndarray, np.ndarray] | None = None,
    gauge_label: str = "",
) -> Eigensystem:
    """Diagonalize a batch of Hamiltonians and fix the gauge inside degenerate blocks.

    Parameters
    ----------
    H : (Nk, N, N) complex array
    gauge : (N, N) Hermitian array, optional
        Gauge operator G; None leaves eigh's basis inside blocks (parallel transport is applied
        later by the finite-difference code).
    degen_tol : float
        Energy window (eV) within which bands count as degenerate.
    gauge_tol : float
        Window within which gauge-operator eigenvalues count as degenerate.
    labels : (Nk, N) int array, optional
        Impose this block structure instead of detecting it (used at k ± δ so that the blocks
        follow those at k).
    warn : bool
        Report the k-points where G does not lift a degeneracy: to the run's gauge tally
        (:mod:`tbspin.bands.gauge_tally`: one GaugeWarning per run with the totals), or, outside
        any run, as a GaugeWarning for this batch.
    eigh : (energies, vectors), optional
        eigh's output for ``H``, already computed (one diagonalization shared by several gauge
        operators: :class:`tbspin.bands.integrands.BandContext`); the vectors are not modified.
    gauge_label : str
        The operator's name in that warning (e.g. "s_z", :func:`gauge_tally.gauge_label`); the
        tally keeps one count per label.
    """
    E, U = _eigh(H) if eigh is None else eigh
    block = block_labels(E, degen_tol) if labels is None else labels
    tally = warn and gauge is not None and labels is None
    if block[0, -1] == E.shape[1] - 1 and np.all(block[:, -1] == E.shape[1] - 1):
        # no degenerate block anywhere: nothing to fix
        if tally:
            gauge_tally.report(gauge_label, 0, len(E))
        gvals = None if gauge is None else np.zeros(E.shape)
        return Eigensystem(energies=E, vectors=U, block=block, gauge_values=gvals, group=block)
    gvals = None
    if gauge is not None:
        rotations: list | None = None
        target = None
        if eigh is not None:  # the shared eigh output stays as it is
            target = np.empty_like(U)
            rotations = []
        gvals = _fix_blocks(U, np.asarray(gauge, dtype=complex), block, rotations, out=target)
        if target is not None:
            U = target
    group = group_labels(block, gvals, gauge_tol)
    if tally:
        unsplit = int((group[:, 1:] == group[:, :-1]).any(axis=1).sum())
        if not gauge_tally.report(gauge_label, unsplit, len(E)) and unsplit:
            warnings.warn(gauge_tally.message(gauge_label, unsplit, len(E)), GaugeWarning,
                          stacklevel=3)
    return Eigensystem(energies=E, vectors=U, block=block, gauge_values=gvals, group=group,
                       rotations=rotations if gauge is not None and eigh is not None else None)


def rotate_matrix(M: np.ndarray, rotations: list, rows: int,
                  out: np.ndarray | None = None) -> np.ndarray:
    """W† M W for a matrix M (..., Nk, rows, N) given in eigh's basis (rows m < ``rows``; leading
    axes, e.g. directions, share the rotations) and the block rotations of
    :attr:`Eigensystem.rotations`: the same matrix in the gauge-fixed basis, at O(rows·N·s) cost
    per block instead of a basis change (blocks never straddle ``rows``:
    :func:`tbspin.bands.berry.rows_below`). Written into ``out`` (same shape) when given.
    When one block structure covers every column at every k (Kramers pairs everywhere) no copy
    of M is made first: every column is written from M."""
    nk = M.shape[-3]
    covered = len(rotations) == 1 and len(rotations[0][0]) == nk \
        and rotations[0][1].size == M.shape[-1]
    if out is None:
        # every column of every k lies in one rotated block: each is written from M below
        out = np.empty_like(M) if covered else M.copy()
    elif not covered:
        np.copyto(out, M)
    for kidx, idx, W in rotations:
        allk = len(kidx) == nk
        out_k = out if allk else out[..., kidx, :, :]
        src = M if covered else out_k  # covered: one structure at every k (allk)
        if idx.shape[1] == 2 and covered:  # Kramers pairs everywhere: products into place
            for lead in np.ndindex(M.shape[:-3]):  # one matrix at a time (cache-sized)
                _rotate_pairs(M[lead], out[lead], idx, W, rows)
        elif idx.shape[1] == 2:  # pairs: elementwise, on views when possible
            c0, c1 = as_slice(idx[:, 0]), as_slice(idx[:, 1])
            W00, W01 = W[:, None, :, 0, 0], W[:, None, :, 0, 1]
            W10, W11 = W[:, None, :, 1, 0], W[:, None, :, 1, 1]
            a, b = src[..., c0], src[..., c1]
            out_k[..., c0], out_k[..., c1] = a * W00 + b * W10, a * W01 + b * W11
            inside = idx[:, 1] < rows
            if inside.any():
                r0, r1 = as_slice(idx[inside, 0]), as_slice(idx[inside, 1])
                Wi = W[:, inside].conj()
                a, b = out_k[..., r0, :], out_k[..., r1, :]
                out_k[..., r0, :], out_k[..., r1, :] = (
                    a * Wi[:, :, 0, 0, None] + b * Wi[:, :, 1, 0, None],
                    a * Wi[:, :, 0, 1, None] + b * Wi[:, :, 1, 1, None])
        else:
            cols = src[..., idx]  # (..., nk', rows, nb, s)
            out_k[..., idx] = np.einsum("...kmbs,kbst->...kmbt", cols, W)
            inside = idx[:, -1] < rows  # blocks whose rows are present
            if inside.any():
                ridx = idx[inside]
                rws = out_k[..., ridx, :]  # (..., nk', nb', s, N)
                out_k[..., ridx, :] = np.einsum("kbst,...kbsn->...kbtn", W[:, inside].conj(),
                                                rws)
        if not allk:
            out[..., kidx, :, :] = out_k
    return out


def _pair_columns(a: np.ndarray, b: np.ndarray, W: np.ndarray, o0: np.ndarray, o1: np.ndarray,
                  tmp: np.ndarray) -> None:
    """The columns of 2×2 blocks times W: o0 = a W00 + b W10, o1 = a W01 + b W11 for column
    pairs a, b (Nk, rows, nb) and W (Nk, nb, 2, 2), written into place with one temporary
    (:func:`_fix_pairs_into`, :func:`_rotate_pairs`)."""
    Wc = W[:, None]  # broadcast over rows
    np.multiply(a, Wc[..., 0, 0], out=o0)
    o0 += np.multiply(b, Wc[..., 1, 0], out=tmp)
    np.multiply(a, Wc[..., 0, 1], out=o1)
    o1 += np.multiply(b, Wc[..., 1, 1], out=tmp)


def _rotate_pairs(M: np.ndarray, out: np.ndarray, idx: np.ndarray, W: np.ndarray,
                  rows: int) -> None:
    """``out`` = W† M W for one matrix M (Nk, rows, N) whose columns all lie in the 2×2 blocks
    ``idx`` at every k: each product written into place, one temporary (:func:`rotate_matrix`)."""
    c0, c1 = as_slice(idx[:, 0]), as_slice(idx[:, 1])
    a, b = M[:, :, c0], M[:, :, c1]
    _pair_columns(a, b, W, out[:, :, c0], out[:, :, c1],
                  np.empty(a.shape, dtype=np.result_type(M, W)))
    inside = idx[:, 1] < rows
    if not inside.any():
        return
    r0, r1 = as_slice(idx[inside, 0]), as_slice(idx[inside, 1])
    Wi = W[:, inside].conj()[..., None]  # (Nk, nb', 2, 2, 1): broadcast over columns
    a, b = out[:, r0, :], out[:, r1, :]
    new0 = a * Wi[:, :, 0, 0]
    t = b * Wi[:, :, 1, 0]
    new0 += t
    np.multiply(b, Wi[:, :, 1, 1], out=t)
    np.multiply(a, Wi[:, :, 0, 1], out=b)  # b's old values are in t
    b += t
    a[...] = new0


def rotate_in_labelled_blocks(
    vectors: np.ndarray, operator: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate columns inside runs of equal ``labels`` to diagonalize ``operator`` (a copy).

    The degenerate-subspace rotation of :func:`solve` for vectors that do not come from one
    ``eigh`` call (e.g. Kwant's propagating modes grouped by momentum and velocity).
    ``vectors`` (Nk, N, M), ``labels`` (Nk, M) as :func:`block_labels` makes them; returns the
    rotated vectors and ⟨u|operator|u⟩ per column (0 outside blocks).
    """
    U = np.array(vectors, dtype=complex)
    g = _fix_blocks(U, np.asarray(operator, dtype=complex), np.asarray(labels))
    return U, g
