"""The degeneracy scale of a model: which band splittings are symmetry (Kramers) pairs broken by
fit noise, and which are physical — instead of one fixed ``degen_tol``.

Evidence, from the model itself:

* **Pair statistics** on random k (generic points, never on symmetry lines): with PT symmetry
  (centrosymmetric, non-magnetic) the sorted bands come in Kramers pairs (2i, 2i+1) at every k.
  The splitting inside the pairs δ = ε_{2i+1} − ε_{2i} and the gap between distinct pairs
  g = ε_{2i+2} − ε_{2i+1} separate three cases: δ at the rounding level (exact), δ ≪ g
  (symmetry-degenerate up to noise, e.g. the Bi₂Se₃ Wannier fit of issue 9: δ median 0.6 meV,
  max 5.7 meV, g ≥ 17 meV), δ ~ g (no Kramers pairs: no spin, broken inversion, large exchange).
* **Time-reversal-odd part** H^odd_R = ½ (H_R − Θ H_R* Θ†) (T = Θ K, :mod:`tbspin.symmetry.operations`).
  A collinear magnetization (exchange or Zeeman term, on site or spin-dependent hoppings) is T-odd
  with one spin axis: H^odd_R = A_R ⊗ m̂·σ, so one spin component carries all of ‖H^odd‖²; fit
  noise spreads over the three (and the orbital-current σ_0 part). m_a = Re Tr(H^odd_0 s_a) /
  Tr(s_a²) is exact for H = m·s (the Zeeman-like on-site term).
* **Spin of the splitting**: to first order in a Zeeman term m·s the upper state of a pair has
  (⟨s⟩_upper − ⟨s⟩_lower)·m̂ ≥ 0, so these differences add up coherently along m̂; fit noise gives
  random directions (coherence |Σ d| / Σ |d| near 0).

The recommended block tolerance lies between the two scales for noisy pairs (geometric mean of
the largest pair splitting and the smallest gap), at the tbspin default 1e-4 eV for exact pairs,
and below every physical splitting for a magnetic model (a gauge operator must never override a
splitting the Hamiltonian resolves).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tbspin.bands.eigen import expectation
from tbspin.errors import ModelError
from tbspin.model.lattice import LatticeModel
from tbspin.symmetry.operations import Violation, time_reversal_image, time_reversal_matrix, violation
from tbspin.types import FloatArray, SpinSpec

__all__ = ["DegeneracyReport", "degeneracy_scale", "DEFAULT_DEGEN_TOL"]

#: tbspin's fixed default block tolerance (eV), used for exact pairs
DEFAULT_DEGEN_TOL = 1e-4
#: pair splittings below this (eV) are rounding, not physics
EXACT_SPLITTING = 1e-9
#: pairs count as symmetry-degenerate when the largest splitting is below this share of the
#: smallest gap between distinct pairs
PAIRING_RATIO = 0.5
#: ... and below this absolute size (eV): Wannier-fit noise is at the meV level (issue 9: Bi₂Se₃
#: ≤ 5.7 meV); larger splittings are physics (inversion breaking, e.g. Kane–Mele with a staggered
#: potential: up to 0.2 eV with T exact), which a block tolerance must not erase
NOISE_MAX = 0.02
#: share of ‖H^odd‖² on site and orbital-diagonal above which the T-odd part is an exchange field
EXCHANGE_SHARE = 0.5

#: "broken Kramers pairs": typical splittings below this share of the typical gap, but the largest
#: ones reach the smallest gaps (noise comparable to band crossings: symmetrize)
BROKEN_RATIO = 0.01

KINDS = ("exact", "fit-noise", "broken Kramers pairs", "magnetic (declared)",
         "magnetic (undeclared)", "no Kramers pairs")


@dataclasses.dataclass(frozen=True)
class DegeneracyReport:
    """Degeneracy scale of a model with the evidence (energies in eV).

    Attributes
    ----------
    kind : str
        One of ``KINDS``: "exact" (Kramers pairs degenerate to rounding), "fit-noise" (pairs split
        far below the gaps between distinct pairs, no exchange field), "magnetic (declared)" /
        "magnetic (undeclared)" (splittings set by an exchange field in H), "no Kramers pairs".
    recommended_tol : float
        Block tolerance (eV) for ``degen_tol``.
    n_k : int
        Random k-points sampled.
    splitting : dict or None
        Pair splittings δ: "min", "median", "q99", "max".
    gap : dict or None
        Gaps between distinct pairs g: "min", "q01", "median".
    time_reversal : Violation or None
        mean/max |H_R − Θ H_R* Θ†|.
    exchange_share : float or None
        Share of ‖H^odd‖² in a collinear exchange field A_R ⊗ m̂·σ (1 for a magnet, ~⅓ or less
        for fit noise).
    exchange_axis : (3,) array or None
        Its axis m̂ (sign: that of the on-site Zeeman-like term).
    magnetization_estimate : (3,) array or None
        Zeeman-like m_a = Re Tr(H^odd_0 s_a) / Tr(s_a²) (eV).
    splitting_direction : (3,) array or None
        Unit vector of Σ (⟨s⟩_upper − ⟨s⟩_lower) over all pairs and k.
    splitting_coherence : float or None
        |Σ d| / Σ |d| of those differences (1: all aligned; ~0: random).
    declared_magnetization : (3,) array or None
        ``model.magnetization``.
    fraction_k_affected : float
        Share of the sampled k-points where some pair splitting lies between the fixed default
        1e-4 eV and ``recommended_tol`` (there the two tolerances give different block structures).
    fraction_pairs_below_tol : float
        Share of the sampled pairs with δ < ``recommended_tol`` (they are rotated by the gauge
        operator).
    notes : tuple of str
        Human-readable conclusions and advice.
    """

    kind: str
    recommended_tol: float
    n_k: int
    splitting: dict[str, float] | None
    gap: dict[str, float] | None
    time_reversal: Violation | None
    exchange_share: float | None
    exchange_axis: FloatArray | None
    magnetization_estimate: FloatArray | None
    splitting_direction: FloatArray | None
    splitting_coherence: float | None
    declared_magnetization: FloatArray | None
    fraction_k_affected: float
    fraction_pairs_below_tol: float
    notes: tuple[str, ...] = ()

    @property
    def magnetized(self) -> bool:
        """True when the splittings are set by an exchange field (declared or not)."""
        return self.kind.startswith("magnetic")

    @property
    def magnetization_direction(self) -> FloatArray | None:
        """Unit vector of the magnetization (declared first, else detected), or None."""
        m = self.declared_magnetization
        if m is not None and np.linalg.norm(m) > 0:
            return m / np.linalg.norm(m)
        if self.kind == "magnetic (undeclared)":
            return self.exchange_axis
        return None

    def gauge_warning(self, spin: SpinSpec) -> str | None:
        """Message when the default gauge s_l (``spin``) differs from an undeclared magnetization.

        Returns None when there is nothing to warn about.
        """
        if self.kind != "magnetic (undeclared)":
            return None
        m = self.magnetization_direction
        if m is None:
            return None
        axis = _axis_vector(spin)
        if axis is not None and abs(float(axis @ m)) > 0.99:
            return None
        return (
            f"the Hamiltonian carries an undeclared magnetization along m̂ = "
            f"{np.round(m, 3).tolist()} (on-site Zeeman-like term {_mev(self.magnetization_estimate)}); "
            f"the default gauge operator s_{spin} differs from it: pass gauge={np.round(m, 3).tolist()} "
            "or declare it with model.replace(magnetization=...)")

    def __str__(self) -> str:
        lines = [f"degeneracy: {self.kind}; recommended degen_tol = {self.recommended_tol:.3g} eV "
                 f"(from {self.n_k} random k)"]
        if self.splitting is not None:
            s = self.splitting
            lines.append(f"  pair splitting: median {s['median'] * 1e3:.3g} meV, 99% "
                         f"{s['q99'] * 1e3:.3g} meV, max {s['max'] * 1e3:.3g} meV")
        if self.gap is not None:
            g = self.gap
            lines.append(f"  gap between distinct pairs: min {g['min'] * 1e3:.3g} meV, 1% "
                         f"{g['q01'] * 1e3:.3g} meV, median {g['median'] * 1e3:.3g} meV")
        if self.time_reversal is not None:
            lines.append(f"  time-reversal violation |H_R − Θ H_R* Θ†|: {self.time_reversal}")
        if self.exchange_share is not None and self.exchange_axis is not None:
            lines.append(f"  T-odd part: {100 * self.exchange_share:.1f}% collinear exchange along "
                         f"{np.round(self.exchange_axis, 3).tolist()}; on-site Zeeman-like m = "
                         f"{_mev(self.magnetization_estimate)}")
        if self.splitting_direction is not None:
            lines.append(f"  spin of the pair splittings: direction "
                         f"{np.round(self.splitting_direction, 3).tolist()}, coherence "
                         f"{self.splitting_coherence:.2f}")
        if self.declared_magnetization is not None and np.any(self.declared_magnetization):
            lines.append(f"  declared magnetization: {_mev(self.declared_magnetization)}")
        lines.append(f"  k-points where the tolerance choice (1e-4 eV vs recommended) matters: "
                     f"{100 * self.fraction_k_affected:.1f}%; pairs below the recommended "
                     f"tolerance: {100 * self.fraction_pairs_below_tol:.1f}%")
        lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


def _mev(v: FloatArray | None) -> str:
    if v is None:
        return "n/a"
    return "(" + ", ".join(f"{1e3 * x:.3g}" for x in np.asarray(v)) + ") meV"


def _axis_vector(spin: SpinSpec) -> FloatArray | None:
    if isinstance(spin, str):
        idx = {"x": 0, "y": 1, "z": 2}.get(spin.lower())
        return None if idx is None else np.eye(3)[idx]
    if isinstance(spin, (int, np.integer)):
        return np.eye(3)[int(spin)]
    v = np.asarray(spin, dtype=float).reshape(-1)
    return v / np.linalg.norm(v) if v.shape == (3,) and np.linalg.norm(v) > 0 else None


def _exchange_evidence(model: LatticeModel) -> tuple[Violation, float, FloatArray, FloatArray]:
    """T violation, collinear-exchange share of ‖H^odd‖², its axis, Zeeman-like on-site m (eV).

    Every H^odd_R is split into spin components A^a_R ⊗ 1 = ¼ Σ_μ s_μ (H^odd_R s_a) s_μ (the spin
    partial trace, s_0 = 1). M_ab = Σ_R Re Tr[(A^a_R ⊗ 1)† (A^b_R ⊗ 1)]; a collinear exchange
    field A_R ⊗ m̂·σ (any orbital structure, on site or in hoppings) puts all of ‖H^odd‖² into the
    top eigenvalue of M (share 1, axis m̂); fit noise spreads it over the spin components.
    """
    theta = time_reversal_matrix(model)
    timg = time_reversal_image(model, theta)
    odd = 0.5 * (model.hoppings - timg)
    total = float(np.sum(np.abs(odd) ** 2))
    s = [np.eye(model.n_orbitals, dtype=complex)] + [np.asarray(model.spin(a)) for a in range(3)]
    comps = []
    for a in range(1, 4):
        Y = odd @ s[a][None]
        comps.append(0.25 * sum(s[mu][None] @ Y @ s[mu][None] for mu in range(4)))
    M = np.array([[np.real(np.vdot(comps[a], comps[b])) for b in range(3)] for a in range(3)])
    w, v = np.linalg.eigh(M)
    share = float(w[-1] / total) if total > 0 else 0.0
    axis = v[:, -1]
    zero = np.nonzero(~np.any(model.R != 0, axis=1))[0]
    m = np.zeros(3)
    if len(zero):
        h0 = odd[zero[0]]
        m = np.array([np.real(np.trace(h0 @ s[a])) / np.real(np.trace(s[a] @ s[a]))
                      for a in range(1, 4)])
    if axis @ m < 0:
        axis = -axis
    return violation(model.hoppings, timg), min(1.0, share), axis, m


def degeneracy_scale(
    model: LatticeModel,
    *,
    n_k: int = 2000,
    seed: int = 0,
    window: tuple[float, float] | None = None,
    chunk: int = 500,
) -> DegeneracyReport:
    """Detect the degeneracy scale of ``model`` and recommend a block tolerance (module doc).

    Parameters
    ----------
    model : LatticeModel
    n_k : int
        Random k-points (uniform in the BZ, generic with probability 1).
    seed : int
        Seed of the sample (the report is reproducible).
    window : (emin, emax), optional
        Only pairs with both energies inside (eV); default all bands.
    chunk : int
        k-points per eigensolver batch (bounded memory).

    Returns
    -------
    DegeneracyReport
    """
    rng = np.random.default_rng(seed)
    kk = rng.random((n_k, model.n_periodic)) @ model.reciprocal[list(model.periodic)]
    spin = model.has_spin
    Es, Ds = [], []
    for s in range(0, n_k, chunk):  # chunks of k-points, vectorized inside
        H = model.hamiltonian(kk[s:s + chunk])
        if spin:
            E, U = np.linalg.eigh(H)
            Ds.append(np.stack([expectation(U, model.spin(a)) for a in range(3)], axis=-1))
        else:
            E = np.linalg.eigvalsh(H)
        Es.append(E)
    E = np.concatenate(Es)
    n = E.shape[1] - E.shape[1] % 2
    declared = None if model.magnetization is None else np.asarray(model.magnetization, float)
    is_declared = declared is not None and np.linalg.norm(declared) > 0
    notes: list[str] = []
    tviol = share = mest = axis = None
    if spin:
        try:
            tviol, share, axis, mest = _exchange_evidence(model)
        except ModelError as exc:
            notes.append(f"time reversal not testable: {exc}")
    if not spin or n < 2:
        return _report("no Kramers pairs", DEFAULT_DEGEN_TOL, n_k, None, None, tviol, share, axis,
                       mest, None, None, declared, 0.0, 0.0,
                       notes + ["no spin operators: Kramers pairs are not identified; the fixed "
                                "default tolerance is used"])
    lo, hi = E[:, 0:n:2], E[:, 1:n:2]
    split = hi - lo
    gaps = E[:, 2:n:2] - E[:, 1:n - 1:2]
    psel = np.ones(split.shape, bool)
    gsel = np.ones(gaps.shape, bool)
    if window is not None:
        psel = (lo >= window[0]) & (hi <= window[1])
        gsel = psel[:, :-1] & psel[:, 1:]
    sp = split[psel]
    gp = gaps[gsel]
    splitting = dict(min=float(sp.min()), median=float(np.median(sp)),
                     q99=float(np.quantile(sp, 0.99)), max=float(sp.max()))
    gap = None
    if gp.size:
        gap = dict(min=float(gp.min()), q01=float(np.quantile(gp, 0.01)),
                   median=float(np.median(gp)))
    D = np.concatenate(Ds)
    d = (D[:, 1:n:2] - D[:, 0:n:2])[psel]  # (pairs, 3)
    norms = np.linalg.norm(d, axis=1)
    v = d.sum(axis=0)
    coherence = float(np.linalg.norm(v) / norms.sum()) if norms.sum() > 0 else 0.0
    direction = v / np.linalg.norm(v) if np.linalg.norm(v) > 0 else None
    gmin = gap["min"] if gap else np.inf

    exchange = share is not None and share >= EXCHANGE_SHARE and tviol is not None and (
        tviol.max > EXACT_SPLITTING)
    if is_declared:
        kind = "magnetic (declared)"
    elif exchange and splitting["max"] > EXACT_SPLITTING:
        kind = "magnetic (undeclared)"
        notes.append("an exchange field is present in H but not declared: declare it "
                     "(model.replace(magnetization=...)) so that the default gauge follows it")
    elif splitting["max"] < EXACT_SPLITTING:
        kind = "exact"
    elif splitting["max"] < min(PAIRING_RATIO * gmin, NOISE_MAX):
        kind = "fit-noise"
        notes.append("Kramers pairs are split by symmetry-breaking noise far below the gaps "
                     "between pairs: they are treated as degenerate blocks; symmetrizing the model "
                     "(tbspin.symmetry.operations.symmetrized) removes the noise")
    elif tviol is not None and tviol.max <= EXACT_SPLITTING and splitting["max"] >= NOISE_MAX:
        kind = "no Kramers pairs"
        notes.append("time reversal is exact and the pairs are split far above fit noise: "
                     "broken inversion (physical); every band keeps its own eigenbasis")
    elif gap is not None and splitting["median"] < BROKEN_RATIO * gap["median"]:
        kind = "broken Kramers pairs"
        notes.append("bands come in pairs, but the largest pair splittings reach the gaps between "
                     "pairs: no tolerance separates noise from physics. Symmetrize the model "
                     "(tbspin.symmetry.operations.symmetrized) before computing the proper spin current")
    else:
        kind = "no Kramers pairs"
    if kind in ("broken Kramers pairs", "no Kramers pairs") and tviol is not None and (
            tviol.max > 1e-6):
        notes.append(f"H breaks time reversal ({tviol}) without a collinear exchange field: "
                     "if this is fit noise, symmetrize the model")
    if kind == "exact":
        tol = min(DEFAULT_DEGEN_TOL, 0.25 * gmin)
    elif kind == "fit-noise":
        tol = float(np.sqrt(splitting["max"] * gmin))
    elif kind.startswith("magnetic"):
        tol = max(EXACT_SPLITTING, min(DEFAULT_DEGEN_TOL, 0.1 * splitting["min"]))
    else:
        tol = DEFAULT_DEGEN_TOL
    a, b = sorted((tol, DEFAULT_DEGEN_TOL))
    inside = (split >= a) & (split < b) & psel
    frac_k = float(np.mean(np.any(inside, axis=1))) if a < b else 0.0
    frac_pairs = float(np.mean(sp < tol))
    return _report(kind, tol, n_k, splitting, gap, tviol, share, axis, mest, direction,
                   coherence, declared, frac_k, frac_pairs, notes)


def _report(kind: str, tol: float, n_k: int, splitting: dict[str, float] | None,
            gap: dict[str, float] | None, tviol: Violation | None, share: float | None,
            axis: FloatArray | None, mest: FloatArray | None, direction: FloatArray | None,
            coherence: float | None, declared: FloatArray | None, frac_k: float, frac_pairs: float,
            notes: Sequence[str]) -> DegeneracyReport:
    return DegeneracyReport(
        kind=kind, recommended_tol=float(tol), n_k=n_k, splitting=splitting, gap=gap,
        time_reversal=tviol, exchange_share=share, exchange_axis=axis,
        magnetization_estimate=mest,
        splitting_direction=direction, splitting_coherence=coherence,
        declared_magnetization=declared, fraction_k_affected=frac_k,
        fraction_pairs_below_tol=frac_pairs, notes=tuple(notes))
