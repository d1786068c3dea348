"""Gap-refined randomized meshes: subdivide the cells where two bands with occupied weight come
close, decided by a pilot look at the band energies alone (:mod:`tbspin.sampling`).

Why. Integrands built from interband Berry connections carry 1/(ε_m − ε_n)² between the bands
of a pair. For the Berry curvature the occupied–occupied pairs cancel, so only gaps across E_F
matter; the *proper* spin current weights them by s_nn − s_mm and they do not (Liu, Cullen &
Culcer, PRB 108, 195434 (2023), the sum over n ≠ m). Near an avoided crossing of two occupied
bands, with gap Δ and relative velocity v, the pair contributes a peak of height ~ v²/Δ² over a
region of size ~ Δ/v: a finite integral, but uniform meshes and random points miss or hit it by
chance, and the estimate has a heavy tail (measured on the symmetrized 1T′-WSe₂ fit: the top
1 % of random k-points carry 96 % of Σx², tail exponent 1.6, i.e. infinite variance;
``benchmarks/bench_proper_tail.py``). Variance-driven refinement only refines the peaks a sample
has already hit (``benchmarks/bench_gap_predictor.py``).

What. The peaks sit where a gap is small, and band energies alone (one ``eigvalsh``, no
eigenvectors, no connection) find the gaps. :func:`gap_tree` starts from the cells of the base
mesh n and, level by level, evaluates the smallest gap g of every cell at one random point of it
(a pilot shift of its own per level, independent of everything that follows) and splits the
cells with g < gap/f^l into f^d children (level l = 0, 1, …, ``levels`` − 1): the threshold shrinks
with the cell, so that a crossing is followed down to cells that resolve its peak (the gap
changes by ~v·h across a cell of size h). :func:`gap_refined` then evaluates the integrand on the
leaves of that fixed tree with M random shifts, one point per leaf and shift, exactly like the M
shifted meshes of :func:`tbspin.sampling.rules.randomized_mesh`: each shift gives an unbiased
estimate (the tree was chosen before, by other random points), the M estimates are independent,
and value ± error is their mean ± standard error — an honest error bar however the tree looks.

A second kind of peak (measured on 1T′-WSe₂, benchmarks/README.md): where the *gauge operator*
G that fixes the basis inside a degenerate (Kramers) block barely splits that block, its
eigenbasis turns fast with k and the proper integrand, which depends on that basis, has a peak of
height ~1/δg^1.6 over a region far smaller than a cell, at gaps of tens of meV that the gap
criterion does not flag. A random pilot point almost never lands in such a region, so for
gauge-dependent kernels (the proper and s_mm Ω terms; a gauge operator in their settings) the
pilot bounds, from below over the whole cell and to first order, both the gap and the splitting
δg = |g_{n+1} − g_n|/‖G‖ inside every occupied block: value − Σ_i h_i |b_i·∇value| (h_i the
cell's reduced size, b_i the reciprocal vectors; ∇ε_n the diagonal velocity, ∇g_n = 2 Re
Σ_{m∉block} G_nm ∂H_mn/(ε_n − ε_m), first-order degenerate perturbation theory in the
gauge-fixed basis). A cell is split where the gap bound falls below gap/f^l or the splitting
bound below ``gauge_split``/f^l. One eigh and the sandwiches of G and ∂H per pilot point; the
pilot stays independent of the samples, so the error bars stay honest. Over coarse 3D cells the
first-order bounds fall below the thresholds nearly everywhere, so this pilot creates at most
``MAX_LEAVES`` leaves per base cell, splitting the cells closest to their thresholds first.
Gauge-invariant kernels (AHC, conventional spin Hall) keep the plain eigvalsh pilot.

The gap of a point: the smallest ε_{n+1} − ε_n over consecutive bands with ε_n below the highest
Fermi energy (+ 10 k_B T), skipping differences below the kernel's block tolerance (Kramers
partners and other bands the integrand treats as one degenerate block: they carry no 1/Δ²).
In an insulator this is a gap between occupied bands (the one across E_F is the band gap); in a
metal the pairs that straddle E_F count too.

Measured on the materials table's proper headlines (``benchmarks/bench_gap_tree.py``, benchmarks/README.md).
"""

from __future__ import annotations

import time

import numpy as np

from tbspin.bands.eigen import solve
from tbspin.bands.gauge_tally import GaugeRun
from tbspin.bands.settings import ConnectionSettings, positive_number
from tbspin.bz.spectrum import band_energies
from tbspin.engine.chunk_log import ChunkRunner
from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.sampling.rules import (
    Kernel,
    SampledIntegral,
    _efermi,
    _evaluate_tree,
    _grid,
    _mesh,
    _stats,
    components,
)
from tbspin.types import ArrayLike, ComplexArray, FloatArray, MeshSpec
from tbspin.units import KB_EV

__all__ = ["GapTree", "gap_refined", "gap_tree", "smallest_gaps", "pilot_bounds",
           "gauge_operators", "GAUGE_SPLIT", "MAX_LEAVES"]

PILOT_CHUNK = 2048  #: k-points per band-energy batch of the pilot (H(k) of a 48-orbital fit: 75 MB)
GAUGE_CHUNK = 256  #: k-points per batch of the gauge pilot (H, ∂H and eigenvectors)
#: level-0 threshold of the gauge criterion, as a share of ‖G‖ (1T′-WSe₂ from an 80² base:
#: benchmarks/README.md, eighteenth session)
GAUGE_SPLIT = 0.1
#: leaves per base cell the cell-bounded pilot may create: first-order bounds over coarse 3D
#: cells fall below the thresholds nearly everywhere (symmetrized Bi₂Se₃ from 12³: 63× after
#: two levels; a 4³ base with six levels would ask for 8⁶×); 1T′-WSe₂ from 80² needs 11–13×
MAX_LEAVES = 16

GaugeOp = tuple[ComplexArray, float, float]  # (G, degen_tol, gauge_tol)


def smallest_gaps(model: LatticeModel, k: FloatArray, e_top: float, block_tol: float
                  ) -> FloatArray:
    """Per point: the smallest ε_{n+1} − ε_n (eV) over consecutive bands with ε_n < ``e_top``
    and ε_{n+1} − ε_n > ``block_tol`` (inf where there is none); ``k`` Cartesian (Nk, dim)."""
    out = np.empty(len(k))
    for s in range(0, len(k), PILOT_CHUNK):
        E = band_energies(model, k[s:s + PILOT_CHUNK])
        d = np.diff(E, axis=1)
        out[s:s + PILOT_CHUNK] = np.min(
            np.where((E[:, :-1] < e_top) & (d > block_tol), d, np.inf), axis=1)
    return out


def gauge_operators(kernel: Kernel) -> list[GaugeOp]:
    """The gauge operators a kernel's value depends on: (G, degen_tol, gauge_tol) of every term
    that weights bands by a gauge-fixed ⟨u_n|s|u_n⟩ (the proper and s_mm Ω spin terms); [] for
    gauge-invariant kernels (AHC, conventional) and plain callables."""
    kern = getattr(kernel, "kernel", kernel)  # an Integrand's one-term BandKernel
    ops: dict[int, GaugeOp] = {}
    for term in getattr(kern, "terms", ()):
        for entry in getattr(term, "spins", ()):
            # gauge-dependent terms carry (operator, settings with its gauge) per spin slot;
            # the conventional term carries bare operators (no gauge: a trace over blocks)
            st = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else None
            if isinstance(st, ConnectionSettings) and st.gauge is not None:
                ops.setdefault(id(st), (np.asarray(st.gauge, dtype=np.complex128),
                                        float(st.degen_tol), float(st.gauge_tol)))
    return list(ops.values())


def pilot_bounds(model: LatticeModel, kred: FloatArray, size: FloatArray, e_top: float,
                 block_tol: float, ops: list[GaugeOp]) -> tuple[FloatArray, FloatArray]:
    """Per point, first-order lower bounds over the cell [kred − size, kred + size] (reduced
    coordinates) of (1) the smallest gap ε_{n+1} − ε_n (eV) between consecutive bands with
    ε_n < ``e_top`` and a gap above ``block_tol`` and (2) the smallest splitting δg/‖G‖ of a
    gauge operator inside a degenerate block of bands below ``e_top``, minimized over ``ops``
    (module docstring); inf where there is none. A value minus Σ_i h_i |∂_i value| with
    ∂_i = b_i·∇: the gap's from the diagonal velocities, δg's from first-order degenerate
    perturbation theory."""
    b = np.asarray(model.reciprocal)[list(model.periodic)]
    gaps = np.full(len(kred), np.inf)
    splits = np.full(len(kred), np.inf)
    dirs = tuple(range(model.dim))
    for s in range(0, len(kred), GAUGE_CHUNK):
        sl = slice(s, s + GAUGE_CHUNK)
        H, dH = model.hamiltonian_and_derivatives(kred[sl] @ b, dirs)
        dHr = np.einsum("ia,aknm->iknm", b, dH)  # ∂H/∂(reduced k_i) = b_i·∇H
        E, U0 = np.linalg.eigh(H)
        h = size[sl]
        below = E[:, :-1] < e_top
        d = np.diff(E, axis=1)
        slope = sum(h[:, i:i + 1] * np.abs(np.diff(np.real(np.einsum(
            "kni,knm,kmi->ki", U0.conj(), dHr[i], U0)), axis=1)) for i in range(len(b)))
        gaps[sl] = np.min(np.where(below & (d > block_tol), d - slope, np.inf), axis=1)
        for G, degen_tol, gauge_tol in ops:
            es = solve(H, G, degen_tol=degen_tol, gauge_tol=gauge_tol, warn=False,
                       eigh=(E, U0))
            same = (es.block[:, 1:] == es.block[:, :-1]) & below
            if not same.any():
                continue
            U = es.vectors
            Uh = U.conj().transpose(0, 2, 1)
            Gb = Uh @ G @ U
            inblock = es.block[:, :, None] == es.block[:, None, :]
            den = np.where(inblock, 1.0, E[:, :, None] - E[:, None, :])
            w = np.where(inblock, 0.0, Gb / den)  # G_nm / (ε_n − ε_m), outside the block
            g = np.real(np.einsum("knn->kn", Gb))
            gslope = np.zeros(d.shape)  # Σ_i h_i |∂_i δg| per consecutive pair
            for i in range(len(b)):
                dg = 2.0 * np.real(np.einsum("knm,kmn->kn", w, Uh @ dHr[i] @ U))
                gslope += h[:, i:i + 1] * np.abs(np.diff(dg, axis=1))
            bound = (np.abs(np.diff(g, axis=1)) - gslope) / np.linalg.norm(G, 2)
            splits[sl] = np.minimum(splits[sl], np.min(np.where(same, bound, np.inf), axis=1))
    return gaps, splits


class GapTree:
    """Leaves [origin, origin + size) (reduced coordinates) of a gap-refined base mesh.

    Attributes
    ----------
    mesh : tuple of int
        The base mesh n.
    origin, size : (L, p) arrays
        The leaves: first the unrefined base cells (in mesh order), then the children.
    pilot_points : int
        Band-energy evaluations the pilot used.
    refinement : dict {subdivision s: leaves of 1/s of a base cell per direction}
    gauge_splits : int
        Cells split by the gauge criterion alone (their gap was above the threshold).
    capped : bool
        The cell-bounded pilot asked for more than ``MAX_LEAVES`` leaves per base cell; the
        cells closest to their thresholds were split first.
    """

    def __init__(self, mesh: tuple[int, ...], origin: FloatArray, size: FloatArray,
                 pilot_points: int, gauge_splits: int = 0, capped: bool = False) -> None:
        self.mesh, self.origin, self.size = mesh, origin, size
        self.pilot_points = pilot_points
        self.gauge_splits = gauge_splits
        self.capped = capped
        sub = np.rint(1.0 / (size[:, 0] * mesh[0])).astype(int)
        s, c = np.unique(sub, return_counts=True)
        self.refinement = {int(a): int(b) for a, b in zip(s, c, strict=True)}


def gap_tree(
    model: LatticeModel, mesh: MeshSpec, e_top: float, *, gap: float, factor: int = 2,
    levels: int = 6, block_tol: float = 1e-6, rng: np.random.Generator | None = None,
    gauge_ops: list[GaugeOp] | None = None, gauge_split: float = GAUGE_SPLIT,
) -> GapTree:
    """The cells of base mesh ``mesh`` split where the pilot finds a gap < gap/factor^level
    (module docstring). ``e_top``: bands below it count as occupied (eV); ``gap`` (eV) the
    level-0 threshold; ``factor`` children per direction; ``levels`` the deepest split;
    ``gauge_ops`` (:func:`gauge_operators`) with ``gauge_split`` > 0: the pilot bounds both
    the gap and the gauge splitting over the cell (:func:`pilot_bounds`) and also splits where
    the latter falls below gauge_split/factor^level."""
    if not gap > 0:
        raise ParameterError(f"gap must be a positive energy (eV), got {gap!r}")
    if int(factor) != factor or factor < 2:
        raise ParameterError(f"factor must be an integer ≥ 2, got {factor!r}")
    if int(levels) != levels or levels < 0:
        raise ParameterError(f"levels must be an integer ≥ 0, got {levels!r}")
    gauge_split = positive_number(gauge_split, "gauge_split", allow_zero=True)  # 0: off
    ops = gauge_ops if gauge_split > 0 else None
    rng = rng or np.random.default_rng()
    n = _mesh(model, mesh)
    p = len(n)
    b = np.asarray(model.reciprocal)[list(model.periodic)]
    size = np.tile(1.0 / np.array(n, float), (int(np.prod(n)), 1))
    origin = _grid(n) * size
    children = _grid([factor] * p) / factor
    leaves_o, leaves_s = [], []
    pilot = by_gauge = 0
    capped = False
    o, s = origin, size
    for level in range(levels + 1):
        if level == levels or not len(o):
            leaves_o.append(o)
            leaves_s.append(s)
            break
        at = o + rng.random(p) * s
        pilot += len(o)
        if ops:  # both bounds over the cell (module docstring)
            g, dg = pilot_bounds(model, at, s, e_top, block_tol, ops)
            closeness = np.minimum(g / (gap / factor**level), dg / (gauge_split / factor**level))
            split = closeness < 1.0
            # the leaf cap: the closest cells first (the tree stays fixed before sampling)
            room = (MAX_LEAVES * len(origin) - sum(map(len, leaves_o)) - len(o)) // (
                len(children) - 1)
            if split.sum() > room:
                keep = np.argsort(np.where(split, closeness, np.inf), kind="stable")[:max(room, 0)]
                split = np.zeros(len(o), dtype=bool)
                split[keep] = True
                capped = True
            by_gauge += int(np.sum(split & (g >= gap / factor**level)))
        else:
            split = smallest_gaps(model, at @ b, e_top, block_tol) < gap / factor**level
        leaves_o.append(o[~split])
        leaves_s.append(s[~split])
        o = (o[split][:, None, :] + children[None] * s[split][:, None, :]).reshape(-1, p)
        s = np.repeat(s[split] / factor, len(children), axis=0)
    return GapTree(tuple(n), np.concatenate(leaves_o), np.concatenate(leaves_s), pilot,
                   by_gauge, capped)


@GaugeRun.wrap
def gap_refined(
    kernel: Kernel,
    model: LatticeModel,
    efermi: ArrayLike,
    *,
    mesh: MeshSpec,
    gap: float,
    factor: int = 2,
    levels: int = 6,
    gauge_split: float = GAUGE_SPLIT,
    n_shifts: int = 16,
    seed: int | None = None,
    temperature: float = 0.0,
    workers: int | None = 1,
    runner: ChunkRunner | None = None,
) -> SampledIntegral:
    """M randomly shifted copies of a gap-refined mesh; mean ± std/√M (module docstring).

    Parameters
    ----------
    kernel, model, efermi, mesh, n_shifts, seed, temperature, workers, runner
        As :func:`tbspin.sampling.rules.randomized_mesh` (``mesh``: the base mesh).
    gap : float
        Level-0 threshold (eV): a base cell is split when the pilot finds two bands with
        occupied weight closer than this; level l uses gap/factor^l. It must exceed the change
        of a gap across a base cell (~v·h) to catch the crossings inside the cells (1T′-WSe₂
        from an 80² base: 0.06 eV; a threshold below that misses crossings, and the tail of
        the estimates stays heavy: benchmarks/README.md).
    factor : int
        Children per direction of a split cell.
    levels : int
        Deepest subdivision: leaves down to 1/factor^levels of a base cell per direction.
    gauge_split : float
        Level-0 threshold of the gauge criterion (share of ‖G‖; level l uses
        gauge_split/factor^l): for a kernel that depends on a gauge operator (proper spin
        Hall), cells are also split where the first-order bound of G's splitting inside an
        occupied degenerate block falls below it, and the gap is bounded over the cell too
        (module docstring). 0 turns both cell bounds off (the pilot looks at the gap at its
        point only, as for gauge-invariant kernels, where this has no effect).
    """
    ef = _efermi(efermi)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    block_tol = float(getattr(getattr(kernel, "settings", None), "degen_tol", 1e-6))
    e_top = float(ef.max()) + 10.0 * KB_EV * float(temperature)
    ops = gauge_operators(kernel)
    tree = gap_tree(model, mesh, e_top, gap=gap, factor=factor, levels=levels,
                    block_tol=block_tol, rng=rng, gauge_ops=ops, gauge_split=gauge_split)
    shifts = rng.random((n_shifts, len(tree.mesh)))
    samples = _evaluate_tree(kernel, model, tree.origin, tree.size, shifts, ef, temperature,
                             per_cell=False, workers=workers, base=(tree.mesh, 0.0),
                             runner=runner)
    values, errors = _stats(samples)
    nk = len(tree.origin) * n_shifts
    hist = [dict(n_k=nk, n_k_final=nk, mesh=tree.mesh, pilot_points=tree.pilot_points,
                 refined_cells=len(tree.origin) - tree.refinement.get(1, 0),
                 # the threshold that acted (None: the kernel has no gauge operator)
                 gauge_split=float(gauge_split) if ops else None,
                 gauge_splits=tree.gauge_splits,
                 leaf_cap=tree.capped,
                 max_factor=max(tree.refinement), values=values, errors=errors,
                 seconds=time.perf_counter() - t0)]
    return SampledIntegral(efermi=ef, values=values, errors=errors, samples=samples, n_k=nk,
                           mesh=tree.mesh, method="gaps", history=hist,
                           refinement=tree.refinement, n_components=components(kernel))
