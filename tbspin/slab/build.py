"""Building a slab: the :class:`Slab` object, :func:`make_slab` (numpy form from the bulk H_R)
and per-layer terms (:func:`exchange_on_layers`, the gate field).

Conventions (also in :mod:`tbspin.slab`)
-----------------------------------------
* Layer ``l = 0 … N−1`` holds the orbitals of the bulk cell translated by ``l·a_direction``.
  The surface normal n̂ is the unit vector along the part of ``a_direction`` perpendicular to
  the periodic vectors; ``z = r·n̂``.
* ``gate_field`` is the electric field F along +n̂ in MV/m; an electron (charge −e) at height z
  gets the potential energy U = +e·F·(z − z_c), i.e. U (eV) = 1e-4 · F (MV/m) · (z − z_c) (Å),
  z_c the slab centre (1 V/Å = 10⁴ MV/m).
* Exchange/Zeeman terms are m·s with m in eV and s in units of ħ/2 (as ``with_zeeman``).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar, Union

import numpy as np

from tbspin.bz.kpath import KPath, inplane_reciprocal, make_kpath
from tbspin.errors import ModelError, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.types import ArrayLike, ComplexArray, FloatArray, IntArray, KPoints

if TYPE_CHECKING:  # pragma: no cover
    from tbspin.adapters.kwant import KwantBuilder, KwantParams

__all__ = ["Slab", "make_slab", "exchange_on_layers", "LayerOnsite", "BulkSpec",
           "V_PER_A_IN_MV_PER_M"]

#: a per-layer on-site term: layer index → (n, n) matrix in the bulk orbital basis, or None
LayerOnsite = Callable[[int], ArrayLike | None]
#: a bulk system: a LatticeModel or a Kwant Builder with full translational symmetry
BulkSpec = Union[LatticeModel, "KwantBuilder"]
T = TypeVar("T")
#: a layer count, or a sequence of them (sweeps)
N_T = TypeVar("N_T", int, Sequence[int])
#: 1 V/Å expressed in MV/m (the unit of ``gate_field``)
V_PER_A_IN_MV_PER_M = 1.0e4
#: potential energy (eV) per MV/m of field and Å of height, for an electron
_EV_PER_MV_PER_M_PER_A = 1.0 / V_PER_A_IN_MV_PER_M


def renamed_argument(
    new_value: T | None, old_value: T | None, *, old: str, new: str, where: str,
    convert: Callable[[T], T] | None = None, note: str = "", stacklevel: int = 3,
) -> T | None:
    """Resolve a renamed keyword: the new one, or the old one with a DeprecationWarning.

    ``convert`` turns an old value into the new meaning (e.g. V/Å → MV/m).
    """
    if old_value is None:
        return new_value
    if new_value is not None:
        raise ParameterError(f"{where}: give '{new}' or its deprecated name '{old}', not both")
    warnings.warn(f"{where}: '{old}' is deprecated, use '{new}'{note}", DeprecationWarning,
                  stacklevel=stacklevel)
    return old_value if convert is None else convert(old_value)


def gate_field_from_v_per_a(field: float) -> float:
    """Old ``field`` (V/Å) → ``gate_field`` (MV/m)."""
    return float(field) * V_PER_A_IN_MV_PER_M


def slab_size_and_field(
    n_layers: N_T | None, layers: N_T | None, gate_field: float | None, field: float | None,
    where: str,
) -> tuple[N_T | None, float | None]:
    """``n_layers`` and ``gate_field`` (MV/m) from the new or the deprecated names
    (``layers``; ``field`` in V/Å)."""
    n = renamed_argument(n_layers, layers, old="layers", new="n_layers", where=where,
                         stacklevel=4)
    f = renamed_argument(gate_field, field, old="field", new="gate_field", where=where,
                         convert=gate_field_from_v_per_a, note=" (MV/m; field was V/Å)",
                         stacklevel=4)
    return n, f


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
    layer_of_orbital : (M,) int ndarray
        Layer index of every slab orbital (was ``layers``).
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
    gate_field : float
        Perpendicular (gate) electric field, MV/m.
    """

    model: LatticeModel
    layer_of_orbital: IntArray
    n_layers: int
    direction: int
    normal: FloatArray
    periods: FloatArray
    bulk: LatticeModel
    layer_onsite: LayerOnsite | None
    gate_field: float
    _bulk_builder: KwantBuilder | None = None
    _kwant_order: IntArray | None = None
    _params: KwantParams | None = None
    _builder_cache: KwantBuilder | None = None

    @property
    def layers(self) -> IntArray:
        """Deprecated name of :attr:`layer_of_orbital`."""
        warnings.warn("Slab.layers is deprecated, use Slab.layer_of_orbital", DeprecationWarning,
                      stacklevel=2)
        return self.layer_of_orbital

    @property
    def field(self) -> float:
        """Deprecated: the gate field in V/Å (use :attr:`gate_field`, MV/m)."""
        warnings.warn("Slab.field (V/Å) is deprecated, use Slab.gate_field (MV/m)",
                      DeprecationWarning, stacklevel=2)
        return self.gate_field / V_PER_A_IN_MV_PER_M

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
        ns = check_surface_layers(n_surface_layers, self.n_layers)
        return self.layer_of_orbital >= self.n_layers - ns, self.layer_of_orbital < ns

    def hamiltonian(self, k: KPoints) -> ComplexArray:
        """Slab Bloch Hamiltonian at Cartesian k (Nk, d) or (d,), shape (Nk, M, M), eV."""
        return self.model.hamiltonian(k)

    def kpath(
        self, path: str | None = None, npoints: int = 200, kmax: float | None = None
    ) -> KPath:
        """k-path of the surface (edge) Brillouin zone with ase's special points
        (:func:`tbspin.bz.kpath.make_kpath`; ``kmax`` zooms on Γ)."""
        return make_kpath(self.periods, path, npoints, kmax=kmax)

    def k_cartesian(self, k_reduced: ArrayLike) -> FloatArray:
        """Cartesian in-plane k (1/Å) from coordinates in units of the in-plane b_j."""
        kr = np.atleast_2d(np.asarray(k_reduced, dtype=float))
        if kr.shape[1] != self.n_periodic:
            raise ParameterError(
                f"k_reduced needs {self.n_periodic} components per point, got shape {kr.shape}"
            )
        return kr @ inplane_reciprocal(self.periods)

    def kwant_builder(self) -> KwantBuilder:
        """The slab as a :class:`kwant.Builder` (built by Kwant's ``fill``; cached).

        Its symmetry is the :class:`kwant.TranslationalSymmetry` of the in-plane vectors; per-layer
        terms and the gate field are added to the on-site values. Callable values keep their
        parameters (pass them as ``params`` when finalizing/evaluating). Needs Kwant.
        """
        if self._builder_cache is None:
            from tbspin.slab.kwant_form import fill_slab_builder

            self._builder_cache = fill_slab_builder(self)
        return self._builder_cache

    def with_layer_onsite(self, layer_onsite: LayerOnsite) -> Slab:
        """A copy with one more per-layer term (added to the existing ones)."""
        old = self.layer_onsite

        def combined(layer: int) -> ArrayLike | None:
            a = None if old is None else old(layer)
            b = layer_onsite(layer)
            if a is None:
                return b
            if b is None:
                return a
            return np.asarray(a) + np.asarray(b)

        return _assemble(
            self.bulk, self.direction, self.n_layers, combined, self.gate_field,
            self._bulk_builder, self._kwant_order, self._params, self.model.name,
        )


def check_surface_layers(n_surface_layers: int, n_layers: int) -> int:
    """Validate a surface thickness (layers per surface) against the slab's layer count."""
    ns = int(n_surface_layers)
    if ns < 1 or 2 * ns > n_layers:
        raise ParameterError(
            f"n_surface_layers={n_surface_layers} must be >= 1 and <= n_layers/2 "
            f"(the slab has {n_layers} layers)"
        )
    return ns


# ====================================================================== construction
def make_slab(
    bulk: BulkSpec,
    *,
    direction: int,
    n_layers: int | None = None,
    layer_onsite: LayerOnsite | None = None,
    gate_field: float | None = None,
    params: KwantParams | None = None,
    operators: Mapping[str, ArrayLike] | None = None,
    name: str | None = None,
    layers: int | None = None,
    field: float | None = None,
) -> Slab:
    """Cut a bulk system to ``n_layers`` unit cells along lattice vector ``direction``.

    Parameters
    ----------
    bulk : LatticeModel or kwant.Builder
        Bulk system, periodic along every lattice vector: a :class:`~tbspin.LatticeModel` or a
        :class:`kwant.Builder` with a full-rank :class:`kwant.TranslationalSymmetry` (e.g. from
        ``kwant.continuum.discretize``; needs Kwant).
    direction : int
        Index of the lattice vector (row of ``bulk.lattice`` / of the Kwant periods) along which
        the slab is finite.
    n_layers : int
        Number of unit cells N (≥ 2) along ``direction``.
    layer_onsite : callable, optional
        ``layer_onsite(l) -> (n, n) array or None`` adds an on-site matrix to every cell of
        layer l (e.g. an exchange field only on the top layers, see
        :func:`exchange_on_layers`); n = orbitals per bulk cell, in the bulk model's orbital
        order (for a Kwant Builder: sites in ``builder.sites()`` order, each site's orbitals
        consecutive, as :func:`tbspin.adapters.kwant.from_kwant` reads it).
    gate_field : float
        Electric field along the surface normal, MV/m (module docstring for the sign). The
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
    layers, field
        Deprecated names of ``n_layers`` and of the gate field in V/Å (converted to MV/m).

    Returns
    -------
    Slab

    Raises
    ------
    ModelError
        On a bulk that is not periodic along every lattice vector, a bad direction, layer count
        or gate field, or a per-layer matrix of the wrong shape.
    ParameterError
        When neither ``n_layers`` nor ``layers`` is given, or both.
    """
    n_layers, gate_field = slab_size_and_field(n_layers, layers, gate_field, field, "make_slab")
    if n_layers is None:
        raise ParameterError("make_slab needs n_layers, the number of unit cells (>= 2)")
    gate_field = 0.0 if gate_field is None else gate_field
    builder, order = None, None
    if isinstance(bulk, LatticeModel):
        model = bulk
    else:
        from tbspin.adapters.kwant import from_kwant, require_kwant

        kwant = require_kwant("a slab of a Kwant Builder")
        if not isinstance(bulk, kwant.builder.Builder):
            raise ModelError(
                f"'bulk' must be a tbspin.LatticeModel or a kwant.Builder, got {type(bulk).__name__}"
            )
        model = from_kwant(bulk, params=params)
        builder, order = bulk, np.arange(model.n_orbitals)
    for key, op in (operators or {}).items():
        model = model.with_operator(key, op)
    if model.n_periodic != model.dim:
        raise ModelError(
            f"'bulk' must be periodic along all {model.dim} lattice vectors to cut a slab "
            f"(periodic: {model.periodic})"
        )
    if model.dim < 2:
        raise ModelError("a slab needs a 2D or 3D bulk (a 1D chain would become a finite system)")
    direction_i = int(direction)
    if direction_i != direction or not 0 <= direction_i < model.dim:
        raise ModelError(f"'direction' must be a lattice-vector index in 0..{model.dim - 1}, "
                             f"got {direction!r}")
    try:
        n_i = int(n_layers)
    except (TypeError, ValueError):
        n_i = -1
    if n_i != n_layers or n_i < 2:
        raise ModelError(f"'n_layers' must be an integer >= 2, got {n_layers!r}")
    if not np.isfinite(gate_field):
        raise ModelError(f"'gate_field' must be finite (MV/m), got {gate_field!r}")
    return _assemble(
        model, direction_i, n_i, layer_onsite, float(gate_field), builder, order, params,
        name or f"{model.name}-slab{n_i}",
    )


def _normal(lattice: FloatArray, direction: int) -> FloatArray:
    """Unit vector along the part of a_direction perpendicular to the other lattice vectors."""
    a = lattice[direction]
    others = np.delete(lattice, direction, axis=0)
    # remove the projection on span(others)
    coef = np.linalg.lstsq(others.T, a, rcond=None)[0]
    perp = a - others.T @ coef
    return perp / np.linalg.norm(perp)


def layer_terms(
    layer_onsite: LayerOnsite | None, gate_field: float, model: LatticeModel, n_layers: int,
    direction: int, normal: FloatArray,
) -> ComplexArray:
    """(N, n, n) on-site blocks added to each layer (layer_onsite + the gate potential)."""
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
    if gate_field != 0.0:
        z = (model.positions[None, :, :] + np.arange(n_layers)[:, None, None]
             * model.lattice[direction]) @ normal  # (N, n)
        zc = 0.5 * (z.min() + z.max())
        idx = np.arange(n)
        extra[:, idx, idx] += _EV_PER_MV_PER_M_PER_A * gate_field * (z - zc)
    return extra


def _assemble(
    model: LatticeModel, direction: int, n_layers: int, layer_onsite: LayerOnsite | None,
    gate_field: float, builder: KwantBuilder | None, order: IntArray | None,
    params: KwantParams | None, name: str,
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
    extra = layer_terms(layer_onsite, gate_field, model, N, direction, normal)
    zero = int(np.nonzero(~np.any(uniq != 0, axis=1))[0][0])
    Hs[zero, lidx, :, lidx, :] += extra
    hoppings = Hs.reshape(len(uniq), N * n, N * n)

    lattice = np.array(model.lattice)
    lattice[direction] = model.lattice[direction] * N
    pos = (model.positions[None, :, :] + lidx[:, None, None] * model.lattice[direction])
    pos = pos.reshape(N * n, d)
    layer_of_orbital = np.repeat(lidx, n)
    ops = {key: np.kron(np.eye(N), op) for key, op in model.operators.items()}
    ops["layer"] = np.diag(layer_of_orbital.astype(float))
    ops["z"] = np.diag(pos @ normal)
    periodic = tuple(i for i in range(d) if i != direction)
    slab_model = LatticeModel(
        lattice=lattice, positions=pos, R=uniq, hoppings=hoppings, periodic=periodic, operators=ops,
        convention=model.convention, magnetization=model.magnetization, name=name,
        metadata={"slab_of": model.name, "direction": direction, "n_layers": N,
                  "gate_field_MV_per_m": gate_field},
    )
    return Slab(
        model=slab_model, layer_of_orbital=layer_of_orbital, n_layers=N, direction=direction,
        normal=normal, periods=np.array(model.lattice[list(periodic)]), bulk=model,
        layer_onsite=layer_onsite, gate_field=gate_field, _bulk_builder=builder,
        _kwant_order=order, _params=None if params is None else dict(params),
    )


def exchange_on_layers(
    spin: LatticeModel | Sequence[ArrayLike], m: ArrayLike,
    magnetic_layers: Sequence[int] | None = None, *, layers: Sequence[int] | None = None,
) -> LayerOnsite:
    """Per-layer exchange term m·s on the given layers (all layers when ``magnetic_layers`` is None).

    Parameters
    ----------
    spin : LatticeModel or sequence of three (n, n) arrays
        The spin operators s_x, s_y, s_z (units of ħ/2) per bulk cell, or a model carrying them.
    m : (3,) array_like
        Exchange vector, eV.
    magnetic_layers : sequence of int, optional
        Layer indices (0 = bottom) that carry the term, e.g. ``range(N - 3, N)`` for the three
        top layers of an N-layer slab.
    layers
        Deprecated name of ``magnetic_layers``.

    Returns
    -------
    callable usable as ``layer_onsite``.
    """
    magnetic_layers = renamed_argument(magnetic_layers, layers, old="layers",
                                       new="magnetic_layers", where="exchange_on_layers")
    if isinstance(spin, LatticeModel):
        s = [spin.spin(i) for i in range(3)]
    else:
        s = [np.asarray(x, dtype=complex) for x in spin]
        if len(s) != 3:
            raise ModelError("'spin' must hold three matrices (s_x, s_y, s_z)")
    mv = np.asarray(m, dtype=float)
    if mv.shape != (3,) or not np.all(np.isfinite(mv)):
        raise ParameterError(f"the exchange vector m must be 3 finite numbers (eV), got {m!r}")
    term = sum(mv[i] * s[i] for i in range(3))
    chosen = None if magnetic_layers is None else {int(x) for x in magnetic_layers}
    if chosen is not None and any(x < 0 for x in chosen):
        raise ParameterError("magnetic_layers of exchange_on_layers must be >= 0 (0 = bottom)")

    def onsite(layer: int) -> ComplexArray | None:
        if chosen is None or layer in chosen:
            return term
        return None

    return onsite
