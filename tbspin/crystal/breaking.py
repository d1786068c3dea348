"""What a Wannier fit breaks: per space-group operation (and T), how far H_R is from its image.

For each operation g the violation is |H_R − (g H)_R| over all elements of all R (mean and max,
meV; :mod:`.symmetrize` for (g H)_R). A symmetric model has zero for every operation; an ab-initio
fit has the noise of its disentanglement and Wannierization. The Kramers splitting (largest
E_{2i+1} − E_{2i} on random k) says what the breaking does to the bands of a centrosymmetric,
time-reversal-symmetric crystal, where every band is a Kramers pair.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tbspin.crystal.basis import OrbitalBasis
from tbspin.crystal.spacegroup import SpaceGroup
from tbspin.crystal.symmetrize import (
    _violation,
    group_representations,
    kramers_splitting,
    operation_image,
    single_blas,
)
from tbspin.errors import ParameterError

if TYPE_CHECKING:
    from tbspin.model.lattice import LatticeModel

__all__ = ["BreakingRow", "BreakingReport", "symmetry_breaking"]


@dataclasses.dataclass(frozen=True)
class BreakingRow:
    """One operation: its name, whether antiunitary, violation mean and max (meV)."""

    name: str
    antiunitary: bool
    mean_mev: float
    max_mev: float


@dataclasses.dataclass(frozen=True)
class BreakingReport:
    """Per-operation symmetry breaking of a model (module docstring).

    Attributes
    ----------
    group : str
    rows : tuple of BreakingRow
    kramers_splitting_mev : float
        Largest pair splitting on ``n_k`` random k (meV).
    n_k : int
    """

    group: str
    rows: tuple[BreakingRow, ...]
    kramers_splitting_mev: float
    n_k: int

    def worst(self) -> BreakingRow:
        """The operation broken most (by max)."""
        return max(self.rows, key=lambda r: r.max_mev)

    def __str__(self) -> str:
        w = max(len(r.name) for r in self.rows)
        lines = [f"symmetry breaking of H_R, {self.group}",
                 f"  {'operation'.ljust(w)}  {'mean (meV)':>11}  {'max (meV)':>10}"]
        for r in self.rows:
            lines.append(f"  {r.name.ljust(w)}  {r.mean_mev:11.4g}  {r.max_mev:10.4g}")
        lines.append(f"  Kramers-pair splitting up to {self.kramers_splitting_mev:.4g} meV "
                     f"({self.n_k} random k)")
        return "\n".join(lines)


@single_blas
def symmetry_breaking(
    model: LatticeModel, group: SpaceGroup | None = None, basis: OrbitalBasis | None = None,
    *, projections: Sequence[str] | None = None, all_elements: bool = False, n_k: int = 50,
    seed: int = 0, tol: float = 0.01,
) -> BreakingReport:
    """How far ``model`` breaks each operation of its (magnetic) space group.

    Parameters
    ----------
    model : LatticeModel
        Carrying its structure and projections (:func:`tbspin.crystal.symmetrize`).
    group, basis, projections, tol
        As :func:`tbspin.crystal.symmetrize`.
    all_elements : bool
        List every element; default: the operations of the group, and T alone for a grey group.
    n_k, seed : int
        Random k sample of the Kramers splitting.

    Returns
    -------
    BreakingReport
    """
    if not (isinstance(n_k, int) and n_k >= 1):
        raise ParameterError(f"n_k must be a positive integer, got {n_k!r}")
    group, basis, reps = group_representations(model, group, basis, projections=projections,
                                               tol=tol)
    n_ops = len(group.operations)
    chosen = list(range(len(reps)))
    if not all_elements and group.time_reversal:
        chosen = list(range(n_ops)) + [n_ops]  # T·E is the first antiunitary element
    R, H = np.asarray(model.R), np.asarray(model.hoppings)
    site = basis.state_site
    rows = []
    for i in chosen:
        rep = reps[i]
        Ri, Hi = operation_image(R, H, rep, site)
        v = _violation(R, H, Ri, Hi)
        name = "T" if rep.antiunitary and rep.op.name == "E·T" else rep.op.name
        rows.append(BreakingRow(name=name, antiunitary=rep.antiunitary, mean_mev=v.mean * 1e3,
                                max_mev=v.max * 1e3))
    k = np.random.default_rng(seed).random((n_k, 3)) @ model.reciprocal
    E = np.linalg.eigvalsh(model.hamiltonian(k))
    return BreakingReport(group=str(group), rows=tuple(rows),
                          kramers_splitting_mev=kramers_splitting(E) * 1e3, n_k=n_k)
