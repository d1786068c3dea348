"""One gauge warning per run: the k-points where a gauge operator leaves a degeneracy, summed.

:func:`tbspin.bands.eigen.solve` fixes the basis inside degenerate blocks with a gauge operator G;
where G leaves a sub-block degenerate, parallel transport fixes it and tbspin warns
(:class:`tbspin.errors.GaugeWarning`). One k-batch knows only its own count ("at 51 of 113
k-points"), and a run evaluates thousands of batches, so the counts are *tallied* instead:

* :func:`report` (called by ``solve`` for every batch it fixes with G) adds (k-points left
  degenerate, k-points) under the operator's label to the innermost active tally of the calling
  thread, and returns False when there is none (``solve`` then warns for its batch as before);
* :class:`GaugeRun` is a run's tally (a context manager, also a decorator): nested runs add their
  counts to the enclosing one, the outermost emits ONE GaugeWarning per gauge operator with the
  totals, e.g. "the gauge operator (s_z) does not lift the band degeneracy at 5 210 of 2 762 544
  k-points (0.19 %); parallel transport fixes the basis there";
* :func:`counted` runs one chunk under a fresh tally and returns its :class:`GaugeCounts` with
  the result: the engine's executor (:mod:`tbspin.engine.executor`) wraps every chunk task with
  it (:class:`CountedTask`; :func:`map_counted` for an executor the user gives), so counts of
  worker threads, processes and dask workers travel back with the chunk result and are added to
  the caller's run by :func:`absorb` / :func:`absorbed` (no warning is lost, none is repeated;
  on a dask cluster that folds the partials itself the counts are folded with them).

Other warnings are untouched. Tallies are per thread (a worker thread starts with none).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from types import FrameType, TracebackType
from typing import Any, TypeVar

from tbspin.errors import GaugeWarning

__all__ = ["GaugeCounts", "GaugeRun", "CountedTask", "report", "absorb", "absorbed", "counted",
           "map_counted", "message"]

_F = TypeVar("_F", bound=Callable[..., Any])
_local = threading.local()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@dataclasses.dataclass(eq=False)
class GaugeCounts:
    """Per gauge-operator label: [k-points where it leaves a degeneracy, k-points it fixed,
    batches]. Picklable and addable (``a + b``), so it folds like a chunk partial."""

    counts: dict[str, list[int]] = dataclasses.field(default_factory=dict)

    def add(self, label: str, unlifted: int, total: int, batches: int = 1) -> None:
        """Add one batch's (or several batches') counts under ``label``."""
        c = self.counts.setdefault(label, [0, 0, 0])
        c[0] += int(unlifted)
        c[1] += int(total)
        c[2] += int(batches)

    def merge(self, other: GaugeCounts) -> None:
        """Add every count of ``other`` (in place)."""
        for label, (a, b, n) in other.counts.items():
            self.add(label, a, b, n)

    def __add__(self, other: GaugeCounts) -> GaugeCounts:
        out = GaugeCounts()
        out.merge(self)
        out.merge(other)
        return out

    def __bool__(self) -> bool:
        return bool(self.counts)

    def record(self) -> dict[str, dict[str, int | float]]:
        """JSON-ready totals per label: ``unlifted_k``, ``k_points``, ``fraction``, ``batches``
        (what results keep in ``extras["gauge_unlifted"]``)."""
        return {label: {"unlifted_k": a, "k_points": b, "fraction": a / b if b else 0.0,
                        "batches": n}
                for label, (a, b, n) in self.counts.items()}

    def warn(self) -> None:
        """One GaugeWarning per label with k-points left degenerate, pointing at the first
        frame outside tbspin."""
        for label, (a, b, _) in self.counts.items():
            if a:
                warnings.warn(message(label, a, b), GaugeWarning, stacklevel=_outside())


def _digits(n: int) -> str:
    """12 345 678: digits in groups of three."""
    return f"{n:,}".replace(",", " ")


def message(label: str, unlifted: int, total: int) -> str:
    """The one warning text of ``unlifted`` of ``total`` k-points (the percentage to two
    significant digits below 10 %, one decimal above; never rounded up to 100)."""
    pct = 100.0 * unlifted / total if total else 0.0
    text = f"{pct:#.2g}" if pct < 10 else f"{pct:.1f}"
    if unlifted < total and text == "100.0":
        text = ">99.9"
    who = "the gauge operator" if not label else f"the gauge operator ({label})"
    return (f"{who} does not lift the band degeneracy at {_digits(unlifted)} of "
            f"{_digits(total)} k-points ({text} %); parallel transport fixes the basis there")


def _stack() -> list[GaugeCounts]:
    stack: list[GaugeCounts] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def _pop(stack: list[GaugeCounts], tally: GaugeCounts) -> None:
    """Take ``tally`` (this very object: tallies compare by identity) off the stack."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is tally:
            del stack[i]
            return


def report(label: str, unlifted: int, total: int) -> bool:
    """Add one batch's counts to the innermost tally of this thread; False when there is none
    (the caller warns for the batch itself)."""
    stack = _stack()
    if not stack:
        return False
    stack[-1].add(label, unlifted, total)
    return True


def absorb(counts: GaugeCounts | None) -> None:
    """Add the counts a chunk brought back (:func:`counted`) to this thread's innermost tally;
    with none active, warn them at once (a caller outside any run)."""
    if not counts:
        return
    stack = _stack()
    if stack:
        stack[-1].merge(counts)
    else:
        counts.warn()


def counted(fn: Callable[..., Any], *args: Any) -> tuple[Any, GaugeCounts]:
    """``(fn(*args), the gauge counts fn reported)``: one chunk under a fresh tally (in whatever
    thread or process runs it)."""
    stack = _stack()
    mine = GaugeCounts()
    stack.append(mine)
    try:
        out = fn(*args)
    finally:
        _pop(stack, mine)
    return out, mine


@dataclasses.dataclass(frozen=True)
class CountedTask:
    """``task_fn(payload, i)`` of the executor (:mod:`tbspin.engine.executor`) with the chunk's
    gauge counts: ``(partial, GaugeCounts)`` from whatever thread, process or dask worker runs
    it (picklable when ``task_fn`` is)."""

    task_fn: Callable[[Any, int], Any]

    def __call__(self, payload: Any, index: int) -> tuple[Any, GaugeCounts]:
        return counted(self.task_fn, payload, index)


def absorbed(parts: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """``(index, partial)`` of ``(index, (partial, counts))`` pairs of :class:`CountedTask`
    chunks, each chunk's counts :func:`absorb`-ed as it arrives."""
    for i, (part, counts) in parts:
        absorb(counts)
        yield i, part


def map_counted(executor: Any, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
    """``executor.map(fn, items)`` (any object with ``map``, e.g. an executor the user gave)
    with each item's gauge counts brought back to the calling thread's run."""
    for out, counts in executor.map(functools.partial(counted, fn), items):
        absorb(counts)
        yield out


class GaugeRun:
    """The gauge tally of one run (module docstring): ``with GaugeRun() as tally: ...``, or
    ``@GaugeRun.wrap`` on a run's function. Inside an enclosing run the counts go to it on exit;
    the outermost run emits one GaugeWarning per gauge operator (not when the run raised).
    ``tally`` (:class:`GaugeCounts`) holds the run's own totals after the block."""

    def __init__(self) -> None:
        self.tally = GaugeCounts()

    def __enter__(self) -> GaugeCounts:
        _stack().append(self.tally)
        return self.tally

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        stack = _stack()
        _pop(stack, self.tally)
        if stack:
            stack[-1].merge(self.tally)
        elif kind is None:
            self.tally.warn()

    @staticmethod
    def wrap(fn: _F) -> _F:
        """``fn`` run inside its own :class:`GaugeRun`."""

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with GaugeRun():
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]


def _outside() -> int:
    """``stacklevel`` (for a warnings.warn called by the caller of this function) of the first
    frame outside the tbspin package and the standard library's contextlib."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE)
                                 or frame.f_code.co_filename.endswith(("contextlib.py",))):
        frame, level = frame.f_back, level + 1
    return level
