"""NOVEX-gebieden: in which of them each spanningsgebied lies, and for what share of its area.

The account manager routes an issue that lies in a NOVEX-gebied to that gebied's own table
(seed: afstemming met NOVEX-gebieden). Shares are exact: the area of the intersection of the
spanningsgebied and the gebied over the area of the spanningsgebied (GEOS, no rasters, no
buffers). NOVEX-gebieden may overlap each other; where they do, ``novex_aandeel`` (the share
inside any of them) counts that ground once.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.units import HECTARE

__all__ = [
    "AREA_NOVEX_COLUMNS",
    "NOVEX_COLUMNS",
    "NovexShares",
    "add_novex_columns",
    "novex_phrase",
    "novex_shares",
]

# the table ``novexgebieden``: per spanningsgebied and NOVEX-gebied, the largest share first
NOVEX_COLUMNS = ["id", "novex_gebied", "oppervlakte_ha", "aandeel"]
# what every spanningsgebied gets: "Grensregio (62.5 %)", how many gebieden, the share in any
AREA_NOVEX_COLUMNS = ["novex_gebieden", "n_novex_gebieden", "novex_aandeel"]
WHOLE = 1 - 1e-9  # a share this close to 1 is the whole area (floating-point noise of GEOS)


@dataclass
class NovexShares:
    """``table`` (:data:`NOVEX_COLUMNS`): the exact share of each spanningsgebied in each
    NOVEX-gebied it overlaps; ``inside``: per area id the share inside any of them."""

    table: pd.DataFrame
    inside: pd.Series


def novex_shares(areas: gpd.GeoDataFrame, gebieden: gpd.GeoDataFrame | None) -> NovexShares:
    """The shares of the spanningsgebieden (with ``id``) in the NOVEX-gebieden (``provincie``
    holds the name, as :func:`~novex_geo.io.regions.load_regions` reads regions); ``None``
    when none are configured."""
    if gebieden is None or areas.empty:
        return NovexShares(pd.DataFrame(columns=NOVEX_COLUMNS), pd.Series(dtype=float))
    area_i, gebied_j = shapely.STRtree(gebieden.geometry.values).query(
        areas.geometry.values, predicate="intersects"
    )
    shared = shapely.intersection(areas.geometry.values[area_i], gebieden.geometry.values[gebied_j])
    table = pd.DataFrame(
        {
            "id": areas["id"].to_numpy()[area_i],
            "novex_gebied": gebieden["provincie"].to_numpy()[gebied_j],
            "oppervlakte_ha": shapely.area(shared) / HECTARE,
            "aandeel": shapely.area(shared) / shapely.area(areas.geometry.values[area_i]),
            "geometry": shared,
        }
    )
    table = table[table["aandeel"] > 0]  # touching a gebied is not lying in it
    table = table.sort_values(["id", "aandeel", "novex_gebied"], ascending=[True, False, True])
    whole = pd.Series(shapely.area(areas.geometry.values), index=areas["id"].to_numpy())
    # where NOVEX-gebieden overlap, that ground counts once
    inside = table.groupby("id")["geometry"].agg(lambda parts: shapely.union_all(parts.to_numpy()).area)
    share = (inside / whole.loc[inside.index]).clip(upper=1.0)
    return NovexShares(table[NOVEX_COLUMNS].reset_index(drop=True), share)


def add_novex_columns(areas: gpd.GeoDataFrame, shares: NovexShares | None) -> None:
    """Add :data:`AREA_NOVEX_COLUMNS` to ``areas`` from :func:`novex_shares` (``None``: the
    areas lie in no NOVEX-gebied that is known)."""
    table = shares.table if shares is not None else pd.DataFrame(columns=NOVEX_COLUMNS)
    by_area = table.groupby("id", sort=False)
    text = {
        area: "; ".join(
            f"{name} ({100 * share:.1f} %)"
            for name, share in zip(group["novex_gebied"], group["aandeel"], strict=True)
        )
        for area, group in by_area
    }
    areas["novex_gebieden"] = [text.get(area, "") for area in areas["id"]]
    counts = by_area.size()
    areas["n_novex_gebieden"] = np.array([counts.get(area, 0) for area in areas["id"]], dtype=np.int64)
    inside = shares.inside if shares is not None else pd.Series(dtype=float)
    areas["novex_aandeel"] = [float(inside.get(area, 0.0)) for area in areas["id"]]


def novex_phrase(area) -> str:
    """ "ligt in NOVEX-gebied X (100.0 %)", "ligt deels in NOVEX-gebied X (62.5 %)" or "ligt in geen
    NOVEX-gebied", for a row with :data:`AREA_NOVEX_COLUMNS`."""
    count = int(area["n_novex_gebieden"])
    if not count:
        return "ligt in geen NOVEX-gebied"
    where = f"in NOVEX-gebied{'en' if count > 1 else ''} {area['novex_gebieden']}"
    return f"ligt {where}" if float(area["novex_aandeel"]) >= WHOLE else f"ligt deels {where}"
