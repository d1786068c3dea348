"""Sweeps of the surface gap: versus the exchange vector m (:func:`gap_vs_magnetization`, with a
linear fit) and versus the slab thickness N (:func:`gap_vs_thickness`, with an exponential fit).

Both show a tqdm progress bar when stderr is a terminal (``progress=None``, the default) and
stay quiet otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import numpy as np

from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.slab.build import (
    BulkSpec,
    LayerOnsite,
    exchange_on_layers,
    make_slab,
    slab_size_and_field,
)
from tbspin.slab.gap import NoSurfaceStatesError, find_dirac_point, surface_gap
from tbspin.types import ArrayLike, FloatArray, IntArray, KPoints

__all__ = ["MagnetizationSweep", "ThicknessSweep", "gap_vs_magnetization", "gap_vs_thickness"]

T = TypeVar("T")


def _progress(items: Iterable[T], total: int, desc: str, progress: bool | None) -> Iterator[T]:
    """tqdm over ``items``: shown when ``progress`` is True, or None and stderr is a terminal."""
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress  # None: tqdm hides it off a TTY
    yield from tqdm(items, total=total, desc=desc, disable=disable, leave=False)


# ====================================================================== magnetization sweep
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
        Least-squares line gap = slope·|m| + intercept (NaN when all |m| are equal).
    residual : float
        RMS deviation of the gaps from that line (eV).
    """

    magnetizations: FloatArray
    gaps: FloatArray
    dirac_energies: FloatArray
    k: FloatArray
    slope: float
    intercept: float
    residual: float


def gap_vs_magnetization(
    bulk: BulkSpec,
    magnetizations: ArrayLike,
    *,
    direction: int,
    n_layers: int | None = None,
    spin: Sequence[ArrayLike] | LatticeModel | None = None,
    magnetic_layers: Sequence[int] | None = None,
    k: KPoints | None = None,
    surface: str = "both",
    track_dirac: bool = False,
    n_surface_layers: int = 2,
    n_occupied: float | None = None,
    min_weight: float = 0.5,
    params: Mapping[str, object] | None = None,
    gate_field: float | None = None,
    progress: bool | None = None,
    layers: int | None = None,
    field: float | None = None,
) -> MagnetizationSweep:
    """Surface gap of a slab versus the exchange vector m (added as m·s on chosen layers).

    Parameters
    ----------
    bulk : LatticeModel or kwant.Builder
        Non-magnetic bulk (see :func:`make_slab`).
    magnetizations : (n, 3) or (n,) array_like
        Exchange vectors (eV), n ≥ 2; a 1D array is read as m_z values.
    direction, n_layers, params, gate_field
        As in :func:`make_slab` (``gate_field`` in MV/m).
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
    progress : bool, optional
        Progress bar; default: shown only when stderr is a terminal.
    layers, field
        Deprecated names of ``n_layers`` and of the gate field in V/Å.

    Returns
    -------
    MagnetizationSweep

    Raises
    ------
    ParameterError
        Fewer than two magnetizations, or a bad shape.
    """
    n_layers, gate_field = slab_size_and_field(n_layers, layers, gate_field, field, "gap_vs_magnetization")
    ms = np.asarray(magnetizations, dtype=float)
    if ms.ndim == 1:
        ms = np.stack([np.zeros_like(ms), np.zeros_like(ms), ms], axis=1)
    if ms.ndim != 2 or ms.shape[1] != 3:
        raise ParameterError(f"'magnetizations' must have shape (n, 3) or (n,), got {ms.shape}")
    if len(ms) < 2:
        raise ParameterError(
            f"'magnetizations' needs at least two exchange vectors for the gap-vs-m fit, got "
            f"{len(ms)}; for one magnetization use surface_gap(make_slab(...))"
        )
    base = make_slab(bulk, direction=direction, n_layers=n_layers, params=params,
                     gate_field=gate_field)
    spin_ops = base.bulk if spin is None else spin
    gaps, mids, ks = [], [], []
    measure = functools.partial(
        find_dirac_point if track_dirac else surface_gap, surface=surface,
        n_surface_layers=n_surface_layers, n_occupied=n_occupied, min_weight=min_weight)
    for m in _progress(ms, len(ms), "gap vs m", progress):  # one slab per magnetization
        slab = base.with_layer_onsite(exchange_on_layers(spin_ops, m, magnetic_layers))
        res = measure(slab, k)
        gaps.append(res.gap)
        mids.append(res.dirac_energy)
        ks.append(res.k)
    gaps_a = np.array(gaps)
    mag = np.linalg.norm(ms, axis=1)
    if np.ptp(mag) > 0:
        slope, intercept = np.polyfit(mag, gaps_a, 1)
        resid = float(np.sqrt(np.mean((gaps_a - (slope * mag + intercept)) ** 2)))
    else:  # a sweep of the direction at fixed |m|: no line to fit
        slope = intercept = resid = np.nan
    return MagnetizationSweep(
        magnetizations=ms, gaps=gaps_a, dirac_energies=np.array(mids), k=np.array(ks),
        slope=float(slope), intercept=float(intercept), residual=resid,
    )


# ====================================================================== thickness sweep
@dataclasses.dataclass(frozen=True)
class ThicknessSweep:
    """Surface (hybridization) gap versus number of layers.

    Attributes
    ----------
    n_layers : (n,) int ndarray
        Thicknesses N (was ``layers``).
    gaps : (n,) ndarray, eV
    dirac_energies : (n,) ndarray, eV
    decay_per_layer : float
        κ of the least-squares fit ln(gap) = a − κ·N (NaN if any gap ≤ 0).
    prefactor : float
        exp(a), eV.
    log_residual : float
        RMS deviation of ln(gap) from the fit.
    """

    n_layers: IntArray
    gaps: FloatArray
    dirac_energies: FloatArray
    decay_per_layer: float
    prefactor: float
    log_residual: float

    @property
    def layers(self) -> IntArray:
        """Deprecated name of :attr:`n_layers`."""
        warnings.warn("ThicknessSweep.layers is deprecated, use ThicknessSweep.n_layers",
                      DeprecationWarning, stacklevel=2)
        return self.n_layers


def gap_vs_thickness(
    bulk: BulkSpec,
    n_layers: Sequence[int] | None = None,
    *,
    direction: int,
    k: KPoints | None = None,
    layer_onsite: LayerOnsite | None = None,
    surface: str = "both",
    n_surface_layers: int | None = None,
    n_occupied: float | None = None,
    min_weight: float = 0.5,
    params: Mapping[str, object] | None = None,
    gate_field: float | None = None,
    progress: bool | None = None,
    layers: Sequence[int] | None = None,
    field: float | None = None,
) -> ThicknessSweep:
    """Surface gap versus slab thickness N, with an exponential fit.

    Parameters
    ----------
    bulk : LatticeModel or kwant.Builder
    n_layers : sequence of int
        Thicknesses N (at least two different ones).
    direction, layer_onsite, params, gate_field
        As in :func:`make_slab` (``layer_onsite`` receives the layer index of each slab).
    k, surface, n_occupied, min_weight
        As in :func:`surface_gap`.
    n_surface_layers : int, optional
        Layers per surface; default: for each N the smallest count from ``max(1, N // 4)`` up
        to ``N // 2`` for which two surface states are found (a fixed count would make the
        surface of a thin film the whole film and of a thick one too thin a skin).
    progress, layers, field
        As in :func:`gap_vs_magnetization` (``layers``: deprecated name of ``n_layers``).

    Returns
    -------
    ThicknessSweep
    """
    n_layers, gate_field = slab_size_and_field(n_layers, layers, gate_field, field, "gap_vs_thickness")
    if n_layers is None:
        raise ParameterError("gap_vs_thickness needs n_layers, the thicknesses N to sweep")
    Ns = np.array([int(n) for n in n_layers])
    if len(np.unique(Ns)) < 2:
        raise ParameterError(
            f"'n_layers' needs at least two different thicknesses for the gap-vs-N fit, got "
            f"{Ns.tolist()}"
        )
    model = bulk
    if not isinstance(bulk, LatticeModel):
        from tbspin.adapters.kwant import from_kwant

        model = from_kwant(bulk, params=params)
    gaps, mids = [], []
    gap_of = functools.partial(surface_gap, surface=surface, n_occupied=n_occupied,
                               min_weight=min_weight)
    for N in _progress(Ns, len(Ns), "gap vs N", progress):  # sweep parameter
        slab = make_slab(model, direction=direction, n_layers=int(N), layer_onsite=layer_onsite,
                         gate_field=gate_field)
        if n_surface_layers is not None:
            res = gap_of(slab, k, n_surface_layers=n_surface_layers)
        else:
            # thinner than the penetration depth, no state holds half its weight in the outer
            # quarter: widen the surface until it does (at N//2 layers every state qualifies
            # and the pair is the one straddling the neutrality level)
            for ns in range(max(1, int(N) // 4), int(N) // 2 + 1):
                try:
                    res = gap_of(slab, k, n_surface_layers=ns)
                    break
                except NoSurfaceStatesError:
                    if ns == int(N) // 2:
                        raise
        gaps.append(res.gap)
        mids.append(res.dirac_energy)
    gaps_a = np.array(gaps)
    if np.all(gaps_a > 0):
        slope, a = np.polyfit(Ns, np.log(gaps_a), 1)
        resid = float(np.sqrt(np.mean((np.log(gaps_a) - (slope * Ns + a)) ** 2)))
        kappa, pref = -float(slope), float(np.exp(a))
    else:
        kappa = pref = resid = np.nan
    return ThicknessSweep(n_layers=Ns, gaps=gaps_a, dirac_energies=np.array(mids),
                          decay_per_layer=kappa, prefactor=pref, log_residual=resid)
