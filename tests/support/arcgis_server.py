"""A local ArcGIS REST FeatureServer layer on 127.0.0.1, with the timeouts of a real one.

``<layer>?f=json`` describes the layer (``objectIdField``, ``maxRecordCount``); ``<layer>/query``
answers ``returnCountOnly``, pages with ``resultOffset``/``resultRecordCount`` in ``orderByFields``
order, filters with an envelope ``geometry`` (in ``inSR`` 28992) and a ``where`` of ``1=1`` or
``field >= number``, and answers ``f=geojson`` in ``outSR`` 28992 with a ``crs`` member and
``exceededTransferLimit`` under ``properties``. Quirk: a page of more than ``timeout_above``
records times out — HTTP 504, or (``timeout_as_json``) an ``error`` object with code 504 in a 200
answer, as ArcGIS Online also does.
"""

from __future__ import annotations

import json
import re

import numpy as np

from .local_server import LocalServer
from .ogc_server import feature_bounds

__all__ = ["ArcGISServer"]


class ArcGISServer(LocalServer):
    """Serve ``features`` (GeoJSON in RD with ``OBJECTID`` properties) as layer 0."""

    def __init__(self, features: list[dict], max_record_count: int = 2000):
        super().__init__()
        self.features = sorted(features, key=lambda f: f["properties"]["OBJECTID"])
        self.max_record_count = max_record_count
        self.timeout_above: int | None = None
        self.timeout_as_json = False
        self.pages: list[tuple[int, int]] = []  # (offset, record count) of every page served
        self.count: int | None = None  # answer returnCountOnly with this, whatever the truth
        self.stop_after: int | None = None  # say exceededTransferLimit false from this offset on
        self._bounds = feature_bounds(self.features)

    def respond(self, handler, path, query):
        if path.endswith("/FeatureServer/0") and query.get("f") == "json":
            info = {
                "id": 0,
                "name": "afname",
                "objectIdField": "OBJECTID",
                "maxRecordCount": self.max_record_count,
            }
            self._json(handler, info)
            return
        if not path.endswith("/FeatureServer/0/query"):
            self._json(handler, {"error": {"code": 400, "message": "Invalid URL", "details": []}})
            return
        picked = self._select(query)
        if query.get("returnCountOnly") == "true":
            self._json(handler, {"count": len(picked) if self.count is None else self.count})
            return
        offset, size = int(query.get("resultOffset", 0)), int(query.get("resultRecordCount", 1000))
        if self.timeout_above is not None and size > self.timeout_above:
            if self.timeout_as_json:
                self._json(
                    handler, {"error": {"code": 504, "message": "Your request has timed out.", "details": []}}
                )
            else:
                self.send(handler, 504, b"<html>Gateway Time-out</html>", "text/html")
            return
        size = min(size, self.max_record_count)
        self.pages.append((offset, size))
        page = picked[offset : offset + size]
        body = {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "EPSG:28992"}},
            "features": [{**f, "id": f["properties"]["OBJECTID"]} for f in page],
            "properties": {
                "exceededTransferLimit": offset + size < len(picked)
                and (self.stop_after is None or offset + size < self.stop_after)
            },
        }
        self._json(handler, body)

    def _select(self, query: dict) -> list[dict]:
        keep = np.ones(len(self.features), dtype=bool)
        if "geometry" in query:
            x1, y1, x2, y2 = (float(v) for v in query["geometry"].split(","))
            b = self._bounds
            keep &= (b[:, 0] <= x2) & (b[:, 2] >= x1) & (b[:, 1] <= y2) & (b[:, 3] >= y1)
        where = re.fullmatch(r"\s*(\w+)\s*>=\s*(\d+)\s*", query.get("where", "1=1"))
        if where:
            field, limit = where.group(1), int(where.group(2))
            keep &= np.array([f["properties"].get(field, -1) >= limit for f in self.features])
        return [f for f, k in zip(self.features, keep, strict=True) if k]

    def _json(self, handler, data: dict) -> None:
        self.send(handler, 200, json.dumps(data).encode(), "application/json")
