"""Resume inside a pass: an append-only log of finished chunks, and the ordered chunk runner.

A converged (``tol``) run (:func:`tbspin.sampling.converge`) saves every completed pass in its
step journal (:class:`tbspin.engine.checkpoint.StepJournal`). Inside a pass, each finished chunk
is appended to a *chunk log* next to it, ``<checkpoint>.chunks`` (JSON lines, format
``"tbspin-chunks/1"``):

* line 1, the header: the SHA-256 of the run's key and root seed, and the index of the step
  (pass) the records belong to;
* then one line per finished chunk: the fingerprint of the chunk evaluation it belongs to
  (:func:`call_fingerprint`: the points, shifts, E_F of one call of the sampling rules), the chunk
  index, its partial (arrays as base64 of their bytes, so they round-trip exactly) and the
  SHA-256 of the line's content. Each line is written and flushed as its chunk arrives
  (``fsync``-ed at most every :data:`FSYNC_SECONDS`).

A rerun of the same call replays the completed passes from the step journal, then inside the
interrupted pass reads the finished chunks back (any call whose fingerprint matches) and
computes only the missing ones: a killed run loses at most the chunks that were in flight (one
per worker). The partials are folded in chunk order whatever their origin (:func:`run_ordered`),
so the result is the uninterrupted run's bit for bit. A torn last line (a kill during a write)
is dropped; a damaged line before it is refused with a :class:`~tbspin.errors.CheckpointError`.
When a pass completes, the step journal is saved and the log restarts empty for the next pass;
when the run completes, the log file is removed.

The runner also carries the execution: local threads or a ``dask.distributed`` client
(:func:`tbspin.engine.executor.iter_chunks`), chunks arriving in any order and folded in order.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tbspin.engine.checkpoint import JsonValue, array_digest, check_writable
from tbspin.engine.executor import Partial, iter_chunks
from tbspin.errors import CheckpointError

__all__ = ["CHUNKS_FORMAT", "FSYNC_SECONDS", "ChunkLog", "ChunkRunner", "call_fingerprint", "run_ordered",
           "encode_partial", "decode_partial"]

CHUNKS_FORMAT = "tbspin-chunks/1"
#: shortest time between two fsyncs of the chunk log (one fsync took 4 ms on this VM's disk: at
#: one per record, a client fed by hundreds of workers with sub-second chunks would wait on
#: its disk). Every record is flushed to the kernel at once, so a killed run loses no record;
#: a crash of the machine itself loses at most this many seconds of records
FSYNC_SECONDS = 1.0


# ---------------------------------------------------------------------- partials as JSON
def encode_partial(part: Any) -> JsonValue:
    """A chunk's partial (numbers, arrays, tuples/lists of them) as exact JSON."""
    if isinstance(part, np.ndarray):
        arr = np.ascontiguousarray(part)
        return {"a": base64.b64encode(arr.tobytes()).decode("ascii"), "dtype": arr.dtype.str,
                "shape": list(arr.shape)}
    if isinstance(part, (tuple, list)):
        return {"t" if isinstance(part, tuple) else "l": [encode_partial(p) for p in part]}
    if isinstance(part, np.generic):
        return encode_partial(np.asarray(part))
    if isinstance(part, (bool, int, float)):
        return part
    raise TypeError(f"cannot log a chunk partial of type {type(part).__name__}")


def decode_partial(obj: Any) -> Any:
    """The inverse of :func:`encode_partial` (bitwise the same arrays)."""
    if isinstance(obj, dict):
        if "a" in obj:
            arr = np.frombuffer(base64.b64decode(obj["a"]), dtype=np.dtype(obj["dtype"]))
            return arr.reshape(obj["shape"]).copy()
        if "t" in obj:
            return tuple(decode_partial(p) for p in obj["t"])
        return [decode_partial(p) for p in obj["l"]]
    return obj


def call_fingerprint(*parts: Any) -> str:
    """SHA-256 of everything that determines the partials of one chunk evaluation (arrays by
    :func:`tbspin.engine.checkpoint.array_digest`, the rest by its JSON text)."""
    h = hashlib.sha256()
    for p in parts:
        text = array_digest(p) if isinstance(p, np.ndarray) else json.dumps(p, default=str)
        h.update(text.encode())
        h.update(b"\0")
    return h.hexdigest()


def _sha(obj: dict[str, JsonValue]) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _fix(path: Path) -> str:
    return f"delete {path} (the finished passes in the step journal are kept) to go on"


# ---------------------------------------------------------------------- the log
class ChunkLog:
    """The finished chunks of the current pass of a ``tol`` run (module docstring).

    Attributes
    ----------
    path : Path
    step : int
        Index of the pass (step) the records belong to.
    replayed, computed : int
        Chunks read back from the log / computed and appended, since this object was opened.
    """

    def __init__(self, path: Path, run: str, step: int,
                 records: dict[str, dict[int, Any]] | None = None) -> None:
        self.path, self.run, self.step = path, run, step
        self._records: dict[str, dict[int, Any]] = records or {}
        self.replayed = self.computed = 0
        self._synced = -np.inf

    @staticmethod
    def run_digest(key: dict[str, JsonValue], entropy: int) -> str:
        """What ties a log to its run: the run key and the root seed."""
        return hashlib.sha256(json.dumps([key, int(entropy)], sort_keys=True,
                                         default=str).encode()).hexdigest()

    @classmethod
    def open(cls, path: Path | str, key: dict[str, JsonValue], entropy: int, step: int
             ) -> ChunkLog:
        """The log at ``path`` for the run (``key``, ``entropy``), holding the records of pass
        ``step`` (an absent file, another run's log or another pass's records give an empty
        log). The valid records are rewritten (a torn last line is dropped) before appending.

        Raises
        ------
        CheckpointError
            A line before the last one is damaged (its checksum or JSON), or the file is not a
            chunk log.
        """
        p = check_writable(path, "chunk log")
        run = cls.run_digest(key, entropy)
        log = cls(p, run, step)
        if p.exists():
            log._records = _read(p, run, step)
        log._rewrite()
        return log

    def take(self, call: str) -> dict[int, Any]:
        """The logged partials of the evaluation ``call`` read at opening (by chunk index),
        handed over once (the log keeps no partials in memory: they are as large as the
        per-cell sums of the pass)."""
        return self._records.pop(call, {})

    def append(self, call: str, chunk: int, part: Partial) -> None:
        """Append one finished chunk: flushed at once, ``fsync``-ed at most every
        :data:`FSYNC_SECONDS`."""
        rec: dict[str, JsonValue] = {"call": call, "chunk": int(chunk),
                                     "part": encode_partial(part)}
        rec["sha256"] = _sha(rec)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()  # in the kernel's hands: a killed process loses nothing written
            now = time.monotonic()
            if now - self._synced >= FSYNC_SECONDS:  # on disk: survives the machine too
                os.fsync(fh.fileno())
                self._synced = now
        self.computed += 1

    def restart(self, step: int) -> None:
        """Pass ``step`` starts: the records of the previous pass (now in the step journal) go."""
        self.step = step
        self._records = {}
        self._rewrite()

    def discard(self) -> None:
        """The run is complete (every pass in the step journal): remove the log file."""
        self._records = {}
        self.path.unlink(missing_ok=True)

    def _rewrite(self) -> None:
        """Header and the valid records, written atomically."""
        from tbspin.io.atomic import atomic_write

        lines = [json.dumps({"format": CHUNKS_FORMAT, "run": self.run, "step": self.step})]
        for call, parts in self._records.items():
            for chunk, part in sorted(parts.items()):
                rec: dict[str, JsonValue] = {"call": call, "chunk": chunk,
                                             "part": encode_partial(part)}
                rec["sha256"] = _sha(rec)
                lines.append(json.dumps(rec))
        atomic_write(self.path, "\n".join(lines) + "\n")


def _read(p: Path, run: str, step: int) -> dict[str, dict[int, Any]]:
    """The valid records of pass ``step`` of run ``run`` in the log ``p``."""
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{p} is not a readable chunk log ({type(exc).__name__}); "
                              f"{_fix(p)}") from None
    lines = text.split("\n")
    lines.pop()  # after the last newline: empty, or the torn line of a killed write (dropped)
    try:
        head = json.loads(lines[0]) if lines else None
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("format") != CHUNKS_FORMAT:
        raise CheckpointError(f"{p} is not a tbspin chunk log (format {CHUNKS_FORMAT!r}); "
                              f"{_fix(p)}")
    if head.get("run") != run or head.get("step") != step:
        return {}  # another run's or another pass's records: nothing to replay
    out: dict[str, dict[int, Any]] = {}
    for n, line in enumerate(lines[1:], start=2):
        try:
            rec = json.loads(line)
            stored = rec.pop("sha256")
            ok = stored == _sha(rec)
        except (ValueError, KeyError, AttributeError, TypeError):
            ok = False
        if not ok:
            raise CheckpointError(f"{p} is corrupted: record on line {n} does not match its "
                                  f"sha256 checksum; refusing to resume. {_fix(p)}")
        out.setdefault(str(rec["call"]), {})[int(rec["chunk"])] = decode_partial(rec["part"])
    return out


# ---------------------------------------------------------------------- running chunks
@dataclasses.dataclass
class ChunkRunner:
    """How the chunks of a sampling rule run: ``workers`` local threads, or on a dask
    ``client``; with a ``log``, finished chunks are logged and logged ones replayed."""

    workers: int | None = 1
    client: object = None
    log: ChunkLog | None = None


def _call_task(task: Callable[[int], Partial], index: int) -> Partial:
    return task(index)


def run_ordered(task: Callable[[int], Partial], n_chunks: int, runner: ChunkRunner | None,
                call: str | None = None) -> Iterator[Partial]:
    """``task(j)`` for j = 0 … n_chunks − 1, yielded in chunk order.

    The chunks run on ``runner`` (serially with one BLAS thread for one worker or one chunk,
    else threads, or its dask client) and arrive in any order; they are yielded in order, so a
    fold over them is the serial one bit for bit. With ``runner.log`` and ``call`` (the
    evaluation's fingerprint), chunks logged for ``call`` are read back instead of computed and
    each computed one is appended as it arrives.
    """
    runner = runner or ChunkRunner()
    log = runner.log if call is not None else None
    buffer: dict[int, Partial] = {}
    if log is not None:
        buffer = {j: p for j, p in log.take(call).items() if j < n_chunks}  # type: ignore[arg-type]
        log.replayed += len(buffer)
    todo = [j for j in range(n_chunks) if j not in buffer]
    workers = runner.workers
    backend = ("dask" if runner.client is not None
               else "serial" if workers == 1 or len(todo) < 2 else "threads")
    following = 0
    arriving = (iter_chunks(_call_task, todo, payload=task, workers=workers, backend=backend,
                            client=runner.client) if todo else iter(()))  # (all replayed)
    for j, part in arriving:
        if log is not None:
            log.append(call, j, part)  # type: ignore[arg-type]
        buffer[j] = part
        while following in buffer:
            yield buffer.pop(following)
            following += 1
    while following < n_chunks:
        yield buffer.pop(following)
        following += 1
