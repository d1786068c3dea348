"""Result files are never lost: no silent overwrite, one writer per output path.

* :func:`refuse_existing`: the command line does not overwrite result files of an earlier run
  unless ``--force`` is given; the error names the file.
* :func:`output_lock`: while a run computes and writes an output path, a lock file
  (``<stem>.lock`` or ``<folder>/.tbspin.lock``, created exclusively, holding host, pid and the
  command) marks it; a second run on the same path is refused with a message naming the lock
  and the run holding it. A lock left by a process that no longer runs on this host is taken
  over (with a note on stderr).
* :func:`free_folder`: the next unused ``base``, ``base-2``, ``base-3``, ... (a job with a
  default output folder writes a new one instead of overwriting the last run).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from tbspin.errors import OutputError
from tbspin.types import PathLike

__all__ = ["refuse_existing", "output_lock", "free_folder", "lock_path"]


def refuse_existing(paths: Iterable[PathLike], force: bool, *, option: str = "--out") -> None:
    """Raise OutputError naming the first existing file of ``paths`` unless ``force``."""
    if force:
        return
    for p in map(Path, paths):
        if p.exists():
            raise OutputError(
                f"{option}: {p} exists (from an earlier run); refusing to overwrite it. Pass "
                f"--force to overwrite, or choose another {option}")


def free_folder(base: PathLike) -> Path:
    """``base`` if it does not exist or is empty, else the first free ``base-N`` (N ≥ 2)."""
    b = Path(base)
    if not b.exists() or (b.is_dir() and not any(b.iterdir())):
        return b
    n = 2
    while True:
        cand = b.with_name(f"{b.name}-{n}")
        if not cand.exists() or (cand.is_dir() and not any(cand.iterdir())):
            return cand
        n += 1


def lock_path(target: PathLike, *, folder: bool = False) -> Path:
    """The lock file of an output stem (``stem.lock``) or folder (``folder/.tbspin.lock``)."""
    t = Path(target)
    return t / ".tbspin.lock" if folder else t.with_name(t.name + ".lock")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(lock: Path) -> dict[str, object] | None:
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def output_lock(target: PathLike, *, folder: bool = False, what: str = "--out") -> Iterator[Path]:
    """Hold the lock of an output path for the duration of the block (module docstring).

    Raises
    ------
    OutputError
        Another running process holds the lock (the message names it and the lock file).
    """
    lock = lock_path(target, folder=folder)
    created = [d for d in (lock.parent, *lock.parent.parents) if not d.exists()]
    lock.parent.mkdir(parents=True, exist_ok=True)
    me = {"host": socket.gethostname(), "pid": os.getpid(), "command": " ".join(sys.argv)}
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            pid = holder.get("pid") if holder else None
            same_host = holder is not None and holder.get("host") == me["host"]
            if same_host and isinstance(pid, int) and not _alive(pid):
                print(f"tbspin: removing stale lock {lock} (process {pid} no longer runs)",
                      file=sys.stderr)
                lock.unlink(missing_ok=True)
                continue
            who = (f"process {pid} on {holder.get('host')} ({holder.get('command')})"
                   if holder else "another run")
            raise OutputError(
                f"{what} {target} is being written by {who}: lock file {lock}. Wait for that "
                f"run, choose another {what}, or delete {lock} if no run uses it") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        break
    else:  # pragma: no cover - the stale lock reappeared between unlink and create
        raise OutputError(f"{what} {target}: could not take the lock {lock}")
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        for d in created:  # folders made only for the lock and left empty (a failed run)
            with contextlib.suppress(OSError):
                d.rmdir()
