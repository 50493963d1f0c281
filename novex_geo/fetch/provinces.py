"""``novex-geo fetch provincies``: the CBS provinces from PDOK into a file for ``[project.regions]``."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.ogcapi import DEFAULT_RETRY, RetryPolicy, crs_uri, iter_pages

__all__ = ["PDOK_GEBIEDSINDELINGEN", "PROVINCE_COLLECTION", "fetch_provinces"]

log = logging.getLogger(__name__)

PDOK_GEBIEDSINDELINGEN = "https://api.pdok.nl/cbs/gebiedsindelingen/ogc/v1"
PROVINCE_COLLECTION = "provincie_gegeneraliseerd"
ATTRIBUTION = "CBS gebiedsindelingen, © CBS / Kadaster, CC-BY 4.0 (via PDOK)"


def fetch_provinces(
    out: str | Path,
    year: int = 2025,
    base_url: str = PDOK_GEBIEDSINDELINGEN,
    crs: str = DEFAULT_CRS,
    page_size: int = 100,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> gpd.GeoDataFrame:
    """Download CBS ``provincie_gegeneraliseerd`` for ``year`` into a GeoPackage.

    Pages through the OGC API ``next`` links, asking for ``crs`` with ``crs=``. Writes layer
    ``provincies`` with the CBS fields (``statcode``, ``statnaam``...) to ``out`` and returns it.

    Raises
    ------
    DownloadError
        on network failure after bounded retries, or when the answer holds no provinces.
    """
    url = f"{base_url.rstrip('/')}/collections/{PROVINCE_COLLECTION}/items"
    params = {"f": "json", "jaarcode": year, "crs": crs_uri(crs), "limit": page_size}
    frames = []
    for number, page in enumerate(iter_pages(url, params, policy), start=1):
        features = page.get("features", [])
        log.info("page %d: %d provinces", number, len(features))
        if features:
            frames.append(gpd.GeoDataFrame.from_features(features, crs=crs))
    if not frames:
        raise DownloadError(f"{url}: no provinces for jaarcode={year}")
    provinces = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    provinces.to_file(
        out,
        layer="provincies",
        driver="GPKG",
        engine="pyogrio",
        layer_options={"DESCRIPTION": f"{ATTRIBUTION}; jaarcode {year}; {url}"},
    )
    return provinces
