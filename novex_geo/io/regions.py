"""Provinces (or other regions) the analysis runs per, from the file in ``[project.regions]``.

``novex-geo fetch provincies`` (:mod:`novex_geo.fetch.provinces`) downloads the CBS
``provincie_gegeneraliseerd`` boundaries from PDOK into such a file.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

from novex_geo.config import DEFAULT_CRS, Regions
from novex_geo.errors import LayerError
from novex_geo.io.layers import read_vector

__all__ = ["load_regions", "select_regions"]

log = logging.getLogger(__name__)


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
