"""Tasks on a dask.distributed cluster: :func:`dask_map`, the cluster side of
:class:`~novex_geo.executor.Executor`.

Items travel in batches (:data:`~novex_geo.executor.BATCHES_PER_WORKER` per worker); shared
state that can be cut to what a batch needs travels as that part with its batch, other shared
state is scattered to every worker once. A scheduler address is checked (it must be a dask
scheduler, with workers) before anything is read for it; no wait is unbounded: a worker is
waited for ``NOVEX_GEO_DASK_WAIT`` s (default 120).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
import pickle
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from typing import Any

from novex_geo.errors import ClusterError
from novex_geo.executor import _batches, _buffer, _call_encoded_batch, _divisible, _encoded, worker_count

__all__ = ["WORKER_WAIT_ENV", "check_scheduler", "dask_map", "local_cluster"]

log = logging.getLogger(__name__)

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
        raise ClusterError(
            f"{scheduler!r} is not a dask scheduler address ({exc}); give tcp://HOST:PORT, "
            "e.g. tcp://10.0.0.5:8786"
        ) from None
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
        raise ClusterError(
            f"{address} is not a dask scheduler: what answers there does not speak dask "
            "(a web server?); give the address that 'dask scheduler' prints"
        )


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
            raise ClusterError(
                f"the dask cluster failed mid-run ({type(exc).__name__}: {exc}): workers died "
                "(out of memory?) or the scheduler left; run again"
            ) from None


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
        log.info(
            "dask: %d tasks in %d batches on %d workers (%s)",
            len(items),
            len(batches),
            n_workers,
            client.scheduler.address,
        )
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
