"""The shared real Wannier90 fits (``../shared/data``, see its README) as the FFT, family and
lower-triangle tests read them; a test skips with the reason when the folder is absent."""

from __future__ import annotations

import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from tbspin import LatticeModel

ROOT = Path(__file__).resolve().parents[1]
DATA_CANDIDATES = (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data")
PT_LATTICE = [[0.0, 1.96195, 1.96195], [1.96195, 0.0, 1.96195], [1.96195, 1.96195, 0.0]]
LAT_BI2SE3 = [[-2.069, -3.583614, 0.0], [2.069, -3.583614, 0.0], [0.0, 2.389075, 9.546667]]


def data_folder(name: str) -> Path:
    """``../shared/data/<name>`` with its ``_hr.dat`` archive, or skip the test."""
    for base in DATA_CANDIDATES:
        if (base / name / "wannier90_hr.dat.tar.gz").is_file():
            return base / name
    pytest.skip(f"shared data folder {name} is absent (looked in {[str(b) for b in DATA_CANDIDATES]};"
                " see ../shared/data/README.md)")


def _extracted_hr(name: str, dest: Path) -> Path:
    with tarfile.open(data_folder(name) / "wannier90_hr.dat.tar.gz") as tar:
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
