"""Kansen in the triage: the kansen in or near each spanningsgebied, and those far from all.

A kans belongs to a spanningsgebied when it lies inside it or within ``merge_distance`` of it
(the exact distance between the geometries); the area carries the whole kans. A kans may
belong to several areas; one that belongs to none is in the national list of kansen outside
the spanningsgebieden. Kansen change no criterion; they add to the score only when the project
sets ``kans_weight`` (see :func:`~novex_geo.triage.evaluate.evaluate_criteria`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import KANS, ZONE_ID
from novex_geo.triage.areas import objects_text, ordered_features
from novex_geo.units import HECTARE, hectares

__all__ = ["AREA_KANS_COLUMNS", "KANSPAREN_COLUMNS", "AreaKansen", "add_kansen_columns", "kansen_near_areas"]

# the table ``kansparen``: per spanningsgebied and kans pair, largest first
KANSPAREN_COLUMNS = [
    "id",
    KANS.pair_column,
    "sector_a",
    "sector_b",
    "gewicht",
    *KANS.extra_columns,
    "oppervlakte_ha",
    "n_kansen",
    "objecten",
]
# what every spanningsgebied gets: the pairs with hectares, how many kansen, their (weighted) area, ids
AREA_KANS_COLUMNS = ["kansen", "n_kansen", "kans_ha", "gewogen_kans_ha", "kans_ids"]


@dataclass
class AreaKansen:
    """The kansen of a run seen from its spanningsgebieden.

    ``per_area`` is table ``kansparen``; ``columns`` holds :data:`AREA_KANS_COLUMNS` per area
    ``id`` (areas without kansen absent); ``outside`` the kansen near no area, largest first.
    """

    per_area: pd.DataFrame
    columns: pd.DataFrame
    outside: gpd.GeoDataFrame
    merge_distance: float


def _link(areas: gpd.GeoDataFrame, kansen: gpd.GeoDataFrame, merge_distance: float) -> pd.DataFrame:
    """(area ``id``, ``kans_id``) of every kans in or within ``merge_distance`` of an area."""
    if areas.empty or kansen.empty:
        return pd.DataFrame({"id": pd.Series(dtype=object), KANS.id_column: pd.Series(dtype=object)})
    area_i, kans_j = shapely.STRtree(kansen.geometry.values).query(
        areas.geometry.values, predicate="dwithin", distance=merge_distance
    )
    return pd.DataFrame(
        {"id": areas["id"].to_numpy()[area_i], KANS.id_column: kansen[KANS.id_column].to_numpy()[kans_j]}
    )


def _per_area(link: pd.DataFrame, kansen: gpd.GeoDataFrame, herkomst: pd.DataFrame) -> pd.DataFrame:
    """Per (area, kans pair): hectares (kansen of one pair never overlap), count and features."""
    if link.empty:
        return pd.DataFrame(columns=KANSPAREN_COLUMNS)
    zones = link.merge(kansen.drop(columns="geometry"), on=KANS.id_column)
    zones["groep"] = zones["id"] + "\n" + zones[KANS.pair_column]
    keys = ["id", KANS.pair_column, "sector_a", "sector_b", "gewicht", *KANS.extra_columns]
    table = zones.groupby(keys, sort=False).agg(
        oppervlakte_ha=("oppervlakte_m2", lambda m2: m2.sum() / HECTARE),
        n_kansen=(KANS.id_column, "size"),
        groep=("groep", "first"),
    )
    rows = herkomst[herkomst["soort"] == KANS.soort].merge(
        zones[[KANS.id_column, "groep"]], left_on=ZONE_ID, right_on=KANS.id_column
    )
    table["objecten"] = table["groep"].map(objects_text(ordered_features(rows, "groep"), "groep")).fillna("")
    table = table.reset_index().sort_values(["id", "oppervlakte_ha"], ascending=[True, False])
    return table[KANSPAREN_COLUMNS].reset_index(drop=True)


def _columns(link: pd.DataFrame, per_area: pd.DataFrame, kansen: gpd.GeoDataFrame) -> pd.DataFrame:
    """:data:`AREA_KANS_COLUMNS` per area id: ``kans_ha`` counts ground where kansen of two
    pairs overlap once; ``gewogen_kans_ha`` weighs each pair's hectares by its weight."""
    by_area = per_area.groupby("id", sort=False)
    geoms = pd.Series(kansen.geometry.values, index=kansen[KANS.id_column])
    by_link = link.groupby("id")[KANS.id_column]
    weighted = per_area["oppervlakte_ha"] * per_area["gewicht"]
    table = pd.DataFrame(
        {
            "kansen": by_area.apply(
                lambda group: "; ".join(
                    f"{pair}: {hectares(ha)}"
                    for pair, ha in zip(group[KANS.pair_column], group["oppervlakte_ha"], strict=True)
                )
            ),
            "n_kansen": by_area["n_kansen"].sum(),
            "kans_ha": by_link.agg(lambda ids: shapely.union_all(geoms.loc[ids].to_numpy()).area / HECTARE),
            "gewogen_kans_ha": weighted.groupby(per_area["id"]).sum(),
            "kans_ids": by_link.agg(lambda ids: "; ".join(sorted(ids))),
        }
    )
    return table[AREA_KANS_COLUMNS]


def kansen_near_areas(
    areas: gpd.GeoDataFrame, kansen: gpd.GeoDataFrame, herkomst: pd.DataFrame, merge_distance: float
) -> AreaKansen:
    """Which kansen (the run's ``kansen`` layer, with its ``herkomst``) lie in or within
    ``merge_distance`` of which spanningsgebied (with ``id``), and which near none."""
    link = _link(areas, kansen, merge_distance)
    per_area = _per_area(link, kansen, herkomst)
    columns = _columns(link, per_area, kansen) if len(link) else pd.DataFrame(columns=AREA_KANS_COLUMNS)
    outside = kansen[~kansen[KANS.id_column].isin(link[KANS.id_column])]
    outside = outside.sort_values(["oppervlakte_m2", KANS.id_column], ascending=[False, True])
    return AreaKansen(per_area, columns, outside.reset_index(drop=True), merge_distance)


def add_kansen_columns(areas: gpd.GeoDataFrame, kansen: AreaKansen | None) -> None:
    """Add :data:`AREA_KANS_COLUMNS` to ``areas``: ``kansen`` (``a×b: 1.2 ha; …``), how many,
    their area, their hectares times the pair's weight, and their ids; none without kansen."""
    columns = kansen.columns if kansen is not None else pd.DataFrame(columns=AREA_KANS_COLUMNS)
    found = columns.astype(object).reindex(areas["id"])
    found = found.fillna(dict(zip(AREA_KANS_COLUMNS, ["", 0, 0.0, 0.0, ""], strict=True)))
    found = found.astype({"n_kansen": np.int64, "kans_ha": float, "gewogen_kans_ha": float})
    for column in AREA_KANS_COLUMNS:
        areas[column] = found[column].to_numpy()
