"""Where the shared real Wannier90 fits are: ``../shared/data`` beside the repository.

The fits (see ``../shared/data/README.md``) are not part of the package. One search finds them
for the library (``tbspin reproduce materials``), the test suite (``tests/real_fits.py``), the
benchmarks and the tutorials:

1. the folder given as ``data=``, if any, alone;
2. else the folder named by the environment variable ``TBSPIN_SHARED_DATA`` (read at each call)
   alone, when it is set and not empty;
3. else ``../shared/data`` beside the repository root, then one level higher (a git worktree one
   level deeper); the root is the folder holding this package (a checkout or editable install).

A candidate is accepted when it is a folder holding every named sub-folder, each with every
``required`` file. :func:`find_shared_data` returns the first accepted candidate or None;
:func:`require_shared_data` raises :class:`~tbspin.errors.OutputError` naming what is missing
and every place looked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tbspin.errors import OutputError

__all__ = ["DATA_ENV", "DATA_CANDIDATES", "data_candidates", "find_shared_data",
           "absent_reason", "require_shared_data"]

#: the environment variable that replaces :data:`DATA_CANDIDATES` by one folder
DATA_ENV = "TBSPIN_SHARED_DATA"
_ROOT = Path(__file__).resolve().parents[2]
#: where the shared data folder is looked for without ``data=`` and ``$TBSPIN_SHARED_DATA``
DATA_CANDIDATES = (_ROOT.parent / "shared" / "data", _ROOT.parent.parent / "shared" / "data")


def data_candidates(data: Path | str | None = None) -> tuple[Path, ...]:
    """The folders searched for the shared data, in order.

    Parameters
    ----------
    data
        A folder given explicitly; it alone is searched.

    Returns
    -------
    tuple of Path
        ``(data,)`` when given, else ``($TBSPIN_SHARED_DATA,)`` when that is set and not empty,
        else :data:`DATA_CANDIDATES`.
    """
    if data is not None:
        return (Path(data),)
    override = os.environ.get(DATA_ENV)
    return (Path(override),) if override else DATA_CANDIDATES


def find_shared_data(*folders: str, required: Sequence[str] = (),
                     data: Path | str | None = None) -> Path | None:
    """The first candidate folder (:func:`data_candidates`) holding every named sub-folder.

    Parameters
    ----------
    *folders
        Sub-folders that must exist (e.g. ``"pt_wanniertools"``); none: the folder alone.
    required
        Files every named sub-folder must hold (e.g. ``("wannier90_hr.dat.tar.gz",)``).
    data
        A folder given explicitly, searched instead of the default candidates.

    Returns
    -------
    Path or None
        The shared data folder (not the sub-folder), or None when no candidate qualifies.
    """
    for base in data_candidates(data):
        if (base.is_dir() and all((base / name).is_dir() for name in folders)
                and all((base / name / f).is_file() for name in folders for f in required)):
            return base
    return None


def absent_reason(*folders: str, required: Sequence[str] = (),
                  data: Path | str | None = None) -> str:
    """One sentence naming what :func:`find_shared_data` did not find and every place it looked
    (for an error, a test's skip or a script's fallback message); same arguments."""
    what = ("shared data folder" if not folders else
            f"shared data {', '.join(folders)} (with {', '.join(required) or 'any files'})")
    cands = data_candidates(data)
    if data is not None:
        where = f"looked only in data={cands[0]}"
    elif os.environ.get(DATA_ENV):
        where = f"looked only in ${DATA_ENV}={cands[0]}"
    else:
        where = f"looked in {[str(c) for c in cands]}; ${DATA_ENV} names another folder"
    return f"{what} is absent ({where}; see ../shared/data/README.md)"


def require_shared_data(*folders: str, required: Sequence[str] = (),
                        data: Path | str | None = None) -> Path:
    """:func:`find_shared_data`, or an error when it finds nothing.

    Parameters
    ----------
    *folders, required, data
        As for :func:`find_shared_data`.

    Returns
    -------
    Path
        The shared data folder (not the sub-folder).

    Raises
    ------
    OutputError
        No candidate holds the named sub-folders and files; the message names them and every
        place looked (:func:`absent_reason`).
    """
    found = find_shared_data(*folders, required=required, data=data)
    if found is None:
        raise OutputError(absent_reason(*folders, required=required, data=data))
    return found
