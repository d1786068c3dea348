"""Test-suite configuration: nothing is written into the source tree.

Hypothesis keeps no example database and its cache directory lives in a temporary folder; pytest's
cache is disabled in pyproject.toml (``-p no:cacheprovider``); tests write only below ``tmp_path``.
"""

import os
import shutil
import tempfile

import pytest
import real_fits
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="tbspin-hypothesis-")  # removed at session end
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
settings.register_profile("tbspin", database=None)
settings.load_profile("tbspin")

# the engine's default is every core (tbspin.engine.executor.default_workers); the suite runs serially
# (deterministic call counts, no oversubscription) unless a test asks for workers explicitly
os.environ.setdefault("TBSPIN_WORKERS", "1")


def _fallback_files() -> set[str]:
    """This process's fallback files (named ``tbspin-fallback-<pid>-...``): other runs on a
    shared machine may leave their own."""
    mine = f"tbspin-fallback-{os.getpid()}-"
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith(mine)}


def pytest_sessionstart(session) -> None:
    session.config._tbspin_fallbacks = _fallback_files()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Issue 26 item 7: the suite leaves no ``tbspin-fallback-*`` files in the system's
    temporary folder (tests that provoke a fallback redirect it below ``tmp_path``)."""
    shutil.rmtree(_HYPOTHESIS_HOME, ignore_errors=True)  # one per run piled up in /tmp
    left = _fallback_files() - getattr(session.config, "_tbspin_fallbacks", set())
    if left:
        session.exitstatus = 1
        print(f"\ntests left fallback files in {tempfile.gettempdir()}: {sorted(left)}")


# ---------------------------------------------------------------------- real Wannier90 fits
# the shared fits as fixtures of the FFT, family and lower-triangle tests (tests/real_fits.py)
@pytest.fixture(scope="module")
def platinum(tmp_path_factory: pytest.TempPathFactory):
    """The shared fcc Pt `_hr.dat` (18 WF, block spinors)."""
    return real_fits.platinum(tmp_path_factory.mktemp("pt"))


@pytest.fixture(scope="module")
def bi2se3_positions(tmp_path_factory: pytest.TempPathFactory):
    """The shared Bi₂Se₃ `_hr.dat` with the final Wannier centres of its `.wout` (orbital
    positions: the positions convention's phases are exercised)."""
    return real_fits.bi2se3_positions(tmp_path_factory.mktemp("bi2se3_pos"))
