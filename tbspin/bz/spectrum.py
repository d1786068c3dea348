"""Band-structure checks on a :class:`tbspin.LatticeModel`: global gap, TRIMs, inversions, Z₂.

All functions evaluate the Bloch Hamiltonian in k-batches (no Python loop over k-points).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize

from tbspin.bz.kmesh import mesh_points, reduced_grid
from tbspin.errors import ModelError, ParameterError, TbspinWarning
from tbspin.model.lattice import LatticeModel
from tbspin.types import ArrayLike

__all__ = ["band_energies", "band_gap", "trim_points", "band_inversions", "check_band_inversions",
           "z2_parity"]

_CHUNK = 20000


def _n_occ(model: LatticeModel, n_occupied: int | None) -> int:
    n = model.n_orbitals
    n_occ = n // 2 if n_occupied is None else int(n_occupied)
    if not 0 < n_occ < n:
        raise ParameterError(f"n_occupied must be between 1 and {n - 1} for {n} bands, got {n_occ}")
    return n_occ


def _reduced_to_cart(model: LatticeModel, kred: np.ndarray) -> np.ndarray:
    """Reduced coordinates along the periodic reciprocal vectors -> Cartesian k (1/Å)."""
    b = model.reciprocal[list(model.periodic)]
    return kred @ b


def band_energies(model: LatticeModel, k: np.ndarray) -> np.ndarray:
    """Band energies (eV) of ``model`` at Cartesian k (Nk, dim) → (Nk, N), in chunks."""
    out = np.empty((len(k), model.n_orbitals))
    for s in range(0, len(k), _CHUNK):
        out[s : s + _CHUNK] = np.linalg.eigvalsh(model.hamiltonian(k[s : s + _CHUNK]))
    return out


def _mesh(model: LatticeModel, mesh: int | Sequence[int]) -> np.ndarray:
    """Γ-centred reduced grid (the one mesh code: :func:`tbspin.bz.kmesh.reduced_grid`)."""
    return reduced_grid(mesh_points(mesh, model.n_periodic, minimum=1), centered=True)


def band_gap(
    model: LatticeModel,
    mesh: int | Sequence[int] = 24,
    *,
    n_occupied: int | None = None,
    refine: bool = True,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Global (indirect) gap between band ``n_occupied`` and ``n_occupied + 1``.

    The extrema are located on a uniform Γ-centred mesh over the Brillouin zone and, with
    ``refine``, polished by a Nelder–Mead search started from the best mesh points.

    Parameters
    ----------
    model : LatticeModel
    mesh : int or sequence of int
        Points per periodic reciprocal direction.
    n_occupied : int, optional
        Number of bands below the gap (default: half of the bands).
    refine : bool
        Polish the valence maximum and conduction minimum off the mesh.

    Returns
    -------
    gap : float
        min E_c − max E_v in eV (negative for overlapping bands).
    k_vb, k_cb : (d,) ndarray
        Cartesian wave vectors (1/Å) of the valence maximum and conduction minimum.
    """
    n_occ = _n_occ(model, n_occupied)
    kred = _mesh(model, mesh)
    E = band_energies(model, _reduced_to_cart(model, kred))
    iv, ic = int(np.argmax(E[:, n_occ - 1])), int(np.argmin(E[:, n_occ]))
    kv, kc = kred[iv], kred[ic]
    ev, ec = E[iv, n_occ - 1], E[ic, n_occ]
    if refine:
        nk = np.broadcast_to(np.atleast_1d(np.asarray(mesh, dtype=int)), (model.n_periodic,))
        step = 1.0 / nk

        def band(x: np.ndarray, j: int, sign: float) -> float:
            kk = _reduced_to_cart(model, np.asarray(x, float)[None])
            return sign * float(np.linalg.eigvalsh(model.hamiltonian(kk))[0, j])

        for j, sign in ((n_occ - 1, -1.0), (n_occ, 1.0)):
            x0 = kv if j == n_occ - 1 else kc
            simplex = np.vstack([x0, x0 + 0.5 * np.diag(step)])
            res = optimize.minimize(
                band, x0, args=(j, sign), method="Nelder-Mead",
                options=dict(initial_simplex=simplex, xatol=1e-9, fatol=1e-13, maxiter=4000),
            )
            if j == n_occ - 1 and -res.fun > ev:
                ev, kv = -res.fun, res.x
            elif j == n_occ and res.fun < ec:
                ec, kc = res.fun, res.x
    to_cart = lambda x: _reduced_to_cart(model, np.asarray(x, float)[None])[0]  # noqa: E731
    return float(ec - ev), to_cart(kv), to_cart(kc)


def trim_points(model: LatticeModel) -> tuple[np.ndarray, np.ndarray]:
    """The 2^p time-reversal-invariant momenta of the periodic directions.

    Returns
    -------
    reduced : (2^p, p) ndarray
        Reduced coordinates (0 or 1/2), Γ first.
    cartesian : (2^p, d) ndarray
        Cartesian wave vectors (1/Å).
    """
    red = np.array(list(itertools.product((0.0, 0.5), repeat=model.n_periodic)))
    return red, _reduced_to_cart(model, red)


def _occupied_vectors(H: np.ndarray, n_occ: int) -> tuple[np.ndarray, np.ndarray]:
    E, V = np.linalg.eigh(H)
    return E, V[..., :n_occ]


def band_inversions(
    model: LatticeModel, *, n_occupied: int | None = None, tol: float = 1e-9
) -> dict[str, np.ndarray]:
    """Band ordering at the TRIMs relative to the kinetic (k-dependent) part of H.

    For a regularized k·p model, H(Γ) is the k·p Hamiltonian at k = 0 and
    T(K) = H(K) − H(Γ) holds the terms that grow with k (all odd-in-k terms vanish at a TRIM).
    Far from Γ the k·p bands are ordered by these terms; a TRIM K ≠ Γ where the occupied
    subspace of H(K) differs from that of T(K) carries an *extra* band inversion created by the
    regularization (e.g. Bi₂Se₃ with the Liu 2010 parameters when the z-spacing exceeds
    √(4M₁/|M₀|) ≈ 9.9 Å, where M₀ + 4M₁/c² changes sign).

    Parameters
    ----------
    model : LatticeModel
    n_occupied : int, optional
        Bands below the gap (default: half).
    tol : float
        T(K) with a gap smaller than this at the filling cannot define an ordering (NaN).

    Returns
    -------
    dict with
        ``"reduced"`` (2^p, p) TRIMs, ``"overlap"`` (2^p,) |det⟨occ H(K)|occ T(K)⟩|² (1: same
        ordering as the kinetic term, 0: fully inverted; NaN at Γ and where T(K) has no gap),
        ``"inverted"`` (2^p,) bool (overlap < 1/2).
    """
    n_occ = _n_occ(model, n_occupied)
    red, cart = trim_points(model)
    H = model.hamiltonian(cart)
    T = H - H[0]
    _, Vh = _occupied_vectors(H, n_occ)
    Et, Vt = _occupied_vectors(T, n_occ)
    ov = np.abs(np.linalg.det(np.conj(np.swapaxes(Vh, -1, -2)) @ Vt)) ** 2
    undefined = (Et[:, n_occ] - Et[:, n_occ - 1]) < tol
    ov = np.where(undefined, np.nan, ov)
    ov[0] = np.nan
    inverted = np.nan_to_num(ov, nan=1.0) < 0.5
    return {"reduced": red, "overlap": ov, "inverted": inverted}


def check_band_inversions(
    model: LatticeModel,
    *,
    n_occupied: int | None = None,
    category: type[Warning] = TbspinWarning,
    stacklevel: int = 2,
) -> np.ndarray:
    """Warn (``category``) if :func:`band_inversions` finds inversions at TRIMs other than Γ.

    Returns
    -------
    (n, p) ndarray
        Reduced coordinates of the inverted TRIMs (empty when there are none).
    """
    res = band_inversions(model, n_occupied=n_occupied)
    bad = res["reduced"][res["inverted"]]
    if len(bad):
        sp = np.linalg.norm(model.lattice, axis=1)
        warnings.warn(
            f"model {model.name!r}: the lattice regularization inverts the bands at TRIM(s) "
            f"{[tuple(float(x) for x in b) for b in bad]} (reduced) besides Γ; the lattice "
            f"spacings {tuple(float(s) for s in sp)} Å are too large for this k·p model "
            "(topology and gaps differ from the continuum)",
            category,
            stacklevel=stacklevel,
        )
    return bad


def z2_parity(
    model: LatticeModel, parity: ArrayLike, *, n_occupied: int | None = None
) -> dict[str, Any]:
    """Z₂ indices from parity eigenvalues at the TRIMs (Fu & Kane, PRB 76, 045302 (2007)).

    Requires time-reversal and inversion symmetry with all orbitals at inversion centres
    (here: at the cell origin), so that P H(k) P = H(−k) with the orbital matrix ``parity``.

    Parameters
    ----------
    model : LatticeModel
        2D or 3D periodic, insulating at ``n_occupied`` at every TRIM.
    parity : (N, N) array_like
        Inversion operator on the orbitals (eigenvalues ±1).
    n_occupied : int, optional
        Occupied bands (even; default half).

    Returns
    -------
    dict with ``"delta"`` (2^p,) products of one parity per Kramers pair at each TRIM,
    ``"reduced"`` TRIMs, ``"nu0"`` strong index (3D) or the Z₂ invariant (2D), and ``"weak"``
    (ν₁, ν₂, ν₃) in 3D.
    """
    n_occ = _n_occ(model, n_occupied)
    if n_occ % 2:
        raise ParameterError(f"n_occupied must be even (Kramers pairs), got {n_occ}")
    P = np.asarray(parity, dtype=complex)
    if P.shape != (model.n_orbitals,) * 2 or not np.allclose(P @ P, np.eye(len(P))):
        raise ModelError("'parity' must be an (N, N) involution on the orbitals")
    red, cart = trim_points(model)
    H = model.hamiltonian(cart)
    comm = np.max(np.abs(P @ H - H @ P))
    if comm > 1e-8:
        raise ModelError(
            f"the parity operator does not commute with H at the TRIMs (max |[P, H]| = {comm:.2e});"
            " the model is not inversion symmetric with this P"
        )
    E, V = np.linalg.eigh(H)
    if np.min(E[:, n_occ] - E[:, n_occ - 1]) < 1e-9:
        raise ModelError("the gap closes at a TRIM; parity indices are undefined")
    Vo = V[..., :n_occ]
    Pocc = np.conj(np.swapaxes(Vo, -1, -2)) @ P @ Vo
    xi = np.linalg.eigvalsh(Pocc)
    n_minus = np.sum(xi < 0, axis=1)
    if np.any(n_minus % 2):
        raise ModelError("odd number of negative parities at a TRIM: no Kramers pairs (broken TRS?)")
    delta = (-1) ** (n_minus // 2)
    nu0 = int(np.prod(delta) < 0)
    out: dict[str, Any] = {"delta": delta, "reduced": red, "nu0": nu0}
    if model.n_periodic == 3:
        weak = tuple(int(np.prod(delta[red[:, i] == 0.5]) < 0) for i in range(3))
        out["weak"] = weak
    return out
