"""Diagnostics a user can read before trusting a BZ integral of a (Wannier) model.

:func:`diagnose` collects, for one observable:

* the degeneracy scale and Kramers/PT status (:func:`tbspin.bands.degeneracy.degeneracy_scale`);
* the size of the time-reversal (and, with parities, inversion) violation of H_R
  (:mod:`tbspin.symmetry.operations`);
* where the integral lives: on a uniform mesh, the share of Σ_k |c_k| carried by the top
  k-points (c_k = Σ_m f_mk X_mk / (N_k V_cell), the k-point's contribution to the integral), with
  their fractional coordinates, the bands that carry them and their energies — spikes on
  high-symmetry points are the trap of issue 9 (Γ carrying 95% of a 6³ sum);
* agreement of the two Berry-connection methods (``fd`` and ``kubo``) on random generic k;
* for the proper spin current, which band pairs carry the variance of the integrand on random
  k: pairs inside degenerate blocks (gauge-operator connections), occupied–occupied pairs of
  different blocks (weighted by s_nn − s_mm, they do not cancel as in the Berry curvature) and
  occupied–empty pairs — with the share of Σ c_k² in the top 0.1% of the points, a measure of
  heavy tails (1/ΔE² near crossings of occupied bands): error bars from few k-points then
  underestimate, and a sampled integral needs many k-points.

``str(diagnose(...))`` is a plain-text report.
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np

from tbspin.bands.degeneracy import DegeneracyReport, degeneracy_scale
from tbspin.bands.eigen import expectation
from tbspin.bands.integrands import Integrand
from tbspin.bz.kmesh import make_mesh
from tbspin.errors import GaugeWarning, ModelError, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.sampling import Kernel, ahc_kernel, per_point_sums, shc_kernel
from tbspin.symmetry.operations import (
    Violation,
    _inversion_targets,
    _r_index,
    inversion_image,
    inversion_map,
    time_reversal_image,
    time_reversal_matrix,
    violation,
)
from tbspin.types import FloatArray, MeshSpec, ShiftSpec, SpinSpec

__all__ = ["Diagnosis", "HotSpot", "PairClass", "diagnose", "add_parser"]

#: fractional coordinates within this of a multiple of 1/2 count as high-symmetry
SYMMETRY_TOL = 1e-9


@dataclasses.dataclass(frozen=True)
class HotSpot:
    """One k-point of the mesh with a large contribution."""

    k_reduced: tuple[float, ...]
    share: float  # |c_k| / Σ_k |c_k|
    contribution: float  # c_k (units of the integral)
    bands: tuple[int, ...]  # bands carrying most of it
    energies: tuple[float, ...]  # their energies (eV)

    @property
    def high_symmetry(self) -> bool:
        """True when every fractional coordinate is a multiple of 1/2 (Γ or another TRIM)."""
        k2 = 2 * np.asarray(self.k_reduced)
        return bool(np.all(np.abs(k2 - np.round(k2)) < SYMMETRY_TOL))


@dataclasses.dataclass(frozen=True)
class PairClass:
    """Contribution of one class of band pairs to the proper spin current on random k."""

    name: str
    mean: float  # estimate of its part of the integral (units of the integral)
    error: float  # standard error of ``mean``
    variance_share: float  # Var(class) / Var(total) over the points
    tail_share: float  # share of Σ c_k² carried by the top 0.1% of the points


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """Everything :func:`diagnose` found; ``str()`` is the plain-text report."""

    model: str
    n_orbitals: int
    observable: str
    efermi: float
    degeneracy: DegeneracyReport
    symmetry: dict[str, Violation]
    mesh: tuple[int, ...]
    shift: tuple[float, ...]
    integral: float
    hotspots: tuple[HotSpot, ...]
    top_share: float
    fd_kubo_difference: float | None
    fd_kubo_scale: float | None
    advice: tuple[str, ...]
    pair_classes: tuple[PairClass, ...] = ()
    n_pair_sample: int = 0

    def __str__(self) -> str:
        out = [f"tbspin diagnosis of model {self.model!r} ({self.n_orbitals} orbitals)",
               "", "[degeneracy]", str(self.degeneracy), "", "[symmetry of H_R]"]
        if self.symmetry:
            out += [f"  {name}: |H_R − (S H)_R| {v}" for name, v in self.symmetry.items()]
        else:
            out.append("  not tested (no spin operators, no parities)")
        out += ["", f"[where {self.observable} at E_F = {self.efermi:.6g} eV lives]",
                f"  mesh {self.mesh}, shift {self.shift}: integral {self.integral:.6g}; the top "
                f"{len(self.hotspots)} k-points carry {100 * self.top_share:.1f}% of Σ|c_k|"]
        for h in self.hotspots:
            tag = "  (high-symmetry point)" if h.high_symmetry else ""
            out.append(f"  k = {np.round(h.k_reduced, 4).tolist()}: {100 * h.share:.1f}%, "
                       f"c_k = {h.contribution:.4g}, bands {list(h.bands)} at "
                       f"{np.round(h.energies, 4).tolist()} eV{tag}")
        out += ["", "[fd vs kubo Berry connections on random generic k]"]
        if self.fd_kubo_difference is None:
            out.append("  not compared")
        else:
            rel = self.fd_kubo_difference / max(self.fd_kubo_scale or 0.0, 1e-300)
            out.append(f"  max |c_fd − c_kubo| = {self.fd_kubo_difference:.3g} "
                       f"({100 * rel:.2g}% of max |c|)")
        if self.pair_classes:
            out += ["", f"[band pairs behind the variance, {self.n_pair_sample} random k]"]
            for pc in self.pair_classes:
                out.append(f"  {pc.name:22s} {pc.mean:+.4g} ± {pc.error:.2g}; "
                           f"{100 * pc.variance_share:5.1f}% of the variance, top 0.1% of k "
                           f"carry {100 * pc.tail_share:.0f}% of Σc²")
        out += ["", "[advice]"] + [f"  - {a}" for a in self.advice or ("nothing to report",)]
        return "\n".join(out)


def _half_filling(model: LatticeModel) -> float:
    k = np.random.default_rng(1).random((200, model.n_periodic)) @ model.reciprocal[
        list(model.periodic)]
    E = np.linalg.eigvalsh(model.hamiltonian(k))
    n = model.n_orbitals // 2
    return float(0.5 * (E[:, n - 1].max() + E[:, n].min())) if n else float(E.mean())


def diagnose(
    model: LatticeModel,
    *,
    observable: str = "shc",
    efermi: float | None = None,
    spin: SpinSpec = "z",
    current: str = "x",
    efield: str = "y",
    formula: str = "proper",
    mesh: MeshSpec = 8,
    shift: ShiftSpec = 0.0,
    n_top: int = 5,
    n_sample: int = 50,
    n_pairs: int = 4000,
    parities: Sequence[int] | None = None,
    degen_tol: float | None = None,
    n_k_degeneracy: int = 1000,
    seed: int = 0,
) -> Diagnosis:
    """Diagnose ``model`` for one observable (module doc).

    Parameters
    ----------
    observable : {"shc", "ahc"}
        Spin Hall (``spin``, ``current``, ``efield``, ``formula``) or anomalous Hall
        (``current``, ``efield`` as the component).
    efermi : float, optional
        Fermi energy (eV); default mid-gap at half filling of the bands.
    mesh, shift
        The uniform mesh on which the hot spots are located (Γ-centred by default, the mesh a
        plain calculation would use).
    n_top : int
        Hot spots listed.
    n_sample : int
        Random k-points of the fd-vs-kubo comparison (0 skips it).
    n_pairs : int
        Random k-points of the pair-class variance analysis (proper spin current only; 0 skips
        it).
    parities : sequence of ±1, optional
        Orbital parities to test inversion (:func:`tbspin.symmetry.operations.win_parities`).
    degen_tol : float, optional
        Block tolerance for the integrand; default the recommended one.
    n_k_degeneracy, seed : int
        Sample of :func:`tbspin.bands.degeneracy.degeneracy_scale`.
    """
    if observable not in ("shc", "ahc"):
        raise ParameterError(f"'observable' must be 'shc' or 'ahc', got {observable!r}")
    for name, value in (("n_sample", n_sample), ("n_pairs", n_pairs)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ParameterError(f"'{name}' must be a whole number ≥ 0, got {value!r}")
    deg = degeneracy_scale(model, n_k=n_k_degeneracy, seed=seed)
    tol = deg.recommended_tol if degen_tol is None else float(degen_tol)
    ef = _half_filling(model) if efermi is None else float(efermi)
    sym: dict[str, Violation] = {}
    if model.has_spin:
        try:
            sym["time reversal"] = violation(model.hoppings,
                                             time_reversal_image(model, time_reversal_matrix(model)))
        except ModelError:
            pass
    if parities is not None:
        perm, L = inversion_map(model)
        R = _inversion_targets(np.asarray(model.R), L)
        H = np.zeros((len(R),) + model.hoppings.shape[1:], dtype=complex)
        H[_r_index(R, np.asarray(model.R))] = model.hoppings
        sym["inversion"] = violation(H, inversion_image(R, H, perm, L, np.asarray(parities)))

    def kern(method: str) -> Kernel:
        if observable == "ahc":
            return ahc_kernel(model, component=current + efield, method=method, degen_tol=tol)
        return shc_kernel(model, spin=spin, current=current, efield=efield, formula=formula,
                          method=method, degen_tol=tol)

    label = (f"σ_{current}{efield} (AHC)" if observable == "ahc"
             else f"{formula} σ^{spin}_{current}{efield}")
    m = make_mesh(model, mesh, shift)
    red = m.reduced()
    k = red @ model.reciprocal[list(model.periodic)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaugeWarning)
        E, X = kern("kubo")(k)
    scale = 1.0 / (m.size * model.cell_measure)
    c = per_point_sums(E, X, np.array([ef]))[:, 0] * scale
    absc = np.abs(c)
    total = max(absc.sum(), 1e-300)
    top = np.argsort(absc)[::-1][:n_top]
    spots = []
    for i in top:
        occ = (E[i] <= ef) * X[i] * scale
        bands = np.argsort(np.abs(occ))[::-1][:2]
        spots.append(HotSpot(k_reduced=tuple(float(x) for x in red[i]), share=float(absc[i] / total),
                             contribution=float(c[i]), bands=tuple(int(b) for b in bands),
                             energies=tuple(float(E[i, b]) for b in bands)))
    top_share = float(absc[top].sum() / total)

    diff = fscale = None
    if n_sample:
        ks = np.random.default_rng(seed + 1).random((n_sample, model.n_periodic)) @ \
            model.reciprocal[list(model.periodic)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GaugeWarning)
            ck = per_point_sums(*kern("kubo")(ks), np.array([ef]))[:, 0]
            cf = per_point_sums(*kern("fd")(ks), np.array([ef]))[:, 0]
        diff, fscale = float(np.max(np.abs(cf - ck))), float(np.max(np.abs(ck)))

    classes: tuple[PairClass, ...] = ()
    if observable == "shc" and formula == "proper" and n_pairs:
        ks = np.random.default_rng(seed + 2).random((n_pairs, model.n_periodic)) @ \
            model.reciprocal[list(model.periodic)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GaugeWarning)
            classes = pair_classes(kern("kubo"), ks, ef)  # type: ignore[arg-type]

    advice = list(deg.notes)
    if classes and classes[0].variance_share > 0.5:
        advice.append(f"pairs inside degenerate blocks carry {100 * classes[0].variance_share:.0f}% "
                      "of the variance: their gauge-operator connections spike where another band "
                      "comes close; expect error bars to shrink slowly (tol runs need many "
                      "k-points)")
    if classes and max(pc.tail_share for pc in classes) > 0.5:
        advice.append("heavy tails: a few k-points carry most of Σ c_k²; error bars from few "
                      "k-points underestimate and shrink slowly until the rare spikes are "
                      "sampled")
    if spots and spots[0].share > 0.5:
        advice.append(f"one k-point carries {100 * spots[0].share:.0f}% of the sum: the mesh "
                      "result is decided by it; use random shifts with error bars and adaptive "
                      "refinement (tbspin.sampling.converge, spin_hall(..., tol=...))")
    if any(h.high_symmetry and h.share > 0.1 for h in spots):
        advice.append("large contributions sit on high-symmetry points of the mesh: avoid them "
                      "(shift='generic' or random shifts)")
    if diff is not None and fscale is not None and diff > 1e-3 * max(fscale, 1e-300):
        advice.append(f"fd and kubo differ by {100 * diff / max(fscale, 1e-300):.2g}% of the "
                      "largest contribution on generic k: check degen_tol (fit-noise splittings "
                      "near the fd step) or symmetrize the model")
    if observable == "shc" and model.has_spin:
        msg = deg.gauge_warning(spin)
        if msg:
            advice.append(msg)
    return Diagnosis(
        model=model.name, n_orbitals=model.n_orbitals, observable=label, efermi=ef,
        degeneracy=deg, symmetry=sym, mesh=m.n, shift=m.shift, integral=float(c.sum()),
        hotspots=tuple(spots), top_share=top_share, fd_kubo_difference=diff,
        fd_kubo_scale=fscale, advice=tuple(advice), pair_classes=classes,
        n_pair_sample=n_pairs if classes else 0,
    )


def pair_classes(integrand: Integrand, k: FloatArray, efermi: float) -> tuple[PairClass, ...]:
    """Split the proper spin current's per-k contributions c_k = Σ_{m occ} Σ_n T_mn s_n / V_cell
    by band-pair class (module doc) on the k-points ``k``: in-block, occupied–occupied,
    occupied–empty. The pair terms are the integrand's own (:meth:`Integrand.pairs`)."""
    assert integrand.spin_op is not None
    eig, T = integrand.pairs(k)
    T = T * expectation(eig.vectors, integrand.spin_op)[:, None, :]
    occ = eig.energies <= efermi
    same = eig.block[:, :, None] == eig.block[:, None, :]
    T = T * occ[:, :, None] / integrand.model.cell_measure
    parts = {"in degenerate blocks": (T * same).sum(axis=(1, 2)),
             "occupied-occupied": (T * (occ[:, None, :] & ~same)).sum(axis=(1, 2)),
             "occupied-empty": (T * (~occ[:, None, :] & ~same)).sum(axis=(1, 2))}
    var = max(float(sum(parts.values()).var()), 1e-300)
    n = len(k)
    top = max(1, n // 1000)
    out = []
    for name, c in parts.items():
        sq = np.sort(c**2)[::-1]
        out.append(PairClass(name=name, mean=float(c.mean()), error=float(c.std() / np.sqrt(n)),
                             variance_share=float(c.var() / var),
                             tail_share=float(sq[:top].sum() / max(sq.sum(), 1e-300))))
    return tuple(out)


# ---------------------------------------------------------------------- command line
def _cmd(args: argparse.Namespace) -> int:
    """``tbspin diagnose``: print :func:`diagnose` of a registry model or Wannier90 file."""
    from tbspin.cli.app import EXIT_OK, load_model

    model = load_model(args)
    parities: list[int] | None = None
    if args.inversion:
        from tbspin.symmetry.operations import source_file, spin_order_of, win_parities

        win = source_file(model, "win")
        if win is None:
            raise ParameterError("--inversion needs the .win next to the Hamiltonian file")
        # the .win may have no atoms block (the species are then in the POSCAR beside it,
        # which the reader put in metadata["atoms"])
        atoms = model.metadata.get("atoms")
        species = atoms.get("symbols") if isinstance(atoms, dict) else None
        parities = [int(x) for x in win_parities(win, spin_order_of(model), species=species)]
    if args.symmetry:  # crystal symmetry only: per-operation breaking and tensor shapes
        from tbspin.crystal import ahc_shape, space_group, spin_hall_shape, structure_of, symmetry_breaking

        group = space_group(structure_of(model))
        print(symmetry_breaking(model, group))
        print(f"spin Hall σ^l_ij: {spin_hall_shape(group)}")
        print(f"anomalous Hall (σ_yz, σ_zx, σ_xy): {ahc_shape(group)}")
        return EXIT_OK
    print(diagnose(model, observable=args.observable, efermi=args.efermi, spin=args.spin,
                   current=args.current, efield=args.efield, formula=args.formula,
                   mesh=args.mesh, n_sample=args.n_sample, n_pairs=args.n_pairs,
                   parities=parities))
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    """``tbspin diagnose`` (the ``add_parser(subparsers)`` pattern of :mod:`tbspin.cli.app`)."""
    from tbspin.cli.app import EPILOG, _add_model_args

    p = sub.add_parser(
        "diagnose", help="can this model's BZ integral be trusted? degeneracy, symmetry, hot spots",
        description="Diagnostics before trusting a BZ integral: degeneracy scale and Kramers/PT "
                    "status, time-reversal (and with --inversion, inversion) violation of H_R, "
                    "the share of the integral carried by the top k-points of a uniform mesh "
                    "(where they are: fractional k, bands, energies), fd-vs-kubo agreement "
                    "on random k and which band pairs carry the variance of the proper "
                    "integrand.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_args(p)
    p.add_argument("--observable", choices=["shc", "ahc"], default="shc", help="[shc]")
    p.add_argument("--efermi", type=float, default=None,
                   help="Fermi energy (eV) [mid-gap at half filling]")
    p.add_argument("--spin", default="z", help="spin component l (shc) [z]")
    p.add_argument("--current", default="x", choices=list("xyz"), help="current direction [x]")
    p.add_argument("--efield", "--field", dest="efield", default="y", choices=list("xyz"),
                   help="electric-field direction [y]")
    p.add_argument("--formula", default="proper", choices=["proper", "conventional", "smm_omega"],
                   help="spin Hall formula [proper]")
    p.add_argument("--mesh", type=int, default=8, help="uniform mesh of the hot-spot scan [8]")
    p.add_argument("--n-sample", type=int, default=50,
                   help="random k of the fd-vs-kubo check (0 skips it) [50]")
    p.add_argument("--n-pairs", type=int, default=4000,
                   help="random k of the band-pair variance analysis (proper formula; 0 skips "
                        "it) [4000]")
    p.add_argument("--inversion", action="store_true",
                   help="also test inversion (parities from the .win projections)")
    p.add_argument("--symmetry", action="store_true",
                   help="instead: the crystal's space group (structure and projections from the "
                        ".win/POSCAR), how far H_R breaks each operation and T (meV), and the "
                        "shapes of σ^l_ij and of the AHC vector")
    p.set_defaults(func=_cmd)
