"""Mesh-convergence studies: the same conductivity on a sequence of meshes, as a table.

The spin Hall integrands of k·p-derived models live close to Γ and Wannier models have sharp
features near (avoided) crossings, so every number worth quoting comes with the change from the
previous mesh. :func:`mesh_study` runs a calculation on several meshes and reports, for each Fermi
energy, the values and the relative change between consecutive meshes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from tbspin.errors import ParameterError
from tbspin.results.conductivity import ConductivityResult


@dataclasses.dataclass
class ConvergenceTable:
    """Values of one conductivity on successive meshes.

    Attributes
    ----------
    meshes : list of tuple
        The meshes, in the order computed.
    results : list of ConductivityResult
        One result per mesh (same Fermi energies).
    unit : str
        Unit of :attr:`values`.
    """

    meshes: list[tuple[int, ...]]
    results: list[ConductivityResult]
    unit: str

    @property
    def efermi(self) -> np.ndarray:
        """Fermi energies (eV)."""
        return self.results[0].efermi

    @property
    def values(self) -> np.ndarray:
        """(n_meshes, n_E) values in :attr:`unit`."""
        return np.array([r.to(self.unit) for r in self.results])

    @property
    def relative_changes(self) -> np.ndarray:
        """(n_meshes − 1, n_E) |v_i − v_{i−1}| / max(|v_i|, floor), floor = 1e-12·max|v|."""
        v = self.values
        floor = 1e-12 * max(float(np.max(np.abs(v))), 1e-300)
        return np.abs(np.diff(v, axis=0)) / np.maximum(np.abs(v[1:]), floor)

    def converged(self, rtol: float) -> np.ndarray:
        """Per Fermi energy: did the last mesh change the value by less than ``rtol``?"""
        return self.relative_changes[-1] < rtol

    def to_text(self) -> str:
        """Plain-text table: one row per Fermi energy, value per mesh and the last change."""
        r0 = self.results[0]
        errs = [r.errors_to(self.unit) for r in self.results]
        with_err = all(e is not None for e in errs)
        w = 26 if with_err else 16
        head = [f"{'E_F (eV)':>10s}"] + [f"{'x'.join(map(str, m)):>{w}s}" for m in self.meshes]
        head.append(f"{'last change':>12s}")
        lines = [f"# {r0.label} of {r0.model} ({r0.formula}, {r0.method}) in {self.unit}",
                 f"# gauge: {r0.gauge}"]
        if with_err:
            lines.append("# value ± standard error (1 sigma) of each mesh's randomly shifted "
                         "sub-meshes")
        lines.append(" ".join(head))
        last = self.relative_changes[-1] if len(self.meshes) > 1 else np.full(len(self.efermi), np.nan)
        for i, e in enumerate(self.efermi):
            cells = [f"{v:16.6g}" if not with_err else f"{v:16.6g} ± {d[i]:<7.2g}"
                     for v, d in zip(self.values[:, i], errs if with_err else self.values,
                                     strict=True)]
            row = [f"{e:10.4f}"] + cells + [f"{last[i]:12.2e}"]
            lines.append(" ".join(row))
        return "\n".join(lines)


def mesh_study(
    compute: Callable[..., ConductivityResult],
    meshes: Sequence[int | Sequence[int]],
    *,
    unit: str | None = None,
    progress: Callable[[str], object] | None = None,
) -> ConvergenceTable:
    """Run ``compute(mesh=m)`` for every mesh m and tabulate the results.

    Parameters
    ----------
    compute : callable
        Takes ``mesh=`` and returns a :class:`ConductivityResult`, e.g.
        ``functools.partial(tbspin.spin_hall, model, efermi=..., spin="y", ...)``.
    meshes : sequence
        At least two meshes, coarse to fine.
    unit : str, optional
        Unit of the table (default: the canonical unit of the first result).
    progress : callable, optional
        Called with a one-line message after each mesh (e.g. ``print``).

    Returns
    -------
    ConvergenceTable
    """
    if len(meshes) < 2:
        raise ParameterError(f"'meshes' needs at least two meshes to compare, got {list(meshes)!r}")
    results: list[ConductivityResult] = []
    for m in meshes:
        r = compute(mesh=m)
        if results and not np.array_equal(r.efermi, results[0].efermi):
            raise ParameterError("every mesh must be computed at the same Fermi energies")
        results.append(r)
        if progress is not None:
            progress(f"mesh {'x'.join(map(str, r.mesh))}: {r.extras.get('seconds', 0):.1f} s")
    unit = unit or results[0].unit
    return ConvergenceTable(meshes=[r.mesh for r in results], results=results, unit=unit)
