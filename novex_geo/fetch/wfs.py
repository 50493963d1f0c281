"""WFS 2.0 GetFeature: paging with ``count``/``startIndex``, RD bbox and FES filters, GML or GeoJSON.

Many services cap ``startIndex`` (PDOK refuses beyond 50,000, see ``max_start_index`` in the
catalogue). When a query matches more features than that, or the service refuses a page, the
area is split into bbox tiles — quadrants, split again until each matches at most the cap
(counted with ``resultType=hits``) — and paged tile by tile. A feature that crosses a tile line
is returned by every tile it touches; it is kept only from the tile that holds a point of it
(``point_on_surface`` of its part inside the area), so each feature is stored exactly once,
with or without ids.

GML is read with GDAL (pyogrio), which honours each ``srsName`` and its axis order (RD New is
easting, northing; ``urn:ogc:def:crs:EPSG::4326`` is latitude, longitude) and never downloads
the schema the answer points at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.catalog import CatalogEntry
from novex_geo.fetch.features import RD_PLAUSIBLE, geojson_crs, geojson_frame, properties_frame
from novex_geo.fetch.http import HttpClient, Response, ServiceError, excerpt, with_query, xml_root
from novex_geo.fetch.ogcapi import decode_json
from novex_geo.fetch.store import Page, Restart, Session

__all__ = ["fes_filter", "wfs_source"]

RD_URN = "urn:ogc:def:crs:EPSG::28992"
FORMATS = {"geojson": "application/json", "gml": "application/gml+xml; version=3.2"}
WFS = "{http://www.opengis.net/wfs/2.0}"
NAME = re.compile(r"^[A-Za-z_][\w.:-]*$")
MAX_DEPTH = 16  # a 450 km area split 16 times gives tiles of about 7 m
MAX_HITS_REQUESTS = 4_000


def fes_filter(bbox: tuple[float, ...] | None, equals: dict[str, object]) -> str:
    """A FES 2.0 filter: features in the RD ``bbox`` whose properties equal ``equals``."""
    conditions = []
    if bbox is not None:
        x1, y1, x2, y2 = bbox
        conditions.append(
            f'<fes:BBOX><gml:Envelope srsName="{RD_URN}"><gml:lowerCorner>{x1:.3f} {y1:.3f}</gml:lowerCorner>'
            f"<gml:upperCorner>{x2:.3f} {y2:.3f}</gml:upperCorner></gml:Envelope></fes:BBOX>"
        )
    for name, value in equals.items():
        if not NAME.match(name):
            raise DownloadError(f"filter: {name!r} is not a property name")
        conditions.append(
            f"<fes:PropertyIsEqualTo><fes:ValueReference>{escape(name)}</fes:ValueReference>"
            f"<fes:Literal>{escape(str(value))}</fes:Literal></fes:PropertyIsEqualTo>"
        )
    body = conditions[0] if len(conditions) == 1 else f"<fes:And>{''.join(conditions)}</fes:And>"
    return (
        '<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2">'
        f"{body}</fes:Filter>"
    )


def _exception_text(body: bytes) -> str | None:
    """The text of an OWS ExceptionReport, if ``body`` is one."""
    head = body[:2048]
    if b"ExceptionReport" not in head:
        return None
    texts = re.findall(rb"<(?:\w+:)?ExceptionText>(.*?)</(?:\w+:)?ExceptionText>", body[:65536], re.S)
    return excerpt(b" ".join(texts) or body, 200)


def _root_number(body: bytes, attribute: str) -> int | None:
    match = re.search(
        rb"<(?:\w+:)?FeatureCollection\b[^>]*?\b" + attribute.encode() + rb'="(\d+)"', body[:8192]
    )
    return int(match.group(1)) if match else None


class _Client:
    """GetFeature requests for one entry and one area."""

    def __init__(self, client: HttpClient, entry: CatalogEntry, typename: str, page_size: int, equals: dict):
        self.client, self.entry, self.typename = client, entry, typename
        self.page_size, self.equals = page_size, equals

    def url(self, area, **extra) -> str:
        query = {"service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": self.typename,
                 "srsName": RD_URN, **extra}  # fmt: skip
        if self.equals:
            query["filter"] = fes_filter(area, self.equals)
        elif area is not None:
            query["bbox"] = ",".join(f"{v:.3f}" for v in area) + f",{RD_URN}"
        return with_query(self.entry.url, query)

    def hits(self, area) -> int | None:
        response = self.client.get(self.url(area, resultType="hits"), accept="application/xml")
        problem = _exception_text(response.body)
        if problem:
            raise DownloadError(f"{response.url}: the service answered with an exception: {problem}")
        return _root_number(response.body, "numberMatched")

    def page(self, area, start: int) -> tuple[gpd.GeoDataFrame, int, int | None]:
        """Features (in their declared CRS), unreadable count and numberMatched of one page."""
        fmt = self.entry.format
        response = self.client.get(
            self.url(area, count=self.page_size, startIndex=start, outputFormat=FORMATS[fmt]),
            accept="application/json" if fmt == "geojson" else "application/gml+xml, application/xml",
        )
        problem = _exception_text(response.body)
        if problem:
            raise ServiceError(f"{response.url}: the service answered with an exception: {problem}", 400)
        if fmt == "geojson":
            data = decode_json(response)
            features = data.get("features")
            if data.get("type") != "FeatureCollection" or not isinstance(features, list):
                raise DownloadError(f"{response.url}: answer is not a GeoJSON FeatureCollection")
            frame, unreadable = geojson_frame(features, geojson_crs(data, response.url) or DEFAULT_CRS)
            matched = data.get("numberMatched", data.get("totalFeatures"))
            return frame, unreadable, matched if isinstance(matched, int) else None
        return _gml_frame(response), 0, _root_number(response.body, "numberMatched")


def _gml_frame(response: Response) -> gpd.GeoDataFrame:
    """The features of a GML FeatureCollection, in the CRS of their ``srsName``."""
    if b"<!DOCTYPE" in response.body[:4096]:
        raise DownloadError(f"{response.url}: XML answer with a DTD; refused")
    if _root_number(response.body, "numberReturned") == 0 or b"member>" not in response.body:
        return properties_frame(pd.DataFrame(), [], [], DEFAULT_CRS)
    try:
        frame = pyogrio.read_dataframe(response.body, DOWNLOAD_SCHEMA="NO", EXPOSE_GML_ID="YES")
    except (DataSourceError, DataLayerError) as exc:
        raise DownloadError(f"{response.url}: answer is not readable GML ({exc})") from None
    ids = frame.pop("gml_id") if "gml_id" in frame.columns else [""] * len(frame)
    # without one srsName for all geometries GDAL gives no CRS: they are in the srsName asked for
    return properties_frame(
        frame.drop(columns="geometry"), ids, frame.geometry.values, frame.crs or DEFAULT_CRS
    )


def _discover(client: HttpClient, entry: CatalogEntry) -> str:
    """The one feature type whose name or title contains ``entry.layer_search``."""
    url = with_query(entry.url, {"service": "WFS", "version": "2.0.0", "request": "GetCapabilities"})
    root = xml_root(client.get(url, accept="application/xml", max_bytes=64 * 2**20))
    types = [
        (t.findtext(f"{WFS}Name") or "", t.findtext(f"{WFS}Title") or "")
        for t in root.iter(f"{WFS}FeatureType")
    ]
    found = [
        (name, title) for name, title in types if entry.layer_search.lower() in f"{name} {title}".lower()
    ]
    if len(found) == 1:
        return found[0][0]
    listed = "; ".join(f"{name} ({title})" for name, title in found[:12])
    raise DownloadError(
        f"{entry.url}: {len(found)} of the {len(types)} layers match '{entry.layer_search}'"
        + (
            f": {listed}; choose one with --collection NAME"
            if found
            else "; give the layer with --collection NAME"
        )
    )


def _plan_tiles(wfs: _Client, root: tuple[float, ...], cap: int) -> list[list[float]]:
    """Tiles covering ``root`` that each match at most ``cap`` features (empty tiles left out)."""
    tiles, queue, requests = [], [(list(root), 0)], 0
    while queue:
        box, depth = queue.pop(0)
        requests += 1
        hits = wfs.hits(box)
        if requests > MAX_HITS_REQUESTS or hits is None:
            raise DownloadError(
                f"{wfs.entry.url}: cannot count the features per tile to page past startIndex {cap:,}"
            )
        if hits <= cap:
            if hits:
                tiles.append(box)
            continue
        if depth >= MAX_DEPTH:
            raise DownloadError(
                f"{wfs.entry.url}: {hits:,} features within {box}: more than the cap of {cap:,}"
            )
        x1, y1, x2, y2 = box
        xm, ym = (x1 + x2) / 2, (y1 + y2) / 2
        queue += [([x1, y1, xm, ym], depth + 1), ([xm, y1, x2, ym], depth + 1),
                  ([x1, ym, xm, y2], depth + 1), ([xm, ym, x2, y2], depth + 1)]  # fmt: skip
    return tiles


def _owned_by(frame: gpd.GeoDataFrame, tile: list[float], root: tuple[float, ...]) -> np.ndarray:
    """Which features of a tile's page belong to that tile (see the module docstring)."""
    if frame.crs is not None and not frame.crs.equals(gpd.GeoSeries(crs=DEFAULT_CRS).crs):
        frame = frame.to_crs(DEFAULT_CRS)
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    missing = shapely.is_missing(geoms)  # no bbox query returns these: kept, and counted later
    invalid = ~missing & ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    area = shapely.box(*root)
    part = shapely.intersection(geoms, area)
    fallback = ~missing & shapely.is_empty(part)  # only an envelope-based server returns these
    part[fallback] = shapely.intersection(shapely.envelope(geoms[fallback]), area)
    points = shapely.point_on_surface(part)
    x, y = shapely.get_x(points), shapely.get_y(points)
    x1, y1, x2, y2 = tile
    with np.errstate(invalid="ignore"):
        in_x = (x >= x1) & ((x < x2) | ((x2 >= root[2]) & (x <= x2)))
        in_y = (y >= y1) & ((y < y2) | ((y2 >= root[3]) & (y <= y2)))
    return missing | (in_x & in_y)


def wfs_source(entry: CatalogEntry, bbox, page_size: int, equals: dict):
    """The query (for resuming) and the page source of a WFS entry.

    The cursor is ``{"start": n}`` while paging the whole area, or ``{"tiles": [...], "start": n,
    "total": N}`` by tiles; ``{"cap": n}`` asks for a tile plan with that ``startIndex`` cap.
    """
    equals = {**entry.filter, **equals}
    query = {"typeNames": entry.typename or f"search:{entry.layer_search}", "count": page_size,
             "srsName": RD_URN, "outputFormat": FORMATS[entry.format], "filter": equals,
             "bbox": list(bbox) if bbox is not None else None}  # fmt: skip
    root = tuple(bbox) if bbox is not None else RD_PLAUSIBLE

    def pages(session: Session, cursor: dict | None) -> Iterator[Page]:
        typename = (cursor or {}).get("typename") or entry.typename or _discover(session.client, entry)
        wfs = _Client(session.client, entry, typename, page_size, equals)
        cursor = dict(cursor or {}, typename=typename)
        if "start" not in cursor:
            total = wfs.hits(bbox)
            cap = cursor.get("cap") or entry.max_start_index
            if cap and (total is None or total > cap):
                cursor.update(tiles=_plan_tiles(wfs, root, cap), total=total)
            cursor["start"] = 0
        while True:
            tiles = cursor.get("tiles")
            if tiles == []:
                return
            area = tiles[0] if tiles else bbox
            start = cursor["start"]
            try:
                frame, unreadable, matched = wfs.page(area, start)
            except ServiceError as exc:
                if tiles is None and start > 0:
                    reason = f"the service refuses startIndex {start:,}; paging by bbox tiles instead"
                    raise Restart({"typename": typename, "cap": start}, reason) from exc
                raise
            returned = len(frame) + unreadable  # a server may send more than count: go on after them
            full = returned >= page_size
            if tiles:
                frame = frame[_owned_by(frame, area, root)] if len(frame) else frame
                following = (
                    {**cursor, "start": start + returned}
                    if full
                    else {**cursor, "tiles": tiles[1:], "start": 0}
                )
                following = following if following["tiles"] else None
                matched = cursor.get("total")
            else:
                more = full and (matched is None or start + returned < matched)
                following = {**cursor, "start": start + returned} if more else None
            yield Page(frame, following, matched, wfs.url(area, startIndex=start), unreadable)
            if following is None:
                return
            cursor = following

    return query, pages
