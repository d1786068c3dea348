"""Fermi-level responses of metals in 2D: a gapped reference plus the difference on a Γ box.

A Fermi-sea integral I(E_F) = ∫ d²k/(2π)² Σ_m f(ε_mk − E_F) X_mk at E_F in a band needs the
Fermi lines resolved, while at a reference E_ref in a gap the integrand is smooth and a
modest (graded) mesh converges. The two integrands differ only where some band lies between
E_ref and E_F, up to the Fermi tails:

    |f(ε − E_F) − f(ε − E_ref)| ≤ e^(−n_tail)   for ε outside
    W = [min(E_ref, E_F) − n_tail k_BT, max(E_ref, E_F) + n_tail k_BT].

If no band enters W outside a box B = {|t_1|, |t_2| ≤ κ} of reduced coordinates around Γ,

    I(E_F) = I(E_ref) + ∫_B d²k/(2π)² Σ_m [f(ε_mk − E_F) − f(ε_mk − E_ref)] X_mk + O(e^(−n_tail)),

and the box gets all the points. A Fermi-surface (−∂f/∂ε) integrand vanishes outside
[E_F − n_tail k_BT, E_F + n_tail k_BT] ⊂ W: it is integrated on the box directly (no reference).

* **The box** (:func:`window_box`): the bands on a uniform scan of the whole zone; κ is the
  largest |t|_∞ of a scan point whose neighbourhood (the point and its 4 neighbours, widened by
  a quarter of the bands' spread there) reaches W, plus 1.5 scan steps. A window that reaches
  the zone boundary is refused (ParameterError: the difference is not confined around Γ).
  :func:`fermi_box` then *checks* the box edge with the kernel itself: no band in W on a dense
  ring of edge points, and the largest difference integrand there, times the box area, relative
  to the box integral (``boundary_ratio``); if either fails, κ grows by one scan step.
* **The box integral**: M randomly shifted uniform n × n sub-meshes of the box, each an
  unbiased estimate; mean ± Student-t standard error (the estimator of tbspin's ``tol`` runs,
  :func:`tbspin.sampling.rules._stats`), n doubled (fresh shifts) until the error of the judged
  quantities is ≤ max(rel · |value|, floor) or the point budget ends (``converged`` False).
  One eigensystem per k for every E_F, E_ref and component (:class:`tbspin.engine.points.BatchTask`
  with the shift as group label).
* **Error bar** of I(E_F): the box's standard error plus the reference's stated error (a signed
  vector, e.g. a two-mesh difference, so that it maps onto sums of components such as a
  surface's layers).

Units: as the engine's integrals, ∫ d²k/(2π)² = (1/A_cell) ∫ d²t over reduced coordinates t,
A_cell = ``model.cell_measure``; X in the kernel's units.
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import numpy as np

from tbspin import units
from tbspin.bands.gauge_tally import GaugeRun
from tbspin.bz.spectrum import band_energies
from tbspin.engine.executor import ChunkPool
from tbspin.engine.occupation import fermi_sum
from tbspin.engine.points import Batch, BatchTask, Kernel, evaluate_batch
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.sampling.rules import _stats, fermi_energies
from tbspin.types import ArrayLike, FloatArray

__all__ = ["window_box", "BoxPoints", "FermiBoxResult", "fermi_box", "N_TAIL"]

#: the Fermi tails kept: the window W extends n_tail k_BT beyond E_ref and E_F (e^−30 ≈ 1e-13)
N_TAIL = 30.0


def _energies(model: LatticeModel, t: FloatArray) -> FloatArray:
    """Band energies at reduced in-plane coordinates t (Nk, 2)."""
    return band_energies(model, t @ model.reciprocal[list(model.periodic)])


def _window(efermi: FloatArray, e_ref: float, temperature: float, n_tail: float
            ) -> tuple[float, float]:
    tails = n_tail * units.KB_EV * temperature + 1e-9
    return (min(e_ref, float(efermi.min())) - tails, max(e_ref, float(efermi.max())) + tails)


def window_box(model: LatticeModel, window: tuple[float, float], *, scan: int = 48) -> float:
    """Reduced half-width κ of the Γ box that holds every state with an energy in ``window``.

    Parameters
    ----------
    model : LatticeModel
        2 periodic directions.
    window : (lo, hi)
        Energies (eV).
    scan : int
        Scan points per direction over the whole zone (even).

    Returns
    -------
    float
        κ in (0, ½): the box is |t_1|, |t_2| ≤ κ in fractions of the reciprocal vectors.

    Raises
    ------
    ParameterError
        The window reaches the zone boundary (or no band enters it at all).
    """
    if model.n_periodic != 2:
        raise ParameterError("window_box needs a model with 2 periodic directions")
    if int(scan) != scan or scan < 8 or scan % 2:
        raise ParameterError(f"window_box: scan must be an even int >= 8, got {scan!r}")
    lo, hi = (float(x) for x in window)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ParameterError(f"window_box: window must be finite (lo, hi) with lo < hi, got {window!r}")
    zone = 0.5
    while True:  # scan the zone, then zoom into the box found until it stops shrinking
        g = 2.0 * zone * (np.arange(scan) - scan // 2) / scan  # includes Γ and the edge −zone
        h = 2.0 * zone / scan
        t = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        E = _energies(model, t).reshape(scan, scan, -1)
        near = [np.roll(E, s, axis=a) for a in (0, 1) for s in (1, -1)]
        if zone < 0.5:  # the rolled-in neighbours of the scan's edge rows are not neighbours
            for i, nb in enumerate(near):
                edge = (slice(0, 1) if i % 2 == 0 else slice(-1, None))
                idx = (edge, slice(None)) if i < 2 else (slice(None), edge)
                nb[idx] = E[idx]
        e_lo = np.minimum.reduce([E, *near])
        e_hi = np.maximum.reduce([E, *near])
        pad = 0.25 * (e_hi - e_lo)
        hit = np.any((e_hi + pad >= lo) & (e_lo - pad <= hi), axis=2)
        if not hit.any():
            if zone == 0.5:
                raise ParameterError(f"window_box: no band enters the window [{lo:.4f}, {hi:.4f}] eV")
            return zone  # nothing inside the zoom: keep the previous box
        reach = float(np.abs(t[hit.reshape(-1)]).max())
        if zone == 0.5 and reach >= 0.5 - 1.5 * h:
            raise ParameterError(
                f"the energy window [{lo:.4f}, {hi:.4f}] eV reaches the zone boundary: the "
                "difference from the reference is not confined around Γ (use a full-zone integral)")
        new = min(reach + 1.5 * h, zone)
        if new > zone / 1.5:
            return float(min(new, 0.5 - 0.5 / scan))
        zone = new


@dataclasses.dataclass(frozen=True, eq=False)
class BoxPoints:
    """M shifted uniform n × n meshes of the box |t_i| ≤ κ (reduced), chunked; weight of a point
    = (2κ)²/n² (fraction of the zone), group = the shift index."""

    model: LatticeModel
    half: float
    n: int
    shifts: FloatArray  #: (M, 2) in [0, 1)
    chunk_size: int = 512

    @property
    def size(self) -> int:
        return len(self.shifts) * self.n**2

    @property
    def n_chunks(self) -> int:
        return max(1, -(-self.size // self.chunk_size))

    def batch(self, c: int) -> Batch:
        j = np.arange(c * self.chunk_size, min((c + 1) * self.chunk_size, self.size))
        m, rest = np.divmod(j, self.n**2)
        idx = np.stack(np.divmod(rest, self.n), -1)
        t = -self.half + 2.0 * self.half * (idx + self.shifts[m]) / self.n
        b = self.model.reciprocal[list(self.model.periodic)]
        w = np.full(len(j), (2.0 * self.half / self.n) ** 2)
        return Batch(t @ b, weights=w, groups=m)


def _edge(half: float, n: int) -> FloatArray:
    s = -half + 2.0 * half * (np.arange(n) + 0.5) / n
    one = np.full(n, half)
    return np.concatenate([np.stack(p, -1) for p in
                           ((s, one), (s, -one), (one, s), (-one, s))])


@dataclasses.dataclass
class FermiBoxResult:
    """I(E_F) = reference + box difference (Fermi-sea components) or the box integral
    (Fermi-surface components), with standard errors (module docstring)."""

    efermi: FloatArray  #: (nE,) eV
    e_ref: float
    values: FloatArray  #: (nE, C)
    errors: FloatArray  #: (nE, C): box standard error + reference error
    box: FloatArray  #: (nE, C) the box integral alone
    samples: FloatArray  #: (M, nE, C) the box estimates of the M shifted meshes
    reference_error: FloatArray  #: (C,) signed (e.g. fine − coarse mesh)
    half_width: float  #: κ (reduced)
    half_width_k: tuple[float, float]  #: κ |b_i| (1/Å)
    n: int  #: points per direction of each shifted mesh
    points: int  #: k-points evaluated in all rounds (box meshes and edge checks)
    converged: bool
    boundary_ratio: float  #: largest |difference integrand| on the edge × box area / |box integral|
    tail_bound: float  #: estimate of the neglected Fermi tails outside the box, kernel units
    history: list[tuple[int, float]]  #: (n, worst error / target) per round

    def linear(self, matrix: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Values and standard errors of q = matrix · components, (nE, Q) each: the box error from
        the samples of q (correlations kept), plus |matrix · reference_error|."""
        A = np.atleast_2d(np.asarray(matrix, dtype=float))
        return self.values @ A.T, _linear_error(self.samples, A, self.reference_error)


def _linear_error(samples: FloatArray, A: FloatArray, ref_err: FloatArray) -> FloatArray:
    """Standard error (nE, Q) of q = A · components from the M box samples, plus |A · ref_err|
    (the reference's signed error vector, e.g. a two-mesh difference, maps linearly)."""
    q = samples @ A.T
    _, err = _stats(q.reshape(len(q), -1))
    return err.reshape(q.shape[1:]) + np.abs(A @ ref_err)


@GaugeRun.wrap
def fermi_box(kernel: Kernel, model: LatticeModel, efermi: ArrayLike, e_ref: float,
              temperature: float, reference: ArrayLike, reference_error: ArrayLike, *,
              judge: ArrayLike | None = None, rel: ArrayLike = 0.02, floor: ArrayLike = 0.0,
              n_start: int = 16, n_shifts: int = 8, max_points: int = 200_000,
              scan: int = 48, n_tail: float = N_TAIL, boundary_tol: float = 1e-6,
              seed: int = 0, workers: int | None = None) -> FermiBoxResult:
    """I(E_F) of a 2D kernel in a metal: the reference I(E_ref) plus the Γ-box difference.

    Parameters
    ----------
    kernel : Kernel
        k → (energies, X (Nk, N, C)); its ``occupations`` say which components are Fermi sea
        (reference + difference) and which Fermi surface (box only).
    model : LatticeModel
        2 periodic directions; the kernel's model.
    efermi : array_like
        Fermi energies (eV).
    e_ref : float
        Reference energy (eV), in a gap of the model, where ``reference`` is converged.
    temperature : float
        K (> 0 with Fermi-surface components).
    reference, reference_error : (C,)
        I(E_ref) and its error, signed (e.g. the fine − coarse mesh difference: the error of a
        judged q = A·components is then |A · reference_error|); Fermi-surface components:
        ignored.
    judge : (Q, C), optional
        Judged quantities q = judge · components (default: every component).
    rel, floor : float or (Q,)
        Target error max(rel · |q|, floor) of every judged quantity at every E_F.
    n_start, n_shifts, max_points :
        First mesh of each shift (per direction), M shifts, and the point budget.
    scan, n_tail, boundary_tol :
        :func:`window_box` scan, Fermi tails kept, largest accepted ``boundary_ratio``.
    seed : int
        Of the random shifts.
    workers : int, optional
        Chunks evaluated concurrently (default :func:`tbspin.engine.executor.default_workers`;
        one BLAS thread each; the result does not depend on it: sums in chunk order).

    Returns
    -------
    FermiBoxResult
    """
    ef = fermi_energies(efermi)
    if not (np.isfinite(e_ref) and np.isfinite(temperature) and temperature >= 0):
        raise ParameterError(f"fermi_box: e_ref finite and temperature >= 0, got {e_ref!r}, "
                             f"{temperature!r}")
    if n_shifts < 2 or n_start < 2 or max_points < 1:
        raise ParameterError("fermi_box: n_shifts >= 2, n_start >= 2, max_points >= 1")
    occ = np.array(getattr(kernel, "occupations", ("sea",)))
    C = len(occ)
    sea = occ == "sea"
    ref = np.broadcast_to(np.asarray(reference, dtype=float), (C,)) * sea
    ref_err = np.broadcast_to(np.asarray(reference_error, dtype=float), (C,)) * sea
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(ref_err))):
        raise ParameterError("fermi_box: the reference and its error must be finite")
    A = np.eye(C) if judge is None else np.atleast_2d(np.asarray(judge, dtype=float))
    if A.shape[1] != C:
        raise ParameterError(f"fermi_box: judge must have {C} columns, got {A.shape}")
    fl = np.broadcast_to(np.asarray(floor, dtype=float), (A.shape[0],))
    rl = np.broadcast_to(np.asarray(rel, dtype=float), (A.shape[0],))
    if not (np.all(rl >= 0) and np.all(fl >= 0)):
        raise ParameterError(f"fermi_box: rel and floor must be >= 0, got {rel!r}, {floor!r}")
    lo, hi = _window(ef, float(e_ref), temperature, n_tail)
    energies = np.concatenate([[e_ref], ef])
    area_unit = 1.0 / model.cell_measure
    b_norm = np.linalg.norm(model.reciprocal[list(model.periodic)], axis=1)

    def difference(S: FloatArray) -> FloatArray:  # (..., 1 + nE, C) → (..., nE, C)
        return np.where(sea, S[..., 1:, :] - S[..., :1, :], S[..., 1:, :])

    half = window_box(model, (lo, hi), scan=scan)
    points, history = 0, []
    while True:  # the edge check: no band in W, negligible difference integrand
        t = _edge(half, 8 * scan)
        E, X = evaluate_batch(kernel, Batch(t @ model.reciprocal[list(model.periodic)]))
        points += len(t)
        edge_val = difference(fermi_sum(E, X, energies, temperature, per_point=True,
                                        occupation=tuple(occ)))
        in_window = bool(np.any((E >= lo) & (E <= hi)))
        if not in_window:
            break
        half += 1.0 / scan
        if half >= 0.5:
            raise ParameterError(f"the energy window [{lo:.4f}, {hi:.4f}] eV reaches the zone "
                                 "boundary on the box edge: the difference is not confined "
                                 "around Γ (use a full-zone integral)")
    rng = np.random.default_rng(seed)
    pool = ChunkPool(workers)  # one BLAS thread per worker, results in chunk order
    n = int(n_start)
    while True:
        pts = BoxPoints(model, half, n, rng.random((n_shifts, 2)))
        task = BatchTask(kernel, pts, energies, temperature)
        S = np.zeros((n_shifts, len(energies), C))
        for item in pool.map(task, range(pts.n_chunks)):  # chunk order
            labels, sums = cast(tuple[int, Any], item)[1]
            S[labels] += sums
        points += pts.size
        samples = difference(S) * area_unit  # each shift: the box integral
        box, _ = _stats(samples.reshape(n_shifts, -1))
        box = box.reshape(len(ef), C)
        values = box + ref
        q_err = _linear_error(samples, A, ref_err)
        target = np.maximum(rl * np.abs(values @ A.T), fl)
        worst = float(np.max(q_err / np.where(target > 0, target, np.inf)))
        history.append((n, worst))
        converged = worst <= 1.0
        if converged or points + 4 * pts.size > max_points:
            break
        n *= 2
    _, err = _stats(samples.reshape(n_shifts, -1))
    err = err.reshape(len(ef), C) + np.abs(ref_err)
    # the edge: the largest difference integrand there times the box area, relative to the box
    area = (2.0 * half) ** 2 * area_unit
    edge_q = np.abs(edge_val @ A.T).max(axis=0) * area  # (nE, Q)
    scale = np.maximum(np.abs(box @ A.T), np.maximum(fl, 1e-300))
    ratio = float(np.max(edge_q / scale))
    if ratio > boundary_tol:
        raise ParameterError(f"fermi_box: the difference integrand on the box edge is "
                             f"{ratio:.2e} of the box integral (> {boundary_tol:g}): the box "
                             "does not hold the Fermi-level states")
    tail = float(np.exp(-n_tail) * np.abs(X).sum(axis=1).max() * (1 - (2 * half) ** 2) * area_unit)
    return FermiBoxResult(ef, float(e_ref), values, err, box, samples, ref_err, float(half),
                          (float(half * b_norm[0]), float(half * b_norm[1])), n, points,
                          converged, ratio, tail, history)
