"""k·p regularization on any Bravais lattice: polynomials → lattice harmonics on neighbour shells.

:mod:`tbspin.continuum.kp` discretizes on an orthorhombic grid (Kwant finite differences). That grid has
the point group of a box, so a term whose symmetry is not a subgroup of it — the C₃ hexagonal
warping R₁(k_x³ − 3k_xk_y²) + R₂(3k_x²k_y − k_y³) of Bi₂Se₃ — loses its symmetry away from
Γ. Here every monomial k^α = k_x^{α_x} k_y^{α_y} k_z^{α_z} of degree n = |α| becomes a lattice
harmonic built on the neighbour shells {R : |R| = r_s} of a given Bravais lattice:

* n odd:  f_α(k) = Σ_{R ∈ half shells} b_R sin(k·R),
* n even: f_α(k) = Σ_{R ∈ half shells} b_R (cos(k·R) − 1)     (n ≥ 2; a constant stays on-site),

with real b_R fixed by matching the Taylor series at k = 0. The degree-j part of sin(k·R) or
cos(k·R) − 1 is (−1)^⌊j/2⌋ (k·R)^j / j!, whose k^β coefficient (|β| = j) is
(−1)^⌊j/2⌋ R^β / β!. Matching requires, for every j of the parity of n with 1 ≤ j ≤ n + 2·accuracy
(j ≥ 2 for even n),

    Σ_R b_R (−1)^⌊j/2⌋ R^β / β! = δ_{βα}          (all β with |β| = j),

so f_α = k^α + O(k^{n+2}) (``accuracy=0``), or + O(k^{n+2+2·accuracy}) in general. Each f_α is a
finite Fourier sum, so it is bounded across the zone.

Which solution: the equations have many solutions once enough shells are included. We take the
*nearest-shell-first* least-norm solution: among all solutions, minimize the Euclidean norm of
the coefficients of the farthest shell, then (among those minimizers) of the next farthest, and
so on down to the nearest shell. This solution is unique, linear in the target polynomial, uses
no shell beyond what the equations need, and — because every shell is a set of equal-length
lattice vectors (closed under the lattice point group, which acts on it by permutation, an
isometry of the coefficient norm) and the matching equations are covariant — it commutes with
every point operation g of the lattice: the regularization of P(g⁻¹k) is the regularization of
P evaluated at g⁻¹k. A k·p Hamiltonian with U H(k) U† = H(gk) for g in the lattice point group
(C₃ about z for the warping terms on a hexagonal lattice) therefore keeps that symmetry exactly
on the lattice (up to rounding; tested to 1e-10 eV).

Examples: on a square grid the nearest-shell solutions reproduce Kwant's k → sin(ka)/a and
k² → 2(1 − cos ka)/a²; on a hexagonal lattice (a, 120°) k_x² + k_y² becomes
(2/3a²)·Σ_{i=1}^{3} 2(1 − cos k·a_i) (the three nearest-neighbour directions).

All orbitals sit at the origin of the cell (as in :mod:`tbspin.continuum.kp`), so the Bloch conventions
"positions" and "cell" coincide: H(k) = Σ_R H_R exp(i k·R).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tbspin.bz.spectrum import check_band_inversions
from tbspin.continuum.kp import KPModel
from tbspin.errors import ModelError, ParameterError, RegularizationWarning
from tbspin.model.lattice import LatticeModel

__all__ = ["lattice_shells", "monomials", "harmonic_coefficients", "regularize_on_lattice",
           "hexagonal_lattice"]

#: most neighbour shells searched before giving up
MAX_SHELLS = 300
_RCOND = 1e-11


def hexagonal_lattice(a: float, c: float | None = None) -> np.ndarray:
    """Rows a₁ = a(1, 0, 0), a₂ = a(−½, √3/2, 0) [, a₃ = c(0, 0, 1)] (Å).

    a₁ is along x, so the Brillouin-zone corner K lies on the k_x axis (Γ–K ∥ x).
    """
    if not (np.isfinite(a) and a > 0) or (c is not None and not (np.isfinite(c) and c > 0)):
        raise ParameterError(f"hexagonal_lattice: a and c must be positive, got a={a!r}, c={c!r}")
    rows = [[a, 0.0, 0.0], [-a / 2, a * math.sqrt(3) / 2, 0.0]]
    if c is None:
        return np.array(rows)[:, :2]
    return np.array(rows + [[0.0, 0.0, c]])


def monomials(dim: int, degree: int) -> list[tuple[int, ...]]:
    """All exponent tuples α with |α| = degree in ``dim`` variables (lexicographic, descending)."""
    return sorted((a for a in itertools.product(range(degree + 1), repeat=dim) if sum(a) == degree),
                  reverse=True)


def lattice_shells(lattice: Any, n_shells: int, *, rtol: float = 1e-9) -> list[np.ndarray]:
    """The ``n_shells`` nearest neighbour shells of a Bravais lattice, one of each ±R pair.

    Parameters
    ----------
    lattice : (d, d) array_like
        Lattice vectors as rows (Å).
    n_shells : int
        Number of shells (distinct lengths |R| > 0, ascending).
    rtol : float
        Relative tolerance under which two lengths count as equal.

    Returns
    -------
    list of (n_s, d) int ndarray
        Integer coordinates of the vectors of each shell, the representative of ±R whose first
        non-zero integer coordinate is positive.
    """
    lat = np.asarray(lattice, dtype=float)
    if n_shells < 1:
        raise ParameterError(f"n_shells must be >= 1, got {n_shells}")
    # a radius holding n_shells shells: grow until enough distinct lengths are inside
    radius = float(np.min(np.linalg.norm(lat, axis=1)))
    recip_len = np.linalg.norm(np.linalg.inv(lat).T, axis=1)  # |b_i| / 2π
    while True:
        bound = np.ceil(radius * recip_len).astype(int)
        ranges = [range(-b, b + 1) for b in bound]
        n = np.array(list(itertools.product(*ranges)), dtype=int)
        n = n[np.any(n != 0, axis=1)]
        first = n[np.arange(len(n)), np.argmax(n != 0, axis=1)]
        n = n[first > 0]
        length = np.linalg.norm(n @ lat, axis=1)
        keep = length <= radius * (1 + rtol)
        n, length = n[keep], length[keep]
        order = np.argsort(length, kind="stable")
        n, length = n[order], length[order]
        breaks = np.nonzero(np.diff(length) > rtol * length[1:])[0] + 1
        groups = np.split(n, breaks)
        if len(groups) >= n_shells:
            return list(groups[:n_shells])
        radius *= 1.3


def _taylor_rows(R: np.ndarray, degrees: Sequence[int]) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Matrix T[β, R] = (−1)^⌊|β|/2⌋ R^β / β! for all β with |β| in ``degrees``."""
    d = R.shape[1]
    betas = [b for j in degrees for b in monomials(d, j)]
    T = np.empty((len(betas), len(R)))
    for i, b in enumerate(betas):
        fact = math.prod(math.factorial(x) for x in b)
        sign = (-1) ** (sum(b) // 2)
        T[i] = sign * np.prod(R ** np.asarray(b), axis=1) / fact
    return T, betas


def _split(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pseudo-inverse of A, orthonormal null-space basis of A as columns).

    Singular values below ``_RCOND`` count as zero in absolute terms: A is always a block of
    rows of a matrix with orthonormal columns (or the scaled Taylor matrix, entries O(1)), so
    an absolute cut-off keeps rank decisions consistent between the steps.
    """
    u, s, vh = np.linalg.svd(A)
    rank = int(np.sum(s > _RCOND))
    pinv = (vh[:rank].conj().T / s[:rank]) @ u[:, :rank].conj().T
    return pinv, vh[rank:].conj().T


def _nearest_first(T: np.ndarray, Y: np.ndarray, blocks: list[slice]) -> np.ndarray:
    """Solutions X of T X = Y minimizing the norm of each block of rows of X, farthest first."""
    pinv, N = _split(T)
    X = pinv @ Y
    for blk in reversed(blocks):
        if N.shape[1] == 0:
            break
        pinv, null = _split(N[blk])
        X = X - N @ (pinv @ X[blk])
        N = N @ null
    return X


def harmonic_coefficients(
    lattice: Any, degree: int, *, accuracy: int = 0, max_shells: int = MAX_SHELLS,
) -> tuple[list[np.ndarray], dict[tuple[int, ...], np.ndarray]]:
    """Lattice-harmonic coefficients b_R of every monomial of one degree (module docstring).

    Parameters
    ----------
    lattice : (d, d) array_like
        Lattice vectors as rows (Å).
    degree : int
        Monomial degree n ≥ 1.
    accuracy : int
        Extra orders matched: f_α = k^α + O(k^{n+2+2·accuracy}).
    max_shells : int
        Most shells tried before raising.

    Returns
    -------
    R : list of (d,) int ndarray
        The half-shell vectors used (integer coordinates), nearest first.
    coefficients : dict {α: (len(R),) ndarray}
        b_R of f_α (Å^n), for sin(k·R) (odd n) or cos(k·R) − 1 (even n).

    Raises
    ------
    ParameterError
        If degree < 1, accuracy < 0 or ``max_shells`` shells cannot match the Taylor series.
    """
    lat = np.asarray(lattice, dtype=float)
    if degree < 1 or accuracy < 0:
        raise ParameterError(f"degree must be >= 1 and accuracy >= 0, got {degree}, {accuracy}")
    d = lat.shape[0]
    parity = degree % 2
    lowest = 1 if parity else 2
    degrees = list(range(lowest, degree + 2 * accuracy + 1, 2))
    targets = monomials(d, degree)
    scale = float(np.min(np.linalg.norm(lat, axis=1)))  # lengths in units of the shortest vector
    for n_shells in range(1, max_shells + 1):
        shells = lattice_shells(lat, n_shells)
        R = np.concatenate(shells)
        T, betas = _taylor_rows((R @ lat) / scale, degrees)
        if len(R) < len(betas) or np.linalg.matrix_rank(T, tol=_RCOND) < len(betas):
            continue  # e.g. a 5th-order match needs a stencil reaching 3 cells along each axis
        Y = np.zeros((len(betas), len(targets)))
        for j, a in enumerate(targets):
            Y[betas.index(a), j] = 1.0
        sizes = np.cumsum([0] + [len(s) for s in shells])
        blocks = [slice(int(a), int(b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        X = _nearest_first(T, Y, blocks)
        if np.max(np.abs(T @ X - Y)) < 1e-9:
            X = X / scale**degree
            return list(R), {a: X[:, j] for j, a in enumerate(targets)}
    raise ParameterError(
        f"{max_shells} neighbour shells of the lattice {lat.tolist()} cannot match the degree-"
        f"{degree} monomials to accuracy={accuracy}; lower 'accuracy' or raise 'max_shells'"
    )


def _hoppings(polynomial: Mapping[tuple[int, ...], np.ndarray], lattice: np.ndarray,
              accuracy: int) -> dict[tuple[int, ...], np.ndarray]:
    """{R: H_R} of Σ_α C_α f_α(k) (both R and −R)."""
    n_orb = next(iter(polynomial.values())).shape[0]
    hop: dict[tuple[int, ...], np.ndarray] = {}

    def add(R: tuple[int, ...], M: np.ndarray) -> None:
        hop[R] = hop.get(R, np.zeros((n_orb, n_orb), complex)) + M

    zero = (0,) * lattice.shape[0]
    by_degree: dict[int, list[tuple[int, ...]]] = {}
    for alpha in polynomial:
        by_degree.setdefault(sum(alpha), []).append(alpha)
    for n, alphas in sorted(by_degree.items()):
        if n == 0:
            add(zero, polynomial[alphas[0]].astype(complex))
            continue
        Rs, coef = harmonic_coefficients(lattice, n, accuracy=accuracy)
        for alpha in alphas:
            C = np.asarray(polynomial[alpha], dtype=complex)
            for R, b in zip(Rs, coef[alpha], strict=True):
                if abs(b) < 1e-14 * np.max(np.abs(coef[alpha])):
                    continue
                key, neg = tuple(int(x) for x in R), tuple(-int(x) for x in R)
                if n % 2:  # b sin(k·R) = b (e^{ik·R} − e^{−ik·R}) / 2i
                    add(key, -0.5j * b * C)
                    add(neg, 0.5j * b * C)
                else:      # b (cos(k·R) − 1)
                    add(key, 0.5 * b * C)
                    add(neg, 0.5 * b * C)
                    add(zero, -b * C)
    return hop


def regularize_on_lattice(
    hamiltonian: str | Any | KPModel,
    *,
    lattice: Any,
    params: Mapping[str, float] | None = None,
    operators: Mapping[str, Any] | None = None,
    magnetization: Sequence[float] | None = None,
    accuracy: int = 0,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    check_inversions: bool = True,
) -> LatticeModel:
    """Regularize a k·p Hamiltonian on the neighbour shells of a Bravais lattice.

    Parameters
    ----------
    hamiltonian : str, sympy.Matrix or KPModel
        The k·p Hamiltonian (syntax of :class:`tbspin.continuum.kp.KPModel`); a ``KPModel`` brings its own
        parameters, operators, magnetization, name and metadata (``params`` then override).
    lattice : (d, d) array_like
        Bravais lattice vectors as rows (Å), d = the k·p dimension (e.g.
        :func:`hexagonal_lattice`).
    params, operators, magnetization
        As in :class:`tbspin.continuum.kp.KPModel` (ignored except ``params`` for a ``KPModel``).
    accuracy : int
        Extra Taylor orders matched per monomial (0: error O(k^{n+2}) for a degree-n term).
    name : str, optional
        Model name (default: the KPModel's, or ``"kp"``).
    metadata : mapping, optional
        Provenance added to the model's metadata.
    check_inversions : bool
        Warn (:class:`RegularizationWarning`) when the bands are inverted at a TRIM other than Γ.

    Returns
    -------
    LatticeModel
        Orbitals at the cell origin; hoppings on the shells the matching needs.

    Raises
    ------
    ModelError
        If the lattice is not (d, d) for the k·p dimension d or is singular.
    """
    if isinstance(hamiltonian, KPModel):
        kp = hamiltonian
        overrides = dict(params or {})
    else:
        kp = KPModel(hamiltonian, params=params, operators=operators, magnetization=magnetization,
                     name=name or "kp", check_inversions=False)
        overrides = {}
    lat = np.array(lattice, dtype=float)
    if lat.shape != (kp.dim, kp.dim):
        raise ModelError(f"'lattice' must be ({kp.dim}, {kp.dim}) for this {kp.dim}D k·p model, "
                         f"got shape {lat.shape}")
    if not np.all(np.isfinite(lat)) or abs(np.linalg.det(lat)) < 1e-12:
        raise ModelError(f"'lattice' {lat.tolist()} is singular or not finite")
    if accuracy < 0:
        raise ParameterError(f"'accuracy' must be >= 0, got {accuracy}")
    poly = kp.polynomial(**overrides)
    if not poly:
        poly = {(0,) * kp.dim: np.zeros((kp.n_orbitals, kp.n_orbitals), complex)}
    hop = _hoppings(poly, lat, int(accuracy))
    meta = dict(kp.metadata)
    meta.update(metadata or {})
    meta.update(kp_hamiltonian=str(kp.symbolic), kp_params={**kp.params, **overrides},
                lattice=lat.tolist(), accuracy=int(accuracy),
                regularization="tbspin.continuum.lattice (nearest-shell-first lattice harmonics)")
    model = LatticeModel(lattice=lat, hoppings=hop, periodic=tuple(range(kp.dim)),
                         operators=kp.operators, magnetization=kp.magnetization,
                         name=name or kp.name, metadata=meta)
    if check_inversions and kp.n_orbitals > 1:
        check_band_inversions(model, category=RegularizationWarning, stacklevel=3)
    return model
