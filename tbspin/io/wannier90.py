"""Read and write Wannier90 tight-binding files.

Files understood
----------------
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
``seedname_wsvec.dat``
    Wannier90's ``use_ws_distance`` (minimal-distance replica) information. For every (R, m, n)
    it lists ``ndeg`` integer lattice shifts T (multiples of the k-mesh supercell). Wannier90's
    interpolation places the hopping ``H_R[m, n]`` at ``R + T`` for each listed T with weight
    ``1/ndeg`` (see the ``use_ws_distance`` entry of the Wannier90 user guide); tbspin does the
    same remapping once on load, for H_R and for r_R.
``seedname_centres.xyz``
    ``num_wann + num_atoms`` rows: the Wannier centres (label ``X``) then the atoms, Cartesian Å.
``seedname.win``
    The ``unit_cell_cart`` block (first line optionally ``bohr`` or ``ang``; default Å), the
    ``atoms_frac``/``atoms_cart`` blocks and the keywords ``spinors``, ``translate_home_cell``.
    ASE (3.22–3.29) reads ``.wout`` but not ``.win``, so the blocks are parsed here.

Spinor order
------------
Spinor Wannier functions come in one of two orders (there is no way to tell from the file):

* ``"interleaved"``: ↑, ↓ for every projection (Quantum ESPRESSO pw2wannier90, VASP 6);
* ``"block"``: all ↑ functions first, then all ↓ in the same orbital order (VASP 5,
  WannierTools examples).

Pass ``spin_order=`` to attach the Pauli operators ``sx, sy, sz`` (units of ħ/2). Without it the
model has no spin operators and every spin observable raises :class:`tbspin.ModelError`.
When the order is given, tbspin compares how much of H_R connects opposite spins in either
order and emits :class:`SpinOrderWarning` when the model conserves s_z only in the *other*
order (see :func:`check_spin_order`).

Position operator
-----------------
``LatticeModel`` uses the diagonal tight-binding position operator (orbital positions =
Wannier centres, from ``_centres.xyz``, from the final state in ``.wout``, from the diagonal of
r_{R=0} in ``_tb.dat``, or from
``positions=``). A model read from ``_tb.dat`` additionally stores the full position matrix in
``metadata["position_matrix"] = (R, r)`` with ``R`` (NR, 3) integers and ``r`` (NR, 3, N, N)
complex Å (same Wigner–Seitz remapping as H). ``metadata["position_operator"]`` records the
approximation the Berry-connection code should use: ``"diagonal"`` (tight-binding
approximation, the default) or ``"full"`` (``use_position_matrix=True``).

Hermiticity
-----------
On load, ``max |H_R[m, n] − conj(H_{−R}[n, m])|`` is computed; above ``hermitian_tol`` a
:class:`tbspin.WannierFormatError` names the file, the worst (R, m, n) and the size; above
:data:`HERMITIAN_WARN` (the 1e-6 eV print precision of ``_hr.dat``) a :class:`WannierWarning`
is emitted. The model then holds the Hermitian part (H_R + H_{−R}†)/2.

Every malformed file raises :class:`tbspin.WannierFormatError` naming the file and line.
Parsing is vectorized: the numeric body is split once and converted by numpy; line-by-line
inspection only happens to pinpoint an error.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TbspinWarning, WannierFormatError
from ..model import LatticeModel
from ..units import BOHR
from .atomic import atomic_write

__all__ = [
    "SPIN_ORDERS",
    "HERMITIAN_WARN",
    "WannierWarning",
    "SpinOrderWarning",
    "Wannier90Data",
    "WsVectors",
    "Win",
    "read_wannier90",
    "read_hr",
    "read_tb",
    "read_wsvec",
    "read_centres",
    "read_wout_centres",
    "read_win",
    "apply_ws_distance",
    "spin_operators",
    "spin_mixing",
    "check_spin_order",
    "write_hr",
    "write_tb",
]

log = logging.getLogger(__name__)

SPIN_ORDERS = ("interleaved", "block")
#: Hermiticity violations (eV) above this value are reported with a warning.
HERMITIAN_WARN = 1e-6

_SPIN_ORDER_HELP = (
    "spin_order must be 'interleaved' (up, down for every projection: Quantum ESPRESSO, "
    "VASP 6) or 'block' (all spin-up Wannier functions first, then all spin-down in the same "
    "orbital order: VASP 5, WannierTools)"
)


class WannierWarning(TbspinWarning):
    """Suspicious but usable Wannier90 input (small non-Hermiticity, missing centres)."""


class SpinOrderWarning(WannierWarning):
    """The chosen spinor order looks wrong: H conserves s_z only in the other order."""


# ====================================================================== data containers
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
    """

    path: Path
    header: str
    num_wann: int
    R: np.ndarray
    ndegen: np.ndarray
    H: np.ndarray
    lattice: np.ndarray | None = None
    r: np.ndarray | None = None
    block_line: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


@dataclass
class WsVectors:
    """Content of ``_wsvec.dat``: for entry e, hopping (R[e], m[e], n[e]) (0-based m, n) is
    split over ``R[e] + shifts[owner == e]`` with weight ``1/ndeg[e]``."""

    path: Path
    use_ws_distance: bool | None
    R: np.ndarray
    m: np.ndarray
    n: np.ndarray
    ndeg: np.ndarray
    shifts: np.ndarray
    owner: np.ndarray
    line: np.ndarray


@dataclass
class Win:
    """What tbspin takes from a ``.win`` file."""

    path: Path
    lattice: np.ndarray | None
    atom_symbols: list[str]
    atom_positions: np.ndarray | None
    keywords: dict[str, str]


# ====================================================================== text helpers
def _read_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WannierFormatError("file not found", path=str(path)) from None
    except OSError as exc:
        raise WannierFormatError(f"cannot read file ({exc})", path=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise WannierFormatError("not a text file (invalid UTF-8 byte)", path=str(path),
                                 line=line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise WannierFormatError("not a text file (NUL byte)", path=str(path), line=line)
    return text.splitlines()


def _to_float(tokens: list[str]) -> np.ndarray:
    """Convert tokens to floats; Fortran ``1.0D-03`` exponents are accepted."""
    try:
        return np.array(tokens, dtype=float)
    except ValueError:
        fixed = [t.replace("D", "E").replace("d", "e") for t in tokens]
        return np.array(fixed, dtype=float)


def _bad_token(tokens: list[str]) -> str | None:
    for t in tokens:
        try:
            float(t.replace("D", "E").replace("d", "e"))
        except ValueError:
            return t
    return None


def _table(
    lines: list[str], linenos: np.ndarray, ncols: int, path: Path, what: str,
    ntok: np.ndarray | None = None,
) -> np.ndarray:
    """Parse ``lines`` (each exactly ``ncols`` numbers) into a finite (n, ncols) float array.

    ``linenos`` are the 1-based file line numbers of ``lines`` (for messages).
    """
    n = len(lines)
    if n == 0:
        return np.zeros((0, ncols))
    if ntok is None:
        ntok = np.fromiter(map(len, map(str.split, lines)), dtype=np.int64, count=n)
    wrong = ntok != ncols
    if wrong.any():
        i = int(np.nonzero(wrong)[0][0])
        raise WannierFormatError(
            f"expected {ncols} numbers in {what} line, found {ntok[i]}: "
            f"{lines[i].strip()[:60]!r}", path=str(path), line=int(linenos[i]))
    tokens = " ".join(lines).split()
    arr = None
    if len(tokens) == n * ncols:
        try:
            arr = _to_float(tokens)
        except ValueError:
            arr = None
    if arr is None:
        # slow path: find the first offending line
        for i, text in enumerate(lines):
            toks = text.split()
            if len(toks) != ncols:
                raise WannierFormatError(
                    f"expected {ncols} numbers in {what} line, found {len(toks)}: "
                    f"{text.strip()[:60]!r}", path=str(path), line=int(linenos[i]))
            bad = _bad_token(toks)
            if bad is not None:
                raise WannierFormatError(f"non-numeric token {bad[:30]!r} in {what}",
                                         path=str(path), line=int(linenos[i]))
        raise WannierFormatError(f"could not parse {what}", path=str(path),  # pragma: no cover
                                 line=int(linenos[0]))
    arr = arr.reshape(n, ncols)
    finite = np.isfinite(arr)
    if not finite.all():
        i = int(np.nonzero(~finite.all(axis=1))[0][0])
        raise WannierFormatError(f"NaN or Inf in {what}", path=str(path), line=int(linenos[i]))
    return arr


def _ints(arr: np.ndarray, linenos: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Check that a float array holds integers (row-wise line numbers) and convert."""
    bad = (arr != np.round(arr)) | (np.abs(arr) > 2**31 - 1)
    if bad.any():
        i = int(np.nonzero(bad.reshape(len(arr), -1).any(axis=1))[0][0])
        raise WannierFormatError(f"{what} must be integers", path=str(path),
                                 line=int(linenos[i]))
    return np.round(arr).astype(np.int64)


def _single_int(lines: list[str], i: int, path: Path, what: str, minimum: int = 1,
                maximum: int = 10**7) -> int:
    if i >= len(lines):
        raise WannierFormatError(f"file ends before {what} (truncated)", path=str(path),
                                 line=i + 1)
    toks = lines[i].split()
    if len(toks) != 1:
        raise WannierFormatError(f"expected one integer ({what}), found {lines[i].strip()[:60]!r}",
                                 path=str(path), line=i + 1)
    try:
        val = int(toks[0])
    except ValueError:
        raise WannierFormatError(f"{what} is not an integer: {toks[0][:30]!r}", path=str(path),
                                 line=i + 1) from None
    if not minimum <= val <= maximum:
        raise WannierFormatError(f"{what} must lie in {minimum}..{maximum}, got {val}",
                                 path=str(path), line=i + 1)
    return val


def _take_ints(
    lines: list[str], start: int, count: int, path: Path, what: str
) -> tuple[np.ndarray, int]:
    """Collect ``count`` integers from lines ``start, start+1, ...``; return them and the index
    of the next line. (A loop over at most count/15 short lines.)"""
    vals: list[int] = []
    i = start
    while len(vals) < count:
        if i >= len(lines):
            raise WannierFormatError(
                f"file ends inside the {what} (found {len(vals)} of {count}; truncated?)",
                path=str(path), line=i + 1)
        toks = lines[i].split()
        if not toks:
            raise WannierFormatError(f"blank line inside the {what}", path=str(path), line=i + 1)
        if len(vals) + len(toks) > count:
            raise WannierFormatError(
                f"too many values in the {what}: expected {count} in total (wrong nrpts?)",
                path=str(path), line=i + 1)
        for t in toks:
            try:
                v = int(t)
            except ValueError:
                v = None
            if v is None or abs(v) >= 2**31:
                raise WannierFormatError(f"bad integer token {t[:30]!r} in the {what}",
                                         path=str(path), line=i + 1)
            vals.append(v)
        i += 1
    return np.array(vals, dtype=np.int64), i


def _nonblank(lines: list[str], start: int) -> tuple[list[str], np.ndarray]:
    """Non-blank lines from ``start`` on, with their 1-based line numbers."""
    keep = [i for i in range(start, len(lines)) if lines[i].strip()]
    return [lines[i] for i in keep], np.array(keep, dtype=np.int64) + 1


def _place_blocks(
    ints: np.ndarray, nrpts: int, N: int, path: Path, linenos: np.ndarray,
    R_blocks: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate the (R?, m, n) integer columns of a block-structured body.

    ``ints`` has columns (R1, R2, R3, m, n) when ``R_blocks`` is None, else (m, n).
    Returns (R (nrpts, 3), flat index (nrpts, N²) of m*N + n per row, 0-based).
    """
    nn = N * N
    if R_blocks is None:
        Rrows = ints[:, :3].reshape(nrpts, nn, 3)
        same = np.all(Rrows == Rrows[:, :1, :], axis=2)
        if not same.all():
            b, j = (int(x) for x in np.argwhere(~same)[0])
            raise WannierFormatError(
                f"R={tuple(int(x) for x in Rrows[b, j])} appears inside the block of "
                f"R={tuple(int(x) for x in Rrows[b, 0])}: every R must have num_wann²={nn} "
                "consecutive entries (wrong num_wann or nrpts, or a missing/extra line?)",
                path=str(path), line=int(linenos[b * nn + j]))
        R = Rrows[:, 0, :]
        mn = ints[:, 3:5]
    else:
        R = R_blocks
        mn = ints[:, 0:2]
    out = (mn < 1) | (mn > N)
    if out.any():
        i = int(np.nonzero(out.any(axis=1))[0][0])
        raise WannierFormatError(
            f"orbital index {tuple(int(x) for x in mn[i])} outside 1..num_wann={N}",
            path=str(path), line=int(linenos[i]))
    flat = ((mn[:, 0] - 1) * N + (mn[:, 1] - 1)).reshape(nrpts, nn)
    srt = np.sort(flat, axis=1)
    ok = np.all(srt == np.arange(nn)[None, :], axis=1)
    if not ok.all():
        b = int(np.nonzero(~ok)[0][0])
        row = flat[b]
        _, first, counts = np.unique(row, return_index=True, return_counts=True)
        dup_vals = np.nonzero(np.bincount(row, minlength=nn) > 1)[0]
        j = int(np.nonzero(row == dup_vals[0])[0][1]) if len(dup_vals) else 0
        m, n = divmod(int(row[j]), N)
        raise WannierFormatError(
            f"entry (m, n)=({m + 1}, {n + 1}) listed twice for R={tuple(int(x) for x in R[b])}",
            path=str(path), line=int(linenos[b * nn + j]))
    _check_unique_R(R, path, linenos[::nn])
    return R, flat


def _check_unique_R(R: np.ndarray, path: Path, block_lines: np.ndarray) -> None:
    _, first, inv = np.unique(R, axis=0, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    dup = np.nonzero(first[inv] != np.arange(len(R)))[0]
    if len(dup):
        b = int(dup[0])
        raise WannierFormatError(
            f"R={tuple(int(x) for x in R[b])} listed twice (first block at line "
            f"{int(block_lines[first[inv[b]]])})", path=str(path), line=int(block_lines[b]))


# ====================================================================== readers
def read_hr(path: str | os.PathLike[str]) -> Wannier90Data:
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
    lines = _read_lines(path)
    if not lines:
        raise WannierFormatError("empty file", path=str(path), line=1)
    N = _single_int(lines, 1, path, "num_wann")
    nrpts = _single_int(lines, 2, path, "nrpts")
    ndegen, i0 = _take_ints(lines, 3, nrpts, path, "degeneracy weights")
    if np.any(ndegen < 1):
        raise WannierFormatError("degeneracy weights must be positive integers", path=str(path),
                                 line=4 + int(np.nonzero(ndegen < 1)[0][0]) // 15)
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
    return Wannier90Data(path=path, header=lines[0].strip(), num_wann=N, R=R, ndegen=ndegen,
                         H=H.reshape(nrpts, N, N), block_line=linenos[:: N * N].copy())


def read_tb(path: str | os.PathLike[str]) -> Wannier90Data:
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
    lines = _read_lines(path)
    if len(lines) < 4:
        raise WannierFormatError("file ends before the lattice vectors (truncated)",
                                 path=str(path), line=len(lines) + 1)
    lattice = _table(lines[1:4], np.arange(2, 5), 3, path, "lattice vector")
    if abs(np.linalg.det(lattice)) < 1e-8:
        raise WannierFormatError("lattice vectors are linearly dependent", path=str(path),
                                 line=2)
    N = _single_int(lines, 4, path, "num_wann")
    nrpts = _single_int(lines, 5, path, "nrpts")
    ndegen, i0 = _take_ints(lines, 6, nrpts, path, "degeneracy weights")
    if np.any(ndegen < 1):
        raise WannierFormatError("degeneracy weights must be positive integers", path=str(path),
                                 line=7 + int(np.nonzero(ndegen < 1)[0][0]) // 15)
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
        out.append((R, M, linenos[head]))
    (R, MH, block_line), (R2, Mr, _) = out
    if not np.array_equal(R, R2):
        b = int(np.nonzero(np.any(R != R2, axis=1))[0][0])
        raise WannierFormatError(
            f"the position-matrix section lists R={tuple(int(x) for x in R2[b])} where the "
            f"Hamiltonian section has R={tuple(int(x) for x in R[b])}", path=str(path),
            line=int(linenos[np.nonzero(is_head & ~sec_h)[0][b]]))
    H = MH[:, :, 0].reshape(nrpts, N, N)
    r = Mr.reshape(nrpts, N, N, 3).transpose(0, 3, 1, 2).copy()
    return Wannier90Data(path=path, header=lines[0].strip(), num_wann=N, R=R, ndegen=ndegen,
                         H=H, lattice=lattice, r=r, block_line=block_line)


def read_wsvec(path: str | os.PathLike[str], num_wann: int | None = None) -> WsVectors:
    """Read a Wannier90 ``seedname_wsvec.dat`` file.

    Parameters
    ----------
    path : path-like
        The ``_wsvec.dat`` file.
    num_wann : int, optional
        Check orbital indices against this number.

    Returns
    -------
    WsVectors
    """
    path = Path(path)
    lines = _read_lines(path)
    if not lines:
        raise WannierFormatError("empty file", path=str(path), line=1)
    head = lines[0].lower()
    use = True if ".true." in head else False if ".false." in head else None
    body, linenos = _nonblank(lines, 1)
    if not body:
        raise WannierFormatError("no entries after the header (truncated?)", path=str(path),
                                 line=2)
    ntok = np.array([len(t.split()) for t in body])
    bad = ~np.isin(ntok, (1, 3, 5))
    if bad.any():
        j = int(np.nonzero(bad)[0][0])
        raise WannierFormatError(
            f"expected 5 integers 'R1 R2 R3 m n', 1 (ndeg) or 3 (a shift), found {ntok[j]}",
            path=str(path), line=int(linenos[j]))
    tokens = " ".join(body).split()
    try:
        vals = np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        for j, text in enumerate(body):
            for t in text.split():
                try:
                    ok = abs(int(t)) < 2**31
                except ValueError:
                    ok = False
                if not ok:
                    raise WannierFormatError(f"bad integer token {t[:30]!r}", path=str(path),
                                             line=int(linenos[j])) from None
        raise WannierFormatError("could not parse the integers", path=str(path)) from None
    starts = np.concatenate([[0], np.cumsum(ntok)[:-1]])
    i5 = np.nonzero(ntok == 5)[0]
    if len(i5) == 0 or i5[0] != 0:
        raise WannierFormatError("expected an entry line 'R1 R2 R3 m n'", path=str(path),
                                 line=int(linenos[0]))
    nxt = np.append(i5[1:], len(body))
    # every entry line is followed by one ndeg line and then ndeg shift lines
    after = i5 + 1
    if after[-1] >= len(body):
        raise WannierFormatError("file ends after an entry line (truncated)", path=str(path),
                                 line=int(linenos[-1]) + 1)
    not_ndeg = ntok[after] != 1
    if not_ndeg.any():
        j = int(after[np.nonzero(not_ndeg)[0][0]])
        raise WannierFormatError("expected the number of shifts (one integer)", path=str(path),
                                 line=int(linenos[j]))
    ndeg = vals[starts[after]]
    nshift = nxt - after - 1
    wrong = ndeg != nshift
    if wrong.any() or np.any(ndeg < 1):
        e = int(np.nonzero(wrong | (ndeg < 1))[0][0])
        raise WannierFormatError(
            f"entry announces {ndeg[e]} shift(s) but {nshift[e]} follow (ndeg must be >= 1)",
            path=str(path), line=int(linenos[after[e]]))
    extra_ones = np.setdiff1d(np.nonzero(ntok == 1)[0], after)
    if len(extra_ones):
        j = int(extra_ones[0])
        raise WannierFormatError("unexpected single integer", path=str(path),
                                 line=int(linenos[j]))
    ent = vals[starts[i5][:, None] + np.arange(5)[None, :]]
    is_shift = ntok == 3
    sl = np.nonzero(is_shift)[0]
    shifts = vals[starts[sl][:, None] + np.arange(3)[None, :]]
    owner = np.repeat(np.arange(len(i5)), ndeg)
    m, n = ent[:, 3] - 1, ent[:, 4] - 1
    if num_wann is not None:
        out = (m < 0) | (m >= num_wann) | (n < 0) | (n >= num_wann)
        if out.any():
            e = int(np.nonzero(out)[0][0])
            raise WannierFormatError(f"orbital index outside 1..num_wann={num_wann}",
                                     path=str(path), line=int(linenos[i5[e]]))
    return WsVectors(path=path, use_ws_distance=use, R=ent[:, :3], m=m, n=n, ndeg=ndeg,
                     shifts=shifts, owner=owner, line=linenos[i5])


def read_centres(path: str | os.PathLike[str], num_wann: int) -> np.ndarray:
    """Wannier centres (Cartesian Å, shape (num_wann, 3)) from ``seedname_centres.xyz``."""
    path = Path(path)
    lines = _read_lines(path)
    total = _single_int(lines, 0, path, "number of rows (num_wann + atoms)")
    if total < num_wann:
        raise WannierFormatError(f"lists {total} rows, fewer than num_wann={num_wann}",
                                 path=str(path), line=1)
    rows = lines[2:2 + num_wann]
    if len(rows) < num_wann:
        raise WannierFormatError(f"file ends after {len(rows)} of {num_wann} centres",
                                 path=str(path), line=len(lines) + 1)
    linenos = np.arange(3, 3 + num_wann)
    labels = []
    nums = []
    for text in rows:  # at most num_wann short lines
        toks = text.split()
        labels.append(toks[0] if toks else "")
        nums.append(" ".join(toks[1:]))
    arr = _table(nums, linenos, 3, path, "centre")
    notx = [i for i, lab in enumerate(labels) if lab.upper() != "X"]
    if notx:
        raise WannierFormatError(
            f"expected a Wannier centre (label 'X'), found label {labels[notx[0]][:20]!r}: the "
            f"file has fewer centres than num_wann={num_wann}", path=str(path),
            line=int(linenos[notx[0]]))
    return arr


_WOUT_CENTRE_RE = re.compile(
    r"WF centre and spread\s+(\d+)\s+\(\s*([-+0-9.eEdD]+)\s*,\s*([-+0-9.eEdD]+)\s*,"
    r"\s*([-+0-9.eEdD]+)\s*\)")


def read_wout_centres(path: str | os.PathLike[str], num_wann: int) -> np.ndarray:
    """Final Wannier centres (Cartesian Å, (num_wann, 3)) from the last "Final State" block of
    ``seedname.wout`` (the centres as Wannier90 found them, consistent with the R labels)."""
    path = Path(path)
    lines = _read_lines(path)
    starts = [i for i, ln in enumerate(lines) if "Final State" in ln]
    if not starts:
        raise WannierFormatError("no 'Final State' block with Wannier centres", path=str(path))
    out = np.full((num_wann, 3), np.nan)
    i = starts[-1] + 1
    while i < len(lines) and "WF centre and spread" in lines[i]:
        m = _WOUT_CENTRE_RE.search(lines[i])
        if m is None:
            raise WannierFormatError("cannot read a 'WF centre and spread' line", path=str(path),
                                     line=i + 1)
        j = int(m.group(1)) - 1
        if not 0 <= j < num_wann:
            raise WannierFormatError(f"Wannier function index {j + 1} outside 1..{num_wann}",
                                     path=str(path), line=i + 1)
        out[j] = [float(m.group(g).replace("D", "E").replace("d", "e")) for g in (2, 3, 4)]
        i += 1
    if np.isnan(out).any():
        raise WannierFormatError(
            f"the last 'Final State' block lists {int((~np.isnan(out[:, 0])).sum())} of "
            f"num_wann={num_wann} centres", path=str(path), line=starts[-1] + 1)
    return out


_BLOCK_RE = re.compile(r"^\s*begin\s+(\w+)", re.IGNORECASE)
_END_RE = re.compile(r"^\s*end\s+(\w+)", re.IGNORECASE)
_KEY_RE = re.compile(r"^\s*([A-Za-z_][\w]*)\s*[=:\s]\s*(.*?)\s*$")


def read_win(path: str | os.PathLike[str]) -> Win:
    """Lattice vectors, atoms and keywords from a Wannier90 ``seedname.win`` file.

    ``unit_cell_cart`` may start with a units line ``bohr`` or ``ang`` (default Å);
    ``atoms_cart`` likewise; ``atoms_frac`` is in units of the lattice vectors.
    """
    path = Path(path)
    lines = _read_lines(path)
    blocks: dict[str, list[tuple[int, str]]] = {}
    keywords: dict[str, str] = {}
    current: str | None = None
    for i, raw in enumerate(lines):  # .win files are short
        text = re.split(r"[!#]", raw, maxsplit=1)[0]
        if not text.strip():
            continue
        mb = _BLOCK_RE.match(text)
        me = _END_RE.match(text)
        if current is None and mb:
            current = mb.group(1).lower()
            if current in blocks:
                raise WannierFormatError(f"block {current!r} given twice", path=str(path),
                                         line=i + 1)
            blocks[current] = []
        elif current is not None and me:
            if me.group(1).lower() != current:
                raise WannierFormatError(f"'end {me.group(1)}' closes block {current!r}",
                                         path=str(path), line=i + 1)
            current = None
        elif current is not None:
            blocks[current].append((i + 1, text.strip()))
        elif me:
            raise WannierFormatError(f"'end {me.group(1)}' without a matching 'begin'",
                                     path=str(path), line=i + 1)
        else:
            mk = _KEY_RE.match(text)
            if mk:
                keywords[mk.group(1).lower()] = mk.group(2)
    if current is not None:
        raise WannierFormatError(f"block {current!r} is never closed", path=str(path),
                                 line=len(lines) + 1)

    def scaled_rows(name: str) -> tuple[list[tuple[int, str]], float]:
        rows = blocks[name]
        scale = 1.0
        if rows and rows[0][1].lower() in ("bohr", "ang", "angstrom"):
            scale = BOHR if rows[0][1].lower() == "bohr" else 1.0
            rows = rows[1:]
        return rows, scale

    lattice = None
    if "unit_cell_cart" in blocks:
        rows, scale = scaled_rows("unit_cell_cart")
        if len(rows) != 3:
            ln = rows[3][0] if len(rows) > 3 else (rows[-1][0] if rows else 1)
            raise WannierFormatError(f"unit_cell_cart must hold 3 lattice vectors, found "
                                     f"{len(rows)}", path=str(path), line=ln)
        lattice = _table([t for _, t in rows], np.array([ln for ln, _ in rows]), 3, path,
                         "unit_cell_cart") * scale
        if abs(np.linalg.det(lattice)) < 1e-8:
            raise WannierFormatError("unit_cell_cart vectors are linearly dependent",
                                     path=str(path), line=rows[0][0])
    symbols: list[str] = []
    atoms = None
    for name in ("atoms_cart", "atoms_frac"):
        if name not in blocks:
            continue
        rows, scale = scaled_rows(name) if name == "atoms_cart" else (blocks[name], 1.0)
        symbols = [t.split()[0] for _, t in rows]
        coords = _table([" ".join(t.split()[1:]) for _, t in rows],
                        np.array([ln for ln, _ in rows]), 3, path, name)
        if name == "atoms_frac":
            if lattice is None:
                atoms = None
                symbols = []
                continue
            coords = coords @ lattice
        atoms = coords * scale
        break
    return Win(path=path, lattice=lattice, atom_symbols=symbols, atom_positions=atoms,
               keywords=keywords)


# ====================================================================== physics helpers
def apply_ws_distance(
    R: np.ndarray, H: np.ndarray, ws: WsVectors, r: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
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


def _minus_index(R: np.ndarray) -> np.ndarray:
    """Index of −R in R for every row (−1 if absent)."""
    allR = np.concatenate([R, -R])
    uniq, inv = np.unique(allR, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    pos = np.full(len(uniq), -1)
    pos[inv[: len(R)]] = np.arange(len(R))
    return pos[inv[len(R):]]


def _check_hermiticity(data: Wannier90Data, tol: float) -> float:
    """Raise/warn on H_R != H_{-R}^dagger; return the worst violation (eV)."""
    mi = _minus_index(data.R)
    if np.any(mi < 0):
        b = int(np.nonzero(mi < 0)[0][0])
        raise WannierFormatError(
            f"R={tuple(int(x) for x in data.R[b])} is listed but -R is not: the Hamiltonian "
            "cannot be Hermitian", path=str(data.path), line=int(data.block_line[b]))
    diff = np.abs(data.H - data.H[mi].conj().transpose(0, 2, 1))
    b, m, n = np.unravel_index(int(np.argmax(diff)), diff.shape)
    worst = float(diff[b, m, n])
    where = (f"|H_R[m,n] - conj(H_-R[n,m])| = {worst:.3e} eV at "
             f"R={tuple(int(x) for x in data.R[b])}, m={m + 1}, n={n + 1}")
    if worst > tol:
        raise WannierFormatError(f"Hamiltonian is not Hermitian: {where} "
                                 f"(hermitian_tol={tol:g} eV)", path=str(data.path),
                                 line=int(data.block_line[b]))
    if worst > HERMITIAN_WARN:
        warnings.warn(f"{data.path}: small non-Hermiticity {where}; using (H_R + H_-R^†)/2",
                      WannierWarning, stacklevel=3)
    return worst


def spin_operators(num_wann: int, spin_order: str) -> dict[str, np.ndarray]:
    """Pauli matrices (units of ħ/2) on ``num_wann`` spinor Wannier functions.

    Parameters
    ----------
    num_wann : int
        Even number of spinor Wannier functions.
    spin_order : {"interleaved", "block"}
        ``"interleaved"``: (orbital 1 ↑, orbital 1 ↓, orbital 2 ↑, ...);
        ``"block"``: (orbital 1 ↑, ..., orbital N/2 ↑, orbital 1 ↓, ..., orbital N/2 ↓).

    Returns
    -------
    dict with keys "sx", "sy", "sz" of (num_wann, num_wann) complex arrays.
    """
    if spin_order not in SPIN_ORDERS:
        raise ValueError(f"unknown spin_order {spin_order!r}: {_SPIN_ORDER_HELP}")
    if num_wann % 2:
        raise ValueError(f"spinor Wannier functions come in pairs, but num_wann={num_wann} "
                         "is odd: spin_order cannot be applied")
    pauli = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]),
             np.array([[1, 0], [0, -1]], complex)]
    eye = np.eye(num_wann // 2)
    if spin_order == "interleaved":
        mats = [np.kron(eye, p) for p in pauli]
    else:
        mats = [np.kron(p, eye) for p in pauli]
    return dict(zip(("sx", "sy", "sz"), mats, strict=True))


def _sz_diag(num_wann: int, spin_order: str) -> np.ndarray:
    return np.real(np.diag(spin_operators(num_wann, spin_order)["sz"]))


def spin_mixing(hoppings: np.ndarray, spin_order: str) -> float:
    """Relative weight of H_R connecting opposite s_z in the given spinor order.

    Returns ``||[H_R, s_z]|| / (2 ||H_R||)`` summed over R (Frobenius norms): 0 when H conserves
    s_z in this order, of order 1 when it does not.
    """
    H = np.asarray(hoppings)
    sz = _sz_diag(H.shape[1], spin_order)
    flip = sz[:, None] != sz[None, :]
    total = float(np.sqrt(np.sum(np.abs(H) ** 2)))
    if total == 0:
        return 0.0
    return float(np.sqrt(np.sum(np.abs(H[:, flip]) ** 2))) / total


def check_spin_order(
    model: LatticeModel | np.ndarray, spin_order: str, *, tol: float = 1e-6
) -> tuple[float, float]:
    """Warn when H conserves s_z in the other spinor order but not in ``spin_order``.

    Parameters
    ----------
    model : LatticeModel or (NR, N, N) array
        The model (or its hoppings).
    spin_order : {"interleaved", "block"}
    tol : float
        Mixing (see :func:`spin_mixing`) below which H counts as s_z-conserving.

    Returns
    -------
    (mixing in spin_order, mixing in the other order)

    Warns
    -----
    SpinOrderWarning
        If the first number exceeds ``tol`` and the second does not.
    """
    H = model.hoppings if isinstance(model, LatticeModel) else np.asarray(model)
    other = SPIN_ORDERS[1 - SPIN_ORDERS.index(spin_order)] if spin_order in SPIN_ORDERS \
        else None
    if other is None:
        raise ValueError(f"unknown spin_order {spin_order!r}: {_SPIN_ORDER_HELP}")
    given, alt = spin_mixing(H, spin_order), spin_mixing(H, other)
    if given > tol and alt <= tol:
        warnings.warn(
            f"with spin_order={spin_order!r} the Hamiltonian mixes opposite s_z (relative weight "
            f"{given:.2e}) but it conserves s_z with spin_order={other!r} (weight {alt:.1e}): "
            f"the spinor order is probably {other!r}. {_SPIN_ORDER_HELP}",
            SpinOrderWarning, stacklevel=2)
    return given, alt


# ====================================================================== the one call
def _resolve(path: str | os.PathLike[str], use_position_matrix: bool) -> tuple[Path, str, str]:
    """Return (main file, kind 'hr'|'tb', seed prefix path string)."""
    p = Path(path)
    name = p.name
    for suffix, kind in (("_hr.dat", "hr"), ("_tb.dat", "tb")):
        if name.endswith(suffix):
            if not p.is_file():
                raise WannierFormatError("file not found", path=str(p))
            return p, kind, str(p.with_name(name[: -len(suffix)]))
    hr, tb = Path(f"{p}_hr.dat"), Path(f"{p}_tb.dat")
    order = [(tb, "tb"), (hr, "hr")] if use_position_matrix else [(hr, "hr"), (tb, "tb")]
    for f, kind in order:
        if f.is_file():
            return f, kind, str(p)
    raise WannierFormatError(
        f"no Wannier90 Hamiltonian for prefix {str(p)!r}: neither {hr.name} nor {tb.name} "
        f"exists in {p.parent}", path=str(hr))


def read_wannier90(
    path: str | os.PathLike[str],
    *,
    spin_order: str | None = None,
    lattice: Any = None,
    positions: Any = None,
    use_ws_distance: bool | str = "auto",
    use_position_matrix: bool = False,
    hermitian_tol: float = 1e-4,
    name: str | None = None,
) -> LatticeModel:
    """Build a :class:`~tbspin.LatticeModel` from Wannier90 output.

    Parameters
    ----------
    path : path-like
        ``dir/seedname`` (prefix), or a ``seedname_hr.dat`` / ``seedname_tb.dat`` file. Side
        files ``seedname_wsvec.dat``, ``seedname_centres.xyz`` and ``seedname.win`` are looked
        up next to it.
    spin_order : {"interleaved", "block"}, optional
        Spinor order of the Wannier functions; attaches ``sx, sy, sz`` (units of ħ/2). Required
        for any spin observable (module docstring).
    lattice : (d, d) array_like, optional
        Lattice vectors (rows, Å). Needed for ``_hr.dat`` without a ``.win``; if a side file has
        a lattice too, both must agree. With d < 3 the model is d-dimensional (the file's R
        must then vanish along the dropped directions).
    positions : (N, d) array_like, optional
        Orbital positions (Cartesian Å); default: ``_centres.xyz``, else the diagonal of r_{R=0}
        from ``_tb.dat``, else the origin (with a warning).
    use_ws_distance : bool or "auto"
        Apply the ``_wsvec.dat`` shifts: "auto" when the file exists, True requires it.
    use_position_matrix : bool
        Prefer ``_tb.dat`` for a prefix and mark ``metadata["position_operator"] = "full"``:
        Berry connections then include the full Wannier position matrix r_R
        (:meth:`tbspin.LatticeModel.wannier_connection`); otherwise "diagonal", the
        tight-binding approximation. Every conductivity result records which one it used.
    hermitian_tol : float
        Largest accepted |H_R − H_{−R}†| (eV); larger raises WannierFormatError.
    name : str, optional
        Model name (default: the seedname).

    Returns
    -------
    LatticeModel
        ``metadata`` records the files used, ``spin_order``, ``ws_distance`` (applied or not),
        ``position_operator``, ``hermiticity_violation`` (eV), atoms from ``.win`` and, for
        ``_tb.dat``, ``position_matrix = (R, r)``.

    Raises
    ------
    WannierFormatError
        Malformed or missing files (message names file and line), non-Hermitian H.
    ValueError
        Bad ``spin_order``; ``lattice`` disagreeing with a file; no lattice available.
    """
    if spin_order is not None and spin_order not in SPIN_ORDERS:
        raise ValueError(f"unknown spin_order {spin_order!r}: {_SPIN_ORDER_HELP}")
    if use_ws_distance not in (True, False, "auto"):
        raise ValueError(f"use_ws_distance must be True, False or 'auto', got {use_ws_distance!r}")
    main, kind, seed = _resolve(path, use_position_matrix)
    if use_position_matrix and kind != "tb":
        raise WannierFormatError(
            "use_position_matrix=True needs the position matrix of seedname_tb.dat",
            path=str(Path(seed + "_tb.dat")))
    data = read_tb(main) if kind == "tb" else read_hr(main)
    N = data.num_wann
    files: dict[str, str] = {kind: str(main)}

    win = None
    win_path = Path(seed + ".win")
    if win_path.is_file():
        win = read_win(win_path)
        files["win"] = str(win_path)

    # ---- lattice
    sources: list[tuple[str, np.ndarray]] = []
    if data.lattice is not None:
        sources.append((str(main), data.lattice))
    if win is not None and win.lattice is not None:
        sources.append((str(win_path), win.lattice))
    if len(sources) == 2 and not np.allclose(sources[0][1], sources[1][1], atol=1e-5, rtol=1e-6):
        raise WannierFormatError(
            f"lattice vectors differ between {sources[0][0]} and {sources[1][0]} "
            f"(max difference {np.max(np.abs(sources[0][1] - sources[1][1])):.2e} Å)",
            path=sources[1][0])
    if lattice is not None:
        lat = np.array(lattice, dtype=float)
        d = lat.shape[0] if lat.ndim == 2 else 0
        if lat.ndim != 2 or lat.shape != (d, d) or d not in (1, 2, 3):
            raise ValueError(f"lattice= must be a (d, d) array with d in 1..3, got {lat.shape}")
        if sources and not np.allclose(sources[0][1][:d, :d], lat, atol=1e-5, rtol=1e-6):
            raise WannierFormatError(
                f"lattice= {lat.tolist()} differs from the lattice in {sources[0][0]} "
                f"{sources[0][1].tolist()}; drop one of them", path=sources[0][0])
    elif sources:
        lat, d = sources[0][1], 3
    else:
        raise WannierFormatError(
            f"no lattice vectors: an _hr.dat file has none, and {win_path} is missing or has "
            "no unit_cell_cart block; pass lattice= (rows, Å) or provide the .win or _tb.dat "
            "file", path=str(main))

    # ---- Hermiticity (on the file's own R set, before any remapping)
    worst = _check_hermiticity(data, hermitian_tol)

    # ---- Wigner-Seitz remapping
    R, H, r = data.R, data.H, data.r
    ws_path = Path(seed + "_wsvec.dat")
    applied = False
    if use_ws_distance is True or (use_ws_distance == "auto" and ws_path.is_file()):
        if not ws_path.is_file():
            raise WannierFormatError("use_ws_distance=True but the file is missing",
                                     path=str(ws_path))
        ws = read_wsvec(ws_path, N)
        R, H, r = apply_ws_distance(R, H, ws, r)
        applied = True
        files["wsvec"] = str(ws_path)

    if d < 3:
        extra = np.any(R[:, d:] != 0, axis=1)
        if extra.any():
            raise WannierFormatError(
                f"lattice= is {d}-dimensional but the file has hoppings along the dropped "
                f"direction(s) (R={tuple(int(x) for x in R[extra][0])})", path=str(main))
        R = R[:, :d]

    # ---- positions
    centres_path = Path(seed + "_centres.xyz")
    if positions is not None:
        pos = np.array(positions, dtype=float)
        if pos.shape != (N, d):
            raise ValueError(f"positions= must have shape ({N}, {d}), got {pos.shape}")
        pos_source = "argument"
    elif centres_path.is_file():
        pos = read_centres(centres_path, N)[:, :d]
        files["centres"] = str(centres_path)
        pos_source = str(centres_path)
        if win is not None and win.keywords.get("translate_home_cell", "").lower().strip(
                ".") in ("true", "t"):
            warnings.warn(
                f"{win_path} sets translate_home_cell: the centres in {centres_path} were moved "
                "into the home cell and may not match the R labels of the Hamiltonian; "
                "Berry-phase quantities depend on this", WannierWarning, stacklevel=2)
    elif Path(seed + ".wout").is_file():
        wout_path = Path(seed + ".wout")
        pos = read_wout_centres(wout_path, N)[:, :d]
        files["centres"] = str(wout_path)
        pos_source = f"{wout_path} (final state)"
    elif data.r is not None:
        zero = np.nonzero(~np.any(data.R != 0, axis=1))[0]
        if len(zero) == 0:
            raise WannierFormatError("no R = 0 block", path=str(main))
        diag = np.diagonal(data.r[zero[0]], axis1=1, axis2=2).T  # (N, 3)
        pos = np.real(diag)[:, :d] * data.ndegen[zero[0]]
        pos_source = f"{main} (diagonal of r at R=0)"
    else:
        pos = np.zeros((N, d))
        pos_source = "none (origin)"
        warnings.warn(
            f"no Wannier centres for {main} ({centres_path.name} missing, positions= not given): "
            "all orbitals are put at the origin, so the Bloch phase ignores their positions "
            "(band energies are unaffected; Berry curvature and conductivities are not)",
            WannierWarning, stacklevel=2)

    # ---- spin
    operators: dict[str, np.ndarray] = {}
    if spin_order is not None:
        if N % 2:
            raise WannierFormatError(
                f"spin_order={spin_order!r} needs pairs of spinor Wannier functions, but "
                f"num_wann={N} is odd", path=str(main), line=2 if kind == "hr" else 5)
        operators = spin_operators(N, spin_order)
        check_spin_order(H, spin_order)

    # contiguous copy: LatticeModel's einsum path (and hence the last bit of H(k)) depends on it
    pos = np.ascontiguousarray(pos, dtype=float)
    metadata: dict[str, Any] = {
        "source": "wannier90",
        "files": files,
        "header": data.header,
        "num_wann": N,
        "spin_order": spin_order,
        "ws_distance": applied,
        "positions_from": pos_source,
        "hermiticity_violation": worst,
        "position_operator": "full" if use_position_matrix else "diagonal",
    }
    if win is not None:
        if win.atom_positions is not None:
            metadata["atoms"] = {"symbols": list(win.atom_symbols),
                                 "positions": win.atom_positions}
        if "spinors" in win.keywords:
            metadata["spinors"] = win.keywords["spinors"].lower().strip(".") in ("true", "t")
    if r is not None:
        metadata["position_matrix"] = (R, r[:, :d] if d < 3 else r)

    # Hermitian part: each hopping once at R with weight 1/2 and once, conjugated, at -R
    Rall = np.concatenate([R, -R])
    Hall = np.concatenate([H, H.conj().transpose(0, 2, 1)]) * 0.5
    log.info("read %s: num_wann=%d, %d R vectors, ws_distance=%s", main, N, len(R), applied)
    return LatticeModel(
        lattice=lat, positions=pos, R=Rall, hoppings=Hall, operators=operators,
        name=name or Path(seed).name, metadata=metadata,
    )


# ====================================================================== writers
def _pad3(R: np.ndarray) -> np.ndarray:
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
    model: LatticeModel, path: str | os.PathLike[str], *, header: str | None = None
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
    model: LatticeModel, path: str | os.PathLike[str], *, header: str | None = None
) -> Path:
    """Write ``model`` as a Wannier90 ``_tb.dat`` file (lattice, H_R, r_R), atomically.

    The position matrix is ``model.metadata["position_matrix"]`` when present, otherwise the
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
        raise ValueError(f"write_tb needs a 3D model (the _tb.dat format stores 3 lattice "
                         f"vectors); model {model.name!r} is {model.dim}D: use write_hr")
    N = model.n_orbitals
    R = model.R
    H = model.hoppings
    pm = model.metadata.get("position_matrix")
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
            zero = [len(R) - 1]
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
