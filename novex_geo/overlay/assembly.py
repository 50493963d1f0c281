"""Assembling the tasks' results: faces merged across tile lines, schuurpunten and provenance.

The tile grid is the engine's unit of work, not something the user sees: faces of one
provincie with the same sector set that meet across a tile line are merged into one, so a
face is a maximal connected region with a constant sector set. Schuurpunt pieces that meet
across a tile line are merged likewise and keep the provenance of every piece.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from novex_geo.config import ConflictPair
from novex_geo.geometry import polygons
from novex_geo.overlay.geometry import NODING_GRID, on_tile_edge, stable_order

__all__ = ["FACE_COLUMNS", "HERKOMST_COLUMNS", "ZONE_COLUMNS", "assemble_faces", "assemble_zones"]

FACE_COLUMNS = ["vlak_id", "provincie", "sectoren", "n_sectoren", "oppervlakte_m2"]
ZONE_COLUMNS = [
    "schuurpunt_id", "conflict", "sector_a", "sector_b", "afstand_m", "gewicht", "provincie",
    "oppervlakte_m2", "n_features_a", "n_features_b", "feature_ids_a", "feature_ids_b", "labels_a",
    "labels_b",
]  # fmt: skip
HERKOMST_COLUMNS = ["schuurpunt_id", "kant", "sector", "feature_id", "label"]


def _union_faces(geoms: np.ndarray) -> np.ndarray:
    """The connected parts of the union of non-overlapping faces.

    Faces meet along shared edges, so the fast coverage union applies; its result is checked
    (valid, same area) and otherwise replaced by a union on the noding grid, which is exact
    because the faces are snap-rounded to that grid.
    """
    try:
        merged = shapely.coverage_union_all(geoms)
        total = float(shapely.area(geoms).sum())
        if shapely.is_valid(merged) and abs(merged.area - total) <= 1e-12 * total:
            return polygons(merged)
    except GEOSException:
        pass
    return polygons(shapely.union_all(geoms, grid_size=NODING_GRID))


def _merge_faces(frame: pd.DataFrame) -> pd.DataFrame:
    """Union the faces on tile edges per (provincie, mask) and split them into connected parts."""
    edge = frame["on_edge"].to_numpy()
    merged = [frame.loc[~edge, ["provincie", "mask", "geometry"]]]
    for (provincie, mask), group in frame[edge].groupby(["provincie", "mask"], sort=False):
        geoms = group["geometry"].to_numpy()
        parts = _union_faces(geoms) if len(geoms) > 1 else geoms
        merged.append(pd.DataFrame({"provincie": provincie, "mask": mask, "geometry": parts}))
    return pd.concat(merged, ignore_index=True)


def assemble_faces(pieces: list[pd.DataFrame], sectors: list[str], crs) -> gpd.GeoDataFrame:
    """The stapeling layer from the tasks' faces (columns ``provincie``, ``mask``, ``geometry``,
    ``on_edge``): merged across tiles, with stable ``vlak_id``s and one 0/1 column per sector."""
    if not pieces:
        return gpd.GeoDataFrame(columns=[*FACE_COLUMNS, *sectors], geometry=[], crs=crs)
    frame = _merge_faces(pd.concat(pieces, ignore_index=True))
    geoms = frame["geometry"].to_numpy()
    order = np.lexsort((stable_order(geoms).argsort(), frame["provincie"]))
    frame = frame.iloc[order].reset_index(drop=True)
    masks = frame["mask"].to_numpy()
    bits = np.array([(masks >> i) & 1 for i in range(len(sectors))], dtype=np.int8).reshape(len(sectors), -1)
    labels = {
        mask: "+".join(sorted(s for i, s in enumerate(sectors) if mask >> i & 1)) for mask in np.unique(masks)
    }
    rank = frame.groupby("provincie").cumcount().to_numpy() + 1
    return gpd.GeoDataFrame(
        {
            "vlak_id": frame["provincie"].str.cat(pd.Series(rank).astype(str).str.zfill(6), sep="/"),
            "provincie": frame["provincie"],
            "sectoren": frame["mask"].map(labels),
            "n_sectoren": bits.sum(axis=0).astype(np.int64),
            "oppervlakte_m2": shapely.area(frame["geometry"].to_numpy()),
            **{sector: bits[i] for i, sector in enumerate(sectors)},
        },
        geometry=frame["geometry"].to_numpy(),
        crs=crs,
    )


def face_frame(spec, geoms: np.ndarray, masks: np.ndarray) -> pd.DataFrame:
    """One task's faces as rows for :func:`assemble_faces`."""
    return pd.DataFrame(
        {
            "provincie": spec.provincie,
            "mask": masks,
            "geometry": geoms,
            "on_edge": on_tile_edge(geoms, np.tile(spec.bounds, (len(geoms), 1))),
        }
    )


def _merge_zones(zones: pd.DataFrame, prov_a: pd.DataFrame, prov_b: pd.DataFrame):
    """Union schuurpunt pieces that touch a tile edge, per (provincie, pair).

    A piece hands its provenance to every merged part it overlaps, and at least to the part
    it overlaps most (a sliver piece may only touch its part).
    """
    edge = zones["on_edge"].to_numpy()
    merged_rows = [zones[~edge]]
    links = [pd.DataFrame({"piece": zones.loc[~edge, "piece"], "new": zones.loc[~edge, "piece"]})]
    next_id = int(zones["piece"].max()) + 1 if len(zones) else 0
    for (provincie, pair), group in zones[edge].groupby(["provincie", "pair"], sort=True):
        pieces = group["geometry"].to_numpy()
        parts = polygons(shapely.union_all(pieces)) if len(pieces) > 1 else pieces
        piece_i, part_j = shapely.STRtree(parts).query(pieces, predicate="intersects")
        overlap = shapely.area(shapely.intersection(pieces[piece_i], parts[part_j]))
        candidates = pd.DataFrame({"i": piece_i, "j": part_j, "overlap": overlap})
        best = candidates.sort_values("overlap").groupby("i").tail(1)
        chosen = pd.concat([candidates[candidates["overlap"] > 0], best]).drop_duplicates(["i", "j"])
        piece_ids = group["piece"].to_numpy()[chosen["i"].to_numpy()]
        links.append(pd.DataFrame({"piece": piece_ids, "new": next_id + chosen["j"].to_numpy()}))
        merged_rows.append(
            pd.DataFrame(
                {
                    "piece": next_id + np.arange(len(parts)),
                    "provincie": provincie,
                    "pair": pair,
                    "geometry": parts,
                    "on_edge": True,
                }
            )
        )
        next_id += len(parts)
    link = pd.concat(links, ignore_index=True)

    def relink(prov: pd.DataFrame) -> pd.DataFrame:
        moved = prov.merge(link, on="piece")[["new", "row"]].rename(columns={"new": "piece"})
        return moved.drop_duplicates()

    return pd.concat(merged_rows, ignore_index=True), relink(prov_a), relink(prov_b)


def _pair_table(conflicts: Sequence[ConflictPair]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair": range(len(conflicts)),
            "conflict": [pair.key for pair in conflicts],
            "sector_a": [pair.a for pair in conflicts],
            "sector_b": [pair.b for pair in conflicts],
            "afstand_m": [pair.distance for pair in conflicts],
            "gewicht": [pair.weight for pair in conflicts],
        }
    )


def _herkomst(frame: pd.DataFrame, pa, pb, claims: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """One row per (schuurpunt, side, feature) with the feature's id and label."""
    sides = []
    for side, prov, sector_column in (("a", pa, "sector_a"), ("b", pb, "sector_b")):
        table = prov.merge(frame[["piece", "schuurpunt_id", sector_column]], on="piece")
        table = table.rename(columns={sector_column: "sector"})
        parts = []
        for sector, group in table.groupby("sector", sort=False):
            rows = group["row"].to_numpy()
            source = claims[sector]
            # take the rows first: converting a whole column of millions of labels costs seconds
            parts.append(
                group.assign(
                    feature_id=source["feature_id"].take(rows).to_numpy(),
                    label=source["label"].take(rows).astype(str).to_numpy(),
                )
            )
        side_table = pd.concat(parts, ignore_index=True) if parts else table.assign(feature_id=[], label=[])
        sides.append(side_table.assign(kant=side))
    herkomst = pd.concat(sides, ignore_index=True).sort_values(["schuurpunt_id", "kant", "feature_id"])
    return herkomst[HERKOMST_COLUMNS].reset_index(drop=True)


def _joined(table: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of the rows of each ``schuurpunt_id`` joined with ``"; "``; ``table`` is sorted
    by ``schuurpunt_id`` (a split at the boundaries: no per-group pandas machinery)."""
    keys = table["schuurpunt_id"].to_numpy()
    values = table[column].astype(str).to_list()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(keys)]
    return pd.Series(["; ".join(values[a:b]) for a, b in zip(starts, ends, strict=True)], index=keys[starts])


def assemble_zones(zones, prov_a, prov_b, claims, conflicts, min_area_m2, crs):
    """The schuurpunten layer and ``herkomst`` table from the tasks' pieces.

    Returns
    -------
    schuurpunten, herkomst, number of dropped slivers, their area in m²
    """
    if not zones:
        empty = gpd.GeoDataFrame(columns=ZONE_COLUMNS, geometry=[], crs=crs)
        return empty, pd.DataFrame(columns=HERKOMST_COLUMNS), 0, 0.0
    frame, pa, pb = _merge_zones(
        pd.concat(zones, ignore_index=True),
        pd.concat(prov_a, ignore_index=True),
        pd.concat(prov_b, ignore_index=True),
    )
    frame["oppervlakte_m2"] = shapely.area(frame["geometry"].to_numpy())
    small = frame["oppervlakte_m2"] < min_area_m2
    dropped, dropped_area = int(small.sum()), float(frame.loc[small, "oppervlakte_m2"].sum())
    frame = frame[~small].merge(_pair_table(conflicts), on="pair")
    order = np.lexsort(
        (stable_order(frame["geometry"].to_numpy()).argsort(), frame["provincie"], frame["pair"])
    )
    frame = frame.iloc[order].reset_index(drop=True)
    rank = frame.groupby(["pair", "provincie"]).cumcount() + 1
    frame["schuurpunt_id"] = (
        frame["sector_a"] + "×" + frame["sector_b"] + "/" + frame["provincie"] + "/"
        + rank.astype(str).str.zfill(4)
    )  # fmt: skip
    herkomst = _herkomst(frame, pa, pb, claims)
    for side in ("a", "b"):
        rows = herkomst[herkomst["kant"] == side]
        frame[f"n_features_{side}"] = (
            frame["schuurpunt_id"].map(rows.groupby("schuurpunt_id").size()).fillna(0)
        )
        frame[f"n_features_{side}"] = frame[f"n_features_{side}"].astype(np.int64)
        frame[f"feature_ids_{side}"] = frame["schuurpunt_id"].map(_joined(rows, "feature_id")).fillna("")
        frame[f"labels_{side}"] = frame["schuurpunt_id"].map(_joined(rows, "label")).fillna("")
    result = gpd.GeoDataFrame(frame[ZONE_COLUMNS], geometry=frame["geometry"].to_numpy(), crs=crs)
    return result, herkomst, dropped, dropped_area


def zone_frame(spec, geoms: np.ndarray, pairs: np.ndarray, first_piece: int) -> pd.DataFrame:
    """One task's schuurpunt pieces as rows for :func:`assemble_zones`."""
    return pd.DataFrame(
        {
            "piece": first_piece + np.arange(len(geoms)),
            "provincie": spec.provincie,
            "pair": pairs,
            "geometry": geoms,
            "on_edge": on_tile_edge(geoms, np.tile(spec.bounds, (len(geoms), 1))),
        }
    )
