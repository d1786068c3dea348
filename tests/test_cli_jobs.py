"""Command line and jobs: nothing silent, nothing lost (issue 12, items 4, 5, 7, 12, 13, 14, 16),
the model registry, and the renamed slab parameters (old names keep working with a warning)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import tbspin
from tbspin.cli import app as cli
from tbspin.cli import jobs
from tbspin.errors import OutputError, ParameterError
from tbspin.models import registry

QUICK_SHC = ["shc", "--model", "kane_mele", "--efermi", "0,0.5", "--mesh", "8", "--no-progress"]


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------- item 4: sweeps of < 2 points
@pytest.mark.parametrize("sweep", [["--sweep-layers", "12", "5"], ["--sweep-mz", "0.01", "0.02", "1"],
                                   ["--sweep-mz", "0.01", "0.01", "3"]])
def test_slab_sweeps_with_fewer_than_two_points_are_usage_errors(tmp_path, capsys, sweep):
    rc = cli.main(["slab", "--model", "qwz", "--direction", "1", "--n-layers", "8",
                   "--out", str(tmp_path), *sweep])
    assert rc == 2
    line = _one_line(capsys.readouterr().err)
    assert sweep[0] in line and "at least 2" in line.replace("two", "2")
    assert not (tmp_path / "summary.txt").exists()


def test_library_sweeps_need_two_points():
    from tbspin.slab import gap_vs_magnetization, gap_vs_thickness

    with pytest.raises(ParameterError, match="at least two"):
        gap_vs_magnetization(tbspin.models.qwz(), [0.01], direction=1, n_layers=8)
    with pytest.raises(ParameterError, match="at least two"):
        gap_vs_thickness(tbspin.models.qwz(), [8, 8], direction=1)


# ---------------------------------------------------------------- item 5: no silent options
def test_eta_with_proper_formula_is_rejected(capsys):
    assert cli.main([*QUICK_SHC, "--eta", "0.01"]) == 2
    assert "--eta" in _one_line(capsys.readouterr().err)


def test_model_and_hr_together_are_rejected(tmp_path, capsys):
    assert cli.main(["shc", "--model", "qwz", "--hr", str(tmp_path / "x_hr.dat")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "--model" in line and "--hr" in line


def test_unit_changes_json_and_figure_or_is_rejected(tmp_path, capsys, monkeypatch):
    assert cli.main([*QUICK_SHC, "--unit", "furlongs"]) == 2
    assert "e/8pi" in _one_line(capsys.readouterr().err)  # names the valid units
    seen = {}
    import tbspin.cli.plotting as plotting

    real = plotting.plot_conductivity

    def spy(result, **kw):
        seen.update(kw)
        return real(result, **kw)

    monkeypatch.setattr(plotting, "plot_conductivity", spy)
    assert cli.main([*QUICK_SHC, "--unit", "e/4pi", "--out", str(tmp_path / "r")]) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    # e/4π is half of e/8π numerically (1 e/4π = 2 e/8π), the conversion of tbspin.units
    assert data["requested_unit"] == "e/4pi"
    np.testing.assert_allclose(data["values_in_requested_unit"], np.array(data["values"]) / 2)
    assert seen["unit"] == "e/4pi" and (tmp_path / "r.png").exists()


def test_checkpoint_under_converge_is_honoured(tmp_path, capsys):
    ck = tmp_path / "ck.npz"
    assert cli.main(["shc", "--model", "kane_mele", "--efermi", "0", "--converge", "6", "8",
                     "--checkpoint", str(ck), "--no-progress", "--no-errors"]) == 0
    assert (tmp_path / "ck.npz.mesh6").exists() and (tmp_path / "ck.npz.mesh8").exists()
    capsys.readouterr()


# ---------------------------------------------------------------- item 7: never lose a result
def test_out_below_a_file_fails_before_computing(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "afile"
    blocker.write_text("x")

    def boom(*a, **k):
        raise AssertionError("computed although the output cannot be written")

    monkeypatch.setattr(tbspin.observables, "spin_hall", boom)
    assert cli.main([*QUICK_SHC, "--out", str(blocker / "r")]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "is a file" in line and str(blocker) in line
    assert cli.main(["slab", "--model", "qwz", "--direction", "1", "--n-layers", "8",
                     "--out", str(blocker / "slab")]) == 1
    assert "is a file" in _one_line(capsys.readouterr().err)


def test_unwritable_folder_fails_before_computing(tmp_path, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(jobs.tempfile, "mkstemp", denied)  # root ignores chmod: simulate it
    with pytest.raises(OutputError, match="cannot create files"):
        jobs.check_writable(tmp_path / "sub" / "r.json", "--out")


def test_write_failure_at_the_end_goes_to_a_fallback_file(tmp_path, capsys, monkeypatch):
    """The folder vanishes (replaced by a file) while computing: the result is saved elsewhere
    (here a temporary folder inside tmp_path: the test leaves no tbspin-fallback-* files in the
    system's temporary folder, issue 26 item 7)."""
    import shutil
    import tempfile

    fallback_dir = tmp_path / "tmp"
    fallback_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fallback_dir))
    out = tmp_path / "gone"
    real = tbspin.observables.spin_hall

    def compute_then_break_folder(*a, **k):
        res = real(*a, **k)
        shutil.rmtree(out)  # the folder (holding the run's lock file) is replaced by a file
        out.write_text("now a file")
        return res

    monkeypatch.setattr(tbspin.observables, "spin_hall", compute_then_break_folder)
    assert cli.main([*QUICK_SHC, "--out", str(out / "r")]) == 1
    err = capsys.readouterr().err
    assert "saved it to" in err
    fallback = err.split("saved it to ")[1].split(" instead")[0]
    assert json.loads(open(fallback).read())["model"]
    assert Path(fallback).parent == fallback_dir


# ---------------------------------------------------------------- item 12: figures
def test_slab_figure_has_physical_labels():
    import matplotlib.pyplot as plt

    from tbspin.cli.plotting import plot_slab_bands
    from tbspin.slab import make_slab

    slab = make_slab(tbspin.models.cubic_ti(), direction=2, n_layers=6)
    fig = plot_slab_bands(slab, slab.kpath(npoints=20, kmax=0.3), reference_energy=0.01)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert not any("·" in t for t in ticks) and any("Å" in t for t in ticks)
    assert "E_ref" not in ax.get_ylabel() and "Dirac" in ax.get_ylabel()
    assert "3rd lattice vector" in ax.get_title()
    plt.close(fig)


def test_conductivity_figure_title_names_formula_and_model(tmp_path):
    import matplotlib.pyplot as plt

    from tbspin.cli.plotting import plot_conductivity

    r = tbspin.spin_hall(tbspin.models.kane_mele(), efermi=[0.0, 0.5], mesh=6, spin="z",
                         formula="conventional")
    fig = plot_conductivity(r)
    title = fig.axes[0].get_title()
    assert "conventional" in title and r.model in title
    plt.close(fig)


# ---------------------------------------------------------------- item 13: progress
def test_slab_sweep_progress_only_when_asked_or_interactive(capsys):
    from tbspin.slab import gap_vs_thickness

    model = tbspin.models.haldane()
    gap_vs_thickness(model, [6, 8], direction=1, progress=True)
    assert "gap vs N" in capsys.readouterr().err
    gap_vs_thickness(model, [6, 8], direction=1)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- item 14: messages, exit codes
@pytest.mark.parametrize("args, words", [
    (["--model", "qwz", "--param", "u=abc"], ["u=", "number", "abc"]),
    (["--model", "bhz", "--param", "magnetization=0,0"], ["magnetization", "three", "0,0,0.001"]),
    (["--model", "qwz", "--param", "magnetization=0,0,1"], ["no parameter", "u, a"]),
    (["--model", "qwz", "--param", "u"], ["NAME=VALUE"]),
])
def test_bad_params_name_the_parameter_and_the_fix(capsys, args, words):
    assert cli.main(["shc", *args, "--mesh", "4", "--no-progress"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("tbspin: error:") and all(w in line for w in words), line


def test_magnetic_top_beyond_the_slab(tmp_path, capsys):
    assert cli.main(["slab", "--model", "qwz", "--direction", "1", "--magnetic-top", "20",
                     "--layers", "10", "--m", "0", "0", "0.1", "--out", str(tmp_path)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "--magnetic-top 20" in line and "10" in line


def test_warnings_are_one_clean_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tbspin.cli.app", "slab", "--model", "qwz",
                        "--direction", "1", "--n-layers", "8", "--field", "0.001", "--npoints",
                        "8", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    warn = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert warn and all(ln.startswith("tbspin: warning") for ln in warn)
    assert ".py" not in r.stderr and "warnings.warn" not in r.stderr
    assert "--gate-field 10)" in r.stderr  # 0.001 V/Å = 10 MV/m, converted


def test_ctrl_c_exits_130_with_one_line(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_models", interrupted)
    assert cli.main(["models"]) == 130
    assert "interrupted" in _one_line(capsys.readouterr().err)


# ---------------------------------------------------------------- item 16: help
def test_help_explains_formula_efermi_exit_codes_and_commands():
    text = cli.build_parser().format_help()
    assert "demo" in text and "models" in text and "exit status" in text and "130" in text
    sub = {a.dest: a for a in cli.build_parser()._actions}["command"].choices
    shc = sub["shc"].format_help()
    assert "smm_omega" in shc and "Berry curvature" in shc and "START:STOP:N" in shc
    assert "--efermi=-0.2:0.4:31" in shc


def test_models_verbose_prints_units_and_sources(capsys):
    assert cli.main(["models", "-v"]) == 0
    out = capsys.readouterr().out
    assert "A0 [eV Å]" in out and "M [eV]" in out and "PRB 82, 045122" in out


# ---------------------------------------------------------------- registry
def test_registry_parameters_are_constructor_keywords():
    for name in registry.names():
        entry = registry.get(name)
        sig = inspect.signature(entry.constructor).parameters
        var_kw = any(q.kind is q.VAR_KEYWORD for q in sig.values())  # bi2se3's **overrides
        for p in entry.parameters:
            assert p.name in sig or var_kw, (name, p.name)
            assert p.kind in registry.KINDS


def test_registry_builds_models_from_strings():
    m = registry.build("kane_mele", {"lambda_v": "0.2", "magnetization": "0,0,0.01"})
    assert m.name == "Kane-Mele" and np.allclose(m.magnetization, [0, 0, 0.01])
    assert set(cli.builtin_models()) == set(registry.names())


# ---------------------------------------------------------------- renamed parameters
def test_deprecated_slab_names_still_work():
    from tbspin.slab import exchange_on_layers, make_slab

    bulk = tbspin.models.cubic_ti()
    new = make_slab(bulk, direction=2, n_layers=5, gate_field=100.0)  # 100 MV/m = 0.01 V/Å
    with pytest.warns(DeprecationWarning, match="n_layers"):
        old = make_slab(bulk, direction=2, layers=5, gate_field=100.0)
    with pytest.warns(DeprecationWarning, match="gate_field"):
        old_f = make_slab(bulk, direction=2, n_layers=5, field=0.01)
    k = np.array([0.1, 0.2, 0.0])
    np.testing.assert_allclose(old.hamiltonian(k), new.hamiltonian(k))
    np.testing.assert_allclose(old_f.hamiltonian(k), new.hamiltonian(k))
    with pytest.warns(DeprecationWarning):
        assert old_f.field == pytest.approx(0.01)
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(new.layers, new.layer_of_orbital)
    with pytest.warns(DeprecationWarning, match="magnetic_layers"):
        f = exchange_on_layers(bulk, [0, 0, 0.1], layers=[4])
    assert f(3) is None and f(4) is not None
    with pytest.raises(ParameterError, match="not both"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_slab(bulk, direction=2, n_layers=5, layers=5)
