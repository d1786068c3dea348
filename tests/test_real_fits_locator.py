"""The one locator of the shared Wannier90 data, :mod:`tbspin.io.shared_data`, and its test-suite
wrapper tests/real_fits.py: found folders are returned, absent ones raise OutputError (library)
or skip the test (real_fits) with a reason naming the folder, the files it lacks and where it was
looked for; ``data=`` and ``TBSPIN_SHARED_DATA`` replace the search (no real data needed: the
folders here are built below ``tmp_path``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import real_fits
from real_fits import DATA_ENV, HR_ARCHIVE, data_folder, find_shared_data, shared_data

from tbspin.errors import OutputError
from tbspin.io import shared_data as locator
from tbspin.reproduce import materials


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
    root = Path(locator.__file__).resolve().parents[2]  # the checkout holding tbspin/
    assert (root / "tbspin" / "io" / "shared_data.py").is_file()
    assert real_fits.data_candidates() == (root.parent / "shared" / "data",
                                           root.parent.parent / "shared" / "data")
    with pytest.raises(pytest.skip.Exception) as info:
        data_folder("no_such_fit_folder")
    assert all(str(base) in str(info.value) for base in real_fits.DATA_CANDIDATES)


def _fits(base: Path) -> Path:
    """A fake shared data folder: pt_wanniertools with its archive, silicon_pythtb without."""
    (base / "pt_wanniertools").mkdir(parents=True)
    (base / "pt_wanniertools" / HR_ARCHIVE).write_bytes(b"")
    (base / "silicon_pythtb").mkdir()
    return base


def test_library_data_argument_is_searched_alone_and_beats_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``data=`` is the only candidate, even with ``TBSPIN_SHARED_DATA`` naming another complete
    folder; the library requires no files unless told (real_fits: the archive)."""
    given, env = _fits(tmp_path / "given"), _fits(tmp_path / "env")
    monkeypatch.setenv(DATA_ENV, str(env))
    assert locator.data_candidates(given) == (given,)
    assert locator.find_shared_data(data=given) == given
    assert locator.find_shared_data("pt_wanniertools", data=str(given)) == given
    assert locator.find_shared_data("pt_wanniertools", required=(HR_ARCHIVE,), data=given) == given
    assert locator.find_shared_data("silicon_pythtb", data=given) == given  # no files required
    assert locator.find_shared_data("silicon_pythtb", required=(HR_ARCHIVE,), data=given) is None
    assert find_shared_data("silicon_pythtb") is None  # real_fits requires the archive
    assert locator.find_shared_data(data=tmp_path / "absent") is None  # env not consulted
    assert locator.require_shared_data("pt_wanniertools", data=given) == given
    assert materials.data_folder(given) == given


def test_library_environment_variable_replaces_the_default_search(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _fits(tmp_path / "env")
    monkeypatch.setenv(DATA_ENV, str(env))
    assert locator.data_candidates() == (env,)
    assert locator.find_shared_data("pt_wanniertools") == env
    assert locator.require_shared_data() == env
    assert materials.data_folder() == env  # the materials table follows the variable too
    monkeypatch.setenv(DATA_ENV, "")  # empty: unset
    assert locator.data_candidates() == locator.DATA_CANDIDATES


def test_library_error_names_what_is_missing_and_every_place_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given = _fits(tmp_path / "given")
    with pytest.raises(OutputError) as info:
        locator.require_shared_data("silicon_pythtb", "fe_wanniertools",
                                    required=("silicon_hr.dat",), data=given)
    msg = str(info.value)
    assert "silicon_pythtb, fe_wanniertools (with silicon_hr.dat)" in msg
    assert f"looked only in data={given}" in msg and "README" in msg
    absent = tmp_path / "absent"
    monkeypatch.setenv(DATA_ENV, str(absent))
    with pytest.raises(OutputError, match=f"shared data folder is absent .*{DATA_ENV}={absent}"):
        locator.require_shared_data()
    with pytest.raises(OutputError, match=r"CLI --data") as info:  # materials: same class
        materials.data_folder()
    assert f"{DATA_ENV}={absent}" in str(info.value)
    monkeypatch.delenv(DATA_ENV)
    with pytest.raises(OutputError) as info:
        locator.require_shared_data("no_such_fit_folder")
    msg = str(info.value)
    assert "no_such_fit_folder (with any files) is absent" in msg
    assert all(str(base) in msg for base in locator.DATA_CANDIDATES) and DATA_ENV in msg
