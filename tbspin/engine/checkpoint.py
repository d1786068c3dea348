"""Checkpoints of Brillouin-zone integrations: partial sums keyed on everything that matters.

A checkpoint is an ``.npz`` file (written atomically) holding

* ``format``: ``"tbspin-checkpoint/2"``;
* ``key``: canonical JSON of every input that determines the result — the model fingerprint
  (:meth:`tbspin.LatticeModel.fingerprint`), mesh, shift, formula, spin operator, directions,
  connection settings (method, δ, tolerances, gauge matrix), E_F, T, η and the chunk size;
* ``acc``: the partial sums Σ f X over the chunks done, one per Fermi energy;
* ``done``: one flag per chunk (chunks may finish in any order on a parallel executor);
* ``sha256``: SHA-256 of the payload (format, key, ``acc`` and ``done`` bytes).

Resuming needs an identical key: any difference refuses to resume with a
:class:`tbspin.errors.CheckpointError` naming the file and the differing inputs. Unreadable or
foreign files raise the same error with the fix (delete the file or choose another path), and
so does a file whose payload does not match its stored checksum (a flipped bit in a partial sum
would otherwise change the result silently).

Converged (``tol``) runs go through steps — one randomized or adaptive pass per base mesh
(:func:`tbspin.sampling.converge`) — whose results are small. Their checkpoint is a *step
journal* (:class:`StepJournal`, a JSON file ``format = "tbspin-steps/1"``, written atomically after
every step): the key, the root seed of the run's random shifts, and per completed step its call
(mesh, shifts' seed, tolerances) and its result. A resumed run replays the same calls: a step
whose call matches the journal's is read back instead of computed (floats round-trip exactly
through JSON), the first that differs (e.g. a wall-time budget that now plans another mesh) and
all after it are computed afresh. Inside the step in progress, every finished chunk is appended
to the chunk log ``<journal>.chunks`` (:mod:`tbspin.engine.chunk_log`): a step interrupted
midway reads its finished chunks back and computes only the others.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from tbspin.errors import CheckpointError, OutputError
from tbspin.types import ArrayLike, FloatArray, PathLike

FORMAT = "tbspin-checkpoint/3"
_KEYS = ("format", "key", "acc", "done", "sha256")
JsonValue = str | int | float | bool | None | list | dict

STEPS_FORMAT = "tbspin-steps/2"

__all__ = ["CheckpointState", "load_checkpoint", "save_checkpoint", "array_digest",
           "check_writable", "FORMAT", "StepJournal", "STEPS_FORMAT"]


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
    def empty(cls, n_efermi: int | tuple[int, ...], n_chunks: int) -> CheckpointState:
        """Nothing computed yet (``n_efermi`` may be a shape (n_E, C) for C components)."""
        return cls(acc=np.zeros(n_efermi), done=np.zeros(n_chunks, dtype=bool))


def _text(key: dict[str, JsonValue]) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _short(v: JsonValue) -> str:
    t = json.dumps(v, default=str)
    return t if len(t) <= 40 else t[:37] + "..."


def _npz_checksum(fmt: str, key_text: str, acc: np.ndarray, done: np.ndarray) -> str:
    """SHA-256 of a checkpoint's payload (dtype, shape and bytes of each array)."""
    h = hashlib.sha256(f"{fmt}\n{key_text}\n".encode())
    for a in (np.asarray(acc, dtype=float), np.asarray(done, dtype=bool)):
        h.update(array_digest(a).encode())
    return h.hexdigest()


def _json_checksum(payload: dict[str, JsonValue]) -> str:
    """SHA-256 of the canonical JSON text of a step journal's payload (without its checksum).

    Floats round-trip exactly through JSON, so the text rebuilt from a read journal is the one
    that was written."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _bad_checksum(p: Path) -> CheckpointError:
    return CheckpointError(
        f"{p} is corrupted: its payload does not match its stored sha256 checksum (a changed "
        f"or damaged file would change the result silently); refusing to resume. {_fix(p)}")


def _fix(path: Path) -> str:
    return f"delete {path} or pass another checkpoint path to start afresh"


def _refuse_other_key(p: Path, old_key: JsonValue, key: dict[str, JsonValue]) -> None:
    """CheckpointError listing what differs, when the stored key is not this call's."""
    new_key = json.loads(_text(key))
    if old_key == new_key:
        return
    old = old_key if isinstance(old_key, dict) else {}
    diffs = [f"{name}: checkpoint {_short(old.get(name))}, this call {_short(new_key.get(name))}"
             for name in sorted(set(old) | set(new_key)) if old.get(name) != new_key.get(name)]
    raise CheckpointError(
        f"checkpoint {p} belongs to a different calculation ({'; '.join(diffs)}); refusing "
        f"to resume. Repeat the original call to resume it, or {_fix(p)}"
    )


def load_checkpoint(
    path: PathLike, key: dict[str, JsonValue], n_efermi: int | tuple[int, ...], n_chunks: int
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
            acc, done = np.array(z["acc"]), np.array(z["done"])
            checksum = str(z["sha256"])
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(
            f"{p} is not a readable tbspin checkpoint ({type(exc).__name__}); {_fix(p)}"
        ) from None
    if fmt != FORMAT:
        raise CheckpointError(f"{p} has checkpoint format {fmt!r}, expected {FORMAT!r}; {_fix(p)}")
    if acc.dtype != np.float64 or done.dtype != np.bool_ or \
            _npz_checksum(fmt, stored, acc, done) != checksum:
        raise _bad_checksum(p)
    try:
        old_key = json.loads(stored)
    except ValueError:
        raise CheckpointError(f"{p} has a corrupted key; {_fix(p)}") from None
    _refuse_other_key(p, old_key, key)
    shape = n_efermi if isinstance(n_efermi, tuple) else (n_efermi,)
    if acc.shape != shape or done.shape != (n_chunks,):
        raise CheckpointError(f"{p} has arrays of the wrong shape; {_fix(p)}")
    return CheckpointState(acc=acc, done=done)


def save_checkpoint(path: PathLike, key: dict[str, JsonValue], state: CheckpointState) -> Path:
    """Write ``state`` for the calculation ``key`` atomically (parent folders created)."""
    from tbspin.io.atomic import atomic_savez

    text = _text(key)
    acc = np.asarray(state.acc, dtype=float)
    done = np.asarray(state.done, dtype=bool)
    return atomic_savez(path, format=np.array(FORMAT), key=np.array(text), acc=acc, done=done,
                        sha256=np.array(_npz_checksum(FORMAT, text, acc, done)))


def _replayable(step: dict[str, JsonValue], budget_k: int | None) -> bool:
    """Whether a stored step holds under ``budget_k``: no k budget in its call, the same one,
    or a larger one than a step its budget did not stop (an adaptive pass's history says
    ``budget_k_bound`` when its refinement was cut short)."""
    saved = step.get("budget_k")
    if budget_k is None or saved == budget_k:
        return True
    result = step.get("result")
    history = result.get("history") if isinstance(result, dict) else None
    bound = not isinstance(history, list) or any(
        isinstance(h, dict) and h.get("budget_k_bound") for h in history)
    return isinstance(saved, int) and budget_k > saved and not bound


@dataclasses.dataclass
class StepJournal:
    """The completed steps of a converged run (module docstring), saved to ``path``.

    Attributes
    ----------
    path : Path
    key : dict
        Everything that determines the run (as for :func:`load_checkpoint`).
    entropy : int
        Root seed of the run's random shifts (the user's seed, or one drawn and kept here).
    steps : list of dict
        Per completed step ``{"call": str, "seconds": float, "result": dict}``.
    """

    path: Path
    key: dict[str, JsonValue]
    entropy: int
    steps: list[dict[str, JsonValue]]

    @classmethod
    def open(cls, path: PathLike, key: dict[str, JsonValue], entropy: int) -> StepJournal:
        """The journal at ``path`` for the run ``key`` (empty when the file does not exist;
        then ``entropy`` is the run's root seed, else the stored one is kept).

        Raises
        ------
        CheckpointError
            The file is unreadable, not a step journal, or belongs to another calculation.
        """
        p = check_writable(path)
        if not p.exists():  # written at once: the root seed survives an interrupted first step
            journal = cls(p, key, int(entropy), [])
            journal.save()
            return journal
        try:
            if p.is_dir():
                raise CheckpointError(f"{p} is a directory, not a checkpoint file; {_fix(p)}")
            data = json.loads(p.read_text(encoding="utf-8"))
        except CheckpointError:
            raise
        except (OSError, ValueError) as exc:
            what = ("a uniform-mesh checkpoint (.npz), not the step journal of a 'tol' run"
                    if p.read_bytes()[:4] == b"PK\x03\x04" else
                    f"not a readable step journal ({type(exc).__name__})")
            raise CheckpointError(f"{p} is {what}; {_fix(p)}") from None
        if not isinstance(data, dict) or data.get("format") != STEPS_FORMAT:
            fmt = data.get("format") if isinstance(data, dict) else None
            raise CheckpointError(f"{p} has checkpoint format {fmt!r}, expected "
                                  f"{STEPS_FORMAT!r}; {_fix(p)}")
        stored_sum = data.pop("sha256", None)
        if stored_sum != _json_checksum(data):
            raise _bad_checksum(p)
        _refuse_other_key(p, data.get("key"), key)
        steps = data.get("steps")
        if not isinstance(steps, list) or not isinstance(data.get("entropy"), int):
            raise CheckpointError(f"{p} is a corrupted step journal; {_fix(p)}")
        return cls(p, key, int(data["entropy"]), steps)

    def replay(self, index: int, call: str, budget_k: int | None = None
               ) -> dict[str, JsonValue] | None:
        """The stored step ``index`` if it was made by the same ``call`` and its result holds
        under ``budget_k`` (the same k budget, or a larger one than a step its budget did not
        stop: ``budget_k_bound`` in its history); else None, and the steps from ``index`` on
        are dropped (the run has taken another path)."""
        if index < len(self.steps) and self.steps[index].get("call") == call:
            step = self.steps[index]
            if _replayable(step, budget_k):
                return step
        del self.steps[index:]
        return None

    def stored_mesh(self, index: int, pass_: str, seed: int, budget_k: int | None = None
                    ) -> list[int] | None:
        """The base mesh of stored step ``index`` if it is a ``pass_`` pass with this ``seed``
        that :meth:`replay` would return under ``budget_k``; else None. A run resumed under
        other budgets follows the journal's passes (each a valid estimate, whatever budgets
        planned its mesh) and plans on from the last one."""
        if index >= len(self.steps) or not _replayable(self.steps[index], budget_k):
            return None
        call = json.loads(str(self.steps[index].get("call")))
        if call.get("pass_") != pass_ or call.get("seed") != seed:
            return None
        return list(call["mesh"])

    def record(self, index: int, call: str, seconds: float, result: dict[str, JsonValue],
               budget_k: int | None = None) -> None:
        """Append step ``index`` (made with ``budget_k`` k-points, if it had a budget) and save
        the journal."""
        del self.steps[index:]
        step: dict[str, JsonValue] = {"call": call, "seconds": float(seconds), "result": result}
        if budget_k is not None:
            step["budget_k"] = int(budget_k)
        self.steps.append(step)
        self.save()

    def save(self) -> None:
        """Write the journal atomically."""
        from tbspin.io.atomic import atomic_write

        payload: dict[str, JsonValue] = json.loads(json.dumps(
            {"format": STEPS_FORMAT, "key": json.loads(_text(self.key)), "entropy": self.entropy,
             "steps": self.steps}, default=str))
        payload["sha256"] = _json_checksum(payload)
        atomic_write(self.path, json.dumps(payload))

