"""Issue 26, items 3–5: every result file reruns its number, no work is lost, every option acts
or is refused.

Each test failed on 0.2: result files had no command line, no ``--param`` overrides, no
``--symmetrize`` record and ``seed: null``; results were overwritten silently and two runs on one
``--out`` both "wrote"; SIGTERM exited without saving; ``tol=5``, ``budget`` without ``tol``,
``--tol`` with ``--converge``, ``--lattice`` with ``--model`` and ``eta`` with the proper formula
were accepted and ignored; ``spin_hall(..., tol=0.05)`` without ``mesh`` was a TypeError.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import tbspin
from tbspin.bz.kmesh import make_mesh
from tbspin.cli import app as cli
from tbspin.errors import LongRunWarning, OutputError, ParameterError
from tbspin.models import bhz, kane_mele
from tbspin.observables import _options as options

ROOT = Path(__file__).resolve().parents[1]
KM_TOL = ["shc", "--model", "kane_mele", "--efermi", "0", "--tol", "0.05", "--no-progress"]


def _json(stem: Path) -> dict:
    return json.loads(stem.with_suffix(".json").read_text())


# ---------------------------------------------------------------- item 3: rerun from the file
def test_result_file_records_command_overrides_seed_and_limits(tmp_path, capsys) -> None:
    out = tmp_path / "r"
    assert cli.main([*KM_TOL, "--param", "lambda_r=0.02", "--out", str(out)]) == 0
    d = _json(out)
    run, samp = d["extras"]["run"], d["extras"]["sampling"]
    assert "--param lambda_r=0.02" in run["command"] and run["argv"][0] == "shc"
    assert run["model"] == {"model": "kane_mele", "param": {"lambda_r": "0.02"}}
    assert d["provenance"]["overrides"] == {"lambda_r": 0.02}  # converted value, in provenance
    assert run["tbspin"] == tbspin.__version__ and "git_commit" in run and run["symmetrize"] is False
    assert isinstance(samp["seed"], int) and samp["seed_given"] is None
    assert samp["budget_k"] == options.DEFAULT_BUDGET_K and samp["tol"] == 0.05
    # the recorded seed reruns the number bit for bit (two unseeded runs differ: 0.2's problem)
    again = tmp_path / "again"
    argv = [*run["argv"][:-2], "--seed", str(samp["seed"]), "--out", str(again)]
    assert cli.main(argv) == 0
    assert _json(again)["raw"] == d["raw"] and _json(again)["raw_errors"] == d["raw_errors"]


def test_library_tol_run_records_the_drawn_seed() -> None:
    kw = dict(efermi=[0.0], spin="z", current="x", efield="y", tol=0.05, workers=1,
              progress=False)
    first = tbspin.spin_hall(kane_mele(), mesh=8, **kw)
    seed = first.extras["sampling"]["seed"]
    assert isinstance(seed, int)
    rerun = tbspin.spin_hall(kane_mele(), mesh=8, seed=seed, **kw)
    assert np.array_equal(rerun.raw, first.raw) and np.array_equal(rerun.raw_errors,
                                                                    first.raw_errors)


def test_symmetrize_and_its_report_are_in_the_result(tmp_path, capsys) -> None:
    out = tmp_path / "sym"
    assert cli.main(["shc", "--model", "kane_mele", "--symmetrize", "--efermi", "0", "--mesh",
                     "8", "--no-progress", "--out", str(out)]) == 0
    sym = _json(out)["extras"]["run"]["symmetrize"]
    assert sym["requested"] is True and "time reversal" in sym["applied"]
    assert "symmetrized: time reversal" in sym["report"]  # the SymmetryReport text
    assert sym["report"] in capsys.readouterr().err  # the same text the user saw


# ---------------------------------------------------------------- item 4: nothing lost
def test_existing_results_need_force(tmp_path, capsys) -> None:
    out = tmp_path / "r"
    args = ["shc", "--model", "kane_mele", "--efermi", "0", "--mesh", "6", "--no-progress",
            "--out", str(out)]
    assert cli.main(args) == 0
    before = out.with_suffix(".json").read_text()
    capsys.readouterr()
    assert cli.main([*args[:5], "--mesh", "8", "--no-progress", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "r.json exists" in err and "--force" in err
    assert out.with_suffix(".json").read_text() == before
    assert cli.main([*args, "--force"]) == 0
    assert out.with_suffix(".json").read_text() != before  # new run id


def test_a_second_run_on_a_locked_output_is_refused(tmp_path, capsys) -> None:
    from tbspin.cli.outputs import lock_path, output_lock

    out = tmp_path / "r"
    with output_lock(out):  # a live run (this process) holds the path
        rc = cli.main(["shc", "--model", "kane_mele", "--efermi", "0", "--mesh", "6",
                       "--no-progress", "--out", str(out)])
        assert rc == 1
        err = capsys.readouterr().err
        assert f"process {os.getpid()}" in err and str(lock_path(out)) in err
        assert not out.with_suffix(".json").exists()
    assert not lock_path(out).exists()  # released
    # a lock left by a process that has ended is taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path(out).write_text(json.dumps({"host": os.uname().nodename, "pid": dead.pid}))
    assert cli.main(["shc", "--model", "kane_mele", "--efermi", "0", "--mesh", "6",
                     "--no-progress", "--out", str(out)]) == 0
    assert "stale lock" in capsys.readouterr().err


def test_slab_without_out_writes_a_new_folder(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["slab", "--model", "kane_mele", "--direction", "1", "--n-layers", "6",
            "--npoints", "8", "--no-progress"]
    assert cli.main(args) == 0
    first = (tmp_path / "results" / "slab" / "summary.txt").read_text()
    assert cli.main([*args, "--gate-field", "1"]) == 0  # another run
    assert (tmp_path / "results" / "slab" / "summary.txt").read_text() == first
    assert "gate field 1 MV/m" in (tmp_path / "results" / "slab-2" / "summary.txt").read_text()
    # an explicit --out holding a run is refused without --force
    capsys.readouterr()
    assert cli.main([*args, "--out", "results/slab"]) == 1
    assert "--force" in capsys.readouterr().err


def test_sigterm_saves_the_checkpoint_and_exits_143(tmp_path) -> None:
    ck = tmp_path / "run.npz"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TBSPIN_WORKERS="1")
    cmd = [sys.executable, "-m", "tbspin.cli.app", "shc", "--model", "kane_mele", "--efermi", "0",
           "--mesh", "1000", "--no-progress", "--checkpoint", str(ck), "--no-errors"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ck.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert ck.exists(), "no checkpoint after the first chunk"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == cli.EXIT_TERMINATED, err
    assert "terminated (SIGTERM)" in err and "holds" in err and str(ck) in err
    with np.load(ck) as z:
        assert z["done"].any() and not z["done"].all()  # partial work kept


# ---------------------------------------------------------------- item 5: act or refuse
@pytest.mark.parametrize(("kw", "words"), [
    (dict(mesh=8, eta=0.01), "'eta'.*conventional"),
    (dict(mesh=8, budget=10.0), "'budget'.*without 'tol'"),
    (dict(mesh=8, budget_k=1000), "'budget_k'.*without 'tol'"),
    (dict(mesh=8, seed=3, errors=False), "'seed'.*errors=False and no 'tol'"),
    (dict(mesh=8, shift=0.5), "'shift'.*errors=False"),
    (dict(mesh=8, tol=0.05, errors=False), "errors=False.*'tol'"),
    (dict(mesh=8, tol=5), "'tol'.*\\(0, 1\\)"),
    (dict(mesh=8, tol=0.0), "'tol'.*\\(0, 1\\)"),
    (dict(mesh=8, tol=0.05, shift=0.5), "'shift'.*'tol'"),
    (dict(), "'mesh' is required"),
])
def test_options_that_would_be_ignored_are_refused(kw, words) -> None:
    with pytest.raises(ParameterError, match=words):
        tbspin.spin_hall(kane_mele(), efermi=0.0, formula="proper", progress=False, **kw)


def test_tol_without_mesh_starts_from_the_default_mesh() -> None:
    r = tbspin.spin_hall(bhz(M=-0.02), efermi=[0.0], tol=0.05, seed=1, workers=1,
                         progress=False)
    assert r.extras["sampling"]["start_mesh"] == [options.DEFAULT_TOL_MESH]
    ref = tbspin.spin_hall(bhz(M=-0.02), efermi=[0.0], tol=0.05, seed=1, workers=1,
                           progress=False, mesh=options.DEFAULT_TOL_MESH)
    assert np.array_equal(r.raw, ref.raw)


@pytest.mark.parametrize(("extra", "words"), [
    (["--tol", "0.05", "--converge", "4", "8"], "--tol and --converge"),
    (["--mesh", "6", "--lattice", "1,0,0,1"], "--lattice applies to Wannier90"),
    (["--mesh", "6", "--budget", "10"], "--budget only acts"),
    (["--mesh", "6", "--budget-k", "1000"], "--budget-k only acts"),
    (["--mesh", "6", "--no-errors", "--seed", "1"], "no effect with --no-errors"),
    (["--mesh", "6", "--shift", "0.5"], "--shift fixes one plain mesh"),
    (["--mesh", "6", "--tol", "0.1", "--no-errors"], "--no-errors and --tol"),
])
def test_cli_refuses_options_that_would_be_ignored(extra, words, capsys) -> None:
    assert cli.main(["ahc", "--model", "kane_mele", "--efermi", "0", "--no-progress",
                     *extra]) == 2
    assert words in capsys.readouterr().err


def test_budget_k_acts_and_the_warning_names_existing_options(tmp_path, capsys) -> None:
    """The k-point cap was a hidden 2e7 whose warning said "raise budget_k", an option the CLI
    did not have; --budget-k sets it and the warning names the CLI options."""
    rc = cli.main([*KM_TOL[:-3], "--tol", "0.0001", "--mesh", "4", "--budget-k", "3000",
                   "--seed", "1", "--no-progress", "--out", str(tmp_path / "b")])
    assert rc == 0
    err = capsys.readouterr().err
    assert "ConvergenceWarning" in err and "CLI --budget-k" in err and "CLI --budget)" in err
    samp = _json(tmp_path / "b")["extras"]["sampling"]
    assert samp["budget_k"] == 3000 and samp["n_k"] <= 3000 and samp["converged"] is False
    # a cap below the first pass is refused, not silently exceeded (16 shifts x 40^2 = 25600)
    assert cli.main([*KM_TOL, "--mesh", "40", "--budget-k", "3000"]) == 2
    assert "budget_k=3000 k-points is less than the first pass" in capsys.readouterr().err


def test_huge_mesh_gets_a_run_time_estimate(monkeypatch) -> None:
    """--mesh 100000 on a 2D model (1e10 k-points) used to start a days-long run silently; the
    estimate times the integrand on 64 k-points (an independent bound: even 1 µs per k-point
    is 1e4 s > LONG_RUN_SECONDS)."""
    import tbspin.observables._run as obs

    def no_integration(*a, **k):
        raise RuntimeError("integration started")

    monkeypatch.setattr(obs, "integrate", no_integration)
    with pytest.warns(LongRunWarning, match=r"1e\+10 k-points: this run will take about"):
        with pytest.raises(RuntimeError, match="integration started"):
            tbspin.spin_hall(kane_mele(), efermi=0.0, mesh=100000, progress=False, workers=1,
                             errors=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LongRunWarning)
        assert options.warn_long_run(None, make_mesh(kane_mele(), 40)) is None  # not timed


def test_output_lock_refuses_while_held(tmp_path) -> None:
    from tbspin.cli.outputs import output_lock

    with output_lock(tmp_path / "x"), pytest.raises(OutputError, match="being written"):
        with output_lock(tmp_path / "x"):
            pass


def test_slab_without_surface_states_is_a_failure_not_a_usage_error(tmp_path, capsys) -> None:
    """Issue 26 item 7: valid options whose slab has no surface-state pair exited 2 (usage)."""
    rc = cli.main(["slab", "--model", "kane_mele", "--direction", "1", "--n-layers", "8",
                   "--npoints", "8", "--no-progress", "--out", str(tmp_path / "s")])
    assert rc == cli.EXIT_FAILURE
    assert "no pair of both surface states" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # no empty folder left behind


# ---------------------------------------------------------------- item 8: help
def _subparsers() -> dict:
    import argparse

    return {a.dest: a for a in cli.build_parser()._actions
            if isinstance(a, argparse._SubParsersAction)}["command"].choices


def test_every_option_shows_its_default() -> None:
    """0.2 showed no default for --tol, --budget, --method, slab --out and others."""
    import argparse
    import re

    missing = []
    for name, sp in _subparsers().items():
        for a in sp._actions:
            if (not a.option_strings or a.help == argparse.SUPPRESS
                    or isinstance(a, (argparse._HelpAction, argparse._StoreTrueAction))):
                continue
            if not re.search(r"\[[^\]]+\]\s*$", a.help or ""):
                missing.append(f"{name} {a.option_strings[0]}")
    assert missing == []


def test_unit_values_are_listed_and_ahc_help_does_not_talk_about_spin_hall() -> None:
    from tbspin import units

    sub = _subparsers()
    shc, ahc = sub["shc"].format_help(), sub["ahc"].format_help()
    for kind, text in (("shc", shc), ("ahc", ahc)):
        flat = " ".join(text.split())
        for d in (2, 3):
            for u in units.available_units(kind, d):
                assert repr(u) in flat, (kind, u)
    for spin_words in ("σ^l_ij", "(ħ/2e)", "proper spin current", "spin component]"):
        assert spin_words not in " ".join(ahc.split()), spin_words
    assert "σ^l_ij" in shc


# ---------------------------------------------------------------- item 8: figure titles
def test_conductivity_figure_names_material_eta_and_sampling(tmp_path) -> None:
    """0.2 titled Wannier plots "wannier90: conventional" (no material, no η) and a tol plot
    "mesh 16x16x16" although it used random shifts, with an unlabelled error band."""
    import matplotlib.pyplot as plt

    from tbspin.cli.plotting import plot_conductivity
    from tbspin.io.wannier90 import write_hr

    folder = tmp_path / "km_material"
    folder.mkdir()
    km = kane_mele(lambda_r=0.0)
    write_hr(km, folder / "wannier90_hr.dat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w90 = tbspin.io.read_wannier90(folder / "wannier90_hr.dat", lattice=km.lattice,
                                       positions=km.positions, spin_order="interleaved")
    conv = tbspin.spin_hall(w90, efermi=[0.0, 0.5], mesh=6, formula="conventional", eta=0.05,
                            progress=False)
    fig = plot_conductivity(conv)
    title = fig.axes[0].get_title()
    assert "km_material/wannier90_hr.dat" in title and "0.05 eV" in title and "mesh 6x6" in title
    plt.close(fig)
    tol = tbspin.spin_hall(km, efermi=[0.0, 0.5], tol=0.05, seed=1, progress=False)
    fig = plot_conductivity(tol)
    ax = fig.axes[0]
    n_k = tol.extras["sampling"]["n_k"]
    assert f"{n_k} k-points (random shifts)" in ax.get_title() and "mesh" not in ax.get_title()
    assert any("2σ" in t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)
