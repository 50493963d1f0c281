"""``novex-geo fetch KEY``: a catalogue dataset, by whichever protocol serves it, into a GeoPackage.

The protocol modules only know how to ask for pages (:mod:`~novex_geo.fetch.ogcapi`,
:mod:`~novex_geo.fetch.wfs`, :mod:`~novex_geo.fetch.arcgis`, :mod:`~novex_geo.fetch.atom`); this
module picks one for the entry, applies the user's overrides and area, and hands the pages to
:func:`~novex_geo.fetch.store.store_pages`, which does the same for all of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from novex_geo.config import Regions
from novex_geo.errors import CatalogError, LayerError, UsageError
from novex_geo.fetch.arcgis import arcgis_source
from novex_geo.fetch.atom import atom_source
from novex_geo.fetch.catalog import OBLIGATIONS, CatalogEntry, get_entry
from novex_geo.fetch.http import HostPolicy, HttpClient, RetryPolicy
from novex_geo.fetch.ogcapi import ogcapi_source
from novex_geo.fetch.store import FetchResult, Progress, store_pages
from novex_geo.fetch.wfs import wfs_source
from novex_geo.io.outputs import geopackage_target
from novex_geo.io.regions import load_regions, select_regions

__all__ = ["DEFAULT_CACHE", "PROVINCES_LAYER", "FetchOptions", "fetch_dataset", "resolve_entry"]

DEFAULT_CACHE = Path("layers/cache.gpkg")
PROVINCES_LAYER = "cbs_provincies"  # where --provincie looks for its boundary by default
OVERRIDES = {"ogcapi-features": "collection", "wfs": "typename", "atom": "layer", "download": "layer"}
FILTERABLE = {"ogcapi-features", "wfs"}


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch, beyond what the catalogue entry says.

    Attributes
    ----------
    page_size : features per request (default: the entry's, usually 1000)
    policy : retries and the deadline of each request
    max_pages : pages (or download requests) one run may make before it stops, resumable
    base_url : another address for the service (a mirror, a test server, a feed the catalogue
        does not know)
    collection : another collection, WFS type name or layer in a downloaded file
    filters : property = value conditions (OGC API query parameters, WFS FES filter)
    year : CBS ``jaarcode`` (CBS boundaries only)
    """

    page_size: int | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    max_pages: int = 10_000
    base_url: str | None = None
    collection: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    year: int | None = None


def _provincie_area(name: str, out: Path, regions_path: Path | None):
    if regions_path is not None and not Path(regions_path).is_file():
        raise LayerError(f"{regions_path}: file not found (--regions)")
    regions_file = regions_path or out
    if not Path(regions_file).exists():
        raise LayerError(
            f"{regions_file}: no provinces to find '{name}' in; run "
            f"'novex-geo fetch {PROVINCES_LAYER} --out {out}' first or give --regions FILE"
        )
    layer = None if regions_path else PROVINCES_LAYER
    regions = load_regions(Regions(Path(regions_file), "statnaam", layer))
    return select_regions(regions, [name]).geometry.iloc[0]


def resolve_entry(key: str, options: FetchOptions) -> CatalogEntry:
    """The catalogue entry ``key`` with the user's overrides; an error when it cannot be fetched."""
    entry = get_entry(key)
    if not entry.fetchable:
        raise CatalogError(f"'{key}': {entry.not_fetchable_because}: {entry.route}")
    changes: dict = {}
    if options.base_url:
        changes["url"] = options.base_url
    elif not entry.url:
        raise CatalogError(
            f"the catalogue does not know the address of '{key}': give it with --base-url URL ({entry.note})"
        )
    if options.year is not None:
        if "jaarcode" not in entry.params:
            raise UsageError(f"--year applies to CBS boundaries only, not to '{key}'")
        changes["params"] = {**entry.params, "jaarcode": options.year}
    if options.collection:
        if entry.service not in OVERRIDES:
            raise UsageError(
                f"--collection does not apply to '{key}' ({entry.service}: the layer is in its URL)"
            )
        changes[OVERRIDES[entry.service]] = options.collection
        changes["layer_search"] = ""
    if options.filters and entry.service not in FILTERABLE:
        raise UsageError(f"--filter applies to OGC API and WFS entries, not to '{key}' ({entry.service})")
    if options.filters and entry.service == "ogcapi-features":
        changes["params"] = {**changes.get("params", entry.params), **options.filters}
    return dataclasses.replace(entry, **changes)


def _overridden(entry: CatalogEntry, options: FetchOptions) -> dict[str, str]:
    """The record fields that change when the user points the entry at other data: the
    catalogue's title, licence and attribution describe the catalogue's source, so for another
    one they are kept but marked as not verified."""
    given = [
        name
        for name, value in (("--base-url", options.base_url), ("--collection", options.collection))
        if value
    ]
    if not given:
        return {}
    where = f"{urllib.parse.urlsplit(entry.url).netloc} {entry.names}".strip()
    marker = f"niet geverifieerd voor {where}"
    return {
        "overridden": ", ".join(given),
        "title": f"{entry.title} ({marker})",
        "licence": f"{entry.licence} (catalogue entry '{entry.key}'; not verified for {where})",
        "attribution": f"{entry.attribution} ({marker})",
        "obligations": "; ".join(part for part in (entry.obligations, OBLIGATIONS["unconfirmed"]) if part),
    }


def _source(entry: CatalogEntry, box, options: FetchOptions):
    page_size = options.page_size or entry.page_size
    if entry.service == "ogcapi-features":
        return ogcapi_source(entry, box, page_size)
    if entry.service == "wfs":
        return wfs_source(entry, box, page_size, options.filters)
    if entry.service == "arcgis-featureserver":
        return arcgis_source(entry, box, page_size)
    return atom_source(entry, entry.url, box, options.max_pages)


def fetch_dataset(
    key: str,
    out: Path = DEFAULT_CACHE,
    provincie: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    regions_path: Path | None = None,
    options: FetchOptions | None = None,
    progress: Progress | None = None,
) -> tuple[FetchResult, CatalogEntry]:
    """Download catalogue entry ``key`` into layer ``key`` of the GeoPackage ``out``, in RD New.

    With ``provincie`` only that provincie's features are kept (a bbox request, then clipped
    to the boundary from ``regions_path`` or the fetched provinces layer of ``out``); with
    ``bbox`` (RD) only the features the service finds in it.

    Returns
    -------
    the fetch result and the catalogue entry used
    """
    if provincie and bbox:
        raise UsageError("give a provincie or a bbox, not both")
    options = options or FetchOptions()
    entry = resolve_entry(key, options)
    out = Path(out)
    geopackage_target(out, "fetched layers are kept")  # before any request
    area = _provincie_area(provincie, out, regions_path) if provincie else None
    box = tuple(area.bounds) if area is not None else bbox
    query, pages = _source(entry, box, options)
    described = {**query, "clip": hashlib.sha256(area.wkb).hexdigest()[:16] if area is not None else None}
    base = {
        "layer": entry.key,
        "key": entry.key,
        "title": entry.title,
        "sector": entry.sector,
        "service": entry.service,
        "url": entry.service_url,
        "query": json.dumps(described, sort_keys=True),
        "source_name": entry.collection or entry.typename or entry.layer,
        "overridden": "",
        "licence": entry.licence,
        "attribution": entry.attribution,
        "obligations": entry.obligations,
        "edition": entry.edition,
        **_overridden(entry, options),
    }
    client = HttpClient(options.policy, HostPolicy.for_url(entry.url, entry.hosts))
    result = store_pages(
        Path(out),
        entry.key,
        base,
        pages,
        client,
        area,
        options.max_pages,
        progress,
        entry.edition_field or None,
    )
    return result, entry
