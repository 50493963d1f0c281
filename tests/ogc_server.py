"""A local OGC API Features server on 127.0.0.1 for download tests (no internet needed).

It pages ``features`` with ``limit``/``offset`` and ``next`` links, reports ``numberMatched``,
honours ``bbox`` (in ``bbox-crs``) and ``crs`` (features are stored in RD New; without ``crs``
they are served in CRS84 like PDOK), and can be told to fail: answer given HTTP statuses first
(429 with ``Retry-After``), delay every answer, send HTML, or drop the connection halfway
through the page that starts at a given offset.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["OGCServer"]


RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _feature_bounds(features):
    import numpy as np
    import shapely

    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    return shapely.bounds(np.array(geoms, dtype=object)) if geoms else np.zeros((0, 4))


def _to_crs84(feature):
    import numpy as np
    import shapely
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:28992", "OGC:CRS84", always_xy=True)
    geom = shapely.transform(
        shapely.geometry.shape(feature["geometry"]),
        lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
    )
    return {**feature, "geometry": shapely.geometry.mapping(geom)}


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
        self.drop_at_offset: int | None = None  # cut the connection mid-page at this offset
        self.requests: list[str] = []
        self._bounds = {name: _feature_bounds(features) for name, features in collections.items()}
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
                    if status == 429:
                        self.send_header("Retry-After", "0")
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
                    self._send(404, json.dumps({"detail": "no such collection"}), "application/json")
                    return
                query = dict(urllib.parse.parse_qsl(url.query))
                limit = int(query.get("limit", server.default_limit))
                offset = int(query.get("offset", 0))
                if "bbox" in query:
                    if query.get("bbox-crs", CRS84) != RD:
                        self._send(
                            400,
                            json.dumps({"detail": "test server: bbox-crs must be RD"}),
                            "application/json",
                        )
                        return
                    xmin, ymin, xmax, ymax = (float(v) for v in query["bbox"].split(","))
                    b = server._bounds[parts[1]]
                    hit = (b[:, 0] <= xmax) & (b[:, 2] >= xmin) & (b[:, 1] <= ymax) & (b[:, 3] >= ymin)
                    features = [f for f, h in zip(features, hit, strict=True) if h]
                page = features[offset : offset + limit]
                if query.get("crs", CRS84) != RD:
                    page = [_to_crs84(feature) for feature in page]
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
                if server.drop_at_offset == offset:
                    data = json.dumps(body).encode("utf-8")
                    self.send_response(200)
                    self.send_header("Content-Type", "application/geo+json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
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
