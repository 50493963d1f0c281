"""A local OGC API Features server on 127.0.0.1 for download tests (no internet needed).

It pages ``features`` with ``limit``/``offset`` and ``next`` links, reports ``numberMatched``,
and can be told to fail: answer given HTTP statuses first, delay every answer, or send HTML.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["OGCServer"]


class _QuietServer(ThreadingHTTPServer):
    """A client that timed out has closed its socket; that is expected, not an error."""

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class OGCServer:
    """Serve ``collections`` (name → list of GeoJSON features) on a free local port."""

    def __init__(self, collections: dict[str, list[dict]], default_limit: int = 10):
        self.collections = collections
        self.default_limit = default_limit
        self.fail_with: list[int] = []  # statuses to answer before serving, in order
        self.delay = 0.0
        self.html = False
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if server.delay:
                    time.sleep(server.delay)
                if server.fail_with:
                    status = server.fail_with.pop(0)
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"temporarily unavailable")
                    return
                if server.html:
                    self._send(200, "<html><body>Onderhoud</body></html>", "text/html")
                    return
                url = urllib.parse.urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                if len(parts) != 3 or parts[0] != "collections" or parts[2] != "items":
                    self._send(404, json.dumps({"detail": "not found"}), "application/json")
                    return
                features = server.collections.get(parts[1])
                if features is None:
                    self._send(
                        404, json.dumps({"detail": "no such collection"}), "application/json"
                    )
                    return
                query = dict(urllib.parse.parse_qsl(url.query))
                limit = int(query.get("limit", server.default_limit))
                offset = int(query.get("offset", 0))
                page = features[offset : offset + limit]
                links = [{"rel": "self", "href": self._url(url.path, query)}]
                if offset + limit < len(features):
                    links.append(
                        {
                            "rel": "next",
                            "href": self._url(url.path, {**query, "offset": offset + limit}),
                        }
                    )
                body = {
                    "type": "FeatureCollection",
                    "numberMatched": len(features),
                    "numberReturned": len(page),
                    "features": page,
                    "links": links,
                }
                self._send(200, json.dumps(body), "application/geo+json")

            def _url(self, path, query):
                host, port = self.server.server_address[:2]
                return f"http://{host}:{port}{path}?{urllib.parse.urlencode(query)}"

            def _send(self, status, text, content_type):
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> OGCServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
