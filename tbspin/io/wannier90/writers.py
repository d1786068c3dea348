"""Writers of Wannier90 ``_hr.dat`` and ``_tb.dat`` files (atomic: a reader never sees half a
file). Values carry 17 significant digits, so reading a written file gives back the same H_R
bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tbspin.errors import ModelError
from tbspin.io.atomic import atomic_write
from tbspin.model.lattice import LatticeModel
from tbspin.types import ComplexArray, IntArray, PathLike

__all__ = ["write_hr", "write_tb", "position_matrix"]


def position_matrix(model: LatticeModel) -> tuple[IntArray, ComplexArray] | None:
    """The model's Wannier position matrix (R, r_R) or None.

    """
    pm = model.position_matrix
    if pm is None:
        return None
    return np.asarray(pm.R), np.asarray(pm.r)


def _pad3(R: IntArray) -> IntArray:
    out = np.zeros((len(R), 3), dtype=np.int64)
    out[:, : R.shape[1]] = R
    return out


def _header(header: str | None, model: LatticeModel) -> str:
    text = header if header is not None else f"written by tbspin from model {model.name!r}"
    return text.replace("\n", " ").replace("\r", " ")


def _degen_lines(nrpts: int) -> str:
    ones = np.ones(nrpts, dtype=int)
    rows = [ones[i:i + 15] for i in range(0, nrpts, 15)]
    return "".join("".join(f"{x:5d}" for x in row) + "\n" for row in rows)


def write_hr(
    model: LatticeModel, path: PathLike, *, header: str | None = None
) -> Path:
    """Write ``model`` as a Wannier90 ``_hr.dat`` file (atomically).

    Every R gets weight 1 and the full num_wann² matrix; values are written with 17
    significant digits, so :func:`read_hr` gives back the same H_R bit for bit. The file holds
    no lattice or positions: read it back with ``lattice=``/``positions=`` (or write
    ``_tb.dat``). Models with d < 3 are written with zero R components along the missing axes.

    Parameters
    ----------
    model : LatticeModel
    path : path-like
        Target file (conventionally ``seedname_hr.dat``).
    header : str, optional
        First line of the file.

    Returns
    -------
    pathlib.Path
    """
    R = _pad3(model.R)
    N = model.n_orbitals
    H = model.hoppings  # (NR, N, N)
    # Wannier90 order: R blocks, column index n slowest, row index m fastest
    nR = len(R)
    m_idx, n_idx = np.meshgrid(np.arange(N), np.arange(N), indexing="xy")
    m_flat, n_flat = m_idx.ravel(), n_idx.ravel()  # m fastest
    vals = H[:, m_flat, n_flat]  # (NR, N*N)
    table = np.empty((nR * N * N, 7), dtype=object)
    table[:, 0:3] = np.repeat(R, N * N, axis=0)
    table[:, 3] = np.tile(m_flat + 1, nR)
    table[:, 4] = np.tile(n_flat + 1, nR)
    table[:, 5] = vals.real.ravel()
    table[:, 6] = vals.imag.ravel()
    fmt = "%5d%5d%5d%5d%5d %24.17e %24.17e\n"
    body = (fmt * len(table)) % tuple(table.ravel().tolist())
    text = f"{_header(header, model)}\n{N:12d}\n{nR:12d}\n{_degen_lines(nR)}{body}"
    return atomic_write(path, text)


def write_tb(
    model: LatticeModel, path: PathLike, *, header: str | None = None
) -> Path:
    """Write ``model`` as a Wannier90 ``_tb.dat`` file (lattice, H_R, r_R), atomically.

    The position matrix is the model's Wannier position matrix when it has one, otherwise the
    diagonal tight-binding one (r_{R=0}[a, m, m] = τ_m,a). Only 3D models are supported (the
    file format holds three lattice vectors).

    Parameters
    ----------
    model : LatticeModel
    path : path-like
    header : str, optional

    Returns
    -------
    pathlib.Path
    """
    if model.dim != 3:
        raise ModelError(f"write_tb needs a 3D model (the _tb.dat format stores 3 lattice "
                         f"vectors); model {model.name!r} is {model.dim}D: use write_hr")
    N = model.n_orbitals
    R = model.R
    H = model.hoppings
    pm = position_matrix(model)
    if pm is not None:
        Rr, r = np.asarray(pm[0]), np.asarray(pm[1])
        # bring r onto the R list of H (zeros where r has no entry); r entries at R absent
        # from H are added with zero hopping
        Rall, inv = np.unique(np.concatenate([R, Rr]), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        Hn = np.zeros((len(Rall), N, N), complex)
        Hn[inv[: len(R)]] = H
        rn = np.zeros((len(Rall), 3, N, N), complex)
        rn[inv[len(R):]] = r
        R, H, r = Rall, Hn, rn
    else:
        r = np.zeros((len(R), 3, N, N), complex)
        zero = np.nonzero(~np.any(R != 0, axis=1))[0]
        if len(zero) == 0:
            R = np.vstack([R, np.zeros((1, 3), int)])
            H = np.concatenate([H, np.zeros((1, N, N), complex)])
            r = np.concatenate([r, np.zeros((1, 3, N, N), complex)])
            zero = np.array([len(R) - 1])
        idx = np.arange(N)
        r[zero[0]][:, idx, idx] = model.positions.T
    nR = len(R)
    m_idx, n_idx = np.meshgrid(np.arange(N), np.arange(N), indexing="xy")
    m_flat, n_flat = m_idx.ravel(), n_idx.ravel()
    mn = (np.column_stack([m_flat + 1, n_flat + 1])).tolist()
    hv = H[:, m_flat, n_flat]
    rv = r[:, :, m_flat, n_flat]  # (NR, 3, N*N)
    parts = [f"{_header(header, model)}\n"]
    parts += ["".join(f" {x:24.17e}" for x in row) + "\n" for row in model.lattice]
    parts.append(f"{N:12d}\n{nR:12d}\n{_degen_lines(nR)}")
    hfmt = "%5d%5d %24.17e %24.17e\n" * (N * N)
    rfmt = "%5d%5d" + " %24.17e" * 6 + "\n"
    rfmt = rfmt * (N * N)
    for b in range(nR):  # loop over R blocks (writer only; each block is one vectorized format)
        flat = [x for (mm, nn), v in zip(mn, hv[b], strict=True)
                for x in (mm, nn, v.real, v.imag)]
        parts.append(f"\n{R[b, 0]:5d}{R[b, 1]:5d}{R[b, 2]:5d}\n" + hfmt % tuple(flat))
    for b in range(nR):
        vals = np.stack([rv[b].real, rv[b].imag], axis=-1).transpose(1, 0, 2).reshape(N * N, 6)
        flat = [x for (mm, nn), v in zip(mn, vals.tolist(), strict=True) for x in (mm, nn, *v)]
        parts.append(f"\n{R[b, 0]:5d}{R[b, 1]:5d}{R[b, 2]:5d}\n" + rfmt % tuple(flat))
    return atomic_write(path, "".join(parts))
