"""ArcGIS REST FeatureServer ``query``: offset paging in RD New, smaller pages when the server times out.

Netbeheer Nederland publishes the capaciteitskaart (netcongestie per voedingsgebied) as a public
ArcGIS FeatureServer layer. Pages are asked with ``resultOffset``/``resultRecordCount`` ordered by
the layer's object id (a stable order), ``outSR=28992`` and ``f=geojson``; the page size never
exceeds the layer's ``maxRecordCount``. Detailed polygons make large pages time out (HTTP 504,
or an ``error`` object with code 504 in a 200 answer): the page is then asked again at half the
size, down to ``MIN_PAGE``, and the smaller size is kept for the rest of the download.

A layer stored in another CRS than RD is reprojected by the server, and not every server does
that with the datum shift (Koop drops it: every vertex about 120 m off). The first page is then
asked once more in WGS 84 and compared with PROJ's reprojection; beyond the tolerance every page
is asked in WGS 84 and reprojected here (see
:meth:`~novex_geo.fetch.store.Session.trusts_reprojection`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import geopandas as gpd

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.catalog import CatalogEntry
from novex_geo.fetch.features import CRS84, geojson_crs, geojson_frame
from novex_geo.fetch.http import RETRY_STATUS, HttpClient, ServiceError, excerpt, with_query
from novex_geo.fetch.ogcapi import decode_json
from novex_geo.fetch.store import Page, Session

__all__ = ["MIN_PAGE", "arcgis_source"]

log = logging.getLogger(__name__)

MIN_PAGE = 10
RD_WKID = 28992
TIMEOUT_CODES = {500, 503, 504}  # what ArcGIS puts in an error object when a query took too long
NO_TIMEOUT_RETRY = RETRY_STATUS - {504}  # a 504 asks for a smaller page, not the same one again


class _Timeout(Exception):
    pass


def _answer(client: HttpClient, url: str) -> dict:
    """The JSON of ``url``; an ArcGIS ``error`` object becomes :class:`_Timeout` or an error."""
    try:
        data = decode_json(client.get(url, accept="application/json", retry_status=NO_TIMEOUT_RETRY))
    except ServiceError as exc:
        if exc.status == 504:
            raise _Timeout from None
        raise
    error = data.get("error")
    if isinstance(error, dict):
        if error.get("code") in TIMEOUT_CODES:
            raise _Timeout
        message = excerpt(str(error.get("message", "")).encode(), 160)
        raise DownloadError(f"{url}: the service answered with error {error.get('code')}: {message}")
    return data


def _native_wkid(info: dict) -> int | None:
    """The CRS the layer is stored in, from its description (``sourceSpatialReference`` or the
    spatial reference of its extent)."""
    for holder in (info.get("sourceSpatialReference"), (info.get("extent") or {}).get("spatialReference")):
        if isinstance(holder, dict):
            wkid = holder.get("latestWkid") or holder.get("wkid")
            if isinstance(wkid, int):
                return wkid
    return None


def _features(data: dict, request: str, out_sr: int) -> tuple[list, gpd.GeoDataFrame, int]:
    """The features of a GeoJSON answer, as sent and as a frame, and how many were unreadable."""
    found = data.get("features")
    if data.get("type") != "FeatureCollection" or not isinstance(found, list):
        raise DownloadError(f"{request}: answer is not a GeoJSON FeatureCollection")
    declared = geojson_crs(data, request) or (DEFAULT_CRS if out_sr == RD_WKID else CRS84)
    return found, *geojson_frame(found, declared)


def _halved(session: Session, cursor: dict, request: str, layer_url: str) -> dict:
    """The cursor asking half as many features per page after a timeout (down to ``MIN_PAGE``)."""
    size, offset = cursor["size"], cursor["offset"]
    if size <= MIN_PAGE:
        raise DownloadError(f"{request}: the server times out even at {size} features per page") from None
    cursor = {**cursor, "size": max(size // 2, MIN_PAGE)}
    note = f"timed out at {size} features per page; asking {cursor['size']} from offset {offset:,}"
    log.warning("%s: %s", layer_url, note)
    session.notes.append(note)
    return cursor


def _more(data: dict, received: int, page_full: bool, total: int | None) -> bool:
    """Whether pages follow: the server's own signal decides; without one a full page, or a
    count not yet reached."""
    exceeded = data.get("exceededTransferLimit", (data.get("properties") or {}).get("exceededTransferLimit"))
    if exceeded is not None:
        return bool(exceeded)
    return page_full or (total is not None and received < total)


def _start(client: HttpClient, layer_url: str, count_url: str, page_size: int) -> dict:
    """The cursor of a fresh download: the page size the layer allows, its count, the field
    to order by, and whether the server's own RD must be checked (its data is in another CRS)."""
    info = _answer(client, with_query(layer_url, {"f": "json"}))
    limit = info.get("maxRecordCount")
    count = _answer(client, count_url).get("count")
    return {
        "offset": 0,
        "size": min(page_size, limit) if isinstance(limit, int) and limit > 0 else page_size,
        "order": info.get("objectIdField") or "OBJECTID",
        "total": count if isinstance(count, int) else None,
        "outSR": RD_WKID,
        "check": _native_wkid(info) not in (None, RD_WKID, 28992),
    }


def arcgis_source(entry: CatalogEntry, bbox, page_size: int):
    """The query (for resuming) and the page source of a FeatureServer layer entry.

    The cursor is ``{"offset": n, "size": page size, "order": field, "total": N, "outSR": wkid,
    "check": bool}``: ``outSR`` 4326 once the server's own RD proved wrong.
    """
    query = {"where": entry.params.get("where", "1=1"), "outFields": "*", "outSR": RD_WKID, "f": "geojson"}
    if bbox is not None:
        query.update(
            geometry=",".join(f"{v:.3f}" for v in bbox),
            geometryType="esriGeometryEnvelope",
            inSR=RD_WKID,
            spatialRel="esriSpatialRelIntersects",
        )
    layer_url = entry.url.rstrip("/")

    def url(**extra) -> str:
        return with_query(f"{layer_url}/query", {**query, **extra})

    def checked(session: Session, cursor: dict, frame, offset: int, size: int):
        """The first page's frame, compared with WGS 84 reprojected here; the cursor switches
        to WGS 84 when the server's RD is off."""
        cursor = {**cursor, "check": False}
        request = url(resultOffset=offset, resultRecordCount=size, orderByFields=cursor["order"], outSR=4326)
        reference = _features(_answer(session.client, request), request, 4326)[1]
        if session.trusts_reprojection(frame, reference, "EPSG:4326"):
            return frame, cursor
        return reference, {**cursor, "outSR": 4326}

    def pages(session: Session, cursor: dict | None) -> Iterator[Page]:
        cursor = cursor or _start(session.client, layer_url, url(f="json", returnCountOnly="true"), page_size)
        while True:
            offset, size, total = cursor["offset"], cursor["size"], cursor["total"]
            request = url(
                resultOffset=offset,
                resultRecordCount=size,
                orderByFields=cursor["order"],
                outSR=cursor.get("outSR", RD_WKID),
            )
            try:
                data = _answer(session.client, request)
            except _Timeout:
                cursor = _halved(session, cursor, request, layer_url)
                continue
            found, frame, unreadable = _features(data, request, cursor.get("outSR", RD_WKID))
            if cursor.get("check") and len(frame):
                frame, cursor = checked(session, cursor, frame, offset, size)
            returned = len(found)
            more = returned > 0 and _more(data, offset + returned, size <= returned, total)
            following = {**cursor, "offset": offset + returned} if more else None
            yield Page(frame, following, total, request, unreadable)
            if following is None:
                return
            cursor = following

    return query, pages
