"""The API reference and guides build with Sphinx, warnings as errors (``make docs``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_documentation_builds_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx", reason="sphinx is in the 'test' extra; install tbspin[test]")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-b", "html",
         str(ROOT / "docs" / "api"), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    html = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    # the reference really documents the entry points and their parameters
    for name in ("spin_hall", "anomalous_hall", "read_wannier90", "efermi"):
        assert name in html, f"{name} missing from the API reference"
    guides = sorted(p.name for p in (tmp_path / "html" / "_generated").glob("*.html"))
    assert "conventions.html" in guides
    assert any(g.startswith("tutorial_01") for g in guides)
