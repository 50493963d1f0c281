"""Run independent tasks on all cores.

Workers are forked, so large read-only state (features, spatial indexes) that the caller put
in a module global before calling is shared without pickling; each task goes in and each
result comes back pickled. Where fork is unavailable, or one worker is asked for, tasks run
in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["parallel_map", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")


def worker_count(workers: int, n_tasks: int) -> int:
    """``workers`` (0 = every core available to this process), at most one per task."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = workers if workers > 0 else (available or 1)
    return max(1, min(wanted, n_tasks))


def parallel_map(function: Callable[[T], R], items: Iterable[T], workers: int = 0) -> Iterator[R]:
    """``map(function, items)`` in task order, on ``workers`` forked processes."""
    items = list(items)
    count = worker_count(workers, len(items))
    if count == 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(function, items)
        return
    with multiprocessing.get_context("fork").Pool(count) as pool:
        yield from pool.imap(function, items, chunksize=1)
