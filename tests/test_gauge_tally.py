"""One gauge warning per run (tbspin.bands.gauge_tally): the k-points where a gauge operator
leaves a degeneracy, summed over every chunk of a run on every path of the engine.

Model: the 3D Kramers TI of ``core_models.kramers_ti`` (every band a Kramers pair) with the gauge
operator s_z and ``gauge_tol=1.0``: the pairs whose s_z values differ by less than 1.0 stay
degenerate for the gauge, about 9 % of the zone, so a run over many chunks meets the condition
in some chunks and not in others. Expected counts are computed inside each test by an
independent evaluation: one :func:`tbspin.bands.eigen.solve` over all the run's k-points at once
(no chunks, no engine), or the same run on local threads.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from core_models import kramers_ti

import tbspin
from tbspin.bands import eigen, gauge_tally
from tbspin.bands.integrands import Integrand
from tbspin.bands.settings import resolve_connection
from tbspin.bz.kmesh import make_mesh
from tbspin.errors import GaugeWarning

#: the run of every test: proper σ^z_xy of the Kramers TI, s_z gauge that leaves ~9 % of the
#: pairs degenerate, chunks of 20 k-points (216 k-points: 11 chunks)
RUN = dict(efermi=[0.0], formula="proper", gauge="z", gauge_tol=1.0, progress=False)
COUNT = re.compile(r"at ([\d ]+) of ([\d ]+) k-points")


def _gauge_warnings(call: Callable[[], Any]) -> tuple[Any, list[warnings.WarningMessage]]:
    """``call()`` with every warning recorded ("always": repeated texts are not merged, so a
    warning per chunk would show as many); returns the result and the GaugeWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    return out, [w for w in caught if issubclass(w.category, GaugeWarning)]


def _counts(w: warnings.WarningMessage) -> tuple[int, int]:
    hit = COUNT.search(str(w.message))
    assert hit, str(w.message)
    return int(hit.group(1).replace(" ", "")), int(hit.group(2).replace(" ", ""))


def _unlifted(model: tbspin.LatticeModel, k: np.ndarray, gauge: str = "z") -> int:
    """Independent count: k-points of ``k`` where the gauge operator leaves a degenerate
    sub-block, from one solve over all of them (outside any run, no chunks)."""
    st = resolve_connection(model, gauge=gauge, gauge_tol=RUN["gauge_tol"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaugeWarning)
        eig = eigen.solve(model.hamiltonian(k), st.gauge, degen_tol=st.degen_tol,
                          gauge_tol=st.gauge_tol)
    return int((eig.group[:, 1:] == eig.group[:, :-1]).any(axis=1).sum())


@pytest.fixture(scope="module")
def model() -> tbspin.LatticeModel:
    return kramers_ti()


@pytest.mark.parametrize("how", ["serial", "threads", "processes", "executor"])
def test_one_warning_per_run_with_the_summed_counts(model: tbspin.LatticeModel, how: str) -> None:
    """A plain 6³ mesh in 11 chunks: exactly one GaugeWarning, pointing at this file, whose
    counts are those of one solve over the same 216 k-points (independent, unchunked), on every
    local path (serial loop, threads, processes, a user's executor); the totals are in
    extras["gauge_unlifted"]."""
    kw: dict[str, Any] = dict(workers=1) if how == "serial" else (
        dict(workers=2, backend=how) if how in ("threads", "processes") else {})
    pool = ThreadPoolExecutor(2) if how == "executor" else None
    if pool is not None:
        kw["executor"] = pool
    try:
        r, got = _gauge_warnings(lambda: tbspin.spin_hall(
            model, mesh=6, chunk_size=20, errors=False, **RUN, **kw))
    finally:
        if pool is not None:
            pool.shutdown()
    k = make_mesh(model, r.mesh, r.shift).cartesian(model)
    expected = _unlifted(model, k)
    assert 0 < expected < len(k)  # the case: some pairs stay degenerate, not all
    assert len(got) == 1, [str(w.message) for w in got]
    assert _counts(got[0]) == (expected, 216)
    assert got[0].filename == __file__  # points at the caller, not into tbspin
    assert str(got[0].message) == gauge_tally.message("s_z", expected, 216)
    rec = r.extras["gauge_unlifted"]["s_z"]
    assert (rec["unlifted_k"], rec["k_points"], rec["batches"]) == (expected, 216, 11)


def test_per_batch_warnings_outside_a_run_sum_to_the_run_total(model: tbspin.LatticeModel) -> None:
    """The old path, kept for a solve outside any run: one GaugeWarning per batch. The per-batch
    counts of the run's chunks (20 k-points each, mesh order) add up to the run's one total."""
    r, got = _gauge_warnings(lambda: tbspin.spin_hall(model, mesh=6, chunk_size=20,
                                                      errors=False, **RUN))
    mesh = make_mesh(model, r.mesh, r.shift)
    st = resolve_connection(model, gauge="z", gauge_tol=RUN["gauge_tol"])
    per_batch = []
    for start in range(0, mesh.size, 20):
        H = model.hamiltonian(mesh.cartesian(model, start, min(start + 20, mesh.size)))
        _, one = _gauge_warnings(lambda H=H: eigen.solve(
            H, st.gauge, degen_tol=st.degen_tol, gauge_tol=st.gauge_tol, gauge_label="s_z"))
        per_batch += [_counts(w) for w in one]
    assert len(per_batch) > 1  # several chunks warned: the run would have printed several lines
    unlifted = sum(a for a, _ in per_batch)
    assert len(got) == 1 and _counts(got[0])[0] == unlifted


def test_sub_meshes_and_tensors_one_warning_per_gauge_operator(model: tbspin.LatticeModel) -> None:
    """The default run (randomly shifted sub-meshes, one family of chunks) of three tensor
    components whose default gauges are s_z, s_x, s_y: one warning per operator, each over all
    the run's k-points (extras n_k); the s_z count equals the independent count on the
    sub-meshes' points."""
    kw = dict(RUN, gauge=None)
    r, got = _gauge_warnings(lambda: tbspin.spin_hall(
        model, mesh=6, chunk_size=20, components="zxy,xyz,yzx", seed=5, **kw))
    labels = sorted(re.search(r"gauge operator \((s_.)\)", str(w.message)).group(1)  # type: ignore[union-attr]
                    for w in got)
    assert labels == ["s_x", "s_y", "s_z"]
    rec = r.extras["gauge_unlifted"]
    n_k = r.extras["n_k"]
    assert all(rec[s]["k_points"] == n_k for s in labels)
    samp = r.extras["sampling"]
    k = np.concatenate([make_mesh(model, tuple(size), tuple(shift)).cartesian(model)
                        for size, shift in zip(samp["sub_meshes"], samp["shifts"], strict=True)])
    assert len(k) == n_k
    by_label = {re.search(r"\((s_.)\)", str(w.message)).group(1): _counts(w)  # type: ignore[union-attr]
                for w in got}
    for s in labels:
        assert by_label[s] == (_unlifted(model, k, s[-1]), n_k)


def _tol_run(model: tbspin.LatticeModel, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Any:
    """A tol run whose passes are cut into many 16-point chunks."""
    import tbspin.sampling.rules as rules

    monkeypatch.setattr(rules, "POINTS_PER_CHUNK", 16)
    return _gauge_warnings(lambda: tbspin.spin_hall(model, mesh=4, tol=0.3, seed=3, **RUN,
                                                    **kw))


def test_tol_run_warns_once(model: tbspin.LatticeModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """A converged (tol) run over several passes of many chunks: one GaugeWarning, over all
    the k-points the run evaluated (extras["sampling"]["n_k"])."""
    r, got = _tol_run(model, monkeypatch, workers=1)
    rec = r.extras["gauge_unlifted"]["s_z"]
    assert rec["batches"] > 10
    assert len(got) == 1
    assert _counts(got[0]) == (rec["unlifted_k"], r.extras["sampling"]["n_k"])
    assert 0 < rec["unlifted_k"] < rec["k_points"]


def test_dask_cluster_brings_the_counts_back(model: tbspin.LatticeModel,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks on a LocalCluster of 2 worker processes return their counts with their results:
    a tol run and a plain mesh through client= give the one warning and the counts of local
    threads; executor.sum_chunks (the partials folded on the cluster) carries them too."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    from tbspin.engine.executor import _apply_item, sum_chunks
    from tbspin.engine.points import BatchTask, MeshPoints

    threads, got_t = _tol_run(model, monkeypatch, workers=2)
    plain_t, got_pt = _gauge_warnings(lambda: tbspin.spin_hall(
        model, mesh=6, chunk_size=20, errors=False, workers=2, **RUN))
    st = resolve_connection(model, gauge="z", gauge_tol=RUN["gauge_tol"])
    kernel = Integrand(model, "proper", 0, 1, st, model.spin("z"))
    mesh = make_mesh(model, 6, plain_t.shift)
    task = BatchTask(kernel, MeshPoints(model, mesh, 20), np.array([0.0]), 0.0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dask, got_d = _tol_run(model, monkeypatch, client=client)
        plain_d, got_pd = _gauge_warnings(lambda: tbspin.spin_hall(
            model, mesh=6, chunk_size=20, errors=False, client=client, **RUN))
        folded, got_f = _gauge_warnings(lambda: sum_chunks(
            _apply_item, task.points.n_chunks, payload=(task, list(range(task.points.n_chunks))),
            client=client))
    assert len(got_t) == len(got_d) == len(got_pt) == len(got_pd) == len(got_f) == 1
    assert _counts(got_d[0]) == _counts(got_t[0])
    assert dask.extras["gauge_unlifted"] == threads.extras["gauge_unlifted"]
    assert _counts(got_pd[0]) == _counts(got_pt[0]) == _counts(got_f[0])
    assert plain_d.extras["gauge_unlifted"] == plain_t.extras["gauge_unlifted"]
    assert _counts(got_f[0]) == (_unlifted(model, mesh.cartesian(model)), 216)


def test_cli_prints_one_gauge_line(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`tbspin compute` of the Bi₂Se₃ lattice model with the parity operator as gauge (even
    under PT, so it never splits a Kramers pair: every k-point stays degenerate for it), a tol
    run of many chunks: one GaugeWarning line on stderr, 100 % of the run's k-points."""
    import tbspin.sampling.rules as rules
    from tbspin.cli import app as cli

    monkeypatch.setattr(rules, "POINTS_PER_CHUNK", 16)
    assert cli.main(["compute", "shc", "--model", "bi2se3", "--gauge", "parity",
                     "--components", "zxy", "--efermi", "0", "--mesh", "3", "--tol", "0.5",
                     "--seed", "1", "--workers", "1", "--no-progress",
                     "--out", str(tmp_path / "run")]) == 0
    lines = [x for x in capsys.readouterr().err.splitlines() if "GaugeWarning" in x]
    assert len(lines) == 1, lines
    hit = COUNT.search(lines[0])
    assert hit and hit.group(1) == hit.group(2) and "(100.0 %)" in lines[0]


def test_warning_names_the_operator_resolved_with_the_settings(model: tbspin.LatticeModel) -> None:
    """The short name in the warning comes from the gauge policy's own branch, not from cutting
    the description: every branch of resolve_connection, and a run's warning that carries it
    (a magnetized copy: m̂·s with its direction; a description with a "; WARNING" tail keeps the
    plain name)."""
    names = {None: "s_z", "z": "s_z", "y": "s_y", "none": "",
             (1.0, 0.0, 0.0): "spin along [1.0, 0.0, 0.0]"}
    for gauge, name in names.items():
        assert resolve_connection(model, gauge=gauge).gauge_name == name
    assert resolve_connection(model, spin="x").gauge_name == "s_x"
    assert resolve_connection(model, gauge=np.eye(4)).gauge_name == "user operator"
    mag = model.replace(magnetization=(0.0, 0.0, 2.0))  # declared only: H keeps its pairs
    assert resolve_connection(mag).gauge_name == "m̂·s with m̂ = [0.0, 0.0, 1.0]"
    _, got = _gauge_warnings(lambda: tbspin.spin_hall(
        mag, mesh=6, errors=False, **dict(RUN, gauge=None, gauge_tol=1.0)))
    assert len(got) == 1 and "(m̂·s with m̂ = [0.0, 0.0, 1.0]) does not lift" in str(got[0].message)


def test_counts_fold_and_message_format() -> None:
    """GaugeCounts add like chunk partials (per label, three counts); the text groups digits
    in threes and gives the percentage (the brief's example: 5 210 of 2 762 544 → 0.19 %)."""
    a, b = gauge_tally.GaugeCounts(), gauge_tally.GaugeCounts()
    a.add("s_z", 3, 20)
    b.add("s_z", 5, 16)
    b.add("s_x", 0, 16)
    assert (a + b).counts == {"s_z": [8, 36, 2], "s_x": [0, 16, 1]}
    assert gauge_tally.message("s_z", 5210, 2762544) == (
        "the gauge operator (s_z) does not lift the band degeneracy at 5 210 of 2 762 544 "
        "k-points (0.19 %); parallel transport fixes the basis there")
    assert "(>99.9 %)" in gauge_tally.message("", 99999, 100000)
    # a nested run hands its counts to the enclosing one, which alone warns
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with gauge_tally.GaugeRun() as outer:
            with gauge_tally.GaugeRun():
                assert gauge_tally.report("s_z", 2, 10)
            assert not caught
            gauge_tally.report("s_z", 1, 10)
    assert outer.counts == {"s_z": [3, 20, 2]}
    assert len(caught) == 1 and "at 3 of 20 k-points (15.0 %)" in str(caught[0].message)
    assert not gauge_tally.report("s_z", 1, 1)  # outside any run: the caller warns itself
