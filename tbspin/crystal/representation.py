"""How a space-group operation acts on a Wannier basis: D(g), site permutation, lattice shifts.

For g = {R|t} and a site a at fractional τ_a, g(τ_a) = R τ_a + t = τ_π(a) + L_a with an integer
lattice vector L_a. The operator Ĝ maps the Wannier function (a, α) of cell R_cell onto

    Ĝ |a α, R_cell⟩ = Σ_β |π(a) β, R R_cell + L_a⟩ D^a_βα(g),

D^a = C_b D_harm(A_b R_c A_aᵀ) C_aᵀ on the spatial part (:mod:`.orbitals`; C the projection
coefficients, A the local axes, b = π(a)) times the spinor rotation U(g) on the spin part.
:attr:`OperationRep.matrix` is the whole (N×N) matrix M with M[π(a)β, aα] = D^a_βα.

Spinor rotation
---------------
U = exp(−i θ n·σ/2) for the proper part P = det(R_c) R_c = rotation by θ about n (θ ∈ [0, π],
scipy's rotation vector); inversion acts trivially on spin (spin is axial). Then
U σ_j U† = Σ_k P_kj σ_k. U and −U represent the same operation (double group); H → M H M†
does not see the sign, and tbspin fixes it by θ ∈ [0, π] (at θ = π the axis sign is scipy's).

Time reversal
-------------
An antiunitary operation is Ĝ T with T = Θ K, Θ = iσ_y on the spin (block: iσ_y ⊗ 1, interleaved:
1 ⊗ iσ_y), K complex conjugation of the real orbital basis (spinless: Θ = 1). Its matrix is
M Θ and it acts on conj(H).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from tbspin.crystal.basis import OrbitalBasis
from tbspin.crystal.orbitals import harmonic_matrix
from tbspin.crystal.spacegroup import SymOp
from tbspin.errors import ModelError
from tbspin.model.spin import PAULI
from tbspin.types import ComplexArray, FloatArray, IntArray

__all__ = ["OperationRep", "spinor_rotation", "site_map", "represent", "time_reversal_spin", "idealize"]


@dataclasses.dataclass(frozen=True, eq=False)
class OperationRep:
    """An operation on a basis (module docstring).

    Attributes
    ----------
    op : SymOp
    matrix : (N, N) complex array
        M (including Θ for antiunitary operations).
    site_perm : (n_sites,) int array
        π.
    site_shift : (n_sites, 3) int array
        L_a.
    antiunitary : bool
    """

    op: SymOp
    matrix: ComplexArray
    site_perm: IntArray
    site_shift: IntArray
    antiunitary: bool


def spinor_rotation(cart_rotation: FloatArray) -> ComplexArray:
    """SU(2) matrix U of the proper part of a Cartesian rotation (module docstring)."""
    R = np.asarray(cart_rotation, dtype=float)
    P = np.round(np.linalg.det(R)) * R
    vec = Rotation.from_matrix(P).as_rotvec()
    theta = float(np.linalg.norm(vec))
    if theta < 1e-12:
        return np.eye(2, dtype=complex)
    n = vec / theta
    ns = n[0] * PAULI[0] + n[1] * PAULI[1] + n[2] * PAULI[2]
    return np.asarray(np.cos(theta / 2) * np.eye(2) - 1j * np.sin(theta / 2) * ns, dtype=complex)


def time_reversal_spin(n_spatial: int, spin_order: str | None) -> ComplexArray:
    """Θ of T = Θ K on the basis (module docstring)."""
    if spin_order is None:
        return np.eye(n_spatial, dtype=complex)
    isy = 1j * PAULI[1]
    eye = np.eye(n_spatial)
    out = np.kron(isy, eye) if spin_order == "block" else np.kron(eye, isy)
    return np.asarray(out, dtype=complex)


def site_map(basis: OrbitalBasis, op: SymOp, tol: float = 0.01) -> tuple[IntArray, IntArray]:
    """π and L of ``op`` on the basis' sites (module docstring).

    Raises
    ------
    ModelError
        A site has no image among the sites (the projections are not symmetric under ``op``).
    """
    A = basis.lattice
    frac = np.linalg.solve(A.T, basis.sites.T).T
    perm, L = _site_maps(frac, A, np.asarray(op.rotation, dtype=float)[None],
                         np.asarray(op.translation, dtype=float)[None], tol,
                         [op], basis.sites)
    return perm[0], L[0]


def _site_maps(frac: FloatArray, A: FloatArray, rot: FloatArray, trans: FloatArray, tol: float,
               ops: Sequence[SymOp], sites: FloatArray) -> tuple[IntArray, IntArray]:
    """π (G, S) and L (G, S, 3) of G operations (fractional rotations ``rot``, translations
    ``trans``) on the sites ``frac`` (fractional) of lattice ``A``, all at once; ``ops`` and
    ``sites`` (Å) name the culprit of an error (:func:`site_map`)."""
    img = np.einsum("sj,gij->gsi", frac, rot) + trans[:, None, :]  # g(τ_s), fractional
    d = img[:, :, None, :] - frac[None, None, :, :]  # (G, S, S, 3)
    L = np.round(d)
    dist = np.linalg.norm((d - L) @ A, axis=-1)  # (G, S, S)
    perm = np.argmin(dist, axis=2)
    g_i, s_i = np.meshgrid(np.arange(len(rot)), np.arange(len(frac)), indexing="ij")
    best = dist[g_i, s_i, perm]
    bad = (best > tol).any(axis=1) | (np.sort(perm, axis=1)[:, 1:] == np.sort(perm, axis=1)[:, :-1]
                                       ).any(axis=1)
    if bad.any():
        g = int(np.argmax(bad))
        a = int(np.argmax(best[g]))
        raise ModelError(
            f"operation {ops[g].name} maps projection site {a} at {sites[a].round(4)} Å to no "
            f"site of the basis (nearest {best[g, a]:.3g} Å > {tol} Å): the projections are not "
            "symmetric under the group")
    return perm, L[g_i, s_i, perm].astype(int)


def represent(basis: OrbitalBasis, op: SymOp, tol: float = 0.01,
              check_tol: float = 1e-6) -> OperationRep:
    """The representation of ``op`` on ``basis`` (module docstring).

    Raises
    ------
    ModelError
        A site has no image, or a group of functions (e.g. one hybrid of a set) is not mapped
        onto functions of the basis (the message names the operation and the group).
    """
    perm, L = site_map(basis, op, tol)
    Rc = op.cart_rotation
    Dorb = np.zeros((basis.n_spatial, basis.n_spatial))
    by_site: dict[int, list[int]] = {}
    for i, g in enumerate(basis.groups):
        by_site.setdefault(g.site, []).append(i)
    for i, ga in enumerate(basis.groups):
        b = int(perm[ga.site])
        same_a = [j for j in by_site[ga.site] if basis.groups[j].signature == ga.signature]
        same_b = [j for j in by_site.get(b, []) if basis.groups[j].signature == ga.signature]
        if len(same_a) != len(same_b):
            raise ModelError(f"operation {op.name} maps site {ga.site} ({', '.join(ga.labels)}) "
                             f"onto site {b}, which carries other functions")
        gb = basis.groups[same_b[same_a.index(i)]]
        Dh = harmonic_matrix(gb.axes @ Rc @ ga.axes.T)
        block = gb.coefficients @ Dh @ ga.coefficients.T
        if not np.allclose(block @ block.T, np.eye(len(block)), atol=check_tol):
            raise ModelError(
                f"operation {op.name} does not map the functions {', '.join(ga.labels)} of site "
                f"{ga.site} onto those of site {b} (an incomplete hybrid set or local axes that "
                "break the symmetry)")
        Dorb[gb.start:gb.start + gb.size, ga.start:ga.start + ga.size] = block
    if basis.spin_order is None:
        M = Dorb.astype(complex)
    else:
        U = spinor_rotation(Rc)
        M = np.kron(U, Dorb) if basis.spin_order == "block" else np.kron(Dorb, U)
    if op.time_reversal:
        M = M @ time_reversal_spin(basis.n_spatial, basis.spin_order)
    return OperationRep(op=op, matrix=M, site_perm=perm, site_shift=L,
                        antiunitary=op.time_reversal)


def idealize(basis: OrbitalBasis, ops: list[SymOp], tol: float = 0.01, iterations: int = 4
             ) -> tuple[OrbitalBasis, list[SymOp]]:
    """Sites and translations made exactly consistent with the rotations.

    spglib finds operations within ``symprec``; a structure given to a few decimals (Bi₂Se₃'s
    POSCAR) then satisfies g(τ_a) = τ_π(a) + L_a only to ~1e-4 Å, which H(gk) = M H(k) M† in the
    "positions" convention would see. Alternately (``iterations`` times) every site becomes the
    group average τ_b ← 1/|G| Σ_g (R τ_{π⁻¹(b)} + t − L) and every translation the least-squares
    t = mean_a (τ_π(a) + L_a − R τ_a) (fractional); both move by at most the spglib tolerance.
    """
    if iterations < 1 or not ops:
        return basis, list(ops)
    A = basis.lattice
    frac = np.linalg.solve(A.T, basis.sites.T).T
    rot = np.array([op.rotation for op in ops], dtype=float)  # (G, 3, 3)
    trans = np.array([op.translation for op in ops], dtype=float)  # (G, 3)
    for _ in range(iterations):  # all operations at once (one site map of G × S × S)
        perm, L = _site_maps(frac, A, rot, trans, tol, ops, frac @ A)
        acc = np.zeros_like(frac)
        np.add.at(acc, perm.reshape(-1), (np.einsum("sj,gij->gsi", frac, rot)
                                          + trans[:, None, :] - L).reshape(-1, 3))
        frac = acc / len(ops)
        trans = np.mean(frac[perm] + L - np.einsum("sj,gij->gsi", frac, rot), axis=1)
    out = [dataclasses.replace(op, translation=t, cart_translation=A.T @ t)
           for op, t in zip(ops, trans)]
    return dataclasses.replace(basis, sites=frac @ A), out
