"""Band-structure paths through the Brillouin zone of the periodic directions of a system.

Special points and their labels come from :mod:`ase` (``ase.cell.Cell.bandpath``), which knows
the Bravais lattices in 1D, 2D and 3D. Only the *periodic* lattice vectors are used, so the
same helper serves bulk crystals, slabs (2D surface Brillouin zone) and ribbons (1D).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tbspin.errors import ParameterError
from tbspin.types import ArrayLike

if TYPE_CHECKING:
    from ase.dft.kpoints import BandPath

__all__ = ["KPath", "make_kpath", "inplane_reciprocal"]

_PRETTY = {"G": "Γ"}


@dataclasses.dataclass(frozen=True)
class KPath:
    """A polyline of Cartesian k-points with its plotting axis.

    Attributes
    ----------
    k : (Nk, d) ndarray
        Cartesian wave vectors (1/Å) in the space of the model (d = its spatial dimension).
    x : (Nk,) ndarray
        Cumulative path length (1/Å), the abscissa of a band plot.
    special_x : (Ns,) ndarray
        Abscissae of the special points.
    labels : tuple of str
        Their labels (Γ for ase's "G").
    """

    k: np.ndarray
    x: np.ndarray
    special_x: np.ndarray
    labels: tuple[str, ...]


def inplane_reciprocal(periods: ArrayLike) -> np.ndarray:
    """Reciprocal vectors of a set of p ≤ d lattice vectors, lying in their span.

    Parameters
    ----------
    periods : (p, d) array_like
        Periodic lattice vectors (rows, Cartesian Å).

    Returns
    -------
    (p, d) ndarray
        Rows b_j with a_i · b_j = 2π δ_ij and b_j in span(a_i).
    """
    a = np.atleast_2d(np.asarray(periods, dtype=float))
    return 2 * np.pi * np.linalg.solve(a @ a.T, a)


def _embedding_cell(periods: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """A 3×3 cell whose first p rows are the periods (in 3D) and the rest orthogonal to them."""
    p, d = periods.shape
    a3 = np.zeros((p, 3))
    a3[:, :d] = periods
    scale = 3.0 * float(np.max(np.linalg.norm(a3, axis=1)))
    # orthonormal complement of span(periods) from the SVD
    _, _, vt = np.linalg.svd(a3)
    cell = np.array(list(a3) + [v * scale for v in vt[p:]])
    return cell, a3, [True] * p + [False] * (3 - p)


def make_kpath(
    periods: ArrayLike,
    path: str | None = None,
    npoints: int = 200,
    *,
    special_points: dict[str, Sequence[float]] | None = None,
    kmax: float | None = None,
) -> KPath:
    """k-path through special points of the lattice spanned by ``periods``.

    Parameters
    ----------
    periods : (p, d) array_like
        Periodic lattice vectors (Å) as rows, Cartesian in the model's d-dimensional space
        (e.g. the two in-plane vectors of a slab, the one vector of a ribbon).
    path : str, optional
        ase path string, e.g. ``"KGM"`` or ``"XGX"``; default: ase's standard path for the
        Bravais lattice of ``periods``. Use ``,`` to break the path.
    npoints : int
        Total number of points.
    special_points : mapping {label: reduced coordinates (p,)}, optional
        Extra/overriding special points in units of the reciprocal vectors of ``periods``.
    kmax : float, optional
        Zoom on Γ: every special point farther than ``kmax`` (1/Å) from Γ is pulled in along
        its direction to ``|k| = kmax`` and its label gets the factor (e.g. ``"0.05M"``).

    Returns
    -------
    KPath
    """
    from ase.cell import Cell

    per = np.atleast_2d(np.asarray(periods, dtype=float))
    p, d = per.shape
    if p < 1 or p > 3 or d > 3 or p > d:
        raise ParameterError(f"'periods' must have shape (p, d) with 1 <= p <= d <= 3, got {per.shape}")
    if int(npoints) < 2:
        raise ParameterError(f"'npoints' must be at least 2, got {npoints}")
    cell, _, pbc = _embedding_cell(per)
    sp: dict[str, list[float]] | None = None
    if special_points is not None:
        sp = {}
        for key, val in special_points.items():
            full = np.zeros(3)
            v = np.asarray(val, dtype=float).reshape(-1)
            if v.shape != (p,):
                raise ParameterError(f"special point {key!r} needs {p} reduced coordinates, got {v}")
            full[:p] = v
            sp[key] = full.tolist()
    try:
        bp = Cell(cell).bandpath(path, npoints=int(npoints), special_points=sp, pbc=pbc)
    except Exception as exc:  # ase raises several types for unknown labels / lattices
        raise ParameterError(f"cannot build the k-path {path!r} for these periods: {exc}") from exc
    if kmax is not None:
        return _zoomed(bp, cell, d, float(kmax), int(npoints))
    kcart3 = bp.kpts @ (2 * np.pi * np.linalg.inv(cell).T)
    k = kcart3[:, :d]
    x, sx, labels = bp.get_linear_kpoint_axis()
    # ase's axis is the Cartesian path length in 1/Å (2π included), with jumps at breaks
    labels = tuple(_pretty(lbl) for lbl in labels)
    return KPath(k=np.asarray(k), x=np.asarray(x), special_x=np.asarray(sx),
                 labels=labels)


def _pretty(label: str) -> str:
    return "|".join(_PRETTY.get(s, s) for s in label.split(","))



def _zoomed(bp: BandPath, cell: np.ndarray, d: int, kmax: float, npoints: int) -> KPath:
    """ase's path with every special point pulled in to |k| <= kmax (straight segments)."""
    from ase.dft.kpoints import parse_path_string

    if not kmax > 0:
        raise ParameterError(f"'kmax' must be positive, got {kmax}")
    recip = 2 * np.pi * np.linalg.inv(cell).T
    pts, names = {}, {}
    for key, val in bp.special_points.items():
        kc = np.asarray(val) @ recip
        norm = np.linalg.norm(kc)
        f = 1.0 if norm <= kmax else kmax / norm
        pts[key] = kc * f
        names[key] = _pretty(key) if f == 1.0 else f"{f:.2g}·{_pretty(key)}"
    segments = parse_path_string(bp.path)
    if len(segments) != 1:
        segments = [segments[0]]  # a zoom follows the first connected piece of the path
    corners = np.array([pts[lbl] for lbl in segments[0]])
    lengths = np.linalg.norm(np.diff(corners, axis=0), axis=1)
    sx = np.concatenate([[0.0], np.cumsum(lengths)])
    # points per segment ∝ its length, every corner included exactly
    nseg = np.maximum(1, np.round(lengths / sx[-1] * (npoints - 1)).astype(int))
    x = np.concatenate([np.linspace(sx[i], sx[i + 1], n, endpoint=False)
                        for i, n in enumerate(nseg)] + [sx[-1:]])
    k = np.stack([np.interp(x, sx, corners[:, i]) for i in range(3)], axis=1)
    return KPath(k=k[:, :d], x=x, special_x=sx, labels=tuple(names[lbl] for lbl in segments[0]))
