"""Crystal symmetry as data: structure, space group, orbital representations, symmetrization,
symmetry breaking of a fit, and the shapes of linear-response tensors.

Modules
-------
:mod:`.structure`       :class:`CrystalStructure` and where a model keeps it (metadata)
:mod:`.spacegroup`      :func:`space_group` from spglib (magnetic groups with moments)
:mod:`.orbitals`        Wannier90's real harmonics and hybrids, rotation matrices D(R)
:mod:`.basis`           :class:`OrbitalBasis` from ``projections`` lines (sites, order, spin)
:mod:`.representation`  D(g) on a basis: spatial × SU(2), site permutation, lattice shifts, T
:mod:`.symmetrize`      :func:`symmetrize` (group average of H_R) and its report
:mod:`.breaking`        :func:`symmetry_breaking`: per operation, how far a fit breaks it
:mod:`.shapes`          :func:`tensor_shape`: vanishing and related components of σ^l_ij, AHC
:mod:`.wedge`           :func:`irreducible_mesh` (stars, weights), tensor rebuild, covariance
"""

from tbspin.crystal.basis import OrbitalBasis, OrbitalGroup, basis_of, win_projections
from tbspin.crystal.breaking import BreakingReport, symmetry_breaking
from tbspin.crystal.orbitals import HYBRIDS, ORBITALS, harmonic_matrix, orbital_coefficients, polynomial
from tbspin.crystal.representation import OperationRep, represent, site_map, spinor_rotation
from tbspin.crystal.shapes import TensorShape, ahc_shape, spin_hall_shape, tensor_shape
from tbspin.crystal.spacegroup import SpaceGroup, SymOp, space_group
from tbspin.crystal.structure import CrystalStructure, read_structure, structure_of, with_structure
from tbspin.crystal.symmetrize import (
    SymmetrizeReport,
    commutation_error,
    group_representations,
    kramers_splitting,
    operation_image,
    symmetrize,
)
from tbspin.crystal.wedge import IrreducibleMesh, irreducible_mesh, rebuild_tensor

__all__ = [
    "CrystalStructure", "read_structure", "structure_of", "with_structure",
    "SpaceGroup", "SymOp", "space_group",
    "ORBITALS", "HYBRIDS", "harmonic_matrix", "orbital_coefficients", "polynomial",
    "OrbitalBasis", "OrbitalGroup", "basis_of", "win_projections",
    "OperationRep", "represent", "site_map", "spinor_rotation",
    "SymmetrizeReport", "symmetrize", "operation_image", "commutation_error",
    "group_representations", "kramers_splitting",
    "BreakingReport", "symmetry_breaking",
    "TensorShape", "tensor_shape", "spin_hall_shape", "ahc_shape",
    "IrreducibleMesh", "irreducible_mesh", "rebuild_tensor",
]
