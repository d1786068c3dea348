"""The orbital basis of a Wannier model: which real harmonic sits on which site, in which order.

Built from the lines of a Wannier90 ``projections`` block (from the ``.win`` or given as
strings, e.g. ``["Pt: s;p;d"]``)::

    site : items [: z=zx,zy,zz] [: x=xx,xy,xz]

``site`` is a species of the structure (every atom of it, in the structure's order), or
``c=x,y,z`` (Cartesian Å) / ``f=u,v,w`` (fractional) for one centre. ``items`` are shells
(s, p, d, f), single orbitals (pz, dxy, ...), hybrid sets (sp, sp2, sp3, sp3d, sp3d2) or
``l=L,mr=...`` (:func:`tbspin.crystal.orbitals.orbital_coefficients`). Local axes ``z=``/``x=``
(Cartesian) rotate the functions (x is orthogonalized to z, y = z × x).

Order (Wannier90's ``param_get_projections``): line by line; within a line site by site; on each
site the functions ordered by (l, mr) with hybrids (l < 0) first, l = −5 … 3, whatever order the
items are listed in ("px; py; pz" gives pz, px, py). With spinors every function is doubled in
``spin_order`` ("block": all ↑ then all ↓; "interleaved": ↑, ↓ per function), as
:mod:`tbspin.model.spin`.

The sites of the projections are the Wannier centres of this basis
(:attr:`OrbitalBasis.centres`), used when no centres file exists.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tbspin.crystal.orbitals import HYBRIDS, L_OF, ORBITALS, orbital_coefficients
from tbspin.crystal.structure import CrystalStructure
from tbspin.errors import ModelError, ParameterError, WannierFormatError
from tbspin.model.spin import validate_spin_order
from tbspin.types import FloatArray, IntArray, PathLike

if TYPE_CHECKING:
    from tbspin.model.lattice import LatticeModel

__all__ = ["OrbitalGroup", "OrbitalBasis", "win_projections", "basis_of"]

_HYB_L = {"sp": -1, "sp2": -2, "sp3": -3, "sp3d": -4, "sp3d2": -5}


@dataclasses.dataclass(frozen=True, eq=False)
class OrbitalGroup:
    """The functions of one projection line on one site.

    Attributes
    ----------
    site : int
        Index into :attr:`OrbitalBasis.sites`.
    line : int
        Index of the projection line.
    labels : tuple of str
    coefficients : (n, 16) float array
        Rows over :data:`tbspin.crystal.orbitals.ORBITALS`.
    axes : (3, 3) float array
        Local frame, rows x, y, z (identity by default).
    start : int
        Index of the first function in the spatial (spinless) basis.
    """

    site: int
    line: int
    labels: tuple[str, ...]
    coefficients: FloatArray
    axes: FloatArray
    start: int

    @property
    def signature(self) -> tuple[str, ...]:
        """What a symmetry operation must map this group onto (same functions)."""
        return self.labels

    @property
    def size(self) -> int:
        return len(self.labels)


@dataclasses.dataclass(frozen=True, eq=False)
class OrbitalBasis:
    """Sites and real-harmonic groups of a Wannier basis (module docstring).

    Attributes
    ----------
    lattice : (3, 3) float array
    sites : (n_sites, 3) float array
        Cartesian Å.
    groups : tuple of OrbitalGroup
    spin_order : {"block", "interleaved"} or None
        None: spinless.
    """

    lattice: FloatArray
    sites: FloatArray
    groups: tuple[OrbitalGroup, ...]
    spin_order: str | None = None

    @property
    def n_spatial(self) -> int:
        return sum(g.size for g in self.groups)

    @property
    def n_states(self) -> int:
        return self.n_spatial * (2 if self.spin_order else 1)

    @property
    def labels(self) -> list[str]:
        """One label per state (spatial label, with ↑/↓ for spinors)."""
        sp = [f"{g.site}:{lab}" for g in self.groups for lab in g.labels]
        if self.spin_order == "block":
            return [s + "↑" for s in sp] + [s + "↓" for s in sp]
        if self.spin_order == "interleaved":
            return [s + a for s in sp for a in ("↑", "↓")]
        return sp

    @property
    def spatial_site(self) -> IntArray:
        """Site index of each spatial function."""
        return np.concatenate([[g.site] * g.size for g in self.groups]).astype(int)

    @property
    def state_site(self) -> IntArray:
        """Site index of each state (spin included)."""
        s = self.spatial_site
        if self.spin_order == "block":
            return np.concatenate([s, s])
        if self.spin_order == "interleaved":
            return np.repeat(s, 2)
        return s

    @property
    def centres(self) -> FloatArray:
        """Wannier centres from the projection sites, one per state (Cartesian Å)."""
        return self.sites[self.state_site]

    @classmethod
    def from_projections(
        cls, lines: Sequence[str], structure: CrystalStructure, *,
        spin_order: str | None = None, source: str = "projections",
    ) -> OrbitalBasis:
        """Parse projection lines (module docstring) against ``structure``.

        Raises
        ------
        ParameterError
            Unknown species, orbital or option (the message names the line and ``source``).
        """
        if spin_order is not None:
            validate_spin_order(spin_order)
        lat = structure.lattice
        sites: list[FloatArray] = []
        groups: list[OrbitalGroup] = []
        start = 0
        for k, raw in enumerate(lines):
            line = raw.strip()
            where = f"{source}, projection {k + 1} ({line!r})"
            if ":" not in line:
                raise ParameterError(f"{where}: expected 'site : orbitals'")
            parts = [p.strip() for p in line.split(":")]
            site_txt, items_txt, options = parts[0], parts[1], parts[2:]
            axes = _axes(options, where)
            positions = _site_positions(site_txt, structure, where)
            items = [it for it in re.split(r";", items_txt.replace(" ", "")) if it]
            if not items:
                raise ParameterError(f"{where}: no orbitals")
            entries: list[tuple[tuple[int, int], str, FloatArray]] = []
            for it in items:
                try:
                    labels, C = orbital_coefficients(it)
                except ParameterError as exc:
                    raise ParameterError(f"{where}: {exc}") from None
                for lab, row in zip(labels, C):
                    entries.append((_order_key(lab), lab, row))
            keys = [e[0] for e in entries]
            if len(set(keys)) != len(keys):
                raise ParameterError(f"{where}: an orbital is listed twice")
            entries.sort(key=lambda e: e[0])
            labs = tuple(e[1] for e in entries)
            C = np.array([e[2] for e in entries])
            for pos in positions:
                match = _find_site(np.asarray(sites), pos, lat) if sites else -1
                if match < 0:
                    sites.append(pos)
                    match = len(sites) - 1
                groups.append(OrbitalGroup(site=match, line=k, labels=labs, coefficients=C,
                                           axes=axes, start=start))
                start += len(labs)
        if not groups:
            raise ParameterError(f"{source}: no projections")
        return cls(lattice=lat, sites=np.array(sites), groups=tuple(groups),
                   spin_order=spin_order)

    @classmethod
    def from_win(
        cls, path: PathLike, structure: CrystalStructure | None = None, *,
        spin_order: str | None = None,
    ) -> OrbitalBasis:
        """The basis of a ``.win`` (its projections; its structure unless one is given).

        Raises
        ------
        WannierFormatError
            No projections block, or ``spinors = true`` without ``spin_order``.
        """
        from tbspin.crystal.structure import read_structure

        lines, spinors = win_projections(path)
        if structure is None:
            structure = read_structure(path)
        if spinors and spin_order is None:
            raise WannierFormatError("spinors = .true.: pass spin_order='block' or "
                                     "'interleaved'", path=str(path))
        if not spinors and spin_order is not None:
            raise WannierFormatError(f"spin_order={spin_order!r} given but the file does not set "
                                     "spinors = .true.", path=str(path))
        return cls.from_projections(lines, structure, spin_order=spin_order, source=str(path))


def _order_key(label: str) -> tuple[int, int]:
    """Wannier90's (l, mr) order of a function label."""
    if label in L_OF:
        lval = L_OF[label]
        same = [n for n in ORBITALS if L_OF[n] == lval]
        return lval, same.index(label)
    base, num = label.rsplit("-", 1)
    if base not in HYBRIDS:
        raise ParameterError(f"unknown orbital label {label!r}")
    return _HYB_L[base], int(num) - 1


def _axes(options: list[str], where: str) -> FloatArray:
    z = np.array([0.0, 0.0, 1.0])
    x = np.array([1.0, 0.0, 0.0])
    for opt in options:
        key, _, val = opt.replace(" ", "").partition("=")
        key = key.lower()
        if key in ("z", "x"):
            try:
                vec = np.array([float(t) for t in val.split(",")])
            except ValueError:
                raise ParameterError(f"{where}: cannot read {opt!r}") from None
            if vec.shape != (3,) or np.linalg.norm(vec) < 1e-8:
                raise ParameterError(f"{where}: {key}= needs a non-zero 3-vector")
            if key == "z":
                z = vec
            else:
                x = vec
        elif key in ("zona", "r"):
            continue  # radial part: irrelevant for symmetry
        else:
            raise ParameterError(f"{where}: unknown projection option {opt!r}")
    z = z / np.linalg.norm(z)
    x = x - (x @ z) * z
    if np.linalg.norm(x) < 1e-8:
        raise ParameterError(f"{where}: x= is parallel to z=")
    x = x / np.linalg.norm(x)
    return np.array([x, np.cross(z, x), z])


def _site_positions(text: str, structure: CrystalStructure, where: str) -> list[FloatArray]:
    t = text.replace(" ", "")
    low = t.lower()
    if low.startswith(("c=", "f=")):
        try:
            v = np.array([float(s) for s in t[2:].split(",")])
        except ValueError:
            raise ParameterError(f"{where}: cannot read the centre {text!r}") from None
        if v.shape != (3,):
            raise ParameterError(f"{where}: a centre needs 3 coordinates")
        return [v @ structure.lattice if low.startswith("f=") else v]
    hits = [p for s, p in zip(structure.symbols, structure.positions) if s.lower() == low]
    if not hits:
        raise ParameterError(f"{where}: no atom of species {text!r} in the structure "
                             f"({structure.source}: {', '.join(dict.fromkeys(structure.symbols))})")
    return hits


def _find_site(sites: FloatArray, pos: FloatArray, lattice: FloatArray, tol: float = 1e-3) -> int:
    """Index of the site at ``pos`` (same point, not modulo lattice vectors), or −1."""
    d = np.linalg.norm(sites - pos, axis=1)
    i = int(np.argmin(d))
    return i if d[i] < tol else -1


def win_projections(path: PathLike) -> tuple[list[str], bool]:
    """The lines of the ``projections`` block of a ``.win`` and whether it sets spinors.

    Raises
    ------
    WannierFormatError
        No projections block (or ``random`` projections, which have no symmetry).
    """
    from tbspin.io.wannier90.text import read_text_lines

    lines = read_text_lines(Path(path))
    out: list[str] = []
    inside = False
    spinors = False
    found = False
    for i, raw in enumerate(lines):
        text = re.split(r"[!#]", raw, maxsplit=1)[0].strip()
        low = text.lower()
        if re.match(r"begin\s+projections\b", low):
            inside, found = True, True
            continue
        if re.match(r"end\s+projections\b", low):
            inside = False
            continue
        if inside and text:
            if low.startswith("random"):
                raise WannierFormatError("random projections have no orbital symmetry",
                                         path=str(path), line=i + 1)
            if low in ("ang", "bohr"):
                continue
            out.append(text)
        elif not inside and re.match(r"spinors\s*[=:\s]\s*\.?t", low):
            spinors = True
    if not found or not out:
        raise WannierFormatError("no 'projections' block", path=str(path))
    return out, spinors


def basis_of(model: LatticeModel, projections: Sequence[str] | None = None) -> OrbitalBasis:
    """The orbital basis of a model: ``projections`` lines, else those of the ``.win`` it was read
    with; structure from :func:`tbspin.crystal.structure_of`; spinor order from the model.

    Raises
    ------
    ModelError
        No projections known, or their number of states differs from the model's orbitals.
    """
    from tbspin.crystal.structure import structure_of
    from tbspin.symmetry.operations import source_file, spin_order_of

    st = structure_of(model)
    order = spin_order_of(model) if model.has_spin else None
    if projections is None:
        win = source_file(model, "win")
        if win is None:
            raise ModelError(f"model {model.name!r}: no .win to take projections from; pass "
                             "projections=['Species: s;p', ...]")
        lines, _ = win_projections(win)
        basis = OrbitalBasis.from_projections(lines, st, spin_order=order, source=win)
    else:
        basis = OrbitalBasis.from_projections(list(projections), st, spin_order=order)
    if basis.n_states != model.n_orbitals:
        raise ModelError(f"model {model.name!r} has {model.n_orbitals} orbitals but its "
                         f"projections give {basis.n_states} states"
                         + ("" if order else " (spinors need the model's spin_order)"))
    return basis


def projection_centres(
    win_path: PathLike, lattice: FloatArray, symbols: Sequence[str], positions: FloatArray,
    spin_order: str | None, n_states: int,
) -> FloatArray | None:
    """Wannier centres (n_states, 3) at the sites of a ``.win``'s projections, or None when they
    cannot be determined (no projections block, species not among the atoms, spinors without
    ``spin_order``, or a count different from ``n_states``). Used by
    :func:`tbspin.io.read_wannier90` when no centres file exists."""
    try:
        lines, spinors = win_projections(win_path)
        if spinors and spin_order is None:
            return None
        st = CrystalStructure(lattice=lattice, positions=positions, symbols=tuple(symbols),
                              source=str(win_path))
        basis = OrbitalBasis.from_projections(lines, st, spin_order=spin_order if spinors else None,
                                              source=str(win_path))
    except (ParameterError, ModelError, WannierFormatError):
        return None
    return basis.centres if basis.n_states == n_states else None
