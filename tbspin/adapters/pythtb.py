"""Conversion between :class:`tbspin.LatticeModel` and PythTB's ``tb_model`` (PythTB 1.8).

Conventions
-----------
PythTB stores the lattice vectors ``lat`` (rows, Cartesian; read as Å here), reduced orbital
positions ``orb`` and hoppings ``H_ij(R) = <φ_{0i}| H |φ_{Rj}>`` given for *one* of each
conjugate pair; it adds the partner itself. Its Bloch Hamiltonian (its "convention 1") is

    H_ij(κ) = Σ_R H_ij(R) exp(2πi κ·(R + τ_j − τ_i))

with κ in reduced coordinates of the periodic reciprocal vectors. With k_cart = Σ_p κ_p b_p this
is exactly tbspin's ``"positions"`` convention, ``exp(i k·(R + τ_n − τ_m))``, because
b_p·a_q = 2π δ_pq; ``tests/test_adapters.py`` checks this numerically against PythTB's own
eigenpairs. Components of R and τ along non-periodic directions (PythTB's ``dim_k < dim_r``,
mapped to ``periodic=``) never enter a phase and are dropped from R.

Spin
----
A spinful PythTB model (``nspin=2``) has ``2·norb`` states ordered (orbital, spin); here they
become ``N = 2·norb`` orbitals in the *interleaved* order ``orb0↑, orb0↓, orb1↑, orb1↓, ...``
(PythTB's spin index 0 is the +z component, its ``sigma_z`` coefficient enters ``[0, 0]`` with
sign +), and the Pauli matrices ``sx = 1 ⊗ σx`` etc. (units of ħ/2) are attached.

How the hoppings are read
-------------------------
PythTB 1.8 has no public accessor for its hoppings and on-site terms. Reconstructing H(k) from
``solve_all`` eigenpairs and Fourier-inverting would need the set of R vectors, which is itself
only stored privately, so it cannot be made exact from the public API alone. We therefore read
PythTB's stored data (``_hoppings``, ``_site_energies``, ``_per``, ``_nspin``, ``_dim_k``) in one
small function, :func:`_read_pythtb_data`, and then **verify** the result through the public
route: at a few random k the Hamiltonian V diag(E) V† rebuilt from PythTB's ``solve_all``
eigenpairs must equal the new model's H(k) (``check=True``, the default). A change of PythTB's
private layout therefore raises a :class:`~tbspin.errors.ModelError` instead of giving a wrong
model silently.

Each stored PythTB term (amplitude A, i, j, R) contributes ``H_R[i, j] += A`` and
``H_{-R}[j, i] += A†``, exactly what PythTB's own Hamiltonian does; this is correct also when a
user stored both members of a conjugate pair (``allow_conjugate_pair=True``), where a plain
"fill the missing −R" completion would not be.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tbspin.errors import ModelError, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.model.spin import operator_order, spin_index, spin_operators, validate_spin_order
from tbspin.types import ArrayLike, ComplexArray, FloatArray

__all__ = ["from_pythtb", "to_pythtb", "pythtb_hamiltonian"]

logger = logging.getLogger(__name__)


class PythtbModel(Protocol):
    """What tbspin uses of a ``pythtb.tb_model`` (public methods; private data are read by
    :func:`_read_pythtb_data` only)."""

    _dim_k: int
    _nspin: int
    _per: list[int]
    _site_energies: ArrayLike
    _hoppings: list[list[ArrayLike]]

    def get_lat(self) -> ArrayLike: ...

    def get_orb(self) -> ArrayLike: ...

    def solve_all(self, k_list: ArrayLike, eig_vectors: bool = ...) -> tuple[FloatArray,
                                                                                 ComplexArray]: ...


class _Unset:
    """Marker of an argument that was not passed."""


_UNSET = _Unset()

@dataclass
class _PythtbData:
    lat: FloatArray
    orb: FloatArray
    dim_k: int
    nspin: int
    per: list[int]
    onsite: ComplexArray
    hoppings: list[list[ArrayLike]]


def _read_pythtb_data(tb: PythtbModel) -> _PythtbData:
    """Read what PythTB 1.8 stores about a model, private attributes included.

    This is the only place that touches PythTB's private layout (see the module docstring);
    :func:`from_pythtb` verifies the outcome against PythTB's public ``solve_all``.
    """
    try:
        lat = np.array(tb.get_lat(), dtype=float)
        orb = np.array(tb.get_orb(), dtype=float)
        # private, PythTB 1.8 layout: _hoppings = [[amp, i, j, R], ...] ([amp, i, j] if dim_k=0),
        # _site_energies (norb,) or (norb, 2, 2), _per = periodic lattice-vector indices
        data = _PythtbData(
            lat=lat,
            orb=orb.reshape(len(orb), -1),
            dim_k=int(tb._dim_k),
            nspin=int(tb._nspin),
            per=[int(p) for p in tb._per],
            onsite=np.array(tb._site_energies, dtype=complex),
            hoppings=list(tb._hoppings),
        )
    except AttributeError as exc:
        raise ModelError(
            f"object of type {type(tb).__name__} does not look like a PythTB 1.8 tb_model ({exc})"
        ) from None
    return data


def pythtb_hamiltonian(tb: PythtbModel, k_reduced: ArrayLike) -> ComplexArray:
    """PythTB's own Bloch Hamiltonian, rebuilt from its public eigenpairs as V diag(E) V†.

    Parameters
    ----------
    tb : pythtb.tb_model
        The PythTB model.
    k_reduced : (Nk, dim_k) array_like
        Wave vectors in reduced coordinates of the periodic reciprocal lattice vectors.

    Returns
    -------
    (Nk, nsta, nsta) complex array
        H(k) in PythTB's convention 1, states ordered (orbital, spin) as in :func:`from_pythtb`.
    """
    k = np.asarray(k_reduced, dtype=float)
    k = k.reshape(len(k), -1)
    evals, evecs = tb.solve_all(k, eig_vectors=True)
    # evecs[band, kpoint, orbital(, spin)] -> V[k, state, band]
    nband, nk = evals.shape
    V = np.moveaxis(evecs.reshape(nband, nk, -1), 0, -1)
    return np.einsum("kab,kb,kcb->kac", V, evals.T, V.conj())


def from_pythtb(
    tb: PythtbModel,
    *,
    name: str | None = None,
    spin_order: str | bool | None = None,
    check: bool = True,
    check_tol: float = 1e-9,
    spin: str | bool | None | _Unset = _UNSET,
) -> LatticeModel:
    """Build a :class:`~tbspin.LatticeModel` from a PythTB ``tb_model``.

    Parameters
    ----------
    tb : pythtb.tb_model
        A PythTB 1.8 model (``dim_r`` 1, 2 or 3; any ``dim_k <= dim_r``; ``nspin`` 1 or 2).
    name : str, optional
        Name of the new model (default ``"pythtb"``).
    spin_order : {None, False, "interleaved", "block"}
        Spinor order of the states (:mod:`tbspin.model.spin`), i.e. which spin operators to attach.
        ``None`` (default): the interleaved Pauli matrices for ``nspin=2`` models, none for
        ``nspin=1``. ``False``: attach none. ``"interleaved"`` /
        ``"block"``: for an ``nspin=1`` model whose orbitals are spin-doubled by hand in the order
        (orb0↑, orb0↓, ...) or (orb0↑, orb1↑, ..., orb0↓, orb1↓, ...). For ``nspin=2`` models only
        ``None``, ``False`` or ``"interleaved"`` are valid.
    check : bool
        Compare the new model's H(k) with PythTB's public eigenpairs at 4 random k (module
        docstring) and raise if they differ by more than ``check_tol`` (relative to max |H|).
    check_tol : float
        Tolerance of that comparison.
    spin : deprecated
        Old name of ``spin_order`` (DeprecationWarning).

    Returns
    -------
    LatticeModel
        ``"positions"`` convention, lattice and positions in the units of PythTB's ``lat``
        (read as Å), energies as in PythTB (read as eV), ``periodic`` = PythTB's ``per``.

    Raises
    ------
    ModelError
        For ``dim_r`` outside 1..3, a ``spin_order`` the model cannot have, or a failed
        consistency check.
    ParameterError
        An unknown ``spin_order``.
    """
    if not isinstance(spin, _Unset):
        warnings.warn("from_pythtb(spin=...) is deprecated: use spin_order=", DeprecationWarning,
                      stacklevel=2)
        spin_order = spin
    data = _read_pythtb_data(tb)
    lat, orb, per, nspin = data.lat, data.orb, data.per, data.nspin
    d = lat.shape[0] if lat.ndim == 2 else 0
    if d not in (1, 2, 3):
        raise ModelError(f"PythTB model has dim_r={d}; tbspin supports dim_r = 1, 2 or 3")
    norb = len(orb)
    nsta = norb * nspin
    nonper = [i for i in range(d) if i not in per]

    # --- collect terms (vectorized once the list is read)
    hops = data.hoppings
    nh = len(hops)
    amps = np.array([np.asarray(h[0], dtype=complex) for h in hops]).reshape(
        (nh,) + ((2, 2) if nspin == 2 else ())
    )
    ii = np.array([h[1] for h in hops], dtype=np.int64)
    jj = np.array([h[2] for h in hops], dtype=np.int64)
    if data.dim_k == 0 or nh == 0:
        Rh = np.zeros((nh, d), dtype=int)
    else:
        Rh = np.array([np.asarray(h[3], dtype=float) for h in hops]).reshape(nh, d)
        if not np.allclose(Rh, np.round(Rh)):
            raise ModelError("PythTB model has non-integer hopping vectors ind_R")
        Rh = np.round(Rh).astype(int)
    Rh[:, nonper] = 0  # PythTB ignores R along non-periodic directions

    Rall = np.vstack([np.zeros((1, d), dtype=int), Rh, -Rh])
    Ru, inv = np.unique(Rall, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    H = np.zeros((len(Ru), norb, nspin, norb, nspin), dtype=complex)
    onsite = data.onsite
    idx = np.arange(norb)
    blocks = H.transpose(0, 1, 3, 2, 4)  # view of H: (R, i, j, s, s')
    blocks[inv[0], idx, idx] = onsite.reshape(norb, nspin, nspin)
    # (numpy's stubs reject tuple indices in ufunc.at, which numpy documents and accepts)
    if nspin == 1:
        np.add.at(blocks, (inv[1 : nh + 1], ii, jj, 0, 0), amps)  # type: ignore[arg-type]
        np.add.at(blocks, (inv[nh + 1 :], jj, ii, 0, 0), amps.conj())  # type: ignore[arg-type]
    else:
        np.add.at(blocks, (inv[1 : nh + 1], ii, jj), amps)
        np.add.at(blocks, (inv[nh + 1 :], jj, ii),
                  amps.conj().transpose(0, 2, 1))
    hoppings = H.reshape(len(Ru), nsta, nsta)

    positions_reduced = np.repeat(orb, nspin, axis=0)
    operators = _spin_operators(spin_order, nspin, norb, orb)

    model = LatticeModel(
        lattice=lat,
        positions_reduced=positions_reduced,
        R=Ru,
        hoppings=hoppings,
        periodic=per,
        operators=operators,
        convention="positions",
        name="pythtb" if name is None else name,
        metadata={"source": "pythtb", "nspin": nspin, "dim_k": data.dim_k},
    )
    if check and data.dim_k > 0:
        _check_against_pythtb(tb, model, check_tol)
    return model


def _spin_operators(
    spin_order: str | bool | None, nspin: int, norb: int, orb: FloatArray
) -> dict[str, ComplexArray]:
    """Spin operators for ``from_pythtb(spin_order=...)`` (its docstring)."""
    if spin_order is False:
        return {}
    if spin_order is None:
        return spin_operators(2 * norb, "interleaved") if nspin == 2 else {}
    if not isinstance(spin_order, str):
        raise ParameterError(f"spin_order must be None, False, 'interleaved' or 'block', got "
                             f"{spin_order!r}")
    validate_spin_order(spin_order)
    if nspin == 2:
        if spin_order == "block":
            raise ModelError(
                "spin_order='block' is impossible for an nspin=2 PythTB model, whose states are "
                "interleaved (orb0 up, orb0 down, ...); use spin_order=None")
        return spin_operators(2 * norb, "interleaved")
    if norb % 2:
        raise ModelError(f"spin_order={spin_order!r} needs an even number of orbitals, got {norb}")
    up, down = spin_index(norb, spin_order)
    if not np.allclose(orb[up], orb[down]):
        raise ModelError(
            f"spin_order={spin_order!r}: the two spin partners of some orbital sit at different "
            "positions in the PythTB model")
    return spin_operators(norb, spin_order)


def _check_against_pythtb(tb: PythtbModel, model: LatticeModel, tol: float) -> None:
    """Raise if the model's H(k) differs from PythTB's (public eigenpairs) at random k."""
    rng = np.random.default_rng(20231954)
    per = list(model.periodic)
    kred = rng.uniform(-0.5, 0.5, size=(4, len(per)))
    kcart = kred @ model.reciprocal[per]
    ours = model.hamiltonian(kcart)
    theirs = pythtb_hamiltonian(tb, kred)
    scale = max(1.0, float(np.max(np.abs(theirs))))
    err = float(np.max(np.abs(ours - theirs))) / scale
    logger.debug("from_pythtb consistency check: max relative |dH| = %.2e", err)
    if err > tol:
        raise ModelError(
            f"the model read from PythTB disagrees with PythTB's own H(k) (relative error "
            f"{err:.2e} > check_tol={tol:g}); PythTB's internal storage layout may have changed"
        )


def to_pythtb(
    model: LatticeModel, *, nspin: int | None = None, tol: float = 0.0
) -> PythtbModel:
    """Return an equivalent PythTB ``tb_model``.

    Parameters
    ----------
    model : LatticeModel
        The model. Its hoppings and positions are physical and are exported as they are;
        PythTB always works in its convention 1, so the PythTB model's H(k) equals
        ``model.replace(convention="positions").hamiltonian(k)`` whatever ``model.convention``.
    nspin : {None, 1, 2}
        PythTB spin mode. ``None``: 2 when the model carries the interleaved Pauli spin
        operators of :func:`from_pythtb` (so a round trip keeps them), else 1. With 2, orbitals
        (2i, 2i+1) become the two spin components of PythTB orbital i and must share a
        position. With 1, spin operators are not transferred (PythTB has no place for them).
    tol : float
        Hopping matrix elements (or 2×2 blocks) with all |entries| <= tol are not exported.

    Returns
    -------
    pythtb.tb_model
        ``dim_r = model.dim``, ``dim_k = model.n_periodic``, ``per = model.periodic``. Each
        conjugate pair (R, i, j) / (−R, j, i) is stored once, for R > 0 (first non-zero
        component positive) or R = 0 and i < j.

    Notes
    -----
    PythTB's ``set_hop`` scans all stored hoppings on every call, so exporting a model with
    many hoppings costs O(n_hoppings²) in PythTB itself (about 5 s for 16 000 hoppings).
    """
    from pythtb import tb_model

    n = model.n_orbitals
    if nspin is None:
        nspin = 2 if model.has_spin and operator_order(model.operators) == "interleaved" else 1
    if nspin not in (1, 2):
        raise ModelError(f"nspin must be 1 or 2, got {nspin!r}")
    if nspin == 2:
        if n % 2:
            raise ModelError(f"nspin=2 needs an even number of orbitals, got {n}")
        up, down = spin_index(n, "interleaved")
        if not np.allclose(model.positions[up], model.positions[down], atol=1e-9):
            raise ModelError(
                "nspin=2: orbitals 2i and 2i+1 (the two spin components of PythTB orbital i) "
                "must sit at the same position"
            )
    norb = n // nspin
    red = model.positions_reduced[::nspin]
    tb = tb_model(
        model.n_periodic, model.dim, lat=np.array(model.lattice), orb=red,
        per=list(model.periodic), nspin=nspin,
    )

    R, H = model.R, model.hoppings.reshape(len(model.R), norb, nspin, norb, nspin)
    blocks = H.transpose(0, 1, 3, 2, 4)  # (R, i, j, s, s')
    nz = R != 0
    first = np.where(nz.any(axis=1), R[np.arange(len(R)), np.argmax(nz, axis=1)], 0)
    zero = np.nonzero(first == 0)[0]
    if len(zero):
        onsite = blocks[zero[0], np.arange(norb), np.arange(norb)]  # (norb, s, s')
        if nspin == 1:
            tb.set_onsite(onsite[:, 0, 0].real.tolist())
        else:
            tb.set_onsite(list(onsite))
    ii, jj = np.meshgrid(np.arange(norb), np.arange(norb), indexing="ij")
    big = np.max(np.abs(blocks), axis=(3, 4)) > tol  # (R, i, j)
    keep = big & ((first > 0)[:, None, None] | ((first == 0)[:, None, None] & (ii < jj)[None]))
    # only one member of each conjugate pair is set, so PythTB's pair scan can be skipped
    for r, i, j in zip(*np.nonzero(keep), strict=True):
        amp = blocks[r, i, j, 0, 0] if nspin == 1 else blocks[r, i, j]
        ind_R = None if model.n_periodic == 0 else [int(x) for x in R[r]]
        tb.set_hop(amp, int(i), int(j), ind_R, allow_conjugate_pair=True)
    return tb
