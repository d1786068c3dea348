"""Figures: conductivities against Fermi energy, slab bands coloured by surface weight, surface
gaps against magnetization and thickness. Every function returns the matplotlib Figure and saves
it (atomically) when given a path; a non-interactive backend is selected unless one is in use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from tbspin.bz.kpath import KPath
from tbspin.io.atomic import save_figure
from tbspin.results.conductivity import ConductivityResult
from tbspin.slab import MagnetizationSweep, Slab, ThicknessSweep, slab_bands

__all__ = [
    "plot_conductivity",
    "plot_conductivities",
    "plot_slab_bands",
    "plot_gap_vs_magnetization",
    "plot_gap_vs_thickness",
]

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


def _pyplot() -> ModuleType:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        try:
            matplotlib.use("Agg")
        except Exception:  # a backend already in use (e.g. in a notebook) is fine
            log.debug("keeping matplotlib backend %s", matplotlib.get_backend())
    import matplotlib.pyplot as plt

    return plt


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float],
                     constrained_layout: bool = False) -> tuple[Figure, Axes]:
    """A new figure with one Axes, or ``ax`` with the (top-level) figure that holds it."""
    from matplotlib.figure import Figure

    if ax is None:
        fig, new = _pyplot().subplots(figsize=figsize, constrained_layout=constrained_layout)
        return fig, new
    fig = ax.figure
    return (fig if isinstance(fig, Figure) else fig.figure), ax


def _physical_ticks(kp: KPath) -> list[str]:
    """Tick labels of a k-path: a zoomed point ("0.14·M") becomes its distance from Γ and the
    point it heads to, on two lines ("0.15 Å⁻¹" over "toward M")."""
    out = []
    for x, label in zip(kp.special_x, kp.labels, strict=True):
        if "·" not in label:
            out.append(label)
            continue
        i = int(np.argmin(np.abs(kp.x - x)))
        kabs = float(np.linalg.norm(kp.k[i]))
        out.append(f"{kabs:.2g} Å$^{{-1}}$\ntoward {label.split('·', 1)[1]}")
    return out


def _slab_direction_words(slab: Slab) -> str:
    i = slab.direction + 1
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(i, "th")
    return f"finite along a$_{i}$ (the {i}{suffix} lattice vector)"


def plot_slab_bands(
    slab: Slab,
    kpath: KPath | None = None,
    *,
    n_surface_layers: int = 2,
    energy_window: tuple[float, float] | None = None,
    reference_energy: float = 0.0,
    reference_label: str = "Dirac point",
    ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Slab bands along a k-path coloured by surface weight (red top, blue bottom).

    Parameters
    ----------
    slab : Slab
    kpath : KPath, optional
        Default: :meth:`Slab.kpath` (ase's standard path, 200 points).
    n_surface_layers : int
        Layers per surface.
    energy_window : (emin, emax), optional
        y-range (eV, relative to ``reference_energy``).
    reference_energy : float
        Subtracted from the energies (e.g. the Dirac point), eV.
    reference_label : str
        What the reference energy is (axis label "E − E_D" with its value).
    ax : matplotlib Axes, optional
    save : str, optional
        File to save the figure to.

    Returns
    -------
    matplotlib.figure.Figure
    """
    kp = slab.kpath() if kpath is None else kpath
    E, w = slab_bands(slab, kp, n_surface_layers)
    E = E - reference_energy
    fig, ax = _figure_and_axes(ax, (5.5, 4.2))
    colour = w[..., 0] - w[..., 1]  # +1 top, −1 bottom
    size = 1.0 + 12.0 * (w[..., 0] + w[..., 1])
    x = np.broadcast_to(kp.x[:, None], E.shape)
    order = np.argsort((w[..., 0] + w[..., 1]).ravel())  # surface states drawn last
    sc = ax.scatter(x.ravel()[order], E.ravel()[order], c=colour.ravel()[order],
                    s=size.ravel()[order], cmap="coolwarm", vmin=-1, vmax=1, linewidths=0)
    for xs in kp.special_x:
        ax.axvline(xs, color="0.6", lw=0.5)
    ax.set_xticks(kp.special_x, _physical_ticks(kp))
    ax.set_xlim(kp.x[0], kp.x[-1])
    ax.set_xlabel("in-plane wave vector")
    if energy_window is not None:
        ax.set_ylim(*energy_window)
    if reference_energy == 0:
        ax.set_ylabel("E (eV)")
    else:
        ax.set_ylabel(f"E − E$_D$ (eV);  E$_D$ = {reference_energy:.4f} eV ({reference_label})")
    ax.set_title(f"{slab.bulk.name} slab, {slab.n_layers} layers {_slab_direction_words(slab)}\n"
                 f"colour: weight on the {n_surface_layers} top/bottom layers", fontsize=9)
    fig.colorbar(sc, ax=ax, label="top − bottom surface weight")
    if save:
        save_figure(fig, save, dpi=150, bbox_inches="tight")
    return fig


def plot_gap_vs_magnetization(
    sweeps: MagnetizationSweep | Mapping[str, MagnetizationSweep],
    *,
    ax: Axes | None = None,
    save: str | None = None,
) -> Figure:
    """Surface gap (meV) versus |m| (meV) with the linear fit, for one or several sweeps."""
    items = sweeps.items() if isinstance(sweeps, Mapping) else [("", sweeps)]
    fig, ax = _figure_and_axes(ax, (4.5, 3.5))
    for label, sw in items:
        m = np.linalg.norm(sw.magnetizations, axis=1) * 1e3
        line = ax.plot(m, sw.gaps * 1e3, "o", label=f"{label} slope {sw.slope:.3f}".strip())
        if np.isfinite(sw.slope):
            ax.plot(m, (sw.slope * m * 1e-3 + sw.intercept) * 1e3, "-",
                    color=line[0].get_color(), lw=0.8)
    return _finish(fig, ax, "|m| (meV)", "surface gap (meV)", save)


def plot_gap_vs_thickness(
    sweep: ThicknessSweep, *, ax: Axes | None = None, save: str | None = None
) -> Figure:
    """Surface (hybridization) gap versus N on a log scale with the exponential fit."""
    fig, ax = _figure_and_axes(ax, (4.5, 3.5))
    ax.semilogy(sweep.n_layers, sweep.gaps, "o", label="slab")
    if np.isfinite(sweep.decay_per_layer):
        n = np.linspace(sweep.n_layers.min(), sweep.n_layers.max(), 50)
        ax.semilogy(n, sweep.prefactor * np.exp(-sweep.decay_per_layer * n), "-",
                    label=f"fit: κ = {sweep.decay_per_layer:.3f} per layer")
    return _finish(fig, ax, "layers N", "surface (hybridization) gap (eV)", save)


def _finish(fig: Figure, ax: Axes, xlabel: str, ylabel: str, save: str | Path | None) -> Figure:
    """Axis labels, legend, and the atomic save of a sweep figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    if save:
        save_figure(fig, save, dpi=150, bbox_inches="tight")
    return fig


def _tex_label(label: str) -> str:
    """"sigma^y_zx" → σ^y_zx in mathtext; "sigma_xy" → σ_xy; "chi^y_x" → χ^y_x."""
    sym = r"\chi" if label.startswith("chi") else r"\sigma"
    body = label.removeprefix("sigma").removeprefix("chi")
    sup, _, sub = body.partition("_")
    sup = sup.removeprefix("^")
    return rf"${sym}^{{{sup}}}_{{{sub}}}$" if sup else rf"${sym}_{{{sub}}}$"


def _tex_unit(unit: str) -> str:
    """Units of :mod:`tbspin.units` in mathtext (ħ, π, e²/h)."""
    return (unit.replace("hbar", r"$\hbar$").replace("8pi", r"8$\pi$").replace("4pi", r"4$\pi$")
            .replace("2pi", r"2$\pi$").replace("e^2/h", r"$e^2/h$"))


def plot_conductivity(
    result: ConductivityResult, *, unit: str | None = None, ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """One conductivity against Fermi energy, titled with the material or model (and its file),
    the formula, η of the conventional formula and the sampling (mesh, or the k-points of a
    ``tol`` run's random shifts)."""
    if result.components is not None:  # a tensor: one curve per non-zero component
        parts = result.split(nonzero=True) or result.split()
        words = {"berry": "Berry-curvature", "smm_omega": r"$\Sigma_m s_{mm}\Omega_m$"}
        what = f"{words.get(result.formula, result.formula)} {result.kind} tensor"
        if result.formula == "conventional":
            what += rf", $\eta$ = {result.eta:g} eV"
        return plot_conductivities({_tex_label(k): v for k, v in parts.items()}, unit=unit,
                                   ax=ax, save=save, title=f"{_model_title(result)}\n{what}, "
                                   f"{len(parts)} non-zero components, {_sampling_words(result)}",
                                   ylabel="components")
    quantity = _tex_label(result.label)
    formula = getattr(result, "formula", "")
    words = {"berry": "Berry-curvature", "smm_omega": r"$\Sigma_m s_{mm}\Omega_m$"}
    what = f"{words.get(formula, formula)} {quantity}" if formula else quantity
    if formula == "conventional":
        what += rf", $\eta$ = {result.eta:g} eV"
    return plot_conductivities({formula or result.label: result}, unit=unit, ax=ax, save=save,
                               title=f"{_model_title(result)}\n{what}, {_sampling_words(result)}")


def _model_title(result: ConductivityResult) -> str:
    """The model name, with the folder and file of a Wannier90 model (the material)."""
    source = result.provenance.get("source") if isinstance(result.provenance, dict) else None
    files = source.get("files") if isinstance(source, dict) else None
    if files and isinstance(files[0], dict) and files[0].get("path"):
        f = Path(str(files[0]["path"]))
        return f"{result.model}: {f.parent.name}/{f.name}"
    return result.model


def _sampling_words(result: ConductivityResult) -> str:
    """"mesh 16x16x16 (8 shifted 8x8x8 sub-meshes)", "mesh 16x16x16" (``errors=False``), or
    "364 k-points (random shifts), tol 0.05" for a ``tol`` run."""
    samp = result.extras.get("sampling") if isinstance(result.extras, dict) else None
    if isinstance(samp, dict) and "sub_mesh" in samp:
        sub = samp["sub_mesh"]  # "8x8x8", "(10+11)x(10+11)x(10+11)"; a list in older files
        sub = sub if isinstance(sub, str) else "x".join(map(str, sub))
        return f"mesh {'x'.join(map(str, result.mesh))} ({samp['n_sub']} shifted {sub} sub-meshes)"
    if isinstance(samp, dict) and "n_k" in samp:
        tol = samp.get("tol", "?")
        return f"{samp['n_k']} k-points (random shifts), tol {tol if isinstance(tol, str) else tol}"
    return f"mesh {'x'.join(map(str, result.mesh))}"


def plot_conductivities(
    results: Mapping[str, ConductivityResult], *, unit: str | None = None, ax: Axes | None = None,
    save: str | Path | None = None, title: str | None = None, ylabel: str | None = None,
) -> Figure:
    """Several conductivities (same quantity and unit) against Fermi energy, one curve each.

    Results that carry error estimates (the default, and ``tol=`` runs) get a shaded ± 2σ band.
    """
    first = next(iter(results.values()))
    unit = unit or first.unit
    fig, ax = _figure_and_axes(ax, (5.5, 3.8), constrained_layout=True)
    bands = False
    for label, r in results.items():
        vals = r.to(unit)
        (line,) = ax.plot(r.efermi, vals, "-o", ms=2.5, label=label)
        errs = getattr(r, "errors_to", lambda _u: None)(unit)
        if errs is not None:
            bands = True
            ax.fill_between(r.efermi, vals - 2 * errs, vals + 2 * errs, color=line.get_color(),
                            alpha=0.25, lw=0, label=f"{label} ± 2σ" if len(results) > 1
                            else "± 2σ (standard error of the random shifts)")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("$E_F$ (eV)")
    ax.set_ylabel(f"{ylabel or _tex_label(first.label)} ({_tex_unit(unit)})")
    ax.set_title(title or first.model, fontsize=9)
    if len(results) > 1 or bands:
        ax.legend(fontsize=8)
    if save:
        save_figure(fig, save, dpi=130)
    return fig
