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
(:func:`dask_map`): the same functions, the same results, in item order. A worker that dies
mid-run has its tasks rescheduled by dask on the others, and since every task is a plain
function of its inputs the result is the same. Without a scheduler address a local dask
cluster is started for the run. A scheduler address is checked before dask reads from it; no
wait is unbounded: for a dask worker ``NOVEX_GEO_DASK_WAIT`` s (default 120), for local workers
stopped early (Ctrl-C, SIGTERM: they end quietly) :data:`STOP_WAIT_S`.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "SCHEDULER_ENV", "START_METHOD_ENV", "WORKER_WAIT_ENV", "Executor", "check_scheduler", "dask_map",
    "local_cluster", "parallel_map", "start_method", "worker_count",
]  # fmt: skip

from novex_geo.errors import ClusterError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

START_METHOD_ENV = "NOVEX_GEO_START_METHOD"
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"  # dask's own convention for where the scheduler is
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


STOP_WAIT_S = 10.0
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
HOLD_SIGNALS = hasattr(signal, "pthread_sigmask")  # not on Windows
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


def _call(item):
    return _WORKER["function"](_WORKER["shared"], item)


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
            for results in pool.imap(_star_call_batch, batches):
                yield from results
        return
    # a forked worker inherits the shared state; a spawned one receives it pickled, encoded once
    pickled = method != "fork"
    payload = _encoded(shared) if pickled else shared
    with _pool(context, count, initializer=_initialise, initargs=(function, payload, pickled)) as pool:
        # small batches cut the per-task round trips that cost the main process CPU time
        yield from pool.imap(_call, items, chunksize=max(1, len(items) // (count * 32)))


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
            yield from dask_map(function, items, shared, self.scheduler, self.workers)
        else:
            yield from parallel_map(function, items, shared, self.workers)


CONNECT_TIMEOUT_S = 20
GREETING_TIMEOUT_S = 5  # a dask scheduler greets a new connection at once
WORKER_WAIT_ENV = "NOVEX_GEO_DASK_WAIT"  # seconds to wait for a worker (default below)
WORKER_WAIT_S = 120.0
RESULT_POLL_S = 30.0  # a result that takes longer: are there still workers?
AHEAD_PER_WORKER = 3  # batches submitted ahead of the one awaited
INSTALL_DASK = "the dask executor needs dask.distributed: pip install 'novex-geo[dask]'"
_DASK_SHARED: dict[str, Any] = {}  # on a dask worker: the run's shared state, decoded once


def _run_batch(function: Callable, token: str, payload: bytes, batch: list) -> list:
    shared = _DASK_SHARED.get(token)
    if shared is None:  # the first task of this run on this worker; an earlier run's state goes
        _DASK_SHARED.clear()
        shared = _DASK_SHARED[token] = pickle.loads(payload)
    return [function(shared, item) for item in batch]


def local_cluster(workers: int):
    """A dask cluster of ``workers`` single-threaded processes on this machine, without dashboard,
    and so without the sampling profiler that costs each worker some 10 % of its CPU."""
    try:
        import dask
        from distributed import LocalCluster
    except ImportError:
        raise ClusterError(INSTALL_DASK) from None
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)


def _worker_wait() -> float:
    """How long to wait for a worker (``NOVEX_GEO_DASK_WAIT`` seconds, default 120)."""
    value = os.environ.get(WORKER_WAIT_ENV, "").strip() or str(WORKER_WAIT_S)
    with contextlib.suppress(ValueError):
        if 0 < float(value) < float("inf"):
            return float(value)
    raise ClusterError(f"{WORKER_WAIT_ENV}={value!r}: give the seconds to wait for a dask worker, e.g. 120")


def _address(scheduler: str) -> tuple[str, str, int]:
    """The scheduler's address as ``scheme://host:port``, its host and port; a :class:`ClusterError`
    when it is not one (no port, not a number, a scheme other than tcp or tls)."""
    from distributed.comm.addressing import get_address_host_port, parse_address

    try:
        scheme, location = parse_address(scheduler.strip())
        host, port = get_address_host_port(scheduler.strip())
        if scheme not in ("tcp", "tls") or not host or not 0 < port < 2**16:
            raise ValueError("novex-geo speaks to a scheduler over tcp:// or tls://")
    except ValueError as exc:
        raise ClusterError(f"{scheduler!r} is not a dask scheduler address ({exc}); give tcp://HOST:PORT, "
                           "e.g. tcp://10.0.0.5:8786") from None  # fmt: skip
    return f"{scheme}://{location}", host, port


def _greeting(address: str, host: str, port: int) -> None:
    """Raise unless what answers at ``host:port`` greets as a dask scheduler does — one small
    msgpack frame — before any dask code reads from it (a web server there would have dask read
    the start of its answer as the length of a frame of exabytes)."""
    import msgpack
    from distributed.protocol.utils import unpack_frames

    try:
        connection = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:
        raise ClusterError(f"cannot reach the dask scheduler at {address} ({exc.strerror or exc})") from None
    with connection:
        connection.settimeout(GREETING_TIMEOUT_S)
        try:
            size = int.from_bytes(connection.recv(8, socket.MSG_WAITALL), "little")
            greeting = connection.recv(size, socket.MSG_WAITALL) if 0 < size <= 2**16 else b""
        except OSError:  # nothing within the timeout, or the connection dropped
            greeting = b""
    try:
        hello = msgpack.loads(unpack_frames(greeting)[0])
    except Exception:  # whatever it sent (or nothing), it is not a scheduler's greeting
        hello = None
    if not isinstance(hello, dict) or "python" not in hello:
        raise ClusterError(f"{address} is not a dask scheduler: what answers there does not speak dask "
                           "(a web server?); give the address that 'dask scheduler' prints")  # fmt: skip


def _require_workers(client, address: str) -> int:
    """The number of the scheduler's workers, after waiting (bounded) for at least one."""
    wait = _worker_wait()
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError:
        raise ClusterError(
            f"the dask scheduler at {address} has no workers: none joined within {wait:g} s; start them "
            f"with 'dask worker {address}' ({WORKER_WAIT_ENV} sets how long to wait)"
        ) from None
    return len(client.scheduler_info()["workers"])


def _connect(stack: contextlib.ExitStack, scheduler: str):
    """A client of the scheduler at ``scheduler``, its address and what answers there checked first."""
    from distributed import Client

    address, host, port = _address(scheduler)
    if address.startswith("tcp://"):
        _greeting(address, host, port)
    try:
        client = stack.enter_context(Client(address, timeout=f"{CONNECT_TIMEOUT_S}s"))
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the dask scheduler at {address} ({exc})") from None
    return client


def check_scheduler(scheduler: str) -> str:
    """Connect to the dask scheduler at ``scheduler`` as a run would (a well-formed address, a dask
    scheduler there, a worker within ``NOVEX_GEO_DASK_WAIT``) and return its address; a
    :class:`ClusterError` says what is wrong. The command line calls this before loading layers."""
    with contextlib.ExitStack() as stack:
        client = _client(stack, scheduler, 0, 0)
        _require_workers(client, client.scheduler.address)
        return client.scheduler.address


def _client(stack: contextlib.ExitStack, scheduler: str | None, workers: int, n_items: int):
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(INSTALL_DASK) from None
    if scheduler is not None:
        return _connect(stack, scheduler)
    cluster = stack.enter_context(local_cluster(worker_count(workers, n_items)))
    return stack.enter_context(Client(cluster))


def _result(client, future):
    """The result of ``future``, checking while it takes long that the cluster still has workers."""
    from distributed import KilledWorker

    while True:
        try:
            return future.result(timeout=RESULT_POLL_S)
        except TimeoutError:
            _require_workers(client, client.scheduler.address)
        except (CancelledError, KilledWorker, OSError) as exc:  # data lost with workers, workers ended
            raise ClusterError(f"the dask cluster failed mid-run ({type(exc).__name__}: {exc}): workers died "
                               "(out of memory?) or the scheduler left; run again") from None  # fmt: skip


def _submit_part(client, function: Callable, shared: Any, batch: list):
    import dask

    # a part goes encoded (the scheduler would otherwise decode and re-encode it), and it is the
    # data of this one task, sent once: not the repeated data that dask warns of above 10 MB
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1 TiB"}):
        return client.submit(_call_encoded_batch, function, _buffer(shared.part(batch)), batch, pure=False)


def dask_map(
    function: Callable, items: Iterable, shared: Any, scheduler: str | None = None, workers: int = 0
) -> Iterator:
    """``function(shared, item)`` for every item on a dask cluster, yielded in item order."""
    items = list(items)
    with contextlib.ExitStack() as stack:
        client = _client(stack, scheduler, workers, len(items))
        n_workers = _require_workers(client, client.scheduler.address)
        batches = _batches(items, n_workers)
        log.info("dask: %d tasks in %d batches on %d workers (%s)", len(items), len(batches), n_workers,
                 client.scheduler.address)  # fmt: skip
        if _divisible(shared):
            futures = (_submit_part(client, function, shared, batch) for batch in batches)
        else:
            # encoded once here and sent as bytes: dask would otherwise encode it once per worker
            payload = client.scatter(_encoded(shared), broadcast=True, hash=False)
            token = uuid.uuid4().hex
            futures = (
                client.submit(_run_batch, function, token, payload, batch, pure=False) for batch in batches
            )
        # a few batches per worker queued ahead: encoding the next parts overlaps with the compute
        queued = collections.deque(itertools.islice(futures, AHEAD_PER_WORKER * n_workers))
        while queued:
            results = _result(client, queued.popleft())
            queued.extend(itertools.islice(futures, 1))
            yield from results
