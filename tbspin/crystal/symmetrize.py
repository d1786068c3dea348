"""Full space-group symmetrization of H_R, and how far a fit breaks each operation.

Real-space action of an operation (:mod:`.representation`): with H_R[m, n] = ⟨m, 0|H|n, R⟩,
Ĝ H Ĝ† = H reads block by block (sites a, b)

    (g H)_{R'}[π(a), π(b)] = D^a H_R[a, b] D^b†,     R' = R_frac R + L_b − L_a,

and, for an antiunitary operation, the same with conj(H_R) and M Θ (T = Θ K). The group average

    H'(R') = 1/|G| Σ_g (g H)_{R'}

is a projection (idempotent) onto the symmetric Hamiltonians; it stays Hermitian. Its R set is
the union of the images of the model's R. With the Wannier centres at the projection sites τ
(the "positions" Bloch convention), a symmetric H_R gives H(R_c k) = M H(k) M† for every unitary
operation and H(−R_c k) = M H(k)* M† for every antiunitary one (the phase e^{−ik'·t} of a
non-symmorphic translation is global and drops out).

Violation of an operation: mean and max over all elements of all R of |H_R − (g H)_R| (eV), as
:func:`tbspin.symmetry.operations.violation`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from tbspin.crystal.basis import OrbitalBasis, basis_of
from tbspin.crystal.representation import OperationRep, idealize, represent
from tbspin.crystal.spacegroup import SpaceGroup, space_group
from tbspin.crystal.structure import structure_of
from tbspin.errors import ModelError, ParameterError
from tbspin.symmetry.operations import Violation
from tbspin.types import ComplexArray, FloatArray, IntArray

if TYPE_CHECKING:
    from tbspin.model.lattice import LatticeModel

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["SymmetrizeReport", "symmetrize", "operation_image", "commutation_error",
           "group_representations", "kramers_splitting", "conjugated"]


def group_representations(
    model: LatticeModel, group: SpaceGroup | None = None, basis: OrbitalBasis | None = None,
    *, projections: Sequence[str] | None = None, tol: float = 0.01,
    generators_only: bool = False,
) -> tuple[SpaceGroup, OrbitalBasis, list[OperationRep]]:
    """The group (default: spglib on the model's structure), basis (default: the model's
    projections) and the representation of every element on the basis (with
    ``generators_only``: of a generating set, :func:`tbspin.crystal.wedge.generators` —
    enough to check that a model commutes with the whole group)."""
    if model.dim != 3:
        raise ModelError(f"crystal symmetrization needs a 3D model; {model.name!r} is "
                         f"{model.dim}D")
    if basis is None:
        basis = basis_of(model, projections)
    if basis.n_states != model.n_orbitals:
        raise ModelError(f"basis has {basis.n_states} states, model {model.name!r} "
                         f"{model.n_orbitals} orbitals")
    if group is None:
        group = space_group(structure_of(model))
    basis, elements = idealize(basis, group.elements(), tol)
    if generators_only:
        from tbspin.crystal.wedge import generators

        elements = generators(elements)
    return group, basis, [represent(basis, op, tol) for op in elements]


def single_blas(func: F) -> F:
    """Run ``func`` with one BLAS thread: its matrices are small (N ≤ 100), and a multi-threaded
    BLAS on a shared machine spends more time synchronizing than multiplying (measured: 10×)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tbspin.engine.executor import blas_threads

        with blas_threads(1):
            return func(*args, **kwargs)
    return cast(F, wrapper)


def conjugated(M: ComplexArray, H: ComplexArray) -> ComplexArray:
    """M H[r] M† for a stack H (n, N, N), as two 2D GEMMs (batched small matmuls are slow under
    a contended multi-threaded BLAS)."""
    n, N = H.shape[0], H.shape[1]
    X = (H.reshape(n * N, N) @ M.conj().T).reshape(n, N, N)
    Y = M @ X.transpose(1, 0, 2).reshape(N, n * N)
    return np.ascontiguousarray(Y.reshape(N, n, N).transpose(1, 0, 2))


def _keys(R: IntArray, B: int) -> IntArray:
    W = 2 * B + 1
    Rs = R.astype(np.int64) + B
    return (Rs[:, 0] * W + Rs[:, 1]) * W + Rs[:, 2]


def _shift_classes(rep: OperationRep, site: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct shifts L_b − L_a (destination indices) and each element's class (N, N)."""
    Lp = np.zeros_like(rep.site_shift)
    Lp[rep.site_perm] = rep.site_shift  # L indexed by the destination site
    Ls = Lp[site]
    S = Ls[None, :, :] - Ls[:, None, :]  # (N, N, 3): L_{site j} − L_{site i}
    uniq, inv = np.unique(S.reshape(-1, 3), axis=0, return_inverse=True)
    return uniq, inv.reshape(S.shape[:2])


def _targets(R: IntArray, rep: OperationRep, uniq: IntArray) -> list[IntArray]:
    base = R @ rep.op.rotation.T
    return [base + u for u in uniq]


def operation_image(
    R: IntArray, H: ComplexArray, rep: OperationRep, site: IntArray,
) -> tuple[IntArray, ComplexArray]:
    """(g H) on its own R set: ``(R_img, H_img)`` (module docstring).

    Parameters
    ----------
    R : (NR, 3) int array
    H : (NR, N, N) complex array
    rep : OperationRep
    site : (N,) int array
        Site of each state (:attr:`OrbitalBasis.state_site`).
    """
    uniq, cls = _shift_classes(rep, site)
    M = rep.matrix
    Ht = conjugated(M, H.conj() if rep.antiunitary else H)
    targets = _targets(np.asarray(R), rep, uniq)
    allR = np.unique(np.concatenate(targets), axis=0)
    B = int(np.abs(allR).max()) + 1
    keys = _keys(allR, B)
    idx = np.stack([np.searchsorted(keys, _keys(Rt, B)) for Rt in targets])  # (classes, NR)
    N = H.shape[1]
    # element (r, i, j) goes to row idx[cls[i, j], r]: one scatter, injective for each (i, j)
    rows = idx[cls[None, :, :], np.arange(len(R))[:, None, None]]
    out = np.zeros((len(allR), N, N), dtype=complex)
    out[rows, np.arange(N)[None, :, None], np.arange(N)[None, None, :]] = Ht
    return allR, out


def _on(Rset: IntArray, R: IntArray, H: ComplexArray, B: int) -> ComplexArray:
    """H (on R, a subset of Rset) placed on Rset with zeros elsewhere."""
    keys = _keys(Rset, B)
    out = np.zeros((len(Rset),) + H.shape[1:], dtype=complex)
    out[np.searchsorted(keys, _keys(R, B))] = H
    return out


def _average(R: IntArray, H: ComplexArray, reps: list[OperationRep], site: IntArray
             ) -> tuple[IntArray, ComplexArray, list[tuple[IntArray, ComplexArray]]]:
    images = [operation_image(R, H, rep, site) for rep in reps]
    Rset = np.unique(np.concatenate([R] + [r for r, _ in images]), axis=0)
    B = int(np.abs(Rset).max()) + 1
    acc = np.zeros((len(Rset),) + H.shape[1:], dtype=complex)
    for Ri, Hi in images:
        acc += _on(Rset, Ri, Hi, B)
    acc /= len(reps)
    return Rset, acc, images


def _violation(R: IntArray, H: ComplexArray, Ri: IntArray, Hi: ComplexArray) -> Violation:
    Rset = np.unique(np.concatenate([R, Ri]), axis=0)
    B = int(np.abs(Rset).max()) + 1
    d = np.abs(_on(Rset, R, H, B) - _on(Rset, Ri, Hi, B))
    return Violation(mean=float(d.mean()), max=float(d.max()))


def kramers_splitting(E: np.ndarray) -> float:
    """max over k and pairs of E_{2i+1} − E_{2i} (sorted bands (Nk, N)), eV."""
    n = E.shape[1] - E.shape[1] % 2
    return float(np.max(E[:, 1:n:2] - E[:, 0:n:2])) if n else 0.0


@single_blas
def commutation_error(
    model: LatticeModel, reps: list[OperationRep], basis: OrbitalBasis, k: FloatArray,
) -> list[float]:
    """max_k |H(g k) − M H(k) M†| (eV) per operation, H(k) in the "positions" convention with
    the Wannier centres at the projection sites (module docstring); k Cartesian (Nk, 3).

    g k is R_c k computed through the lattice (reduced κ → R⁻ᵀ κ), which equals R_c k when the
    lattice is exactly symmetric and stays exact when it is symmetric only to the file's digits.
    """
    m = model.replace(positions=basis.centres, convention="positions")
    k = np.asarray(k, dtype=float)
    Hk = m.hamiltonian(k)
    out = []
    kappa = k @ np.asarray(model.lattice).T / (2 * np.pi)  # reduced: k·a_i = 2π κ_i
    for rep in reps:
        # g k through the lattice (κ → R⁻ᵀ κ): exact even when the lattice is symmetric only
        # to the digits of the input file
        gk = (kappa @ np.linalg.inv(rep.op.rotation)) @ np.asarray(model.reciprocal)
        if rep.antiunitary:
            gk, src = -gk, Hk.conj()
        else:
            src = Hk
        M = rep.matrix
        out.append(float(np.abs(m.hamiltonian(gk) - conjugated(M, src)).max()))
    return out


@dataclasses.dataclass(frozen=True)
class SymmetrizeReport:
    """What :func:`symmetrize` did (energies in eV).

    Attributes
    ----------
    group : str
        The group (symbol, number, order).
    n_elements : int
    violation_before, violation_after : Violation
        Worst violation over the elements before/after.
    max_change : float
        max |H'_R − H_R| over all R (eV).
    kramers_before, kramers_after : float
        Largest splitting E_{2i+1} − E_{2i} on the k sample (eV).
    commutation_after : float
        max over elements and k of |H(gk) − M H(k) M†| after (eV).
    band_shift_max : float
        Largest change of a band energy on the k sample (eV).
    n_k : int
    """

    group: str
    n_elements: int
    violation_before: Violation
    violation_after: Violation
    max_change: float
    kramers_before: float
    kramers_after: float
    commutation_after: float
    band_shift_max: float
    n_k: int

    def __str__(self) -> str:
        return "\n".join([
            f"symmetrized over {self.group} ({self.n_elements} elements)",
            f"  worst violation before: {self.violation_before}",
            f"  worst violation after:  {self.violation_after}",
            f"  max |ΔH_R| = {self.max_change * 1e3:.4g} meV; bands moved by up to "
            f"{self.band_shift_max * 1e3:.4g} meV ({self.n_k} random k)",
            f"  Kramers-pair splitting: {self.kramers_before * 1e3:.4g} meV → "
            f"{self.kramers_after * 1e3:.3g} meV",
            f"  max |H(gk) − D H(k) D†| after: {self.commutation_after:.3g} eV",
        ])


@single_blas
def symmetrize(
    model: LatticeModel, group: SpaceGroup | None = None, basis: OrbitalBasis | None = None,
    *, projections: Sequence[str] | None = None, positions: str = "sites", n_k: int = 20,
    seed: int = 0, tol: float = 0.01,
) -> tuple[LatticeModel, SymmetrizeReport]:
    """H_R averaged over the whole (magnetic) space group, and a report (module docstring).

    Parameters
    ----------
    model : LatticeModel
        3D, carrying its structure (:func:`tbspin.crystal.with_structure`) unless ``group`` and
        ``basis`` are given.
    group : SpaceGroup, optional
        Default: :func:`space_group` of the model's structure (grey group: with T).
    basis : OrbitalBasis, optional
        Default: from ``projections`` or the model's ``.win``.
    projections : sequence of str, optional
        Projection lines ("Pt: s;p;d") when the model has no ``.win``.
    positions : {"sites", "keep"}
        "sites": the Wannier centres become the projection sites (symmetric; the positions in
        which H(gk) = M H(k) M† holds); "keep": the model's positions are kept.
    n_k, seed : int
        Random k sample of the report.
    tol : float
        Site-matching tolerance (Å).

    Returns
    -------
    (LatticeModel, SymmetrizeReport)
    """
    if positions not in ("sites", "keep"):
        raise ParameterError(f"positions must be 'sites' or 'keep', got {positions!r}")
    if not (isinstance(n_k, int) and n_k >= 1):
        raise ParameterError(f"n_k must be a positive integer, got {n_k!r}")
    group, basis, reps = group_representations(model, group, basis, projections=projections,
                                               tol=tol)
    site = basis.state_site
    R0, H0 = np.asarray(model.R), np.asarray(model.hoppings)
    Rs, Hs, images = _average(R0, H0, reps, site)
    before = max((_violation(R0, H0, Ri, Hi) for Ri, Hi in images), key=lambda v: v.max)
    B = int(np.abs(Rs).max()) + 1
    change = float(np.abs(Hs - _on(Rs, R0, H0, B)).max())
    keep = np.any(np.abs(Hs) > 0, axis=(1, 2)) | ~np.any(Rs != 0, axis=1)
    md = dict(model.metadata)
    md["symmetrized"] = tuple(md.get("symmetrized", ())) + (f"space group {group.symbol}",)
    new = model.replace(R=Rs[keep], hoppings=Hs[keep], metadata=md,
                        positions=basis.centres if positions == "sites" else model.positions)
    after_images = [operation_image(np.asarray(new.R), np.asarray(new.hoppings), rep, site)
                    for rep in reps]
    after = max((_violation(np.asarray(new.R), np.asarray(new.hoppings), Ri, Hi)
                 for Ri, Hi in after_images), key=lambda v: v.max)
    rng = np.random.default_rng(seed)
    k = rng.random((n_k, 3)) @ model.reciprocal
    E0 = np.linalg.eigvalsh(model.replace(positions=basis.centres).hamiltonian(k))
    E1 = np.linalg.eigvalsh(new.hamiltonian(k))
    comm = max(commutation_error(new, reps, basis, k))
    report = SymmetrizeReport(
        group=str(group), n_elements=len(reps), violation_before=before, violation_after=after,
        max_change=change, kramers_before=kramers_splitting(E0),
        kramers_after=kramers_splitting(E1), commutation_after=comm,
        band_shift_max=float(np.abs(E1 - E0).max()), n_k=n_k)
    return new, report
