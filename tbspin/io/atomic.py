"""Atomic file writes: a reader never sees a half-written file.

The data are written to a temporary file in the target directory, flushed to disk and then
moved over the target with :func:`os.replace` (atomic on POSIX and Windows for paths on the
same file system). If anything fails on the way, the target is left untouched and the
temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from tbspin.types import ArrayLike, PathLike

__all__ = ["atomic_write", "atomic_savez", "save_figure"]


class Figure(Protocol):
    """What :func:`save_figure` needs of a figure (a matplotlib ``Figure``)."""

    # (*args/**kwargs: matplotlib's own signature is not a structural match for a narrower one)
    def savefig(self, *args: Any, **kwargs: Any) -> object: ...


def atomic_write(
    path: PathLike,
    data: str | bytes | Callable[[IO[Any]], object],  # text or binary handle (docstring)
    *,
    encoding: str = "utf-8",
) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : path-like
        Target file. Its directory must exist.
    data : str, bytes or callable
        Text (written with ``encoding``), bytes, or a callback ``f(fh)`` that writes into the
        open temporary file. A callback gets a text handle unless ``data`` is wrapped as
        ``bytes``; pass ``encoding=""`` to give the callback a binary handle instead.
    encoding : str
        Text encoding; ``""`` means binary mode for a callback.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    FileNotFoundError
        If the target directory does not exist.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write {target}: directory {directory} does not exist")
    binary = isinstance(data, (bytes, bytearray)) or (callable(data) and encoding == "")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        if binary:
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline="\n")
        with fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates the file 0600; give it the permissions of a normal new file
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def atomic_savez(path: PathLike, **arrays: ArrayLike) -> Path:
    """``numpy.savez`` into ``path`` atomically (parent folders are created)."""
    import numpy as np

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # (numpy's stub lets **arrays reach allow_pickle: bool, hence the ignore)
    return atomic_write(target, lambda fh: np.savez(fh, **arrays),  # type: ignore[arg-type]
                        encoding="")


def save_figure(fig: Figure, path: PathLike, **savefig_kw: object) -> Path:
    """Save a matplotlib figure atomically (format from the suffix; parent folders created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fmt = target.suffix.lstrip(".") or "png"
    return atomic_write(target, lambda fh: fig.savefig(fh, format=fmt, **savefig_kw), encoding="")
