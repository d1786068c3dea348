"""The spin-torque picture of Liu, Cullen & Culcer (2023), Sec. III: magnetization ∥ z, E_F in
the magnetic surface gap of a Bi₂Se₃ film.

The paper contrasts two topological responses there: the bulk proper spin Hall current
(σ^y_zx, finite in the bulk gap, a *fieldlike* torque) and the surface states' quantized
anomalous Hall effect (their charge current is a spin density, a *dampinglike* torque). We
compute, on the same regularized model (:func:`tbspin.models.bi2se3_kp`):

* a slab of N layers (Kwant fill via :func:`tbspin.slab.make_slab`), exchange m_z s_z on every
  layer: the surface gap at Γ versus m_z (:func:`tbspin.slab.surface_gap`), which the surface
  Dirac model predicts to be 2|m_z| (less the sub-meV hybridization of the two surfaces);
* the slab's Hall conductance with E_F at mid-gap: σ_xy = −C e²/h from the Chern number C of the
  occupied slab bands (:mod:`tbspin.reproduce._chern`; |C| = 1 for a film magnetized on both
  surfaces: ½ + ½ from the two gapped Dirac cones);
* the bulk proper σ^y_zx (same machinery as fig1) at the same E_F window and the same m_z.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from tbspin.models import bi2se3, bi2se3_kp
from tbspin.models.bi2se3 import DEFAULT_A, DEFAULT_C
from tbspin.reproduce._chern import chern_fhs
from tbspin.reproduce._common import ConvergenceRow, Series, Timer, finish, prepare_output, talk_style
from tbspin.reproduce._kernels import shc_kernel
from tbspin.reproduce._mesh import CompositeMesh, integrate
from tbspin.reproduce.fig1 import SETTINGS as FIG1_SETTINGS
from tbspin.reproduce.fig1 import SHIFT, UNIT, UNIT_TEX

if TYPE_CHECKING:
    from tbspin.slab import Slab



@dataclasses.dataclass(frozen=True)
class Settings:
    """Discretization of the torque reproduction."""

    layers: int  #: slab thickness (quintuple layers)
    mz: tuple[float, ...]  #: exchange m_z values (eV)
    nodes: tuple[int, int]  #: coarse and fine graded k-meshes of the slab Chern number
    window: float  #: half-width of the E_F window around the Dirac energy (eV)
    de: float  #: E_F step (eV)


class TableRow(TypedDict):
    """One m_z of the torque table (energies eV, conductances as named)."""

    m_z_eV: float
    surface_gap_eV: float
    two_m_z_eV: float
    gap_over_2mz: float
    mid_gap_energy_eV: float
    surface_state_energies_eV: list[float]
    in_bulk_gap: bool
    chern_number: float
    slab_sigma_xy_e2_over_h: float
    distance_to_integer: float
    chern_diagnostics: dict[str, object]
    bulk_proper_sigma_y_zx: float
    bulk_proper_sigma_y_zx_error: float


SETTINGS = {
    False: Settings(layers=30, mz=(0.005, 0.010, 0.015, 0.020), nodes=(32, 48), window=0.04, de=0.002),
    True: Settings(layers=30, mz=(0.010, 0.020), nodes=(16, 24), window=0.04, de=0.005),
}


def _slab(layers: int, mz: float) -> Slab:
    from tbspin.slab import exchange_on_layers, make_slab

    spin = {k: v for k, v in bi2se3().operators.items() if k in ("sx", "sy", "sz")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # kwant: MUMPS not available
        slab = make_slab(bi2se3_kp().kwant_builder(), direction=2, n_layers=layers, operators=spin)
    if mz == 0:
        return slab
    return slab.with_layer_onsite(exchange_on_layers([spin["sx"], spin["sy"], spin["sz"]], [0, 0, mz]))


def run(out: Path, quick: bool = False) -> dict[str, object]:
    """Surface gap, slab Hall conductance and bulk σ^y_zx for m ∥ z; writes torque.json/png."""
    from tbspin.slab import surface_gap

    timer = Timer()
    out = prepare_output(out)
    st = SETTINGS[bool(quick)]
    f1 = FIG1_SETTINGS[bool(quick)]
    coarse = CompositeMesh.make(f1.n, SHIFT, f1.box, f1.refine, 3)
    meshes = (coarse, coarse.doubled())
    hyb = surface_gap(_slab(st.layers, 0.0))
    table: list[TableRow] = []
    rows: list[ConvergenceRow] = []
    bulk_curves: dict[float, tuple[np.ndarray, list[np.ndarray]]] = {}
    for mz in st.mz:
        slab = _slab(st.layers, mz)
        g = surface_gap(slab)
        ef = g.dirac_energy
        cherns = [chern_fhs(slab.model, ef, nodes=n) for n in st.nodes]
        c = cherns[-1]
        model = bi2se3(magnetization=(0.0, 0.0, mz))
        energies = np.round(ef + np.arange(-st.window, st.window + 1e-9, st.de), 6)
        kern = {"p": shc_kernel(model, spin="y", current="z", efield="x")}
        vals = [integrate(model, kern, m, energies, f1.temperature)["p"] for m in meshes]
        bulk_curves[mz] = (energies, vals)
        i0 = int(np.argmin(np.abs(energies - ef)))
        table.append({
            "m_z_eV": mz, "surface_gap_eV": g.gap, "two_m_z_eV": 2 * mz,
            "gap_over_2mz": g.gap / (2 * mz), "mid_gap_energy_eV": ef,
            "surface_state_energies_eV": g.energies.tolist(), "in_bulk_gap": g.in_bulk_gap,
            "chern_number": c.chern, "slab_sigma_xy_e2_over_h": -c.chern,
            "distance_to_integer": abs(c.chern - round(c.chern)),
            "chern_diagnostics": {"n_occupied": c.n_occupied, "max_plaquette_flux": c.max_plaquette_flux,
                                  "gap_below_eV": c.gap_below, "gap_above_eV": c.gap_above,
                                  "nodes": [ch.nodes for ch in cherns], "grading": c.grading,
                                  "chern_per_mesh": [ch.chern for ch in cherns]},
            "bulk_proper_sigma_y_zx": float(vals[1][i0]),
            "bulk_proper_sigma_y_zx_error": float(abs(vals[1][i0] - vals[0][i0])),
        })
        rows.append(ConvergenceRow(f"slab Chern number, m_z = {mz * 1e3:g} meV",
                                   f"graded mesh {st.nodes[0]}^2 -> {st.nodes[1]}^2",
                                   cherns[0].chern, cherns[1].chern, "1"))
        rows.append(ConvergenceRow(f"bulk proper sigma^y_zx, m_z = {mz * 1e3:g} meV @ mid-gap",
                                   "mesh n -> 2n", float(vals[0][i0]), float(vals[1][i0]), UNIT))
    series = [Series.from_pair(f"bulk proper sigma^y_zx, m_z = {mz * 1e3:g} meV", e, v[0], v[1],
                               x_name="E_F", x_unit="eV", unit=UNIT, m_z=mz)
              for mz, (e, v) in bulk_curves.items()]
    gaps = np.array([t["surface_gap_eV"] for t in table])
    mzs = np.array(st.mz)
    slope, intercept = np.polyfit(mzs, gaps, 1)
    record = {
        "title": "Spin torque picture: Bi2Se3 film with m || z, E_F in the magnetic surface gap",
        "parameters": {"model": "tbspin.models.bi2se3_kp (paper Eq. 10, liu2010) -> Kwant slab",
                       "layers": st.layers, "slab_thickness_angstrom": st.layers * DEFAULT_C,
                       "lattice_spacing_angstrom": {"a": DEFAULT_A, "c": DEFAULT_C},
                       "magnetic_layers": "all", "m_z_eV": list(st.mz),
                       "spin_operator": "tau_0 x sigma (units hbar/2)"},
        "method": {"surface_gap": "tbspin.slab.surface_gap at Gamma",
                   "hall": "Chern number of the occupied slab bands, Fukui-Hatsugai-Suzuki link "
                           "variables on a graded mesh; sigma_xy = -C e^2/h (tbspin's AHC sign)",
                   "bulk": "proper sigma^y_zx on fig1's composite meshes",
                   "meshes": [m.as_dict() for m in meshes], "temperature_K": f1.temperature},
        "hybridization_gap_eV": hyb.gap,
        "table": table,
        "gap_fit": {"slope": float(slope), "intercept_eV": float(intercept)},
        "paper_comparison": {
            "statement": "E_F in the surface gap: the surface states give a quantized anomalous Hall "
                         "current (dampinglike torque), the bulk a finite proper spin Hall current "
                         "(fieldlike torque)"},
    }
    _print_table(table, hyb.gap)
    _plot(out / "torque.png", table, series, hyb.gap)
    return finish(out, "torque", record, series, rows, timer, quick)


def _print_table(table: list[TableRow], hyb: float) -> None:
    print(f"torque: hybridization gap at m = 0: {hyb * 1e3:.3f} meV")
    print(f"  {'m_z (meV)':>9s} {'gap (meV)':>10s} {'2|m_z|':>8s} {'C':>8s} {'sigma_xy (e2/h)':>16s} "
          f"{'bulk sigma^y_zx ((hbar/2e) S/m)':>32s}")
    for t in table:
        print(f"  {t['m_z_eV'] * 1e3:9.1f} {t['surface_gap_eV'] * 1e3:10.3f} {t['two_m_z_eV'] * 1e3:8.1f} "
              f"{t['chern_number']:8.4f} {t['slab_sigma_xy_e2_over_h']:16.4f} "
              f"{t['bulk_proper_sigma_y_zx']:24.1f} ± {t['bulk_proper_sigma_y_zx_error']:.1f}")


def _plot(path: Path, table: list[TableRow], series: list[Series], hyb: float) -> None:
    talk_style()
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5.2))
    mz = np.array([t["m_z_eV"] for t in table]) * 1e3
    gap = np.array([t["surface_gap_eV"] for t in table]) * 1e3
    ax.plot(mz, gap, "o-", color="tab:purple", label="slab surface gap at Γ")
    ax.plot(mz, 2 * mz, "k:", label=r"$2|m_z|$ (surface Dirac model)")
    for i, (m, g, t) in enumerate(zip(mz, gap, table, strict=True)):
        last = i == len(mz) - 1  # inside the frame: left of the last point, right of the others
        ax.annotate(rf"$\sigma_{{xy}}$ = {t['slab_sigma_xy_e2_over_h']:+.3f} $e^2/h$", (m, g),
                    textcoords="offset points", xytext=(-12 if last else 12, -12 if last else -4),
                    ha="right" if last else "left", va="center", fontsize=10)
    ax.margins(x=0.08, y=0.1)
    ax.set_xlabel(r"$m_z$ on every layer (meV)")
    ax.set_ylabel("surface gap (meV)")
    ax.set_title(f"Bi$_2$Se$_3$ film, m ∥ z on all layers (hybridization {hyb * 1e3:.2f} meV)")
    ax.legend(loc="lower right")
    t = table[-1]
    s = next(x for x in series if x.meta["m_z"] == t["m_z_eV"])
    bx.plot(s.x, s.values, color="tab:green",
            label=rf"bulk proper $\sigma^y_{{zx}}$, $m_z$ = {t['m_z_eV'] * 1e3:g} meV")
    bx.fill_between(s.x, s.values - s.error, s.values + s.error, color="tab:green", alpha=0.25, lw=0)
    lo, hi = sorted(t["surface_state_energies_eV"])
    bx.axvspan(lo, hi, color="tab:purple", alpha=0.15,
               label=rf"surface gap: slab $\sigma_{{xy}}$ = {t['slab_sigma_xy_e2_over_h']:+.0f} $e^2/h$")
    bx.set_ylim(0, 1.3 * float(np.max(s.values + s.error)))
    bx.set_xlabel(r"$E_F$ (eV)")
    bx.set_ylabel(r"bulk proper $\sigma^y_{zx}$ " + UNIT_TEX)
    bx.set_title("fieldlike (bulk spin Hall) vs dampinglike (surface QAH)")
    bx.legend(loc="lower left", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
