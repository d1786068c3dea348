"""Γ-refined composite k-meshes for the reproductions (a coarse full-BZ mesh whose cells inside a
box around Γ are replaced by r points per direction), integrated with tbspin's public
band-resolved integrands.

Why: the proper spin Hall integrand of the Bi₂Se₃ and hole-gas models lives within
|k| ≲ 0.1–0.2 Å⁻¹ of Γ (the band-inversion region k ~ √(|M₀|/M₂) = 0.08 Å⁻¹ in-plane), i.e. in a
few per cent of the Brillouin zone of the regularized lattice, and the conduction-band Fermi
pocket is smaller still. A uniform mesh fine enough there (Δk ≈ 0.005 Å⁻¹) would need
~300³ points. The composite mesh keeps the total weight of every coarse cell (midpoint rule
inside it), so it is an ordinary quadrature of the same BZ integral, just denser near Γ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tbspin import units
from tbspin.bands.gauge_tally import GaugeRun
from tbspin.engine.points import BatchTask, Kernel, WeightedPoints
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.types import FloatArray


@dataclasses.dataclass(frozen=True)
class MeshSettings:
    """The discretization shared by the reproductions on a :class:`CompositeMesh`."""

    n: int  #: coarse mesh points per periodic direction
    box: float  #: half-width of the refined box around Γ (reduced coordinates)
    refine: int  #: sub-points per direction inside each refined coarse cell
    de: float  #: Fermi-energy step (eV)


@dataclasses.dataclass(frozen=True)
class CompositeMesh:
    """A coarse full-BZ mesh refined inside a box around Γ.

    Attributes
    ----------
    n : tuple of int
        Coarse points per periodic direction.
    shift : tuple of float
        Coarse-mesh shift in units of the coarse step (an off-symmetric shift lifts the
        degeneracy of symmetry-related points, so Fermi-sea sums grow by many small steps).
    box : tuple of float
        Half-width of the refined box in reduced coordinates (fraction of the reciprocal vector).
    refine : tuple of int
        Sub-points per direction inside every refined coarse cell.
    """

    n: tuple[int, ...]
    shift: tuple[float, ...]
    box: tuple[float, ...]
    refine: tuple[int, ...]

    @classmethod
    def make(cls, n: int | Sequence[int], shift: float | Sequence[float], box: float | Sequence[float],
             refine: int | Sequence[int], p: int) -> CompositeMesh:
        """Broadcast scalars to ``p`` periodic directions and validate."""
        def per(v: object, typ: type) -> tuple:
            vals = tuple(typ(x) for x in (v if isinstance(v, Sequence) else [v] * p))
            if len(vals) != p:
                raise ParameterError(f"expected {p} values per direction, got {v!r}")
            return vals

        mesh = cls(per(n, int), per(shift, float), per(box, float), per(refine, int))
        if min(mesh.n) < 2 or min(mesh.refine) < 1 or not all(0 <= b < 0.5 for b in mesh.box):
            raise ParameterError(f"bad composite mesh {mesh}: n >= 2, refine >= 1, 0 <= box < 0.5")
        return mesh

    def doubled(self) -> CompositeMesh:
        """The same mesh with twice the density everywhere (coarse n → 2n, same refinement)."""
        return dataclasses.replace(self, n=tuple(2 * x for x in self.n))

    def points(self) -> tuple[FloatArray, FloatArray]:
        """Reduced coordinates (N, p) in [−½, ½) and weights (N,) summing to 1."""
        axes = [((np.arange(n) + s) / n + 0.5) % 1.0 - 0.5 for n, s in zip(self.n, self.shift, strict=True)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(self.n))
        inside = np.all(np.abs(grid) < np.asarray(self.box), axis=1)
        total = float(np.prod(self.n))
        sub_axes = [((np.arange(r) + 0.5) / r - 0.5) / n for r, n in zip(self.refine, self.n, strict=True)]
        sub = np.stack(np.meshgrid(*sub_axes, indexing="ij"), -1).reshape(-1, len(self.n))
        fine = (grid[inside][:, None, :] + sub[None, :, :]).reshape(-1, len(self.n))
        pts = np.concatenate([grid[~inside], fine])
        w = np.concatenate([np.full(int((~inside).sum()), 1.0 / total),
                            np.full(len(fine), 1.0 / (total * len(sub)))])
        return pts, w

    @property
    def size(self) -> int:
        """Number of k-points."""
        return len(self.points()[1])

    def finest_step(self, model: LatticeModel) -> FloatArray:
        """Spacing (1/Å) of the refined points along each reciprocal vector."""
        b = np.linalg.norm(model.reciprocal[list(model.periodic)], axis=1)
        return b / (np.asarray(self.n) * np.asarray(self.refine))

    def as_dict(self) -> dict[str, object]:
        """JSON-ready description."""
        return {"kind": "composite (coarse full-BZ mesh, Γ box refined by midpoint sub-grids)",
                **dataclasses.asdict(self), "n_points": self.size}


@GaugeRun.wrap
def integrate(model: LatticeModel, kernels: dict[str, Kernel], mesh: CompositeMesh,
              efermi: FloatArray, temperature: float, kind: str = "shc",
              chunk: int = 40_000, holes: bool = False) -> dict[str, FloatArray]:
    """Σ_k w_k Σ_m f(ε_mk) X_mk / V_cell in tbspin's canonical unit for each kernel.

    All kernels are evaluated on the same points (each does its own diagonalization).
    With ``holes=True`` the sum runs over the *empty* states, ε_mk ≥ E_F: the Fermi sea of
    holes of an electron-picture model, i.e. the hole-picture sum with hole energies −ε
    (the eigenvectors, hence X, are the same in both pictures).
    """
    pts, w = mesh.points()
    ef = -np.asarray(efermi, float) if holes else np.asarray(efermi, float)
    points = WeightedPoints(model, pts, w, chunk)
    acc = {}
    for name, kern in kernels.items():
        # the engine's one chunk path (tbspin.engine.points): evaluation, weights, the one Fermi sum
        task = BatchTask(_Holes(kern) if holes else kern, points, ef, temperature)
        acc[name] = sum(task(c)[1] for c in range(points.n_chunks))
    factor = units.conversion_factor(kind, model.n_periodic)[0]
    return {name: a / model.cell_measure * factor for name, a in acc.items()}


@dataclasses.dataclass(frozen=True)
class _Holes:
    """The kernel in the hole picture: energies −ε (the Fermi sea of holes is ε ≥ E_F)."""

    kernel: Kernel

    def __call__(self, k: FloatArray) -> tuple[FloatArray, FloatArray]:
        E, X = self.kernel(k)
        return -E, X
