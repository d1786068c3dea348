"""Output files of the materials table (:mod:`tbspin.reproduce.materials`): one record and one
figure per material, and the table as Markdown, CSV and JSON (with provenance: checksums of the
inputs and of the written files, symmetry reports, settings, version, wall time, k-points).
Every file is written atomically (:mod:`tbspin.io.atomic`).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tbspin._json import jsonable
from tbspin.io.atomic import atomic_write, save_figure

__all__ = ["write_material", "read_material", "write_table", "CSV_COLUMNS"]

CSV_COLUMNS = ("material", "observable", "formula", "component", "value", "error", "unit",
               "target_relative", "target_absolute", "met", "headline",
               "ratio_proper_over_conventional", "ratio_error", "efermi_eV", "status",
               "k_points", "seconds")


def _sha(path: Path) -> str:
    from tbspin.io.wannier90.text import sha256

    return sha256(path)


def write_material(out: Path, rec: Mapping[str, Any]) -> list[Path]:
    """``<key>.json`` (the resume unit) and, when there is anything to draw, ``<key>.png``."""
    paths = []
    if rec.get("curves") or rec.get("entries"):
        paths.append(plot_material(out / f"{rec['key']}.png", rec))
    text = json.dumps(jsonable(dict(rec)), indent=1, ensure_ascii=False)
    paths.append(atomic_write(out / f"{rec['key']}.json", text))
    return paths


def read_material(out: Path, key: str, settings_key: str, *, complete: bool = True
                  ) -> dict[str, Any] | None:
    """The record ``<key>.json`` in ``out`` if it was made with the inputs and settings of
    ``settings_key`` (and, with ``complete``, finished); else None."""
    path = out / f"{key}.json"
    if not path.is_file():
        return None
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if rec.get("settings_key") != settings_key or (complete and rec.get("status") != "complete"):
        return None
    return dict(rec)


def plot_material(path: Path, rec: Mapping[str, Any]) -> Path:
    """Curves with 1σ error bands, proper vs conventional (and the AHC), one panel per
    independent component; the converged E_F values as points with error bars. A curve whose
    error exceeds its |value| at the median energy is dashed, its band faint, and its label says
    it is not resolved from zero on its mesh."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels: list[str] = []
    for e in rec.get("entries", []):
        lab = f"{e['observable']}:{e['component']}"
        if lab not in labels:
            labels.append(lab)
    n = max(len(labels), 1)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    colours = {"proper": "C0", "conventional": "C3", "berry": "C2"}
    for ax, lab in zip(axes.ravel(), labels, strict=False):
        obs, comp = lab.split(":")
        for key, curve in rec.get("curves", {}).items():
            o, formula = key.split(":")
            if o != obs or comp not in curve["components"]:
                continue
            x = np.asarray(curve["efermi_eV"]) - rec["efermi_eV"]
            y = np.asarray(curve["components"][comp]["values"])
            err = np.asarray(curve["components"][comp]["errors"])
            # a curve whose ±1σ band covers zero at most energies (the proper formula's heavy
            # tail on a fixed mesh) is drawn dashed and labelled so: its shape is noise
            resolved = bool(np.median(err / np.maximum(np.abs(y), 1e-300)) < 1.0)
            mesh = "×".join(str(m) for m in curve.get("mesh", []))
            ax.plot(x, y, color=colours.get(formula, "k"), ls="-" if resolved else "--",
                    label=formula if resolved else f"{formula} ({mesh}: not resolved from 0)")
            ax.fill_between(x, y - err, y + err, color=colours.get(formula, "k"),
                            alpha=0.25 if resolved else 0.1)
        for e in rec.get("entries", []):
            if e["observable"] == obs and e["component"] == comp:
                ax.errorbar([0.0], [e["value"]], yerr=[e["error"]], fmt="o",
                            color=colours.get(e["formula"], "k"), capsize=3)
                unit, sym = e["unit"], e["symbol"]
        ax.axvline(0.0, color="0.6", lw=0.8)
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_title(sym)
        ax.set_xlabel("E − E_F (eV)")
        ax.set_ylabel(unit)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    for ax in axes.ravel()[len(labels):]:
        ax.set_visible(False)
    fig.suptitle(f"{rec['name']} ({rec.get('status', '')}): curves ± 1σ, points: tol runs at E_F")
    fig.tight_layout()
    try:
        return save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)


def _rows(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for rec in records:
        ratios = {r["component"]: r for r in rec.get("ratios", [])}
        for e in rec.get("entries", []):
            r = ratios.get(e["component"]) if e["formula"] == "proper" else None
            rows.append({
                "material": rec["name"], "observable": e["observable"],
                "formula": e["formula"], "component": e["symbol"], "value": e["value"],
                "error": e["error"], "unit": e["unit"],
                "target_relative": e["target_relative"],
                "target_absolute": e["target_absolute"], "met": e["met"],
                "headline": e["headline"],
                "ratio_proper_over_conventional": "" if r is None else r["ratio"],
                "ratio_error": "" if r is None else r["error"],
                "efermi_eV": rec.get("efermi_eV", ""), "status": rec.get("status", ""),
                "k_points": rec.get("k_points", ""), "seconds": rec.get("seconds", "")})
    return rows


def _markdown(records: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> str:
    lines = ["# Materials table: proper vs conventional spin Hall conductivity", "",
             f"tbspin {settings['tbspin_version']}, {settings['created']}; quick = "
             f"{settings['quick']}; values ± 1σ at the DFT Fermi level (tol runs), "
             "targets: headline 2 %, others 5 % or the absolute floor.", ""]
    for rec in records:
        sym = rec.get("symmetry", {})
        lines += [f"## {rec['name']} — {rec.get('kind', '')}", "",
                  f"status: **{rec.get('status')}**"
                  + (" (from an earlier call: not selected in this one)"
                     if rec.get("from_earlier_call") else
                     " (read back, not recomputed)" if rec.get("reused") else "")
                  + f"; E_F = {rec.get('efermi_eV')} eV; k-points {rec.get('k_points', 0):,};"
                  f" {rec.get('seconds', 0)} s"]
        if sym:
            lines.append(
                f"symmetry: {sym.get('group')}; applied: {sym.get('applied')}; bands moved by "
                f"≤ {1e3 * sym.get('max_band_shift_eV', 0):.4g} meV; adjacent-pair splitting "
                f"{1e3 * sym.get('kramers_splitting_before_eV', 0):.4g} → "
                f"{1e3 * sym.get('kramers_splitting_after_eV', 0):.3g} meV"
                + (f" — {sym['reason']}" if sym.get("reason") else ""))
        if rec.get("band_edges"):
            be = rec["band_edges"]
            lines.append(f"band edges ({be['n_occupied']} bands below, {be['mesh']}-point mesh): "
                         f"{be['valence_max_eV']:.4f} … {be['conduction_min_eV']:.4f} eV; E_F in "
                         f"the gap: {be['efermi_in_gap']}")
        if rec.get("slab_thickness_A"):
            lines.append(f"2D: sheet conductance (σ_2D = σ_3D × c, c = "
                         f"{rec['slab_thickness_A']:.4g} Å); a QSH insulator with conserved s_z "
                         "has |σ^z_xy| = 2 e/4π")
        lines += ["", "| observable | formula | component | value ± error | unit | target | met |",
                  "|---|---|---|---|---|---|---|"]
        for e in rec.get("entries", []):
            star = " (headline)" if e["headline"] else ""
            lines.append(f"| {e['observable']} | {e['formula']} | {e['symbol']}{star} | "
                         f"{e['value']:.5g} ± {e['error']:.2g} | {e['unit']} | "
                         f"{e['target_absolute']:.3g} | {'yes' if e['met'] else 'NO'} |")
        if rec.get("ratios"):
            lines += ["", "proper / conventional: " + "; ".join(
                f"{r['symbol']} {r['ratio']:.4g} ± {r['error']:.2g}" for r in rec["ratios"])]
        for w in rec.get("warnings", [])[:6]:
            lines.append(f"- warning: {str(w)[:300]}")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_table(out: Path, records: Sequence[Mapping[str, Any]],
                settings: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``materials.md``, ``materials.csv`` and ``materials.json``; returns the JSON."""
    from tbspin.reproduce._common import tbspin_version

    st = {**settings, "tbspin_version": tbspin_version(),
          "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    atomic_write(out / "materials.md", _markdown(records, st))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(_rows(records))
    atomic_write(out / "materials.csv", buf.getvalue())
    files = ["materials.md", "materials.csv"]
    for rec in records:
        files += [f for f in (f"{rec['key']}.json", f"{rec['key']}.png") if (out / f).is_file()]
    summary = {
        "settings": st,
        "outputs_sha256": {f: _sha(out / f) for f in files},
        "materials": [{k: rec.get(k) for k in (
            "key", "name", "kind", "status", "reused", "from_earlier_call", "run_id",
            "settings_key", "efermi_eV",
            "inputs_sha256", "symmetry", "structure", "spin_order", "settings", "seed",
            "tol_runs", "entries", "ratios", "k_points", "seconds", "warnings",
            "slab_thickness_A", "literature", "headline", "why_headline",
            "tensor_symmetry_residual", "band_edges") if k in rec} for rec in records],
    }
    atomic_write(out / "materials.json", json.dumps(jsonable(summary), indent=1,
                                                    ensure_ascii=False))
    return summary
