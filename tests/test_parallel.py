"""The engine on every backend and with FFT Bloch sums (issue 11, acceptance 3).

Expected numbers are not hard-coded: each parallel / FFT / resumed result is compared with the
serial, direct-sum, uninterrupted result of the same public call (tbspin's own reference path).
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
from tbspin.engine import integrate
from tbspin.errors import ParameterError
from tbspin.models import bi2se3

EF = np.linspace(-0.4, 0.4, 9)
SHC = dict(efermi=EF, spin="z", current="x", efield="y")


def _model() -> tbspin.LatticeModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bi2se3(magnetization=(0.0, 0.0, 0.01))


def _close(a: np.ndarray, b: np.ndarray, rel: float = 1e-12) -> None:
    assert np.max(np.abs(a - b)) <= rel * np.max(np.abs(b))


@pytest.mark.parametrize("formula", ["proper", "conventional"])
def test_fft_bloch_sums_equal_the_direct_sum(monkeypatch: pytest.MonkeyPatch, formula: str) -> None:
    """Uniform (shifted) meshes: the FFT path gives the direct-sum result to 1e-12 (kubo)."""
    model = _model()
    kw = dict(SHC, mesh=[7, 6, 8], shift=[0.5, 0.0, 0.25], formula=formula,
              eta=0.02 if formula == "conventional" else 0.0,  # eta acts only there (issue 26)
              chunk_size=70, workers=1)
    monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh: False)
    direct = tbspin.spin_hall(model, **kw, errors=False)
    monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh: True)
    fft = tbspin.spin_hall(model, **kw, errors=False)
    assert direct.extras["fft"] == 0 and fft.extras["fft"] == 1
    _close(fft.raw, direct.raw)
    ahc_fft = tbspin.anomalous_hall(model, efermi=EF, mesh=6, workers=1, errors=False).raw
    monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh: False)
    _close(ahc_fft, tbspin.anomalous_hall(model, efermi=EF, mesh=6, workers=1, errors=False).raw)


def test_fft_chern_number_and_fd(monkeypatch: pytest.MonkeyPatch) -> None:
    """chern_number uses the same chunk task; fd gets H(k ± δ) from displaced meshes (the
    difference quotient amplifies rounding by 1/δ, so fd agrees to ~1e-10, not 1e-12)."""
    from tbspin.models import qwz

    q = qwz(u=-1.0)
    monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh: True)
    c_fft = tbspin.chern_number(q, bands=1, mesh=24)
    fd_fft = tbspin.anomalous_hall(q, efermi=[-0.37, 0.41], mesh=16, method="fd", workers=1, errors=False)
    monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh: False)
    assert c_fft == pytest.approx(tbspin.chern_number(q, bands=1, mesh=24), rel=1e-12)
    fd = tbspin.anomalous_hall(q, efermi=[-0.37, 0.41], mesh=16, method="fd", workers=1, errors=False)
    _close(fd_fft.raw, fd.raw, rel=1e-9)


def test_default_chunks_of_an_fft_run_are_whole_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk that ends mid-line transforms that line in both chunks and copies both outputs:
    the default chunk of an FFT run is a whole number of mesh lines (11 points here; the 4-band
    default of 2730 points is not a multiple of 11). A user's chunk_size and the direct sum's
    default are kept."""
    model = _model()
    default = integrate.default_chunk_size(model, "kubo")
    assert default % 11 != 0
    monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh: True)
    fft = tbspin.spin_hall(model, mesh=[5, 4, 11], workers=1, **SHC, errors=False)
    assert fft.extras["fft"] == 1 and fft.extras["chunk_size"] == default // 11 * 11
    mine = tbspin.spin_hall(model, mesh=[5, 4, 11], workers=1, chunk_size=50, **SHC, errors=False)
    assert mine.extras["chunk_size"] == 50
    _close(fft.raw, mine.raw)
    monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh: False)
    direct = tbspin.spin_hall(model, mesh=[5, 4, 11], workers=1, **SHC, errors=False)
    assert direct.extras["fft"] == 0 and direct.extras["chunk_size"] == default
    _close(fft.raw, direct.raw)


def _many_band_model(n: int, seed: int = 3) -> tbspin.LatticeModel:
    """Random Hermitian 2D model with ``n`` orbitals, nearest-neighbour hoppings, a diagonal
    'spin' (+1 on the first half of the orbitals, −1 on the second)."""
    rng = np.random.default_rng(seed)
    hop = {}
    for R in [(1, 0), (0, 1), (1, 1)]:
        M = 0.3 * (rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
        hop[R], hop[(-R[0], -R[1])] = M, M.conj().T
    A = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    hop[(0, 0)] = A + A.conj().T
    sz = np.diag(np.r_[np.ones(n // 2), -np.ones(n - n // 2)]).astype(complex)
    return tbspin.LatticeModel(lattice=np.eye(2), hoppings=hop, operators={"sz": sz},
                               positions_reduced=np.zeros((n, 2)), name=f"random{n}")


def test_default_chunks_of_many_band_models_keep_their_matrices_small(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """256-point chunks of 96 bands held 38 MB per (chunk, N, N) array and ran 1.5× slower than
    24-point chunks (benchmarks/README.md, eighth session). The default keeps one such array
    within ARRAY_BYTES for N > 32 (at least 8 points, whole lines on an FFT mesh), keeps the
    measured MIN_POINTS for fewer bands, and the chunking does not change the result (reference:
    the same call on one chunk holding the whole mesh)."""
    for n in (4, 18, 32):
        assert integrate.default_chunk_size(_many_band_model(n), "kubo") >= integrate.MIN_POINTS
    for n in (48, 96, 400):
        chunk = integrate.default_chunk_size(_many_band_model(n), "kubo")
        assert 8 <= chunk < integrate.MIN_POINTS
        assert chunk * 16 * n * n <= max(integrate.ARRAY_BYTES, 8 * 16 * n * n)
    model = _many_band_model(48)
    kw = dict(efermi=[-2.0, 0.0, 1.5], spin="sz", current="x", efield="y", mesh=[9, 14],
              formula="conventional", eta=0.1, workers=1)
    whole = tbspin.spin_hall(model, chunk_size=9 * 14, **kw, errors=False)
    for fft in (False, True):
        monkeypatch.setattr(integrate, "use_fourier", lambda m, mesh, fft=fft: fft)
        default = tbspin.spin_hall(model, **kw, errors=False)
        chunk = default.extras["chunk_size"]
        assert default.extras["fft"] == int(fft) and chunk * 16 * 48**2 <= integrate.ARRAY_BYTES
        assert chunk < 9 * 14 and (chunk % 14 == 0 or not fft)
        _close(default.raw, whole.raw, rel=1e-12)


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_local_backends_give_the_serial_result_bitwise(backend: str) -> None:
    model = _model()
    kw = dict(SHC, mesh=6, chunk_size=40)
    serial = tbspin.spin_hall(model, workers=1, **kw, errors=False).raw
    par = tbspin.spin_hall(model, workers=2, backend=backend, **kw, errors=False).raw
    np.testing.assert_array_equal(par, serial)  # chunk-order fold: identical, not just close
    with pytest.raises(ParameterError, match="executor"):
        tbspin.spin_hall(model, workers=2, executor=object(), **kw, errors=False)
    with pytest.raises(ParameterError, match="backend"):
        tbspin.spin_hall(model, backend="mpi", **kw, errors=False)


def test_dask_local_cluster_gives_the_serial_result(tmp_path: Path) -> None:
    """A real LocalCluster (scheduler + 2 worker processes on 127.0.0.1) running the public
    spin_hall / anomalous_hall, with a checkpoint, equals the serial result to 1e-12."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    model = _model()
    kw = dict(SHC, mesh=6, chunk_size=40, formula="conventional", eta=0.05)
    serial = tbspin.spin_hall(model, workers=1, **kw, errors=False).raw
    serial_ahc = tbspin.anomalous_hall(model, efermi=EF, mesh=6, chunk_size=40, workers=1,
                                       errors=False).raw
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        shc = tbspin.spin_hall(model, client=client, checkpoint=tmp_path / "c.npz", **kw,
                               errors=False)
        ahc = tbspin.anomalous_hall(model, efermi=EF, mesh=6, chunk_size=40, client=client,
                                    errors=False)
        # the CLI connects its own Client to the scheduler address (--scheduler)
        from tbspin.cli import app as cli

        assert cli.main(["ahc", "--model", "haldane", "--efermi", "0.1", "--mesh", "24",
                         "--scheduler", cluster.scheduler_address, "--out",
                         str(tmp_path / "cli"), "--no-progress", "--seed", "3"]) == 0
    from tbspin.models import haldane

    cli_values = json.loads((tmp_path / "cli.json").read_text())["values"]
    ref = tbspin.anomalous_hall(haldane(), efermi=0.1, mesh=24, workers=1, seed=3).values
    np.testing.assert_allclose(cli_values, ref, rtol=1e-12, atol=1e-15)
    _close(shc.raw, serial)
    _close(ahc.raw, serial_ahc)
    with np.load(tmp_path / "c.npz") as z:
        assert bool(z["done"].all())


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from tbspin.cli.app import main; sys.exit(main())", *args]


def test_cli_run_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    """`tbspin shc --checkpoint --workers 2` killed with SIGKILL once the checkpoint exists, then
    rerun: the same values as the uninterrupted public call."""
    ck = tmp_path / "run.npz"
    args = ["shc", "--model", "bi2se3", "--param", "magnetization=0,0,0.01", "--spin", "z",
            "--current", "x", "--efield", "y", "--efermi=-0.4:0.4:9", "--mesh", "36",
            "--workers", "2", "--checkpoint", str(ck), "--no-progress", "--no-errors"]
    env = dict(os.environ, TBSPIN_WORKERS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.Popen(_cli(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while not ck.exists() and proc.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert ck.exists(), "the run ended before writing its first checkpoint"
    with np.load(ck) as z:
        done, total = int(z["done"].sum()), z["done"].size
    assert 0 < done < total, "killed too late to test a resume"
    out = tmp_path / "res"
    subprocess.run(_cli(*args, "--out", str(out)), env=env, check=True, capture_output=True)
    resumed = json.loads(out.with_suffix(".json").read_text())
    ref = tbspin.spin_hall(_model(), efermi=np.linspace(-0.4, 0.4, 9), mesh=36, spin="z",
                           current="x", efield="y", workers=1, errors=False)
    np.testing.assert_allclose(resumed["values"], ref.values, rtol=1e-12, atol=0)
