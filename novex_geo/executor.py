"""Run independent tasks on all cores, or on a dask.distributed cluster, with shared read-only
state handed to each worker once.

``parallel_map(function, items, shared)`` calls ``function(shared, item)`` for every item and
yields the results in item order. Where processes are forked (Linux) the shared state
(features, spatial indexes) is inherited without copying. Where they share no memory with this
process (spawned on Windows and macOS, or on a dask cluster), items travel in batches, and:

- shared state that can be cut to what a batch needs (it has a ``part(batch)`` method, as the
  overlay's :class:`~novex_geo.overlay.tasks.Catalogue`) travels as that part with its batch,
  the next parts made here while the workers compute the earlier batches; each input thus
  crosses about once in all, however many workers there are;
- other shared state reaches each worker once (a spawned worker's initializer; on a cluster
  scattered with ``broadcast``), never with every task.

Each item goes in and each result comes back pickled. One worker, or one item, runs in this
process.

:class:`Executor` chooses between these local processes and a dask.distributed cluster
(:func:`novex_geo.cluster.dask_map`): the same functions, the same results, in item order. A worker that dies
mid-run has its tasks rescheduled by dask on the others, and since every task is a plain
function of its inputs the result is the same. Without a scheduler address a local dask
cluster is started for the run. A scheduler address is checked before dask reads from it; no
wait is unbounded: for a dask worker ``NOVEX_GEO_DASK_WAIT`` s (default 120), for local workers
stopped early (Ctrl-C, SIGTERM: they end quietly) :data:`STOP_WAIT_S`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "SCHEDULER_ENV",
    "START_METHOD_ENV",
    "Executor",
    "parallel_map",
    "start_method",
    "worker_count",
]


from novex_geo.errors import ClusterError
from novex_geo.geometry import available_cores

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

START_METHOD_ENV = "NOVEX_GEO_START_METHOD"
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"  # dask's own convention for where the scheduler is
_WORKER: dict[str, Any] = {}  # this worker process's function and shared state


def worker_count(workers: int, n_tasks: int) -> int:
    """``workers`` (0 = every core available to this process), at most one per task."""
    wanted = workers if workers > 0 else available_cores()
    return max(1, min(wanted, n_tasks))


def start_method() -> str:
    """``fork`` where the platform has it, else ``spawn``; ``NOVEX_GEO_START_METHOD`` overrides."""
    wanted = os.environ.get(START_METHOD_ENV, "").strip().lower()
    available = multiprocessing.get_all_start_methods()
    if wanted in available:
        return wanted
    return "fork" if "fork" in available else "spawn"


STOP_WAIT_S = 10.0
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
HOLD_SIGNALS = hasattr(signal, "pthread_sigmask")  # not on Windows
WORKER_POLL_S = 2.0  # how often a wait for results checks that the workers still live
BATCHES_PER_WORKER = 16  # enough to balance the load, few enough to keep scheduling cheap


def _batches(items: list, workers: int) -> list[list]:
    size = max(1, len(items) // (workers * BATCHES_PER_WORKER))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _divisible(shared: Any) -> bool:
    return callable(getattr(shared, "part", None))


def _encoded(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _buffer(value: Any) -> np.ndarray:
    """``value`` pickled, as an array that dask sends without copying it into its own pickle."""
    return np.frombuffer(_encoded(value), dtype=np.uint8)


def _quit(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _worker_signals() -> None:
    """A worker ends quietly on Ctrl-C (by an exception, which releases the pool's locks; not when the
    main process ignores it, as in the background) and on the SIGTERM that stops the pool; both held
    back until now (one that came as it forked would be lost, or end a spawned one's imports)."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _quit)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if HOLD_SIGNALS:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _initialise(function: Callable, shared: Any, pickled: bool) -> None:
    _worker_signals()
    _WORKER["function"] = function
    _WORKER["shared"] = pickle.loads(shared) if pickled else shared


def _call_chunk(chunk: list) -> list:
    return [_WORKER["function"](_WORKER["shared"], item) for item in chunk]


def _call_batch(function: Callable, part: Any, batch: list) -> list:
    return [function(part, item) for item in batch]


def _star_call_batch(arguments: tuple) -> list:
    return _call_batch(*arguments)


def _call_encoded_batch(function: Callable, part: bytes, batch: list) -> list:
    return _call_batch(function, pickle.loads(part), batch)


@contextlib.contextmanager
def _pool(context, count: int, **options) -> Iterator:
    """A process pool, stopped when the block ends; when it ends early (Ctrl-C, SIGTERM, an error)
    waited for at most :data:`STOP_WAIT_S`: ``Pool.terminate`` waits for ever for its task thread
    when that was half-way through sending a large task as the workers ended."""
    # workers start with Ctrl-C and SIGTERM held back until they have their handlers (see above)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS) if HOLD_SIGNALS else None
    try:
        pool = context.Pool(count, **options)
    finally:
        if HOLD_SIGNALS:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    try:
        yield pool
    except BaseException:
        stopping = threading.Thread(target=_terminate, args=(pool,), daemon=True)
        stopping.start()
        stopping.join(STOP_WAIT_S)
        raise
    pool.terminate()


def _terminate(pool) -> None:
    with contextlib.suppress(Exception):  # a pool left half-way: what is left of it does not matter
        pool.terminate()


def _watched(pool, results) -> Iterator:
    """``results`` of ``pool.imap``; a worker that dies (killed by the system when memory runs
    out) ends the run with an error, where the pool would wait for its lost task for ever."""
    workers = {process.pid for process in pool._pool}  # the pool replaces a dead worker silently
    while True:
        try:
            yield results.next(timeout=WORKER_POLL_S)
        except StopIteration:
            return
        except multiprocessing.TimeoutError:
            ended = [p for p in pool._pool if p.pid not in workers or p.exitcode not in (None, 0)]
            if ended or len(pool._pool) != len(workers):
                raise ClusterError(
                    "a worker process ended before its task did (killed, e.g. by the system when "
                    "memory ran out); run again with fewer workers ([project] workers)"
                ) from None


def parallel_map(
    function: Callable[[Any, T], R], items: Iterable[T], shared: Any = None, workers: int = 0
) -> Iterator[R]:
    """``function(shared, item)`` for every item, in item order, on ``workers`` processes.

    ``function`` must be a module-level function (spawned workers import it by name).
    """
    items = list(items)
    count = worker_count(workers, len(items))
    if count == 1:
        yield from (function(shared, item) for item in items)
        return
    method = start_method()
    context = multiprocessing.get_context(method)
    if method != "fork" and _divisible(shared):
        # the pool pulls batches from this generator in a thread: parts encoded as workers compute
        batches = ((function, shared.part(batch), batch) for batch in _batches(items, count))
        with _pool(context, count, initializer=_worker_signals) as pool:
            for results in _watched(pool, pool.imap(_star_call_batch, batches)):
                yield from results
        return
    # a forked worker inherits the shared state; a spawned one receives it pickled, encoded once
    pickled = method != "fork"
    payload = _encoded(shared) if pickled else shared
    with _pool(context, count, initializer=_initialise, initargs=(function, payload, pickled)) as pool:
        # small batches cut the per-task round trips that cost the main process CPU time
        size = max(1, len(items) // (count * 32))
        chunks = [items[start : start + size] for start in range(0, len(items), size)]
        for results in _watched(pool, pool.imap(_call_chunk, chunks)):
            yield from results


@dataclass(frozen=True)
class Executor:
    """Where tasks run: ``local`` worker processes, or ``dask`` (the cluster at ``scheduler``;
    without an address a local dask cluster with ``workers`` processes)."""

    kind: str = "local"
    workers: int = 0
    scheduler: str | None = None

    @classmethod
    def choose(cls, kind: str = "local", workers: int = 0, scheduler: str | None = None) -> Executor:
        """The executor a command asked for: an explicit scheduler address (argument, then
        ``DASK_SCHEDULER_ADDRESS``) means dask."""
        address = scheduler or (os.environ.get(SCHEDULER_ENV) if kind == "dask" else None)
        return cls("dask" if address else kind, workers, address or None)

    def map(self, function: Callable[[Any, T], R], items: Iterable[T], shared: Any = None) -> Iterator[R]:
        """``function(shared, item)`` for every item, in item order."""
        if self.kind == "dask":
            from novex_geo.cluster import dask_map  # dask is imported only when it is used

            yield from dask_map(function, items, shared, self.scheduler, self.workers)
        else:
            yield from parallel_map(function, items, shared, self.workers)
