"""Uniform full-Brillouin-zone k-meshes and k-point normalisation (the one copy of each).

A mesh of n_1 × … × n_p points over the p periodic directions of a model has reduced coordinates
κ_i = (j_i + s_i) / n_i, j_i = 0 … n_i − 1, with an optional shift s_i (in units of the mesh step),
and Cartesian k = Σ_i κ_i b_i. Non-periodic directions have κ = 0. Every point has weight 1/N_k,
so that (1 / (V_cell N_k)) Σ_k F(k) → ∫ d^pk/(2π)^p F(k). :func:`reduced_grid` with
``centered=True`` folds the same points into [−½, ½) (Γ-centred grids for band searches).

:func:`as_kpoints` turns whatever a user passes as k — one vector, a batch, a
:class:`tbspin.bz.kpath.KPath` — into a validated (Nk, d) float array.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from tbspin.errors import ParameterError
from tbspin.types import ArrayLike, FloatArray, KPoints, MeshSpec, ShiftSpec

if TYPE_CHECKING:
    from tbspin.bz.kpath import KPath
    from tbspin.model.lattice import LatticeModel

__all__ = ["Mesh", "make_mesh", "as_kpoints", "reduced_grid", "mesh_points", "mesh_shift"]


def as_kpoints(k: KPoints | KPath, dim: int, *, name: str = "k") -> FloatArray:
    """Validated Cartesian k-points: shape (Nk, dim), finite floats (1/Å).

    Parameters
    ----------
    k : (d,) or (Nk, d) array_like, or an object with a ``k`` attribute (a KPath)
    dim : int
        Spatial dimension d of the model.
    name : str
        Parameter name used in error messages.

    Raises
    ------
    ParameterError
        For a wrong shape, non-numbers, NaN or Inf.
    """
    if hasattr(k, "k") and not isinstance(k, np.ndarray):
        k = k.k
    try:
        arr = np.asarray(k, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"'{name}' must be numbers (Cartesian, 1/Å), got {k!r}") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ParameterError(
            f"{name} must have shape (Nk, {dim}) (Cartesian, 1/Å) for this {dim}D model, "
            f"got {np.shape(k)}"
        )
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"'{name}' contains NaN or Inf")
    return arr


def reduced_grid(
    n: tuple[int, ...], shift: tuple[float, ...] | None = None, *, centered: bool = False,
    start: int = 0, stop: int | None = None,
) -> FloatArray:
    """Reduced coordinates κ_i = (j_i + s_i)/n_i of mesh points start … stop−1 (C order).

    ``centered=True`` folds each coordinate into [−½, ½).
    """
    size = int(np.prod(n))
    stop = size if stop is None else min(stop, size)
    shift = (0.0,) * len(n) if shift is None else shift
    idx = np.unravel_index(np.arange(start, stop), n)
    red = np.stack([(j + s) / m for j, s, m in zip(idx, shift, n, strict=True)], axis=1)
    if centered:
        red = (red + 0.5) % 1.0 - 0.5
    return red


@dataclasses.dataclass(frozen=True)
class Mesh:
    """A uniform mesh over the periodic directions of a model.

    Parameters
    ----------
    n : tuple of int
        Points along each periodic direction (each ≥ 2).
    shift : tuple of float
        Offset of the mesh in units of the mesh step along each periodic direction.
    """

    n: tuple[int, ...]
    shift: tuple[float, ...]

    @property
    def size(self) -> int:
        """Total number of k-points."""
        return int(np.prod(self.n))

    def reduced(self, start: int = 0, stop: int | None = None) -> FloatArray:
        """Reduced coordinates (over the periodic directions) of points start … stop−1."""
        return reduced_grid(self.n, self.shift, start=start, stop=stop)

    def cartesian(self, model: LatticeModel, start: int = 0, stop: int | None = None) -> FloatArray:
        """Cartesian k (1/Å) of points start … stop−1 for ``model``."""
        b = model.reciprocal[list(model.periodic)]
        return self.reduced(start, stop) @ b

    def chunk(self, model: LatticeModel, index: int, chunk_size: int) -> FloatArray:
        """Cartesian k of chunk number ``index`` (points index·chunk_size … +chunk_size−1)."""
        return self.cartesian(model, index * chunk_size, (index + 1) * chunk_size)

    def chunks(self, model: LatticeModel, chunk_size: int) -> Iterator[tuple[int, FloatArray]]:
        """Yield (chunk index, Cartesian k batch) over the whole mesh."""
        for i in range(self.n_chunks(chunk_size)):
            yield i, self.chunk(model, i, chunk_size)

    def n_chunks(self, chunk_size: int) -> int:
        """Number of chunks of ``chunk_size`` points."""
        return -(-self.size // chunk_size)


def make_mesh(model: LatticeModel, n: MeshSpec, shift: ShiftSpec = 0.0) -> Mesh:
    """Validate and build a :class:`Mesh` for ``model``.

    Parameters
    ----------
    model : LatticeModel
    n : int or sequence of int
        Points per periodic direction (one int for all). Each must be ≥ 2.
    shift : float or sequence of float
        Shift in units of the mesh step (0.5 gives a Γ-avoiding mesh).

    Raises
    ------
    ParameterError
        Naming ``mesh`` or ``shift`` when they do not fit the model.
    """
    p = model.n_periodic
    return Mesh(n=mesh_points(n, p), shift=mesh_shift(shift, p))


def mesh_points(n: MeshSpec, p: int, *, minimum: int = 2, name: str = "mesh") -> tuple[int, ...]:
    """Validated points per periodic direction (an int for all, or one per direction)."""
    vals = _per_direction(n, p, name)
    out = []
    for x in vals:
        if not isinstance(x, numbers.Integral) and not (
            isinstance(x, numbers.Real) and float(x).is_integer()
        ):
            raise ParameterError(f"'{name}' must contain whole numbers, got {n!r}")
        out.append(int(float(x)))
    if any(x < minimum for x in out):
        raise ParameterError(
            f"'{name}' needs at least {minimum} points per periodic direction, got {out}"
        )
    return tuple(out)


def mesh_shift(shift: ShiftSpec, p: int) -> tuple[float, ...]:
    """Validated mesh shift (units of the mesh step), one per periodic direction."""
    vals = [float(x) for x in _per_direction(shift, p, "shift")]
    if not all(np.isfinite(vals)):
        raise ParameterError(f"'shift' must be finite, got {shift!r}")
    return tuple(vals)


def _per_direction(value: ArrayLike, p: int, name: str) -> list[numbers.Real]:
    """One number for all p directions, or p numbers; strings and booleans are refused."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if isinstance(value, np.ndarray) and value.ndim != 1:
        items = [value]
    if len(items) not in (1, p) or not all(
        isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in items
    ):
        raise ParameterError(
            f"'{name}' must be a number or a sequence of {p} numbers (one per periodic "
            f"direction), got {value!r}"
        )
    reals = [x for x in items if isinstance(x, numbers.Real)]
    return reals * p if len(reals) == 1 else reals
