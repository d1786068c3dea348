"""Bi₂Se₃ (paper's Eq. 10, optional hexagonal warping) regularized on a hexagonal lattice.

Use it as ``bi2se3(lattice="hexagonal", warping=True, ...)``.

Lattice: simple hexagonal, a₁ = a(1, 0, 0), a₂ = a(−½, √3/2, 0), a₃ = c(0, 0, 1) with
a = 4.14 Å (Bi₂Se₃'s in-plane lattice constant) and c = 3 Å by default. a₁ is along x, the
two-fold axis of Liu et al. (PRB 82, 045122 (2010)), so Γ–K ∥ k_x. The real crystal is
rhombohedral (R3̄m, hexagonal c = 28.6 Å for three quintuple layers); its z period is far too
long for a regularization grid: with the Liu 2010 parameters a z-spacing above
√(4M₁/|M₀|) ≈ 9.9 Å inverts the bands at k_z = π/c as well (see :mod:`tbspin.models.bi2se3`),
and above 3.6 Å the regularized valence band along k_z rises into the gap. The regularization
lattice therefore keeps the crystal's in-plane hexagonal net (lattice point group D₆h, which
contains the crystal's C₃) but a short z period, c = 3 Å, as the orthorhombic default.

Regularization (:func:`tbspin.continuum.lattice.regularize_on_lattice`): every monomial of the k·p
polynomial becomes the nearest-shell-first lattice harmonic matching it through its own degree
(error O(k^{n+2})). The shells used: ±c ẑ and the in-plane nearest neighbours for the linear
and quadratic terms (mixed k_∥k_z terms would need the a ± c shell); for the cubic warping terms the in-plane
shells a and √3 a (in-plane cubics need both). The map commutes with every point operation of
the lattice, so the C₃ symmetry of the warping terms (and the continuous in-plane symmetry of
the rest, reduced to C₆) holds exactly on the lattice: E(k) = E(C₃k) to rounding, tested at
random k all over the zone (tests/test_kp_lattice.py).

Band inversion: the mass at the zone-boundary TRIMs (M, A, L) stays normal, so the only
inversion is at Γ (checked at construction, as for the square grid).
"""

from __future__ import annotations

from tbspin.continuum.kp import KPModel
from tbspin.continuum.lattice import hexagonal_lattice, regularize_on_lattice
from tbspin.model.lattice import LatticeModel

__all__ = ["hexagonal_model"]


def hexagonal_model(kp: KPModel, *, a: float, c: float) -> LatticeModel:
    """The Bi₂Se₃ k·p declaration ``kp`` on the simple hexagonal lattice (a, c in Å)."""
    return regularize_on_lattice(
        kp, lattice=hexagonal_lattice(a, c),
        metadata=dict(regularization_lattice="hexagonal", lattice_constants_angstrom=dict(a=a, c=c)),
    )
