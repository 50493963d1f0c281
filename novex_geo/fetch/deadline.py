"""A total deadline for one HTTP request: connecting, headers and the whole body.

A socket timeout bounds each read, not the request: a server that sends one byte per second
never trips it. Here a watchdog timer shuts the connection's socket down when the request's
time is up, which ends any blocking read at once; the reading code then sees a cut connection
and :meth:`Deadline.check` turns it into a :class:`TimeoutError`.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

__all__ = ["CHUNK", "Deadline", "chunks", "deadline_handlers"]

CHUNK = 64 * 2**10


class Deadline:
    """Shuts a connection's socket down when its request has used up its time."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.hit = False
        self._timers: list[threading.Timer] = []

    def remaining(self) -> float:
        return max(self.expires - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        timer = threading.Timer(self.remaining(), self._cut, args=(sock,))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def _cut(self, sock: socket.socket) -> None:
        self.hit = True
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def check(self) -> None:
        if self.hit or time.monotonic() > self.expires:
            self.hit = True
            raise TimeoutError


class _Watched:
    """Mixin for :mod:`http.client` connections: connect within, and stay within, the deadline."""

    deadline: Deadline

    def connect(self):
        self.timeout = min(self.timeout, self.deadline.remaining())
        super().connect()
        self.deadline.watch(self.sock)


class _HTTPConnection(_Watched, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, http.client.HTTPSConnection):
    pass


def _factory(cls, deadline: Deadline):
    def connection(host, **kwargs):
        conn = cls(host, **kwargs)
        conn.deadline = deadline
        return conn

    return connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline):
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(_factory(_HTTPConnection, self.deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline):
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(_factory(_HTTPSConnection, self.deadline), req, context=self._context)


def deadline_handlers(deadline: Deadline) -> list[urllib.request.BaseHandler]:
    """urllib handlers whose connections keep to ``deadline``."""
    return [_HTTPHandler(deadline), _HTTPSHandler(deadline)]


def chunks(response, deadline: Deadline) -> Iterator[bytes]:
    """The body in chunks as they arrive (``read1`` returns what one socket read gives, so a
    slow server cannot hold a read past the deadline check).

    Raises :class:`TimeoutError` at the deadline and :class:`http.client.IncompleteRead` when
    the connection ends before the ``Content-Length`` it announced (``read1`` then just stops).
    """
    while True:
        deadline.check()
        chunk = response.read1(CHUNK)
        if not chunk:
            deadline.check()  # a socket shut by the watchdog looks like the end of the body
            missing = getattr(response, "length", None)
            if missing:
                raise http.client.IncompleteRead(b"", missing)
            return
        yield chunk
