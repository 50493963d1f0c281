"""WFS 2.0 GetFeature: paging with ``count``/``startIndex``, bbox and FES filters, GML or GeoJSON.

What to ask comes from the service itself, not from guesses: GetCapabilities (parsed by OWSLib)
names the feature type, its CRSs (``DefaultCRS`` first) and the output formats; its
``CountDefault`` constraint caps the page size; DescribeFeatureType gives the schema GDAL reads
the GML with, so that text codes stay text ("22"), no ``boundedBy`` corner columns appear, and a
property named ``gml_id`` (FME-made data has one) stays a property beside the feature's own id.

Paging never ends because a page was shorter than asked (MapServer caps every page at its
``wfs_maxfeatures``): it goes on while a page is full, carries a ``next`` link, or
``numberMatched`` says more are left, and ends on the first page that offers nothing more.

Many services cap ``startIndex`` (PDOK refuses beyond 50,000, see ``max_start_index`` in the
catalogue). When a query matches more features than that, or the service refuses a page, the
area is split into bbox tiles — quadrants, split again until each matches at most the cap
(counted with ``resultType=hits``) — and paged tile by tile. A feature that crosses a tile line
is returned by every tile it touches; it is kept only from the tile that holds a point of it
(``point_on_surface`` of its part inside the area), so each feature is stored exactly once,
with or without ids.

Coordinates are asked in RD New when the type offers it. When RD is not the type's own CRS the
server reprojects, and the first page is asked once more in the type's own CRS and compared with
PROJ's reprojection (see :meth:`~novex_geo.fetch.store.Session.trusts_reprojection`); when RD is
not offered at all, pages come in the type's own CRS and are reprojected here. GML is read with
GDAL (pyogrio), which honours each ``srsName`` and its axis order and never downloads a schema.
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
from pyproj import CRS, Transformer

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.catalog import CatalogEntry
from novex_geo.fetch.features import RD_PLAUSIBLE, geojson_crs, geojson_frame, parse_crs, properties_frame
from novex_geo.fetch.http import (
    Response,
    ServiceError,
    with_query,
)
from novex_geo.fetch.ogcapi import decode_json
from novex_geo.fetch.store import Page, Restart, Session, smaller_page
from novex_geo.fetch.wfs_capabilities import RD_URN, describe_schema, negotiate, refuse_exception

__all__ = ["fes_filter", "wfs_source"]


NAME = re.compile(r"^[A-Za-z_][\w.:-]*$")
MAX_DEPTH = 16  # a 450 km area split 16 times gives tiles of about 7 m
MAX_HITS_REQUESTS = 4_000
FEATURE_ID = re.compile(rb"<(?:\w+:)?member>\s*<[\w.:-]+\b[^>]*?\bgml:id=\"([^\"]*)\"")


def fes_filter(bbox: tuple[float, ...] | None, equals: dict[str, object], srs: str = RD_URN) -> str:
    """A FES 2.0 filter: features in ``bbox`` (in ``srs``) whose properties equal ``equals``."""
    conditions = []
    if bbox is not None:
        x1, y1, x2, y2 = bbox
        conditions.append(
            f'<fes:BBOX><gml:Envelope srsName="{escape(srs)}">'
            f"<gml:lowerCorner>{x1:.10g} {y1:.10g}</gml:lowerCorner>"
            f"<gml:upperCorner>{x2:.10g} {y2:.10g}</gml:upperCorner></gml:Envelope></fes:BBOX>"
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


def _root_attribute(body: bytes, attribute: str) -> str | None:
    match = re.search(
        rb"<(?:\w+:)?FeatureCollection\b[^>]*?\b" + attribute.encode() + rb'="([^"]*)"', body[:16384]
    )
    return match.group(1).decode("utf-8", "replace") if match else None


def _root_number(body: bytes, attribute: str) -> int | None:
    value = _root_attribute(body, attribute)
    return int(value) if value is not None and value.isdigit() else None


class _Client:
    """GetFeature requests for one feature type, output format and CRS."""

    def __init__(self, session: Session, entry: CatalogEntry, cursor: dict, equals: dict):
        self.client, self.entry, self.equals = session.client, entry, equals
        self.typename, self.format, self.srs = cursor["typename"], cursor["format"], cursor["srs"]
        self.page_size, self.schema = cursor["page"], cursor.get("schema")
        self.is_json = "json" in self.format.lower()

    def _area(self, area, srs: str):
        """``area`` (RD bounds) in ``srs`` and its axis order, for a bbox or filter."""
        if area is None or parse_crs(srs, self.typename) == DEFAULT_CRS:
            return area
        code = parse_crs(srs, self.typename)
        box = Transformer.from_crs(DEFAULT_CRS, code, always_xy=True).transform_bounds(*area)
        latitude_first = CRS.from_user_input(code).axis_info[0].direction == "north"
        return (box[1], box[0], box[3], box[2]) if latitude_first else box

    def url(self, area, srs: str | None = None, **extra) -> str:
        srs = srs or self.srs
        query = {
            "service": "WFS",
            "version": "2.0.0",
            "request": "GetFeature",
            "typeNames": self.typename,
            "srsName": srs,
            **extra,
        }
        box = self._area(area, srs)
        if self.equals:
            query["filter"] = fes_filter(box, self.equals, srs)
        elif box is not None:
            query["bbox"] = ",".join(f"{v:.10g}" for v in box) + f",{srs}"
        return with_query(self.entry.url, query)

    def hits(self, area) -> int | None:
        response = self.client.get(self.url(area, resultType="hits"), accept="application/xml")
        refuse_exception(response)
        return _root_number(response.body, "numberMatched")

    def page(
        self, area, start: int, srs: str | None = None
    ) -> tuple[gpd.GeoDataFrame, int, int | None, bool]:
        """Features (in their declared CRS), unreadable count, numberMatched and whether the
        answer links a next page."""
        srs = srs or self.srs
        request = self.url(area, srs, count=self.page_size, startIndex=start, outputFormat=self.format)
        response = self.client.get(
            request, accept="application/json" if self.is_json else "application/gml+xml, application/xml"
        )
        refuse_exception(response)
        if self.is_json:
            data = decode_json(response)
            features = data.get("features")
            if data.get("type") != "FeatureCollection" or not isinstance(features, list):
                raise DownloadError(f"{response.url}: answer is not a GeoJSON FeatureCollection")
            declared = geojson_crs(data, response.url) or parse_crs(srs, response.url)
            frame, unreadable = geojson_frame(features, declared)
            matched = data.get("numberMatched", data.get("totalFeatures"))
            linked = any(
                isinstance(link, dict) and link.get("rel") == "next" for link in data.get("links") or []
            )
            return frame, unreadable, matched if isinstance(matched, int) else None, linked
        frame = _gml_frame(response, self.schema, parse_crs(srs, response.url))
        linked = _root_attribute(response.body, "next") is not None
        return frame, 0, _root_number(response.body, "numberMatched"), linked


def _gml_frame(response: Response, schema: str | None, crs: str) -> gpd.GeoDataFrame:
    """The features of a GML FeatureCollection, in the CRS of their ``srsName``, typed by the
    feature type's schema when there is one."""
    if b"<!DOCTYPE" in response.body[:4096]:
        raise DownloadError(f"{response.url}: XML answer with a DTD; refused")
    if _root_number(response.body, "numberReturned") == 0 or b"member>" not in response.body:
        return properties_frame(pd.DataFrame(), [], [], crs)
    options = {"DOWNLOAD_SCHEMA": "NO", "EXPOSE_GML_ID": "NO", **({"XSD": schema} if schema else {})}
    try:
        frame = pyogrio.read_dataframe(response.body, **options)
    except (DataSourceError, DataLayerError) as exc:
        raise DownloadError(f"{response.url}: answer is not readable GML ({exc})") from None
    # the features' own gml:id, read here: GDAL fills its gml_id field from a property of that name
    ids = [value.decode("utf-8", "replace") for value in FEATURE_ID.findall(response.body)]
    ids = ids if len(ids) == len(frame) else [""] * len(frame)
    # without one srsName for all geometries GDAL gives no CRS: they are in the srsName asked for
    return properties_frame(frame.drop(columns="geometry"), ids, frame.geometry.values, frame.crs or crs)


def _plan_tiles(wfs: _Client, root: tuple[float, ...], cap: int) -> list[list[float]]:
    """Tiles covering ``root`` that each match at most ``cap`` features (empty tiles left out),
    each as ``[x1, y1, x2, y2, hits]``."""
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
                tiles.append([*box, hits])
            continue
        if depth >= MAX_DEPTH:
            raise DownloadError(
                f"{wfs.entry.url}: {hits:,} features within {box}: more than the cap of {cap:,}"
            )
        x1, y1, x2, y2 = box
        xm, ym = (x1 + x2) / 2, (y1 + y2) / 2
        for quadrant in ([x1, y1, xm, ym], [xm, y1, x2, ym], [x1, ym, xm, y2], [xm, ym, x2, y2]):
            queue.append((quadrant, depth + 1))
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
    x1, y1, x2, y2 = tile[:4]
    with np.errstate(invalid="ignore"):
        in_x = (x >= x1) & ((x < x2) | ((x2 >= root[2]) & (x <= x2)))
        in_y = (y >= y1) & ((y < y2) | ((y2 >= root[3]) & (y <= y2)))
    return missing | (in_x & in_y)


def _after_refusal(
    session: Session, exc: ServiceError, wfs: _Client, cursor: dict, paged_by_tiles: bool
) -> dict:
    """The cursor to try again with after the service refused a page: a smaller page when it
    said its limit; a :class:`Restart` paging by bbox tiles when it refuses a ``startIndex``."""
    smaller = smaller_page(exc.said, wfs.page_size)
    if smaller:
        session.notes.append(f"the service refused {wfs.page_size:,} features per page: asking {smaller:,}")
        return {**cursor, "page": smaller}
    start = cursor["start"]
    if not paged_by_tiles and start > 0:
        reason = f"the service refuses startIndex {start:,}; paging by bbox tiles instead"
        kept = {key: cursor[key] for key in ("typename", "format", "srs", "page", "schema") if key in cursor}
        raise Restart({**kept, "cap": start}, reason) from exc
    raise exc


def _begin(
    session: Session, entry: CatalogEntry, cursor: dict, page_size: int, equals: dict, bbox, root: tuple
) -> dict:
    """The cursor of a fresh download: type name, format and CRS negotiated, the schema of a
    GML answer, and (when the service caps ``startIndex`` below what it holds) a tile plan."""
    if "typename" not in cursor:
        cursor = {**cursor, **negotiate(session, entry, page_size)}
    if "json" not in cursor["format"].lower() and not cursor.get("schema"):
        cursor["schema"] = describe_schema(session, entry, cursor["typename"])
    if "start" not in cursor:
        wfs = _Client(session, entry, cursor, equals)
        total = wfs.hits(bbox)
        cap = cursor.get("cap") or entry.max_start_index
        if cap and (total is None or total > cap):
            cursor.update(tiles=_plan_tiles(wfs, root, cap), total=total)
        cursor["start"] = 0
    return cursor


def _first_page_checked(session: Session, wfs: _Client, cursor: dict, area, fetched):
    """The first page, compared with the same page in the type's own CRS when the server
    reprojects; the cursor switches to that CRS when the server's RD is off."""
    native = cursor.pop("native", None)
    if native is None:
        return fetched, cursor
    reference = wfs.page(area, 0, native)
    if session.trusts_reprojection(fetched[0], reference[0], native):
        return fetched, cursor
    return reference, {**cursor, "srs": native}


def _following(cursor: dict, next_start: int, more: bool) -> dict | None:
    """The cursor of the page after this one (``None``: this was the last): the next page of
    the area or tile, else the first page of the next tile."""
    if more:
        return {**cursor, "start": next_start}
    tiles = cursor.get("tiles")
    if tiles:
        return {**cursor, "tiles": tiles[1:], "start": 0} if tiles[1:] else None
    return None


def wfs_source(entry: CatalogEntry, bbox, page_size: int, equals: dict):
    """The query (for resuming) and the page source of a WFS entry.

    The cursor holds the negotiated type name, format, CRS and page size, and ``{"start": n}``
    while paging the whole area, or ``{"tiles": [...], "start": n, "total": N}`` by tiles;
    ``{"cap": n}`` asks for a tile plan with that ``startIndex`` cap.
    """
    equals = {**entry.filter, **equals}
    query = {
        "typeNames": entry.typename or f"search:{entry.layer_search}",
        "count": page_size,
        "outputFormat": entry.format,
        "filter": equals,
        "bbox": list(bbox) if bbox is not None else None,
    }
    root = tuple(bbox) if bbox is not None else RD_PLAUSIBLE

    def pages(session: Session, cursor: dict | None) -> Iterator[Page]:
        cursor = _begin(session, entry, dict(cursor or {}), page_size, equals, bbox, root)
        while True:
            tiles = cursor.get("tiles")
            if tiles == []:
                return
            area = tiles[0][:4] if tiles else bbox
            start = cursor["start"]
            wfs = _Client(session, entry, cursor, equals)
            try:
                fetched = wfs.page(area, start)
            except ServiceError as exc:
                cursor = _after_refusal(session, exc, wfs, cursor, paged_by_tiles=tiles is not None)
                continue
            if start == 0 and "native" in cursor:
                fetched, cursor = _first_page_checked(session, wfs, cursor, area, fetched)
            frame, unreadable, matched, linked = fetched
            returned = len(frame) + unreadable
            expected = tiles[0][4] if tiles else matched
            more = returned > 0 and (
                returned >= wfs.page_size or linked or (expected is not None and start + returned < expected)
            )
            following = _following(cursor, start + returned, more)
            if tiles:
                frame = frame[_owned_by(frame, tiles[0], root)] if len(frame) else frame
                matched = cursor.get("total")
            yield Page(frame, following, matched, wfs.url(area, startIndex=start), unreadable)
            if following is None:
                return
            cursor = following

    return query, pages
