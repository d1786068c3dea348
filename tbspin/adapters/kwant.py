"""Conversion between :class:`tbspin.LatticeModel` and Kwant (1.5) Builders.

Kwant side
----------
A bulk Kwant system is a :class:`kwant.Builder` whose symmetry is a
:class:`kwant.TranslationalSymmetry` with as many periods as space dimensions. Its sites live in
the fundamental domain (FD) of the symmetry; ``builder[a, b] = value`` is the matrix element
``<a|H|b>`` (shape ``(a.family.norbs, b.family.norbs)``); values may be constants or callables
``value(site, **params)`` / ``value(site1, site2, **params)``.

Conventions and the k mapping
-----------------------------
:func:`kwant.wraparound.wraparound` turns such a Builder into a finite system with parameters
``k_x, k_y, k_z`` that are *phases per symmetry period* i (not Cartesian components):
a hopping to a site translated by Σ_i n_i·period_i gets the factor ``exp(i Σ_i k_i n_i)``; orbital
positions never enter. This is tbspin's ``"cell"`` convention with

    k_i (Kwant) = k_cart · a_i        (a_i = i-th period = i-th row of ``model.lattice``)

so, with ``P = kwant_orbital_order(model)`` (or the order of :func:`from_kwant`, below)::

    wrapped.hamiltonian_submatrix(params=dict(k_x=k·a_0, k_y=k·a_1, ...))[P'][:, P']
        == model.replace(convention="cell").hamiltonian(k)

where ``P'`` maps model orbitals to the finalized system's orbitals. The ``"positions"``
Hamiltonian differs from it by the diagonal unitary ``diag(exp(i k·τ))``.

Reading a Builder (:func:`from_kwant`)
--------------------------------------
Everything is evaluated by Kwant itself: the Builder is wrapped around and finalized, its
``hamiltonian_submatrix(params=...)`` is evaluated on a regular grid of k-phases just large
enough to resolve every hopping range (``M_i = 2·max|R_i| + 1`` points along period i), and
the grid is Fourier-inverted to the hopping matrices H_R. The set of R is read from the
Builder's hoppings with ``symmetry.which``; components of the inverse transform outside that
set must vanish, which is checked. Orbital order: sites in the order ``builder.sites()``
yields them (insertion order), each site's ``norbs`` orbitals consecutive, in Kwant's own
orbital order. Positions are ``site.pos`` of the FD sites (read as Å).

Writing a Builder (:func:`to_kwant`)
------------------------------------
Orbitals at the same position (within ``norbs_tol``) become one Kwant site with ``norbs`` equal
to their number; sites are ordered by first appearance among the model's orbitals and each
site's orbitals keep their relative order. :func:`kwant_orbital_order` returns the resulting
permutation ``order``: Kwant orbital p (in the from_kwant order of the new Builder) is model
orbital ``order[p]``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from tbspin.bz.kmesh import as_kpoints
from tbspin.errors import MissingDependencyError, ModelError
from tbspin.model.lattice import LatticeModel
from tbspin.types import ArrayLike, ComplexArray, FloatArray, IntArray, KPoints

if TYPE_CHECKING:  # pragma: no cover
    import kwant

__all__ = [
    "from_kwant",
    "to_kwant",
    "kwant_orbital_order",
    "kwant_k_phases",
    "require_kwant",
    "bloch_hamiltonians",
    "wrapped_orbital_positions",
    "KWANT_INSTALL_HINT",
]

_MOMENTA = ("k_x", "k_y", "k_z")

#: a Kwant Builder (``kwant.builder.Builder``); Kwant is an optional dependency
KwantBuilder: TypeAlias = "kwant.builder.Builder"
#: a finalized Kwant system (e.g. ``kwant.wraparound.wraparound(builder).finalized()``)
KwantSystem: TypeAlias = "kwant.system.FiniteSystem"
#: values of the parameters of a Kwant Builder's value functions
KwantParams = Mapping[str, object]

#: How to install Kwant (also in the Makefile): Kwant 1.5.0 ships only an sdist whose C sources
#: predate numpy 2, so pip must regenerate them with Cython against the installed numpy.
KWANT_INSTALL_HINT = (
    "install Kwant with `pip install 'tbspin[kwant]'` where a Kwant wheel or a conda package "
    "exists (`conda install -c conda-forge kwant`); with pip on numpy 2 build Kwant 1.5.0 "
    "with Cython (the recipe of tbspin's Makefile): `pip install numpy scipy cython setuptools "
    "wheel tinyarray sympy` then `pip install --no-cache-dir --no-build-isolation "
    "--config-settings=--build-option=--cython kwant==1.5.0`"
)


def require_kwant(feature: str, module: str = "kwant") -> ModuleType:
    """Import Kwant (or one of its sub-modules) for ``feature``, or say how to install it.

    Parameters
    ----------
    feature : str
        What needs Kwant, e.g. ``"tbspin.slab"`` or ``"k·p regularization (KPModel)"``; named in
        the error message.
    module : str
        ``"kwant"`` or a sub-module such as ``"kwant.continuum"``.

    Returns
    -------
    module

    Raises
    ------
    MissingDependencyError
        Kwant is not importable; the message names ``feature`` and the install recipe.
    """
    try:
        with warnings.catch_warnings():
            # Kwant warns at import time when MUMPS is missing; irrelevant for tbspin's uses
            warnings.filterwarnings("ignore", message="MUMPS is not available",
                                    category=RuntimeWarning)
            return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs Kwant ({module}), which is not installed ({exc}); "
            + KWANT_INSTALL_HINT
        ) from None


def wrapped_orbital_positions(fsyst: KwantSystem) -> FloatArray:
    """Cartesian position (N, d) of every orbital of a finalized (wrapped) Kwant system."""
    return np.concatenate(
        [np.repeat(np.atleast_2d(s.pos), s.family.norbs, axis=0) for s in fsyst.sites]
    )


def bloch_hamiltonians(
    syst: KwantBuilder | KwantSystem, phases: ArrayLike, *, params: KwantParams | None = None
) -> ComplexArray:
    """H(k) of a bulk Kwant system evaluated by Kwant: THE Kwant H(k) sampler of tbspin.

    Parameters
    ----------
    syst : kwant.Builder or finalized wrapped system
        A Builder with full translational symmetry (wrapped around and finalized here) or the
        result of ``kwant.wraparound.wraparound(builder).finalized()``.
    phases : (Nk, d) array_like
        Kwant momenta ``k_x, k_y, k_z`` (phase per symmetry period, rad), see
        :func:`kwant_k_phases`.
    params : mapping, optional
        Other parameters of the Builder's value functions.

    Returns
    -------
    (Nk, N, N) complex ndarray
        Hamiltonians in the finalized system's orbital order, "cell" convention (orbital
        positions do not enter). One Kwant call per k-point (Kwant's API is per k).
    """
    kw = require_kwant("the Kwant H(k) sampler")
    fsyst = syst
    if isinstance(syst, kw.builder.Builder):
        fsyst = kw.wraparound.wraparound(syst).finalized()
    ph = np.atleast_2d(np.asarray(phases, dtype=float))
    names = _MOMENTA[: ph.shape[1]]
    base = dict(params or {})
    out = []
    for row in ph:  # Kwant evaluates one k-point per call
        p = dict(base)
        p.update({n: float(x) for n, x in zip(names, row, strict=True)})
        out.append(np.asarray(fsyst.hamiltonian_submatrix(params=p, sparse=False)))
    return np.array(out, dtype=complex)


def kwant_k_phases(model_or_lattice: LatticeModel | ArrayLike, k: KPoints) -> FloatArray:
    """Kwant wraparound momenta ``(k_x, k_y, k_z)[:d]`` for Cartesian k: ``k_i = k · a_i``.

    Parameters
    ----------
    model_or_lattice : LatticeModel or (d, d) array_like
        The model (its ``lattice``) or lattice vectors as rows (Å).
    k : (Nk, d) or (d,) array_like
        Cartesian wave vectors (1/Å).

    Returns
    -------
    (Nk, d) array
        Phases per lattice translation, in the order of Kwant's k_x, k_y, k_z.
    """
    lat = getattr(model_or_lattice, "lattice", model_or_lattice)
    lat = np.asarray(lat, dtype=float)
    return as_kpoints(k, lat.shape[-1]) @ lat.T


# ---------------------------------------------------------------------- Kwant -> tbspin
def _check_builder(syst: KwantBuilder) -> tuple[kwant.lattice.TranslationalSymmetry, FloatArray]:
    kwant = require_kwant("reading a Kwant Builder (from_kwant)")

    if isinstance(syst, kwant.system.System):
        raise ModelError(
            "from_kwant needs the kwant.Builder (before .finalized()) with a full-rank "
            f"kwant.TranslationalSymmetry, got a finalized system of type {type(syst).__name__}"
        )
    if not isinstance(syst, kwant.builder.Builder):
        raise ModelError(
            f"from_kwant needs a kwant.Builder with a full-rank kwant.TranslationalSymmetry, "
            f"got {type(syst).__name__}"
        )
    sym = syst.symmetry
    if not isinstance(sym, kwant.lattice.TranslationalSymmetry):
        raise ModelError(
            "the Builder has no translational symmetry (symmetry is "
            f"{type(sym).__name__}); from_kwant needs kwant.Builder(kwant.TranslationalSymmetry("
            "*lattice_vectors)) with one period per space dimension"
        )
    periods = np.array(sym.periods, dtype=float)
    n_per, d = periods.shape
    if n_per != d:
        raise ModelError(
            f"the Builder's TranslationalSymmetry has {n_per} period(s) in {d}D space; "
            f"from_kwant needs full translational symmetry ({d} periods) - a bulk system"
        )
    if d not in (1, 2, 3):
        raise ModelError(f"from_kwant supports 1D, 2D and 3D systems, got {d}D")
    return sym, periods


def from_kwant(
    syst: KwantBuilder, *, params: KwantParams | None = None, name: str | None = None
) -> LatticeModel:
    """Build a :class:`~tbspin.LatticeModel` from a bulk :class:`kwant.Builder`.

    Parameters
    ----------
    syst : kwant.Builder
        Builder with a :class:`kwant.TranslationalSymmetry` of full rank (one period per space
        dimension), e.g. a ``kwant.continuum.discretize`` template or a hand-built Builder. Every
        site family must have ``norbs`` set. A finalized system is rejected (pass the Builder).
    params : mapping, optional
        Values of the parameters of callable onsite/hopping values (Kwant's ``params``). Must
        not contain ``k_x``, ``k_y``, ``k_z`` (used by the wraparound).
    name : str, optional
        Model name (default ``"kwant"``).

    Returns
    -------
    LatticeModel
        ``"positions"`` convention, ``lattice`` = the symmetry periods, positions = ``site.pos``,
        orbitals site by site in ``syst.sites()`` order (module docstring).

    Raises
    ------
    ModelError
        If the symmetry is not a full-rank TranslationalSymmetry, ``norbs`` is missing, the
        Builder is empty or the Fourier inversion is inconsistent.
    """
    kwant = require_kwant("reading a Kwant Builder (from_kwant)")
    sym, periods = _check_builder(syst)
    d = periods.shape[0]
    params = dict(params or {})
    clash = sorted(set(params) & set(_MOMENTA))
    if clash:
        raise ModelError(f"params may not contain {clash}: these are the wraparound momenta")

    sites = list(syst.sites())
    if not sites:
        raise ModelError("the Builder has no sites")
    norbs = []
    for s in sites:
        n = s.family.norbs
        if n is None:
            raise ModelError(
                f"site family {s.family!r} has no 'norbs'; create the lattice with norbs=... "
                "(e.g. kwant.lattice.square(a, norbs=2)) so orbitals can be counted"
            )
        norbs.append(int(n))
    norbs_a = np.array(norbs)
    positions = np.repeat(np.array([np.asarray(s.pos, dtype=float) for s in sites]), norbs_a, 0)

    # lattice vectors R of all hoppings (topology only, no values evaluated here)
    Rs = [np.zeros(d, dtype=int)]
    for a, b in syst.hoppings():
        Rs.append(np.asarray(sym.which(b), dtype=int) - np.asarray(sym.which(a), dtype=int))
    Rset = np.unique(np.array(Rs), axis=0)
    Rset = np.unique(np.vstack([Rset, -Rset]), axis=0)

    # Kwant evaluates all values: wrap around, finalize, sample H(k) on a k-phase grid
    fsyst = kwant.wraparound.wraparound(syst).finalized()
    f_norbs = np.array([int(s.family.norbs) for s in fsyst.sites])
    f_off = np.concatenate([[0], np.cumsum(f_norbs)])
    perm = np.concatenate(
        [f_off[fsyst.id_by_site[s]] + np.arange(n) for s, n in zip(sites, norbs, strict=True)]
    )

    M = 2 * np.max(np.abs(Rset), axis=0) + 1
    grid = np.stack(
        np.meshgrid(*[np.arange(m) for m in M], indexing="ij"), axis=-1
    ).reshape(-1, d)
    phases = 2 * np.pi * grid / M  # (Nk, d) phases per period
    Hk = bloch_hamiltonians(fsyst, phases, params=params)[:, perm][:, :, perm]
    # H_R = (1/Nk) Σ_k H(k) exp(-i k·R) on the box of all |R_i| <= (M_i - 1)/2
    box = np.where(grid > (M - 1) // 2, grid - M, grid)
    HR_box = np.einsum("kr,kmn->rmn", np.exp(-1j * phases @ box.T), Hk) / len(phases)

    in_set = (box[:, None, :] == Rset[None, :, :]).all(-1).any(1)
    scale = max(1.0, float(np.max(np.abs(HR_box))))
    stray = float(np.max(np.abs(HR_box[~in_set]))) if np.any(~in_set) else 0.0
    if stray > 1e-10 * scale:
        raise ModelError(
            f"Fourier inversion of the Kwant system left |H_R| = {stray:.2e} on lattice vectors "
            "without hoppings; the Builder's values may depend on the momenta"
        )
    return LatticeModel(
        lattice=periods,
        positions=positions,
        R=box[in_set],
        hoppings=HR_box[in_set],
        periodic=tuple(range(d)),
        convention="positions",
        hermitian_tol=1e-10 * scale,
        name="kwant" if name is None else name,
        metadata={"source": "kwant", "params": params},
    )


# ---------------------------------------------------------------------- tbspin -> Kwant
def _site_groups(model: LatticeModel, tol: float) -> tuple[IntArray, list[IntArray]]:
    pos = model.positions
    dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    first = np.argmax(dist <= tol, axis=1)  # smallest orbital index at the same place
    reps = np.unique(first)  # sorted = order of first appearance
    groups = [np.nonzero(first == r)[0] for r in reps]
    return reps, groups


def kwant_orbital_order(model: LatticeModel, *, norbs_tol: float = 1e-9) -> IntArray:
    """Permutation from :func:`to_kwant`'s orbital order to the model's.

    Parameters
    ----------
    model : LatticeModel
        The model.
    norbs_tol : float
        Orbitals closer than this (Å) are the same Kwant site.

    Returns
    -------
    (N,) int array
        ``order[p]`` is the model orbital that is orbital p of the Kwant Builder (sites in
        insertion order, each site's orbitals consecutive), so with ``H = model.hamiltonian(k)``,
        ``from_kwant(to_kwant(model)).hamiltonian(k) == H[:, order][:, :, order]``.
    """
    _, groups = _site_groups(model, norbs_tol)
    return np.concatenate(groups)


def to_kwant(
    model: LatticeModel, *, norbs_tol: float = 1e-9, return_order: bool = False, tol: float = 0.0
) -> KwantBuilder | tuple[KwantBuilder, IntArray]:
    """Return a :class:`kwant.Builder` equivalent to the model.

    Parameters
    ----------
    model : LatticeModel
        The model; its hoppings and positions are exported (the Bloch convention is not part of
        a Kwant system; see the module docstring for the k mapping).
    norbs_tol : float
        Orbitals closer than this (Å) become one site with ``norbs`` = their number.
    return_order : bool
        Also return the permutation of :func:`kwant_orbital_order`.
    tol : float
        Hopping blocks whose entries are all <= tol in modulus are not added.

    Returns
    -------
    kwant.Builder or (kwant.Builder, (N,) int array)
        Builder with ``kwant.TranslationalSymmetry`` of the periodic lattice vectors (all of
        ``model.lattice`` for a bulk model), one ``kwant.lattice.general`` sublattice per
        distinct orbital position, constant matrix values.
    """
    kwant = require_kwant("exporting a model to Kwant (to_kwant)")
    reps, groups = _site_groups(model, norbs_tol)
    d = model.dim
    lat = kwant.lattice.general(
        np.array(model.lattice),
        basis=np.array(model.positions[reps]),
        norbs=[len(g) for g in groups],
        name=[f"{model.name}.{i}" for i in range(len(groups))],
    )
    subs = lat.sublattices
    sym = kwant.TranslationalSymmetry(*np.array(model.lattice[list(model.periodic)]))
    syst = kwant.Builder(sym)

    R, H = model.R, model.hoppings
    nz = R != 0
    first = np.where(nz.any(axis=1), R[np.arange(len(R)), np.argmax(nz, axis=1)], 0)
    zero = tuple([0] * d)
    r0 = np.nonzero(first == 0)[0]
    for s, g in enumerate(groups):
        onsite = H[r0[0]][np.ix_(g, g)] if len(r0) else np.zeros((len(g), len(g)))
        syst[subs[s](*zero)] = onsite
    # one of each conjugate pair: R > 0, or R = 0 and site A < site B; find non-zero blocks
    # of H_R between sites at once, then add them one by one (Kwant's API takes one per call)
    site_of = np.empty(model.n_orbitals, dtype=int)
    for s, g in enumerate(groups):
        site_of[g] = s
    ns = len(groups)
    blockmax = np.zeros((len(R), ns, ns))
    # (numpy's stubs reject a slice inside the index tuple of ufunc.at, which numpy accepts)
    np.maximum.at(
        blockmax, (slice(None), site_of[:, None], site_of[None, :]),  # type: ignore[arg-type]
        np.abs(H),
    )
    upper = np.triu(np.ones((ns, ns), dtype=bool), k=1)
    keep = (blockmax > tol) & (
        (first > 0)[:, None, None] | ((first == 0)[:, None, None] & upper[None])
    )
    for r, A, B in zip(*np.nonzero(keep), strict=True):
        Rt = tuple(int(x) for x in R[r])
        syst[subs[A](*zero), subs[B](*Rt)] = H[r][np.ix_(groups[A], groups[B])]
    if return_order:
        return syst, np.concatenate(groups)
    return syst
