"""The pipeline model → k-chunks → eigensystem → connection → integrand → integration → result.

Regression tests for the architecture issue (#8) and the reliability issue (#12): one gauge
resolution, the typed position matrix, the model fingerprint, checkpoints keyed on it, entry
point validation, provenance of results. Each physics check names its independent reference.
"""

from __future__ import annotations

import ast
import concurrent.futures
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from core_models import bhz_doubled, haldane_pythtb, kramers_ti, qwz

import tbspin
from tbspin import LatticeModel
from tbspin.bands import eigen, settings
from tbspin.engine import integrate
from tbspin.errors import CheckpointError, OutputError, ParameterError
from tbspin.model.hoppings import hermiticity_violation, minus_index
from tbspin.models import bi2se3

ROOT = Path(__file__).resolve().parents[1]
SHC = dict(spin="y", current="z", efield="x", efermi=[0.0])


# ----------------------------------------------------------------- 1. gauge resolved once
def test_gauge_none_is_parallel_transport_not_the_default(monkeypatch):
    """gauge="none" must reach the eigensolver as "no gauge operator" (it used to be re-resolved
    to s_z below the entry point, giving the gauge="z" number while recording "none")."""
    seen = []
    real = eigen.solve

    def spy(H, gauge=None, **kw):
        seen.append(gauge)
        return real(H, gauge, **kw)

    monkeypatch.setattr(eigen, "solve", spy)
    model = bi2se3()
    none = tbspin.spin_hall(model, gauge="none", mesh=6, **SHC)
    assert seen and all(g is None for g in seen)
    assert none.gauge.startswith("none")
    seen.clear()
    z = tbspin.spin_hall(model, gauge="z", mesh=6, **SHC)
    assert seen and all(np.array_equal(g, model.spin("z")) for g in seen)
    assert z.gauge == "s_z"
    seen.clear()
    bc = tbspin.berry_connection(model, np.zeros((2, 3)) + 0.1, gauge="none")
    assert seen == [None] and bc.eig.gauge_values is None


def test_connection_settings_resolved_once_per_call(monkeypatch):
    calls = []
    real = settings.resolve_connection
    monkeypatch.setattr(tbspin.observables._run, "resolve_connection",
                        lambda *a, **k: calls.append(k) or real(*a, **k))
    tbspin.spin_hall(bhz_doubled(), efermi=[0.0], mesh=10, chunk_size=7)
    assert len(calls) == 1


def test_default_gauge_policy_is_one_function():
    """The documented order: m̂·s (magnetized) > spin of the observable > s_z > none."""
    mag = bi2se3(magnetization=(0, 0, 1e-3))
    assert "magnetization" in settings.resolve_connection(mag, spin="y").gauge_description
    plain = bi2se3()
    st = settings.resolve_connection(plain, spin="y")
    assert np.array_equal(st.gauge, plain.spin("y"))
    assert np.array_equal(settings.resolve_connection(plain).gauge, plain.spin("z"))
    assert settings.resolve_connection(qwz()).gauge is None
    G, desc = tbspin.resolve_gauge(plain, None, spin="y")  # the public door agrees
    assert np.array_equal(G, st.gauge) and desc == st.gauge_description


# ----------------------------------------------------------------- 2. position matrix, fingerprint
def test_position_matrix_rotates_with_the_basis():
    """Reference: the Haldane model with orbital positions in the Bloch phase equals the same
    hoppings at the origin plus r_{R=0} = diag(τ) (exact identity); a random unitary basis change
    of the latter (all orbitals at one position, so any U is allowed) must not change Ω(k)."""
    pos_model = LatticeModel.from_pythtb(haldane_pythtb())
    n = pos_model.n_orbitals
    r = np.zeros((1, 2, n, n), complex)
    r[0, :, np.arange(n), np.arange(n)] = pos_model.positions
    full = pos_model.replace(positions=np.zeros((n, 2))).with_position_matrix(np.zeros((1, 2)), r)
    rng = np.random.default_rng(11)
    U, _ = np.linalg.qr(rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)))
    rotated = full.transformed(U)
    np.testing.assert_allclose(rotated.position_matrix.r[0, 0], U.conj().T @ r[0, 0] @ U)
    k = rng.uniform(-4, 4, (25, 2))
    _, ref = tbspin.berry_curvature(pos_model, k)
    _, new = tbspin.berry_curvature(rotated, k)
    assert np.allclose(new, ref, atol=1e-9 * np.abs(ref).max())
    assert "position_matrix" not in rotated.metadata


def test_fingerprint_covers_physics_not_names():
    a = bi2se3(magnetization=(0, 0, 1e-3))
    assert a.fingerprint() == bi2se3(magnetization=(0, 0, 1e-3)).fingerprint()
    assert len(a.fingerprint()) == 64 and int(a.fingerprint(), 16) >= 0
    assert a.replace(name="other", metadata={"x": 1}).fingerprint() == a.fingerprint()
    changed = [bi2se3(magnetization=(0, 0, 5e-2)), a.with_onsite(1e-9 * np.eye(4)),
               a.replace(convention="cell"), a.with_operator("p", np.eye(4)),
               a.with_position_matrix(np.zeros((1, 3)), np.zeros((1, 3, 4, 4))),
               a.replace(positions=a.positions + 1e-9)]
    prints = {m.fingerprint() for m in changed}
    assert len(prints) == len(changed) and a.fingerprint() not in prints


def test_hopping_helpers():
    R = np.array([[0, 0], [1, 0], [-1, 0], [0, 2]])
    assert minus_index(R).tolist() == [0, 2, 1, -1]
    H = np.zeros((3, 2, 2), complex)
    H[1, 0, 1], H[2, 1, 0] = 1.0, 0.5  # H_{-R} should be H_R^† = 1.0 at (1, 0)
    dev, r, m, n = hermiticity_violation(R[:3], H)
    assert dev == pytest.approx(0.5) and (m, n) in ((0, 1), (1, 0)) and r in ((1, 0), (-1, 0))
    assert hermiticity_violation(R, np.zeros((4, 2, 2)))[:2] == (np.inf, (0, 2))


# ----------------------------------------------------------------- 3. checkpoints
def test_checkpoint_of_another_model_is_refused(tmp_path):
    """m_z = 1 meV then m_z = 50 meV on the same checkpoint: the second call must not return the
    first value (it used to: the checkpoint was keyed on the model name only)."""
    ck = tmp_path / "bi2se3.ckpt.npz"
    kw = dict(mesh=6, checkpoint=ck, **SHC)
    small = tbspin.spin_hall(bi2se3(magnetization=(0, 0, 1e-3)), **kw, errors=False)
    with pytest.raises(CheckpointError, match=r"(?s)bi2se3\.ckpt\.npz.*model.*delete"):
        tbspin.spin_hall(bi2se3(magnetization=(0, 0, 5e-2)), **kw, errors=False)
    again = tbspin.spin_hall(bi2se3(magnetization=(0, 0, 1e-3)), **kw, errors=False)  # same call resumes
    assert np.array_equal(again.raw, small.raw)
    with pytest.raises(CheckpointError, match="efermi"):
        tbspin.spin_hall(bi2se3(magnetization=(0, 0, 1e-3)), **dict(kw, efermi=[0.1]), errors=False)


@pytest.mark.parametrize("kind", ["garbage", "foreign_npz", "zip", "directory", "old_format"])
def test_corrupted_or_foreign_checkpoint_names_file_and_fix(tmp_path, kind):
    p = tmp_path / "run.npz"
    if kind == "garbage":
        p.write_bytes(b"\x00\x01not a checkpoint" * 10)
    elif kind == "foreign_npz":
        np.savez(p, a=np.arange(3))
    elif kind == "zip":
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("readme.txt", "hello")
    elif kind == "directory":
        p.mkdir()
    else:
        np.savez(p, acc=np.zeros(1), next_chunk=1, signature="{}")
    with pytest.raises(CheckpointError, match=r"run\.npz.*(delete|another checkpoint)") as exc:
        tbspin.anomalous_hall(qwz(), efermi=[0.0], mesh=6, checkpoint=p, errors=False)
    assert "allow_pickle" not in str(exc.value)


def test_unwritable_checkpoint_path_fails_before_computing(tmp_path, monkeypatch):
    (tmp_path / "file.txt").write_text("x")
    _count_calls_then(monkeypatch, 0, AssertionError("computed before checking the path"))
    with pytest.raises(OutputError, match="file.txt"):
        tbspin.anomalous_hall(qwz(), efermi=[0.0], mesh=6,
                              checkpoint=tmp_path / "file.txt" / "c.npz", errors=False)


def _count_calls_then(monkeypatch, n, exc):
    real, calls = integrate.occupied_sum, {"n": 0}

    def wrapped(*a, **k):
        calls["n"] += 1
        if calls["n"] > n:
            raise exc
        return real(*a, **k)

    monkeypatch.setattr(integrate, "occupied_sum", wrapped)


def test_checkpoint_written_after_first_chunk(tmp_path, monkeypatch):
    """A run that dies (not Ctrl-C) in chunk 3 long before 30 s still left chunk 1 on disk."""
    monkeypatch.setattr(integrate, "CHECKPOINT_SECONDS", 1e9)
    _count_calls_then(monkeypatch, 2, RuntimeError("killed"))
    ck = tmp_path / "c.npz"
    with pytest.raises(RuntimeError):
        tbspin.anomalous_hall(qwz(), efermi=[0.0], mesh=10, chunk_size=10, checkpoint=ck, errors=False)
    with np.load(ck) as z:
        assert int(z["done"].sum()) == 1


def test_ctrl_c_saves_checkpoint_and_resume_is_exact(tmp_path, monkeypatch):
    model, ck = bhz_doubled(-0.7), tmp_path / "c.npz"
    kw = dict(efermi=np.linspace(-2, 2, 5), mesh=12, chunk_size=20)
    ref = tbspin.spin_hall(model, **kw, errors=False).raw
    monkeypatch.setattr(integrate, "CHECKPOINT_SECONDS", 1e9)
    _count_calls_then(monkeypatch, 4, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt) as exc:
        tbspin.spin_hall(model, checkpoint=ck, **kw, errors=False)
    msg = str(exc.value)
    assert "\n" not in msg and str(ck) in msg and "4 of 8 chunks" in msg
    monkeypatch.undo()
    with np.load(ck) as z:
        assert int(z["done"].sum()) == 4
    assert np.allclose(tbspin.spin_hall(model, checkpoint=ck, **kw, errors=False).raw, ref,
                       rtol=1e-12, atol=0)


def test_executor_gives_the_serial_result():
    model = kramers_ti().with_zeeman([0, 0, 0.05])
    kw = dict(efermi=[0.0, 1.3], mesh=8, chunk_size=50, spin="z")
    ref = tbspin.spin_hall(model, **kw, errors=False).raw
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        par = tbspin.spin_hall(model, executor=ex, **kw, errors=False).raw
    assert np.allclose(par, ref, rtol=1e-12, atol=1e-15)
    # a chunk task is a pure, picklable function (process and cluster executors need that)
    from tbspin.bands.integrands import Integrand

    st = settings.resolve_connection(model, spin="z")
    plan = integrate.Plan(mesh=tbspin.make_mesh(model, 6), chunk_size=40,
                          efermi=np.array([0.0, 1.3]), temperature=0.0)
    task = integrate.ChunkTask(model, Integrand(model, "proper", 0, 1, st, model.spin("z")), plan)
    c, part = pickle.loads(pickle.dumps(task))(3)
    assert c == 3 and np.array_equal(part, task(3)[1])


# ----------------------------------------------------------------- 4. validation
@pytest.mark.parametrize("bad,name", [
    (dict(chunk_size=-5), "chunk_size"), (dict(chunk_size=0), "chunk_size"),
    (dict(chunk_size=2.5), "chunk_size"), (dict(chunk_size=True), "chunk_size"),
    (dict(mesh="20"), "mesh"), (dict(mesh=1), "mesh"), (dict(mesh=(10, 10, 10)), "mesh"),
    (dict(mesh=10.5), "mesh"), (dict(eta=-1.0), "eta"), (dict(eta=float("nan")), "eta"),
    (dict(temperature=-1.0), "temperature"), (dict(temperature=float("inf")), "temperature"),
    (dict(temperature="5"), "temperature"), (dict(degen_tol=0.0), "degen_tol"),
    (dict(degen_tol=float("nan")), "degen_tol"), (dict(delta=0.0), "delta"),
    (dict(gauge_tol=-1.0), "gauge_tol"), (dict(efermi=[float("nan")]), "efermi"),
    (dict(efermi="abc"), "efermi"), (dict(shift="0.5"), "shift"),
    (dict(shift=float("nan")), "shift"), (dict(gauge=np.ones((3, 3))), "gauge"),
    (dict(spin=[1, 0]), "spin"), (dict(current="q"), "direction"),
])
def test_entry_point_validation_names_the_parameter(bad, name):
    kw = dict(efermi=[0.0], mesh=10)
    kw.update(bad)
    with pytest.raises(ParameterError, match=name):
        tbspin.spin_hall(bhz_doubled(), **kw)


def test_field_is_a_deprecated_alias_of_efield():
    model = kramers_ti()
    kw = dict(efermi=[1.3], mesh=6, spin="y", current="z")
    new = tbspin.spin_hall(model, efield="x", **kw, errors=False).raw
    with pytest.warns(DeprecationWarning, match="efield"):
        old = tbspin.spin_hall(model, field="x", **kw, errors=False).raw
    assert np.array_equal(new, old)
    with pytest.raises(ParameterError), pytest.warns(DeprecationWarning):
        tbspin.spin_hall(model, field="x", efield="x", **kw, errors=False)
    with pytest.warns(DeprecationWarning):
        tbspin.spin_hall_integrand(model, np.zeros(3), field="x", spin="y", current="z")


# ----------------------------------------------------------------- 6. results
def test_result_says_what_was_computed(tmp_path):
    model = bi2se3(magnetization=(0, 0, 1e-3))
    r = tbspin.spin_hall(model, mesh=4, eta=0.01, formula="conventional", **SHC)
    assert r.fingerprint == model.fingerprint()
    p = r.provenance
    assert p["name"] == model.name and p["fingerprint"] == model.fingerprint()
    assert p["source"] == model.metadata.get("source")
    assert p["settings"]["gauge"] == r.gauge and p["settings"]["method"] == "kubo"
    assert r.eta == 0.01 and model.name in r.table() and r.run_id in r.table()
    js, npz = r.save(tmp_path / "out" / "shc")
    d = json.loads(js.read_text())
    with np.load(npz) as z:
        assert str(z["run_id"]) == d["run_id"] == r.run_id
        assert json.loads(str(z["json"])) == d
    back = tbspin.ConductivityResult.from_npz(npz)
    assert back.run_id == r.run_id and np.array_equal(back.raw, r.raw)
    other = tbspin.spin_hall(model, mesh=4, eta=0.01, formula="conventional", **SHC)
    assert other.run_id != r.run_id


def test_progress_default_is_quiet_without_a_terminal(capsys):
    tbspin.anomalous_hall(qwz(), efermi=[0.0], mesh=10, chunk_size=10)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------- 7. imports, errors
def test_writing_a_result_does_not_import_the_wannier_parser(tmp_path):
    code = (
        "import sys, numpy as np, tbspin\n"
        "R = [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]]\n"
        "m = tbspin.LatticeModel(lattice=np.eye(2), R=R, hoppings=np.ones((5, 1, 1)))\n"
        f"r = tbspin.anomalous_hall(m, efermi=[0.0], mesh=6, checkpoint=r'{tmp_path}/c.npz',\n"
        "                      errors=False)\n"
        f"r.save(r'{tmp_path}/r')\n"
        "bad = [m for m in sys.modules if m.startswith('tbspin.io.w')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


CORE_FILES = ["_version", "model/lattice", "model/hoppings", "bz/kmesh", "bands/eigen",
              "bands/settings", "bands/berry", "bands/integrands", "engine/integrate",
              "engine/checkpoint", "observables/api", "observables/_run", "observables/base",
              "observables/ahc", "observables/shc", "engine/occupation", "engine/points",
              "results/conductivity", "results/convergence", "units", "bz/spectrum", "bz/kpath",
              "__init__"]


@pytest.mark.parametrize("name", CORE_FILES)
def test_core_files_raise_tbspin_errors_not_plain_value_errors(name):
    tree = ast.parse((ROOT / "tbspin" / f"{name}.py").read_text())
    plain = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Raise)
             and isinstance(node.exc, ast.Call) and getattr(node.exc.func, "id", "") == "ValueError"]
    assert not plain, f"tbspin/{name}.py raises plain ValueError at lines {plain}"
    assert len((ROOT / "tbspin" / f"{name}.py").read_text().splitlines()) <= 600


def test_observables_does_not_import_the_package_init():
    tree = ast.parse((ROOT / "tbspin" / "observables" / "api.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            assert "__version__" not in [a.name for a in node.names]
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module is None:
            assert "__version__" not in [a.name for a in node.names]


def test_rotate_in_blocks_diagonalizes_the_operator_inside_degenerate_blocks():
    """Exact: with H = Q diag(1, 1, 2, 3, 3, 3) Q† the rotated columns stay eigenvectors and
    V† W V is diagonal inside each degenerate block (W a diagonal weight, as the slab uses)."""
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6)))
    e = np.array([1.0, 1, 2, 3, 3, 3])
    H = (Q * e) @ Q.conj().T
    E, V = np.linalg.eigh(H[None])
    w = rng.uniform(size=6)
    R = eigen.rotate_in_blocks(E, V, w, 1e-8)
    assert np.allclose(H @ R[0], R[0] * E[0], atol=1e-10)
    A = R[0].conj().T @ np.diag(w) @ R[0]
    for blk in (slice(0, 2), slice(3, 6)):
        sub = A[blk, blk]
        assert np.allclose(sub - np.diag(np.diag(sub)), 0, atol=1e-10)
        assert np.all(np.diff(np.diag(sub).real) >= -1e-12)


def test_position_matrix_kept_but_unused_changes_nothing() -> None:
    """with_position_matrix(..., use=False) keeps r_R (for write_tb) but Berry connections stay
    those of the diagonal position operator (exact: same code path as without a matrix)."""
    from tbspin.models import haldane

    model = haldane()
    rng = np.random.default_rng(3)
    n = model.n_orbitals
    r = rng.normal(size=(1, 2, n, n)) * 0.1
    r = r + r.transpose(0, 1, 3, 2)
    kept = model.with_position_matrix(np.zeros((1, 2), int), r, use=False)
    used = model.with_position_matrix(np.zeros((1, 2), int), r, use=True)
    assert kept.position_matrix is not None and not kept.uses_position_matrix
    assert used.uses_position_matrix
    k = rng.normal(size=(7, 2))
    _, om0 = tbspin.berry_curvature(model, k)
    _, om1 = tbspin.berry_curvature(kept, k)
    _, om2 = tbspin.berry_curvature(used, k)
    np.testing.assert_array_equal(om0, om1)
    assert np.max(np.abs(om2 - om0)) > 1e-6  # negative control: the used matrix does matter
    assert kept.fingerprint() != used.fingerprint()


def test_unknown_connection_keyword_is_an_argument_error():
    """A misspelt connection option is a tbspin ArgumentError that is also a TypeError."""
    from tbspin.errors import ArgumentError, TbspinError

    with pytest.raises(ArgumentError, match="degen_tol") as exc:
        tbspin.spin_hall(kramers_ti(), efermi=[0.0], mesh=4, spin="y", current="z", efield="x",
                         degen_tl=1e-3)
    assert isinstance(exc.value, TypeError) and isinstance(exc.value, TbspinError)
