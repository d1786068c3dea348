"""``converge``: randomized meshes and adaptive refinement until a tolerance is met
(:mod:`tbspin.sampling`, module docstring there), with a step journal for resumes."""

from __future__ import annotations

import dataclasses
import json
import numbers
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.fft import next_fast_len

from tbspin.bands.gauge_tally import GaugeRun
from tbspin.bands.settings import positive_number
from tbspin.engine.checkpoint import JsonValue, StepJournal
from tbspin.engine.chunk_log import ChunkLog, ChunkRunner
from tbspin.errors import ConvergenceWarning, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.sampling.gaptree import GAUGE_SPLIT, gap_refined
from tbspin.sampling.rules import (
    DROPPED,
    MAX_JUMP,
    MIN_CONFIRM,
    RATE_MARGIN,
    SAFETY_POINTS,
    SKIPPED,
    Kernel,
    SampledIntegral,
    _efermi,
    _mesh,
    _stats,
    components,
    randomized_mesh,
)
from tbspin.sampling.targets import Goal, TolSpec
from tbspin.sampling.tree import adaptive
from tbspin.types import ArrayLike, IntArray, MeshSpec, PathLike

__all__ = ["converge", "growth_bounds"]


#: the step name of each method's passes in the journal
_PASSES = {"uniform": "randomized_mesh", "gaps": "gap_refined", "adaptive": "adaptive"}


def _next_mesh(n: IntArray, result: SampledIntegral, goal: Goal,
               growth: float, max_growth: float, n_shifts: int) -> IntArray:
    """Base mesh whose pass of ``n_shifts`` shifts is predicted to reach the tolerance: the
    points behind the estimate (whatever its number of shifts, e.g. a pooled one) times
    (error / target)² (the N^(−1/2) rate of a randomized rule at worst) × ``SAFETY_POINTS``,
    per direction between ``growth`` and ``max_growth`` times the last mesh (a gap-refined
    pass: with its leaves per base cell)."""
    ratio = goal.worst(result.values, result.errors)
    points = _final_points(result) * SAFETY_POINTS * min(ratio, 1e6) ** 2
    scale = (points / (int(np.prod(n)) * n_shifts * _leaves(result, n_shifts))) ** (1.0 / len(n))
    scale = min(max(scale, growth), max_growth)
    return np.maximum(n + 1, np.ceil(n * scale).astype(int))


def growth_bounds(dim: int, growth: float = 1.5, max_growth: float | None = None
                  ) -> tuple[float, float]:
    """(smallest, largest) growth factor per direction of :func:`converge`'s base meshes in
    ``dim`` periodic directions: ``growth`` and ``max_growth``, the latter MAX_JUMP^(1/dim) when
    None (2 in 3D, 2.83 in 2D) and at least ``growth``; a ParameterError names a factor < 1 or
    a ``max_growth`` below ``growth`` (a mesh that may not grow cannot reach a tolerance)."""
    growth = positive_number(growth, "growth")
    if growth < 1.0:
        raise ParameterError(f"'growth' must be >= 1 (a factor per direction of the base mesh), "
                             f"got {growth!r}")
    if max_growth is None:
        return growth, max(growth, MAX_JUMP ** (1.0 / dim))
    top = positive_number(max_growth, "max_growth")
    if top < growth:
        raise ParameterError(f"'max_growth' ({max_growth!r}) must be >= 'growth' ({growth!r})")
    return growth, top


def _leaves(result: SampledIntegral, n_shifts: int) -> float:
    """Points per base cell and shift of a pass: 1, or a gap-refined pass's leaves per base
    cell (it evaluates its leaves, more than its base cells); the next pass is planned with
    as many."""
    if result.method != "gaps":
        return 1.0
    return _final_points(result) / (int(np.prod(result.mesh)) * n_shifts)


def _fast_mesh(n: IntArray, *, above: IntArray | None = None, down: bool = False) -> IntArray:
    """Per direction the FFT-friendly length (:func:`scipy.fft.next_fast_len`: products of 2, 3,
    5, 7, 11) nearest to n in ratio — above ``above`` if given — or with ``down`` the largest
    one ≤ n. The base meshes of :func:`converge` are FFT lengths: on the Bi₂Se₃ `_hr.dat` a
    37³ pass (37 prime) ran 10–20 % slower per k-point than 36³ or 40³."""
    out = []
    for i, x in enumerate(np.asarray(n, int)):
        lo = int(x)
        while lo > 1 and next_fast_len(lo) != lo:
            lo -= 1
        hi = next_fast_len(max(int(x), 1))
        pick = lo if down or (x / lo <= hi / x) else hi
        if above is not None and pick <= above[i]:
            pick = next_fast_len(int(above[i]) + 1)
        out.append(max(pick, 1))
    return np.array(out)


@GaugeRun.wrap
def converge(
    kernel: Kernel,
    model: LatticeModel,
    efermi: ArrayLike,
    *,
    tol: TolSpec = 0.02,
    abs_floor: TolSpec = 0.0,
    converge_at: ArrayLike | None = None,
    budget_k: int = 20_000_000,
    budget_seconds: float | None = None,
    mesh: MeshSpec = 8,
    method: str = "adaptive",
    n_shifts: int = 16,
    growth: float = 1.5,
    max_growth: float | None = None,
    seed: int | None = None,
    temperature: float = 0.0,
    workers: int | None = 1,
    checkpoint: PathLike | None = None,
    key: dict[str, JsonValue] | None = None,
    client: object = None,
    **adaptive_kw: Any,
) -> SampledIntegral:
    """Enlarge / refine until every standard error meets its target, or the budget is used up
    (then a ConvergenceWarning says what was reached).

    Parameters
    ----------
    tol : float or sequence
        Relative target of the standard error (0.02 = 2%): one number, every component to
        max(tol·|largest component at its E_F|, abs_floor); or one per component, component c to
        tol_c·max(|its value|, abs_floor_c) (:class:`tbspin.sampling.targets.Goal`).
    abs_floor : float or sequence
        Absolute target for values near zero (same units as the values, i.e. the raw integral);
        with a per-component ``tol`` the size below which a component counts as vanishing.
        One number or one per component.
    converge_at : float or sequence, optional
        Fermi energies (eV, among ``efermi``) at which convergence is judged (default: all);
        the others come with the error bars of the final mesh.
    budget_k : int
        Largest number of k-point evaluations in total.
    budget_seconds : float, optional
        Wall-time budget: steps are planned with the measured seconds per k-point so that the
        last one ends within it (:func:`adaptive`); the next base mesh is cut to what is left
        at ``RATE_MARGIN`` (0.9) × the rate of the last step (the largest pass so far).
    mesh : int or sequence
        Starting base mesh.
    method : {"adaptive", "uniform", "gaps"}
        "uniform": randomized meshes; "gaps": randomized gap-refined meshes
        (:func:`tbspin.sampling.gaptree.gap_refined`, needs ``gap=``; pooled with a gap-refined
        confirming pass on the same base mesh); "adaptive": at each base mesh, :func:`adaptive`
        refinement up to the tolerance while it pays (errors falling faster than N^(−1/2)).
        If the tolerance is not reached, the next base mesh is sized for it from the error so
        far (points × (error/target)² × ``SAFETY_POINTS``, per direction at least ``growth``
        and at most ``max_growth`` times the last), rounded to FFT-friendly lengths
        (:func:`_fast_mesh`), cut to the budgets, and must use more k-points than the best
        estimate so far. A pass that reaches the tolerance without a pass on new shifts behind
        it is not reported alone: an unrefined pass is pooled with M new shifts of a mesh
        with ½–1 of its points, sized by what the pooled estimate needs
        (:func:`_confirming_mesh`; 2M estimates), a refined tree is replaced by a uniform pass
        on new shifts; the pooled or new estimate must meet the tolerance too (``confirmed``;
        False when the budget left no room). Out of budget, the estimate built on the most
        k-points is reported, not the last one.
    growth, max_growth : float
        Smallest and largest growth factor per direction of the base mesh (equal: fixed steps);
        ``max_growth=None`` (default): at most ``MAX_JUMP`` = 8 times the points per jump
        (8^(1/d) per direction: 2 in 3D, 2.83 in 2D), and never below ``growth``
        (:func:`growth_bounds`; ``growth`` < 1 or ``max_growth`` < ``growth`` is refused).
    workers : int, optional
        Threads evaluating the k-chunks (None: all cores); the result does not depend on it.
    checkpoint : path, optional
        Step journal (:class:`tbspin.engine.checkpoint.StepJournal`): every completed step (one pass
        per base mesh) is saved there, and inside a step every finished chunk is appended to
        the chunk log ``<checkpoint>.chunks`` (:mod:`tbspin.engine.chunk_log`); repeating the
        call replays the saved steps, then the logged chunks of the interrupted step, and
        computes only the rest, to the result of an uninterrupted run (with ``seed=None``
        the drawn root seed is kept in the file): a killed run loses at most the chunks in
        flight (one per worker). Needs ``key``, everything else that determines the result
        (model, integrand, E_F, T; the engine's key). A wall-time budget counts the replayed
        steps' recorded time (not the replayed chunks'). The budgets are not part of the
        journal's key: a run stopped by ``budget_seconds`` or ``budget_k`` goes on from its
        journal when called again with larger ones, following the journal's passes (each a
        valid estimate, even where the old budgets cut its mesh; an adaptive pass its k budget
        cut short is recomputed) and planning on from the last; the result is then that of
        the path taken, not always the one a run given the larger budgets from the start
        would reach. ``result.resume`` counts what was replayed and computed.
    client : dask.distributed.Client, optional
        Run the chunks on this cluster (instead of ``workers`` threads); the same result as
        local threads for the same seed (chunks folded in chunk order).
    **adaptive_kw
        ``iterations``, ``factor``, ``variance_share``, ``max_cells`` of :func:`adaptive`;
        with ``method="gaps"``: ``gap`` (required), ``factor``, ``levels``, ``gauge_split``
        (default ``GAUGE_SPLIT``) of :func:`~tbspin.sampling.gaptree.gap_refined`.
    """
    if method not in ("adaptive", "uniform", "gaps"):
        raise ParameterError(
            f"'method' must be 'adaptive', 'uniform' or 'gaps', got {method!r}")
    if method == "gaps" and "gap" not in adaptive_kw:
        raise ParameterError("method='gaps' needs gap= (eV): the level-0 splitting threshold "
                             "(tbspin.sampling.gaptree)")
    ef = _efermi(efermi)
    C = components(kernel)
    goal = Goal.build(tol, abs_floor, ef, C, converge_at)
    # tol/abs_floor as the steps' calls record them (numbers or lists, JSON)
    tol_ = _plain_spec(tol)
    floor_ = _plain_spec(abs_floor)
    target_kw: dict[str, Any] = dict(tol=tol_, abs_floor=floor_)
    if converge_at is not None:
        target_kw["converge_at"] = np.atleast_1d(np.asarray(converge_at, float)).tolist()
    n = np.array(_mesh(model, mesh))
    if method == "gaps":  # the pilot's rule, resolved here so that the journal's key records it
        adaptive_kw.setdefault("gauge_split", GAUGE_SPLIT)
    # the growth bounds per direction, resolved once (the journal's key records the numbers)
    growth, max_growth = growth_bounds(len(n), growth, max_growth)
    if int(np.prod(n)) * n_shifts > budget_k:
        raise ParameterError(
            f"budget_k={budget_k} k-points is less than the first pass ({n_shifts} shifts of "
            f"the {'x'.join(map(str, n))} starting mesh = {int(np.prod(n)) * n_shifts} "
            "k-points); raise budget_k (CLI --budget-k) or start from a smaller mesh")
    journal = None
    log: ChunkLog | None = None
    # the root seed actually used (drawn when not given) is returned: result.seed reruns it
    root = seed if seed is not None else int(np.random.default_rng().integers(2**63))
    if checkpoint is not None:
        if key is None:
            raise ParameterError("converge: a checkpoint needs the calculation's 'key'")
        # no budget in the key: budgets decide how far a run goes, not what its passes
        # compute (an adaptive pass stopped by its k budget is not replayed under another,
        # StepJournal.replay), so a run stopped by its budget goes on with a larger one
        run = dict(key, sampling=dict(method=method, **target_kw, mesh=n.tolist(),
                                      n_shifts=n_shifts, growth=growth, max_growth=max_growth,
                                      seed=seed, temperature=temperature, **adaptive_kw))
        journal = StepJournal.open(checkpoint, run, root)
        root = journal.entropy
        log = ChunkLog.open(f"{journal.path}.chunks", run, root, step=len(journal.steps))
    runner = ChunkRunner(workers, client, log)
    replayed_steps = 0
    rng = np.random.default_rng(root)
    t0 = time.perf_counter()
    steps = 0  # index of the next step in the journal

    def step(name: str, run_pass: Callable[..., SampledIntegral], **kw: Any) -> SampledIntegral:
        """One pass, replayed from the journal when it holds the same call (then the budget
        clock is moved back by the recorded time), else computed and recorded."""
        nonlocal t0, steps, replayed_steps
        index, steps = steps, steps + 1
        if journal is None or log is None:
            return run_pass(kernel, model, ef, temperature=temperature, workers=workers,
                            runner=runner, **kw)
        # an adaptive pass's k budget is not in its call: the journal replays the pass under
        # a larger budget when that budget did not stop it (the same result)
        call = json.dumps(dict({k: v for k, v in kw.items()
                                if k not in ("budget_seconds", "budget_k")},
                               pass_=name), sort_keys=True, default=_plain)
        saved = journal.replay(index, call, kw.get("budget_k"))
        if saved is not None:
            t0 -= float(saved["seconds"])  # type: ignore[arg-type]
            replayed_steps += 1
            return _from_json(saved["result"])  # type: ignore[arg-type]
        if log.step != index:
            log.restart(index)
        t = time.perf_counter()
        try:
            out = run_pass(kernel, model, ef, temperature=temperature, workers=workers,
                           runner=runner, **kw)
        except KeyboardInterrupt:
            raise KeyboardInterrupt(
                f"interrupted in step {index + 1}; checkpoint {journal.path} holds the {index} "
                f"completed steps and {log.path} the finished chunks of step {index + 1} "
                "(repeat the same call to resume)") from None
        journal.record(index, call, time.perf_counter() - t, _to_json(out), kw.get("budget_k"))
        log.restart(index + 1)
        return out

    total = 0
    history: list[dict] = []
    result: SampledIntegral | None = None
    best: SampledIntegral | None = None  # the estimate that used the most k-points so far
    ok = False
    last = (0, 0.0)  # (k-points, seconds) of the last step (set before room() is first used)

    def room() -> int:
        """k-points that fit in what is left of both budgets, at ``RATE_MARGIN`` × the rate of
        the last step (the largest so far: the small first steps carry fixed costs that larger
        passes do not pay per point), or the average so far if that step took no measurable
        time."""
        left = budget_k - total
        if budget_seconds is not None and total:
            spent = time.perf_counter() - t0
            points, seconds = last if last[1] > 0 else (total, spent)
            rate = RATE_MARGIN * points / max(seconds, 1e-9)
            left = min(left, int((budget_seconds - spent) * rate))
        return left

    while True:
        sub_seed = int(rng.integers(2**32))
        # after a dropped or skipped refinement the passes are plain randomized meshes: the
        # same lattice rule as an unrefined adaptive pass, without its per-cell sums (memory
        # and chunk logs of M × cells × columns)
        pass_ = ("randomized_mesh" if method == "adaptive" and adaptive_kw.get("iterations") == 0
                 else _PASSES[method])
        kept = None if journal is None else journal.stored_mesh(
            steps, pass_, sub_seed, budget_k - total if pass_ == "adaptive" else None)
        if kept is not None:
            n = np.array(kept)  # resumed under other budgets: the journal's pass, replayed
        elif result is not None:
            # the next base mesh is sized by the error so far, then cut to what the budgets
            # leave; it must use more k-points than the best estimate so far
            previous = n
            n = _fast_mesh(_next_mesh(n, result, goal, growth, max_growth, n_shifts),
                           above=previous)
            per_cell = n_shifts * _leaves(result, n_shifts)  # points per base cell
            fit = int(room() // per_cell)
            if np.prod(n) > fit:
                n = np.floor(n * (max(fit, 1) / np.prod(n)) ** (1.0 / len(n))).astype(int)
                n = _fast_mesh(n, down=True)
            if np.any(n < 1) or int(np.prod(n)) * per_cell <= _final_points(best):
                break
        start = time.perf_counter() - t0
        if pass_ == "randomized_mesh":
            result = step("randomized_mesh", randomized_mesh, mesh=tuple(n), n_shifts=n_shifts,
                          seed=sub_seed)
        elif method == "gaps":
            result = step("gap_refined", gap_refined, mesh=tuple(n), n_shifts=n_shifts,
                          seed=sub_seed, **adaptive_kw)
        else:
            secs = None if budget_seconds is None else budget_seconds - (time.perf_counter() - t0)
            result = step("adaptive", adaptive, mesh=tuple(n), n_shifts=n_shifts,
                          **target_kw, budget_k=budget_k - total,
                          budget_seconds=secs, seed=sub_seed, **adaptive_kw)
        total += result.n_k
        last = (result.n_k, time.perf_counter() - t0 - start)
        for h in result.history:
            history.append(dict(h, n_k=total - result.n_k + h["n_k"], seconds=start + h["seconds"]))
        ok = goal.worst(result.values, result.errors) <= 1.0
        if ok and result.confirmed is None:
            # the pass that decided to stop is not reported alone (a stopping rule on a noisy
            # error estimate favours estimates that missed a spike): M new shifts of a mesh
            # with ½–1 of its points (_confirming_mesh) are pooled with an unrefined pass (the
            # 2M estimates must meet tol), or M new shifts of the same mesh replace a refined
            # tree. Pooling also when the deciding pass was only within
            # 1.2 or √2 × tol (planned for half the points) lowered the coverage of ±2 errors
            # on the spiky BHZ integrand (tests/test_sampling.py) from 0.94 to 0.91 and 0.89
            # (300 runs of tol=0.05): the deciding pass must meet tol by itself.
            # a gap-refined pass is unbiased for its tree like an unrefined one for its mesh:
            # pooled with a gap-refined pass on a new pilot and new shifts of the *same* base
            # mesh. A coarser tree is no smaller sample of the same estimator: its leaf cap
            # binds on larger cells, and its error falls slower than N^(−1/2) with the base
            # mesh (1T′-WSe₂: one tree's error² × evaluations 578 from 40², 36 from 48²), so
            # a ½-size confirming tree ruled the pooled error (48²: 0.96 % → 1.4 %).
            gaps = method == "gaps"
            unrefined = set(result.refinement) <= {1} and not gaps
            pooled = unrefined or gaps  # a refined adaptive tree is replaced, not pooled
            n_conf = _confirming_mesh(result, goal) if unrefined else np.array(result.mesh)
            if int(np.prod(n_conf)) * n_shifts > room():
                result = dataclasses.replace(result, confirmed=False)
            else:
                start = time.perf_counter() - t0
                if gaps:
                    conf = step("gap_refined", gap_refined, mesh=tuple(n_conf),
                                n_shifts=n_shifts, seed=int(rng.integers(2**32)), **adaptive_kw)
                else:
                    conf = step("randomized_mesh", randomized_mesh, mesh=tuple(n_conf),
                                n_shifts=n_shifts, seed=int(rng.integers(2**32)))
                total += conf.n_k
                last = (conf.n_k, time.perf_counter() - t0 - start)
                if pooled:
                    conf = _pooled(result, conf)
                history.append(dict(conf.history[-1], n_k=total,
                                    seconds=start + conf.history[-1]["seconds"]))
                result = dataclasses.replace(conf, confirmed=True)
                ok = goal.worst(result.values, result.errors) <= 1.0
        if best is None or _final_points(result) >= _final_points(best):
            best = result
        if ok:
            break
        if any(h.get("note") in (DROPPED, SKIPPED) for h in result.history):
            adaptive_kw["iterations"] = 0  # the integrand is not local: finer base meshes only
        if budget_seconds is not None and time.perf_counter() - t0 > budget_seconds:
            break
    assert result is not None and best is not None
    if not ok:
        # out of budget: report the estimate built on the most k-points (a choice that does not
        # look at the values or errors, so it adds no selection bias), not merely the last one
        result = best
    if log is not None:
        log.discard()  # every pass is in the step journal
    resume = None if log is None else dict(steps_replayed=replayed_steps,
                                           chunks_replayed=log.replayed,
                                           chunks_computed=log.computed)
    result = dataclasses.replace(result, n_k=total, history=history, converged=bool(ok),
                                 seed=int(root), resume=resume, growth=(growth, max_growth))
    if ok and result.confirmed is False:
        warnings.warn(
            f"BZ integral reached {goal.describe()} on the pass that decided to stop; the confirmation "
            "pass on new shifts did not fit in the time budget (result.confirmed is False)",
            ConvergenceWarning, stacklevel=2)
    if not ok:
        cols = goal.columns(len(result.values))
        rel = np.max(result.errors[cols] / np.maximum(np.abs(result.values[cols]), 1e-300))
        warnings.warn(
            f"BZ integral not converged to {goal.describe()}: largest relative standard error "
            f"{rel:.2g} (largest error / target {goal.worst(result.values, result.errors):.2g})"
            f" after {total} k-points ({time.perf_counter() - t0:.0f} s, base mesh "
            f"{result.mesh}, k-point budget {budget_k}); raise the budgets (budget_k=, CLI "
            "--budget-k; budget=, CLI --budget) or loosen tol"
            + ("" if journal is None else
               f"; called again with larger budgets the run goes on from {journal.path}"),
            ConvergenceWarning, stacklevel=2)
    return result


def _plain_spec(x: TolSpec) -> float | list[float]:
    """A tolerance or floor as JSON: a float, or a list of floats (validated by Goal)."""
    if isinstance(x, (numbers.Real, np.generic)) or np.ndim(x) == 0:
        return float(x)  # type: ignore[arg-type]
    return [float(v) for v in x]  # type: ignore[union-attr]


def _plain(obj: object) -> JsonValue:
    """numpy scalars and arrays as JSON numbers and lists (floats round-trip exactly)."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot store {type(obj).__name__} in a step journal")


def _to_json(r: SampledIntegral) -> dict[str, JsonValue]:
    """A step's result for the journal (arrays as lists; loaded back by :func:`_from_json`)."""
    return json.loads(json.dumps(dataclasses.asdict(r), default=_plain))


def _from_json(d: dict[str, Any]) -> SampledIntegral:
    """The inverse of :func:`_to_json` (arrays, tuples and integer keys restored)."""
    def entry(h: dict[str, Any]) -> dict[str, Any]:
        h = dict(h)
        for name in ("values", "errors"):
            if name in h:
                h[name] = np.array(h[name], dtype=float)
        for name in ("mesh", "confirming_mesh"):
            if name in h:
                h[name] = tuple(h[name])
        return h

    return SampledIntegral(
        efermi=np.array(d["efermi"], dtype=float), values=np.array(d["values"], dtype=float),
        errors=np.array(d["errors"], dtype=float),
        samples=np.array(d["samples"], dtype=float).reshape(
            -1, len(d["efermi"]) * int(d.get("n_components", 1))),
        n_k=int(d["n_k"]), mesh=tuple(d["mesh"]), method=d["method"],
        history=[entry(h) for h in d["history"]], converged=d["converged"],
        refinement={int(s): int(c) for s, c in d["refinement"].items()},
        confirmed=d["confirmed"], n_components=int(d.get("n_components", 1)))


def _confirming_mesh(result: SampledIntegral, goal: Goal) -> IntArray:
    """Base mesh of the confirming pass pooled with an unrefined pass that met the tolerance.

    Pooled with equal weights, two passes of errors e_A (deciding) and e_B (confirming) give
    ½ √(e_A² + e_B²). The confirming pass is sized so that this is predicted (e_B at the
    N^(−1/2) rate) to be ≤ target/√2, what the same mesh gives when e_A just meets the target:
    N_B/N_A = r²/(2 − r²), r = e_A/target ≤ 1, at least ``MIN_CONFIRM`` = 1/2 (a coarser pass's
    heavy tail rules the pooled estimate: 1/4 lowered the coverage of the spiky BHZ test from
    0.93 to 0.88) and at most 1 (the same mesh), rounded up to an FFT length. A deciding pass
    that overshot the tolerance (the Bi₂Se₃ `_hr.dat` at tol = 0.05: 2.6 % on 50³) is then
    confirmed by half of its points instead of all of them.
    """
    n = np.array(result.mesh)
    r = min(goal.worst(result.values, result.errors), 1.0)
    q = min(max(r**2 / (2.0 - r**2), MIN_CONFIRM), 1.0)
    want = n * q ** (1.0 / len(n))
    out = np.array([next_fast_len(int(np.ceil(x - 1e-9))) for x in want])
    return np.minimum(np.maximum(out, 1), n)


def _pooled(a: SampledIntegral, b: SampledIntegral) -> SampledIntegral:
    """Two unrefined passes on independent shifts (the mesh of ``b`` may be coarser) as one
    estimate of M_a + M_b shifts with equal weights: unbiased, and the spread of the pooled
    estimates gives its error (the history entry of ``b`` with the pooled values, errors and
    points, and both meshes; the result keeps the mesh of ``a``)."""
    samples = np.concatenate([a.samples, b.samples])
    v, e = _stats(samples)
    nk = _final_points(a) + _final_points(b)
    hist = [dict(b.history[-1], n_k_final=nk, values=v, errors=e, pooled=True, mesh=a.mesh,
                 confirming_mesh=b.mesh)]
    refinement = {1: int(np.prod(a.mesh))}
    if a.method == "gaps":  # leaves of both trees, by subdivision
        refinement = {s: a.refinement.get(s, 0) + b.refinement.get(s, 0)
                      for s in sorted(set(a.refinement) | set(b.refinement))}
    return dataclasses.replace(b, values=v, errors=e, samples=samples, history=hist, mesh=a.mesh,
                               refinement=refinement)


def _final_points(result: SampledIntegral | None) -> int:
    """k-points behind a result's reported estimate (its last history entry)."""
    return 0 if result is None else int(result.history[-1]["n_k_final"])


# ---------------------------------------------------------------------- kernels
