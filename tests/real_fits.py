"""The shared real Wannier90 fits (``../shared/data``, see its README) for the test suite, and
the Pt and Bi₂Se₃ fits as the FFT, family and lower-triangle tests read them.

Every test that needs the shared data finds it here: :func:`shared_data` (the folder itself, or
the folder holding some sub-folders) and :func:`data_folder` (one sub-folder with the files a test
reads). Both skip the test with one reason naming what is missing and where it was looked for when
the data is absent; they never fail. The search is the library's, :mod:`tbspin.io.shared_data`:
the folder next to the repository and one level higher (a git worktree one level deeper). The
environment variable ``TBSPIN_SHARED_DATA`` (read at each call) replaces that search by one
folder, e.g. a copy of the data elsewhere, or a path that does not exist to check that the tests
needing the data skip cleanly::

    TBSPIN_SHARED_DATA=/nonexistent python -m pytest -q -rs tests/test_wannier90.py
"""

from __future__ import annotations

import tarfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tbspin import LatticeModel
from tbspin.io import shared_data as _locator
from tbspin.io.shared_data import DATA_CANDIDATES, DATA_ENV, absent_reason, data_candidates

__all__ = ["DATA_CANDIDATES", "DATA_ENV", "HR_ARCHIVE", "data_candidates", "find_shared_data",
           "shared_data", "data_folder", "platinum", "bi2se3_positions", "PT_LATTICE",
           "LAT_BI2SE3"]

#: the ``_hr.dat`` archive most folders hold (what :func:`data_folder` requires by default)
HR_ARCHIVE = "wannier90_hr.dat.tar.gz"
PT_LATTICE = [[0.0, 1.96195, 1.96195], [1.96195, 0.0, 1.96195], [1.96195, 1.96195, 0.0]]
LAT_BI2SE3 = [[-2.069, -3.583614, 0.0], [2.069, -3.583614, 0.0], [0.0, 2.389075, 9.546667]]


def find_shared_data(*folders: str, required: Sequence[str] = (HR_ARCHIVE,)) -> Path | None:
    """The first candidate folder (:func:`data_candidates`) that exists and holds every named
    sub-folder with every ``required`` file in each, or None (no skip: for a test that runs
    its other parts without the data). :func:`tbspin.io.shared_data.find_shared_data` with the
    ``_hr.dat`` archive required by default."""
    return _locator.find_shared_data(*folders, required=required)


def shared_data(*folders: str, required: Sequence[str] = (HR_ARCHIVE,)) -> Path:
    """The shared data folder (``../shared/data``) holding every named sub-folder with the
    ``required`` files in each (without names: the folder alone), or skip the test.

    Parameters
    ----------
    *folders
        Sub-folders the test reads (e.g. ``"pt_wanniertools"``); none: the folder must exist.
    required
        Files each named sub-folder must hold (default: its ``_hr.dat`` archive).

    Returns
    -------
    Path
        The shared data folder.
    """
    found = find_shared_data(*folders, required=required)
    if found is None:
        pytest.skip(absent_reason(*folders, required=required))
    return found


def data_folder(name: str, required: Sequence[str] = (HR_ARCHIVE,)) -> Path:
    """``../shared/data/<name>`` holding the ``required`` files (default: its ``_hr.dat``
    archive), or skip the test (:func:`shared_data`)."""
    return shared_data(name, required=required) / name


def _extracted_hr(name: str, dest: Path) -> Path:
    with tarfile.open(data_folder(name) / HR_ARCHIVE) as tar:
        tar.extractall(dest, filter="data")
    return next(dest.rglob("*_hr.dat"))


def platinum(dest: Path) -> LatticeModel:
    """fcc Pt, 18 WF, block spinors, extracted into ``dest``."""
    hr = _extracted_hr("pt_wanniertools", dest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LatticeModel.from_wannier90(hr, spin_order="block", lattice=PT_LATTICE)


def bi2se3_positions(dest: Path) -> LatticeModel:
    """Bi₂Se₃ with the final Wannier centres of its ``.wout`` (both extracted into ``dest``)."""
    from tbspin.io.wannier90 import read_wannier90

    hr = _extracted_hr("bi2se3_wanniertools", dest)
    (hr.parent / "wannier90.wout").write_bytes(
        (data_folder("bi2se3_wanniertools") / "wannier90.wout").read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = read_wannier90(hr, lattice=LAT_BI2SE3, spin_order="block")
    assert str(model.metadata["positions_from"]).endswith("wannier90.wout (final state)")
    assert np.ptp(model.positions, axis=0).any()
    return model
