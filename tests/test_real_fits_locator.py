"""The one locator of the shared Wannier90 data (tests/real_fits.py): found folders are returned,
absent ones skip the test with a reason naming the folder, the files it lacks and where it was
looked for; ``TBSPIN_SHARED_DATA`` replaces the search (no real data needed: the folders here
are built below ``tmp_path``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import real_fits
from real_fits import DATA_ENV, HR_ARCHIVE, data_folder, find_shared_data, shared_data


def test_override_to_an_absent_folder_skips_naming_the_folder(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    absent = tmp_path / "absent"
    monkeypatch.setenv(DATA_ENV, str(absent))
    assert real_fits.data_candidates() == (absent,)
    with pytest.raises(pytest.skip.Exception) as info:
        data_folder("pt_wanniertools")
    msg = str(info.value)
    assert "pt_wanniertools" in msg and HR_ARCHIVE in msg
    assert f"{DATA_ENV}={absent}" in msg and "README" in msg
    with pytest.raises(pytest.skip.Exception, match=f"shared data folder is absent .*{DATA_ENV}"):
        shared_data()
    assert find_shared_data() is None and find_shared_data("pt_wanniertools") is None


def test_override_to_a_folder_finds_its_subfolders_and_their_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sub-folder is found only when it holds every required file (default: the ``_hr.dat``
    archive); the skip names the missing file."""
    (tmp_path / "pt_wanniertools").mkdir()
    (tmp_path / "pt_wanniertools" / HR_ARCHIVE).write_bytes(b"")
    (tmp_path / "silicon_pythtb").mkdir()
    (tmp_path / "silicon_pythtb" / "silicon_hr.dat").write_text("")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert shared_data() == tmp_path
    assert data_folder("pt_wanniertools") == tmp_path / "pt_wanniertools"
    assert data_folder("silicon_pythtb", ("silicon_hr.dat",)) == tmp_path / "silicon_pythtb"
    assert shared_data("pt_wanniertools", "silicon_pythtb", required=()) == tmp_path
    assert find_shared_data("fe_wanniertools", required=()) is None  # the folder itself is required
    with pytest.raises(pytest.skip.Exception, match="silicon_pythtb .*with silicon_hr.dat, silicon.win"):
        data_folder("silicon_pythtb", ("silicon_hr.dat", "silicon.win"))
    with pytest.raises(pytest.skip.Exception, match=f"silicon_pythtb .*with {HR_ARCHIVE}"):
        data_folder("silicon_pythtb")  # no _hr.dat archive there
    with pytest.raises(pytest.skip.Exception, match="pt_wanniertools, fe_wanniertools"):
        shared_data("pt_wanniertools", "fe_wanniertools")


def test_without_override_the_folder_beside_the_repository_is_searched(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset (or empty) ``TBSPIN_SHARED_DATA``: ``../shared/data`` of the repository, then one
    level higher (a git worktree one level deeper); the skip reason lists both."""
    monkeypatch.setenv(DATA_ENV, "")
    root = Path(real_fits.__file__).resolve().parents[1]
    assert real_fits.data_candidates() == (root.parent / "shared" / "data",
                                           root.parent.parent / "shared" / "data")
    with pytest.raises(pytest.skip.Exception) as info:
        data_folder("no_such_fit_folder")
    assert all(str(base) in str(info.value) for base in real_fits.DATA_CANDIDATES)
