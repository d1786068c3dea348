"""Installation without Kwant (issue 12, item 17).

* the wheel, built with ``pip wheel --no-deps``, installs with plain pip into a fresh venv (no
  system site-packages, so no Kwant) and runs the core: a Wannier90 ``_hr.dat`` import and a spin
  Hall conductivity, through the ``tbspin`` console script;
* a Kwant feature called without Kwant raises MissingDependencyError with the install recipe.

Physics check of the venv run: the Kane–Mele model with λ_R = 0 conserves s_z and has spin Chern
number 1 (Kane & Mele, PRL 95, 226801 (2005)), so σ^z_xy = (C↑ − C↓) e/4π = 4 in units of e/8π
(the value tests/test_cli_docs.py checks with Kwant present).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCK_KWANT = "import sys; sys.modules['kwant'] = None\n"


def _run(code: str, *, python: str = sys.executable, cwd: Path | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env)


def test_kwant_features_without_kwant_say_how_to_install(tmp_path):
    code = BLOCK_KWANT + textwrap.dedent("""
        import numpy as np
        from tbspin.errors import MissingDependencyError
        import tbspin.models as m, tbspin.slab as slab
        from tbspin.adapters.kwant import to_kwant
        msgs = []
        for call in (lambda: m.qwz(), lambda: m.bi2se3(), lambda: to_kwant(m.haldane()),
                     lambda: slab.edge_modes(slab.make_slab(m.haldane(), direction=1,
                                                            n_layers=8), 0.0)):
            try:
                call()
            except MissingDependencyError as exc:
                assert isinstance(exc, ImportError)
                msgs.append(str(exc))
        assert len(msgs) == 4, msgs
        # the numpy slab needs no Kwant: the Haldane ribbon's spectrum is there
        s = slab.make_slab(m.haldane(), direction=1, n_layers=8)
        assert s.hamiltonian(np.zeros(2)).shape == (1, 16, 16)
        print("\\n".join(msgs))
    """)
    r = _run(code, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for msg in r.stdout.strip().splitlines():
        assert "needs Kwant" in msg and "pip install 'tbspin[kwant]'" in msg
        assert "--config-settings=--build-option=--cython kwant==1.5.0" in msg
    # the command line: one line, exit status 1 (a failure, not a usage error)
    r = _run(BLOCK_KWANT + "from tbspin.cli.app import main; raise SystemExit(main(['shc', "
             "'--model', 'qwz', '--mesh', '4', '--no-progress']))", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "tbspin[kwant]" in r.stderr


def _copy_source(dest: Path) -> Path:
    """The installable files only (tests write nothing into the source tree)."""
    src = dest / "src"
    src.mkdir()
    for name in ("tbspin", "models"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    return src


@pytest.mark.wheel
def test_wheel_installs_without_kwant_and_runs_the_core(tmp_path):
    src = _copy_source(tmp_path)
    wheels = tmp_path / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(wheels), str(src)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    (wheel,) = wheels.glob("tbspin-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--prefer-binary", "--no-compile",
                        "--disable-pip-version-check", str(wheel)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0 and any(s in r.stderr for s in ("NewConnectionError", "Temporary failure",
                                                          "No matching distribution")):
        pytest.skip(f"the package index is not reachable: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr
    assert _run("import kwant", python=str(py)).returncode != 0  # a venv without Kwant

    # a Kane–Mele model (no Kwant needed) written as _hr.dat, then the console script on it
    r = _run(textwrap.dedent(f"""
        import numpy as np
        from tbspin.io import write_hr
        from tbspin.models import kane_mele
        write_hr(kane_mele(lambda_r=0.0), {str(tmp_path / "km_hr.dat")!r})
    """), python=str(py), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lat = "1,0,0,0.5,0.8660254037844386,0,0,0,20"
    r = subprocess.run([str(venv / "bin" / "tbspin"), "shc", "--hr", str(tmp_path / "km_hr.dat"),
                        "--spin-order", "interleaved", "--lattice", lat, "--efermi", "0",
                        "--mesh", "72", "72", "--out", str(tmp_path / "r"), "--no-progress",
                        "--no-errors"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["unit"] == "e/8pi" and abs(abs(data["values"][0]) - 4.0) < 1e-6
    # Kwant features say how to install it
    r = subprocess.run([str(venv / "bin" / "tbspin"), "shc", "--model", "qwz"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 1 and "kwant==1.5.0" in r.stderr
