"""``novex-geo fetch provincies``: the CBS provinces from PDOK into a file for ``[project.regions]``."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.features import to_rd
from novex_geo.fetch.http import HostPolicy, HttpClient, RetryPolicy, with_query
from novex_geo.fetch.ogcapi import items_query, iter_pages

__all__ = ["PDOK_GEBIEDSINDELINGEN", "PROVINCE_COLLECTION", "fetch_provinces"]

log = logging.getLogger(__name__)

PDOK_GEBIEDSINDELINGEN = "https://api.pdok.nl/cbs/gebiedsindelingen/ogc/v1"
PROVINCE_COLLECTION = "provincie_gegeneraliseerd"
DEFAULT_RETRY = RetryPolicy()
ATTRIBUTION = "CBS gebiedsindelingen, © CBS / Kadaster, CC-BY 4.0 (via PDOK)"


def fetch_provinces(
    out: str | Path,
    year: int = 2025,
    base_url: str = PDOK_GEBIEDSINDELINGEN,
    page_size: int = 100,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> gpd.GeoDataFrame:
    """Download CBS ``provincie_gegeneraliseerd`` for ``year`` into a GeoPackage.

    Pages through the OGC API ``next`` links asking for RD New, and reprojects from whatever
    CRS the server confirms (``Content-Crs``). Writes layer ``provincies`` with the CBS fields
    (``statcode``, ``statnaam``...) to ``out`` and returns it.

    Raises
    ------
    DownloadError
        on network failure after bounded retries, or when the answer holds no provinces.
    """
    url = f"{base_url.rstrip('/')}/collections/{PROVINCE_COLLECTION}/items"
    query = items_query(DEFAULT_CRS, page_size, {"jaarcode": year})
    client = HttpClient(policy, HostPolicy.for_url(base_url))
    frames = []
    for number, page in enumerate(iter_pages(client, with_query(url, query)), start=1):
        frame, _, dropped = to_rd(page.frame, page.url)
        log.info("page %d: %d provinces", number, len(frame))
        if dropped or page.n_unreadable:
            raise DownloadError(
                f"{page.url}: {dropped + page.n_unreadable} provinces without usable coordinates"
            )
        frames.append(frame)
    provinces = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=DEFAULT_CRS)
    if provinces.empty:
        raise DownloadError(f"{url}: no provinces for jaarcode={year}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # a new file appears only when complete; into an existing one (other layers) the layer is replaced
    target = out if out.exists() else out.with_name(f".{out.stem}.tmp{out.suffix}")
    provinces.drop(columns="ogc_id").to_file(
        target,
        layer="provincies",
        driver="GPKG",
        engine="pyogrio",
        layer_options={"DESCRIPTION": f"{ATTRIBUTION}; jaarcode {year}; {url}"},
    )
    target.replace(out)
    return provinces
