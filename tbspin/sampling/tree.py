"""Adaptive refinement of the cells that carry the variance (:mod:`tbspin.sampling`)."""

from __future__ import annotations

import time

import numpy as np

from tbspin.bands.gauge_tally import GaugeRun
from tbspin.engine.chunk_log import ChunkRunner
from tbspin.model.lattice import LatticeModel
from tbspin.sampling.rules import (
    CHECK_GROWTH,
    DROPPED,
    MIN_CAP,
    MIN_SHARE,
    REPRODUCIBLE,
    REVERT,
    SAFETY,
    SKIPPED,
    Kernel,
    SampledIntegral,
    _aim,
    _at_base,
    _efermi,
    _evaluate_tree,
    _grid,
    _mesh,
    _stats,
    _tree_stats,
    components,
    reproducibility,
    top_cells,
    variance_shares,
)
from tbspin.sampling.targets import Goal, TolSpec
from tbspin.types import ArrayLike, FloatArray, MeshSpec

__all__ = ["adaptive"]


@GaugeRun.wrap
def adaptive(
    kernel: Kernel,
    model: LatticeModel,
    efermi: ArrayLike,
    *,
    mesh: MeshSpec,
    n_shifts: int = 16,
    iterations: int = 30,
    factor: int = 2,
    variance_share: float = 0.8,
    max_cells: float = 0.02,
    reproducible: float = REPRODUCIBLE,
    fresh: bool = True,
    tol: TolSpec | None = None,
    abs_floor: TolSpec = 0.0,
    converge_at: ArrayLike | None = None,
    budget_k: int | None = None,
    budget_seconds: float | None = None,
    seed: int | None = None,
    temperature: float = 0.0,
    workers: int | None = 1,
    runner: ChunkRunner | None = None,
) -> SampledIntegral:
    """Adaptive refinement of the cells that carry the variance (module doc).

    The base grid's cells (centred on the Γ-centred mesh points) are leaves of a tree; a
    refined leaf is replaced by ``factor**p`` children (one point each per shift), so refinement
    stays local however deep it goes.

    Parameters
    ----------
    kernel, model, efermi, mesh, n_shifts, seed, temperature, workers, runner
        As in :func:`randomized_mesh` (``mesh`` is the base grid).
    iterations : int
        Largest number of refinement rounds.
    factor : int
        Children per direction of a refined cell.
    variance_share : float
        Each round refines the smallest set of cells carrying this share of the variance of the
        total, a cell's share being Cov(A_c, total)/Var(total) over the M shifts (summed over
        Fermi energies; it knows about the cancellations between cells of a lattice rule)...
    max_cells : float
        ...but at most this share of all cells (or ``MIN_CAP``) per round; when those carry less than
        ``MIN_SHARE`` of the variance it is not concentrated (a smooth integrand, better served
        by a finer uniform mesh) and refinement stops.
    reproducible : float
        With ``tol`` and at least 8 shifts, no cell is refined unless the cells that carry one
        half of the base pass's shifts' variance carry at least this share of the other half's
        (:func:`tbspin.sampling.rules.reproducibility`, recorded as ``reproducible`` in the
        first history entry; history note ``SKIPPED`` otherwise, and :func:`converge`
        refines no later base mesh). 0 disables the check.
    fresh : bool
        Re-evaluate the final tree with M new random shifts (no selection bias). With ``tol``,
        rounds on shared shifts run until the error is below aim·tol (``SAFETY`` at first; after
        a fresh pass, from the underestimate it measured: :func:`_aim`) or the map has grown
        ``CHECK_GROWTH``-fold, then a fresh pass checks; if it misses, its samples guide further
        rounds — unless its (error/target)² × points exceeds that of the previous unbiased
        estimate: refinement then loses to a uniformly finer mesh, and stops (history note
        ``DROPPED``; :func:`converge` refines no later base mesh).
    tol, abs_floor : float or sequence, optional
        Stop once every error meets its target: max(tol·|largest component|, abs_floor), or
        with one tol per component tol_c·max(|value|, abs_floor_c)
        (:class:`tbspin.sampling.targets.Goal`).
    converge_at : float or sequence, optional
        Only these Fermi energies (eV, among ``efermi``) are judged; refinement follows their
        variance.
    budget_k : int, optional
        Stop refining before the evaluated k-points would exceed this.
    budget_seconds : float, optional
        Wall-time budget. A refinement round runs only if it and the fresh pass over the
        refined map fit in what is left, at the rate (seconds per k-point) measured so far;
        the confirmation pass is skipped when it would not fit. The budget can still be
        overrun by the first evaluation of the base mesh and by rate fluctuations.
    """
    ef = _efermi(efermi)
    C = components(kernel)
    goal = Goal.build(tol, abs_floor, ef, C, converge_at)
    cols = goal.columns(len(ef) * C)  # the judged columns steer the refinement
    n = _mesh(model, mesh)
    p = len(n)
    rng = np.random.default_rng(seed)
    shifts = rng.random((n_shifts, p))
    size = np.tile(1.0 / np.array(n, float), (int(np.prod(n)), 1))
    # base cells centred on the Γ-centred mesh points: Γ (and for even n every TRIM) is the
    # centre of one cell, so a spike there is refined as one cell rather than 2^p corners
    origin = (_grid(n) - 0.5) * size
    t0 = time.perf_counter()
    A = _evaluate_tree(kernel, model, origin, size, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5), runner=runner)  # (M, C, nE)
    nk = len(origin) * n_shifts
    history: list[dict] = []
    children = _grid([factor] * p) / factor  # (f^p, p)
    aim = SAFETY  # fraction of tol the shared-shift rounds aim for (measured: _aim)

    def record(refined: int) -> tuple[FloatArray, FloatArray]:
        v, e = _tree_stats(A, ~_at_base(size, n))  # refined leaves
        history.append(dict(n_k=nk, n_k_final=len(origin) * n_shifts, mesh=n,
                            refined_cells=refined,
                            max_factor=int(round(1 / (size.min(axis=0) * np.array(n)).min())),
                            values=v, errors=e, aim=aim, seconds=time.perf_counter() - t0))
        return v, e

    def cap() -> int:
        """Most cells one round may refine: ``max_cells`` of the leaves, at least ``MIN_CAP``."""
        return min(len(origin), max(MIN_CAP, int(max_cells * len(origin))))

    v, e = record(0)
    if tol is not None and reproducible > 0 and n_shifts >= 8 and iterations > 0:
        q = history[-1]["reproducible"] = reproducibility(A, cols, variance_share, cap())
        if q < reproducible:
            # the spikes each pass meets are not where the previous one met them: refining
            # where past samples had variance cannot pay (rules.REPRODUCIBLE)
            history[-1]["note"] = SKIPPED
            iterations = 0
    # work-normalized variance (error/target)² × points of the last unbiased estimate: a fresh
    # pass over a refined map must lower it, else refinement loses to finer uniform meshes
    checked = len(origin) * n_shifts
    cost = goal.worst(v, e) ** 2 * checked

    def done(v: FloatArray, e: FloatArray, safety: float = 1.0) -> bool:
        return tol is not None and goal.done(v, e, safety)

    def affordable(points: int) -> bool:
        """Whether ``points`` more evaluations fit in the time budget, at the rate so far."""
        if budget_seconds is None:
            return True
        spent = time.perf_counter() - t0
        return spent + points * spent / max(nk, 1) <= budget_seconds

    confirmed: bool | None = None
    rounds = 0
    while rounds < iterations and not done(v, e):
        refined = 0
        while rounds < iterations and not done(v, e, aim):
            if not affordable(0):
                break
            score = variance_shares(A, cols)  # each cell's share of Var(total)
            if not score.sum() > 0:
                break
            chosen, carried = top_cells(score, variance_share, cap())
            count = len(chosen)
            # short of variance_share only when capped: the capped cells carry little
            if carried < min(MIN_SHARE, variance_share):
                break  # variance spread over the BZ: a finer base mesh pays, not refinement
            new_cost = count * len(children) * n_shifts
            # the round and the fresh pass over the refined map must both fit in the budgets
            fresh_cost = (len(origin) + new_cost // n_shifts - count) * n_shifts if fresh else 0
            if budget_k is not None and nk + new_cost + fresh_cost > budget_k:
                history[-1]["budget_k_bound"] = True  # another budget: another result
                break
            if not affordable(new_cost + fresh_cost):
                break
            if tol is not None and len(origin) * n_shifts >= CHECK_GROWTH * checked:
                break  # time for a fresh pass to check that refinement pays
            keep = np.ones(len(origin), bool)
            keep[chosen] = False
            co = (origin[chosen, None, :] + children[None] * size[chosen, None, :]).reshape(-1, p)
            cs = np.repeat(size[chosen] / factor, len(children), axis=0)
            An = _evaluate_tree(kernel, model, co, cs, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5), runner=runner)
            A_try = np.concatenate([A[:, keep], An], axis=1)
            nk += new_cost
            rounds += 1
            if rounds == 1 and np.all(_stats(A_try.sum(axis=1))[1] > REVERT * e):
                break  # undone: the lattice rule was better (smooth integrand)
            origin = np.concatenate([origin[keep], co])
            size = np.concatenate([size[keep], cs])
            A = A_try
            refined += count
            v, e = record(count)
        if not (fresh and refined):
            break
        # the final estimate comes from new shifts (no selection bias); if it misses the
        # tolerance its samples guide the next refinement rounds
        shared = goal.worst(v, e)
        shifts = rng.random((n_shifts, p))
        A = _evaluate_tree(kernel, model, origin, size, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5), runner=runner)
        nk += len(origin) * n_shifts
        v, e = record(0)
        aim = history[-1]["aim"] = _aim(shared, goal.worst(v, e), n_shifts)
        if not affordable(0):
            break
        if tol is not None and not done(v, e):
            checked, previous = len(origin) * n_shifts, cost
            cost = goal.worst(v, e) ** 2 * checked
            if cost > previous:
                # the error fell slower than N^(−1/2), the worst rate of a uniformly finer
                # randomized mesh: this fresh estimate stands, converge() grows the base mesh
                history[-1]["note"] = DROPPED
                break
        if done(v, e):
            confirmed = affordable(len(origin) * n_shifts)
            if not confirmed:
                break
            # confirmation: the pass that decided to stop is not the one reported (a stopping
            # rule on a noisy error estimate favours estimates that missed a spike)
            shifts = rng.random((n_shifts, p))
            A = _evaluate_tree(kernel, model, origin, size, shifts, ef, temperature,
                               workers=workers, base=(n, -0.5), runner=runner)
            nk += len(origin) * n_shifts
            v, e = record(0)
            # a miss: further rounds are judged against this unbiased estimate
            checked = len(origin) * n_shifts
            cost = goal.worst(v, e) ** 2 * checked
    lv, cnt = np.unique(np.round(1 / (size[:, 0] * n[0])).astype(int), return_counts=True)
    return SampledIntegral(efermi=ef, values=v, errors=e, samples=A.sum(axis=1), n_k=nk, mesh=n,
                           method="adaptive", history=history, confirmed=confirmed,
                           refinement={int(a): int(b) for a, b in zip(lv, cnt, strict=True)},
                           n_components=C)

