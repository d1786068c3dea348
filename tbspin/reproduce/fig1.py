"""Fig. 1 of Liu, Cullen & Culcer (2023): σ^y_zx of bulk Bi₂Se₃ versus E_F for m ∥ x, y, z.

Model: :func:`tbspin.models.bi2se3` (paper's Eq. 10, Liu 2010 parameters, regularized on a
grid a = 4.14 Å in-plane, c = 3 Å along z), exchange m·(τ0⊗σ) with |m| = 1 meV.
Observables: the proper (conserved) σ^y_zx (spin y, current z, field x; Eq. 2 of the paper),
the conventional ½{s, v} Kubo σ^y_zx, and the proper σ^x_zx, in (ħ/2e) Ω⁻¹ m⁻¹.

Why the old demo was jagged in the conduction band: on a Γ-centred 60³ mesh the in-plane step
is 0.025 Å⁻¹ while the conduction-band Fermi pocket at E_F ≈ 0.42 eV has k_F ≈ 0.05 Å⁻¹, and
the symmetric mesh puts its points in symmetry stars of equal energy. Between 0.41 and 0.43 eV
only the star (±0.076, 0, 0), (0, ±0.076, 0) Å⁻¹ enters (:func:`count_states` counts its 4
points), at k_z = 0 where the σ^y_zx integrand vanishes: the two values are identical. The
same mesh is also too coarse for the filled bands: the integrand lives in the band-inversion
region |k_∥| ≲ √(|M₀|/M₂) = 0.08 Å⁻¹, |k_z| ≲ √(|M₀|/M₁) = 0.2 Å⁻¹.
Remedy used here: a Γ-refined composite mesh (:mod:`tbspin.reproduce._mesh`, in-plane step
0.0063 Å⁻¹ near Γ at the default), shifted off every symmetry point (so Fermi-sea sums grow by
many small steps), and a small Fermi–Dirac smearing (T = 50 K, k_BT = 4.3 meV).

The warping curves (σ^y_zx and −σ^x_zy, m ∥ z, Liu 2010 R₁, R₂) are computed differently:
on the C₃-exact hexagonal regularization, by converged ``tol`` integrals with their standard
errors as the band (:mod:`tbspin.reproduce._warping` says why the composite mesh fails there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tbspin.model.lattice import LatticeModel
from tbspin.models import bi2se3
from tbspin.models.bi2se3 import DEFAULT_A, DEFAULT_C, WARPING_LIU2010
from tbspin.reproduce._common import ConvergenceRow, Series, Timer, finish, prepare_output, talk_style
from tbspin.reproduce._kernels import EdgeTracker, shc_kernel
from tbspin.reproduce._mesh import CompositeMesh, Kernel, MeshSettings, integrate
from tbspin.reproduce._warping import warping_series

UNIT = "(hbar/2e) S/m"
UNIT_TEX = r"$(\hbar/2e)\,\Omega^{-1}\mathrm{m}^{-1}$"
M_SIZE = 1e-3  # eV
DIRECTIONS = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
SHIFT = (0.31, 0.17, 0.43)


@dataclasses.dataclass(frozen=True)
class Settings(MeshSettings):
    """Discretization of Fig. 1 (and of the bulk panel of the torque reproduction)."""

    temperature: float  #: K
    jagged_mesh: int  #: the old demo's Γ-centred mesh (for the jagged-curve diagnosis)


SETTINGS = {
    False: Settings(n=20, box=0.15, refine=6, de=0.005, temperature=50.0, jagged_mesh=60),
    True: Settings(n=10, box=0.15, refine=4, de=0.01, temperature=50.0, jagged_mesh=30),
}
#: E_F probes of the tables: mid-gap and inside the conduction band
E_GAP, E_CB = 0.10, 0.40


def count_states(model_mz: LatticeModel, n: int, lo: float, hi: float) -> int:
    """k-points of a Γ-centred n³ mesh (the old demo's) with a conduction state in (lo, hi]."""
    from tbspin.bz.kmesh import make_mesh

    mesh = make_mesh(model_mz, n)
    count = 0
    for _, k in mesh.chunks(model_mz, 50_000):
        e = np.linalg.eigvalsh(model_mz.hamiltonian(k))[:, 2]
        count += int(np.count_nonzero((e > lo) & (e <= hi)))
    return count


def run(out: Path, quick: bool = False) -> dict[str, object]:
    """Compute Fig. 1, write ``fig1.json`` and ``fig1.png`` into ``out``; return the record."""
    timer = Timer()
    out = prepare_output(out)
    st = SETTINGS[bool(quick)]
    efermi = np.round(np.arange(-0.20, 0.45 + 1e-9, st.de), 6)
    coarse = CompositeMesh.make(st.n, SHIFT, st.box, st.refine, 3)
    meshes = (coarse, coarse.doubled())
    T = st.temperature
    series: list[Series] = []
    rows: list[ConvergenceRow] = []
    edges: dict[str, dict[str, float]] = {}
    for d, vec in DIRECTIONS.items():
        model = bi2se3(magnetization=M_SIZE * np.asarray(vec))
        tracker = EdgeTracker(shc_kernel(model, spin="y", current="z", efield="x"), 1, 2)
        kernels: dict[str, Kernel] = {
            "proper y": tracker,
            "conventional y": shc_kernel(model, spin="y", current="z", efield="x", formula="conventional"),
            "proper x": shc_kernel(model, spin="x", current="z", efield="x"),
        }
        res = [integrate(model, kernels, m, efermi, T) for m in meshes]
        edges[d] = {"valence_top_eV": tracker.top, "conduction_bottom_eV": tracker.bottom}
        for name in kernels:
            formula, spin = name.split()
            s = Series.from_pair(f"{formula} sigma^{spin}_zx, m || {d}", efermi, res[0][name],
                                 res[1][name], x_name="E_F", x_unit="eV", unit=UNIT,
                                 formula=formula, spin=spin, m_direction=d)
            series.append(s)
            probes = (E_GAP, E_CB) if name == "proper y" else (E_GAP,)
            for e in probes:
                i = int(np.argmin(np.abs(efermi - e)))
                rows.append(ConvergenceRow(f"{s.label} @ {efermi[i]:.2f} eV", "mesh n -> 2n",
                                           float(res[0][name][i]), float(res[1][name][i]), UNIT,
                                           scale=float(np.max(np.abs(res[1]["proper y"])))))
    # lattice spacing a -> a/2 (m || z, proper), at the same physical k-mesh as the coarse one
    model_z = bi2se3(magnetization=(0.0, 0.0, M_SIZE))
    half = bi2se3(magnetization=(0.0, 0.0, M_SIZE), a=DEFAULT_A / 2, c=DEFAULT_C / 2)
    half_mesh = CompositeMesh.make(2 * st.n, SHIFT, st.box / 2, st.refine, 3)
    v_half = integrate(half, {"p": shc_kernel(half, spin="y", current="z", efield="x")},
                       half_mesh, efermi, T)["p"]
    for e in (E_GAP, E_CB):
        i = int(np.argmin(np.abs(efermi - e)))
        ref = _coarse_of(rows, "proper sigma^y_zx, m || z", efermi[i])
        rows.append(ConvergenceRow(f"proper sigma^y_zx, m || z @ {efermi[i]:.2f} eV",
                                   f"a={DEFAULT_A},c={DEFAULT_C} -> a/2,c/2 (A)", float(ref),
                                   float(v_half[i]), UNIT))
    # hexagonal warping (Liu 2010), m || z, on the C3-exact hexagonal lattice: converged (tol)
    # integrals with their error bands (_warping explains why not the composite mesh)
    wseries, wmethod = warping_series(efermi, T, M_SIZE, bool(quick), UNIT)
    series.extend(wseries)
    jag = {"mesh": st.jagged_mesh,
           "k_points_with_a_state_0.41_to_0.43_eV": count_states(model_z, st.jagged_mesh, 0.41, 0.43)}
    record = _record(series, edges, efermi, coarse, meshes, T, jag, wmethod)
    _plot(out / "fig1.png", series, edges, T)
    return finish(out, "fig1", record, series, rows, timer, quick)


def _coarse_of(rows: list[ConvergenceRow], label: str, e: float) -> float:
    """The coarse-mesh value recorded in the mesh rows (same model, same coarse mesh)."""
    return next(r.coarse for r in rows if r.quantity == f"{label} @ {e:.2f} eV")


def _find(series: list[Series], label: str) -> Series:
    return next(s for s in series if s.label == label)


def _record(series: list[Series], edges: dict[str, dict[str, float]], efermi: np.ndarray,
            coarse: CompositeMesh, meshes: tuple[CompositeMesh, ...], T: float,
            jag: Mapping[str, object], warping_method: Mapping[str, object]) -> dict[str, object]:
    in_gap = {d: _find(series, f"proper sigma^y_zx, m || {d}").at(E_GAP) for d in DIRECTIONS}
    in_cb = {d: _find(series, f"proper sigma^y_zx, m || {d}").at(E_CB) for d in DIRECTIONS}
    ratio = max(
        float(np.max(np.abs(_find(series, f"proper sigma^x_zx, m || {d}").values)))
        / float(np.max(np.abs(_find(series, f"proper sigma^y_zx, m || {d}").values)))
        for d in DIRECTIONS)
    warp = _find(series, "proper sigma^y_zx, m || z, with warping")
    iso = _find(series, "-proper sigma^x_zy, m || z, with warping")
    plain = _find(series, "proper sigma^y_zx, m || z")
    cb_bottom = min(e["conduction_bottom_eV"] for e in edges.values())
    return {
        "title": "Fig. 1: proper spin Hall conductivity sigma^y_zx of bulk Bi2Se3 vs E_F",
        "parameters": {
            "model": "tbspin.models.bi2se3 (paper Eq. 10)", "parameter_set": "liu2010",
            "magnetization_eV": M_SIZE, "m_directions": DIRECTIONS,
            "lattice_spacing_angstrom": {"a": DEFAULT_A, "c": DEFAULT_C},
            "warping_parameters_eV_A3": WARPING_LIU2010,
            "spin_operator": "tau_0 x sigma (units hbar/2)",
            "component": "spin y, current z, electric field x",
        },
        "method": {
            "formulas": ["proper (Eq. 2)", "conventional (1/2{s,v} Kubo, eta = 0)"],
            "connection": "kubo (velocity matrix elements)",
            "gauge": "tbspin default inside degenerate blocks: m_hat . s (magnetized model)",
            "temperature_K": T,
            "meshes": [m.as_dict() for m in meshes],
            "finest_step_inv_angstrom": meshes[-1].finest_step(bi2se3()).tolist(),
            "efermi_eV": [float(efermi[0]), float(efermi[-1]), float(efermi[1] - efermi[0])],
            "jagged_demo_diagnosis": jag,
            "warping_curves": dict(warping_method),
        },
        "band_edges": edges,
        "paper_comparison": {
            "conduction_band_bottom_eV": {"paper": 0.27, "tbspin": cb_bottom},
            "in_gap_proper_sigma_y_zx_at_0.10_eV": {d: {"value": v, "error": e}
                                                     for d, (v, e) in in_gap.items()},
            "conduction_band_proper_sigma_y_zx_at_0.40_eV": {d: {"value": v, "error": e}
                                                              for d, (v, e) in in_cb.items()},
            "paper_order_of_magnitude_in_CB": 1e3,
            "max_ratio_sigma_x_over_sigma_y": ratio,
            "experiment_range_paper_quotes": [0.15e5, 2e5],
            "warping_change_at_0.10_eV": warp.at(E_GAP)[0] - plain.at(E_GAP)[0],
            "warping_isotropy_max_abs_difference": float(np.max(np.abs(warp.values - iso.values))),
            "warping_isotropy_max_difference_in_errors": float(np.max(
                np.abs(warp.values - iso.values) / np.hypot(warp.error, iso.error))),
            "warping_at_0.10_eV": {"sigma^y_zx": warp.at(E_GAP), "-sigma^x_zy": iso.at(E_GAP)},
            "warping_at_0.40_eV": {"sigma^y_zx": warp.at(E_CB), "-sigma^x_zy": iso.at(E_CB)},
        },
        "notes": [
            "values from the finer mesh; error = |fine - coarse| (mesh n -> 2n), except the "
            "warping curves: hexagonal lattice, converged tol runs, error = their standard error",
            "E_F is the absolute energy of the model (eV); the continuum conduction-band bottom is "
            "C0 + |M0| = 0.2717 eV",
        ],
    }


def _plot(path: Path, series: list[Series], edges: dict[str, dict[str, float]], T: float) -> None:
    talk_style()
    import matplotlib.pyplot as plt

    colors = {"x": "tab:blue", "y": "tab:orange", "z": "tab:green"}
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.6), sharey=False)
    top = max(e["valence_top_eV"] for e in edges.values())
    bottom = min(e["conduction_bottom_eV"] for e in edges.values())
    for ax, formula in zip(axes, ("proper", "conventional"), strict=True):
        for d, c in colors.items():
            s = _find(series, f"{formula} sigma^y_zx, m || {d}")
            ax.plot(s.x, s.values, color=c, label=rf"$\sigma^y_{{zx}}$, $m\parallel {d}$")
            ax.fill_between(s.x, s.values - s.error, s.values + s.error, color=c, alpha=0.25, lw=0)
            if formula == "proper":
                sx = _find(series, f"proper sigma^x_zx, m || {d}")
                ax.plot(sx.x, sx.values, color=c, ls=":", lw=1.5,
                        label=rf"$\sigma^x_{{zx}}$, $m\parallel {d}$")
        if formula == "proper":
            w = _find(series, "proper sigma^y_zx, m || z, with warping")
            ax.plot(w.x, w.values, color="k", ls="--", lw=1.4,
                    label=r"$\sigma^y_{zx}$, $m\parallel z$, + warping (hexagonal, tol)")
            ax.fill_between(w.x, w.values - w.error, w.values + w.error, color="k", alpha=0.2, lw=0)
            wi = _find(series, "-proper sigma^x_zy, m || z, with warping")
            ax.plot(wi.x, wi.values, color="0.45", ls="-.", lw=1.2,
                    label=r"$-\sigma^x_{zy}$, $m\parallel z$, + warping (hexagonal, tol)")
        ax.axvspan(top, bottom, color="0.92", zorder=0)
        ax.axvline(top, color="0.4", lw=1, ls="--")
        ax.axvline(bottom, color="0.4", lw=1, ls="--")
        ax.text(top, 0.02, f" VB top\n {top * 1e3:.0f} meV", transform=ax.get_xaxis_transform(),
                fontsize=10, ha="right")
        ax.text(bottom, 0.02, f" CB bottom\n {bottom * 1e3:.0f} meV",
                transform=ax.get_xaxis_transform(), fontsize=10)
        ax.set_xlabel(r"$E_F$ (eV)")
        ax.set_ylabel(rf"{formula} $\sigma$  " + UNIT_TEX)
        ax.set_title(f"Bi$_2$Se$_3$ bulk, |m| = 1 meV: {formula}")
        ax.axhline(0, color="k", lw=0.6)
        from matplotlib.patches import Patch

        handles, _ = ax.get_legend_handles_labels()
        handles.append(Patch(color="0.5", alpha=0.25, lw=0, label="error: mesh n→2n spread"))
        # below the axes: inside, it hid the warping curve (issue 26)
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3,
                  fontsize=9, frameon=False)
    fig.suptitle(f"Liu, Cullen & Culcer PRB 108, 195434, Fig. 1 (tbspin; T = {T:g} K; "
                 "bands: error = mesh n→2n spread; warping: tol standard error)", fontsize=12)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
