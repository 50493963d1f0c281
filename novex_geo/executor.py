"""Run independent tasks on all cores, with shared read-only state handed to each worker once.

``parallel_map(function, items, shared)`` calls ``function(shared, item)`` for every item and
yields the results in item order. The shared state (features, spatial indexes) reaches each
worker process once: inherited without copying where processes are forked (Linux), pickled
once per worker where they are spawned (Windows, macOS). Each item goes in and each result
comes back pickled. One worker, or one item, runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["START_METHOD_ENV", "parallel_map", "start_method", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")

START_METHOD_ENV = "NOVEX_GEO_START_METHOD"
_WORKER: dict[str, Any] = {}  # this worker process's function and shared state


def worker_count(workers: int, n_tasks: int) -> int:
    """``workers`` (0 = every core available to this process), at most one per task."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = workers if workers > 0 else (available or 1)
    return max(1, min(wanted, n_tasks))


def start_method() -> str:
    """``fork`` where the platform has it, else ``spawn``; ``NOVEX_GEO_START_METHOD`` overrides."""
    wanted = os.environ.get(START_METHOD_ENV, "").strip().lower()
    available = multiprocessing.get_all_start_methods()
    if wanted in available:
        return wanted
    return "fork" if "fork" in available else "spawn"


def _initialise(function: Callable, shared: Any, pickled: bool) -> None:
    _WORKER["function"] = function
    _WORKER["shared"] = pickle.loads(shared) if pickled else shared


def _call(item):
    return _WORKER["function"](_WORKER["shared"], item)


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
    # a forked worker inherits the shared state as it is; a spawned one receives it pickled,
    # encoded once here instead of once per worker
    pickled = method != "fork"
    payload = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL) if pickled else shared
    with context.Pool(count, initializer=_initialise, initargs=(function, payload, pickled)) as pool:
        # small batches cut the per-task round trips that cost the main process CPU time
        yield from pool.imap(_call, items, chunksize=max(1, len(items) // (count * 32)))
