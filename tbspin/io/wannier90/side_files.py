"""Readers of the Wannier90 side files: ``_wsvec.dat``, ``_centres.xyz``, ``.wout``, ``.win``,
and of a VASP ``POSCAR`` (lattice only, through ASE).

``seedname_wsvec.dat``
    Wannier90's ``use_ws_distance`` (minimal-distance replica) information. For every (R, m, n)
    it lists ``ndeg`` integer lattice shifts T (multiples of the k-mesh supercell).
``seedname_centres.xyz``
    ``num_wann + num_atoms`` rows: the Wannier centres (label ``X``) then the atoms, Cartesian Å.
``seedname.wout``
    The last "Final State" block: Wannier centres as Wannier90 found them.
``seedname.win``
    The ``unit_cell_cart`` block (first line optionally ``bohr`` or ``ang``; default Å), the
    ``atoms_frac``/``atoms_cart`` blocks and the keywords ``spinors``, ``translate_home_cell``.
    ASE (3.22–3.29) reads ``.wout`` but not ``.win``, so the blocks are parsed here.
``POSCAR``
    VASP structure file (WannierTools examples ship one next to ``wannier90_hr.dat``); read by
    ``ase.io.read`` only for its lattice and atoms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tbspin.errors import MissingDependencyError, WannierFormatError
from tbspin.io.wannier90.text import _nonblank, _single_int, _table, read_text_lines
from tbspin.types import FloatArray, IntArray, PathLike
from tbspin.units import BOHR

__all__ = ["WsVectors", "Win", "read_wsvec", "read_centres", "read_wout_centres", "read_win",
           "read_poscar"]


@dataclass
class WsVectors:
    """Content of ``_wsvec.dat``: for entry e, hopping (R[e], m[e], n[e]) (0-based m, n) is
    split over ``R[e] + shifts[owner == e]`` with weight ``1/ndeg[e]``."""

    path: Path
    use_ws_distance: bool | None
    R: IntArray
    m: IntArray
    n: IntArray
    ndeg: IntArray
    shifts: IntArray
    owner: IntArray
    line: IntArray


def read_wsvec(path: PathLike, num_wann: int | None = None) -> WsVectors:
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
    lines = read_text_lines(path)
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


def read_centres(path: PathLike, num_wann: int) -> FloatArray:
    """Wannier centres (Cartesian Å, shape (num_wann, 3)) from ``seedname_centres.xyz``."""
    path = Path(path)
    lines = read_text_lines(path)
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


def read_wout_centres(path: PathLike, num_wann: int) -> FloatArray:
    """Final Wannier centres (Cartesian Å, (num_wann, 3)) from the last "Final State" block of
    ``seedname.wout`` (the centres as Wannier90 found them, consistent with the R labels)."""
    path = Path(path)
    lines = read_text_lines(path)
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


@dataclass
class Win:
    """What tbspin takes from a ``.win`` file."""

    path: Path
    lattice: FloatArray | None
    atom_symbols: list[str]
    atom_positions: FloatArray | None
    keywords: dict[str, str]


_BLOCK_RE = re.compile(r"^\s*begin\s+(\w+)", re.IGNORECASE)
_END_RE = re.compile(r"^\s*end\s+(\w+)", re.IGNORECASE)
_KEY_RE = re.compile(r"^\s*([A-Za-z_][\w]*)\s*[=:\s]\s*(.*?)\s*$")


def read_win(path: PathLike) -> Win:
    """Lattice vectors, atoms and keywords from a Wannier90 ``seedname.win`` file.

    ``unit_cell_cart`` may start with a units line ``bohr`` or ``ang`` (default Å);
    ``atoms_cart`` likewise; ``atoms_frac`` is in units of the lattice vectors.
    """
    path = Path(path)
    lines = read_text_lines(path)
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


def read_poscar(path: PathLike) -> Win:
    """Lattice vectors (rows, Å) and atoms of a VASP ``POSCAR``/``CONTCAR``, read by ASE.

    Returns
    -------
    Win
        With ``lattice``, ``atom_symbols``, ``atom_positions`` (Cartesian Å) and no keywords.

    Raises
    ------
    MissingDependencyError
        ASE is not installed.
    WannierFormatError
        ASE cannot read the file, or its lattice vectors are linearly dependent.
    """
    path = Path(path)
    try:
        from ase.io import read
    except ImportError:
        raise MissingDependencyError(
            f"reading the lattice from {path} needs ASE (pip install ase); or pass lattice= "
            "(Python) / --lattice a1x,a1y,a1z,a2x,...,a3z (CLI)") from None
    if path.is_dir():
        raise WannierFormatError("is a directory, not a file", path=str(path))
    try:
        atoms = read(str(path), format="vasp")
    except Exception as exc:  # ASE raises assorted types on malformed input
        raise WannierFormatError(f"ASE cannot read it as a VASP POSCAR ({exc})",
                                 path=str(path)) from None
    if isinstance(atoms, list):  # one structure in a POSCAR; ASE's signature allows several
        atoms = atoms[-1]
    lattice = np.array(atoms.cell[:], dtype=np.float64)
    if abs(np.linalg.det(lattice)) < 1e-8:
        raise WannierFormatError("POSCAR lattice vectors are linearly dependent", path=str(path))
    return Win(path=path, lattice=lattice, atom_symbols=list(atoms.get_chemical_symbols()),
               atom_positions=np.array(atoms.get_positions(), dtype=np.float64), keywords={})
