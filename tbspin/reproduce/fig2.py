"""Fig. 2 of Liu, Cullen & Culcer (2023): σ^z_yx of 2D hole gases (spin z, current y, field x).

Model: :func:`tbspin.models.holes2d` — the 4×4 Luttinger Hamiltonian of a [001] well of width
d = 25 nm projected on the variational HH/LH envelopes of the paper's Eq. (12), gate field F_z,
perpendicular exchange m_z (2/3) J_z with m_z = 1 meV, Luttinger parameters of the paper's
Table I (``parameters="liu2023"``), regularized on a square lattice (a = 10 Å). Spin operator
s = 2J (units ħ/2, i.e. J in units of ħ).

Fermi energy. E_F is the hole Fermi energy measured from the top of the first heavy-hole
subband (its k = 0 energy at m_z = 0), counted positive into the band, as for any 2D carrier
gas: the hole density is set by E_F − E_HH1, whereas the absolute energy of E_HH1 moves with
F_z (confinement plus the field's potential), so measuring from the bulk band edge would change
the density along a Fig. 2b sweep. The model is written in the electron picture, so the sum
runs over the empty electron states above E_HH1 − E_F (the hole Fermi sea); the integrand is
the same in both pictures (same eigenvectors).

Units. 2D spin Hall conductivities in e/8π (tbspin's canonical 2D unit; e/2π = 4 e/8π). The
paper's text does not state the unit of Fig. 2's axis.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from tbspin.model.lattice import LatticeModel
from tbspin.models import holes2d, holes2d_info
from tbspin.models.holes2d import LUTTINGER, rashba_coefficient
from tbspin.reproduce._common import ConvergenceRow, Series, Timer, finish, prepare_output, talk_style
from tbspin.reproduce._kernels import shc_kernel
from tbspin.reproduce._mesh import CompositeMesh, MeshSettings, integrate
from tbspin.types import ArrayLike

UNIT = "e/8pi"
WIDTH = 250.0  # Å (25 nm)
M_Z = 1e-3  # eV
SPACING = 10.0  # Å
PARAMETERS = "liu2023"
SHIFT = (0.31, 0.17)
FIG2B_EF = {"GaAs": 0.015, "InAs": 0.040, "InSb": 0.060, "Ge": 0.020}


@dataclasses.dataclass(frozen=True)
class Settings(MeshSettings):
    """Discretization of Fig. 2."""

    fields: tuple[float, ...]  #: gate fields of Fig. 2b (MV/m)


SETTINGS = {
    False: Settings(n=64, box=0.15, refine=8, de=0.0005,
                    fields=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)),
    True: Settings(n=32, box=0.15, refine=4, de=0.002, fields=(0.1, 0.5, 1.0, 2.0, 4.0, 6.0)),
}


def hole_gas(material: str, gate_field: float, a: float = SPACING) -> tuple[LatticeModel, float]:
    """The hole-gas model and its HH1 edge (eV, electron picture, m_z = 0)."""
    model = holes2d(material, width=WIDTH, gate_field=gate_field, magnetization=M_Z,
                    parameters=PARAMETERS, a=a)
    info = holes2d_info(material, width=WIDTH, gate_field=gate_field, parameters=PARAMETERS)
    return model, info.energy_hh


def sigma_holes(material: str, gate_field: float, ef_hole: ArrayLike, mesh: CompositeMesh,
                a: float = SPACING) -> np.ndarray:
    """σ^z_yx (e/8π) at hole Fermi energies ``ef_hole`` (eV, from the HH1 edge)."""
    model, edge = hole_gas(material, gate_field, a)
    kern = {"s": shc_kernel(model, spin="z", current="y", efield="x")}
    return integrate(model, kern, mesh, edge - np.asarray(ef_hole), 0.0, holes=True)["s"]


def _meshes(st: Settings) -> tuple[CompositeMesh, CompositeMesh]:
    coarse = CompositeMesh.make(st.n, SHIFT, st.box, st.refine, 2)
    return coarse, coarse.doubled()


def _parameters() -> dict[str, object]:
    return {
        "model": "tbspin.models.holes2d (paper Eqs. 11-12, Galerkin projection, electron picture)",
        "width_angstrom": WIDTH, "magnetization_eV": M_Z, "lattice_spacing_angstrom": SPACING,
        "luttinger_table": PARAMETERS,
        "luttinger": {m: [p.gamma1, p.gamma2, p.gamma3] for m, p in LUTTINGER[PARAMETERS].items()},
        "luttinger_source": next(iter(LUTTINGER[PARAMETERS].values())).source,
        "spin_operator": "2J (units hbar/2)", "component": "spin z, current y, electric field x",
        "fermi_energy_reference": "hole Fermi energy from the top of the HH1 subband (k = 0, m_z = 0)",
    }


def _method(meshes: tuple[CompositeMesh, ...], model: LatticeModel) -> dict[str, object]:
    return {"formula": "proper (Eq. 2)", "connection": "kubo", "temperature_K": 0.0,
            "gauge": "tbspin default: m_hat . s (magnetized model)",
            "sum": "over empty electron states (the hole Fermi sea)",
            "meshes": [m.as_dict() for m in meshes],
            "finest_step_inv_angstrom": meshes[-1].finest_step(model).tolist()}


def run_fig2a(out: Path, quick: bool = False) -> dict[str, object]:
    """σ^z_yx vs E_F of the GaAs hole gas at F_z = 1 and 2 MV/m; writes fig2a.json/png."""
    timer = Timer()
    out = prepare_output(out)
    st = SETTINGS[bool(quick)]
    ef = np.round(np.arange(0.0, 0.030 + 1e-12, st.de), 7)
    meshes = _meshes(st)
    series, rows, rashba = [], [], {}
    for F in (1.0, 2.0):
        vals = [sigma_holes("GaAs", F, ef, m) for m in meshes]
        s = Series.from_pair(f"GaAs, F_z = {F:g} MV/m", ef * 1e3, vals[0], vals[1], x_name="E_F",
                             x_unit="meV (holes, from the HH1 edge)", unit=UNIT, gate_field=F)
        series.append(s)
        rashba[F] = rashba_coefficient("GaAs", width=WIDTH, gate_field=F, parameters=PARAMETERS)
        for e in (0.005, 0.020):
            i = int(np.argmin(np.abs(ef - e)))
            rows.append(ConvergenceRow(f"sigma^z_yx GaAs F={F:g} @ {ef[i] * 1e3:.0f} meV", "mesh n -> 2n",
                                       float(vals[0][i]), float(vals[1][i]), UNIT))
    half = CompositeMesh.make(2 * st.n, SHIFT, st.box / 2, st.refine, 2)
    probe = np.array([0.005, 0.020])
    v_half = sigma_holes("GaAs", 1.0, probe, half, a=SPACING / 2)
    v_ref = sigma_holes("GaAs", 1.0, probe, meshes[0])
    for e, r, h in zip(probe, v_ref, v_half, strict=True):
        rows.append(ConvergenceRow(f"sigma^z_yx GaAs F=1 @ {e * 1e3:.0f} meV",
                                   f"a={SPACING:g} -> a/2 (A)", float(r), float(h), UNIT))
    model, _ = hole_gas("GaAs", 1.0)
    record = {
        "title": "Fig. 2a: proper sigma^z_yx of the GaAs hole gas vs E_F (d = 25 nm, m_z = 1 meV)",
        "parameters": {**_parameters(), "material": "GaAs", "gate_fields_MV_per_m": [1.0, 2.0]},
        "method": _method(meshes, model),
        "rashba_beta3_eV_A3": rashba,
        "paper_comparison": {"trend": "paper: sigma rises with E_F",
                             "tbspin_abs_rising": {s.label: _rising(s) for s in series}},
    }
    _plot_2a(out / "fig2a.png", series, rashba)
    return finish(out, "fig2a", record, series, rows, timer, quick)


def run_fig2b(out: Path, quick: bool = False) -> dict[str, object]:
    """σ^z_yx vs F_z for GaAs, InAs, InSb, Ge at E_F = 15, 40, 60, 20 meV; fig2b.json/png."""
    timer = Timer()
    out = prepare_output(out)
    st = SETTINGS[bool(quick)]
    fields = np.asarray(st.fields, float)
    meshes = _meshes(st)
    series, rows, rashba = [], [], {}
    for mat, e in FIG2B_EF.items():
        vals = np.array([[sigma_holes(mat, F, [e], m)[0] for m in meshes] for F in fields])
        s = Series.from_pair(f"{mat}, E_F = {e * 1e3:.0f} meV", fields, vals[:, 0], vals[:, 1],
                             x_name="F_z", x_unit="MV/m", unit=UNIT, material=mat, efermi_hole_eV=e)
        series.append(s)
        rashba[mat] = [rashba_coefficient(mat, width=WIDTH, gate_field=F, parameters=PARAMETERS)
                       for F in fields]
        i = int(np.argmax(np.abs(s.values)))
        rows.append(ConvergenceRow(f"sigma^z_yx {mat} @ F={fields[i]:g} (peak)", "mesh n -> 2n",
                                   float(vals[i, 0]), float(vals[i, 1]), UNIT))
    model, _ = hole_gas("GaAs", 1.0)
    record = {
        "title": "Fig. 2b: proper sigma^z_yx of hole gases vs gate field (d = 25 nm, m_z = 1 meV)",
        "parameters": {**_parameters(), "fermi_energies_eV": FIG2B_EF,
                       "gate_fields_MV_per_m": fields.tolist()},
        "method": _method(meshes, model),
        "rashba_beta3_eV_A3": {"gate_field_MV_per_m": fields.tolist(), **rashba,
                               "definition": "top HH pair splitting 2 beta3 k^3 at k = 0.004 1/A, axial"},
        "paper_comparison": {"trend": "paper: up-turn then slow down-turn with F_z, like the Rashba "
                                      "coefficient (Liu et al. PRL 121, 087701 (2018))",
                             "peak_field_MV_per_m": {
                                 s.meta["material"]: float(fields[int(np.argmax(np.abs(s.values)))])
                                 for s in series},
                             "rashba_peak_field_MV_per_m": {m: float(fields[int(np.argmax(b))])
                                                            for m, b in rashba.items()}},
    }
    _plot_2b(out / "fig2b.png", series, fields, rashba)
    return finish(out, "fig2b", record, series, rows, timer, quick)


def _rising(s: Series) -> bool:
    """|σ| never falls by more than its error from one E_F to the next."""
    return bool(np.all(np.diff(np.abs(s.values)) > -(s.error[1:] + s.error[:-1]) - 1e-12))


def _plot_2a(path: Path, series: list[Series], rashba: dict[float, float]) -> None:
    talk_style()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    for s, c in zip(series, ("tab:blue", "tab:red"), strict=True):
        F = s.meta["gate_field"]
        assert isinstance(F, float)
        ax.plot(s.x, -s.values, color=c,
                label=rf"$F_z$ = {F:g} MV/m ($\beta_3$ = {rashba[F]:.0f} eV Å$^3$)")
        ax.fill_between(s.x, -s.values - s.error, -s.values + s.error, color=c, alpha=0.25, lw=0)
    ax.axvline(0, color="0.4", ls="--", lw=1)
    ax.text(0.3, 0.95, "HH1 edge", transform=ax.get_xaxis_transform(), fontsize=10, va="top")
    ax.set_xlabel(r"hole Fermi energy $E_F$ from the HH1 edge (meV)")
    ax.set_ylabel(r"proper $-\sigma^z_{yx}$ ($e/8\pi$)")
    ax.set_title("GaAs hole gas, d = 25 nm, $m_z$ = 1 meV (Table I)")
    from matplotlib.patches import Patch

    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(color="0.5", alpha=0.25, lw=0, label="error: mesh n→2n spread"))
    ax.legend(handles=handles, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _plot_2b(path: Path, series: list[Series], fields: np.ndarray,
             rashba: dict[str, list[float]]) -> None:
    talk_style()
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5.2))
    colors = ("tab:blue", "tab:orange", "tab:green", "tab:red")
    for s, c in zip(series, colors, strict=True):
        ax.errorbar(s.x, -s.values, yerr=s.error, color=c, marker="o", ms=4, capsize=2, label=s.label)
        bx.plot(fields, rashba[str(s.meta["material"])], color=c, marker="o", ms=4, label=s.meta["material"])
    ax.set_xlabel(r"gate field $F_z$ (MV/m)")
    ax.set_ylabel(r"proper $-\sigma^z_{yx}$ ($e/8\pi$)")
    ax.set_title("hole gases, d = 25 nm, $m_z$ = 1 meV (bars: mesh n→2n spread)", fontsize=12)
    ax.legend(fontsize=10)
    bx.set_xlabel(r"gate field $F_z$ (MV/m)")
    bx.set_ylabel(r"HH1 cubic Rashba coefficient $\beta_3$ (eV Å$^3$)")
    bx.set_title("Rashba coefficient from the subband splitting")
    bx.legend(fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
