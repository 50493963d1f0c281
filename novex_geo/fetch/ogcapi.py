"""OGC API Features: pages through ``next`` links, in a CRS negotiated with the collection.

PDOK serves most open data (CBS gebiedsindelingen, Natura 2000, BRP gewaspercelen...) this way:
GeoJSON FeatureCollections of at most ``limit`` features with a ``next`` link. The collection's
metadata says which CRSs it can answer in (``crs``, OGC API Part 2) and which it stores
(``storageCrs``). RD New is asked for when listed (and the ``Content-Crs`` header is believed
only as far as the coordinates agree); when the server reprojects, the first page is asked once
more in CRS84 and compared with PROJ's reprojection. A collection that does not list RD — the
default of pygeoapi and of every Part 1 server — answers in CRS84, which is reprojected here.
A server that refuses the page size ("Limit of 500 exceeded") is asked again with its maximum.
A ``next`` link is followed only over http(s) to an allowed host, never twice.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

from pyproj import Transformer

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.catalog import CatalogEntry
from novex_geo.fetch.features import CRS84, content_crs, geojson_frame, parse_crs
from novex_geo.fetch.http import HttpClient, Response, ServiceError, excerpt, with_query
from novex_geo.fetch.store import Page, Session, smaller_page

__all__ = ["RD_NEW_URI", "crs_uri", "decode_json", "items_query", "iter_pages", "ogcapi_source"]

RD_NEW_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
MAX_LIMIT_RETRIES = 12  # halving from 10,000 reaches 2 in 12 steps


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


def items_query(crs: str | None, page_size: int, params: dict, bbox=None) -> dict[str, Any]:
    """The query of an items request: the page size, the entry's parameters, and output and
    bbox in ``crs`` (``None``: the server's default CRS84, with the RD ``bbox`` converted)."""
    query: dict[str, Any] = {"f": "json", "limit": page_size, **params}
    if crs is not None:
        query["crs"] = crs_uri(crs)
    if bbox is not None and crs is None:
        degrees = Transformer.from_crs(DEFAULT_CRS, CRS84, always_xy=True).transform_bounds(*bbox)
        query["bbox"] = ",".join(f"{value:.9f}" for value in degrees)
    elif bbox is not None:
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


def _with_limit(url: str, limit: int) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "limit"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode([*query, ("limit", limit)])))


def _page(client: HttpClient, request: str, notes: list[str] | None = None) -> tuple[Page, str]:
    """One items page (its ``next`` link checked against the allowed hosts) and the request
    that gave it: a refused page size is lowered as the server says, a bounded number of times."""
    for _ in range(MAX_LIMIT_RETRIES):
        try:
            response = client.get(request)
            break
        except ServiceError as exc:
            limit = urllib.parse.parse_qs(urllib.parse.urlsplit(request).query).get("limit", ["0"])[0]
            smaller = smaller_page(exc.said, int(limit)) if exc.status == 400 and limit.isdigit() else None
            if not smaller:
                raise
            if notes is not None:
                notes.append(
                    f"the service refused {limit} features per page ({exc.said}): asking {smaller:,}"
                )
            request = _with_limit(request, smaller)
    else:
        raise DownloadError(f"{request}: the service refuses every page size asked")
    page = decode_json(response)
    if page.get("type") != "FeatureCollection" or not isinstance(page.get("features", []), list):
        raise DownloadError(f"{request}: answer is not a GeoJSON FeatureCollection")
    features = page.get("features") or []
    frame, unreadable = geojson_frame(features, content_crs(response.headers, request) or CRS84)
    link = _next_link(page, response.url) if features else None
    following = client.hosts.check(link, "next link") if link else None
    return Page(
        frame, {"next": following} if following else None, _matched(page), request, unreadable
    ), request


def iter_pages(
    client: HttpClient, request: str, notes: list[str] | None = None, fetched: tuple[str, ...] = ()
) -> Iterator[Page]:
    """The pages from ``request`` on, following ``next`` links. A ``next`` link to a page
    already fetched in this run (to itself, back to the first page, or to one of ``fetched``)
    is an error, not an endless loop."""
    seen: dict[str, int] = {url: number for number, url in enumerate(fetched, start=1)}
    while request:
        if request in seen:
            raise DownloadError(
                f"{request}: the service's next link leads back to page {seen[request]} of this run; "
                "stopped instead of looping"
            )
        seen[request] = len(seen) + 1
        page, _ = _page(client, request, notes)
        yield page
        request = page.cursor["next"] if page.cursor else None


def _offered_crs(client: HttpClient, entry: CatalogEntry) -> tuple[set[str], str]:
    """The CRSs the collection answers in and the one it stores (authority codes)."""
    base = entry.url.rstrip("/")
    meta = decode_json(client.get(with_query(f"{base}/collections/{entry.collection}", {"f": "json"})))
    listed = [value for value in meta.get("crs") or [] if isinstance(value, str)]
    if "#/crs" in listed:  # Part 2: the list given once for all collections
        shared = decode_json(client.get(with_query(f"{base}/collections", {"f": "json"})))
        listed += [value for value in shared.get("crs") or [] if isinstance(value, str)]
    offered = set()
    for value in listed:
        try:
            offered.add(parse_crs(value, entry.url))
        except DownloadError:  # a CRS PROJ does not know is not one novex-geo asks for
            continue
    storage = meta.get("storageCrs")
    stored = parse_crs(storage, entry.url) if isinstance(storage, str) else CRS84
    return offered or {CRS84}, stored


def ogcapi_source(entry: CatalogEntry, bbox, page_size: int):
    """The query (for resuming) and the page source of an OGC API Features collection.

    The cursor is ``{"next": URL}``: the negotiated CRS, bbox and page size are in that URL.
    """
    query = items_query(DEFAULT_CRS, page_size, entry.params, bbox)

    def first(session: Session) -> Page:
        """The first page in the negotiated CRS, checked against CRS84 when the server reprojects."""
        offered, stored = _offered_crs(session.client, entry)
        local = with_query(entry.items_url, items_query(None, page_size, entry.params, bbox))
        if DEFAULT_CRS not in offered:
            session.notes.append(
                f"the collection does not offer EPSG:28992 (it lists {', '.join(sorted(offered))}): "
                "asked in CRS84 and reprojected here with PROJ"
            )
            return _page(session.client, local, session.notes)[0]
        page, request = _page(session.client, with_query(entry.items_url, query), session.notes)
        if stored == DEFAULT_CRS or page.frame.empty:
            return page
        limit = urllib.parse.parse_qs(urllib.parse.urlsplit(request).query)["limit"][0]
        reference, _ = _page(session.client, _with_limit(local, int(limit)), session.notes)
        return page if session.trusts_reprojection(page.frame, reference.frame, CRS84) else reference

    def pages(session: Session, cursor: dict | None) -> Iterator[Page]:
        if cursor is None:
            page = first(session)
            yield page
            if page.cursor is None:
                return
            yield from iter_pages(session.client, page.cursor["next"], session.notes, (page.url,))
            return
        yield from iter_pages(session.client, cursor["next"], session.notes)

    return query, pages
