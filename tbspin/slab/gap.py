"""The surface-state gap of a slab at one k (:func:`surface_gap`) and its minimum over in-plane k
(:func:`find_dirac_point`). Surface states are chosen by weight on the outer layers, not by band
index."""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np

from tbspin.errors import ConvergenceWarning, ParameterError
from tbspin.slab.build import Slab
from tbspin.slab.spectra import _kpoints, surface_weights
from tbspin.types import FloatArray, IntArray, KPoints

__all__ = ["SurfaceGap", "NoSurfaceStatesError", "surface_gap", "find_dirac_point"]


class NoSurfaceStatesError(ParameterError):
    """No pair of surface states was found (the message says which parameter to change).

    A ``ParameterError`` for callers, but on the command line a failed computation (exit 1),
    not a usage error: the options were valid, the physics found no surface states."""

    cli_exit_status = 1


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

    k: FloatArray
    gap: float
    dirac_energy: float
    energies: FloatArray
    weights: FloatArray
    indices: IntArray
    bulk_edges: FloatArray
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
        raise ParameterError(
            f"n_occupied={nocc} per cell × {slab.n_layers} layers does not give a whole number "
            f"of occupied slab bands between 1 and {slab.n_orbitals - 1}"
        )
    return int(cut)


def _gap_from_spectrum(
    E: np.ndarray, w: np.ndarray, *, cut: int, surface: str, min_weight: float,
    energy: float | None,
) -> tuple[float, float, IntArray, FloatArray, float]:
    """Pick the surface pair at one k. Returns gap, mid, idx(2), bulk_edges(2), e_ref."""
    if surface == "top":
        ws = w[:, 0]
    elif surface == "bottom":
        ws = w[:, 1]
    elif surface == "both":
        ws = w[:, 0] + w[:, 1]
    else:
        raise ParameterError(f"surface must be 'top', 'bottom' or 'both', got {surface!r}")
    e_ref = 0.5 * (E[cut - 1] + E[cut]) if energy is None else float(energy)
    cand = np.nonzero(ws >= min_weight)[0]
    if len(cand) < 2:
        raise NoSurfaceStatesError(
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
        raise NoSurfaceStatesError(
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
    k: KPoints | None = None,
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
    ``dirac_energy`` their mean. A :class:`NoSurfaceStatesError` (a ParameterError) is raised
    when there is no such pair (film thinner than the surface-state penetration, too few
    surface layers).

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
    kk = _kpoints(slab, k)
    if len(kk) != 1:
        raise ParameterError(f"surface_gap takes a single k-point, got {len(kk)}")
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
    k0: KPoints | None = None,
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

    kk = _kpoints(slab, k0)[0]
    basis = np.array(slab.periods) / np.linalg.norm(slab.periods, axis=1)[:, None]
    basis = np.linalg.qr(basis.T)[0].T  # orthonormal in-plane directions (p, d)
    gap_near = functools.partial(
        surface_gap, n_surface_layers=n_surface_layers, surface=surface, min_weight=min_weight,
        n_occupied=n_occupied, energy=energy)

    def gap_at(x: np.ndarray) -> float:
        try:
            return gap_near(slab, kk + x @ basis).gap
        except NoSurfaceStatesError:
            return np.inf

    p = len(basis)
    simplex = np.vstack([np.zeros(p), search_radius * np.eye(p)])
    res = minimize(gap_at, np.zeros(p), method="Nelder-Mead",
                   options=dict(xatol=xtol, fatol=1e-12, initial_simplex=simplex,
                                maxiter=2000))
    if not res.success:
        warnings.warn(f"find_dirac_point did not converge: {res.message}", ConvergenceWarning,
                      stacklevel=2)
    return gap_near(slab, kk + res.x @ basis)
