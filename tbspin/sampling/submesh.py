"""The default error bar of a uniform-mesh run: the mesh's k-points as M randomly shifted
sub-meshes, and the check that says when the estimate is not converged.

Sub-meshes (:func:`split_mesh`)
    A mesh n_1 × … × n_p (N points) is evaluated as M uniform sub-meshes s_1 × … × s_p with
    M between :data:`MIN_SUB` and :data:`MAX_SUB` and M·∏s_i as close to N as the integers
    allow (exact whenever the n_i allow it: a 3D mesh of even n is M = 8 sub-meshes of (n/2)³,
    a 2D mesh of n divisible by 4 is M = 16 of (n/4)², a 1D mesh of n = 8m is M = 8 of m). Among
    the splits within 1 % of the best match the most isotropic sub-mesh wins, then the fewest
    sub-meshes (each sub-mesh as large as possible). Each sub-mesh has its own uniformly random
    shift u_m ∈ [0, 1)^p (in units of its step): every point is uniform in its cell, so each
    sub-mesh total is an *unbiased* estimate of the integral (the randomized lattice rule of
    :mod:`tbspin.sampling`), and value ± error = mean ± Student-t standard error of the M
    estimates (:func:`tbspin.sampling.rules._stats`, the rule of ``tol`` runs). The cost is the
    plain mesh's: the same number of k-points through the same engine.
Not converged (:func:`unconverged`)
    A :class:`~tbspin.errors.ConvergenceWarning` is due when at some Fermi energy the error
    exceeds :data:`REL_WARN` (10 %) of the largest |value| of its components (and the
    round-off floor :data:`ABS_QUIET`), or when one sub-mesh lies far from the others: its
    leave-one-out Student statistic |x_m − mean_{−m}| / (s_{−m} √(1 + 1/(M−1))), t-distributed
    with M − 2 degrees of freedom for Gaussian estimates, exceeds the Bonferroni bound of a
    :data:`OUTLIER_ALPHA` (1 %) false-alarm rate over all M shifts and columns (a heavy tail: a
    spike that one shift happened to hit, which M estimates rarely show).
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from tbspin.bz.kmesh import Mesh
from tbspin.engine.family import integrate_family
from tbspin.engine.integrate import default_chunk_size
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.sampling.rules import Kernel, SampledIntegral, _stats, components
from tbspin.types import FloatArray

__all__ = ["MIN_SUB", "MAX_SUB", "REL_WARN", "ABS_QUIET", "OUTLIER_ALPHA", "split_mesh",
           "draw_shifts", "unconverged", "submesh_integral"]

#: fewest sub-meshes of the default error estimate (t_{0.975, 7}/1.96 = 1.21 at M = 8)
MIN_SUB = 8
#: most sub-meshes of the default error estimate
MAX_SUB = 16
#: relative standard error above which a result is reported as not converged
REL_WARN = 0.10
#: errors below this (the canonical BZ integral, Å^(2−p)) are round-off: never a warning
ABS_QUIET = 1e-9
#: false-alarm rate of the one-shift-far-from-the-others test (Gaussian estimates)
OUTLIER_ALPHA = 0.01


def split_mesh(n: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """M and the sub-mesh s of a mesh n: M·∏s_i ≈ ∏n_i (module docstring).

    Parameters
    ----------
    n : tuple of int
        Points per periodic direction of the requested mesh (each ≥ 1, ∏n ≥ 2).

    Returns
    -------
    (M, s)
        M randomly shifted sub-meshes of s_1 × … × s_p points.

    Raises
    ------
    ParameterError
        For a mesh of a single k-point (no spread to estimate an error from).
    """
    total = int(np.prod(n)) if n else 1
    if total < 2:
        raise ParameterError(
            f"a mesh of {total} k-point cannot carry an error estimate; give a larger mesh or "
            "errors=False (CLI --no-errors)")
    if total < MIN_SUB:
        return total, (1,) * len(n)
    wide = [i for i, x in enumerate(n) if x > 1]
    cands: list[tuple[float, float, int, tuple[int, ...]]] = []
    for m in range(MIN_SUB, MAX_SUB + 1):
        c = m ** (1.0 / len(wide))
        opts = [sorted({max(1, math.floor(x / c)), max(1, min(x, math.ceil(x / c)))})
                if i in wide else [1] for i, x in enumerate(n)]
        for s in itertools.product(*opts):
            ratio = [x / y for x, y in zip(n, s, strict=True) if x > 1]
            cands.append((abs(m * math.prod(s) - total) / total, max(ratio) / min(ratio), m, s))
    best = min(c[0] for c in cands)
    _, _, m, s = min((c for c in cands if c[0] <= best + 0.01), key=lambda c: (c[1], c[2], c[0]))
    return m, tuple(int(x) for x in s)


def draw_shifts(seed: int, m: int, p: int) -> FloatArray:
    """The M random shifts (units of the sub-mesh step) of root seed ``seed``: (M, p)."""
    return np.random.default_rng(seed).random((m, p))


def unconverged(samples: FloatArray, values: FloatArray, errors: FloatArray,
                groups: int = 1) -> list[str]:
    """Why an estimate from M sub-meshes is not converged (empty: no reason found).

    Parameters
    ----------
    samples : (M, n) array
        The M sub-mesh estimates of n columns (E_F-major, ``groups`` components per E_F).
    values, errors : (n,) arrays
        Their mean and standard error.
    groups : int
        Components per Fermi energy: the relative error is taken against the largest |value|
        of the components at its E_F (components that vanish by symmetry raise no alarm).

    Returns
    -------
    list of str
        "relative error ..." and/or "one shift far from the others ..." (module docstring).
    """
    reasons = []
    scale = np.repeat(np.abs(values).reshape(-1, groups).max(axis=1), groups)
    loud = errors > np.maximum(REL_WARN * scale, ABS_QUIET)
    if loud.any():
        k = int(np.argmax(np.where(loud, errors / np.maximum(scale, 1e-300), -np.inf)))
        rel = errors[k] / scale[k] if scale[k] > 0 else np.inf
        reasons.append(f"relative standard error {rel:.2g} > {REL_WARN:g}")
    m = samples.shape[0]
    if m >= 4:
        idx = np.arange(m)
        others = np.stack([samples[idx != i] for i in idx])  # (M, M-1, n)
        dev = np.abs(samples - others.mean(axis=1))
        spread = others.std(axis=1, ddof=1) * np.sqrt(1.0 + 1.0 / (m - 1))
        z = dev / np.maximum(spread, 1e-300)
        bound = float(student_t.ppf(1.0 - OUTLIER_ALPHA / (2 * m * samples.shape[1]), m - 2))
        far = (z > bound) & (dev > ABS_QUIET)
        if far.any():
            i, col = np.unravel_index(int(np.argmax(np.where(far, z, -np.inf))), z.shape)
            reasons.append(f"one shift far from the others (shift {i}: {z[i, col]:.1f} spreads "
                           f"of the other {m - 1} from their mean, bound {bound:.1f})")
    return reasons


def submesh_integral(
    model: LatticeModel, kernel: Kernel, n: tuple[int, ...], efermi: FloatArray,
    temperature: float, *, seed: int | None, chunk_size: int | None, method: str = "kubo",
    label: str = "", **run_kw: Any,
) -> SampledIntegral:
    """The integral over the k-points of mesh ``n`` as M randomly shifted sub-meshes
    (:func:`split_mesh`), all in one engine run (:func:`tbspin.engine.family.integrate_family`:
    one FFT table and the plane sums of all shifts in one product, chunks, any backend); each
    sub-mesh's sum is that of its own uniform-mesh run to rounding.

    Parameters
    ----------
    model, kernel
        As for :func:`tbspin.engine.integrate.integrate`.
    n : tuple of int
        The requested mesh (points per periodic direction).
    efermi : (nE,) eV
    temperature : float (K)
    seed : int or None
        Root seed of the shifts (drawn when None; the one used is ``result.seed``).
    chunk_size : int or None
        k-points per chunk (None: the engine's default for the sub-mesh size).
    method : str
        Connection method (sizes the default chunks).
    label : str
        Progress-bar label (one bar over the chunks of all sub-meshes).
    **run_kw
        ``progress``, ``executor``, ``workers``, ``backend``, ``client``, ``fft`` of
        :func:`tbspin.engine.family.integrate_family`.

    Returns
    -------
    SampledIntegral
        ``method`` "sub-meshes", ``values``/``errors``/``samples`` flat (nE·C,), E_F-major,
        ``mesh`` the sub-mesh s, ``seed`` the root seed, ``history`` one entry with the shifts.
    """
    m, s = split_mesh(tuple(int(x) for x in n))
    root = int(np.random.default_rng().integers(2**63)) if seed is None else int(seed)
    shifts = draw_shifts(root, m, len(s))
    t0 = time.perf_counter()
    mesh = Mesh(n=s, shift=(0.0,) * len(s))
    size = default_chunk_size(model, method, mesh=mesh) if chunk_size is None else chunk_size
    raw, info = integrate_family(model, kernel, s, shifts, efermi, temperature, chunk_size=size,
                                 label=label, **run_kw)
    samples = raw.reshape(m, -1)
    fft = m * int(info["fft"])
    values, errors = _stats(samples)
    nk = m * int(np.prod(s))
    hist = [dict(n_k=nk, n_k_final=nk, mesh=s, refined_cells=0, max_factor=1, values=values,
                 errors=errors, seconds=time.perf_counter() - t0, shifts=shifts.tolist(),
                 fft_sub_meshes=fft)]
    return SampledIntegral(efermi=efermi, values=values, errors=errors, samples=samples, n_k=nk,
                           mesh=s, method="sub-meshes", history=hist, refinement={1: nk // m},
                           n_components=components(kernel), seed=root)
