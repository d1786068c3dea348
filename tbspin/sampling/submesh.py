"""The default error bar of a uniform-mesh run: the mesh's k-points as M randomly shifted
sub-meshes that tile it exactly, and the check that says when the estimate is not converged.

Sub-meshes (:func:`split_mesh`)
    Each wide direction i of a mesh n_1 × … × n_p (n_i > 1) is split into k_i parts as even as
    possible, n_i = Σ of k_i part sizes each ⌊n_i/k_i⌋ or ⌈n_i/k_i⌉ (21 = 10 + 11, 7 = 2 + 2 + 3);
    the M = ∏k_i sub-meshes ("members") are all combinations of one part per direction, so the
    member sizes sum to the mesh exactly, Σ_m ∏_i s_{m,i} = ∏_i n_i (the cost of the plain mesh,
    for every mesh). The rule for k is one for all dimensions: the same k on every wide
    direction, the smallest with k^d ≥ :data:`MIN_SUB` for d wide directions (3D 2·2·2 = 8, 2D
    3·3 = 9, 1D 8); a direction shorter than that k is split into single points and the others
    take more parts (among the k with M in [:data:`MIN_SUB`, :data:`MAX_SUB`], the most even
    max k_i / min k_i wins, then the fewest members); a mesh of fewer than MIN_SUB points has
    one member per point, and directions with n_i = 1 (slabs) stay one point. A 21³ mesh is
    the 8 members (10|11)×(10|11)×(10|11), an even 3D mesh 8 members of (n/2)³ as before.
Unbiased estimate and error
    Member m is a full-zone uniform grid of its size s_m with its own uniformly random shift
    u_m ∈ [0, 1)^p (in units of its step): every point is uniform in its cell, so its total
    Q_m is an *unbiased* estimate of the integral I (one randomized lattice rule, as in
    :mod:`tbspin.sampling`), and the M totals are independent. The estimate is their
    equal-weight mean Q̄ = Σ Q_m / M, unbiased, with Var Q̄ = Σ σ_m² / M². The members' variances
    σ_m² differ (their sizes differ by at most a factor (⌈⌉/⌊⌋)^p: 1.33 for 21³), but the
    sample variance S² = Σ (Q_m − Q̄)² / (M − 1) still has E[S²] = Σ σ_m² / M (expand
    Σ (Q_m − Q̄)² = Σ (Q_m − I)² − M (Q̄ − I)², whose mean is Σ σ_m² − Σ σ_m² / M), so S²/M is an
    unbiased estimate of Var Q̄ whatever the σ_m. value ± error = Q̄ ± Student-t standard error
    (:func:`tbspin.sampling.rules._stats`, the rule of ``tol`` runs; the t quantile is exact for
    Gaussian totals of equal variance and close for variances this similar).
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

import dataclasses
import itertools
import math
import time
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from tbspin.bands.gauge_tally import GaugeRun
from tbspin.bz.kmesh import Mesh
from tbspin.engine.family import integrate_family
from tbspin.engine.integrate import default_chunk_size
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.sampling.rules import Kernel, SampledIntegral, _stats, components
from tbspin.types import FloatArray

__all__ = ["MIN_SUB", "MAX_SUB", "REL_WARN", "ABS_QUIET", "OUTLIER_ALPHA", "Split", "split_mesh",
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


@dataclasses.dataclass(frozen=True)
class Split:
    """The members of a mesh's default error bar (:func:`split_mesh`, module docstring).

    Attributes
    ----------
    n : tuple of int
        The requested mesh.
    parts : tuple of tuple of int
        Per direction, the part sizes (ascending; they sum to n_i).
    """

    n: tuple[int, ...]
    parts: tuple[tuple[int, ...], ...]

    @property
    def sizes(self) -> tuple[tuple[int, ...], ...]:
        """The M member sizes: every combination of one part per direction (C order)."""
        return tuple(itertools.product(*self.parts))

    @property
    def n_sub(self) -> int:
        """M, the number of members."""
        return math.prod(len(p) for p in self.parts)

    @property
    def n_k(self) -> int:
        """k-points of all members: ∏ n_i, the plain mesh's."""
        return sum(math.prod(s) for s in self.sizes)

    def label(self) -> str:
        """"4x4" when all members have one size, else the parts per direction, "(10+11)x…"."""
        if all(len(set(p)) == 1 for p in self.parts):
            return "x".join(str(p[0]) for p in self.parts)
        return "x".join(str(p[0]) if len(set(p)) == 1 else "(" + "+".join(map(str, p)) + ")"
                        for p in self.parts)


def _parts(n: int, k: int) -> tuple[int, ...]:
    """n as k sizes ⌊n/k⌋ or ⌈n/k⌉, ascending."""
    q, r = divmod(n, k)
    return (q,) * (k - r) + (q + 1,) * r


def split_mesh(n: tuple[int, ...]) -> Split:
    """The members of mesh ``n``: sub-meshes that tile it exactly (module docstring).

    Parameters
    ----------
    n : tuple of int
        Points per periodic direction of the requested mesh (each ≥ 1, ∏n ≥ 2).

    Returns
    -------
    Split
        ``parts`` per direction; ``sizes`` the M member sizes, Σ ∏ sizes = ∏ n.

    Raises
    ------
    ParameterError
        For a mesh of a single k-point (no spread to estimate an error from) or a size < 1.
    """
    n = tuple(int(x) for x in n)
    if any(x < 1 for x in n):
        raise ParameterError(f"mesh sizes must be ≥ 1, got {n}")
    total = math.prod(n)
    if total < 2:
        raise ParameterError(
            f"a mesh of {total} k-point cannot carry an error estimate; give a larger mesh or "
            "errors=False (CLI --no-errors)")
    if total < MIN_SUB:
        return Split(n, tuple((1,) * x for x in n))
    wide = [i for i, x in enumerate(n) if x > 1]
    best: tuple[float, int, tuple[int, ...]] | None = None
    for ks in itertools.product(*(range(1, min(n[i], MAX_SUB) + 1) for i in wide)):
        m = math.prod(ks)
        if MIN_SUB <= m <= MAX_SUB:
            key = (max(ks) / min(ks), m, tuple(-x for x in ks))
            if best is None or key < best:
                best = key
    assert best is not None  # ∏n ≥ MIN_SUB: some k_i ≤ n_i has MIN_SUB ≤ ∏k ≤ MAX_SUB
    k = dict(zip(wide, (-x for x in best[2]), strict=True))
    return Split(n, tuple(_parts(x, k.get(i, 1)) for i, x in enumerate(n)))


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


@GaugeRun.wrap
def submesh_integral(
    model: LatticeModel, kernel: Kernel, n: tuple[int, ...], efermi: FloatArray,
    temperature: float, *, seed: int | None, chunk_size: int | None, method: str = "kubo",
    label: str = "", **run_kw: Any,
) -> SampledIntegral:
    """The integral over the k-points of mesh ``n`` as M randomly shifted sub-meshes that tile
    it (:func:`split_mesh`), all in one engine run (:func:`tbspin.engine.family.integrate_family`:
    one FFT table, the plane sums of all shifts of a size in one product, chunks, any backend);
    each sub-mesh's sum is that of its own uniform-mesh run to rounding.

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
        k-points per chunk (None: the engine's default for the largest member).
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
        ``method`` "sub-meshes", ``values``/``errors``/``samples`` flat (nE·C,), E_F-major (one
        sample row per member, the equal-weight mean and its Student-t error), ``mesh`` the
        requested mesh, ``n_k`` = ∏ n, ``seed`` the root seed, ``history`` one entry with the
        shifts, the member sizes (``sub_meshes``), the parts per direction (``parts``) and a
        label (``sub_mesh``: "10x10x10", or "(10+11)x(10+11)x(10+11)" for sizes that differ).
    """
    split = split_mesh(tuple(int(x) for x in n))
    m, sizes = split.n_sub, split.sizes
    root = int(np.random.default_rng().integers(2**63)) if seed is None else int(seed)
    shifts = draw_shifts(root, m, len(split.n))
    t0 = time.perf_counter()
    big = max(sizes, key=math.prod)
    mesh = Mesh(n=big, shift=(0.0,) * len(big))
    size = default_chunk_size(model, method, mesh=mesh) if chunk_size is None else chunk_size
    raw, info = integrate_family(model, kernel, sizes, shifts, efermi, temperature,
                                 chunk_size=size, label=label, **run_kw)
    samples = raw.reshape(m, -1)
    fft = m * int(info["fft"])
    values, errors = _stats(samples)
    nk = split.n_k
    hist = [dict(n_k=nk, n_k_final=nk, mesh=split.n, refined_cells=0, max_factor=1,
                 values=values, errors=errors, seconds=time.perf_counter() - t0,
                 shifts=shifts.tolist(), sub_meshes=[list(s) for s in sizes],
                 parts=[list(p) for p in split.parts], sub_mesh=split.label(),
                 fft_sub_meshes=fft)]
    return SampledIntegral(efermi=efermi, values=values, errors=errors, samples=samples, n_k=nk,
                           mesh=split.n, method="sub-meshes", history=hist,
                           refinement={1: nk}, n_components=components(kernel), seed=root)
