"""Options that must act or be refused: the checks the public conductivity functions share.

Every keyword of :func:`tbspin.anomalous_hall` and :func:`tbspin.spin_hall` either changes the
result or is refused with a :class:`~tbspin.errors.ParameterError` naming it:

* ``tol`` is a relative standard error, 0 < tol < 1, or one per component (``tol=5`` used
  to be accepted and did nothing useful);
* ``budget`` (seconds) and ``budget_k`` (k-points) only act in a ``tol`` run; without ``tol``
  they are refused, and so is an explicit ``shift`` with ``tol`` (its meshes are randomly
  shifted); ``refine_gap`` (eV) samples gap-refined meshes in a ``tol`` run, and without
  ``tol`` makes the run one gap-refined pass of ``mesh`` (:data:`GAP_PASS_SHIFTS` random
  shifts of one tree, their spread the error bar), so it is refused with ``errors=False``
  or an explicit ``shift``;
* ``errors`` (default True): a run without ``tol`` splits the mesh's k-points into randomly
  shifted sub-meshes for an error bar (:mod:`tbspin.sampling.submesh`); ``seed`` (its shifts)
  acts there and is refused with ``errors=False`` and no ``tol``; an explicit ``shift`` fixes
  one plain mesh and needs ``errors=False``;
* ``mesh`` may be omitted in a ``tol`` run: the starting base mesh is then
  :data:`DEFAULT_TOL_MESH` points per periodic direction (the convergence loop enlarges it as
  the error requires); without ``tol`` it is required;
* ``eta`` (the Kubo broadening) only exists in the conventional formula; ``eta != 0`` with
  ``formula="proper"`` or ``"smm_omega"`` is refused.

A uniform mesh of more than :data:`ESTIMATE_ABOVE_K` k-points gets its run time estimated by
timing the integrand on a small batch; above :data:`LONG_RUN_SECONDS` a
:class:`~tbspin.errors.LongRunWarning` says how long it will take and how to shorten it.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from typing import TYPE_CHECKING

from tbspin.errors import LongRunWarning, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from tbspin.bands.integrands import BandKernel, Integrand
    from tbspin.bz.kmesh import Mesh
    from tbspin.sampling.targets import TolSpec
    from tbspin.types import MeshSpec, ShiftSpec

__all__ = ["DEFAULT_TOL_MESH", "DEFAULT_BUDGET_K", "ESTIMATE_ABOVE_K", "LONG_RUN_SECONDS",
           "check_sampling", "check_eta", "estimate_seconds", "warn_long_run"]

#: Starting base mesh (points per periodic direction) of a ``tol`` run given no ``mesh``.
DEFAULT_TOL_MESH = 8
#: Largest number of k-point evaluations of a ``tol`` run unless ``budget_k`` says otherwise.
DEFAULT_BUDGET_K = 20_000_000
#: Uniform meshes above this many k-points get their run time estimated.
ESTIMATE_ABOVE_K = 2_000_000
#: Estimated run times above this (seconds) are announced with a LongRunWarning.
LONG_RUN_SECONDS = 3600.0
#: k-points timed for the estimate.
PROBE_K = 64


#: random shifts of the one gap-refined pass that ``refine_gap`` without ``tol`` asks for (as
#: many as a ``tol`` pass: tbspin.sampling.rules)
GAP_PASS_SHIFTS = 16


def _check_gap(refine_gap: float | None) -> None:
    if refine_gap is not None and (isinstance(refine_gap, bool)
                                   or not isinstance(refine_gap, numbers.Real)
                                   or not math.isfinite(refine_gap) or refine_gap <= 0):
        raise ParameterError(f"'refine_gap' must be a positive energy (eV), got {refine_gap!r}")


def check_sampling(
    *, tol: TolSpec | None, mesh: MeshSpec | None, shift: ShiftSpec | None,
    budget: float | None, budget_k: int | None, seed: int | None, errors: bool = True,
    refine_gap: float | None = None,
) -> tuple[MeshSpec, int]:
    """Validate the sampling keywords together (module docstring).

    Returns
    -------
    (mesh, budget_k)
        The mesh to use (:data:`DEFAULT_TOL_MESH` for a ``tol`` run without one) and the
        k-point budget (:data:`DEFAULT_BUDGET_K` unless given).

    Raises
    ------
    ParameterError
        Naming the keyword that cannot act and what to do instead.
    """
    _check_gap(refine_gap)
    if tol is None:
        if refine_gap is not None and (not errors or shift is not None):
            raise ParameterError(
                "'refine_gap' without 'tol' is one gap-refined pass: random shifts of a fixed "
                "tree, whose spread is the error bar; drop "
                + ("errors=False" if not errors else "shift") + " or drop refine_gap")
        for name, value, what in (("budget", budget, "wall-time budget (s)"),
                                  ("budget_k", budget_k, "k-point budget")):
            if value is not None:
                raise ParameterError(
                    f"'{name}' is the {what} of a converged run and has no effect without "
                    f"'tol'; give tol= (e.g. tol=0.02) or drop {name}")
        if seed is not None and not errors:
            raise ParameterError(
                "'seed' is the seed of the random shifts of an error estimate and has no "
                "effect with errors=False and no 'tol'; drop seed, or drop errors=False")
        if errors and shift is not None:
            raise ParameterError(
                "'shift' fixes one plain mesh, but the default error estimate uses randomly "
                "shifted sub-meshes: give errors=False with shift (CLI --no-errors), or drop "
                "shift")
        if mesh is None:
            raise ParameterError("'mesh' is required (points per periodic direction, e.g. "
                                 "mesh=40), unless 'tol' asks for a converged run")
        _check_seed(seed)
        return mesh, DEFAULT_BUDGET_K
    if not errors:
        raise ParameterError("errors=False asks for a plain mesh without an error bar, but a "
                             "'tol' run is its error bar; drop one of them")
    # the values of tol (range, one per component) are checked by sampling.targets.Goal.build,
    # which the engine glue calls once with the run's number of components
    if shift is not None:
        raise ParameterError(
            "'shift' has no effect with 'tol': a converged run uses randomly shifted meshes "
            "(recorded with their seed); drop shift, or drop tol for one shifted mesh")
    if budget_k is None:
        budget_k = DEFAULT_BUDGET_K
    elif isinstance(budget_k, bool) or not isinstance(budget_k, numbers.Integral) or budget_k < 1:
        raise ParameterError(f"'budget_k' must be a positive integer (k-points), got {budget_k!r}")
    _check_seed(seed)
    return (DEFAULT_TOL_MESH if mesh is None else mesh), int(budget_k)


def _check_seed(seed: int | None) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise ParameterError(f"'seed' must be a non-negative integer, got {seed!r}")


def check_eta(eta: float, formula: str, *, cli: bool = False) -> None:
    """``eta`` acts only in the conventional Kubo formula: refuse ``eta != 0`` elsewhere
    (``cli``: the message names the command-line options)."""
    if formula != "conventional" and eta != 0:
        eta_name, given, fix = (("--eta", f"--formula {formula}", "--formula conventional")
                                if cli else ("'eta'", f"formula={formula!r}",
                                             "formula='conventional'"))
        raise ParameterError(
            f"{eta_name} is the broadening of the conventional Kubo formula and has no effect "
            f"with {given}; drop it or use {fix}")


def estimate_seconds(integrand: Integrand | BandKernel, mesh: Mesh, workers: int | None = None) -> float:
    """Rough wall time (s) of integrating ``integrand`` on ``mesh``: the time of one batch of
    :data:`PROBE_K` mesh points, scaled to the mesh and divided by the workers."""
    from tbspin.engine.executor import default_workers

    k = mesh.cartesian(integrand.model, 0, min(PROBE_K, mesh.size))
    integrand(k[:2])  # warm up caches (Bloch sums)
    t = time.perf_counter()
    integrand(k)
    per_k = (time.perf_counter() - t) / len(k)
    n_workers = workers if workers is not None else default_workers()
    return per_k * mesh.size / max(1, min(int(n_workers), mesh.size))


def warn_long_run(integrand: Integrand | BandKernel, mesh: Mesh, workers: int | None = None,
                  *, stacklevel: int = 3) -> float | None:
    """Estimate the run time of a large uniform mesh and warn above :data:`LONG_RUN_SECONDS`.

    Returns the estimate (s), or None when the mesh is too small to bother."""
    if mesh.size <= ESTIMATE_ABOVE_K:
        return None
    secs = estimate_seconds(integrand, mesh, workers)
    if secs > LONG_RUN_SECONDS:
        n = "x".join(map(str, mesh.n))
        warnings.warn(
            f"mesh {n} has {mesh.size:.3g} k-points: this run will take about {_human(secs)} "
            f"(timed on {min(PROBE_K, mesh.size)} k-points). Use a smaller mesh, or tol= (CLI "
            "--tol) to stop at a target error; with checkpoint= (CLI --checkpoint) an "
            "interrupted run resumes", LongRunWarning, stacklevel=stacklevel)
    return secs


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
