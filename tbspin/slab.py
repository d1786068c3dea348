"""Slabs and ribbons: surface/edge states and the magnetic surface-state gap.

A *slab* is a bulk system cut to ``N`` unit cells ("layers") along one of its lattice vectors
(``direction``) and kept periodic along the others; the "slab" of a 2D model is a *ribbon*.

Two equivalent forms are kept side by side:

* the Kwant form — :meth:`Slab.kwant_builder` is a :class:`kwant.Builder` with the
  :class:`kwant.TranslationalSymmetry` of the remaining lattice vectors, filled by Kwant
  (:meth:`kwant.Builder.fill`) from the bulk Builder (a user's ``kwant.continuum`` template,
  or ``LatticeModel.to_kwant()``), with the per-layer terms added to its on-site values; it is
  what :func:`kwant_bands` (``kwant.wraparound`` with ``keep`` + :class:`kwant.physics.Bands`)
  and :func:`edge_modes` (:func:`kwant.physics.modes`) use;
* the numpy form — :attr:`Slab.model` is a :class:`tbspin.LatticeModel` periodic along the
  in-plane vectors, built from the bulk hopping matrices H_R (a Kwant bulk Builder is first read
  by Kwant itself through :func:`tbspin.adapters.kwant.from_kwant`); it evaluates H(k) for all
  k-points in one batch, which is what the band structures and gap searches use (a 30-orbital
  Wannier slab has ~10^5 Kwant hoppings: evaluating the wrapped Kwant system costs ~1 s per k,
  the batched form milliseconds). Tests check that both forms give the same spectrum.

Conventions
-----------
* Layer ``l = 0 … N−1`` holds the orbitals of the bulk cell translated by ``l·a_direction``.
  The surface normal n̂ is the unit vector along the part of ``a_direction`` perpendicular to
  the periodic vectors; ``z = r·n̂``. "Top" is the ``n_surface_layers`` layers of largest l
  (largest z), "bottom" those of smallest l.
* ``field`` is the electric field F along +n̂ in V/Å; an electron (charge −e) at height z gets
  the potential energy U = +e·F·(z − z_c) (eV for F in V/Å, z in Å), z_c the slab centre.
* Exchange/Zeeman terms are m·s with m in eV and s in units of ħ/2 (as ``with_zeeman``).
* Wave vectors are Cartesian (1/Å) in the bulk's d-dimensional space; only their component in
  the plane of the periodic vectors matters.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConvergenceWarning, ModelError
from .kpath import KPath, inplane_reciprocal, make_kpath
from .model import LatticeModel

__all__ = [
    "Slab",
    "SurfaceGap",
    "MagnetizationSweep",
    "ThicknessSweep",
    "EdgeModes",
    "make_slab",
    "slab_bands",
    "surface_weights",
    "surface_gap",
    "find_dirac_point",
    "gap_vs_magnetization",
    "gap_vs_thickness",
    "exchange_on_layers",
    "kwant_bands",
    "edge_modes",
]

log = logging.getLogger(__name__)

LayerOnsite = Callable[[int], Any]


# ====================================================================== the slab object
@dataclasses.dataclass(eq=False)
class Slab:
    """A bulk system cut to ``n_layers`` cells along lattice vector ``direction``.

    Build it with :func:`make_slab`. Attributes are read-only by convention.

    Attributes
    ----------
    model : LatticeModel
        The slab as a model periodic along the in-plane lattice vectors (numpy form); its
        operators include the bulk ones repeated on every layer, ``"layer"`` (diagonal layer
        index) and ``"z"`` (height along n̂, Å).
    layers : (M,) int ndarray
        Layer index of every slab orbital.
    n_layers : int
        Number of layers N.
    direction : int
        Index of the bulk lattice vector along which the slab is finite.
    normal : (d,) ndarray
        Unit surface normal n̂ (points from bottom to top).
    periods : (p, d) ndarray
        In-plane (periodic) lattice vectors, Å.
    bulk : LatticeModel
        The bulk model (read from the Kwant Builder when the input was one).
    layer_onsite : callable or None
        Per-layer term ``layer_onsite(l) -> (n, n) matrix or None`` in the bulk orbital basis.
    field : float
        Perpendicular electric field (V/Å).
    """

    model: LatticeModel
    layers: np.ndarray
    n_layers: int
    direction: int
    normal: np.ndarray
    periods: np.ndarray
    bulk: LatticeModel
    layer_onsite: LayerOnsite | None
    field: float
    _bulk_builder: Any = None
    _kwant_order: np.ndarray | None = None
    _params: Mapping[str, Any] | None = None
    _builder_cache: Any = None

    @property
    def n_orbitals(self) -> int:
        """Number of slab orbitals M = N × (orbitals per bulk cell)."""
        return self.model.n_orbitals

    @property
    def n_periodic(self) -> int:
        """Number of periodic directions p (2 for a slab of a 3D crystal, 1 for a ribbon)."""
        return len(self.periods)

    @property
    def orbitals_per_layer(self) -> int:
        """Orbitals per bulk cell."""
        return self.bulk.n_orbitals

    def surface_masks(self, n_surface_layers: int) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks (top, bottom) of the orbitals in the outer ``n_surface_layers`` layers."""
        ns = _check_ns(n_surface_layers, self.n_layers)
        return self.layers >= self.n_layers - ns, self.layers < ns

    def hamiltonian(self, k: Any) -> np.ndarray:
        """Slab Bloch Hamiltonian at Cartesian k (Nk, d) or (d,), shape (Nk, M, M), eV."""
        return self.model.hamiltonian(k)

    def kpath(
        self, path: str | None = None, npoints: int = 200, kmax: float | None = None
    ) -> KPath:
        """k-path of the surface (edge) Brillouin zone with ase's special points
        (:func:`tbspin.kpath.make_kpath`; ``kmax`` zooms on Γ)."""
        return make_kpath(self.periods, path, npoints, kmax=kmax)

    def k_cartesian(self, k_reduced: Any) -> np.ndarray:
        """Cartesian in-plane k (1/Å) from coordinates in units of the in-plane b_j."""
        kr = np.atleast_2d(np.asarray(k_reduced, dtype=float))
        if kr.shape[1] != self.n_periodic:
            raise ValueError(f"reduced k needs {self.n_periodic} components, got {kr.shape}")
        return kr @ inplane_reciprocal(self.periods)

    def kwant_builder(self) -> Any:
        """The slab as a :class:`kwant.Builder` (built by Kwant's ``fill``; cached).

        Its symmetry is the :class:`kwant.TranslationalSymmetry` of the in-plane vectors; per-layer
        terms and the field are added to the on-site values. Callable values keep their
        parameters (pass them as ``params`` when finalizing/evaluating).
        """
        if self._builder_cache is None:
            self._builder_cache = _fill_slab_builder(self)
        return self._builder_cache

    def with_layer_onsite(self, layer_onsite: LayerOnsite) -> Slab:
        """A copy with one more per-layer term (added to the existing ones)."""
        old = self.layer_onsite

        def combined(layer: int) -> Any:
            a = None if old is None else old(layer)
            b = layer_onsite(layer)
            if a is None:
                return b
            if b is None:
                return a
            return np.asarray(a) + np.asarray(b)

        return _assemble(
            self.bulk, self.direction, self.n_layers, combined, self.field,
            self._bulk_builder, self._kwant_order, self._params, self.model.name,
        )


def _check_ns(n_surface_layers: int, n_layers: int) -> int:
    ns = int(n_surface_layers)
    if ns < 1 or 2 * ns > n_layers:
        raise ValueError(
            f"n_surface_layers={n_surface_layers} must be >= 1 and <= n_layers/2 "
            f"(the slab has {n_layers} layers)"
        )
    return ns


# ====================================================================== construction
def make_slab(
    bulk: Any,
    *,
    direction: int,
    layers: int,
    layer_onsite: LayerOnsite | None = None,
    field: float = 0.0,
    params: Mapping[str, Any] | None = None,
    operators: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Slab:
    """Cut a bulk system to ``layers`` unit cells along lattice vector ``direction``.

    Parameters
    ----------
    bulk : LatticeModel or kwant.Builder
        Bulk system, periodic along every lattice vector: a :class:`~tbspin.LatticeModel` or a
        :class:`kwant.Builder` with a full-rank :class:`kwant.TranslationalSymmetry` (e.g. from
        ``kwant.continuum.discretize``).
    direction : int
        Index of the lattice vector (row of ``bulk.lattice`` / of the Kwant periods) along which
        the slab is finite.
    layers : int
        Number of unit cells N (≥ 2) along ``direction``.
    layer_onsite : callable, optional
        ``layer_onsite(l) -> (n, n) array or None`` adds an on-site matrix to every cell of
        layer l (e.g. an exchange field only on the top layers, see
        :func:`exchange_on_layers`); n = orbitals per bulk cell, in the bulk model's orbital
        order (for a Kwant Builder: sites in ``builder.sites()`` order, each site's orbitals
        consecutive, as :func:`tbspin.adapters.kwant.from_kwant` reads it).
    field : float
        Electric field along the surface normal, V/Å (module docstring for the sign). The
        potential is evaluated at the orbital positions: give a Wannier model its centres
        (otherwise all its orbitals sit at the cell origin and the potential is a step
        function of the layer).
    params : mapping, optional
        Parameters of a Kwant Builder's value functions.
    operators : mapping {name: (n, n)}, optional
        Operators per bulk cell to attach to a Kwant bulk (e.g. spin ``"sx", "sy", "sz"``);
        a LatticeModel brings its own.
    name : str, optional
        Name of the slab model.

    Returns
    -------
    Slab

    Raises
    ------
    ModelError
        On a bulk that is not periodic along every lattice vector, a bad direction or layer
        count, or a per-layer matrix of the wrong shape.
    """
    builder, order = None, None
    if isinstance(bulk, LatticeModel):
        model = bulk
    else:
        import kwant

        if not isinstance(bulk, kwant.builder.Builder):
            raise ModelError(
                f"'bulk' must be a tbspin.LatticeModel or a kwant.Builder, got {type(bulk).__name__}"
            )
        from .adapters.kwant import from_kwant

        model = from_kwant(bulk, params=params)
        builder, order = bulk, np.arange(model.n_orbitals)
        for key, op in (operators or {}).items():
            model = model.with_operator(key, op)
    if operators and isinstance(bulk, LatticeModel):
        for key, op in operators.items():
            model = model.with_operator(key, op)
    if model.n_periodic != model.dim:
        raise ModelError(
            f"'bulk' must be periodic along all {model.dim} lattice vectors to cut a slab "
            f"(periodic: {model.periodic})"
        )
    if model.dim < 2:
        raise ModelError("a slab needs a 2D or 3D bulk (a 1D chain would become a finite system)")
    direction = int(direction)
    if direction < 0 or direction >= model.dim:
        raise ModelError(f"'direction' must be a lattice-vector index in 0..{model.dim - 1}")
    layers_i = int(layers)
    if layers_i != layers or layers_i < 2:
        raise ModelError(f"'layers' must be an integer >= 2, got {layers!r}")
    if not np.isfinite(field):
        raise ModelError("'field' must be finite")
    return _assemble(
        model, direction, layers_i, layer_onsite, float(field), builder, order, params,
        name or f"{model.name}-slab{layers_i}",
    )


def _normal(lattice: np.ndarray, direction: int) -> np.ndarray:
    """Unit vector along the part of a_direction perpendicular to the other lattice vectors."""
    a = lattice[direction]
    others = np.delete(lattice, direction, axis=0)
    # remove the projection on span(others)
    coef = np.linalg.lstsq(others.T, a, rcond=None)[0]
    perp = a - others.T @ coef
    return perp / np.linalg.norm(perp)


def _layer_terms(
    layer_onsite: LayerOnsite | None, field: float, model: LatticeModel, n_layers: int,
    direction: int, normal: np.ndarray,
) -> np.ndarray:
    """(N, n, n) on-site blocks added to each layer (layer_onsite + the field potential)."""
    n = model.n_orbitals
    extra = np.zeros((n_layers, n, n), dtype=complex)
    if layer_onsite is not None:
        for layer in range(n_layers):  # a loop over layers, once per slab
            m = layer_onsite(layer)
            if m is None:
                continue
            m = np.asarray(m, dtype=complex)
            if m.shape != (n, n):
                raise ModelError(
                    f"layer_onsite({layer}) returned shape {m.shape}; expected ({n}, {n}) "
                    "(orbitals per bulk cell)"
                )
            if np.max(np.abs(m - m.conj().T)) > 1e-10:
                raise ModelError(f"layer_onsite({layer}) is not Hermitian")
            extra[layer] += m
    if field != 0.0:
        z = (model.positions[None, :, :] + np.arange(n_layers)[:, None, None]
             * model.lattice[direction]) @ normal  # (N, n)
        zc = 0.5 * (z.min() + z.max())
        idx = np.arange(n)
        extra[:, idx, idx] += field * (z - zc)
    return extra


def _assemble(
    model: LatticeModel, direction: int, n_layers: int, layer_onsite: LayerOnsite | None,
    field: float, builder: Any, order: np.ndarray | None, params: Mapping[str, Any] | None,
    name: str,
) -> Slab:
    """Numpy slab: H_{R∥}[(l,m),(l',n)] = H_R[m,n] with R = (R∥, l'−l along direction)."""
    d, n, N = model.dim, model.n_orbitals, n_layers
    R, H = model.R, model.hoppings
    rz = R[:, direction]
    keep = np.abs(rz) < N
    R, H, rz = R[keep], H[keep], rz[keep]
    Rpar = R.copy()
    Rpar[:, direction] = 0
    uniq, inv = np.unique(Rpar, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    Hs = np.zeros((len(uniq), N, n, N, n), dtype=complex)
    lidx = np.arange(N)
    for i in range(len(R)):  # loop over bulk R vectors (not k, not orbitals)
        src = lidx[(lidx + rz[i] >= 0) & (lidx + rz[i] < N)]
        Hs[inv[i], src, :, src + rz[i], :] += H[i]
    normal = _normal(model.lattice, direction)
    extra = _layer_terms(layer_onsite, field, model, N, direction, normal)
    zero = int(np.nonzero(~np.any(uniq != 0, axis=1))[0][0])
    Hs[zero, lidx, :, lidx, :] += extra
    Hs = Hs.reshape(len(uniq), N * n, N * n)

    lattice = np.array(model.lattice)
    lattice[direction] = model.lattice[direction] * N
    pos = (model.positions[None, :, :] + lidx[:, None, None] * model.lattice[direction])
    pos = pos.reshape(N * n, d)
    layers_arr = np.repeat(lidx, n)
    ops = {key: np.kron(np.eye(N), op) for key, op in model.operators.items()}
    ops["layer"] = np.diag(layers_arr.astype(float))
    ops["z"] = np.diag(pos @ normal)
    periodic = tuple(i for i in range(d) if i != direction)
    slab_model = LatticeModel(
        lattice=lattice, positions=pos, R=uniq, hoppings=Hs, periodic=periodic, operators=ops,
        convention=model.convention, magnetization=model.magnetization, name=name,
        metadata={"slab_of": model.name, "direction": direction, "layers": N,
                  "field_V_per_A": field},
    )
    return Slab(
        model=slab_model, layers=layers_arr, n_layers=N, direction=direction, normal=normal,
        periods=np.array(model.lattice[list(periodic)]), bulk=model,
        layer_onsite=layer_onsite, field=field, _bulk_builder=builder, _kwant_order=order,
        _params=None if params is None else dict(params),
    )


def exchange_on_layers(
    spin: Any, m: Sequence[float], layers: Sequence[int] | None = None
) -> LayerOnsite:
    """Per-layer exchange term m·s on the given layers (all layers when ``layers`` is None).

    Parameters
    ----------
    spin : LatticeModel or sequence of three (n, n) arrays
        The spin operators s_x, s_y, s_z (units of ħ/2) per bulk cell, or a model carrying them.
    m : (3,) array_like
        Exchange vector, eV.
    layers : sequence of int, optional
        Layer indices (0 = bottom) that carry the term, e.g. ``range(N - 3, N)`` for the three
        top layers of an N-layer slab.

    Returns
    -------
    callable usable as ``layer_onsite``.
    """
    if isinstance(spin, LatticeModel):
        s = [spin.spin(i) for i in range(3)]
    else:
        s = [np.asarray(x, dtype=complex) for x in spin]
        if len(s) != 3:
            raise ModelError("'spin' must hold three matrices (s_x, s_y, s_z)")
    mv = np.asarray(m, dtype=float).reshape(3)
    term = sum(mv[i] * s[i] for i in range(3))
    chosen = None if layers is None else {int(x) for x in layers}
    if chosen is not None and any(x < 0 for x in chosen):
        raise ValueError("layer indices for exchange_on_layers must be >= 0")

    def onsite(layer: int) -> Any:
        if chosen is None or layer in chosen:
            return term
        return None

    return onsite


# ====================================================================== Kwant form
def _fill_slab_builder(slab: Slab) -> Any:
    import kwant

    if slab._bulk_builder is None:
        from .adapters.kwant import to_kwant

        bulk_builder, order = to_kwant(slab.bulk, return_order=True)
    else:
        bulk_builder, order = slab._bulk_builder, slab._kwant_order
    bsym = bulk_builder.symmetry
    periods = np.array(bsym.periods, dtype=float)
    N, direction = slab.n_layers, slab.direction
    others = [i for i in range(len(periods)) if i != direction]
    sb = kwant.Builder(kwant.TranslationalSymmetry(*periods[others]))

    def shape(site: Any) -> bool:
        return 0 <= int(bsym.which(site)[direction]) < N

    fd_sites = list(bulk_builder.sites())
    sb.fill(bulk_builder, shape, fd_sites)

    # orbital slices of each bulk FD site in the model's orbital order
    model = slab.bulk
    extra = _layer_terms(slab.layer_onsite, slab.field, model, N, direction, slab.normal)
    if not np.any(extra):
        return sb
    inv_order = np.empty_like(order)
    inv_order[order] = np.arange(len(order))
    slices, start = {}, 0
    for s in fd_sites:
        no = s.family.norbs
        slices[(s.family, tuple(s.tag))] = order[start:start + no]
        start += no
    # couplings between different sites of a cell cannot be on-site values
    site_of = np.empty(model.n_orbitals, int)
    for i, orbs in enumerate(slices.values()):
        site_of[orbs] = i
    cross = site_of[:, None] != site_of[None, :]
    if np.any(np.abs(extra[:, cross]) > 1e-14):
        raise ModelError(
            "layer_onsite couples orbitals at different positions; only on-site (same-position) "
            "terms can be added to the Kwant slab Builder"
        )
    for site in list(sb.sites()):
        elem = bsym.which(site)
        home = bsym.act(-elem, site)
        orbs = slices[(home.family, tuple(home.tag))]
        block = extra[int(elem[direction])][np.ix_(orbs, orbs)]
        if not np.any(block):
            continue
        sb[site] = _add_to_value(sb[site], block)
    return sb


def _add_to_value(value: Any, block: np.ndarray) -> Any:
    """Kwant on-site value plus a constant matrix, keeping a callable's parameters."""
    if not callable(value):
        return np.asarray(value) + block

    def shifted(*args: Any) -> Any:
        return value(*args) + block

    shifted.__signature__ = inspect.signature(value)  # Kwant binds parameters by signature
    return shifted


def kwant_bands(slab: Slab, momenta: Any, *, other: float = 0.0) -> np.ndarray:
    """Slab bands from Kwant: ``kwant.wraparound`` (keeping the first in-plane period) and
    :class:`kwant.physics.Bands`.

    Parameters
    ----------
    slab : Slab
    momenta : (Nk,) array_like
        Kwant lattice momenta (phase per period, rad) along the first in-plane period.
    other : float
        Lattice momentum along the second in-plane period (slabs of 3D crystals only).

    Returns
    -------
    (Nk, M) ndarray
        Energies (eV), ascending per k.
    """
    import kwant

    sb = slab.kwant_builder()
    params = dict(slab._params or {})
    if slab.n_periodic == 1:
        fsyst = sb.finalized()
    else:
        fsyst = kwant.wraparound.wraparound(sb, keep=0).finalized()
        params["k_y"] = float(other)
    bands = kwant.physics.Bands(fsyst, params=params)
    return np.array([np.sort(bands(float(q))) for q in np.atleast_1d(momenta)])


# ====================================================================== spectra and weights
def _as_kpoints(slab: Slab, k: Any) -> np.ndarray:
    if isinstance(k, KPath):
        k = k.k
    if k is None:
        return np.zeros((1, slab.model.dim))
    k = np.asarray(k, dtype=float)
    if k.ndim == 1:
        k = k[None]
    return k


def _rotate_degenerate(
    E: np.ndarray, V: np.ndarray, weight: np.ndarray, tol: float
) -> np.ndarray:
    """Inside clusters of degenerate eigenvalues, rotate the eigenvectors to diagonalize the
    diagonal operator ``weight`` (the top-layer projector), so states of the two surfaces are
    not mixed arbitrarily. E (Nk, M) ascending, V (Nk, M, M) columns."""
    nk, M = E.shape
    newc = np.ones((nk, M), bool)
    newc[:, 1:] = np.diff(E, axis=1) > tol
    cid = np.cumsum(newc, axis=1)
    # size of the cluster starting at each start
    for_k = np.arange(nk)[:, None]
    counts = np.zeros((nk, M + 1), int)
    np.add.at(counts, (np.broadcast_to(for_k, cid.shape), cid), 1)
    sizes = np.where(newc, np.take_along_axis(counts, cid, axis=1), 0)
    V = V.copy()
    for s in np.unique(sizes[sizes > 1]):  # loop over distinct cluster sizes only
        ks, ns = np.nonzero(sizes == s)
        cols = ns[:, None] + np.arange(s)[None, :]  # (B, s)
        sub = V[ks[:, None], :, cols].transpose(0, 2, 1)  # (B, M, s)
        A = np.einsum("bmi,m,bmj->bij", sub.conj(), weight, sub)
        _, U = np.linalg.eigh(A)
        V[ks[:, None], :, cols] = (sub @ U).transpose(0, 2, 1)
    return V


def surface_weights(
    slab: Slab, k: Any, n_surface_layers: int = 2, *, degeneracy_tol: float = 1e-7
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigen-decomposition of the slab with the weight of every state on the two surfaces.

    Parameters
    ----------
    slab : Slab
    k : (Nk, d) array_like, KPath or None (Γ)
        Cartesian wave vectors (1/Å).
    n_surface_layers : int
        N_s: "top" = the N_s layers of largest index, "bottom" = the N_s of smallest.
    degeneracy_tol : float
        Eigenvalues closer than this (eV) form a degenerate cluster; inside it the states are
        chosen as eigenstates of the top-layer projector (so surface states of the two surfaces
        are separated even when their hybridization is below numerical precision).

    Returns
    -------
    energies : (Nk, M) ndarray, eV, ascending
    weights : (Nk, M, 2) ndarray
        Σ |ψ|² over the top (``[..., 0]``) and bottom (``[..., 1]``) surface layers.
    vectors : (Nk, M, M) ndarray
        Eigenvectors as columns.
    """
    kk = _as_kpoints(slab, k)
    top, bot = slab.surface_masks(n_surface_layers)
    E, V = np.linalg.eigh(slab.hamiltonian(kk))
    V = _rotate_degenerate(E, V, top.astype(float), degeneracy_tol)
    p = np.abs(V) ** 2
    w = np.stack([p[:, top, :].sum(axis=1), p[:, bot, :].sum(axis=1)], axis=-1)
    return E, w, V


def slab_bands(
    slab: Slab, kpath: Any, n_surface_layers: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Band energies and top/bottom surface weights along a k-path.

    Parameters
    ----------
    slab : Slab
    kpath : KPath or (Nk, d) array_like
        Cartesian k-points (1/Å).
    n_surface_layers : int
        Number of outer layers counted as each surface.

    Returns
    -------
    energies : (Nk, M) ndarray, eV
    weights : (Nk, M, 2) ndarray, top / bottom
    """
    E, w, _ = surface_weights(slab, kpath, n_surface_layers)
    return E, w


# ====================================================================== the surface gap
@dataclasses.dataclass(frozen=True)
class SurfaceGap:
    """The gap between the two surface-state bands nearest the Dirac point at one k.

    Attributes
    ----------
    k : (d,) ndarray
        Cartesian wave vector (1/Å).
    gap : float
        E_upper − E_lower of the chosen pair of surface states (eV).
    dirac_energy : float
        Their mean (eV): the Dirac-point energy at m = 0, the mid-gap energy otherwise.
    energies : (2,) ndarray
        The two surface-state energies.
    weights : (2, 2) ndarray
        Their (top, bottom) weights.
    indices : (2,) ndarray
        Their band indices.
    bulk_edges : (2,) ndarray
        Highest occupied and lowest empty *non-surface* state at k (a slab estimate of the
        projected bulk band edges; NaN if none).
    reference_energy : float
        Energy the pair was chosen around (neutrality level at k, or the one given).
    surface : str
        "top", "bottom" or "both".
    """

    k: np.ndarray
    gap: float
    dirac_energy: float
    energies: np.ndarray
    weights: np.ndarray
    indices: np.ndarray
    bulk_edges: np.ndarray
    reference_energy: float
    surface: str

    @property
    def in_bulk_gap(self) -> bool:
        """True when the Dirac energy lies strictly between the bulk edges."""
        lo, hi = self.bulk_edges
        return bool(lo < self.dirac_energy < hi)


def _neutral_cut(slab: Slab, n_occupied: float | None) -> int:
    per = slab.orbitals_per_layer
    nocc = per / 2 if n_occupied is None else float(n_occupied)
    cut = nocc * slab.n_layers
    if cut != int(cut) or not 0 < cut < slab.n_orbitals:
        raise ValueError(
            f"n_occupied={nocc} per cell × {slab.n_layers} layers does not give a whole number "
            f"of occupied slab bands between 1 and {slab.n_orbitals - 1}"
        )
    return int(cut)


def _gap_from_spectrum(
    E: np.ndarray, w: np.ndarray, *, cut: int, surface: str, min_weight: float,
    energy: float | None,
) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray, float]:
    """Pick the surface pair at one k. Returns gap, mid, idx(2), bulk_edges(2), e_ref."""
    if surface == "top":
        ws = w[:, 0]
    elif surface == "bottom":
        ws = w[:, 1]
    elif surface == "both":
        ws = w[:, 0] + w[:, 1]
    else:
        raise ValueError(f"surface must be 'top', 'bottom' or 'both', got {surface!r}")
    e_ref = 0.5 * (E[cut - 1] + E[cut]) if energy is None else float(energy)
    cand = np.nonzero(ws >= min_weight)[0]
    if len(cand) < 2:
        raise ValueError(
            f"fewer than two states with {surface} surface weight >= {min_weight} at this k; "
            "use more layers, more surface layers (n_surface_layers) or a lower min_weight"
        )
    lo, hi = E[cand[:-1]], E[cand[1:]]
    mids, gaps = 0.5 * (lo + hi), hi - lo
    bulk = (w[:, 0] + w[:, 1]) < min_weight
    eb = E[bulk]
    # a valid pair has no bulk state strictly inside its gap; for both surfaces together it
    # must also straddle the reference (one surface alone may be charged, e.g. in a field)
    tol = 1e-6
    inside = ((eb[None, :] > lo[:, None] + tol) & (eb[None, :] < hi[:, None] - tol)).any(axis=1)
    ok = ~inside
    if surface == "both":
        ok &= (lo <= e_ref + tol) & (hi >= e_ref - tol)
    if not np.any(ok):
        raise ValueError(
            f"no pair of {surface} surface states (weight >= {min_weight}) near the reference "
            f"energy {e_ref:.6g} eV without bulk states between them; use more layers, more "
            "surface layers (n_surface_layers) or a lower min_weight"
        )
    score = np.where(ok, np.abs(mids - e_ref) + 1e-9 * gaps, np.inf)
    j = int(np.argmin(score))
    idx = np.array([cand[j], cand[j + 1]])
    nb = np.arange(len(E))
    occ = E[bulk & (nb < cut)]
    emp = E[bulk & (nb >= cut)]
    edges = np.array([occ.max() if len(occ) else np.nan, emp.min() if len(emp) else np.nan])
    return float(gaps[j]), float(mids[j]), idx, edges, float(e_ref)


def surface_gap(
    slab: Slab,
    k: Any = None,
    *,
    n_surface_layers: int = 2,
    surface: str = "both",
    min_weight: float = 0.5,
    n_occupied: float | None = None,
    energy: float | None = None,
) -> SurfaceGap:
    """Gap between the surface-state bands at ``k`` (default Γ), chosen by weight, not index.

    Surface states are the eigenstates whose weight on the chosen surface(s) (outer
    ``n_surface_layers`` layers) is at least ``min_weight``; bulk states those whose total
    weight on both surfaces is below it. Among pairs of surface states consecutive in energy
    that enclose no bulk state (and, for ``surface="both"``, straddle the reference energy),
    the pair whose midpoint is nearest the reference is taken; the reference is the
    neutrality level at k (midway between slab bands ``N·n_occupied − 1`` and
    ``N·n_occupied``), or ``energy``. ``gap`` is their splitting,
    ``dirac_energy`` their mean. A ValueError is raised when there is no such pair (film
    thinner than the surface-state penetration, too few surface layers).

    Parameters
    ----------
    slab : Slab
    k : (d,) array_like, optional
        Cartesian wave vector (1/Å); Γ by default.
    n_surface_layers : int
        Layers counted as each surface.
    surface : {"both", "top", "bottom"}
        Which surface's states to use ("both": total surface weight). With a magnetization on
        one surface only, ask for that surface.
    min_weight : float
        Minimum surface weight of a surface state.
    n_occupied : float, optional
        Occupied bands per bulk cell (default: half of the orbitals per cell).
    energy : float, optional
        Reference energy instead of the neutrality level.

    Returns
    -------
    SurfaceGap
    """
    kk = _as_kpoints(slab, k)
    if len(kk) != 1:
        raise ValueError("surface_gap takes a single k-point")
    cut = _neutral_cut(slab, n_occupied)
    E, w, _ = surface_weights(slab, kk, n_surface_layers)
    gap, mid, idx, edges, e_ref = _gap_from_spectrum(
        E[0], w[0], cut=cut, surface=surface, min_weight=min_weight, energy=energy
    )
    return SurfaceGap(
        k=kk[0], gap=gap, dirac_energy=mid, energies=E[0, idx], weights=w[0, idx],
        indices=idx, bulk_edges=edges, reference_energy=e_ref, surface=surface,
    )


def find_dirac_point(
    slab: Slab,
    k0: Any = None,
    *,
    surface: str = "top",
    n_surface_layers: int = 2,
    min_weight: float = 0.5,
    n_occupied: float | None = None,
    energy: float | None = None,
    search_radius: float = 0.05,
    xtol: float = 1e-7,
) -> SurfaceGap:
    """Minimize the surface gap over in-plane k near ``k0`` (the cone may move, e.g. under an
    in-plane magnetization).

    Parameters
    ----------
    slab : Slab
    k0 : (d,) array_like, optional
        Starting Cartesian k (default Γ).
    surface, n_surface_layers, min_weight, n_occupied, energy
        As in :func:`surface_gap`.
    search_radius : float
        Initial simplex size (1/Å).
    xtol : float
        Convergence tolerance in k (1/Å).

    Returns
    -------
    SurfaceGap at the minimizing k.
    """
    from scipy.optimize import minimize

    kk = _as_kpoints(slab, k0)[0]
    basis = np.array(slab.periods) / np.linalg.norm(slab.periods, axis=1)[:, None]
    basis = np.linalg.qr(basis.T)[0].T  # orthonormal in-plane directions (p, d)
    kw = dict(n_surface_layers=n_surface_layers, surface=surface, min_weight=min_weight,
              n_occupied=n_occupied, energy=energy)

    def gap_at(x: np.ndarray) -> float:
        try:
            return surface_gap(slab, kk + x @ basis, **kw).gap
        except ValueError:
            return np.inf

    p = len(basis)
    simplex = np.vstack([np.zeros(p), search_radius * np.eye(p)])
    res = minimize(gap_at, np.zeros(p), method="Nelder-Mead",
                   options=dict(xatol=xtol, fatol=1e-12, initial_simplex=simplex,
                                maxiter=2000))
    if not res.success:
        warnings.warn(f"find_dirac_point did not converge: {res.message}", ConvergenceWarning,
                      stacklevel=2)
    return surface_gap(slab, kk + res.x @ basis, **kw)


# ====================================================================== sweeps
@dataclasses.dataclass(frozen=True)
class MagnetizationSweep:
    """Surface gap versus exchange vector.

    Attributes
    ----------
    magnetizations : (n, 3) ndarray, eV
    gaps : (n,) ndarray, eV
    dirac_energies : (n,) ndarray, eV
    k : (n, d) ndarray
        Where each gap was measured (moves when ``track_dirac``).
    slope, intercept : float
        Least-squares line gap = slope·|m| + intercept.
    residual : float
        RMS deviation of the gaps from that line (eV).
    """

    magnetizations: np.ndarray
    gaps: np.ndarray
    dirac_energies: np.ndarray
    k: np.ndarray
    slope: float
    intercept: float
    residual: float


def gap_vs_magnetization(
    bulk: Any,
    magnetizations: Any,
    *,
    direction: int,
    layers: int,
    spin: Any = None,
    magnetic_layers: Sequence[int] | None = None,
    k: Any = None,
    surface: str = "both",
    track_dirac: bool = False,
    n_surface_layers: int = 2,
    n_occupied: float | None = None,
    min_weight: float = 0.5,
    params: Mapping[str, Any] | None = None,
    field: float = 0.0,
) -> MagnetizationSweep:
    """Surface gap of a slab versus the exchange vector m (added as m·s on chosen layers).

    Parameters
    ----------
    bulk : LatticeModel or kwant.Builder
        Non-magnetic bulk (see :func:`make_slab`).
    magnetizations : (n, 3) or (n,) array_like
        Exchange vectors (eV); a 1D array is read as m_z values.
    direction, layers, params, field
        As in :func:`make_slab`.
    spin : sequence of three (n, n) arrays, optional
        Spin operators per bulk cell (units of ħ/2); default the bulk model's.
    magnetic_layers : sequence of int, optional
        Layers carrying m (default all).
    k : (d,) array_like, optional
        Where to measure (default Γ).
    surface, n_surface_layers, n_occupied, min_weight
        As in :func:`surface_gap`.
    track_dirac : bool
        Minimize the gap over k near ``k`` (:func:`find_dirac_point`) for every m.

    Returns
    -------
    MagnetizationSweep
    """
    ms = np.asarray(magnetizations, dtype=float)
    if ms.ndim == 1:
        ms = np.stack([np.zeros_like(ms), np.zeros_like(ms), ms], axis=1)
    if ms.ndim != 2 or ms.shape[1] != 3:
        raise ValueError(f"'magnetizations' must have shape (n, 3) or (n,), got {ms.shape}")
    base = make_slab(bulk, direction=direction, layers=layers, params=params, field=field)
    spin_ops = base.bulk if spin is None else spin
    gaps, mids, ks = [], [], []
    for m in ms:  # one slab per magnetization (sweep parameter, not k)
        slab = base.with_layer_onsite(exchange_on_layers(spin_ops, m, magnetic_layers))
        kw = dict(surface=surface, n_surface_layers=n_surface_layers, n_occupied=n_occupied,
                  min_weight=min_weight)
        res = find_dirac_point(slab, k, **kw) if track_dirac else surface_gap(slab, k, **kw)
        gaps.append(res.gap)
        mids.append(res.dirac_energy)
        ks.append(res.k)
    gaps = np.array(gaps)
    mag = np.linalg.norm(ms, axis=1)
    if len(ms) >= 2 and np.ptp(mag) > 0:
        slope, intercept = np.polyfit(mag, gaps, 1)
        resid = float(np.sqrt(np.mean((gaps - (slope * mag + intercept)) ** 2)))
    else:
        slope = intercept = resid = np.nan
    return MagnetizationSweep(
        magnetizations=ms, gaps=gaps, dirac_energies=np.array(mids), k=np.array(ks),
        slope=float(slope), intercept=float(intercept), residual=resid,
    )


@dataclasses.dataclass(frozen=True)
class ThicknessSweep:
    """Surface (hybridization) gap versus number of layers.

    Attributes
    ----------
    layers : (n,) int ndarray
    gaps : (n,) ndarray, eV
    dirac_energies : (n,) ndarray, eV
    decay_per_layer : float
        κ of the least-squares fit ln(gap) = a − κ·N (NaN if any gap ≤ 0).
    prefactor : float
        exp(a), eV.
    log_residual : float
        RMS deviation of ln(gap) from the fit.
    """

    layers: np.ndarray
    gaps: np.ndarray
    dirac_energies: np.ndarray
    decay_per_layer: float
    prefactor: float
    log_residual: float


def gap_vs_thickness(
    bulk: Any,
    layers: Sequence[int],
    *,
    direction: int,
    k: Any = None,
    layer_onsite: LayerOnsite | None = None,
    surface: str = "both",
    n_surface_layers: int | None = None,
    n_occupied: float | None = None,
    min_weight: float = 0.5,
    params: Mapping[str, Any] | None = None,
    field: float = 0.0,
) -> ThicknessSweep:
    """Surface gap versus slab thickness N, with an exponential fit.

    Parameters
    ----------
    bulk : LatticeModel or kwant.Builder
    layers : sequence of int
        Thicknesses N.
    direction, layer_onsite, params, field
        As in :func:`make_slab` (``layer_onsite`` receives the layer index of each slab).
    k, surface, n_occupied, min_weight
        As in :func:`surface_gap`.
    n_surface_layers : int, optional
        Layers per surface; default: for each N the smallest count from ``max(1, N // 4)`` up
        to ``N // 2`` for which two surface states are found (a fixed count would make the
        surface of a thin film the whole film and of a thick one too thin a skin).

    Returns
    -------
    ThicknessSweep
    """
    Ns = np.array([int(n) for n in layers])
    model = bulk
    if not isinstance(bulk, LatticeModel):
        from .adapters.kwant import from_kwant

        model = from_kwant(bulk, params=params)
    gaps, mids = [], []
    for N in Ns:  # sweep parameter
        slab = make_slab(model, direction=direction, layers=int(N), layer_onsite=layer_onsite,
                         field=field)
        kw = dict(surface=surface, n_occupied=n_occupied, min_weight=min_weight)
        if n_surface_layers is not None:
            res = surface_gap(slab, k, n_surface_layers=n_surface_layers, **kw)
        else:
            # thinner than the penetration depth, no state holds half its weight in the outer
            # quarter: widen the surface until it does (at N//2 layers every state qualifies
            # and the pair is the one straddling the neutrality level)
            for ns in range(max(1, int(N) // 4), int(N) // 2 + 1):
                try:
                    res = surface_gap(slab, k, n_surface_layers=ns, **kw)
                    break
                except ValueError:
                    if ns == int(N) // 2:
                        raise
        gaps.append(res.gap)
        mids.append(res.dirac_energy)
    gaps = np.array(gaps)
    if len(Ns) >= 2 and np.all(gaps > 0):
        slope, a = np.polyfit(Ns, np.log(gaps), 1)
        resid = float(np.sqrt(np.mean((np.log(gaps) - (slope * Ns + a)) ** 2)))
        kappa, pref = -float(slope), float(np.exp(a))
    else:
        kappa = pref = resid = np.nan
    return ThicknessSweep(layers=Ns, gaps=gaps, dirac_energies=np.array(mids),
                          decay_per_layer=kappa, prefactor=pref, log_residual=resid)


# ====================================================================== ribbons: edge modes
@dataclasses.dataclass(frozen=True)
class EdgeModes:
    """Propagating modes of a ribbon at one energy, sorted by edge.

    Attributes
    ----------
    energy : float
    velocities : (n,) ndarray
        Group velocities of the propagating modes (sign = direction along the period).
    weights : (n, 2) ndarray
        Their (top, bottom) edge weights.
    top : tuple (n_forward, n_backward)
        Modes with top weight ≥ ``min_weight``.
    bottom : tuple (n_forward, n_backward)
    bulk : int
        Propagating modes localized on neither edge.
    """

    energy: float
    velocities: np.ndarray
    weights: np.ndarray
    top: tuple[int, int]
    bottom: tuple[int, int]
    bulk: int

    @property
    def chirality(self) -> tuple[int, int]:
        """Net forward-minus-backward count on (top, bottom)."""
        return self.top[0] - self.top[1], self.bottom[0] - self.bottom[1]


def _lead_matrices(slab: Slab) -> tuple[np.ndarray, np.ndarray, int]:
    """Nearest-neighbour cell Hamiltonian and hopping of a ribbon (supercell if needed), in
    Kwant's lead convention: H(q) = h_cell + h_hop e^{iq} + h_hop† e^{-iq}."""
    model = slab.model
    per = model.periodic[0]
    R = model.R[:, per]
    r = int(np.max(np.abs(R))) or 1
    M = model.n_orbitals
    H = {int(x): h for x, h in zip(R, model.hoppings, strict=True)}
    zero = np.zeros((M, M), complex)
    cell = np.block([[H.get(j - i, zero) for j in range(r)] for i in range(r)])
    hop = np.block([[H.get(r + j - i, zero) for j in range(r)] for i in range(r)])
    return cell, hop, r


def edge_modes(
    slab: Slab, energy: float, n_surface_layers: int = 2, *, min_weight: float = 0.5
) -> EdgeModes:
    """Count the propagating modes on each edge of a ribbon at ``energy`` (Kwant's modes).

    Uses :func:`kwant.physics.modes` on the ribbon's cell Hamiltonian and inter-cell hopping
    (cells grouped into a supercell when hoppings reach further than one cell). A chiral
    edge of a Chern insulator has one net forward mode per edge per unit of |C|, with
    opposite directions on the two edges; a helical (quantum spin Hall) edge has one forward
    and one backward mode per edge.

    Parameters
    ----------
    slab : Slab
        A ribbon (one periodic direction).
    energy : float
        Energy (eV), typically in the bulk gap.
    n_surface_layers : int
        Layers counted as each edge.
    min_weight : float
        Edge weight above which a mode belongs to an edge.

    Returns
    -------
    EdgeModes
    """

    if slab.n_periodic != 1:
        raise ValueError("edge_modes needs a ribbon (a slab with one periodic direction)")
    cell, hop, r = _lead_matrices(slab)
    top, bot = slab.surface_masks(n_surface_layers)
    return _edge_modes_at(cell, hop, float(energy), np.tile(top, r), np.tile(bot, r),
                          min_weight)


def _edge_modes_at(
    cell: np.ndarray, hop: np.ndarray, energy: float, top: np.ndarray, bot: np.ndarray,
    min_weight: float,
) -> EdgeModes:
    import kwant

    M = cell.shape[0]
    prop, _ = kwant.physics.modes(cell - energy * np.eye(M), hop.conj().T)
    wf = np.array(prop.wave_functions)
    k = np.asarray(prop.momenta)
    v = np.asarray(prop.velocities)
    # Modes with the same momentum and velocity (e.g. the forward modes of the two edges of a
    # symmetric ribbon) are an arbitrary basis of their subspace: choose eigenvectors of the
    # top-edge projector inside it, as for degenerate Bloch states.
    done = np.zeros(len(k), bool)
    for i in range(len(k)):  # loop over the few propagating modes
        if done[i]:
            continue
        grp = np.nonzero((np.abs(k - k[i]) < 1e-8) & (np.abs(v - v[i]) < 1e-8 * max(1, abs(v[i]))))[0]
        done[grp] = True
        if len(grp) > 1:
            q, _ = np.linalg.qr(wf[:, grp])
            _, u = np.linalg.eigh(q.conj().T @ (top[:, None] * q))
            wf[:, grp] = q @ u
    p = np.abs(wf) ** 2
    p = p / p.sum(axis=0, keepdims=True)
    w = np.stack([p[top].sum(axis=0), p[bot].sum(axis=0)], axis=-1)
    is_top, is_bot = w[:, 0] >= min_weight, w[:, 1] >= min_weight
    return EdgeModes(
        energy=float(energy), velocities=v, weights=w,
        top=(int(np.sum(is_top & (v > 0))), int(np.sum(is_top & (v < 0)))),
        bottom=(int(np.sum(is_bot & (v > 0))), int(np.sum(is_bot & (v < 0)))),
        bulk=int(np.sum(~is_top & ~is_bot)),
    )
