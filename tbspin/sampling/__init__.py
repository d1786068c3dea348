"""Brillouin-zone integrals with error bars and adaptive refinement, over any band kernel.

A *kernel* maps Cartesian k (Nk, d) in 1/Å to (E (Nk, N) eV, X (Nk, N)), the band-resolved
integrand; the integral is I(E_F) = ∫ d^pk/(2π)^p Σ_m f(ε_mk − E_F) X_mk, estimated as
(1/V_cell) Σ_k w_k Σ_m f X with Σ_k w_k = 1 (the ``raw`` of :class:`tbspin.ConductivityResult`).

Randomized lattice rule (error bars)
    The BZ (reduced coordinates [0, 1)^p) is cut into the n_1 × … × n_p cells of a base grid;
    cell j holds s^p points (j + (i + u)/s)/n, i ∈ {0 … s−1}^p, weight 1/(n^p s^p), where s is
    the cell's refinement factor (1 for a uniform mesh) and u ∈ [0, 1)^p a shift. For u uniformly
    random every point is uniform in its sub-cell, so each estimate is *unbiased* for any fixed
    refinement map, and never sits on a high-symmetry point (probability 0). M independent
    shifts give M unbiased estimates; value = their mean, error = their standard deviation / √M
    times t_{0.975, M−1}/1.96 (Student's correction for the few samples; 1.09 for the default
    M = 16). Spiky integrands make the estimates heavy-tailed and M of them rarely show the
    tail: on a refined tree the error is therefore at least the one that ignores the lattice
    rule's cancellations between refined leaves, from their per-leaf variances
    (:func:`_tree_stats`). The interval ± 2 errors covers the exact value in ≥ 90% of trials
    (tested against exact answers in tests/test_sampling.py).
Adaptive refinement
    As Wannier90's adaptive refinement of the AHC (postw90 berry.F90, ``berry_curv_adpt_kmesh``:
    a k-point whose curvature exceeds a threshold is replaced by a finer local sub-mesh), but
    driven by the error: the cells carrying the largest share of the variance of the total
    between the M shifts (spikes near small gaps, degeneracy points, high-symmetry lines) get
    subdivided into ``factor``^p children (a tree: refinement stays local however deep it
    goes, and a leaf holds one point per shift at origin + u·size); only the children are
    evaluated. Iterations share
    the M shifts; with ``fresh=True`` (default) the final refinement map is evaluated once more
    with M new shifts, so the reported value and error do not depend on the samples that chose
    the map (no selection bias: the estimate is again unbiased).
Gap refinement
    :func:`~tbspin.sampling.gaptree.gap_refined` splits, before any integrand is evaluated, the
    cells where a pilot look at the band energies finds two bands with occupied weight closer
    than a threshold that shrinks with the cell (the 1/Δ² peaks of the proper spin current's
    occupied–occupied pairs), then evaluates that fixed tree with M shifts: unbiased, honest
    error bars (:mod:`tbspin.sampling.gaptree`; ``converge(method="gaps", gap=...)``).
Convergence on request
    :func:`converge` refines (adaptive) and grows the base mesh until the standard error is
    ≤ max(tol·|value|, abs_floor) at every Fermi energy (or per-component targets at chosen
    Fermi energies: :mod:`tbspin.sampling.targets`), or a budget of k-points / seconds is
    used up (then a :class:`~tbspin.errors.ConvergenceWarning` states what was reached). Its
    chunks run on threads or a dask client, and with a checkpoint a killed run resumes inside
    its pass (:mod:`tbspin.engine.chunk_log`).
    Refinement is kept only while it pays: a randomized rule on a uniformly finer mesh lowers
    the error at least like N^(−1/2), so rounds whose errors fall slower (integrands whose
    spikes are spread over the whole BZ, e.g. the near-degenerate occupied pairs of a 30-band
    Wannier fit) are dropped for the next base mesh, sized from the error at that rate. Before
    any round, the base pass's shifts are split in halves: when the cells that carry one half's
    variance do not carry the other half's (``REPRODUCIBLE``: each pass meets its spikes
    somewhere else, a heavy tail), no cell is refined at all (history note ``SKIPPED``).
Bloch sums
    The unrefined cells of one shift are points of one uniform shifted mesh: their H(k), ∂H/∂k
    come from FFTs (:mod:`tbspin.bz.fourier`) when the engine's cost rule prefers them; refined
    cells use the direct sums (:mod:`tbspin.model.bloch`).
"""

from __future__ import annotations

from typing import Any

from tbspin.model.lattice import LatticeModel
from tbspin.sampling.driver import converge
from tbspin.sampling.gaptree import gap_refined
from tbspin.sampling.rules import (
    CHECK_GROWTH,
    DROPPED,
    GENERIC_SHIFT,
    MAX_JUMP,
    MIN_CAP,
    MIN_CONFIRM,
    MIN_SHARE,
    POINTS_PER_CHUNK,
    RATE_MARGIN,
    REPRODUCIBLE,
    REVERT,
    SAFETY,
    SAFETY_POINTS,
    SKIPPED,
    Kernel,
    SampledIntegral,
    components,
    per_point_sums,
    randomized_mesh,
)
from tbspin.sampling.tree import adaptive

__all__ = [
    "Kernel",
    "SampledIntegral",
    "GENERIC_SHIFT",
    "per_point_sums",
    "randomized_mesh",
    "adaptive",
    "gap_refined",
    "converge",
    "components",
    "ahc_kernel",
    "shc_kernel",
    "CHECK_GROWTH", "DROPPED", "MAX_JUMP", "MIN_CAP", "MIN_CONFIRM", "MIN_SHARE",
    "POINTS_PER_CHUNK", "RATE_MARGIN", "REPRODUCIBLE", "REVERT", "SAFETY", "SAFETY_POINTS",
    "SKIPPED",
]


def ahc_kernel(model: LatticeModel, *, component: str = "xy", **kwargs: Any) -> Kernel:
    """Band-resolved Berry curvature Ω^{ij}_m as a kernel (public :func:`tbspin.berry_curvature`;
    an :class:`tbspin.bands.integrands.Integrand`, so uniform passes can use FFT Bloch sums)."""
    from tbspin.observables import berry_curvature_kernel

    return berry_curvature_kernel(model, component=component, **kwargs)


def shc_kernel(model: LatticeModel, **kwargs: Any) -> Kernel:
    """Band-resolved spin-Hall integrand as a kernel (public :func:`tbspin.spin_hall_integrand`;
    keywords ``spin``, ``current``, ``efield``, ``formula``, ``method``, ``gauge``, ...; an
    :class:`tbspin.bands.integrands.Integrand`, so uniform passes can use FFT Bloch sums)."""
    from tbspin.observables import spin_hall_kernel

    return spin_hall_kernel(model, **kwargs)
