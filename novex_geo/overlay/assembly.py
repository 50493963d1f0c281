"""Assembling the tasks' results: faces merged across tile lines, zones and provenance.

The tile grid is the engine's unit of work, not something the user sees: faces of one
provincie with the same sector set that meet across a tile line are merged into one, so a
face is a maximal connected region with a constant sector set. Zone pieces (schuurpunten and
kansen alike) that meet across a tile line are merged likewise and keep the provenance of
every piece; then each kind of zone gets its own layer and ids, and one ``herkomst`` table
holds the provenance of both, told apart by ``soort``.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import KANS, SCHUURPUNT, ZONE_ID, ZONE_KINDS, SectorPair, ZoneKind
from novex_geo.geometry import available_cores
from novex_geo.overlay.geometry import on_tile_edge, stable_order, union_coverage
from novex_geo.overlay.merge import Merged, merge_across_tiles

__all__ = [
    "FACE_COLUMNS",
    "HERKOMST_COLUMNS",
    "KANS_COLUMNS",
    "ZONE_COLUMNS",
    "TaskRows",
    "Zones",
    "assemble_faces",
    "assemble_zones",
    "zone_columns",
]

FACE_COLUMNS = ["vlak_id", "provincie", "sectoren", "n_sectoren", "oppervlakte_m2"]
HERKOMST_COLUMNS = ["soort", ZONE_ID, "kant", "sector", "feature_id", "label"]


def zone_columns(kind: ZoneKind) -> list[str]:
    """The columns of the layer of one kind of zone (``schuurpunten`` or ``kansen``)."""
    return [
        kind.id_column,
        kind.pair_column,
        "sector_a",
        "sector_b",
        "afstand_m",
        "gewicht",
        *kind.extra_columns,
        "provincie",
        "oppervlakte_m2",
        "n_features_a",
        "n_features_b",
        "feature_ids_a",
        "feature_ids_b",
        "labels_a",
        "labels_b",
    ]


ZONE_COLUMNS = zone_columns(SCHUURPUNT)
KANS_COLUMNS = zone_columns(KANS)


TILE_BOUNDS = ["tile_xmin", "tile_ymin", "tile_xmax", "tile_ymax"]


def _merged(frame: pd.DataFrame, keys: list[str], union) -> tuple[pd.DataFrame, Merged]:
    """The pieces of ``frame`` on tile edges merged per ``keys`` where they meet across a tile
    line (:mod:`novex_geo.overlay.merge`), with the keys of the piece each part came from."""
    codes = frame.groupby(keys, sort=False).ngroup().to_numpy()
    merged = merge_across_tiles(frame["geometry"].to_numpy(), frame[TILE_BOUNDS].to_numpy(), codes, union)
    rows = frame[keys].iloc[merged.source].reset_index(drop=True).assign(geometry=merged.parts)
    return rows, merged


def _merge_faces(frame: pd.DataFrame) -> pd.DataFrame:
    """Faces of one provincie and sector set that meet across a tile line merged into one.

    The provinces are merged in a thread per core: the unions release the GIL, and the zones,
    assembled beside the faces, take less time.
    """
    edge = frame["on_edge"].to_numpy()
    on_edge = frame[edge]
    groups = _balanced(on_edge["provincie"], available_cores())
    with ThreadPoolExecutor(max_workers=len(groups) or 1, thread_name_prefix="novex-faces") as pool:
        merged = pool.map(
            lambda rows: _merged(on_edge[rows], ["provincie", "mask"], union_coverage)[0], groups
        )
        return pd.concat([frame.loc[~edge, ["provincie", "mask", "geometry"]], *merged], ignore_index=True)


def _balanced(provincie: pd.Series, n: int) -> list[np.ndarray]:
    """The rows split into at most ``n`` groups of whole provinces with about as many rows each."""
    counts = provincie.value_counts()
    load, members = np.zeros(min(n, len(counts))), [[] for _ in range(min(n, len(counts)))]
    for name, count in counts.items():  # the largest first, each to the lightest group
        lightest = int(np.argmin(load))
        load[lightest] += count
        members[lightest].append(name)
    return [provincie.isin(names).to_numpy() for names in members]


def assemble_faces(faces: pd.DataFrame | None, sectors: list[str], crs) -> gpd.GeoDataFrame:
    """The stapeling layer from the tasks' faces (columns ``provincie``, ``mask``, ``geometry``,
    ``on_edge``): merged across tiles, with stable ``vlak_id``s and one 0/1 column per sector."""
    if faces is None:
        return gpd.GeoDataFrame(columns=[*FACE_COLUMNS, *sectors], geometry=[], crs=crs)
    frame = _merge_faces(faces)
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


def _chosen_links(pieces: np.ndarray, merged: Merged) -> np.ndarray:
    """The links (piece, part) along which a piece hands on its provenance: to the one part of
    its component, and where a component came apart in several parts, to every part the piece
    overlaps and at least to the part it overlaps most (a sliver piece may only touch it)."""
    links = merged.links
    several = np.bincount(links[:, 0], minlength=len(pieces))[links[:, 0]] > 1
    candidates = links[several]
    overlap = shapely.area(shapely.intersection(pieces[candidates[:, 0]], merged.parts[candidates[:, 1]]))
    table = pd.DataFrame({"i": candidates[:, 0], "j": candidates[:, 1], "overlap": overlap})
    best = table.sort_values("overlap", kind="stable").groupby("i").tail(1)
    chosen = pd.concat([table[table["overlap"] > 0], best]).drop_duplicates(["i", "j"])
    return np.concatenate([links[~several], chosen[["i", "j"]].to_numpy(dtype=np.int64).reshape(-1, 2)])


def _merge_zones(zones: pd.DataFrame, prov_a: pd.DataFrame, prov_b: pd.DataFrame):
    """Zone pieces of one provincie and pair that meet across a tile line merged into one; the
    provenance of the pieces relinked to the zones they became part of."""
    edge = zones["on_edge"].to_numpy()
    on_edge = zones[edge]
    rows, merged = _merged(on_edge, ["provincie", "pair"], functools.partial(shapely.union_all, axis=1))
    next_id = int(zones["piece"].max()) + 1
    rows = rows.assign(piece=next_id + np.arange(len(rows)), on_edge=True)
    chosen = _chosen_links(on_edge["geometry"].to_numpy(), merged)
    inside = zones.loc[~edge, "piece"].to_numpy()
    link = pd.DataFrame(
        {
            "piece": np.concatenate([inside, on_edge["piece"].to_numpy()[chosen[:, 0]]]),
            "new": np.concatenate([inside, next_id + chosen[:, 1]]),
        }
    )

    def relink(prov: pd.DataFrame) -> pd.DataFrame:
        moved = prov.merge(link, on="piece")[["new", "row"]].rename(columns={"new": "piece"})
        return moved.drop_duplicates()

    merged_rows = pd.concat([zones.loc[~edge, ["piece", "provincie", "pair", "geometry", "on_edge"]], rows])
    return merged_rows.reset_index(drop=True), relink(prov_a), relink(prov_b)


def _pair_table(pairs: Sequence[SectorPair], min_area_m2: Mapping[str, float]) -> pd.DataFrame:
    """Per pair (by its index in ``pairs``) its kind, sectors, distance, weight, the columns
    only its kind has, and the size below which its zones are dropped."""
    extra = {
        column: [getattr(pair, column, "") for pair in pairs]
        for column in dict.fromkeys(c for kind in ZONE_KINDS for c in kind.extra_columns)
    }
    return pd.DataFrame(
        {
            "pair": range(len(pairs)),
            "soort": [pair.kind.soort for pair in pairs],
            "id_prefix": [pair.kind.id_prefix for pair in pairs],
            "paar": [pair.key for pair in pairs],
            "sector_a": [pair.a for pair in pairs],
            "sector_b": [pair.b for pair in pairs],
            "afstand_m": [float(pair.distance) for pair in pairs],
            "gewicht": [float(pair.weight) for pair in pairs],
            "minimum_m2": [min_area_m2.get(pair.kind.soort, 0.0) for pair in pairs],
            **extra,
        }
    )


def _herkomst(frame: pd.DataFrame, pa, pb, claims: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """One row per (zone, side, feature) with the zone's kind and the feature's id and label, in
    the order of the zones in ``frame`` (by pair, so schuurpunten first, then kansen)."""
    sides = []
    zones = frame[["piece", "sector_a", "sector_b"]].rename_axis("zone").reset_index()
    for side, prov, sector_column in (("a", pa, "sector_a"), ("b", pb, "sector_b")):
        table = prov.merge(zones[["piece", "zone", sector_column]], on="piece")
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
    herkomst = pd.concat(sides, ignore_index=True).sort_values(["zone", "kant", "feature_id"])
    zone = herkomst["zone"].to_numpy()  # the zone's row in frame: sorting integers, not ids, is fast
    herkomst["soort"] = frame["soort"].to_numpy()[zone]
    herkomst[ZONE_ID] = frame[ZONE_ID].to_numpy()[zone]
    return herkomst[HERKOMST_COLUMNS].reset_index(drop=True)


def _joined(table: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of the rows of each zone joined with ``"; "``; ``table`` holds each zone's rows
    together (a split at the boundaries: no per-group pandas machinery)."""
    keys = table[ZONE_ID].to_numpy()
    values = table[column].astype(str).to_list()
    if not len(keys):  # every zone dropped as too small
        return pd.Series([], index=keys, dtype=object)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return pd.Series(["; ".join(values[a:b]) for a, b in zip(starts, ends, strict=True)], index=keys[starts])


@dataclass
class Zones:
    """The zones of every kind: a layer per kind (keyed by ``soort``), the ``herkomst`` of all,
    and per kind the number and total area (m²) of the zones dropped as too small."""

    layers: dict[str, gpd.GeoDataFrame]
    herkomst: pd.DataFrame
    dropped: dict[str, tuple[int, float]]


def _layer(frame: pd.DataFrame, kind: ZoneKind, crs) -> gpd.GeoDataFrame:
    """The zones of one kind under the names of that kind."""
    named = frame.rename(columns={ZONE_ID: kind.id_column, "paar": kind.pair_column}).reset_index(drop=True)
    return gpd.GeoDataFrame(named[zone_columns(kind)], geometry=named["geometry"].to_numpy(), crs=crs)


def assemble_zones(zones, prov_a, prov_b, claims, pairs, min_area_m2: Mapping[str, float], crs) -> Zones:
    """The layer of every kind of zone and the ``herkomst`` table from the tasks' pieces.

    ``zones`` has a row per piece (``piece``, ``provincie``, ``pair``, ``geometry``, ``on_edge``)
    or is None without pieces; ``prov_a`` and ``prov_b`` link pieces to claim rows (``piece``,
    ``row``) on either side of the pair. ``pairs`` are the engine's sector pairs in task order;
    ``min_area_m2`` the size per kind (``soort``) below which a zone is dropped and counted.
    """
    if zones is None:
        empty = {
            kind.soort: gpd.GeoDataFrame(columns=zone_columns(kind), geometry=[], crs=crs)
            for kind in ZONE_KINDS
        }
        return Zones(empty, pd.DataFrame(columns=HERKOMST_COLUMNS), dict.fromkeys(empty, (0, 0.0)))
    frame, pa, pb = _merge_zones(zones, prov_a, prov_b)
    frame["oppervlakte_m2"] = shapely.area(frame["geometry"].to_numpy())
    frame = frame.merge(_pair_table(pairs, min_area_m2), on="pair")
    small = frame["oppervlakte_m2"] < frame["minimum_m2"]
    dropped = {
        kind.soort: (int((small & mine).sum()), float(frame.loc[small & mine, "oppervlakte_m2"].sum()))
        for kind, mine in ((kind, frame["soort"] == kind.soort) for kind in ZONE_KINDS)
    }
    frame = frame[~small]
    order = np.lexsort(
        (stable_order(frame["geometry"].to_numpy()).argsort(), frame["provincie"], frame["pair"])
    )
    frame = frame.iloc[order].reset_index(drop=True)
    rank = frame.groupby(["pair", "provincie"]).cumcount() + 1
    frame[ZONE_ID] = (
        frame["id_prefix"]
        + frame["sector_a"]
        + "×"
        + frame["sector_b"]
        + "/"
        + frame["provincie"]
        + "/"
        + rank.astype(str).str.zfill(4)
    )
    herkomst = _herkomst(frame, pa, pb, claims)
    for side in ("a", "b"):
        rows = herkomst[herkomst["kant"] == side]
        frame[f"n_features_{side}"] = (
            frame[ZONE_ID].map(rows.groupby(ZONE_ID).size()).fillna(0).astype(np.int64)
        )
        frame[f"feature_ids_{side}"] = frame[ZONE_ID].map(_joined(rows, "feature_id")).fillna("")
        frame[f"labels_{side}"] = frame[ZONE_ID].map(_joined(rows, "label")).fillna("")
    layers = {kind.soort: _layer(frame[frame["soort"] == kind.soort], kind, crs) for kind in ZONE_KINDS}
    return Zones(layers, herkomst, dropped)


class TaskRows:
    """Rows from many tasks, gathered as arrays and made into one frame at the end.

    A frame per task costs more in the main process than many a task's own work, and that
    time is taken from the workers on the same cores.
    """

    def __init__(self) -> None:
        self._columns: dict[str, list[np.ndarray]] = defaultdict(list)
        self._tile_bounds: list[np.ndarray] = []
        self.count = 0

    def add(self, spec, geoms: np.ndarray, **columns: np.ndarray) -> None:
        """The rows of one task: its ``geoms`` and one value per geometry in each column."""
        n = len(geoms)
        self._columns["provincie"].append(np.full(n, spec.provincie, dtype=object))
        for name, values in columns.items():
            self._columns[name].append(np.asarray(values))
        self._columns["geometry"].append(geoms)
        self._tile_bounds.append(np.broadcast_to(np.asarray(spec.bounds, dtype=float), (n, 4)))
        self.count += n

    def frame(self) -> pd.DataFrame | None:
        """All rows, with ``on_edge`` (the bounding box touches its tile's edge) and the tile's
        bounds (:data:`TILE_BOUNDS`); None without rows."""
        if not self.count:
            return None
        columns = {name: np.concatenate(parts) for name, parts in self._columns.items()}
        tile_bounds = np.concatenate(self._tile_bounds)
        columns["on_edge"] = on_tile_edge(columns["geometry"], tile_bounds)
        columns.update(zip(TILE_BOUNDS, tile_bounds.T, strict=True))
        return pd.DataFrame(columns)
