"""Uniform full-Brillouin-zone k-meshes, generated chunk by chunk so memory stays bounded.

A mesh of n_1 × … × n_p points over the p periodic directions of a model has reduced coordinates
κ_i = (j_i + s_i) / n_i, j_i = 0 … n_i − 1, with an optional shift s_i (in units of the mesh step),
and Cartesian k = Σ_i κ_i b_i. Non-periodic directions have κ = 0. Every point has weight 1/N_k,
so that (1 / (V_cell N_k)) Σ_k F(k) → ∫ d^pk/(2π)^p F(k).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .model import LatticeModel


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

    def reduced(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Reduced coordinates (over the periodic directions) of points start … stop−1."""
        stop = self.size if stop is None else min(stop, self.size)
        idx = np.unravel_index(np.arange(start, stop), self.n)
        return np.stack(
            [(j + s) / n for j, s, n in zip(idx, self.shift, self.n, strict=True)], axis=1
        )

    def cartesian(self, model: LatticeModel, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Cartesian k (1/Å) of points start … stop−1 for ``model``."""
        red = self.reduced(start, stop)
        b = model.reciprocal[list(model.periodic)]
        return red @ b

    def chunks(self, model: LatticeModel, chunk_size: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (chunk index, Cartesian k batch) over the whole mesh."""
        for i, start in enumerate(range(0, self.size, chunk_size)):
            yield i, self.cartesian(model, start, start + chunk_size)

    def n_chunks(self, chunk_size: int) -> int:
        """Number of chunks of ``chunk_size`` points."""
        return -(-self.size // chunk_size)


def make_mesh(model: LatticeModel, n: int | Sequence[int], shift: float | Sequence[float] = 0.0) -> Mesh:
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
    ValueError
        Naming ``mesh`` or ``shift`` when they do not fit the model.
    """
    p = model.n_periodic
    nn = _per_direction(n, p, "mesh", int)
    if any(x < 2 for x in nn):
        raise ValueError(f"'mesh' needs at least 2 points per periodic direction, got {nn}")
    ss = _per_direction(shift, p, "shift", float)
    if not all(np.isfinite(ss)):
        raise ValueError(f"'shift' must be finite, got {ss}")
    return Mesh(n=tuple(nn), shift=tuple(ss))


def _per_direction(value: Any, p: int, name: str, typ: type) -> list:
    arr = np.atleast_1d(np.asarray(value))
    if arr.ndim != 1 or len(arr) not in (1, p):
        raise ValueError(
            f"'{name}' must be a number or a sequence of {p} numbers (one per periodic direction), "
            f"got {value!r}"
        )
    if typ is int and not np.all(np.equal(np.mod(arr, 1), 0)):
        raise ValueError(f"'{name}' must contain whole numbers, got {value!r}")
    out = [typ(x) for x in arr]
    return out * p if len(out) == 1 else out
