"""Provinces (or other regions) the analysis runs per.

The regions come from a vector file named in ``[project.regions]``; ``novex-geo fetch
provincies`` downloads the CBS ``provincie_gegeneraliseerd`` boundaries from PDOK.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import DEFAULT_CRS, Regions
from novex_geo.errors import DownloadError, LayerError
from novex_geo.io.layers import read_vector
from novex_geo.io.ogcapi import DEFAULT_RETRY, RetryPolicy, crs_uri, iter_pages

__all__ = [
    "PDOK_GEBIEDSINDELINGEN",
    "PROVINCE_COLLECTION",
    "fetch_provinces",
    "load_regions",
    "select_regions",
]

log = logging.getLogger(__name__)

PDOK_GEBIEDSINDELINGEN = "https://api.pdok.nl/cbs/gebiedsindelingen/ogc/v1"
PROVINCE_COLLECTION = "provincie_gegeneraliseerd"
ATTRIBUTION = "CBS gebiedsindelingen, © CBS / Kadaster, CC-BY 4.0 (via PDOK)"


def load_regions(regions: Regions, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """Load the regions file as a GeoDataFrame with a ``provincie`` column.

    Invalid boundaries are repaired with ``make_valid`` (and logged); a name field that is
    missing or has duplicate names is an error.
    """
    frame = read_vector(regions.path, regions.layer, columns=[regions.name_field])
    if frame.empty:
        raise LayerError("regions layer is empty", regions.path, regions.layer)
    if frame.crs is None:
        raise LayerError("regions layer has no CRS", regions.path, regions.layer)
    frame = frame.to_crs(crs)
    names = frame[regions.name_field].astype(str)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        log.warning("%s: %d invalid region boundaries repaired", regions.path, int(invalid.sum()))
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    result = gpd.GeoDataFrame({"provincie": names.to_numpy()}, geometry=geoms, crs=crs)
    # a province stored as several rows (islands) is one region
    if result["provincie"].duplicated().any():
        result = result.dissolve("provincie", as_index=False)
    return result.sort_values("provincie", ignore_index=True)


def select_regions(regions: gpd.GeoDataFrame, names: list[str] | tuple[str, ...]) -> gpd.GeoDataFrame:
    """The regions named in ``names`` (case-insensitive); an unknown name is an error."""
    if not names:
        return regions
    by_lower = {name.lower(): name for name in regions["provincie"]}
    unknown = [name for name in names if name.lower() not in by_lower]
    if unknown:
        raise LayerError(
            f"unknown provincie {', '.join(map(repr, unknown))}; known: " + ", ".join(regions["provincie"])
        )
    wanted = [by_lower[name.lower()] for name in names]
    return regions[regions["provincie"].isin(wanted)].reset_index(drop=True)


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
