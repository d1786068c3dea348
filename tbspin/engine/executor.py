"""Run k-chunk tasks concurrently and reduce their partial sums deterministically.

A *task* is a module-level (picklable) function ``task_fn(payload, index) -> partial``: the
payload (model, mesh plan, settings …) is shipped once per worker, never once per task, and the
partial of chunk ``index`` must depend on nothing else. Partials are numbers, numpy arrays, or
tuples/lists/dicts of them.

Determinism: whatever the backend, the worker count or the completion order, partial sums are
folded in chunk order, ``((p_0 + p_1) + p_2) + …`` (:class:`OrderedSum`), which is exactly what a
serial loop does: the results of all backends are bitwise identical, not merely close.

Backends
--------
``"serial"``
    A plain loop in the calling thread.
``"threads"``
    A thread pool. numpy's batched ``eigh``, ``matmul``, ``exp`` and scipy's FFT release the GIL
    (measured in ``benchmarks/bench_parallel.py``), so threads scale without copying the payload.
    Weaker for tiny matrices: batched ``eigh`` of 4×4 matrices speeds up erratically on two
    threads of one process, 1.0–1.7× from run to run (contention inside BLAS/LAPACK on its many
    tiny calls; 18×18 scales 1.8–1.95×), so long runs of few-band models gain from
    ``"processes"`` (4-band 100³ on 2 cores: 2.98 s vs 3.37 s on threads; benchmarks/README.md,
    seventh and eighth sessions).
``"processes"``
    A process pool (``fork`` when the caller runs no other Python thread, else ``spawn``), the
    payload sent once per worker through the pool initializer.
``"dask"``
    An existing ``dask.distributed.Client`` (``client=``): the payload is scattered (broadcast)
    once, chunk tasks are mapped onto the cluster and the ordered fold runs on the cluster.
    Without a client a temporary ``LocalCluster`` with ``workers`` single-threaded workers is
    started and closed. Optional dependency: ``pip install tbspin[dask]``.
``"auto"``
    ``"dask"`` when a client is given, ``"serial"`` for one worker or one chunk, else
    ``"threads"``.

BLAS threads are pinned to one per worker in the local parallel backends (threadpoolctl when
installed, else OpenBLAS's own ``set_num_threads`` and the ``*_NUM_THREADS`` variables inherited
by spawned processes), so workers × BLAS threads never oversubscribe the cores. Dask workers
started by a nanny already run with ``OMP/MKL/OPENBLAS_NUM_THREADS=1``.

Clusters
--------
On several machines (same Python environment with tbspin installed on each)::

    machine A$ dask scheduler --port 8786
    machine B$ dask worker tcp://A:8786 --nworkers 16 --nthreads 1     # one per core
    python>>> from distributed import Client
    python>>> client = Client("tcp://A:8786")                       # pass client= to tbspin

On a SLURM or PBS cluster, ``dask_jobqueue.SLURMCluster`` / ``PBSCluster`` (the dask-jobqueue
package, not a tbspin dependency) submit the workers as batch jobs:
``cluster = SLURMCluster(cores=32, processes=32, memory="64GB"); cluster.scale(jobs=4);
client = Client(cluster)``.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from typing import Any, TypeVar

import numpy as np

from tbspin.bands.gauge_tally import CountedTask, GaugeCounts, GaugeRun, absorb, absorbed
from tbspin.errors import MissingDependencyError, ParameterError

__all__ = [
    "BACKENDS",
    "ChunkPool",
    "OrderedSum",
    "blas_threads",
    "one_blas_thread",
    "default_workers",
    "resolve_backend",
    "run_chunks",
    "sum_chunks",
]

_T = TypeVar("_T")

BACKENDS = ("auto", "serial", "threads", "processes", "dask")
#: a partial result: a number, an array, or a (nested) tuple/list/dict of them
Partial = float | complex | np.ndarray | tuple | list | dict
#: a chunk task: task_fn(payload, chunk index) -> partial
TaskFn = Callable[[Any, int], Partial]
#: called in the calling thread as each partial arrives (completion order): on_result(index, partial)
OnResult = Callable[[int, Partial], None]

_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
#: chunks folded by one reduction task on a dask cluster (the chain of folds is sequential)
DASK_FOLD_BLOCK = 64
#: chunks submitted ahead per local worker (threads/processes): enough to keep every worker
#: busy, few enough that waiting on them stays cheap and finished results do not pile up
IN_FLIGHT = 4


# ---------------------------------------------------------------------- deterministic reduction
def add_partials(a: Partial, b: Partial) -> Partial:
    """a + b for numbers/arrays, elementwise for tuples, lists and dicts (same keys)."""
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)), "partials of different structure"
        return type(a)(add_partials(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping):
        assert isinstance(b, Mapping), "partials of different structure"
        return {key: add_partials(a[key], b[key]) for key in a}
    assert not isinstance(b, (tuple, list, Mapping)), "partials of different structure"
    return a + b


def fold(acc: Partial | None, parts: Iterable[Partial]) -> Partial | None:
    """Sequential sum ``((acc + p_0) + p_1) + …`` (acc None: start from the first part)."""
    for part in parts:
        acc = part if acc is None else add_partials(acc, part)
    return acc


class OrderedSum:
    """Sum of chunk partials in chunk order, whatever order they arrive in.

    Parameters
    ----------
    first : int
        Index of the first chunk to expect (a resumed run starts after its checkpoint).
    value : partial, optional
        Sum of the chunks before ``first`` (from a checkpoint).

    Notes
    -----
    Early arrivals wait in :attr:`pending` until every earlier chunk has been folded in, so the
    sum is ``((value + p_first) + p_first+1) + …`` exactly, as in a serial loop. :meth:`state`
    gives everything a checkpoint needs (the folded prefix and the pending partials).
    """

    def __init__(self, first: int = 0, value: Partial | None = None) -> None:
        self.next = int(first)
        self.value = value
        self.pending: dict[int, Partial] = {}

    def add(self, index: int, partial: Partial) -> None:
        """Record the partial of chunk ``index`` and fold every chunk that is now in order."""
        if index < self.next or index in self.pending:
            raise ParameterError(f"chunk {index} was already added to this sum")
        self.pending[index] = partial
        while self.next in self.pending:
            self.value = fold(self.value, [self.pending.pop(self.next)])
            self.next += 1

    def state(self) -> dict[str, Any]:
        """``{"next": int, "value": partial, "pending": {index: partial}}`` for a checkpoint."""
        return {"next": self.next, "value": self.value, "pending": dict(self.pending)}


# ---------------------------------------------------------------------- BLAS threads
def default_workers() -> int:
    """The default ``workers``: ``$TBSPIN_WORKERS`` when set, else the cores this process may
    run on (the one place the default is decided; the engine and ``tol`` runs both use it)."""
    env = os.environ.get("TBSPIN_WORKERS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ParameterError(f"TBSPIN_WORKERS must be a positive integer, got {env!r}")
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _openblas_handles() -> list[tuple[Callable[[int], None], Callable[[], int]]]:
    """(set, get) thread-count functions of every OpenBLAS loaded in this process."""
    handles: list[tuple[Callable[[int], None], Callable[[], int]]] = []
    try:
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return handles
    names = [("openblas_set_num_threads", "openblas_get_num_threads")]
    names += [(f"{p}set_num_threads{s}", f"{p}get_num_threads{s}")
              for p in ("scipy_openblas_", "openblas_") for s in ("64_", "")]
    for lib in sorted(libs):
        try:
            dll = ctypes.CDLL(lib)
        except OSError:
            continue
        for set_name, get_name in names:
            if hasattr(dll, set_name) and hasattr(dll, get_name):
                handles.append((getattr(dll, set_name), getattr(dll, get_name)))
                break
    return handles


def one_blas_thread(items: Iterable[_T]) -> Iterator[_T]:
    """Iterate ``items`` (lazily computed chunks) with one BLAS thread, like every worker of a
    parallel run: multithreaded BLAS (OpenBLAS with 2 threads) sums in another order, which
    changed the last digits with ``workers=1`` vs ``2`` (issue 26 item 6)."""
    with blas_threads(1):
        yield from items


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Limit the BLAS/OpenMP thread pools of this process to ``n`` threads inside the block."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        handles = _openblas_handles()
        old = [get() for _, get in handles]
        for set_, _ in handles:
            set_(int(n))
        try:
            yield
        finally:
            for (set_, _), value in zip(handles, old):
                set_(int(value))
        return
    with threadpool_limits(limits=int(n)):
        yield


@contextlib.contextmanager
def _blas_env(n: int) -> Iterator[None]:
    """``*_NUM_THREADS = n`` in os.environ (inherited by spawned processes), restored after."""
    old = {key: os.environ.get(key) for key in _BLAS_ENV}
    os.environ.update({key: str(n) for key in _BLAS_ENV})
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---------------------------------------------------------------------- worker side
_WORKER_PAYLOAD: Any = None


def _init_process_worker(payload: Any, blas: int) -> None:
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = payload
    for set_, _ in _openblas_handles():
        set_(blas)
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=blas)


def _run_in_process(task_fn: TaskFn, index: int) -> Partial:
    return task_fn(_WORKER_PAYLOAD, index)


def _run_on_dask(index: int, task_fn: TaskFn, payload: Any) -> Partial:
    return task_fn(payload, index)


def _fold_on_dask(acc: Partial | None, *parts: Partial) -> Partial | None:
    return fold(acc, parts)


# ---------------------------------------------------------------------- public entry points
def resolve_backend(backend: str, workers: int, n_chunks: int, client: object = None) -> str:
    """The concrete backend ``"auto"`` stands for (module docstring), validated."""
    if backend not in BACKENDS:
        raise ParameterError(f"'backend' must be one of {BACKENDS}, got {backend!r}")
    if client is not None and backend not in ("auto", "dask"):
        raise ParameterError(f"a dask 'client' was given with backend={backend!r}; use 'dask'")
    if backend != "auto":
        return backend
    if client is not None:
        return "dask"
    return "serial" if workers <= 1 or n_chunks <= 1 else "threads"


def _indices(chunks: int | Iterable[int]) -> list[int]:
    if isinstance(chunks, (int, np.integer)):
        if chunks < 0:
            raise ParameterError(f"'chunks' must be >= 0, got {chunks}")
        return list(range(int(chunks)))
    out = [int(c) for c in chunks]
    if len(set(out)) != len(out) or any(c < 0 for c in out):
        raise ParameterError("'chunks' must list distinct non-negative chunk indices")
    return out


def _workers(workers: int | None) -> int:
    if workers is None:
        return default_workers()
    if int(workers) != workers or workers < 1:
        raise ParameterError(f"'workers' must be a positive integer, got {workers!r}")
    return int(workers)


def iter_chunks(
    task_fn: TaskFn,
    chunks: int | Iterable[int],
    *,
    payload: Any,
    workers: int | None = None,
    backend: str = "auto",
    client: object = None,
) -> Iterator[tuple[int, Partial]]:
    """Yield ``(index, partial)`` for every chunk as it completes (completion order).

    Parameters are those of :func:`run_chunks`. Closing the iterator early (or an exception in a
    task) cancels the chunks not started yet. Each chunk's gauge counts
    (:mod:`tbspin.bands.gauge_tally`) come back with its partial, on every backend, and go to
    the calling thread's run (:class:`~tbspin.bands.gauge_tally.GaugeRun`).
    """
    task_fn = CountedTask(task_fn)
    idx = _indices(chunks)
    nw = _workers(workers)
    kind = resolve_backend(backend, nw, len(idx), client)
    if kind == "serial":
        # one BLAS thread, as each worker of the parallel backends: multithreaded BLAS sums in
        # another order, and the result must not depend on the worker count (bit for bit)
        yield from absorbed(one_blas_thread((i, task_fn(payload, i)) for i in idx))
        return
    if kind == "dask":
        yield from absorbed(_iter_dask(task_fn, idx, payload, nw, client))
        return
    with contextlib.ExitStack() as stack:
        pool: Executor
        if kind == "threads":
            stack.enter_context(blas_threads(1))
            pool = stack.enter_context(ThreadPoolExecutor(nw, thread_name_prefix="tbspin"))
        else:
            method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
            stack.enter_context(_blas_env(1))
            pool = stack.enter_context(ProcessPoolExecutor(
                nw, mp_context=multiprocessing.get_context(method),
                initializer=_init_process_worker, initargs=(payload, 1)))

        def submit(i: int) -> Future:
            if kind == "threads":
                return pool.submit(task_fn, payload, i)
            return pool.submit(_run_in_process, task_fn, i)

        yield from absorbed(_drain(submit, idx, IN_FLIGHT * nw))


def _drain(submit: Callable[[int], Future], idx: list[int], window: int
           ) -> Iterator[tuple[int, Partial]]:
    """Run chunks with at most ``window`` submitted at a time and yield finished results.

    A sliding window, not every chunk at once: ``wait`` costs O(futures it watches), so
    watching all of 25 000 chunks made draining quadratic (a tol run of the Pt proper spin Hall
    spent most of its time there), and the finished results would pile up in memory. On the
    first error or on close the submitted chunks are cancelled.
    """
    pending: dict[Future, int] = {}
    todo = iter(idx)

    def fill() -> None:
        while len(pending) < window:
            i = next(todo, None)
            if i is None:
                return
            pending[submit(i)] = i

    fill()
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=pending.__getitem__):
                yield pending.pop(fut), fut.result()
            fill()
    finally:
        for fut in pending:
            fut.cancel()


def _dask() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            "the 'dask' backend needs dask.distributed: pip install 'tbspin[dask]'"
        ) from exc
    return distributed


@contextlib.contextmanager
def _dask_client(client: object, workers: int) -> Iterator[Any]:
    """The given client, or a temporary LocalCluster of single-threaded workers."""
    distributed = _dask()
    if client is not None:
        yield client
        return
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as local:
        yield local


def _scatter(client: Any, payload: Any) -> Any:
    """One future for the whole payload on every worker (a unique key: never shared with, nor
    released by, another run; a bare tuple would be scattered element by element)."""
    return client.scatter([payload], broadcast=True, hash=False)[0]


def _iter_dask(task_fn: TaskFn, idx: list[int], payload: Any, workers: int,
               client: object) -> Iterator[tuple[int, Partial]]:
    """Chunks on a dask cluster through a sliding window of IN_FLIGHT × the cluster's threads.

    Not every chunk at once: 5 × 10⁵ futures would sit on the scheduler (its memory and
    bookkeeping grow with them, ~3 ms of overhead per task measured on a LocalCluster) and their
    results would pile up here. The window is re-read from the scheduler every ``window``
    completions, so workers that join later (a batch queue granting jobs) are kept busy.
    Results are gathered with their completion (``as_completed(..., with_results=True)``:
    3.3 instead of 8.4 ms per trivial task on a 2-worker LocalCluster compared with one round
    trip per ``fut.result()``).
    """
    distributed = _dask()
    with _dask_client(client, workers) as cl:
        shipped = _scatter(cl, payload)
        todo = iter(idx)
        live: dict[str, tuple[int, Any]] = {}

        def window() -> int:
            return IN_FLIGHT * max(1, sum(cl.nthreads().values()))

        def submit() -> Any:
            i = next(todo, None)
            if i is None:
                return None
            fut = cl.submit(_run_on_dask, i, task_fn=task_fn, payload=shipped, pure=False)
            live[fut.key] = (i, fut)
            return fut

        size = window()
        first = [f for f in (submit() for _ in range(size)) if f is not None]
        stream = distributed.as_completed(first, with_results=True)
        done = 0
        try:
            for fut, part in stream:
                i = live.pop(fut.key)[0]
                done += 1
                if done % size == 0:
                    size = window()
                while len(live) < size:
                    nxt = submit()
                    if nxt is None:
                        break
                    stream.add(nxt)
                yield i, part
        finally:
            stream.clear()
            if live:
                cl.cancel([f for _, f in live.values()])


@GaugeRun.wrap
def run_chunks(
    task_fn: TaskFn,
    chunks: int | Iterable[int],
    *,
    payload: Any,
    workers: int | None = None,
    backend: str = "auto",
    client: object = None,
    on_result: OnResult | None = None,
) -> list[Partial]:
    """Run ``task_fn(payload, i)`` for every chunk index and return the partials in chunk order.

    Parameters
    ----------
    task_fn : callable
        Module-level function ``(payload, index) -> partial`` (picklable by reference).
    chunks : int or iterable of int
        Number of chunks (indices 0 … n−1) or the explicit indices (e.g. those left to do after
        a checkpoint).
    payload : object
        Everything the tasks need; shipped once per worker (pickled for processes and dask).
    workers : int, optional
        Concurrent workers (default: all cores of this machine, :func:`default_workers`; ignored
        by an existing dask client, whose cluster decides).
    backend : {"auto", "serial", "threads", "processes", "dask"}
    client : dask.distributed.Client, optional
        Run on this cluster (implies ``backend="dask"``).
    on_result : callable, optional
        ``on_result(index, partial)``, called in the calling thread as each chunk finishes
        (completion order): progress bars and checkpoints.

    Returns
    -------
    list
        ``[task_fn(payload, i) for i in chunks]``, in the order of ``chunks``.
    """
    idx = _indices(chunks)
    got: dict[int, Partial] = {}
    for i, part in iter_chunks(task_fn, idx, payload=payload, workers=workers, backend=backend,
                               client=client):
        got[i] = part
        if on_result is not None:
            on_result(i, part)
    return [got[i] for i in idx]


@GaugeRun.wrap
def sum_chunks(
    task_fn: TaskFn,
    chunks: int | Iterable[int],
    *,
    payload: Any,
    workers: int | None = None,
    backend: str = "auto",
    client: object = None,
    on_result: OnResult | None = None,
    start: Partial | None = None,
) -> Partial | None:
    """``start + Σ_i task_fn(payload, i)`` folded in chunk order (bitwise the serial sum).

    Parameters are those of :func:`run_chunks`; ``start`` is the sum of chunks done before (a
    checkpoint), folded first. On a dask cluster without ``on_result`` the partials never leave
    the cluster: they are folded there, :data:`DASK_FOLD_BLOCK` chunks per reduction task, the
    running sum passed from one reduction task to the next.

    Returns
    -------
    partial or None
        None only when there are no chunks and no ``start``.
    """
    idx = _indices(chunks)
    nw = _workers(workers)
    if resolve_backend(backend, nw, len(idx), client) == "dask" and on_result is None:
        with _dask_client(client, nw) as cl:
            shipped = _scatter(cl, payload)
            # every chunk's gauge counts travel (and are folded) with its partial
            futures = cl.map(_run_on_dask, idx, task_fn=CountedTask(task_fn), payload=shipped,
                             pure=False)
            acc: Any = None if start is None else (start, GaugeCounts())
            for b in range(0, len(futures), DASK_FOLD_BLOCK):
                acc = cl.submit(_fold_on_dask, acc, *futures[b:b + DASK_FOLD_BLOCK], pure=False)
            if not idx:
                return start
            total, counts = acc.result()
            absorb(counts)
            return total
    parts = run_chunks(task_fn, idx, payload=payload, workers=nw, backend=backend, client=client,
                       on_result=on_result)
    return fold(start, parts)


def _apply_item(payload: tuple[Callable[[Any], Partial], list], position: int) -> Partial:
    fn, items = payload
    return fn(items[position])


class ChunkPool:
    """``map(fn, items)`` on any backend, results in input order (the engine's executor seam).

    ``fn`` (e.g. a picklable chunk-task object holding the model) is shipped once per worker
    together with the item list, not once per item; results are yielded in the order of
    ``items`` as soon as each is available (a later result waits for the earlier ones), so a
    loop that accumulates and checkpoints them stays deterministic.

    Parameters
    ----------
    workers, backend, client
        As in :func:`run_chunks`.
    """

    def __init__(self, workers: int | None = None, backend: str = "auto", client: object = None) -> None:
        self.workers = _workers(workers)
        self.backend = resolve_backend(backend, self.workers, 2, client)
        self.client = client

    def map(self, fn: Callable[[Any], Partial], items: Iterable[Any]) -> Iterator[Partial]:
        """Yield ``fn(item)`` for every item, in order."""
        items = list(items)
        following = 0
        buffer: dict[int, Partial] = {}
        for pos, part in iter_chunks(_apply_item, len(items), payload=(fn, items),
                                     workers=self.workers, backend=self.backend, client=self.client):
            buffer[pos] = part
            while following in buffer:
                yield buffer.pop(following)
                following += 1
