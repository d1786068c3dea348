"""Irreducible wedge of a uniform k-mesh under a (magnetic) point group, the rebuild of a tensor
from its wedge sum, and the checks that make the rebuild exact.

Action on k
-----------
A unitary operation {R|t} (R the integer fractional rotation, R_c = Aᵀ R A⁻ᵀ its Cartesian form)
maps k to R_c k; in reduced coordinates (k = Σ_i κ_i b_i, a row vector κ) that is κ ↦ κ R⁻¹. An
antiunitary operation (R followed by time reversal) maps k to −R_c k. A mesh κ = (j + s)/n is
*invariant* when every operation maps it onto itself (always for a Γ-centred mesh with equal
divisions on a lattice the group keeps; a shifted mesh only for shifts the group keeps).

Wedge and weights
-----------------
The star of a mesh point is its orbit {g k}; each star is represented by its point of smallest
mesh index, weighted by the number of distinct points of the star (the weights add up to the
number of mesh points).

Rebuild
-------
If the per-k Fermi sum S(k) = Σ_m f(ε_mk) X_mk of a tensor observable obeys S(g k) = T_g S(k)
for every element g, with T_g = s_g ⊗_a M_a(g) (M = R_c for a polar index, det(R_c) R_c for an
axial one, s_g = −1 for an antiunitary g and a T-odd observable, else +1), then each star sums to
(|star| / |G|) Σ_g T_g S(k), so the full-mesh sum is

    Σ_{k ∈ mesh} S(k) = P [Σ_{k ∈ wedge} w_k S(k)],     P = (1/|G|) Σ_g T_g,

the projector of :func:`tbspin.crystal.shapes.tensor_shape` — with the same operations, exact to
rounding. S(g k) = T_g S(k) holds when the model commutes with the group, H(g k) = M H(k) M†
(antiunitary: M H(k)* M†) with a k-independent M (the Bloch convention "positions" with the
Wannier centres at the projection sites, or any convention with one site per cell at a lattice
point), its spin operators rotate as axial vectors, M† s_l M = Σ_l' (det R_c R_c)_{l l'} s_l'
(antiunitary: −…), and the integrand is basis-independent inside degenerate blocks or its
basis follows the operation (:func:`gauge_covariance`). :func:`model_covariance` measures the
first two on random k.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tbspin.crystal.representation import OperationRep
from tbspin.crystal.spacegroup import SpaceGroup, SymOp
from tbspin.errors import ModelError, ParameterError
from tbspin.types import ComplexArray, FloatArray, IntArray

if TYPE_CHECKING:
    from tbspin.model.lattice import LatticeModel

__all__ = ["IrreducibleMesh", "irreducible_mesh", "k_actions", "generators", "axial_matrix",
           "model_covariance", "gauge_covariance", "rebuild_tensor"]

#: a mapped mesh coordinate farther than this from an integer: the mesh is not invariant
_ON_MESH = 1e-6


@dataclasses.dataclass(frozen=True, eq=False)
class IrreducibleMesh:
    """The irreducible points of a uniform mesh (module docstring).

    Attributes
    ----------
    n : tuple of int
        Points per direction of the full mesh.
    shift : tuple of float
        Shift in units of the mesh step.
    index : (n_ir,) int array
        Mesh index (C order, :meth:`tbspin.bz.kmesh.Mesh.reduced`) of each representative.
    points : (n_ir, 3) float array
        Reduced coordinates (j + s)/n of the representatives.
    weights : (n_ir,) int array
        Star sizes; they add up to the number of mesh points.
    star : (N,) int array
        For every mesh point, the position (in ``index``) of its representative.
    n_actions : int
        Number of distinct actions on k (the order of the point group acting on k).
    """

    n: tuple[int, ...]
    shift: tuple[float, ...]
    index: IntArray
    points: FloatArray
    weights: IntArray
    star: IntArray
    n_actions: int

    @property
    def size(self) -> int:
        """Number of irreducible points."""
        return len(self.index)

    @property
    def full_size(self) -> int:
        """Number of points of the full mesh."""
        return int(np.prod(self.n))


def _elements(group: SpaceGroup | Sequence[SymOp]) -> list[SymOp]:
    return group.elements() if isinstance(group, SpaceGroup) else list(group)


def k_actions(group: SpaceGroup | Sequence[SymOp]) -> list[IntArray]:
    """The distinct integer matrices Q with κ ↦ κ Q (Q = R⁻¹, or −R⁻¹ for an antiunitary
    operation) of the elements of ``group`` (module docstring)."""
    out: list[IntArray] = []
    seen: set[bytes] = set()
    for op in _elements(group):
        R = np.asarray(op.rotation, dtype=float)
        Q = np.linalg.inv(R)
        Qi = np.round(Q).astype(np.int64)
        if np.abs(Q - Qi).max() > 1e-9:
            raise ModelError(f"operation {op.name}: its fractional rotation has no integer "
                             "inverse (not a lattice operation)")
        if op.time_reversal:
            Qi = -Qi
        key = Qi.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(Qi)
    return out


def irreducible_mesh(group: SpaceGroup | Sequence[SymOp], n: Sequence[int],
                     shift: Sequence[float] | float = 0.0) -> IrreducibleMesh:
    """The irreducible points and weights of the mesh κ = (j + s)/n (module docstring).

    Parameters
    ----------
    group : SpaceGroup or sequence of SymOp
        Every element (a grey group's antiunitary elements included by
        :meth:`SpaceGroup.elements`).
    n : sequence of 3 int
    shift : float or sequence of 3 float
        In units of the mesh step.

    Raises
    ------
    ParameterError
        The mesh (with its shift) is not mapped onto itself by some operation.
    """
    nn = np.array([int(x) for x in n], dtype=np.int64)
    if nn.shape != (3,) or np.any(nn < 1):
        raise ParameterError(f"irreducible meshes need 3 positive divisions, got {n!r}")
    s = np.broadcast_to(np.asarray(shift, dtype=float), (3,)).copy()
    N = int(np.prod(nn))
    n_actions = len(k_actions(group))
    # the stars are the connected components of the graph "p — g p" over a generating set
    # (every element is a product of generators): one image table per generator
    images = [_image_index(Q, nn, s) for Q in k_actions(generators(_elements(group)))]
    import scipy.sparse
    import scipy.sparse.csgraph

    rows = np.concatenate([np.arange(N)] * len(images)) if images else np.zeros(0, np.int64)
    cols = np.concatenate(images) if images else np.zeros(0, np.int64)
    graph = scipy.sparse.coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)),
                                    shape=(N, N))
    _, label = scipy.sparse.csgraph.connected_components(graph, directed=True,
                                                         connection="weak")
    # representative of a star: its smallest mesh index (the first occurrence of its label)
    _, first, star, weights = np.unique(label, return_index=True, return_inverse=True,
                                        return_counts=True)
    order = np.argsort(first)  # stars in mesh order of their representatives
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    index, weights, star = first[order], weights[order], rank[star.reshape(-1)]
    j = np.stack(np.unravel_index(index, tuple(nn)), axis=1).astype(float)
    kappa = (j + s) / nn
    return IrreducibleMesh(n=tuple(int(v) for v in nn), shift=tuple(float(v) for v in s),
                           index=index, points=kappa, weights=weights, star=star,
                           n_actions=n_actions)


def _image_index(Q: IntArray, nn: IntArray, s: FloatArray) -> IntArray:
    """Mesh index of the image κ Q of every mesh point κ = (j + s)/n (C order).

    κ' = κ Q is linear: x'_b = Σ_a (j_a + s_a) (n_b/n_a) Q_ab − s_b is one table per direction
    a (n_a × 3 entries) summed over the grid; the mesh is invariant when the steps of every
    table and the image of j = 0 are integers (checked), and the image indices are then integer
    sums on the broadcast grid.
    """
    tables = [np.outer(np.arange(nn[a]) + s[a], Q[a] * nn / nn[a]) for a in range(3)]
    off = sum(t[0] for t in tables) - s
    steps = [t - t[0] for t in tables]
    ints = [np.round(t) for t in steps]
    bad = max(float(np.abs(t - r).max()) for t, r in zip(steps, ints, strict=True))
    if bad > _ON_MESH or np.abs(off - np.round(off)).max() > _ON_MESH:
        raise ParameterError(
            f"the mesh {tuple(int(v) for v in nn)} with shift {tuple(s.tolist())} is not "
            f"mapped onto itself by the point operation κ ↦ κ·{Q.tolist()}: use a Γ-centred "
            "mesh (shift 0) with divisions the group keeps (equal ones for cubic groups)")
    o = np.round(off).astype(np.int64)
    coord = [np.zeros((1, 1, 1), dtype=np.int64) for _ in range(3)]
    for a in range(3):
        shape = [1, 1, 1]
        shape[a] = int(nn[a])
        for b in range(3):
            coord[b] = coord[b] + ints[a][:, b].astype(np.int64).reshape(shape)
    idx = np.zeros((1, 1, 1), dtype=np.int64)
    for b in range(3):
        idx = idx * nn[b] + np.mod(coord[b] + o[b], nn[b])
    return np.broadcast_to(idx, tuple(int(v) for v in nn)).reshape(-1)


def generators(elements: Sequence[SymOp]) -> list[SymOp]:
    """A generating set of the point group of ``elements`` (operations (R, antiunitary) up to
    lattice translations), chosen greedily in the given order: a model that commutes with
    these commutes with all (H(gh k) = M_g M_h H(k) (M_g M_h)†), and so do spin and gauge
    operators."""
    def key(R: np.ndarray, tr: bool) -> tuple[bool, bytes]:
        return bool(tr), np.asarray(R, dtype=np.int64).tobytes()

    gens: list[SymOp] = []
    span = {key(np.eye(3), False)}
    for op in elements:
        if key(op.rotation, op.time_reversal) in span:
            continue
        gens.append(op)
        # closure of the span under the new generating set (products of (R, T) pairs)
        mats = {key(np.eye(3), False): (np.eye(3, dtype=np.int64), False)}
        frontier = list(mats.values())
        while frontier:
            nxt = []
            for R, tr in frontier:
                for g in gens:
                    P = R @ np.asarray(g.rotation, dtype=np.int64)
                    t = tr != g.time_reversal
                    kk = key(P, t)
                    if kk not in mats:
                        mats[kk] = (P, t)
                        nxt.append((P, t))
            frontier = nxt
        span = set(mats)
    return gens


def axial_matrix(op: SymOp) -> FloatArray:
    """det(R_c) R_c: how a spin (axial vector) rotates under ``op`` (sign of T not included)."""
    R = np.asarray(op.cart_rotation, dtype=float)
    return float(np.round(np.linalg.det(R))) * R


def model_covariance(model: LatticeModel, reps: Sequence[OperationRep], k: FloatArray
                     ) -> tuple[float, float, str]:
    """How far ``model`` (its own Bloch convention) is from commuting with the operations.

    Returns
    -------
    (hamiltonian, spin, worst)
        max over elements and the Cartesian ``k`` of |H(g k) − M H(k) M†| (eV; antiunitary:
        H(−R_c k) vs M H(k)* M†), max over elements of |M† s_l M − Σ_l' A_{ll'} s_l'| (A the
        axial matrix, with a minus sign for antiunitary elements; 0 for a spinless model), and the
        name of the worst element.
    """
    k = np.asarray(k, dtype=float)
    Hk = model.hamiltonian(k)
    kappa = k @ np.asarray(model.lattice).T / (2 * np.pi)
    spins = [model.spin(a) for a in "xyz"] if model.has_spin else []
    worst_h, worst_s, name = 0.0, 0.0, ""
    for rep in reps:
        M = rep.matrix
        gk = (kappa @ np.linalg.inv(rep.op.rotation)) @ np.asarray(model.reciprocal)
        if rep.antiunitary:
            gk, src = -gk, Hk.conj()
        else:
            src = Hk
        dh = float(np.abs(model.hamiltonian(gk) - M @ src @ M.conj().T).max())
        ds = 0.0
        if spins:
            A = axial_matrix(rep.op) * (-1.0 if rep.antiunitary else 1.0)
            for ll, s in enumerate(spins):
                # antiunitary: Θ acts as M K, so the operator's image is M† s M taken with conj
                img = M.conj().T @ s @ M
                img = img.conj() if rep.antiunitary else img
                ds = max(ds, float(np.abs(img - sum(A[ll, b] * spins[b] for b in range(3))).max()))
        if max(dh, ds) >= max(worst_h, worst_s):
            name = rep.op.name
        worst_h, worst_s = max(worst_h, dh), max(worst_s, ds)
    return worst_h, worst_s, name


def gauge_covariance(reps: Sequence[OperationRep], gauges: Sequence[ComplexArray | None]
                     ) -> tuple[float, str]:
    """How far per-spin-component gauge operators G_l are from following the operations.

    The basis inside degenerate blocks at g k is fixed by G_l; pulled back to k it is fixed by
    G' = M† G_l M (antiunitary: its conjugate). The rebuild (module docstring) needs, for every
    element and every l' with A_{ll'} ≠ 0 (A the axial matrix), G' = c G_l' with a real c ≠ 0
    (the same eigenbasis): true for s_l gauges under operations that permute the Cartesian axes
    up to sign (cubic, tetragonal, orthorhombic, monoclinic groups in their standard setting)
    and for one m̂·s gauge shared by all l; false for a C₃ about z with the s_x gauge.

    Parameters
    ----------
    reps : sequence of OperationRep
    gauges : 3 (N, N) complex arrays or None
        G_x, G_y, G_z (None: no operator — parallel transport, or the component is not
        computed; a component that needs the basis of a None one is not covariant).

    Returns
    -------
    (residual, worst)
        max relative residual |G' − c G_l'| / |G_l'| (inf when not defined), and the worst
        element's name.
    """
    worst, name = 0.0, ""
    for rep in reps:
        M = rep.matrix
        A = axial_matrix(rep.op)
        for ll, G in enumerate(gauges):
            if G is None:  # component l not computed
                continue
            for lp in range(3):
                if abs(A[ll, lp]) < 1e-8:
                    continue
                Gp = gauges[lp]
                if Gp is None:
                    return float("inf"), rep.op.name
                img = M.conj().T @ G @ M
                img = img.conj() if rep.antiunitary else img
                c = np.vdot(Gp, img) / np.vdot(Gp, Gp)
                res = float(np.abs(img - c.real * Gp).max() / np.abs(Gp).max())
                res = res if abs(c.imag) < 1e-8 and abs(c.real) > 1e-8 else float("inf")
                if res > worst:
                    worst, name = res, rep.op.name
    return worst, name


def rebuild_tensor(projector: FloatArray, wedge_sum: FloatArray) -> FloatArray:
    """P applied to the wedge sum (module docstring): the full-mesh tensor.

    Parameters
    ----------
    projector : (3^n, 3^n) float array
        P = :attr:`tbspin.crystal.shapes.TensorShape.projector` of the group with the
        observable's index kinds (spin axial; current, field polar) and T parity.
    wedge_sum : (..., 3, …, 3) float array
        Σ_wedge w_k S(k) with n trailing axes of length 3 (leading axes: e.g. E_F).
    """
    P = np.asarray(projector, dtype=float)
    t = np.asarray(wedge_sum, dtype=float)
    n = int(round(np.log(P.shape[0]) / np.log(3)))
    if P.shape != (3 ** n, 3 ** n) or t.shape[t.ndim - n:] != (3,) * n:
        raise ParameterError(f"wedge_sum must end in {n} axes of length 3 for a "
                             f"{P.shape} projector, got {t.shape}")
    lead = t.shape[:t.ndim - n]
    return (t.reshape(lead + (3 ** n,)) @ P.T).reshape(t.shape)
