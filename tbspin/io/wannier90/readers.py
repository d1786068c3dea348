"""Readers of the Wannier90 Hamiltonian files ``seedname_hr.dat`` and ``seedname_tb.dat``.

``seedname_hr.dat``
    Header line, ``num_wann``, ``nrpts``, the ``nrpts`` integer degeneracy weights of the
    Wigner–Seitz R vectors (15 per line), then one line ``R1 R2 R3 m n Re Im`` per matrix element
    with ``H_R[m, n] = <m, 0|H|n, R>`` (eV, 1-based m, n) *before* division by the weight of R.
    tbspin divides by the weights on load.
``seedname_tb.dat``
    Header, the three lattice vectors (rows, Å), ``num_wann``, ``nrpts``, the weights, then for
    every R a blank line, ``R1 R2 R3`` and ``num_wann²`` lines ``m n Re Im`` of H_R; then the same
    for the position matrix ``r_R[a, m, n] = <m, 0|r_a|n, R>`` (lines ``m n x_re x_im y_re y_im
    z_re z_im``, Å). Both are divided by the weights on load.

Either file may be compressed (``.gz``, or a ``.tar.gz`` holding only that file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tbspin.errors import WannierFormatError
from tbspin.io.wannier90.text import (
    _check_unique_R,
    _ints,
    _nonblank,
    _place_blocks,
    _single_int,
    _table,
    _take_ints,
    read_text_lines,
)
from tbspin.types import ComplexArray, FloatArray, IntArray, PathLike

__all__ = ["Wannier90Data", "read_hr", "read_tb"]


@dataclass
class Wannier90Data:
    """Raw content of an ``_hr.dat`` or ``_tb.dat`` file (weights already divided out).

    Attributes
    ----------
    path : Path
    header : str
    num_wann : int
    R : (NR, 3) int array
    ndegen : (NR,) int array
        Degeneracy weights as listed in the file.
    H : (NR, N, N) complex array
        ``<m,0|H|n,R>`` in eV, divided by ``ndegen``.
    lattice : (3, 3) array or None
        Lattice vectors (rows, Å) from ``_tb.dat``.
    r : (NR, 3, N, N) complex array or None
        ``<m,0|r_a|n,R>`` in Å from ``_tb.dat``, divided by ``ndegen``.
    block_line : (NR,) int array
        1-based line of the first entry of each R block (for messages).
    entry_line : (NR, N*N) int array
        1-based line of the Hamiltonian entry H_R[m, n] at ``[R index, m*N + n]`` (messages
        name the line of the offending element, whatever the order inside a block).
    """

    path: Path
    header: str
    num_wann: int
    R: IntArray
    ndegen: IntArray
    H: ComplexArray
    lattice: FloatArray | None = None
    r: ComplexArray | None = None
    block_line: IntArray = field(default_factory=lambda: np.zeros(0, int))
    entry_line: IntArray = field(default_factory=lambda: np.zeros((0, 0), int))


def _sizes_and_weights(
    lines: list[str], first: int, path: Path
) -> tuple[int, int, IntArray, int]:
    """num_wann (at 0-based line ``first``), nrpts, the nrpts degeneracy weights (15 a line)
    and the index of the line after them."""
    N = _single_int(lines, first, path, "num_wann")
    nrpts = _single_int(lines, first + 1, path, "nrpts")
    ndegen, i0 = _take_ints(lines, first + 2, nrpts, path, "degeneracy weights")
    if np.any(ndegen < 1):
        raise WannierFormatError("degeneracy weights must be positive integers", path=str(path),
                                 line=first + 3 + int(np.nonzero(ndegen < 1)[0][0]) // 15)
    return N, nrpts, ndegen, i0


def read_hr(path: PathLike) -> Wannier90Data:
    """Read a Wannier90 ``seedname_hr.dat`` file.

    Parameters
    ----------
    path : path-like
        The ``_hr.dat`` file.

    Returns
    -------
    Wannier90Data
        With H_R divided by the degeneracy weights; ``lattice`` and ``r`` are None.

    Raises
    ------
    WannierFormatError
        On any malformed content (the message names the file and line).
    """
    path = Path(path)
    lines = read_text_lines(path)
    if not lines:
        raise WannierFormatError("empty file", path=str(path), line=1)
    N, nrpts, ndegen, i0 = _sizes_and_weights(lines, 1, path)
    nrows = nrpts * N * N
    if nrows > len(lines):
        raise WannierFormatError(
            f"file ends early: nrpts*num_wann² = {nrows} entries announced, the file has "
            f"{len(lines)} lines (truncated, or wrong num_wann/nrpts?)", path=str(path),
            line=len(lines) + 1)
    rest = lines[i0:]
    ntok = np.fromiter(map(len, map(str.split, rest)), dtype=np.int64, count=len(rest))
    keep = np.nonzero(ntok)[0]  # blank lines are tolerated
    if len(keep) < nrows:
        wrong = np.nonzero(ntok[keep] != 7)[0]
        if len(wrong):
            j = int(keep[wrong[0]])
            raise WannierFormatError(
                f"expected 7 numbers 'R1 R2 R3 m n Re Im', found {ntok[j]}", path=str(path),
                line=i0 + j + 1)
        raise WannierFormatError(
            f"file ends early: expected nrpts*num_wann² = {nrows} entries, found {len(keep)} "
            "(truncated?)", path=str(path), line=len(lines) + 1)
    if len(keep) > nrows:
        raise WannierFormatError("unexpected extra data after the last entry (wrong nrpts?)",
                                 path=str(path), line=i0 + int(keep[nrows]) + 1)
    if keep[-1] == nrows - 1:  # no blank line inside the body (the normal case)
        body = rest[:nrows]
    else:
        body = [rest[j] for j in keep]
    linenos = keep + (i0 + 1)
    arr = _table(body, linenos, 7, path, "hopping", ntok=ntok[keep])
    ints = _ints(arr[:, :5], linenos, path, "R and orbital indices")
    R, flat = _place_blocks(ints, nrpts, N, path, linenos, None)
    vals = (arr[:, 5] + 1j * arr[:, 6]).reshape(nrpts, N * N) / ndegen[:, None]
    H = np.zeros((nrpts, N * N), dtype=complex)
    np.put_along_axis(H, flat, vals, axis=1)
    entry = np.zeros((nrpts, N * N), dtype=int)
    np.put_along_axis(entry, flat, linenos.reshape(nrpts, N * N), axis=1)
    return Wannier90Data(path=path, header=lines[0].strip(), num_wann=N, R=R, ndegen=ndegen,
                         H=H.reshape(nrpts, N, N), block_line=linenos[:: N * N].copy(),
                         entry_line=entry)


def read_tb(path: PathLike) -> Wannier90Data:
    """Read a Wannier90 ``seedname_tb.dat`` file (lattice, H_R and the position matrix r_R).

    Parameters
    ----------
    path : path-like
        The ``_tb.dat`` file.

    Returns
    -------
    Wannier90Data
        With ``lattice`` (Å, rows), H_R (eV) and r_R (Å, shape (NR, 3, N, N)), both divided by
        the degeneracy weights.

    Raises
    ------
    WannierFormatError
        On any malformed content.
    """
    path = Path(path)
    lines = read_text_lines(path)
    if len(lines) < 4:
        raise WannierFormatError("file ends before the lattice vectors (truncated)",
                                 path=str(path), line=len(lines) + 1)
    lattice = _table(lines[1:4], np.arange(2, 5), 3, path, "lattice vector")
    if abs(np.linalg.det(lattice)) < 1e-8:
        raise WannierFormatError("lattice vectors are linearly dependent", path=str(path),
                                 line=2)
    N, nrpts, ndegen, i0 = _sizes_and_weights(lines, 4, path)
    body, linenos = _nonblank(lines, i0)
    nn = N * N
    per = 1 + nn
    need = 2 * nrpts * per
    if need > len(lines):
        raise WannierFormatError(
            f"file ends early: {need} lines announced by num_wann={N} and nrpts={nrpts}, the "
            f"file has {len(lines)} (truncated, or wrong num_wann/nrpts?)", path=str(path),
            line=len(lines) + 1)
    if len(body) < need:
        # find the first structurally wrong line to point at, else report truncation
        expect = np.where(np.arange(len(body)) % per == 0, 3,
                          np.where(np.arange(len(body)) < nrpts * per, 4, 8))
        for j, text in enumerate(body):
            if len(text.split()) != expect[j]:
                raise WannierFormatError(
                    f"expected {expect[j]} numbers, found {len(text.split())} (missing line or "
                    "wrong num_wann/nrpts?)", path=str(path), line=int(linenos[j]))
        raise WannierFormatError(
            f"file ends early: expected {need} non-blank lines after the weights, found "
            f"{len(body)} (truncated?)", path=str(path), line=len(lines) + 1)
    if len(body) > need:
        raise WannierFormatError("unexpected extra data after the position matrix (wrong "
                                 "nrpts?)", path=str(path), line=int(linenos[need]))
    idx = np.arange(need)
    is_head = idx % per == 0
    sec_h = idx < nrpts * per
    out = []
    for sec, ncol in ((sec_h, 4), (~sec_h, 8)):
        head = np.nonzero(is_head & sec)[0]
        data = np.nonzero(~is_head & sec)[0]
        Rh = _ints(_table([body[j] for j in head], linenos[head], 3, path, "R vector"),
                   linenos[head], path, "R vectors")
        arr = _table([body[j] for j in data], linenos[data], ncol, path,
                     "Hamiltonian" if ncol == 4 else "position-matrix")
        mn = _ints(arr[:, :2], linenos[data], path, "orbital indices")
        R, flat = _place_blocks(mn, nrpts, N, path, linenos[data], Rh)
        _check_unique_R(Rh, path, linenos[head])
        vals = arr[:, 2::2] + 1j * arr[:, 3::2]  # (rows, 1 or 3)
        M = np.zeros((nrpts, nn, vals.shape[1]), dtype=complex)
        np.put_along_axis(M, flat[:, :, None], vals.reshape(nrpts, nn, -1), axis=1)
        M /= ndegen[:, None, None]
        entry = np.zeros((nrpts, nn), dtype=int)
        np.put_along_axis(entry, flat, linenos[data].reshape(nrpts, nn), axis=1)
        out.append((R, M, linenos[head], entry))
    (R, MH, block_line, entry_line), (R2, Mr, _, _) = out
    if not np.array_equal(R, R2):
        b = int(np.nonzero(np.any(R != R2, axis=1))[0][0])
        raise WannierFormatError(
            f"the position-matrix section lists R={tuple(int(x) for x in R2[b])} where the "
            f"Hamiltonian section has R={tuple(int(x) for x in R[b])}", path=str(path),
            line=int(linenos[np.nonzero(is_head & ~sec_h)[0][b]]))
    H = MH[:, :, 0].reshape(nrpts, N, N)
    r = Mr.reshape(nrpts, N, N, 3).transpose(0, 3, 1, 2).copy()
    return Wannier90Data(path=path, header=lines[0].strip(), num_wann=N, R=R, ndegen=ndegen,
                         H=H, lattice=lattice, r=r, block_line=block_line,
                         entry_line=entry_line)
