"""The base of the protocol test servers: HTTP on 127.0.0.1 in a thread, with the faults of real
services at hand (no internet needed).

A subclass implements :meth:`LocalServer.respond`. Every server can be told to answer given HTTP
statuses first (429 with ``Retry-After: 0``), to delay every answer, to send its body one byte
at a time (``drip``, seconds per byte; ``drip_headers`` drips the status line and headers too),
to cut the connection after ``drop_after`` bytes of the next body, and to redirect the next
request to ``redirect``.
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["LocalServer"]


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up has closed its socket; that is expected, not an error."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class LocalServer:
    """An HTTP server on a free local port; use as a context manager."""

    def __init__(self):
        self.fail_with: list[int] = []
        self.delay = 0.0
        self.drip: float | None = None
        self.drip_headers = False
        self.drop_after: int | None = None
        self.redirect: str | None = None
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.stopped = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.requests.append(self.path)
                server.headers.append(dict(self.headers.items()))
                if server.delay:
                    time.sleep(server.delay)
                if server.fail_with:
                    status = server.fail_with.pop(0)
                    extra = {"Retry-After": "0"} if status == 429 else {}
                    server.send(self, status, b"temporarily unavailable", "text/plain", extra)
                    return
                if server.redirect:
                    target, server.redirect = server.redirect, None
                    server.send(self, 302, b"", "text/plain", {"Location": target})
                    return
                url = urllib.parse.urlsplit(self.path)
                server.respond(self, url.path, dict(urllib.parse.parse_qsl(url.query)))

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        # a short poll makes shutdown quick: every test starts and stops a server
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def respond(self, handler: BaseHTTPRequestHandler, path: str, query: dict[str, str]) -> None:
        raise NotImplementedError

    def send(self, handler, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        """Answer with the faults that are switched on (drip, drop)."""
        head = [f"HTTP/1.1 {status} {handler.responses.get(status, ('',))[0]}\r\n"]
        head += [
            f"{name}: {value}\r\n"
            for name, value in {
                "Content-Type": content_type,
                "Content-Length": str(len(body)),
                "Connection": "close",
                **(headers or {}),
            }.items()
        ]
        head = "".join([*head, "\r\n"]).encode("latin-1")
        handler.close_connection = True
        if self.drip_headers:
            self._drip(handler, head + body)
            return
        handler.wfile.write(head)
        if self.drop_after is not None:
            cut, self.drop_after = self.drop_after, None
            handler.wfile.write(body[:cut])
            handler.wfile.flush()
            return
        if self.drip is not None:
            self._drip(handler, body)
            return
        handler.wfile.write(body)

    def _drip(self, handler, data: bytes) -> None:
        for i in range(len(data)):
            if self.stopped.wait(self.drip or 0.5):
                return
            handler.wfile.write(data[i : i + 1])
            handler.wfile.flush()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()
