"""Checkpoints of Brillouin-zone integrations: partial sums keyed on everything that matters.

A checkpoint is an ``.npz`` file (written atomically) holding

* ``format``: ``"tbspin-checkpoint/2"``;
* ``key``: canonical JSON of every input that determines the result — the model fingerprint
  (:meth:`tbspin.LatticeModel.fingerprint`), mesh, shift, formula, spin operator, directions,
  connection settings (method, δ, tolerances, gauge matrix), E_F, T, η and the chunk size;
* ``acc``: the partial sums Σ f X over the chunks done, one per Fermi energy;
* ``done``: one flag per chunk (chunks may finish in any order on a parallel executor).

Resuming needs an identical key: any difference refuses to resume with a
:class:`tbspin.errors.CheckpointError` naming the file and the differing inputs. Unreadable or
foreign files raise the same error with the fix (delete the file or choose another path).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .errors import CheckpointError, OutputError
from .types import ArrayLike, FloatArray, PathLike

FORMAT = "tbspin-checkpoint/2"
_KEYS = ("format", "key", "acc", "done")
JsonValue = str | int | float | bool | None | list | dict

__all__ = ["CheckpointState", "load_checkpoint", "save_checkpoint", "array_digest",
           "check_writable", "FORMAT"]


def check_writable(path: PathLike, what: str = "checkpoint") -> Path:
    """Make sure ``path`` can be written (its folder exists or can be created, and is writable)
    BEFORE a computation starts; raise OutputError naming the path otherwise."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write the {what} {p}: folder {parent} cannot be created "
                          f"({exc.strerror or exc}); choose another path") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write the {what} {p}: folder {parent} is not writable; "
                          "choose another path")
    return p


def array_digest(a: ArrayLike) -> str:
    """SHA-256 of an array's dtype, shape and bytes (short keys for big arrays)."""
    arr = np.ascontiguousarray(np.asarray(a))
    h = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


@dataclasses.dataclass
class CheckpointState:
    """Partial sums of an integration: ``acc`` (n_E,) and ``done`` (n_chunks,) flags."""

    acc: FloatArray
    done: np.ndarray

    @classmethod
    def empty(cls, n_efermi: int, n_chunks: int) -> CheckpointState:
        """Nothing computed yet."""
        return cls(acc=np.zeros(n_efermi), done=np.zeros(n_chunks, dtype=bool))


def _text(key: dict[str, JsonValue]) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _short(v: JsonValue) -> str:
    t = json.dumps(v, default=str)
    return t if len(t) <= 40 else t[:37] + "..."


def _fix(path: Path) -> str:
    return f"delete {path} or pass another checkpoint path to start afresh"


def load_checkpoint(
    path: PathLike, key: dict[str, JsonValue], n_efermi: int, n_chunks: int
) -> CheckpointState | None:
    """Read a checkpoint for the calculation ``key``; None when ``path`` does not exist.

    Raises
    ------
    CheckpointError
        The file is unreadable, not a tbspin checkpoint, or belongs to another calculation
        (the message names the file, what differs and what to do).
    """
    p = Path(path)
    if not p.exists():
        return None
    try:
        if p.is_dir():
            raise CheckpointError(f"{p} is a directory, not a checkpoint file; {_fix(p)}")
        with open(p, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                raise CheckpointError(
                    f"{p} is not a tbspin checkpoint (not an .npz archive); {_fix(p)}")
        with np.load(p, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise CheckpointError(f"{p} is a single numpy array, not a tbspin checkpoint; {_fix(p)}")
            missing = [k for k in _KEYS if k not in z.files]
            if missing:
                old = "next_chunk" in z.files and "signature" in z.files
                what = "an older tbspin version" if old else "something else"
                raise CheckpointError(
                    f"{p} is not a tbspin checkpoint (written by {what}; missing {missing}); "
                    f"{_fix(p)}"
                )
            fmt, stored = str(z["format"]), str(z["key"])
            acc, done = np.array(z["acc"], dtype=float), np.array(z["done"], dtype=bool)
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(
            f"{p} is not a readable tbspin checkpoint ({type(exc).__name__}); {_fix(p)}"
        ) from None
    if fmt != FORMAT:
        raise CheckpointError(f"{p} has checkpoint format {fmt!r}, expected {FORMAT!r}; {_fix(p)}")
    try:
        old_key = json.loads(stored)
    except ValueError:
        raise CheckpointError(f"{p} has a corrupted key; {_fix(p)}") from None
    new_key = json.loads(_text(key))
    if old_key != new_key:
        diffs = [f"{name}: checkpoint {_short(old_key.get(name))}, this call {_short(new_key.get(name))}"
                 for name in sorted(set(old_key) | set(new_key))
                 if old_key.get(name) != new_key.get(name)]
        raise CheckpointError(
            f"checkpoint {p} belongs to a different calculation ({'; '.join(diffs)}); refusing "
            f"to resume. Repeat the original call to resume it, or {_fix(p)}"
        )
    if acc.shape != (n_efermi,) or done.shape != (n_chunks,):
        raise CheckpointError(f"{p} has arrays of the wrong shape; {_fix(p)}")
    return CheckpointState(acc=acc, done=done)


def save_checkpoint(path: PathLike, key: dict[str, JsonValue], state: CheckpointState) -> Path:
    """Write ``state`` for the calculation ``key`` atomically (parent folders created)."""
    from .io.atomic import atomic_savez

    return atomic_savez(path, format=np.array(FORMAT), key=np.array(_text(key)), acc=state.acc,
                        done=state.done)
