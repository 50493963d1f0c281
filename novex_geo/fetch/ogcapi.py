"""OGC API Features: pages through ``next`` links, in the CRS the server says it answers in.

PDOK serves most open data (CBS gebiedsindelingen, Natura 2000, BRP gewaspercelen...) this way:
GeoJSON FeatureCollections of at most ``limit`` features with a ``next`` link; the CRS is CRS84
unless ``crs=`` asks for another *and* the server confirms it in the ``Content-Crs`` header.
A ``next`` link is followed only over http(s) to an allowed host, never twice.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

from novex_geo.errors import DownloadError
from novex_geo.fetch.features import CRS84, content_crs, geojson_frame
from novex_geo.fetch.http import HttpClient, Response, excerpt, with_query
from novex_geo.fetch.store import Page, Session

__all__ = ["RD_NEW_URI", "crs_uri", "decode_json", "items_pages", "items_query"]

RD_NEW_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"


def crs_uri(crs: str) -> str:
    """OGC CRS URI for an authority code such as ``EPSG:28992``."""
    authority, code = crs.split(":")
    return f"http://www.opengis.net/def/crs/{authority.upper()}/0/{code}"


def decode_json(response: Response) -> dict[str, Any]:
    """The JSON object of ``response``; an HTML error page or other text is a clear error."""
    try:
        data = json.loads(response.body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise DownloadError(
            f"{response.url}: answer is not JSON (starts with {excerpt(response.body, 60)})"
        ) from None
    if not isinstance(data, dict):
        raise DownloadError(f"{response.url}: answer is JSON but not an object")
    return data


def items_query(crs: str, page_size: int, params: dict, bbox=None) -> dict[str, Any]:
    """The query of an items request: RD output, page size, the entry's parameters, a bbox in RD."""
    query = {"f": "json", "crs": crs_uri(crs), "limit": page_size, **params}
    if bbox is not None:
        query["bbox"] = ",".join(f"{value:.3f}" for value in bbox)
        query["bbox-crs"] = crs_uri(crs)
    return query


def _next_link(page: dict[str, Any], base: str) -> str | None:
    for link in page.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "next" and isinstance(link.get("href"), str):
            return urllib.parse.urljoin(base, link["href"])
    return None


def _matched(page: dict[str, Any]) -> int | None:
    value = page.get("numberMatched")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def items_pages(url: str, query: dict[str, Any]):
    """A page source (see :mod:`novex_geo.fetch.store`) for the items at ``url`` with ``query``.

    The cursor is ``{"next": URL}``. A ``next`` link to a page already fetched in this run (to
    itself, or back to the first page) is an error, not an endless loop.
    """

    def pages(session: Session, cursor: dict | None) -> Iterator[Page]:
        request = cursor["next"] if cursor else with_query(url, query)
        yield from iter_pages(session.client, request)

    return pages


def iter_pages(client: HttpClient, request: str) -> Iterator[Page]:
    """The pages from ``request`` on, following ``next`` links (see :func:`items_pages`)."""
    seen: dict[str, int] = {}
    while request:
        if request in seen:
            raise DownloadError(
                f"{request}: the service's next link leads back to page {seen[request]} of this run; "
                "stopped instead of looping"
            )
        seen[request] = len(seen) + 1
        response = client.get(request)
        page = decode_json(response)
        if page.get("type") != "FeatureCollection" or not isinstance(page.get("features", []), list):
            raise DownloadError(f"{request}: answer is not a GeoJSON FeatureCollection")
        features = page.get("features") or []
        crs = content_crs(response.headers, request) or CRS84
        frame, unreadable = geojson_frame(features, crs)
        link = _next_link(page, response.url) if features else None
        following = client.hosts.check(link, "next link") if link else None
        yield Page(frame, {"next": following} if following else None, _matched(page), request, unreadable)
        request = following
