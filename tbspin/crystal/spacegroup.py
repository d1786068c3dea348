"""Space groups from spglib: operations {R|t} in fractional and Cartesian form, point group,
magnetic groups.

An operation maps the point x (fractional, column) to R x + t; in Cartesian coordinates
r ↦ R_c r + t_c with R_c = Aᵀ R A⁻ᵀ, t_c = Aᵀ t (rows of A are the lattice vectors). An
antiunitary operation (``time_reversal=True``) is {R|t} followed by time reversal T.

Non-magnetic crystals (no moments) have the grey group G + T G: :attr:`SpaceGroup.operations`
lists G (unitary) and ``time_reversal=True`` says T itself is an element. With moments
(:attr:`CrystalStructure.magmoms`, axial vectors) spglib's magnetic space group is used: its
operations are the unitary ones that keep every moment and the antiunitary ones that reverse it
(for bcc Fe with m ∥ z: 4/mm'm', 8 + 8 operations), and T alone is not an element.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tbspin.crystal.structure import CrystalStructure
from tbspin.errors import MissingDependencyError, ModelError, ParameterError
from tbspin.types import FloatArray, IntArray

__all__ = ["SymOp", "SpaceGroup", "space_group", "operation_name"]


@dataclasses.dataclass(frozen=True, eq=False)
class SymOp:
    """One space-group operation {R|t} (module docstring).

    Attributes
    ----------
    rotation : (3, 3) int array
        Fractional rotation R.
    translation : (3,) float array
        Fractional translation t.
    cart_rotation : (3, 3) float array
        R_c (orthogonal).
    cart_translation : (3,) float array
        t_c (Å).
    time_reversal : bool
        Antiunitary: followed by T.
    """

    rotation: IntArray
    translation: FloatArray
    cart_rotation: FloatArray
    cart_translation: FloatArray
    time_reversal: bool = False

    @property
    def name(self) -> str:
        """Readable name: type (E, C2, C3, C4, C6, I, m, S3, S4, S6), axis, translation, ' for T."""
        base = operation_name(self.cart_rotation)
        t = self.translation - np.round(self.translation)
        if np.any(np.abs(t) > 1e-6):
            base += " + t(" + ",".join(f"{x:.3g}" for x in t) + ")"
        return base + ("·T" if self.time_reversal else "")

    def __str__(self) -> str:
        return self.name


def operation_name(R: FloatArray) -> str:
    """E, I, C_n±(axis), m(normal), S_n±(axis) of an orthogonal 3×3 Cartesian matrix (± the sense
    of the proper part about the axis, whose first non-zero component is positive)."""
    R = np.asarray(R, dtype=float)
    det = float(np.round(np.linalg.det(R)))
    P = det * R
    tr = float(np.trace(P))
    angle = float(np.arccos(np.clip((tr - 1) / 2, -1, 1)))
    n = int(round(2 * np.pi / angle)) if angle > 1e-6 else 1
    if n == 1:
        return "E" if det > 0 else "I"
    w, v = np.linalg.eig(P)
    axis = np.real(v[:, np.argmin(np.abs(w - 1))])
    axis = axis / np.max(np.abs(axis))
    axis[np.abs(axis) < 1e-8] = 0.0
    if axis[np.argmax(np.abs(axis) > 1e-6)] < 0:
        axis = -axis
    ax = "(" + ",".join(f"{x:.3g}" for x in axis + 0.0) + ")"
    # sense of rotation about the axis (+: counter-clockwise looking down the axis)
    sense = ""
    if n > 2:
        vec = np.array([P[2, 1] - P[1, 2], P[0, 2] - P[2, 0], P[1, 0] - P[0, 1]])
        sense = "+" if vec @ axis > 0 else "-"
    if det > 0:
        return f"C{n}{sense}{ax}"
    if n == 2:
        return f"m{ax}"
    return f"S{ {3: 6, 6: 3, 4: 4}.get(n, n) }{sense}{ax}".replace(" ", "")


@dataclasses.dataclass(frozen=True, eq=False)
class SpaceGroup:
    """A (magnetic) space group as data (module docstring).

    Attributes
    ----------
    operations : tuple of SymOp
    time_reversal : bool
        T is an element (grey group of a non-magnetic crystal).
    symbol : str
        International (Hermann–Mauguin) symbol, or the BNS number of a magnetic group.
    number : int
        Space-group number (magnetic: spglib's UNI number).
    point_group : str
        Hermann–Mauguin symbol of the (unitary) point group.
    structure : CrystalStructure
    """

    operations: tuple[SymOp, ...]
    time_reversal: bool
    symbol: str
    number: int
    point_group: str
    structure: CrystalStructure

    @property
    def magnetic(self) -> bool:
        return any(op.time_reversal for op in self.operations)

    @property
    def order(self) -> int:
        """Number of elements (antiunitary included; ×2 for a grey group)."""
        return len(self.operations) * (2 if self.time_reversal else 1)

    def elements(self) -> list[SymOp]:
        """Every element: the operations, and T·g for each of them in a grey group."""
        out = list(self.operations)
        if self.time_reversal:
            out += [dataclasses.replace(op, time_reversal=not op.time_reversal)
                    for op in self.operations]
        return out

    def point_operations(self) -> list[tuple[FloatArray, bool]]:
        """The distinct (R_c, antiunitary) pairs of the (magnetic) point group."""
        seen: list[tuple[FloatArray, bool]] = []
        keys: set[tuple[bool, bytes]] = set()
        for op in self.elements():
            # the integer fractional rotation identifies the point operation exactly
            key = (op.time_reversal, np.asarray(op.rotation, dtype=np.int64).tobytes())
            if key not in keys:
                keys.add(key)
                seen.append((op.cart_rotation, op.time_reversal))
        return seen

    def __str__(self) -> str:
        kind = "grey group (with T)" if self.time_reversal else (
            "magnetic" if self.magnetic else "no T")
        return (f"space group {self.symbol} (No. {self.number}), point group {self.point_group}, "
                f"{len(self.operations)} operations, {kind}")


def _spglib() -> Any:
    try:
        import spglib
    except ImportError:
        raise MissingDependencyError("space groups need spglib (pip install spglib)") from None
    return spglib


def _call(name: str, *args: Any, **kwargs: Any) -> Any:
    """spglib function ``name`` with errors raised (spglib ≥ 2.5: SpglibError), not returned as
    None with a DeprecationWarning; the module flag is restored afterwards."""
    spg = _spglib()
    err: Any = getattr(spg, "error", None)
    old = getattr(err, "OLD_ERROR_HANDLING", None)
    if old is not None:
        err.OLD_ERROR_HANDLING = False
    try:
        return getattr(spg, name)(*args, **kwargs)
    except Exception as exc:  # SpglibError, or ValueError/TypeError on a bad cell
        raise ModelError(f"spglib {name} failed: {exc}") from None
    finally:
        if old is not None:
            err.OLD_ERROR_HANDLING = old


def _ops(structure: CrystalStructure, rotations: IntArray, translations: FloatArray,
         time_reversals: Any) -> tuple[SymOp, ...]:
    A = structure.lattice
    At = A.T
    Ainv = np.linalg.inv(At)
    out = []
    for R, t, tr in zip(rotations, translations, time_reversals):
        Rc = At @ R @ Ainv
        if not np.allclose(Rc @ Rc.T, np.eye(3), atol=1e-4):
            raise ModelError("spglib returned a non-orthogonal operation: the lattice is not "
                             "symmetric within symprec; lower symprec")
        u, _, vt = np.linalg.svd(Rc)  # polish to orthogonal
        t = np.asarray(t, dtype=float) - np.floor(np.asarray(t, dtype=float) + 1e-9)
        out.append(SymOp(rotation=np.asarray(R, dtype=int), translation=t,
                         cart_rotation=u @ vt, cart_translation=At @ t,
                         time_reversal=bool(tr)))
    return tuple(out)


def space_group(
    structure: CrystalStructure, *, symprec: float = 1e-3, time_reversal: bool | None = None,
) -> SpaceGroup:
    """The space group of ``structure`` from spglib (module docstring).

    Parameters
    ----------
    structure : CrystalStructure
        With ``magmoms`` for a magnetic space group.
    symprec : float
        spglib's distance tolerance (Å).
    time_reversal : bool, optional
        Include T (grey group). Default: True without moments; with non-zero moments T is not
        an element and True raises.

    Raises
    ------
    ParameterError
        Bad ``symprec``, or ``time_reversal=True`` for a structure with moments.
    """
    if not (isinstance(symprec, (int, float)) and 0 < symprec < 1):
        raise ParameterError(f"symprec must be in (0, 1) Å, got {symprec!r}")
    cell = (structure.lattice, structure.fractional, structure.species_numbers)
    mag = structure.magmoms
    if mag is not None and np.any(np.abs(mag) > 1e-8):
        if time_reversal:
            raise ParameterError("time_reversal=True: a structure with magnetic moments is not "
                                 "time-reversal symmetric (T is not in its magnetic group)")
        data = _call("get_magnetic_symmetry_dataset", cell + (mag,), symprec=symprec)
        if data is None:
            raise ModelError(f"spglib found no magnetic symmetry for {structure.source}")
        ops = _ops(structure, data.rotations, data.translations, data.time_reversals)
        mtype = _call("get_magnetic_spacegroup_type", data.uni_number)
        symbol = str(getattr(mtype, "bns_number", data.uni_number))
        parent = _call("get_symmetry_dataset", cell, symprec=symprec)
        n_u = len({tuple(np.round(o.cart_rotation, 6).ravel()) for o in ops
                   if not o.time_reversal})
        n_a = len({tuple(np.round(o.cart_rotation, 6).ravel()) for o in ops if o.time_reversal})
        pg = (f"magnetic: {n_u} unitary + {n_a} antiunitary point operations (parent "
              f"{'?' if parent is None else parent.pointgroup})")
        return SpaceGroup(operations=ops, time_reversal=False, symbol=f"BNS {symbol}",
                          number=int(data.uni_number), point_group=pg, structure=structure)
    data = _call("get_symmetry_dataset", cell, symprec=symprec)
    if data is None:
        raise ModelError(f"spglib found no symmetry for {structure.source} (symprec={symprec})")
    ops = _ops(structure, data.rotations, data.translations, np.zeros(len(data.rotations)))
    return SpaceGroup(operations=ops, time_reversal=True if time_reversal is None else
                      bool(time_reversal), symbol=str(data.international),
                      number=int(data.number), point_group=str(data.pointgroup),
                      structure=structure)
