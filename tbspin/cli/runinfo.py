"""What a result file needs so that someone can rerun its number: the run record.

The command line writes, next to the values, ``extras["run"]`` of every result (JSON and the
NPZ's embedded JSON):

``command``
    The command line as typed (``tbspin shc --hr ... --seed 7``), shell-quoted.
``argv``
    The same as a list.
``model``
    Where the model came from: ``{"model": name}`` and ``"param"`` (every ``--param`` override
    as given and as converted) for catalogue models; ``{"hr": path, "spin_order", "lattice",
    "param"}`` for Wannier90 files (their sha256 are in ``provenance.source``).
``symmetrize``
    ``False``, or ``{"requested": True, "applied": [...], "report": "..."}`` (the
    :class:`tbspin.symmetry.operations.SymmetryReport` text, also printed to stderr).
``tbspin``, ``git_commit``, ``git_dirty``, ``python``, ``numpy``, ``scipy``
    Versions; the commit of the source tree tbspin was imported from, if it is a git checkout
    (None otherwise).
``started``
    UTC time the run started (ISO 8601).

The sampling itself (mesh, shift, the seed actually drawn by a ``tol`` run, ``tol``, both
budgets) is recorded by the library in ``extras["sampling"]``, so results computed from Python
carry it too.
"""

from __future__ import annotations

import datetime
import functools
import platform
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tbspin._json import jsonable
from tbspin._version import __version__

__all__ = ["git_commit", "run_record"]


@functools.lru_cache(maxsize=1)
def git_commit() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout tbspin is imported from; (None, None) otherwise."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=False)
        if head.returncode != 0:
            return None, None
        status = subprocess.run(["git", "-C", str(here), "status", "--porcelain",
                                 "--untracked-files=no", "--", "."],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None, None
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return head.stdout.strip() or None, dirty


def run_record(
    argv: Sequence[str],
    *,
    model: Mapping[str, Any] | None = None,
    symmetrize: Mapping[str, Any] | bool = False,
    program: str = "tbspin",
) -> dict[str, Any]:
    """The run record of a command-line run (module docstring).

    Parameters
    ----------
    argv : sequence of str
        The arguments after the program name.
    model : mapping, optional
        Where the model came from (catalogue name and ``--param`` overrides, or the Wannier90
        options).
    symmetrize : mapping or bool
        False, or what ``--symmetrize`` did.
    program : str
        Program name put in front of ``argv`` in ``command``.

    Returns
    -------
    dict
        JSON-ready.
    """
    import numpy
    import scipy

    commit, dirty = git_commit()
    args = [str(a) for a in argv]
    return {
        "command": shlex.join([program, *args]),
        "argv": args,
        "model": jsonable(dict(model or {})),
        "symmetrize": jsonable(dict(symmetrize) if isinstance(symmetrize, Mapping)
                               else bool(symmetrize)),
        "tbspin": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
