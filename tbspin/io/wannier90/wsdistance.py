"""Wigner–Seitz remapping of Wannier90's ``use_ws_distance`` (``seedname_wsvec.dat``).

Wannier90's interpolation places the hopping ``H_R[m, n]`` at ``R + T`` for each shift T listed
for (R, m, n) in ``_wsvec.dat``, with weight ``1/ndeg`` (see the ``use_ws_distance`` entry of the
Wannier90 user guide); tbspin does the same remapping once on load, for H_R and for r_R.
"""

from __future__ import annotations

import numpy as np

from tbspin.errors import WannierFormatError
from tbspin.io.wannier90.side_files import WsVectors
from tbspin.types import ComplexArray, IntArray

__all__ = ["apply_ws_distance"]


def apply_ws_distance(
    R: IntArray, H: ComplexArray, ws: WsVectors, r: ComplexArray | None = None
) -> tuple[IntArray, ComplexArray, ComplexArray | None]:
    """Move every hopping (R, m, n) to R + T for the listed shifts T, with weight 1/ndeg.

    This is Wannier90's ``use_ws_distance`` (minimal-distance replica) interpolation done once
    on the real-space matrices.

    Parameters
    ----------
    R : (NR, 3) int array
    H : (NR, N, N) complex array
    ws : WsVectors
        Must list every (R, m, n) exactly once.
    r : (NR, 3, N, N) complex array, optional
        Position matrix, remapped the same way.

    Returns
    -------
    R_new, H_new, r_new
    """
    NR, N = len(R), H.shape[1]
    # index of each wsvec entry's R in R
    allR = np.concatenate([R, ws.R])
    uniq, inv = np.unique(allR, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pos_of_uniq = np.full(len(uniq), -1)
    pos_of_uniq[inv[:NR]] = np.arange(NR)
    ir = pos_of_uniq[inv[NR:]]
    if np.any(ir < 0):
        e = int(np.nonzero(ir < 0)[0][0])
        raise WannierFormatError(f"lists R={tuple(int(x) for x in ws.R[e])}, absent from the "
                                 "Hamiltonian file", path=str(ws.path), line=int(ws.line[e]))
    key = (ir * N + ws.m) * N + ws.n
    counts = np.bincount(key, minlength=NR * N * N)
    if np.any(counts > 1):
        k = int(np.nonzero(counts > 1)[0][0])
        e = int(np.nonzero(key == k)[0][1])
        raise WannierFormatError(
            f"entry (R={tuple(int(x) for x in ws.R[e])}, m={ws.m[e] + 1}, n={ws.n[e] + 1}) "
            "listed twice", path=str(ws.path), line=int(ws.line[e]))
    if np.any(counts == 0):
        k = int(np.nonzero(counts == 0)[0][0])
        b, rem = divmod(k, N * N)
        raise WannierFormatError(
            f"no entry for R={tuple(int(x) for x in R[b])}, m={rem // N + 1}, n={rem % N + 1} "
            "(the file does not match the Hamiltonian)", path=str(ws.path))
    o = ws.owner
    newR = ws.R[o] + ws.shifts
    Ru, slot = np.unique(newR, axis=0, return_inverse=True)
    slot = slot.reshape(-1)
    w = 1.0 / ws.ndeg[o]
    Hn = np.zeros((len(Ru), N, N), dtype=complex)
    np.add.at(Hn, (slot, ws.m[o], ws.n[o]), H[ir[o], ws.m[o], ws.n[o]] * w)
    rn = None
    if r is not None:
        rn = np.zeros((len(Ru), 3, N, N), dtype=complex)
        for a in range(3):
            np.add.at(rn[:, a], (slot, ws.m[o], ws.n[o]), r[ir[o], a, ws.m[o], ws.n[o]] * w)
    return Ru, Hn, rn
