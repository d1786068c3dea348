"""Batched eigensystems with an explicit gauge inside degenerate blocks.

Eigenvectors of a degenerate eigenvalue are defined only up to a unitary rotation inside the
degenerate block. Band-resolved quantities that are not traces over whole blocks -- the proper
spin current among them -- depend on that choice. tbspin fixes it explicitly: inside every block
of bands with |ε_n − ε_m| < ``degen_tol`` the eigenvectors are rotated to diagonalize a Hermitian
*gauge operator* G (projected on the block), with eigenvalues g sorted ascending. Where G leaves a
sub-block degenerate too (|g_n − g_m| < ``gauge_tol``), the remaining freedom is fixed by parallel
transport (it never matters for the quantities tbspin reports as gauge-independent).

Blocks are found per k-point; all k-points that share the same block structure are processed
together, so the only Python loops run over distinct block structures and block sizes, never over
k-points or orbitals.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from .errors import GaugeWarning


@dataclasses.dataclass
class Eigensystem:
    """Energies and gauge-fixed eigenvectors at a batch of k-points.

    Attributes
    ----------
    energies : (Nk, N) float array, eV, ascending per k
    vectors : (Nk, N, N) complex array; column n of ``vectors[k]`` is |u_nk⟩
    block : (Nk, N) int array; bands with equal value are degenerate (within degen_tol)
    gauge_values : (Nk, N) float array or None; ⟨u_n|G|u_n⟩ after gauge fixing
    group : (Nk, N) int array; bands degenerate in both ε and g (parallel-transport sub-blocks)
    """

    energies: np.ndarray
    vectors: np.ndarray
    block: np.ndarray
    gauge_values: np.ndarray | None
    group: np.ndarray

    @property
    def has_degeneracies(self) -> bool:
        """True when any k-point has a degenerate block."""
        return bool(np.any(self.block[:, 1:] == self.block[:, :-1]))


def _eigh(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one call to LAPACK (a seam: tests replace it to scramble eigenvector phases)."""
    return np.linalg.eigh(H)


def sandwich(U: np.ndarray, op: np.ndarray) -> np.ndarray:
    """U† O U for a batch of unitaries U (Nk, N, N) and one operator O (N, N)."""
    nk, n, _ = U.shape
    UhO = (U.conj().transpose(0, 2, 1).reshape(nk * n, n) @ op).reshape(nk, n, n)
    return UhO @ U


def block_labels(energies: np.ndarray, tol: float) -> np.ndarray:
    """Label degenerate blocks: bands n, n+1 share a label when ε_{n+1} − ε_n < tol."""
    nk, n = energies.shape
    new = np.ones((nk, n), dtype=bool)
    new[:, 1:] = np.diff(energies, axis=1) >= tol
    return np.cumsum(new, axis=1) - 1


def _block_index_sets(labels: np.ndarray):
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
    a = A[..., 0, 0].real
    d = A[..., 1, 1].real
    b = A[..., 0, 1]
    c = 0.5 * (a + d)
    half = 0.5 * (a - d)
    absb = np.abs(b)
    r = np.hypot(half, absb)
    theta = np.arctan2(absb, half)
    ph = np.exp(1j * np.angle(b))
    cs, sn = np.cos(0.5 * theta), np.sin(0.5 * theta)
    w = np.stack([c - r, c + r], axis=-1)
    v = np.empty(A.shape, dtype=complex)
    v[..., 0, 0] = -sn * ph
    v[..., 1, 0] = cs
    v[..., 0, 1] = cs
    v[..., 1, 1] = sn * np.conj(ph)
    return w, v


def _rotate_blocks(vectors: np.ndarray, op_eig: np.ndarray, labels: np.ndarray) -> None:
    """In place: rotate eigenvectors inside each degenerate block to diagonalize ``op_eig``.

    ``op_eig`` is the gauge operator in the current eigenbasis, (Nk, N, N); it is rotated too.
    """
    for kidx, _size, idx in _block_index_sets(labels):
        sub = op_eig[kidx[:, None, None, None], idx[None, :, :, None], idx[None, :, None, :]]
        _, W = eigh_small(sub)  # (nk, nb, s, s)
        cols = idx.reshape(-1)
        Usub = vectors[kidx][:, :, idx]  # (nk, N, nb, s)
        vectors[np.ix_(kidx, np.arange(vectors.shape[1]), cols)] = np.einsum(
            "knbs,kbst->knbt", Usub, W
        ).reshape(len(kidx), vectors.shape[1], -1)
        Osub = op_eig[kidx][:, :, idx]  # columns
        op_eig[np.ix_(kidx, np.arange(op_eig.shape[1]), cols)] = np.einsum(
            "knbs,kbst->knbt", Osub, W
        ).reshape(len(kidx), op_eig.shape[1], -1)
        Orow = op_eig[kidx][:, idx, :]  # rows
        op_eig[np.ix_(kidx, cols, np.arange(op_eig.shape[2]))] = np.einsum(
            "kbsm,kbst->kbtm", Orow, W.conj()
        ).reshape(len(kidx), -1, op_eig.shape[2])


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
    degen_tol: float = 1e-6,
    gauge_tol: float = 1e-6,
    labels: np.ndarray | None = None,
    warn: bool = True,
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
        Emit a GaugeWarning when G does not lift a degeneracy.
    """
    E, U = _eigh(H)
    block = block_labels(E, degen_tol) if labels is None else labels
    gvals = None
    if gauge is not None:
        Gm = sandwich(U, gauge)
        _rotate_blocks(U, Gm, block)
        gvals = np.real(np.einsum("kmm->km", Gm))
    group = group_labels(block, gvals, gauge_tol)
    if warn and gauge is not None and labels is None:
        unsplit = (group[:, 1:] == group[:, :-1]).any(axis=1)
        if np.any(unsplit):
            warnings.warn(
                f"the gauge operator does not lift the band degeneracy at {int(unsplit.sum())} of "
                f"{len(E)} k-points; parallel transport fixes the basis there",
                GaugeWarning,
                stacklevel=3,
            )
    return Eigensystem(energies=E, vectors=U, block=block, gauge_values=gvals, group=group)
