"""Text helpers shared by the Wannier90 readers: file reading (plain or compressed), the fast
numeric table parser with a slow path that names the offending line, integer checks.

Parsing is vectorized: the numeric body is split once and converted by numpy; line-by-line
inspection only happens to pinpoint an error. Every problem raises
:class:`tbspin.WannierFormatError` naming the file and line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tbspin.errors import TbspinWarning, WannierFormatError
from tbspin.types import FloatArray, IntArray

#: Hermiticity violations (eV) above this value are reported with a warning.
HERMITIAN_WARN = 1e-6
#: Suffixes of compressed files that are read transparently (one file per archive).
COMPRESSED = (".tar.gz", ".tgz", ".tar", ".gz")


class WannierWarning(TbspinWarning):
    """Suspicious but usable Wannier90 input (small non-Hermiticity, missing centres)."""


def _uncompress(raw: bytes, path: Path) -> bytes:
    """Content of a ``.gz`` file, or of the single regular file inside a ``.tar(.gz)``."""
    import gzip
    import io
    import tarfile
    import zlib

    name = path.name.lower()
    try:
        if name.endswith((".tar.gz", ".tgz", ".tar")):
            if name.endswith((".tar.gz", ".tgz")):
                # the whole gzip stream first: its CRC and length are checked only at the end,
                # which reading one tar member never reaches (a damaged archive then gave
                # garbled lines and a parse error about their content)
                raw = gzip.decompress(raw)
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                if len(members) != 1:
                    raise WannierFormatError(
                        f"archive must hold exactly one file, found {len(members)}",
                        path=str(path))
                handle = tar.extractfile(members[0])
                assert handle is not None  # a regular file member
                return handle.read()
        return gzip.decompress(raw)
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise WannierFormatError(f"cannot uncompress: the archive is damaged or not a "
                                 f"{'tar.gz' if '.t' in name else 'gzip'} file "
                                 f"({type(exc).__name__}: {exc})", path=str(path)) from None


def read_text_lines(path: Path) -> list[str]:
    """Lines of a text file (``.gz``/``.tar.gz`` archives of one file are uncompressed).

    Raises
    ------
    WannierFormatError
        Missing file, a directory, unreadable or binary content (NUL byte, invalid UTF-8).
    """
    if path.is_dir():
        raise WannierFormatError("is a directory, not a file", path=str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WannierFormatError("file not found", path=str(path)) from None
    except OSError as exc:
        raise WannierFormatError(f"cannot read file ({exc})", path=str(path)) from None
    if path.name.lower().endswith(COMPRESSED):
        raw = _uncompress(raw, path)
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


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (as stored, compressed or not)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _to_float(tokens: list[str]) -> FloatArray:
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
    lines: list[str], linenos: IntArray, ncols: int, path: Path, what: str,
    ntok: IntArray | None = None,
) -> FloatArray:
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


def _ints(arr: FloatArray, linenos: IntArray, path: Path, what: str) -> IntArray:
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
) -> tuple[IntArray, int]:
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


def _nonblank(lines: list[str], start: int) -> tuple[list[str], IntArray]:
    """Non-blank lines from ``start`` on, with their 1-based line numbers."""
    keep = [i for i in range(start, len(lines)) if lines[i].strip()]
    return [lines[i] for i in keep], np.array(keep, dtype=np.int64) + 1


def _place_blocks(
    ints: IntArray, nrpts: int, N: int, path: Path, linenos: IntArray,
    R_blocks: IntArray | None,
) -> tuple[IntArray, IntArray]:
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


def _check_unique_R(R: IntArray, path: Path, block_lines: IntArray) -> None:
    _, first, inv = np.unique(R, axis=0, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    dup = np.nonzero(first[inv] != np.arange(len(R)))[0]
    if len(dup):
        b = int(dup[0])
        raise WannierFormatError(
            f"R={tuple(int(x) for x in R[b])} listed twice (first block at line "
            f"{int(block_lines[first[inv[b]]])})", path=str(path), line=int(block_lines[b]))


