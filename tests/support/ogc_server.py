"""A local OGC API Features server on 127.0.0.1 for download tests (no internet needed).

It pages ``features`` with ``limit``/``offset`` and ``next`` links, reports ``numberMatched``,
honours ``bbox`` (in ``bbox-crs``) and ``crs`` (features are stored in RD New; without ``crs``
they are served in CRS84 like PDOK) and says so in ``Content-Crs``. Besides the faults of
:class:`~tests.support.local_server.LocalServer` it can misbehave like a hostile or broken service:

- ``crs_mode``: ``"honest"``; ``"ignore"`` (always CRS84, no header, as a server without
  CRS support); ``"lie"`` (CRS84 coordinates under a ``Content-Crs`` of RD);
- ``next_href(offset, limit, default)``: replace the ``next`` link (loops, ``file:///``, other
  hosts);
- ``endless``: full pages and a ``next`` link forever, without ``numberMatched``;
- ``matched``: report this ``numberMatched`` whatever the truth;
- ``ids``: ``"keep"``, ``"none"`` (no ``id`` member) or ``"reuse"`` (every feature ``id`` 1);
- ``crs_header``: send this ``Content-Crs`` value whatever the coordinates;
- ``html``: answer with an HTML maintenance page (``html_body`` replaces it).
"""

from __future__ import annotations

import json
import urllib.parse

import numpy as np
import shapely
from pyproj import Transformer

from .local_server import LocalServer

__all__ = ["CRS84", "RD", "OGCServer"]

RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TO_CRS84 = Transformer.from_crs("EPSG:28992", "OGC:CRS84", always_xy=True)


def to_crs84(feature: dict) -> dict:
    if _shape(feature) is None:
        return feature
    geom = shapely.transform(
        shapely.geometry.shape(feature["geometry"]),
        lambda xy: np.column_stack(TO_CRS84.transform(xy[:, 0], xy[:, 1])),
    )
    return {**feature, "geometry": shapely.geometry.mapping(geom)}


def _shape(feature):
    try:
        return shapely.geometry.shape(feature["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.ShapelyError):
        return None  # a broken feature the tests send on purpose


def feature_bounds(features: list[dict]) -> np.ndarray:
    geoms = [_shape(f) for f in features]
    return shapely.bounds(np.array(geoms, dtype=object)) if geoms else np.zeros((0, 4))


class OGCServer(LocalServer):
    """Serve ``collections`` (name → list of GeoJSON features in RD) on a free local port."""

    def __init__(self, collections: dict[str, list[dict]], default_limit: int = 10):
        super().__init__()
        self.collections = collections
        self.default_limit = default_limit
        self.html = False
        self.html_body = b"<html><body><h1>Onderhoud</h1></body></html>"
        self.crs_header: str | None = None
        self.crs_mode = "honest"
        self.next_href = None
        self.endless = False
        self.matched: int | None = None
        self.ids = "keep"
        self.drop_at_offset: int | None = None  # cut the connection halfway through this page
        self.unlink_from: int | None = None  # no next link on the page at this offset and after
        self._bounds = {name: feature_bounds(features) for name, features in collections.items()}

    def respond(self, handler, path, query):
        if self.html:
            self.send(handler, 200, self.html_body, "text/html")
            return
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "collections" and parts[1] in self.collections:
            self.send(handler, 200, json.dumps(self._metadata(parts[1])).encode(), "application/json")
            return
        features = (
            self.collections.get(parts[1])
            if len(parts) == 3 and parts[::2] == ["collections", "items"]
            else None
        )
        if features is None:
            self.send(handler, 404, b'{"detail": "not found"}', "application/json")
            return
        limit, offset = int(query.get("limit", self.default_limit)), int(query.get("offset", 0))
        if "bbox" in query:
            if query.get("bbox-crs", CRS84) != RD:
                self.send(handler, 400, b'{"detail": "test server: bbox-crs must be RD"}', "application/json")
                return
            xmin, ymin, xmax, ymax = (float(v) for v in query["bbox"].split(","))
            b = self._bounds[parts[1]]
            hit = (b[:, 0] <= xmax) & (b[:, 2] >= xmin) & (b[:, 1] <= ymax) & (b[:, 3] >= ymin)
            features = [f for f, h in zip(features, hit, strict=True) if h]
        if self.endless:
            page = [{**features[(offset + i) % len(features)], "id": f"f.{offset + i}"} for i in range(limit)]
        else:
            page = features[offset : offset + limit]
        page = [self._identified(feature) for feature in page]
        rd = query.get("crs") == RD and self.crs_mode == "honest"
        if not rd:
            page = [to_crs84(feature) for feature in page]
        base = f"{self.url}{path}"
        default = f"{base}?{_encode({**query, 'offset': offset + limit})}"
        more = self.endless or offset + limit < len(features)
        more = more and (self.unlink_from is None or offset < self.unlink_from)
        href = self.next_href(offset, limit, default) if self.next_href else default
        links = [{"rel": "self", "href": f"{base}?{_encode(query)}"}]
        if more and href:
            links.append({"rel": "next", "type": "application/geo+json", "href": href})
        body = {"type": "FeatureCollection", "numberReturned": len(page), "features": page, "links": links}
        if not self.endless:
            body["numberMatched"] = self.matched if self.matched is not None else len(features)
        crs_header = {"honest": RD if rd else CRS84, "ignore": None, "lie": RD}[self.crs_mode]
        headers = {"Content-Crs": f"<{crs_header}>"} if crs_header else {}
        if self.crs_header:
            headers = {"Content-Crs": self.crs_header}
        data = json.dumps(body).encode("utf-8")
        if self.drop_at_offset == offset:
            self.drop_after = len(data) // 2
        self.send(handler, 200, data, "application/geo+json", headers)

    @property
    def item_requests(self) -> list[str]:
        """The requests for features (not for a collection's metadata)."""
        return [request for request in self.requests if "/items" in request]

    def _metadata(self, name: str) -> dict:
        """The collection's metadata: CRS84 and, unless this server ignores ``crs``, RD New,
        which it stores."""
        offered = [CRS84] if self.crs_mode == "ignore" else [CRS84, RD]
        return {"id": name, "crs": offered, "storageCrs": RD if self.crs_mode != "ignore" else CRS84}

    def _identified(self, feature: dict) -> dict:
        if not isinstance(feature, dict):
            return feature
        if self.ids == "none":
            return {key: value for key, value in feature.items() if key != "id"}
        return {**feature, "id": 1} if self.ids == "reuse" else feature


def _encode(query: dict) -> str:
    return urllib.parse.urlencode(query)
