"""``tbspin reproduce all --quick``: every reproduction writes its JSON and PNG, and the trends
the paper states (Liu, Cullen & Culcer, PRB 108, 195434 (2023)) hold in the data it wrote.

The assertions read the written JSON (not recorded numbers). Where a number is expected, its
source is named: the surface Dirac model for the gap 2|m_z|; the integer Hall conductance of a
film whose two surfaces are gapped by the same m_z (½ + ½, Qi, Hughes & Zhang, PRB 78, 195424
(2008)); the paper's text for the trends.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tbspin.reproduce import REGISTRY, main
from tbspin.reproduce._chern import chern_fhs
from tbspin.reproduce._mesh import CompositeMesh


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("reproduce")
    assert main(["all", "--quick", "--out", str(out)]) == 0
    records = {}
    for name in REGISTRY:
        js, png = out / f"{name}.json", out / f"{name}.png"
        assert js.is_file() and png.is_file() and png.stat().st_size > 10_000, name
        records[name] = json.loads(js.read_text())
    return records


def _series(record: dict, label: str) -> dict:
    return next(s for s in record["series"] if s["label"] == label)


def test_every_record_is_complete(results: dict[str, dict]) -> None:
    """Values with one error per point, units, parameters, meshes, method, version."""
    for name, rec in results.items():
        assert rec["name"] == name and rec["quick"] is True
        for key in ("tbspin_version", "parameters", "method", "convergence", "paper", "figure"):
            assert rec[key], (name, key)
        for s in rec["series"]:
            assert len(s["values"]) == len(s["error"]) == len(s["x"]) > 1, (name, s["label"])
            assert s["unit"] and s["x_unit"] and np.all(np.isfinite(s["values"]))
        assert "meshes" in rec["method"]


def test_fig1_three_m_directions_distinct_and_sigma_x_negligible(results: dict[str, dict]) -> None:
    """Paper: σ^y_zx depends on the m direction and is finite in the gap; σ^x_zx ≪ σ^y_zx."""
    rec = results["fig1"]
    ef = np.asarray(_series(rec, "proper sigma^y_zx, m || z")["x"])
    edges = rec["band_edges"]
    top = max(e["valence_top_eV"] for e in edges.values())
    bottom = min(e["conduction_bottom_eV"] for e in edges.values())
    # conduction-band bottom: continuum C0 + |M0| − |m| = 0.2707 eV (Liu 2010 parameters)
    assert bottom == pytest.approx(-0.0083 + 0.28 - 0.001, abs=2e-3)
    assert top < 0 < bottom
    gap = (ef > top + 0.02) & (ef < bottom - 0.02)
    curves = {d: _series(rec, f"proper sigma^y_zx, m || {d}") for d in "xyz"}
    vals = {d: np.asarray(c["values"]) for d, c in curves.items()}
    errs = {d: np.asarray(c["error"]) for d, c in curves.items()}
    for a, b in (("x", "y"), ("y", "z"), ("x", "z")):
        diff = np.abs(vals[a] - vals[b])
        assert np.any(diff > 3 * (errs[a] + errs[b]) + 1.0), (a, b)
    # finite in the gap for some m direction, and flat there (a Fermi-sea property of filled bands)
    finite = [d for d in "xyz" if np.mean(np.abs(vals[d][gap])) > 10 * np.max(errs[d][gap]) + 10]
    assert finite
    for d in finite:
        assert np.ptp(vals[d][gap]) < 0.02 * np.mean(np.abs(vals[d][gap]))
    scale = max(np.max(np.abs(v)) for v in vals.values())
    for d in "xyz":
        sx = np.asarray(_series(rec, f"proper sigma^x_zx, m || {d}")["values"])
        assert np.max(np.abs(sx)) < 0.05 * scale
    # order of magnitude in the conduction band: 10^3 (hbar/2e) S/m (paper, Sec. III)
    cb = ef > bottom + 0.05
    assert 1e2 < np.mean([np.mean(np.abs(vals[d][cb])) for d in "xyz"]) < 1e4


def test_fig1_warping_curves_converged_and_isotropic(results: dict[str, dict]) -> None:
    """Issue 25: the warping curves come from tol runs on the C₃-exact hexagonal lattice, with
    a positive standard error at every E_F (not the composite mesh's n → 2n spread). C₃ about z
    makes the in-plane tensor isotropic, σ^x_zy = −σ^y_zx (the paper's claim): the two curves
    agree within 3 combined standard errors at every E_F. In the gap the warped value stays
    within 25 % of the unwarped one (the converged tol runs give −10 %, docs/reproduction.md)."""
    rec = results["fig1"]
    warp = _series(rec, "proper sigma^y_zx, m || z, with warping")
    iso = _series(rec, "-proper sigma^x_zy, m || z, with warping")
    assert warp["error_method"] == iso["error_method"] and "tol" in warp["error_method"]
    assert rec["method"]["warping_curves"]["tol"] > 0
    v, e = np.asarray(warp["values"]), np.asarray(warp["error"])
    vi, ei = np.asarray(iso["values"]), np.asarray(iso["error"])
    assert np.all(e > 0) and np.all(ei > 0)
    assert np.all(np.abs(v - vi) <= 3 * np.hypot(e, ei))
    plain = _series(rec, "proper sigma^y_zx, m || z")
    i = int(np.argmin(np.abs(np.asarray(plain["x"]) - 0.10)))
    assert abs(v[i] / plain["values"][i] - 1) < 0.25


def test_fig2a_rises_with_fermi_energy(results: dict[str, dict]) -> None:
    """Paper, Fig. 2a: the hole-gas σ^z_yx grows with E_F (|σ| here; sign: docs/reproduction.md)."""
    for s in results["fig2a"]["series"]:
        v, e = np.abs(np.asarray(s["values"])), np.asarray(s["error"])
        assert v[-1] > 1.5 * v[1]
        assert np.all(np.diff(v) > -(e[1:] + e[:-1]) - 1e-9), s["label"]


def test_fig2b_upturn_then_slow_downturn(results: dict[str, dict]) -> None:
    """Paper, Fig. 2b: with F_z, |σ^z_yx| first rises, then falls more slowly; the Rashba
    coefficient computed from the subbands has the same shape (paper's explanation)."""
    rec = results["fig2b"]
    rashba = rec["rashba_beta3_eV_A3"]
    for s in rec["series"]:
        F, v = np.asarray(s["x"]), np.abs(np.asarray(s["values"]))
        i = int(np.argmax(v))
        assert 0 < i < len(v) - 1, s["label"]
        rise = (v[i] - v[0]) / (F[i] - F[0])
        fall = (v[i] - v[-1]) / (F[-1] - F[i])
        assert rise > 0 and fall > 0 and fall < rise, s["label"]
        beta = np.asarray(rashba[s["meta"]["material"]])
        j = int(np.argmax(beta))
        assert 0 < j < len(beta) - 1 and beta[-1] < beta[j]


def test_torque_quantized_hall_and_surface_gap(results: dict[str, dict]) -> None:
    """Film magnetized ∥ z on all layers, E_F mid-gap: σ_xy within 1 % of an integer (|C| = 1:
    two surfaces, ½ each); surface gap = 2|m_z| (surface Dirac model) up to the m = 0
    hybridization gap of the two surfaces; the bulk proper σ^y_zx is finite there."""
    rec = results["torque"]
    hyb = rec["hybridization_gap_eV"]
    assert 0 <= hyb < 1e-3
    for row in rec["table"]:
        c = row["slab_sigma_xy_e2_over_h"]
        assert abs(c - round(c)) < 0.01 and abs(round(c)) == 1
        assert row["chern_diagnostics"]["max_plaquette_flux"] < 1.0
        assert abs(row["surface_gap_eV"] - 2 * row["m_z_eV"]) <= hyb + 1e-5
        assert abs(row["bulk_proper_sigma_y_zx"]) > 10 * row["bulk_proper_sigma_y_zx_error"]


def test_torque_budget_surface_dampinglike_vs_bulk_fieldlike(results: dict[str, dict]) -> None:
    """The torque budget in torque.json (m_z = 20 meV on every layer, two thicknesses).

    Sources of the expectations: inversion (uniform m keeps P; the spin density is odd under it,
    so the layer sum vanishes; exact up to rounding); the Chern number of the gapped film (σ_xy
    = −e²/h from the Kubo sum on the Γ-crowded mesh, within the 2 % the quick mesh resolves);
    the massive Dirac relation χ_top = +ξ σ_xy^top/(2πv) of the top cone
    (H = v(σ_x k_y − σ_y k_x), tests/test_torque_budget.py): its sign, and |ratio| ≤ ξ with the
    in-gap Fermi sea reaching at least half of it, closer to −ξ at smaller m_z (within 20 % at
    10 meV); in the surface gap χ_top is flat like σ_xy, and it shrinks where σ_xy leaves its
    plateau (E_F in the surface valence band). The region verdicts (decided only where the mesh
    errors cannot swap the order): dampinglike (surface) dominates in the surface gap, as the
    paper says; with E_F in the surface valence band, 30 meV or more below the gap, the bulk's
    fieldlike σ^y_zx does.

    The grid values come from the mid-gap reference + Γ-box difference (tbspin.sampling.fermi_box):
    inside the surface gap they equal the graded mesh's (converged there; an independent
    quadrature) within the two error bars; the box holds every Fermi-level state (edge ratio
    ≤ 1e-6) and keeps the inversion-odd profile (layer sum ≤ 1e-6 of χ_top). The Fermi-surface
    (Edelstein, T-even) part needs states at E_F: inside the surface gap, 5 k_BT from its edges,
    it is below 2 % of σ_DL (thermal tails e^−5); with E_F in bands it is finite."""
    b = results["torque"]["torque_budget"]
    films = b["films"]
    assert len(films) >= 2
    for f in films:
        m = f["mid_gap"]
        assert abs(m["chi_total"]) < 1e-6 * abs(m["chi_top"])
        prof = np.asarray(f["chi_per_layer_mid_gap"])
        np.testing.assert_allclose(prof, -prof[::-1], atol=1e-6 * np.abs(prof).max())
        assert m["sigma_xy_e2_over_h"] == pytest.approx(-1.0, abs=0.02)
        xi = f["surface_spin_polarization"]
        assert 0.3 < xi <= 1.0
        assert -xi * 1.02 <= m["relation_ratio"] < -0.5 * xi
        # torque efficiency: σ_DL = 2 (e²/ħ) m_z χ × 1e10 (module docstring of _torque_budget)
        assert m["sigma_DL"] == pytest.approx(
            2 * 2.434135e-4 * b["settings"]["m_z"] * m["chi_top"] * 1e10, rel=1e-5)
    rec = results["torque"]
    ref = films[-1]
    chi = np.asarray(_series(rec, f"surface dampinglike sigma_DL, {ref['layers']} layers")["values"])
    sxy = np.asarray(_series(rec, f"slab sigma_xy, {ref['layers']} layers")["values"])
    ef = np.asarray(_series(rec, "bulk proper sigma^y_zx (fieldlike)")["x"])
    mid, half = ref["dirac_energy_eV"], ref["surface_gap_eV"] / 2
    kT = 8.617e-5 * b["temperature_K"]
    inside = np.abs(ef - mid) < half - 5 * kT  # thermal tails of the band edges < 1 %
    assert inside.any()
    dl_mid = ref["mid_gap"]["sigma_DL"]
    assert np.all(np.abs(chi[inside] / dl_mid - 1) < 0.05)
    assert np.all(np.abs(sxy[inside] + 1) < 0.03)
    dl_err = np.asarray(_series(rec, f"surface dampinglike sigma_DL, {ref['layers']} layers")["error"])
    graded = _series(rec, f"surface dampinglike sigma_DL, graded mesh only, {ref['layers']} layers")
    assert np.all(np.abs(chi[inside] - np.asarray(graded["values"])[inside])
                  <= 3 * (dl_err[inside] + np.asarray(graded["error"])[inside]))
    fs = np.asarray(_series(rec, f"surface fieldlike sigma_FL (Edelstein), {ref['layers']} layers")
                    ["values"])
    assert np.all(np.abs(fs[inside]) < 0.02 * np.abs(chi[inside]))
    assert np.all(np.abs(fs[ef > b["bulk_band_edges_eV"]["conduction_bottom"] + 0.02]) > 100)
    for f in films:
        assert f["box"]["boundary_ratio"] <= 1e-6
        assert f["box"]["chi_total_max"] < 1e-6 * abs(f["mid_gap"]["chi_top"])
        assert 0 < f["box"]["half_width_reduced"] < 0.25
    below = (ef < mid - half - 0.01) & (ef > b["bulk_band_edges_eV"]["valence_top"])
    assert below.any()
    assert np.all(np.abs(chi[below]) < 0.9 * abs(dl_mid)) and np.all(np.abs(sxy[below]) < 0.97)
    # the relation is the m → 0 limit: its in-gap ratio approaches −ξ as m_z shrinks (the O(m)
    # part is the cone's curvature, as for the Wilson-Dirac cone of test_torque_budget.py)
    rows = sorted(results["torque"]["table"], key=lambda r: r["m_z_eV"])
    dev = [abs(r["relation_ratio"] / r["surface_spin_polarization"] + 1) for r in rows]
    assert all(a < b for a, b in zip(dev, dev[1:], strict=False)) and dev[0] < 0.2
    where = b["regions_thickest_film"]
    assert where["surface gap"]["dominant"] == "dampinglike (surface)"
    assert set(where["surface gap"]["verdict_with_edelstein"]) == {"dampinglike (surface)"}
    deep = np.asarray(where["bulk gap"]["efermi_eV"]) < mid - half - 0.03  # surface valence band
    assert deep.any() and all(np.asarray(where["bulk gap"]["verdict"])[deep] == "fieldlike")
    # both torques are one to two orders below the measured 0.15-2 x 10^5 (hbar/2e) S/m
    assert max(abs(dl_mid), abs(ref["mid_gap"]["sigma_FL_bulk"])) < 0.15e5


def test_fhs_chern_matches_tbspin_on_qwz() -> None:
    """The graded-mesh FHS Chern number against tbspin.chern_number (Kubo, uniform mesh) on the
    Qi-Wu-Zhang model (|C| = 1 for 0 < |u| < 2, 0 for |u| > 2; Qi, Wu & Zhang 2006)."""
    import tbspin
    from tbspin.models import qwz

    for u in (-1.0, 1.0, 2.5):
        model = qwz(u)
        ref = tbspin.chern_number(model, bands=1, mesh=40)
        assert chern_fhs(model, 0.0, nodes=16, grading=2.0).chern == pytest.approx(ref, abs=1e-6)


def test_composite_mesh_weights_and_doubling() -> None:
    """Weights sum to 1 and integrate a smooth periodic function like the uniform mesh."""
    cm = CompositeMesh.make(12, (0.3, 0.1), 0.2, 5, 2)
    pts, w = cm.points()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    f = np.cos(2 * np.pi * pts[:, 0]) ** 2 + np.sin(2 * np.pi * pts[:, 1]) ** 4
    assert (w * f).sum() == pytest.approx(0.5 + 3 / 8, abs=1e-3)
    assert cm.doubled().n == (24, 24)


def test_cli_wiring(tmp_path: Path) -> None:
    """add_parser plugs into any argparse CLI; unknown names are refused."""
    import argparse

    from tbspin.reproduce import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["reproduce", "fig2a", "--quick", "--out", str(tmp_path)])
    assert args.name == "fig2a" and args.quick and args.func is main
    with pytest.raises(SystemExit):
        parser.parse_args(["reproduce", "fig9"])


def test_bi2se3_warping_option() -> None:
    """Hexagonal warping of Liu et al., PRB 82, 045122 (2010): off by default (the paper's Eq. 10
    unchanged); when on, the continuum bands have the C₃ symmetry of the crystal
    (E(k) = E(R₁₂₀ k), not C₆ at k_z ≠ 0), and inversion τz and time reversal iσy K survive."""
    from tbspin.models import bi2se3, bi2se3_kp

    k = np.random.default_rng(7).normal(size=(6, 3)) * 0.08
    assert np.allclose(bi2se3().hamiltonian(k), bi2se3(warping=False).hamiltonian(k))
    kp = bi2se3_kp(warping=True)
    assert kp.params["R1"] == 50.6 and kp.params["R2"] == -113.3
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    e = np.linalg.eigvalsh(kp.continuum_hamiltonian(k))
    assert np.allclose(e, np.linalg.eigvalsh(kp.continuum_hamiltonian(k @ rot.T)), atol=1e-12)
    c6 = np.array([[0.5, -np.sqrt(0.75), 0], [np.sqrt(0.75), 0.5, 0], [0, 0, 1]])
    assert not np.allclose(e, np.linalg.eigvalsh(kp.continuum_hamiltonian(k @ c6.T)), atol=1e-6)
    H, Hm = kp.continuum_hamiltonian(k), kp.continuum_hamiltonian(-k)
    P = np.diag([1.0, 1.0, -1.0, -1.0])
    T = np.kron(np.eye(2), np.array([[0, 1], [-1, 0]]))
    assert np.allclose(P @ H @ P, Hm, atol=1e-12)
    assert np.allclose(T @ H.conj() @ T.T, Hm, atol=1e-12)
    warped = bi2se3(warping=True).hamiltonian(k * 1e-3)
    assert np.allclose(warped, kp.continuum_hamiltonian(k * 1e-3), atol=1e-8)
