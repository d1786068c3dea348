"""Issue 24 (part A): converged (``tol``) runs on a dask cluster, resumed inside a killed pass,
with per-component tolerances and a headline Fermi energy.

Models: the Kane–Mele model with an exchange field m = (0.03, 0, 0.05) t (conventional spin
Hall tensor: σ^z_xy ≈ −4.1 next to σ^x_xy ≈ σ^y_xy ≈ 0.045, i.e. 1 % of it; values in e/8π)
and the BHZ model (proper σ^z_xy). Every expected number is computed inside the test by an
independent run: local threads for the cluster, an uninterrupted run for the resume, and the
stopping rule itself (each error against its own target) for the tolerances.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tbspin
import tbspin.engine.points as points
from tbspin.errors import ConvergenceWarning, ParameterError
from tbspin.models import bhz, kane_mele

#: the exchange field of the Kane–Mele model (units of t): breaks T, so the conventional
#: σ^x_xy and σ^y_xy are nonzero but ~1 % of σ^z_xy
M_EXCHANGE = (0.03, 0.0, 0.05)
#: the headline component σ^z_xy to 2 %, σ^x_xy to 5 %, σ^y_xy to 50 % (its own size each)
TOLS = [0.02, 0.05, 0.5]
KM = dict(efermi=[0.0, 0.3], components=["zxy", "xxy", "yxy"], formula="conventional",
          mesh=12, seed=11, progress=False)


def _meets(result: tbspin.ConductivityResult, tols: list[float], at: int) -> np.ndarray:
    """Per component: error ≤ tol_c × |value| at Fermi energy ``at`` (the per-component rule
    with abs_floor = 0)."""
    return result.errors[at] <= np.array(tols) * np.abs(result.values[at])


# ---------------------------------------------------------------------- (a) dask cluster
def test_tol_run_on_a_local_cluster_equals_local_threads(tmp_path: Path) -> None:
    """Same seed: a LocalCluster of 2 worker processes (through compute(client=) with a
    checkpoint, and through `tbspin compute --scheduler`) gives the values, errors and k-point
    count of 2 local threads to 1e-12 (measured: bitwise equal); the chunks arrive in any
    order and are folded in chunk order."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    model = kane_mele(magnetization=M_EXCHANGE)
    kw = dict(KM, tol=TOLS, converge_at=0.0, mesh=32)  # several 4096-point chunks per pass
    threads = tbspin.compute(model, "shc", workers=2, **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        dask = tbspin.compute(model, "shc", client=client, checkpoint=tmp_path / "run.json", **kw)
        from tbspin.cli import app as cli

        assert cli.main(["compute", "shc", "--model", "kane_mele", "--param",
                         "magnetization=0.03,0,0.05", "--components", "zxy,xxy,yxy",
                         "--formula", "conventional", "--efermi", "0,0.3", "--mesh", "32",
                         "--seed", "11", "--tol", "0.02,0.05,0.5", "--converge-at", "0",
                         "--scheduler", cluster.scheduler_address, "--no-progress",
                         "--out", str(tmp_path / "cli")]) == 0
    for res in (dask,):
        np.testing.assert_allclose(res.raw, threads.raw, rtol=1e-12, atol=0)
        np.testing.assert_allclose(res.raw_errors, threads.raw_errors, rtol=1e-12, atol=0)
        assert res.extras["sampling"]["n_k"] == threads.extras["sampling"]["n_k"]
    # several chunks per pass went through the cluster (counted by the chunk log)
    resume = dask.extras["sampling"]["resume"]
    passes = len(dask.extras["sampling"]["history"])
    assert resume["chunks_computed"] > 2 * passes and resume["chunks_replayed"] == 0
    cli_out = json.loads((tmp_path / "cli.json").read_text())
    np.testing.assert_allclose(cli_out["values"], threads.values, rtol=1e-12, atol=0)
    np.testing.assert_allclose(cli_out["errors"], threads.errors, rtol=1e-12, atol=0)
    assert cli_out["extras"]["sampling"]["tol"] == TOLS
    assert cli_out["extras"]["sampling"]["converge_at"] == [0.0]


# ---------------------------------------------------------------------- (b) kill and resume
_KILLED = """
import sys, time
import tbspin, tbspin.engine.points as points
from tbspin.models import bhz

real = points.evaluate_batch

def counted(kernel, batch):
    # one line per chunk evaluation started, then a slow chunk (a window for the kill)
    with open(sys.argv[2], "a") as fh:
        fh.write("1\\n")
    time.sleep(0.05)
    return real(kernel, batch)

points.evaluate_batch = counted
tbspin.spin_hall(bhz(M=-0.02), checkpoint=sys.argv[1], **{kw})
"""
BHZ = dict(efermi=[0.0, 0.01], spin="z", current="x", efield="y", formula="proper", mesh=24,
           tol=0.004, seed=3, progress=False, workers=1)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the chunk evaluations of this process (evaluate_batch: one call per chunk)."""
    real, calls = points.evaluate_batch, []

    def counted(kernel, batch):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(kernel, batch)

    monkeypatch.setattr(points, "evaluate_batch", counted)
    return calls


def _records(log: Path) -> tuple[int, int]:
    """(step of the log's header, complete chunk records) of a chunk log."""
    text = log.read_text() if log.exists() else ""
    lines = text.split("\n")[:-1]  # a torn last line (no newline yet) is not a record
    if not lines:
        return -1, 0
    return json.loads(lines[0])["step"], len(lines) - 1


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_tol_run_resumes_inside_its_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                workers: int) -> None:
    """A tol run with a checkpoint, SIGKILLed in the middle of a pass (once its chunk log holds
    ≥ 2 chunk records), then repeated: the final values, errors and k-point count equal the
    uninterrupted run's (reference: the same call without a checkpoint, 1e-12; measured
    bitwise), the logged chunks are read back, and the chunks evaluated by the killed run and
    the rerun together exceed the uninterrupted run's by at most one per worker (the chunks in
    flight at the kill; with 2 threads they finish out of order). A torn record appended to the
    log (a kill during a write) is dropped."""
    with monkeypatch.context() as m:
        calls = _counting(m)
        ref = tbspin.spin_hall(bhz(M=-0.02), **BHZ)
    n_ref = len(calls)
    ck, count = tmp_path / "run.json", tmp_path / "count.txt"
    log = Path(f"{ck}.chunks")
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(_KILLED.replace("{kw}", repr(dict(BHZ, workers=workers)))))
    env = dict(os.environ, TBSPIN_WORKERS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=str(Path(tbspin.__file__).parents[1]))
    proc = subprocess.Popen([sys.executable, str(script), str(ck), str(count)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while _records(log)[1] < 2 and proc.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate()
    step, kept = _records(log)
    assert step >= 0 and kept >= 2, f"not killed inside a pass: {err[-2000:]!r}"
    started = len(count.read_text().split())
    with open(log, "a") as fh:  # a record torn by a kill during its write
        fh.write('{"call": "' + "0" * 64 + '", "chunk": 99, "part": {"t": [')
    with monkeypatch.context() as m:
        calls = _counting(m)
        res = tbspin.spin_hall(bhz(M=-0.02), checkpoint=ck, **dict(BHZ, workers=workers))
    np.testing.assert_allclose(res.raw, ref.raw, rtol=1e-12, atol=0)
    np.testing.assert_allclose(res.raw_errors, ref.raw_errors, rtol=1e-12, atol=0)
    assert res.extras["sampling"]["n_k"] == ref.extras["sampling"]["n_k"]
    resume = res.extras["sampling"]["resume"]
    assert resume["steps_replayed"] == step and resume["chunks_replayed"] == kept
    assert resume["chunks_computed"] == len(calls)
    assert ck.exists() and not log.exists()  # complete: every pass in the step journal
    lost = started + len(calls) - n_ref  # chunks computed twice: in flight at the kill
    assert 0 <= lost <= workers, (started, len(calls), n_ref)


def test_chunk_log_refuses_a_damaged_record_and_ignores_another_run(tmp_path: Path) -> None:
    """A record whose content no longer matches its SHA-256 (a changed partial sum would change
    the result silently) is refused before the last line; a log of another run (other key or
    seed) or of another pass is not replayed; partials round-trip bitwise."""
    from tbspin.engine.chunk_log import ChunkLog
    from tbspin.errors import CheckpointError

    path = tmp_path / "run.json.chunks"
    part = (3, (np.array([5, 9]), np.array([[0.1, np.pi], [-1e-300, 2.5e17]])))
    log = ChunkLog.open(path, {"model": "a"}, 7, step=2)
    log.append("call", 3, part)
    log.append("call", 4, part)
    again = ChunkLog.open(path, {"model": "a"}, 7, step=2).take("call")
    assert sorted(again) == [3, 4] and again[3][0] == 3
    assert np.array_equal(again[3][1][0], part[1][0]) and np.array_equal(again[3][1][1], part[1][1])
    for key, seed, step in (({"model": "b"}, 7, 2), ({"model": "a"}, 8, 2), ({"model": "a"}, 7, 3)):
        ChunkLog.open(path, {"model": "a"}, 7, step=2)  # (rewrites the valid records)
        assert ChunkLog.open(path, key, seed, step=step).take("call") == {}
        log = ChunkLog.open(path, {"model": "a"}, 7, step=2)  # the log starts again
        log.append("call", 3, part)
        log.append("call", 4, part)
    lines = path.read_text().split("\n")
    lines[1] = lines[1].replace('"chunk": 3', '"chunk": 5')
    path.write_text("\n".join(lines))
    with pytest.raises(CheckpointError, match="line 2.*sha256"):
        ChunkLog.open(path, {"model": "a"}, 7, step=2)


def test_a_run_stopped_by_its_k_budget_goes_on_with_a_larger_one(tmp_path: Path) -> None:
    """The ConvergenceWarning of a budget-stopped tol run says "raise the budgets": called again
    with a larger budget_k and the same checkpoint, the run replays the journal's passes and
    plans on from the last (before, budget_k was part of the journal's key and every pass was
    recomputed). Reference: a fresh run given the larger budget (same seed). Where the small
    budget changed no pass (40 000), the rerun ends bitwise where the fresh run ends; where it
    cut a pass's mesh (60 000: the third pass), that pass is replayed too, and the rerun,
    another path, converges to a value within 3 combined errors of the fresh run's. A pass
    the budget stopped inside (20 000: the first adaptive pass's refinement cut short) is
    recomputed, not replayed: its result depends on the budget."""
    model = kane_mele(magnetization=M_EXCHANGE)
    kw = dict(efermi=[0.3], components=["zxy"], formula="conventional", mesh=8, tol=0.001,
              seed=3, workers=1, progress=False)
    fresh = tbspin.compute(model, "shc", budget_k=2_000_000, **kw)
    assert fresh.extras["sampling"]["converged"]
    for small, replayed in ((40_000, 2), (20_000, 0), (60_000, 3)):
        ck = tmp_path / f"b{small}.json"
        with pytest.warns(ConvergenceWarning, match=f"not converged.*goes on from .*{ck.name}"):
            first = tbspin.compute(model, "shc", checkpoint=ck, budget_k=small, **kw)
        bound = [h for h in first.extras["sampling"]["history"] if h.get("budget_k_bound")]
        assert bool(bound) == (small == 20_000)
        again = tbspin.compute(model, "shc", checkpoint=ck, budget_k=2_000_000, **kw)
        samp = again.extras["sampling"]
        assert samp["resume"]["steps_replayed"] == replayed and samp["converged"]
        if small == 60_000:
            assert samp["n_k"] > first.extras["sampling"]["n_k"]
            err = np.hypot(again.errors, fresh.errors)
            assert np.all(np.abs(again.values - fresh.values) <= 3 * err)
        else:
            np.testing.assert_array_equal(again.raw, fresh.raw)
            np.testing.assert_array_equal(again.errors, fresh.errors)


def test_tensor_subsets_resume_in_another_process_and_conventional_subsets_run(
        tmp_path: Path) -> None:
    """A tol run of a subset of the spin components (σ^z_xy, σ^z_yx: the x and y spin slots
    unused) checkpointed by one process is read back by another: every pass replayed, nothing
    computed, the same values (before: the run key held the digest of a None slot, a pointer
    that changes from process to process, and the rerun was refused as "a different
    calculation"). The conventional formula accepts such subsets too (before: TypeError) and
    gives the columns of the full call (1e-12 of the largest component)."""
    kw = dict(efermi=[0.0], components=["zxy", "zyx"], formula="proper", mesh=8, tol=0.05,
              seed=1, workers=1, progress=False)
    ck = tmp_path / "sub.json"
    code = ("import tbspin; from tbspin.models import bhz; "
            f"tbspin.compute(bhz(M=-0.02), 'shc', checkpoint={str(ck)!r}, **{kw!r})")
    env = dict(os.environ, TBSPIN_WORKERS="1", PYTHONPATH=str(Path(tbspin.__file__).parents[1]))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    again = tbspin.compute(bhz(M=-0.02), "shc", checkpoint=ck, **kw)
    fresh = tbspin.compute(bhz(M=-0.02), "shc", **kw)
    resume = again.extras["sampling"]["resume"]
    assert resume["steps_replayed"] == len(json.loads(ck.read_text())["steps"]) > 0
    assert resume["chunks_computed"] == 0
    np.testing.assert_allclose(again.raw, fresh.raw, rtol=1e-12, atol=0)

    model = kane_mele(magnetization=M_EXCHANGE)
    ckw = dict(efermi=[0.0, 0.3], formula="conventional", mesh=8, errors=False, workers=1)
    sub = tbspin.compute(model, "shc", components=["zxy", "xxy"], **ckw)
    full = tbspin.compute(model, "shc", components=["zxy", "xxy", "yxy"], **ckw)
    np.testing.assert_allclose(sub.raw, full.raw[:, :2], rtol=0,
                               atol=1e-12 * np.abs(full.raw).max())


# ---------------------------------------------------------------------- (c) targets
def test_per_component_tolerances_and_headline_fermi_energy() -> None:
    """One tol = 0.02 for the tensor converges every component to 2 % of the largest
    (σ^z_xy): σ^x_xy, 1 % of it, stops above 5 % of its own size. tol = [0.02, 0.05, 0.5]
    per component with converge_at = 0 meets each component's own target at E_F = 0 (more
    k-points) while E_F = 0.3 eV is carried along unjudged (its small σ^x_xy misses 5 %);
    judging both E_F costs several times the k-points."""
    model = kane_mele(magnetization=M_EXCHANGE)
    one = tbspin.compute(model, "shc", tol=0.02, workers=1, **KM)
    for e in range(2):  # the tensor rule held at both E_F
        assert np.all(one.errors[e] <= 0.02 * np.abs(one.values[e]).max())
    assert not _meets(one, TOLS, 0)[1]  # σ^x_xy: 2 % of σ^z_xy is > 5 % of σ^x_xy

    head = tbspin.compute(model, "shc", tol=TOLS, converge_at=0.0, workers=1, **KM)
    samp = head.extras["sampling"]
    assert samp["converged"] and samp["tol"] == TOLS and samp["converge_at"] == [0.0]
    assert np.all(_meets(head, TOLS, 0))  # every component to its own tolerance at E_F = 0
    assert not np.all(_meets(head, TOLS, 1))  # E_F = 0.3 eV was not judged...
    assert np.all(np.isfinite(head.errors[1]))  # ...but carries its error bars
    assert samp["n_k"] > one.extras["sampling"]["n_k"]

    both = tbspin.compute(model, "shc", tol=TOLS, workers=1, **KM)
    assert np.all(_meets(both, TOLS, 0)) and np.all(_meets(both, TOLS, 1))
    assert both.extras["sampling"]["n_k"] > 3 * samp["n_k"]


def test_bad_targets_are_refused_with_clear_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """Lengths, ranges and energies of the targets are checked before computing."""
    model = kane_mele(magnetization=M_EXCHANGE)
    for kw, match in ((dict(tol=[0.02, 0.05]), "2 values but the run computes 3"),
                      (dict(tol=[0.02, 0.05, 1.5]), "tol"),
                      (dict(tol=0.02, abs_floor=[0.0, -1.0, 0.0]), "abs_floor"),
                      (dict(tol=0.02, abs_floor=[0.0, 1.0]), "abs_floor.*2 values"),
                      (dict(tol=0.02, converge_at=0.1), r"converge_at.*\[0.1\].*not among"),
                      (dict(converge_at=0.0, mesh=12), "no effect without 'tol'")):
        with pytest.raises(ParameterError, match=match):
            tbspin.compute(model, "shc", **dict(KM, **kw))
    from tbspin.cli import app as cli

    with pytest.raises(SystemExit) as exc:  # argparse: usage error
        cli.main(["shc", "--model", "kane_mele", "--tol", "0.02,x"])
    assert exc.value.code == 2
    assert "one per component" in capsys.readouterr().err
    assert cli.main(["shc", "--model", "kane_mele", "--converge-at", "0"]) == 2  # needs --tol
    assert "--converge-at only acts in a --tol run" in capsys.readouterr().err
