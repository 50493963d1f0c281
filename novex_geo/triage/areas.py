"""Spanningsgebieden: schuurpunten and high stapeling merged into contiguous areas.

Schuurpunten and stapeling faces with at least ``min_stapeling`` sectors that lie within
``merge_distance`` of each other (also across a provincial border) are merged into one area.
Its id is derived from its geometry (rounded to 1 m), so re-running on the same data gives the
same id and an edit elsewhere does not renumber it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import SCHUURPUNT, ZONE_ID, ConflictPair, Triage
from novex_geo.units import HECTARE, hectares

__all__ = [
    "FEATURES",
    "PAIR_COLUMNS",
    "area_id",
    "label_text",
    "listing",
    "natural_key",
    "objects_text",
    "ordered_features",
    "spanningsgebieden",
    "zone_labels",
]

MAX_LISTED = 8
FEATURES = "_objecten"  # internal column: (sector, label, m², feature id) per feature, for naming
PAIR_COLUMNS = ["id", "conflict", "sector_a", "sector_b", "gewicht", "oppervlakte_ha"]
_WHOLE_NUMBER = re.compile(r"(-?\d+)\.0+")
_DIGITS = re.compile(r"(\d+)")


def area_id(geom) -> str:
    """A stable id from the geometry rounded to 1 m."""
    rounded = shapely.normalize(shapely.set_precision(geom, 1.0))
    return "SG-" + hashlib.blake2b(shapely.to_wkb(rounded), digest_size=5).hexdigest()


def label_text(value: object) -> str:
    """A feature label as people typed it: a number read as a float (``13.0``) shows as ``13``."""
    text = str(value)
    whole = _WHOLE_NUMBER.fullmatch(text)
    return whole.group(1) if whole else text


def natural_key(text: str) -> tuple:
    """Sort key that orders the numbers inside labels by value: ``perceel 9`` before ``perceel 13``."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
        for part in _DIGITS.split(str(text))
        if part
    )


def listing(values: Sequence[str], limit: int = MAX_LISTED) -> str:
    """The distinct values, comma-separated, at most ``limit`` of them and how many more."""
    values = list(dict.fromkeys(v for v in values if v))
    shown = ", ".join(values[:limit])
    return shown + (f" + {len(values) - limit} meer" if len(values) > limit else "")


def zone_labels(labels: object, limit: int = 4) -> str:
    """A zone's ``labels_a`` or ``labels_b`` (``; ``-joined by the engine) as people typed the
    labels, shortened: ``Plan 9, Plan 13 + 2 meer``."""
    return listing([label_text(v) for v in str(labels).split("; ")], limit)


def _members(stapeling, schuurpunten, settings: Triage) -> pd.DataFrame:
    """Schuurpunten and high-stapeling faces as one table of candidate members."""
    faces = stapeling[stapeling["n_sectoren"] >= settings.min_stapeling]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "ref": schuurpunten[SCHUURPUNT.id_column],
                    "provincie": schuurpunten["provincie"],
                    "conflict": schuurpunten["conflict"],
                    "sector_a": schuurpunten["sector_a"],
                    "sector_b": schuurpunten["sector_b"],
                    "gewicht": schuurpunten["gewicht"],
                    "afstand_m": schuurpunten["afstand_m"],
                    "sectoren": schuurpunten["sector_a"] + "+" + schuurpunten["sector_b"],
                    "geometry": schuurpunten.geometry.values,
                }
            ),
            pd.DataFrame(
                {
                    "ref": faces["vlak_id"],
                    "provincie": faces["provincie"],
                    "conflict": "",
                    "sector_a": "",
                    "sector_b": "",
                    "gewicht": 0.0,
                    "afstand_m": 0.0,
                    "sectoren": faces["sectoren"],
                    "geometry": faces.geometry.values,
                }
            ),
        ],
        ignore_index=True,
    )


def _clusters(geoms: np.ndarray, merge_distance: float) -> np.ndarray:
    """Cluster number per member: members within ``merge_distance`` of each other share one."""
    half = merge_distance / 2
    blobs = shapely.get_parts(shapely.union_all(shapely.buffer(geoms, half, quad_segs=4) if half else geoms))
    member, blob = shapely.STRtree(blobs).query(shapely.point_on_surface(geoms), predicate="within")
    cluster = np.full(len(geoms), -1)
    cluster[member] = blob
    return cluster


def spanningsgebieden(
    stapeling: gpd.GeoDataFrame,
    schuurpunten: gpd.GeoDataFrame,
    herkomst: pd.DataFrame,
    conflicts: Sequence[ConflictPair],
    settings: Triage,
    min_face_m2: float = 0.0,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Merge schuurpunten and high-stapeling faces within ``merge_distance`` into areas.

    Faces smaller than ``min_face_m2`` (the project's ``[conflicts] min_area_m2``, below which
    schuurpunten are slivers too) make no area: where the boundaries of real layers almost
    coincide the exact overlay leaves faces of a few cm².

    Returns
    -------
    areas : one row per spanningsgebied with its statistics and provenance, plus the internal
        column :data:`FEATURES` that :func:`~novex_geo.triage.evaluate.evaluate_criteria`
        names the areas from (and drops)
    pairs : the conflict area per (spanningsgebied, pair), columns :data:`PAIR_COLUMNS`,
        largest first — the data behind the ``conflicten`` text
    """
    crs = stapeling.crs if stapeling.crs is not None else schuurpunten.crs
    members = _members(stapeling[stapeling.area >= min_face_m2], schuurpunten, settings)
    if members.empty:
        return _no_areas(crs), pd.DataFrame(columns=PAIR_COLUMNS)
    members["cluster"] = _clusters(members["geometry"].to_numpy(), settings.merge_distance)
    zones = members[members["conflict"] != ""]
    areas = gpd.GeoDataFrame(members[["cluster", "geometry"]], geometry="geometry", crs=crs).dissolve(
        "cluster"
    )
    areas["id"] = [area_id(geom) for geom in areas.geometry.values]
    areas["oppervlakte_ha"] = areas.area / HECTARE
    grouped = members.groupby("cluster")
    areas["provincies"] = grouped["provincie"].agg(lambda s: ", ".join(sorted(set(s))))
    areas["n_provincies"] = grouped["provincie"].nunique()
    areas["sectoren"] = grouped["sectoren"].agg(
        lambda s: "+".join(sorted({x for v in s for x in v.split("+")}))
    )
    areas["n_sectoren_betrokken"] = areas["sectoren"].str.count(r"\+") + 1
    pairs = _pair_table(zones)
    _conflict_stats(areas, zones, pairs, conflicts)
    _stapeling_stats(areas, stapeling)
    _provenance(areas, members, herkomst)
    _same_conflict(areas, members, herkomst)
    areas = areas.reset_index()
    pairs = pairs.merge(areas[["cluster", "id"]], on="cluster")[PAIR_COLUMNS]
    return areas.drop(columns="cluster"), pairs.reset_index(drop=True)


def _conflict_stats(
    areas: gpd.GeoDataFrame, zones: pd.DataFrame, pairs: pd.DataFrame, conflicts: Sequence[ConflictPair]
) -> None:
    """Per area its conflict pairs with hectares, the conflict and weighted hectares, schuurpunten."""
    by_area = pairs.groupby("cluster")
    weights = {pair.key: pair.weight for pair in conflicts}
    listed = {
        cluster: "; ".join(
            f"{c}: {hectares(ha)}" for c, ha in zip(g["conflict"], g["oppervlakte_ha"], strict=True)
        )
        for cluster, g in by_area
    }
    areas["conflicten"] = [listed.get(cluster, "") for cluster in areas.index]
    areas["n_conflictparen"] = by_area.size().reindex(areas.index, fill_value=0)
    # where the zones of two pairs overlap, that ground is one hectare of conflict, not two
    areas["conflict_ha"] = _union_ha(zones, ["cluster"]).reindex(areas.index, fill_value=0.0)
    weighted = pairs["oppervlakte_ha"] * pairs["conflict"].map(weights)
    areas["gewogen_conflict_ha"] = (
        weighted.groupby(pairs["cluster"]).sum().reindex(areas.index, fill_value=0.0)
    )
    areas["n_schuurpunten"] = zones.groupby("cluster").size().reindex(areas.index, fill_value=0)


# the columns of a spanningsgebieden table before evaluation, and their types
_AREA_COLUMNS = {
    "id": str,
    "oppervlakte_ha": float,
    "provincies": str,
    "n_provincies": int,
    "sectoren": str,
    "n_sectoren_betrokken": int,
    "conflicten": str,
    "n_conflictparen": int,
    "conflict_ha": float,
    "gewogen_conflict_ha": float,
    "n_schuurpunten": int,
    "max_stapeling": int,
    "gem_stapeling": float,
    "objecten": str,
    "n_objecten": int,
    "feature_ids": str,
    "samenhang": str,
    FEATURES: object,
}


def _no_areas(crs) -> gpd.GeoDataFrame:
    """A project without schuurpunten: the table of spanningsgebieden with no rows, every column."""
    columns = {name: pd.Series(dtype=kind) for name, kind in _AREA_COLUMNS.items()}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=crs))


def _union_ha(zones: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Hectares of the union of ``zones`` per group of ``keys``: overlapping zones count once."""
    if zones.empty:
        return pd.Series(dtype=float)
    merged = gpd.GeoDataFrame(zones[[*keys, "geometry"]], geometry="geometry").dissolve(keys)
    return merged.area / HECTARE


def _pair_table(zones: pd.DataFrame) -> pd.DataFrame:
    """Hectares per (area, pair), the union of the pair's schuurpunten in the area."""
    keys = ["cluster", "conflict", "sector_a", "sector_b", "gewicht"]
    table = _union_ha(zones, keys).rename("oppervlakte_ha").reset_index()
    if table.empty:
        return pd.DataFrame(columns=[*keys, "oppervlakte_ha"])
    return table.sort_values(["cluster", "oppervlakte_ha"], ascending=[True, False]).reset_index(drop=True)


def _stapeling_stats(areas: gpd.GeoDataFrame, stapeling: gpd.GeoDataFrame) -> None:
    """Max and area-weighted mean ``n_sectoren`` of the stapeling inside each area."""
    area_i, face_j = shapely.STRtree(stapeling.geometry.values).query(
        areas.geometry.values, predicate="intersects"
    )
    overlap = shapely.area(
        shapely.intersection(areas.geometry.values[area_i], stapeling.geometry.values[face_j])
    )
    table = pd.DataFrame({"area": area_i, "n": stapeling["n_sectoren"].to_numpy()[face_j], "m2": overlap})
    table = table[table["m2"] > 0]
    index = np.arange(len(areas))
    areas["max_stapeling"] = table.groupby("area")["n"].max().reindex(index, fill_value=0).to_numpy()
    mean = (table["n"] * table["m2"]).groupby(table["area"]).sum() / table.groupby("area")["m2"].sum()
    areas["gem_stapeling"] = mean.reindex(index, fill_value=0.0).round(2).to_numpy()


def ordered_features(rows: pd.DataFrame, group: str) -> pd.DataFrame:
    """``herkomst`` rows with a ``group`` column: each feature once per group, labels as people
    typed them, ordered by group, sector and label (numbers in labels by value)."""
    rows = rows.drop_duplicates([group, "feature_id"]).assign(label=lambda t: t["label"].map(label_text))
    order = sorted(
        range(len(rows)),
        key=lambda i: (rows[group].iat[i], rows["sector"].iat[i], natural_key(rows["label"].iat[i])),
    )
    return rows.iloc[order]


def objects_text(rows: pd.DataFrame, group: str) -> pd.Series:
    """Per group the features by sector, ``sector: label, label | sector: label`` (from
    :func:`ordered_features`)."""
    per_sector = rows.groupby([group, "sector"])["label"].agg(lambda s: listing(list(s)))
    return per_sector.groupby(level=0).apply(
        lambda s: " | ".join(f"{sector}: {labels}" for (_, sector), labels in s.items())
    )


def _provenance(areas: gpd.GeoDataFrame, members: pd.DataFrame, herkomst: pd.DataFrame) -> None:
    rows = herkomst[herkomst["soort"] == SCHUURPUNT.soort]
    rows = rows.merge(members[["ref", "cluster"]], left_on=ZONE_ID, right_on="ref")
    rows = ordered_features(rows, "cluster")
    areas["objecten"] = objects_text(rows, "cluster").reindex(areas.index, fill_value="")
    areas["n_objecten"] = rows.groupby("cluster").size().reindex(areas.index, fill_value=0)
    areas["feature_ids"] = (
        rows.groupby("cluster")["feature_id"].agg("; ".join).reindex(areas.index, fill_value="")
    )
    # (sector, label, m² of its schuurpunten here, feature id) of every feature, for naming;
    # evaluate_criteria uses and drops it
    zones = herkomst[herkomst["soort"] == SCHUURPUNT.soort].merge(
        members[["ref", "cluster", "geometry"]], left_on=ZONE_ID, right_on="ref"
    )
    zones = zones.assign(
        m2=shapely.area(np.asarray(zones["geometry"].to_numpy(), dtype=object)),
        label=zones["label"].map(label_text),
    )
    weight = zones.groupby(["cluster", "sector", "label", "feature_id"])["m2"].sum().reset_index()
    features = {
        cluster: list(zip(g["sector"], g["label"], g["m2"], g["feature_id"], strict=True))
        for cluster, g in weight.groupby("cluster")
    }
    areas[FEATURES] = [features.get(cluster, []) for cluster in areas.index]


def _same_conflict(areas: gpd.GeoDataFrame, members: pd.DataFrame, herkomst: pd.DataFrame) -> None:
    """``samenhang``: per area the ids of the other areas where the same two features collide
    at a distance. The two sides of a schuurpunt at a distance (A's part near B, B's part near
    A) can lie farther apart than ``merge_distance``, and then make two areas of one conflict."""
    far = members.loc[members["afstand_m"] > 0, ["ref", "cluster"]]
    rows = herkomst[herkomst["soort"] == SCHUURPUNT.soort].merge(far, left_on=ZONE_ID, right_on="ref")
    sides = rows[rows["kant"] == "a"].merge(rows[rows["kant"] == "b"], on=["ref", "cluster"])
    combos = sides[["cluster", "feature_id_x", "feature_id_y"]].drop_duplicates()
    links = combos.merge(combos, on=["feature_id_x", "feature_id_y"], suffixes=("", "_ander"))
    links = links[links["cluster"] != links["cluster_ander"]].drop_duplicates(["cluster", "cluster_ander"])
    others = links.assign(ander=areas["id"].reindex(links["cluster_ander"]).to_numpy())
    linked = others.groupby("cluster")["ander"].agg(lambda ids: "; ".join(sorted(ids)))
    areas["samenhang"] = linked.reindex(areas.index, fill_value="")
