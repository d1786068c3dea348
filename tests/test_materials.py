"""The materials table (issue 24 part B): ``tbspin reproduce materials --quick`` on Pt and Fe.

Where the expected values come from:

* Checksums: recomputed in the test with :mod:`hashlib` from the files themselves.
* Tensor shapes: the components a run computes must lie in the support of the shape of the
  material's group (Pt: σ^l_ij ∝ ε_lij, m-3m; Fe m ∥ z: only σ^z_xy = −σ^z_yx, σ^x_yz = −σ^y_xz,
  σ^x_zy = −σ^y_zx and the AHC σ_xy, Seemann et al., PRB 92, 155138 (2015), as in
  tests/test_crystal_data.py). The number of independent components of the proper tensor
  (antisymmetric in current and field) is checked against character theory computed here:
  n = 1/|G| Σ_g χ_axial(g) χ_Λ²(g), with χ_axial = det R tr R and the antisymmetric square
  χ_Λ²(R) = (tr(R)² − tr(R²))/2 of the polar representation; the conventional one with the full
  square tr(R)².
* Resume: a rerun must not call :func:`tbspin.reproduce.materials.compute_material` (a
  monkeypatched counter) and must keep each material's run id.
* Budget: a budget that ends before the first run gives a ConvergenceWarning and a partial table.
* Kill: a table SIGKILLed after its first chunk record must, run again, equal the uninterrupted
  quick table of the same seed (values and errors to 1e-12, the same k-points per run).
"""

from __future__ import annotations

import csv
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from real_fits import data_folder, shared_data

from tbspin.errors import ConvergenceWarning, ParameterError

_ROOT = Path(__file__).resolve().parents[1]
EPS = {"xyz", "yzx", "zxy", "xzy", "zyx", "yxz"}  # the support of ε_lij
FE_SHC = {"zxy", "zyx", "xyz", "yxz", "xzy", "yzx"}


def _data() -> Path:
    """The shared data folder with the Pt and Fe fits (tests/real_fits.py), or skip the test."""
    return shared_data("pt_wanniertools", "fe_wanniertools")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick table of Pt and Fe through the CLI entry point."""
    data = _data()
    from tbspin.reproduce import main

    out = tmp_path_factory.mktemp("materials")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # quick: loose, not converged
        rc = main(["materials", "--only", "pt,fe", "--quick", "--out", str(out), "--workers", "1",
                   "--data", str(data)])
    assert rc == 0
    return out


def test_quick_table_writes_every_file_with_matching_checksums(table: Path) -> None:
    """MD, CSV, JSON and one PNG per material; the JSON's input and output checksums equal the
    SHA-256 of the files; the CSV holds the JSON's entries."""
    for name in ("materials.md", "materials.csv", "materials.json", "pt.png", "fe.png",
                 "pt.json", "fe.json"):
        assert (table / name).is_file() and (table / name).stat().st_size > 0, name
    assert (table / "pt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((table / "materials.json").read_text(encoding="utf-8"))
    for rel, digest in summary["outputs_sha256"].items():
        assert _sha(table / rel) == digest, rel
    assert {"pt.png", "fe.png", "materials.csv"} <= set(summary["outputs_sha256"])
    mats = {m["key"]: m for m in summary["materials"]}
    assert set(mats) == {"pt", "fe"}
    for m in mats.values():
        assert m["inputs_sha256"], m["key"]
        for path, digest in m["inputs_sha256"].items():
            assert _sha(Path(path)) == digest
        assert m["k_points"] > 0 and m["seconds"] > 0
        assert m["settings"]["headline_tol"] > 0 and m["run_id"]
    assert "Fm-3m" in mats["pt"]["symmetry"]["group"] and mats["pt"]["symmetry"]["applied"]
    assert mats["pt"]["symmetry"]["kramers_splitting_after_eV"] < 1e-9
    assert mats["pt"]["symmetry"]["kramers_splitting_before_eV"] > 0.05  # the fit splits pairs
    assert mats["fe"]["symmetry"]["magnetic"] and "reason" in mats["fe"]["symmetry"]
    with open(table / "materials.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    n_entries = sum(len(m["entries"]) for m in mats.values())
    assert len(rows) == n_entries
    pt_rows = [r for r in rows if r["material"] == "Pt"]
    for r in pt_rows:
        e = next(e for e in mats["pt"]["entries"] if e["formula"] == r["formula"])
        assert float(r["value"]) == pytest.approx(e["value"], rel=1e-12)
        assert float(r["error"]) == pytest.approx(e["error"], rel=1e-12)
    md = (table / "materials.md").read_text(encoding="utf-8")
    assert "## Pt" in md and "## Fe" in md and "σ^z_xy (headline)" in md


def test_components_respect_the_tensor_shape(table: Path) -> None:
    """Pt: one independent σ^z_xy per formula, star-averaged over the ε_lij components; Fe m ∥ z:
    AHC only σ_xy, SHC only the three allowed pairs; forbidden components are absent."""
    summary = json.loads((table / "materials.json").read_text(encoding="utf-8"))
    mats = {m["key"]: m for m in summary["materials"]}
    pt = mats["pt"]
    assert sorted((e["formula"], e["component"]) for e in pt["entries"]) == [
        ("conventional", "zxy"), ("proper", "zxy")]
    for key in ("shc:proper", "shc:conventional"):
        # symmetrized Pt: the representative only, the star average of the six ε_lij
        # components at every k (the kernel computes exactly those six)
        run = pt["tol_runs"][key]
        assert run["components_computed"] == ["zxy"]
        assert run["star_average"]["kernel_components"] == len(EPS) == 6
        assert run["star_average"].get("star_elements") is None  # the whole group
    fe = mats["fe"]
    assert fe["tol_runs"]["shc:proper"]["star_average"] is None  # raw fit: no stars
    assert fe["tol_runs"]["ahc:berry"]["components_computed"] == ["xy"]
    for key in ("shc:proper", "shc:conventional"):
        assert set(fe["tol_runs"][key]["components_computed"]) == FE_SHC
    conv = sorted(e["component"] for e in fe["entries"] if e["formula"] == "conventional")
    prop = sorted(e["component"] for e in fe["entries"] if e["formula"] == "proper")
    assert len(conv) == 3 and len(prop) == 2 and set(conv) | set(prop) <= FE_SHC
    assert [e["component"] for e in fe["entries"] if e["observable"] == "ahc"] == ["xy"]
    for m in (pt, fe):
        ratios = {r["component"]: r for r in m["ratios"]}
        for e in m["entries"]:
            if e["formula"] == "proper" and e["component"] in ratios:
                c = next(x for x in m["entries"] if x["formula"] == "conventional"
                         and x["component"] == e["component"])
                assert ratios[e["component"]]["ratio"] == pytest.approx(e["value"] / c["value"])


def test_rerun_reads_finished_materials_back(table: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A complete material is not recomputed (counter), keeps its run id; an incomplete one is,
    and its tol runs replay the passes saved in ``journals/`` by the first call."""
    from tbspin.reproduce import materials

    before = {m["key"]: m for m in json.loads(
        (table / "materials.json").read_text(encoding="utf-8"))["materials"]}
    calls: list[str] = []
    real = materials.compute_material

    def counted(mat, *args, **kw):  # type: ignore[no-untyped-def]
        calls.append(mat.key)
        return real(mat, *args, **kw)

    monkeypatch.setattr(materials, "compute_material", counted)
    # mark Fe complete, Pt partial: Fe must be read back, Pt recomputed
    for key, status in (("fe", "complete"), ("pt", "partial")):
        rec = json.loads((table / f"{key}.json").read_text(encoding="utf-8"))
        rec["status"] = status
        (table / f"{key}.json").write_text(json.dumps(rec), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        after = materials.run_table(table, only="pt,fe", quick=True, workers=1, data=_data())
    assert calls == ["pt"]
    mats = {m["key"]: m for m in after["materials"]}
    assert mats["fe"]["run_id"] == before["fe"]["run_id"] and mats["fe"]["reused"]
    assert mats["pt"]["run_id"] != before["pt"]["run_id"]
    # the recomputed Pt replays its tol runs from the journals of the first call
    for key in ("shc:proper", "shc:conventional"):
        resume = mats["pt"]["tol_runs"][key]["resume"]
        assert resume["steps_replayed"] >= 1, resume
    assert {p.name for p in (table / "journals").glob("*/pt-*.json")} == {
        "pt-shc-proper.json", "pt-shc-conventional.json"}
    for rel, digest in after["outputs_sha256"].items():
        assert _sha(table / rel) == digest
    # a call for one material extends the table: Pt stays in it, from the earlier call
    calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = materials.run_table(table, only="fe", quick=True, workers=1, data=_data())
    assert calls == []
    assert [m["key"] for m in one["materials"]] == ["pt", "fe"]
    assert one["materials"][0]["from_earlier_call"] and "from_earlier_call" not in one["materials"][1]
    assert "from an earlier call" in (table / "materials.md").read_text(encoding="utf-8")


def _one_run_budget(materials):  # type: ignore[no-untyped-def]
    """A Budget that hands out one 60-s share and is exhausted after it (only the first ``tol``
    run of a table runs)."""

    class OneRun(materials.Budget):
        shares = 0

        def share(self, runs_left: int) -> float | None:
            self.shares += 1
            return 60.0

        @property
        def exhausted(self) -> bool:
            return self.shares >= 1

    return OneRun


def _one_run_and_its_curve_budget(materials):  # type: ignore[no-untyped-def]
    """Like :func:`_one_run_budget`, but exhausted only after the first run's E_F curve: the
    check after the share (before the curve) still passes."""

    class OneRunAndCurve(materials.Budget):
        shares = checks = 0

        def share(self, runs_left: int) -> float | None:
            self.shares += 1
            return 60.0

        @property
        def exhausted(self) -> bool:
            if self.shares:
                self.checks += 1
            return self.checks >= 2

    return OneRunAndCurve


def test_budget_exhaustion_warns_and_writes_a_partial_table(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget ends after the first ``tol`` run (a Budget that is exhausted once it has
    handed out one share): ConvergenceWarning, Pt partial with the proper entry only, Fe not
    run, and the table files written. A budget that ends before anything ran: both not run."""
    data = _data()
    from tbspin.reproduce import materials

    monkeypatch.setattr(materials, "Budget", _one_run_budget(materials))
    with pytest.warns(ConvergenceWarning, match="not complete"):
        s = materials.run_table(tmp_path, only="pt,fe", quick=True, budget_seconds=60,
                                workers=1, data=data)
    mats = {m["key"]: m for m in s["materials"]}
    assert mats["pt"]["status"] == "partial"
    assert [(e["formula"], e["component"]) for e in mats["pt"]["entries"]] == [("proper", "zxy")]
    assert any("not run, budget exhausted" in w for w in mats["pt"]["warnings"])
    assert mats["fe"]["status"] == "not run"
    for name in ("materials.md", "materials.csv", "materials.json", "pt.json", "pt.png"):
        assert (tmp_path / name).is_file()
    assert "partial" in (tmp_path / "materials.md").read_text(encoding="utf-8")
    monkeypatch.undo()
    with pytest.warns(ConvergenceWarning, match="not complete"):
        s = materials.run_table(tmp_path / "none", only="fe", quick=True, budget_seconds=1e-9,
                                data=data)
    assert s["materials"][0]["status"] in ("not run", "partial")
    assert s["materials"][0]["entries"] == []


def _character_count(group: object, antisymmetric: bool) -> int:
    """Independent T-even components of σ^l_ij by character theory (module docstring)."""
    total, n = 0.0, 0
    for R, _anti in group.point_operations():  # type: ignore[attr-defined]
        chi, chi2 = np.trace(R), np.trace(R @ R)
        pair = (chi**2 - chi2) / 2 if antisymmetric else chi**2
        # antiunitary elements act with the T parity (+1 for the T-even response)
        total += np.linalg.det(R) * chi * pair
        n += 1
    return int(round(total / n))


@pytest.mark.parametrize("folder", ["pt_wanniertools", "bi2se3_wanniertools",
                                    "wse2_1tp_wanniertools"])
def test_independent_components_match_character_theory(folder: str) -> None:
    """Representatives per formula = character count (proper: antisymmetric square)."""
    from tbspin.crystal import read_structure, space_group, spin_hall_shape
    from tbspin.reproduce.materials import independent

    name = "POSCAR" if folder.startswith("bi2se3") else "wannier90.win"
    st = read_structure(data_folder(folder, (name,)) / name)
    g = space_group(st)
    P = spin_hall_shape(g).projector
    for anti in (False, True):
        reps, comps = independent(P, 3, antisymmetric=anti, in_plane=False)
        assert len(reps) == _character_count(g, anti), (folder, anti)
        assert set(reps) <= set(comps)
        if anti:
            assert all(c[1] != c[2] for c in reps)
    reps, _ = independent(P, 3, antisymmetric=False, in_plane=False, prefer=(1, 2, 0))
    if folder.startswith("bi2se3"):
        assert reps[0] == (1, 2, 0)  # the headline σ^y_zx is chosen as a representative


def test_bad_options_are_refused() -> None:
    """Unknown material, table options with a paper figure, non-positive budget: clear errors."""
    from tbspin.reproduce import main
    from tbspin.reproduce._materials_decl import select
    from tbspin.reproduce.materials import Budget

    with pytest.raises(ParameterError, match="unknown material"):
        select("pt,gold")
    with pytest.raises(ParameterError, match="only for 'tbspin reproduce materials'"):
        main(["fig1", "--only", "pt"])
    with pytest.raises(ParameterError, match="budget_seconds"):
        Budget(0)
    assert [m.key for m in select(None)] == ["pt", "fe", "bi2se3", "wse2"]


def test_killed_table_resumes_to_the_same_entries(table: Path, tmp_path: Path) -> None:
    """SIGKILL a table (quick Pt) once its first tol run has saved a pass or a chunk, run it again:
    the entries (values, errors, k-points of every tol run) equal those of the uninterrupted
    quick table of the ``table`` fixture (same seed), and the rerun replayed the journal."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tbspin.reproduce import materials

    out = tmp_path / "killed"
    code = ("import warnings; warnings.simplefilter('ignore'); from tbspin.reproduce import main; "
            f"main(['materials', '--only', 'pt', '--quick', '--out', {str(out)!r}, "
            f"'--workers', '1', '--data', {str(_data())!r}])")
    env = dict(os.environ, TBSPIN_WORKERS="1", PYTHONPATH=str(_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    def saved() -> bool:  # a finished pass in the journal, or a finished chunk in its log
        try:
            journal = next((out / "journals").glob("*/pt-shc-proper.json"))
            chunks = journal.with_name(journal.name + ".chunks")
            if chunks.is_file() and chunks.read_bytes().count(b"\n") >= 2:  # header + 1
                return True
            return journal.is_file() and len(json.loads(journal.read_text())["steps"]) >= 1
        except (OSError, ValueError, KeyError, StopIteration):
            return False

    deadline = time.monotonic() + 120
    while not saved() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert killed, "the quick table finished before its first pass was journaled"
    assert not (out / "pt.json").is_file()  # killed before the material was recorded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = materials.run_table(out, only="pt", quick=True, workers=1, data=_data())
    pt = next(m for m in again["materials"] if m["key"] == "pt")
    ref = json.loads((table / "pt.json").read_text(encoding="utf-8"))
    resume = pt["tol_runs"]["shc:proper"]["resume"]
    assert resume["steps_replayed"] + resume["chunks_replayed"] >= 1, resume
    for a, b in zip(pt["entries"], ref["entries"], strict=True):
        assert (a["formula"], a["component"]) == (b["formula"], b["component"])
        assert a["value"] == pytest.approx(b["value"], rel=1e-12, abs=1e-12)
        assert a["error"] == pytest.approx(b["error"], rel=1e-12, abs=1e-12)
    for key, run in pt["tol_runs"].items():
        assert run["n_k"] == ref["tol_runs"][key]["n_k"]


def test_proper_run_with_gap_refinement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A material whose Discretization asks for ``proper_gap`` (base mesh, eV) runs its proper
    ``tol`` run on gap-refined meshes from that base (the record says so) and its E_F curve as
    one gap-refined pass of the curve mesh, whose value at E_F agrees with the ``tol`` run's
    within 4 combined errors (two independent unbiased estimates of the same integral); quick
    Pt with proper_gap = (4, 1.0); only the proper run and its curve."""
    data = _data()
    import dataclasses

    from tbspin.reproduce import _materials_decl as decl
    from tbspin.reproduce import materials

    pt = decl.MATERIALS["pt"]
    monkeypatch.setitem(decl.MATERIALS, "pt", dataclasses.replace(
        pt, quick=dataclasses.replace(pt.quick, proper_gap=(4, 1.0))))
    monkeypatch.setattr(materials, "Budget", _one_run_and_its_curve_budget(materials))
    with pytest.warns(ConvergenceWarning, match="not complete"):
        s = materials.run_table(tmp_path, only="pt", quick=True, budget_seconds=60, workers=1,
                                data=data)
    run = s["materials"][0]["tol_runs"]["shc:proper"]
    assert run["refine_gap"] == 1.0 and run["mesh"][0] >= 4
    # the engine's gauge totals (tbspin.bands.gauge_tally): per gauge operator, over at least
    # the run's k-points; the record holds one line per operator that left degeneracies
    unlifted = run["gauge_unlifted"]
    assert unlifted and all(0 <= v["unlifted_k"] <= v["k_points"] and v["k_points"] >= run["n_k"]
                            for v in unlifted.values())
    lines = [w for w in s["materials"][0]["warnings"]
             if w.startswith("shc proper:") and "does not lift" in w]
    assert len(lines) == sum(1 for v in unlifted.values() if v["unlifted_k"])
    assert not any("(×" in w for w in lines)
    rec = json.loads((tmp_path / "pt.json").read_text(encoding="utf-8"))
    assert rec["tol_runs"]["shc:proper"]["refine_gap"] == 1.0
    # the proper kernel depends on its gauge operators: the cell-bounded pilot acted, and the
    # record says with which threshold (tbspin.sampling.gaptree.GAUGE_SPLIT)
    from tbspin.sampling.gaptree import GAUGE_SPLIT
    curve = rec["curves"]["shc:proper"]
    assert curve["refine_gap"] == 1.0 and "gap-refined tree" in curve["error_method"]
    assert curve["gauge_split"] == GAUGE_SPLIT and curve["seed"] == materials.SEED
    assert curve["k_points"] > 16 * 4**3  # 16 shifts of a tree that split 4³ cells
    mid = len(curve["efermi_eV"]) // 2
    head = next(e for e in rec["entries"] if e["headline"])
    c = curve["components"][head["component"]]
    assert np.isfinite(c["errors"][mid]) and c["errors"][mid] > 0
    assert abs(c["values"][mid] - head["value"]) <= 4 * np.hypot(c["errors"][mid], head["error"])

    assert rec["tol_runs"]["shc:proper"]["gauge_split"] == GAUGE_SPLIT


def test_record_keeps_each_warning_once_with_its_repeats() -> None:
    """The engine sums a run's gauge warnings into one line per gauge operator
    (tests/test_gauge_tally.py); the record keeps every warning text once, with its number of
    repeats, and does no summing of its own (a count "at 16 of 113" stays as it is)."""
    from tbspin.reproduce.materials import _collect

    gauge = ("shc proper: the gauge operator (s_z) does not lift the band degeneracy at 16 of "
             "113 k-points (14.2 %); parallel transport fixes the basis there")
    assert _collect([gauge, "other", "other"]) == [gauge, "other (×2)"]


def test_curve_settings_keep_the_tol_journals(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Other E_F curves (mesh, points) change a material's record key but not its journals'
    key, so a table re-run for new curves replays its ``tol`` runs instead of recomputing
    them (nineteenth session: a WSe₂ re-run for new curves recomputed 20 min of proper run);
    a change of the ``tol`` runs' settings (start mesh) changes both. Quick Pt, AHC-free
    table: the second call with other curves replays every step and chunk of the first."""
    import dataclasses

    from tbspin.reproduce import _materials_decl as decl
    from tbspin.reproduce import materials

    pt = decl.MATERIALS["pt"]
    curves = dataclasses.replace(pt, quick=dataclasses.replace(pt.quick, curve_mesh=5,
                                                               curve_points=3))
    start = dataclasses.replace(pt, quick=dataclasses.replace(pt.quick, start_mesh=5))
    assert curves.identity() != pt.identity() and curves.tol_identity() == pt.tol_identity()
    assert start.tol_identity() != pt.tol_identity()
    data = _data()
    with pytest.warns(ConvergenceWarning, match="not complete"):  # quick tables: partial
        s1 = materials.run_table(tmp_path, only="pt", quick=True, workers=1, data=data)
    monkeypatch.setitem(decl.MATERIALS, "pt", curves)
    with pytest.warns(ConvergenceWarning, match="not complete"):
        s2 = materials.run_table(tmp_path, only="pt", quick=True, workers=1, data=data)
    r1, r2 = s1["materials"][0], s2["materials"][0]
    assert not r2.get("reused")  # another record key: recomputed, not read back
    rec = json.loads((tmp_path / "pt.json").read_text(encoding="utf-8"))
    assert all(run["resume"]["steps_replayed"] >= 1 and run["resume"]["chunks_computed"] == 0
               for run in rec["tol_runs"].values())
    assert [e["value"] for e in r1["entries"]] == [e["value"] for e in r2["entries"]]
    assert len(rec["curves"]["shc:proper"]["efermi_eV"]) == 3


def test_k_budget_is_not_part_of_a_materials_identity(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A table stopped by its k budget is continued by a call with a larger one: the budget
    changes neither the material's settings key nor its journals folder (before it did, and
    a rerun with ``--budget-k`` started every run afresh); the CLI passes ``--budget-k`` on."""
    from tbspin.reproduce import main as reproduce_main
    from tbspin.reproduce import materials
    from tbspin.reproduce._materials_decl import MATERIALS

    pt = MATERIALS["pt"]
    more = pt.with_budget_k(123_456)
    assert more.full.budget_k == more.quick.budget_k == 123_456 != pt.full.budget_k
    assert more.identity() == pt.identity() and repr(more) != repr(pt)
    assert (materials._settings_key(more, False, {"a": "1"})
            == materials._settings_key(pt, False, {"a": "1"}))
    assert materials._settings_key(pt, True, None) != materials._settings_key(pt, False, None)
    seen: dict[str, object] = {}
    monkeypatch.setattr(materials, "run_table", lambda out, **kw: seen.update(kw) or {})
    reproduce_main(["materials", "--quick", "--only", "pt", "--budget-k", "5000",
                    "--out", str(tmp_path)])
    assert seen["budget_k"] == 5000 and seen["only"] == "pt"
    with pytest.raises(ParameterError, match="--budget-k"):
        reproduce_main(["fig1", "--budget-k", "5000"])
