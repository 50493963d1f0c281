"""Exact overlay engine: stapeling (stacking) and schuurpunten (friction zones).

Definitions
-----------
Stapeling
    Per provincie, the planar partition of all claimed area into faces. A face is a single
    polygon inside which the set of claiming sectors is constant; ``n_sectoren`` counts
    *distinct* sectors (two overlapping features of one sector count once). Faces are cut at
    provincial borders and at the lines of the square tile grid (``tile_size``, aligned to
    whole multiples of the tile size in RD) that is the engine's unit of work.
Schuurpunt, ``distance = 0``
    A connected part of the overlap of the two sectors' claims.
Schuurpunt, ``distance = d > 0``
    A connected part of ``near(A, B) ∪ near(B, A)``, where ``near(A, B)`` is the part of
    sector A's claims (within the provincie) that lies within ``d`` metres of sector B's
    claims (anywhere, also across the provincial border). A housing location 300 m from a
    military terrain with ``d = 500`` thus yields the strip of the housing location within
    500 m of the terrain and the strip of the terrain within 500 m of the housing location.
Provenance
    Each schuurpunt lists the features of side A that overlap its A-part or lie within ``d``
    of its B-part, and the same for side B. Every listed feature lies within ``d`` of a
    listed feature of the other side.

Algorithm
---------
The work is split into independent tasks, one per (provincie, tile) — a plain function of
a :class:`OverlayTask`, so a distributed engine can run the same tasks. Within a task each
sector's features are dissolved (``coverage_union_all`` for parcel coverages, falling back to
``union_all`` when the features are not a clean coverage), clipped to the tile, their
boundaries and the provincie boundary are noded (snap-rounded to a 1 µm grid) and polygonised,
and each face is labelled with a sector bit-mask by testing one interior point against each
sector. Tasks run on all cores. Schuurpunt pieces that touch a tile edge are merged across
tiles afterwards. A GEOS TopologyException retries the task on a 1 mm precision grid and is
reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from novex_geo.config import ConflictPair
from novex_geo.errors import NovexError
from novex_geo.tools.parallel import parallel_map

__all__ = [
    "PRECISION_GRID",
    "OverlayResult",
    "OverlayTask",
    "TaskResult",
    "TaskSpec",
    "overlay",
    "plan_tasks",
    "run_task",
]

log = logging.getLogger(__name__)

PRECISION_GRID = 0.001  # metres: the retry grid after a GEOS TopologyException
COVERAGE_MIN_FEATURES = 32  # below this, union_all is as fast as coverage_union_all
EDGE_TOLERANCE = 1e-6
# Floating-point noding can leave sub-millimetre spikes on a face; a label point inside such a
# spike may fall on the wrong side of a sector boundary, so it is moved to the eroded face.
SPIKE_WIDTH = 1e-3
NODING_GRID = 1e-6  # metres: far below survey precision, far above floating-point noise


@dataclass(frozen=True)
class TaskSpec:
    """The identity of one unit of work: a provincie and one tile of the RD grid."""

    provincie: str
    tile: str
    bounds: tuple[float, float, float, float]


@dataclass(frozen=True)
class TaskClaims:
    """The features of one sector that a task needs (with their row numbers)."""

    key: str
    bit: int
    geoms: np.ndarray
    rows: np.ndarray
    halo: float


@dataclass(frozen=True)
class OverlayTask:
    """Everything one unit of work needs; picklable, so any executor can run it."""

    spec: TaskSpec
    region: shapely.Geometry
    interior: bool
    claims: tuple[TaskClaims, ...]
    pairs: tuple[tuple[str, str, float], ...]


@dataclass
class TaskResult:
    """Faces and schuurpunt pieces of one task; provenance as (piece, sector row) pairs."""

    spec: TaskSpec
    face_geoms: np.ndarray
    face_masks: np.ndarray
    zone_geoms: np.ndarray
    zone_pairs: np.ndarray
    provenance_a: np.ndarray  # shape (n, 2): zone index, row in sector a
    provenance_b: np.ndarray
    precision_retry: str | None = None
    coverage_fallbacks: int = 0


@dataclass
class OverlayResult:
    """The outcome of :func:`overlay`.

    Attributes
    ----------
    stapeling : faces with ``vlak_id``, ``provincie``, ``tegel``, ``sectoren``,
        ``n_sectoren``, ``oppervlakte_m2`` and a 0/1 column per sector
    schuurpunten : zones with ``schuurpunt_id``, ``conflict``, ``sector_a``, ``sector_b``,
        ``afstand_m``, ``gewicht``, ``provincie``, ``oppervlakte_m2`` and provenance
    herkomst : one row per (schuurpunt, feature): the overlap table behind the provenance
    regions : the provinces analysed, with ``provincie`` and geometry
    sectors : sector keys in bit order
    """

    stapeling: gpd.GeoDataFrame
    schuurpunten: gpd.GeoDataFrame
    herkomst: pd.DataFrame
    regions: gpd.GeoDataFrame
    sectors: list[str]
    conflicts: tuple[ConflictPair, ...]
    dropped_slivers: int = 0
    dropped_sliver_area_m2: float = 0.0
    precision_retries: list[str] = field(default_factory=list)
    coverage_fallbacks: int = 0
    n_tasks: int = 0
    seconds: float = 0.0


# ----------------------------------------------------------------------------- planning


def _tile_grid(bounds, tile_size: float) -> Iterator[tuple[str, tuple[float, float, float, float]]]:
    xmin, ymin, xmax, ymax = bounds
    for ix in range(int(np.floor(xmin / tile_size)), int(np.ceil(xmax / tile_size))):
        for iy in range(int(np.floor(ymin / tile_size)), int(np.ceil(ymax / tile_size))):
            x0, y0 = ix * tile_size, iy * tile_size
            name = f"{x0 / 1000:g}_{y0 / 1000:g}"
            yield name, (x0, y0, x0 + tile_size, y0 + tile_size)


def plan_tasks(regions: gpd.GeoDataFrame, tile_size: float) -> list[TaskSpec]:
    """The (provincie, tile) units of work: every grid tile that touches a provincie's interior."""
    specs = []
    for name, geom in zip(regions["provincie"], regions.geometry.values, strict=True):
        shapely.prepare(geom)
        for tile, bounds in _tile_grid(geom.bounds, tile_size):
            if shapely.intersects(geom, shapely.box(*bounds)):
                specs.append(TaskSpec(name, tile, bounds))
    return specs


class _Catalogue:
    """Sector features with spatial indexes; builds tasks from specs."""

    def __init__(
        self,
        regions: gpd.GeoDataFrame,
        claims: Mapping[str, gpd.GeoDataFrame],
        conflicts: Sequence[ConflictPair],
    ):
        self.sectors = list(claims)
        self.geoms = {key: np.asarray(frame.geometry.values, dtype=object) for key, frame in claims.items()}
        self.trees = {key: shapely.STRtree(geoms) for key, geoms in self.geoms.items()}
        self.regions = dict(zip(regions["provincie"], regions.geometry.values, strict=True))
        for geom in self.regions.values():
            shapely.prepare(geom)
        self.pairs = tuple((pair.a, pair.b, pair.distance) for pair in conflicts)
        self.halo = {key: 0.0 for key in self.sectors}
        for a, b, distance in self.pairs:
            self.halo[a] = max(self.halo[a], distance)
            self.halo[b] = max(self.halo[b], distance)

    def task(self, spec: TaskSpec) -> OverlayTask:
        tile = shapely.box(*spec.bounds)
        provincie = self.regions[spec.provincie]
        interior = bool(shapely.contains(provincie, tile))
        region = tile if interior else _clip(provincie, spec.bounds)
        claims = []
        for bit, key in enumerate(self.sectors):
            halo = self.halo[key]
            area = _expand(spec.bounds, halo) if halo else spec.bounds
            rows = np.sort(self.trees[key].query(shapely.box(*area), predicate="intersects"))
            if rows.size:
                claims.append(TaskClaims(key, 1 << bit, self.geoms[key][rows], rows, halo))
        return OverlayTask(spec, region, interior, tuple(claims), self.pairs)


# ----------------------------------------------------------------------------- one task


def _expand(bounds, distance: float) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = bounds
    return (xmin - distance, ymin - distance, xmax + distance, ymax + distance)


def _clip(geom, bounds, grid: float | None = None):
    """Clip to a rectangle: the fast rectangle clipper, checked, with an exact fallback."""
    clipped = shapely.clip_by_rect(geom, *bounds)
    if grid is None and shapely.is_valid(clipped):
        return clipped
    return shapely.intersection(geom, shapely.box(*bounds), grid_size=grid)


def _dissolve(geoms: np.ndarray, grid: float | None) -> tuple[shapely.Geometry, bool]:
    """Union of one sector's features; ``coverage_union_all`` when they form a coverage."""
    if grid is not None:
        return shapely.union_all(shapely.set_precision(geoms, grid), grid_size=grid), False
    if len(geoms) < COVERAGE_MIN_FEATURES:
        return shapely.union_all(geoms), False
    try:
        merged = shapely.coverage_union_all(geoms)
    except GEOSException:  # overlapping features: not a coverage
        return shapely.union_all(geoms), True
    total = float(shapely.area(geoms).sum())
    if abs(merged.area - total) <= 1e-9 * total and shapely.is_valid(merged):
        return merged, False
    return shapely.union_all(geoms), True


def _polygons(geom) -> np.ndarray:
    parts = shapely.get_parts(geom)
    return parts[(shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)]


def _label_points(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point well inside each face, away from noding spikes."""
    points = shapely.point_on_surface(faces)
    near_edge = np.flatnonzero(shapely.distance(points, shapely.boundary(faces)) < SPIKE_WIDTH)
    if near_edge.size:
        eroded = shapely.buffer(faces[near_edge], -SPIKE_WIDTH)
        solid = ~shapely.is_empty(eroded)
        points[near_edge[solid]] = shapely.point_on_surface(eroded[solid])
    return shapely.get_x(points), shapely.get_y(points)


def _provenance(
    zones: np.ndarray,
    tree: shapely.STRtree,
    geoms: np.ndarray,
    rows: np.ndarray,
    near_zones: np.ndarray | None,
    distance: float,
) -> np.ndarray:
    """(zone, row) pairs: features overlapping ``zones`` or within ``distance`` of ``near_zones``.

    Zones are indexed by position in ``zones``; rows are the features' rows in their sector.
    """
    zone_i, feature_j = tree.query(zones, predicate="intersects")
    overlapping = ~shapely.touches(zones[zone_i], geoms[feature_j])
    found = [np.stack([zone_i[overlapping], rows[feature_j[overlapping]]], axis=1)]
    if near_zones is not None:
        present = ~shapely.is_empty(near_zones)
        index = np.flatnonzero(present)
        near_i, near_j = tree.query(near_zones[present], predicate="dwithin", distance=distance)
        found.append(np.stack([index[near_i], rows[near_j]], axis=1))
    pairs = np.concatenate(found).astype(np.int64).reshape(-1, 2)
    # a zone made of noding slivers may have no feature overlapping it: take the touching ones
    orphans = np.setdiff1d(np.arange(len(zones)), pairs[:, 0])
    if orphans.size:
        near_i, near_j = tree.query(zones[orphans], predicate="dwithin", distance=SPIKE_WIDTH)
        pairs = np.concatenate([pairs, np.stack([orphans[near_i], rows[near_j]], axis=1)])
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def _run(task: OverlayTask, grid: float | None) -> TaskResult:
    bounds = task.spec.bounds
    region = task.region if grid is None else shapely.set_precision(task.region, grid)
    dissolved, sources, claims, fallbacks = {}, {}, {}, 0
    for claim in task.claims:
        merged, fell_back = _dissolve(claim.geoms, grid)
        fallbacks += fell_back
        clipped = _clip(merged, bounds, grid)
        if shapely.is_empty(clipped) and not claim.halo:
            continue
        claims[claim.key] = claim
        dissolved[claim.key] = clipped
        if claim.halo:
            sources[claim.key] = _clip(merged, _expand(bounds, claim.halo), grid)

    linework = [shapely.boundary(geom) for geom in dissolved.values() if not shapely.is_empty(geom)]
    linework.append(shapely.boundary(region))
    # snap-rounded noding: boundaries that meet within floating-point noise share one node, so
    # polygonize cannot return overlapping faces (seen in property tests without it)
    noded = shapely.union_all(linework, grid_size=grid or NODING_GRID)
    faces = _polygons(shapely.polygonize(shapely.get_parts(noded)))
    x, y = _label_points(faces)
    masks = np.zeros(len(faces), dtype=np.int64)
    for key, geom in dissolved.items():
        if not shapely.is_empty(geom):
            shapely.prepare(geom)
            masks |= np.where(shapely.contains_xy(geom, x, y), claims[key].bit, 0)
    keep = masks > 0
    if not task.interior:
        shapely.prepare(region)
        keep &= shapely.contains_xy(region, x, y)
    faces, masks = faces[keep], masks[keep]

    within_region: dict[str, shapely.Geometry] = {}

    def in_region(key: str):
        if key not in within_region:
            geom = dissolved[key]
            within_region[key] = geom if task.interior else shapely.intersection(geom, region, grid_size=grid)
        return within_region[key]

    zone_geoms, zone_pairs, prov_a, prov_b = [], [], [], []
    offset = 0
    for index, (a, b, distance) in enumerate(task.pairs):
        if a not in claims or b not in claims:
            continue
        bit_a, bit_b = claims[a].bit, claims[b].bit
        if distance == 0:
            both = (masks & bit_a > 0) & (masks & bit_b > 0)
            if not both.any():
                continue
            zones = _polygons(shapely.union_all(faces[both], grid_size=grid))
            near_a = near_b = None
        else:
            near_a = shapely.intersection(in_region(a), shapely.buffer(sources[b], distance), grid_size=grid)
            near_b = shapely.intersection(in_region(b), shapely.buffer(sources[a], distance), grid_size=grid)
            zones = _polygons(shapely.union(near_a, near_b, grid_size=grid))
            if not len(zones):
                continue
            near_a = shapely.intersection(zones, near_a, grid_size=grid)
            near_b = shapely.intersection(zones, near_b, grid_size=grid)
        part_a = zones if near_a is None else near_a
        part_b = zones if near_b is None else near_b
        tree_a = shapely.STRtree(claims[a].geoms)
        tree_b = shapely.STRtree(claims[b].geoms)
        pa = _provenance(part_a, tree_a, claims[a].geoms, claims[a].rows, near_b, distance)
        pb = _provenance(part_b, tree_b, claims[b].geoms, claims[b].rows, near_a, distance)
        pa[:, 0] += offset
        pb[:, 0] += offset
        zone_geoms.append(zones)
        zone_pairs.append(np.full(len(zones), index))
        prov_a.append(pa)
        prov_b.append(pb)
        offset += len(zones)

    empty_pairs = np.zeros((0, 2), dtype=np.int64)
    return TaskResult(
        spec=task.spec,
        face_geoms=faces,
        face_masks=masks,
        zone_geoms=np.concatenate(zone_geoms) if zone_geoms else np.empty(0, dtype=object),
        zone_pairs=np.concatenate(zone_pairs) if zone_pairs else np.empty(0, dtype=np.int64),
        provenance_a=np.concatenate(prov_a) if prov_a else empty_pairs,
        provenance_b=np.concatenate(prov_b) if prov_b else empty_pairs,
        coverage_fallbacks=fallbacks,
    )


def run_task(task: OverlayTask) -> TaskResult:
    """Run one unit of work; a GEOS TopologyException retries it on a 1 mm grid."""
    try:
        return _run(task, None)
    except GEOSException as exc:
        log.warning(
            "%s tile %s: %s; retrying on a %g m precision grid",
            task.spec.provincie,
            task.spec.tile,
            exc,
            PRECISION_GRID,
        )
        result = _run(task, PRECISION_GRID)
        result.precision_retry = f"{task.spec.provincie} tile {task.spec.tile}: {exc}"
        return result


# ----------------------------------------------------------------------------- executor

_CATALOGUE: _Catalogue | None = None  # shared with forked workers without pickling


def _work(spec: TaskSpec) -> TaskResult:
    assert _CATALOGUE is not None
    return run_task(_CATALOGUE.task(spec))


# ----------------------------------------------------------------------------- assembly


def _on_tile_edge(geoms: np.ndarray, tiles: list[tuple[float, float, float, float]]) -> np.ndarray:
    bounds = shapely.bounds(geoms)
    tile_bounds = np.asarray(tiles, dtype=float).reshape(-1, 4)
    return (
        (np.abs(bounds[:, 0] - tile_bounds[:, 0]) < EDGE_TOLERANCE)
        | (np.abs(bounds[:, 1] - tile_bounds[:, 1]) < EDGE_TOLERANCE)
        | (np.abs(bounds[:, 2] - tile_bounds[:, 2]) < EDGE_TOLERANCE)
        | (np.abs(bounds[:, 3] - tile_bounds[:, 3]) < EDGE_TOLERANCE)
    )


def _merge_across_tiles(zones: pd.DataFrame, prov_a: pd.DataFrame, prov_b: pd.DataFrame):
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
        parts = _polygons(shapely.union_all(pieces)) if len(pieces) > 1 else pieces
        piece_i, part_j = shapely.STRtree(parts).query(pieces, predicate="intersects")
        overlap = shapely.area(shapely.intersection(pieces[piece_i], parts[part_j]))
        candidates = pd.DataFrame({"i": piece_i, "j": part_j, "overlap": overlap})
        best = candidates.sort_values("overlap").groupby("i").tail(1)
        chosen = pd.concat([candidates[candidates["overlap"] > 0], best]).drop_duplicates(["i", "j"])
        links.append(
            pd.DataFrame(
                {
                    "piece": group["piece"].to_numpy()[chosen["i"].to_numpy()],
                    "new": next_id + chosen["j"].to_numpy(),
                }
            )
        )
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


def _stable_order(geoms: np.ndarray) -> np.ndarray:
    points = shapely.point_on_surface(geoms)
    return np.lexsort((np.round(shapely.get_x(points), 3), np.round(shapely.get_y(points), 3)))


def _join(values: pd.Series) -> str:
    return "; ".join(values)


def overlay(
    regions: gpd.GeoDataFrame,
    claims: Mapping[str, gpd.GeoDataFrame],
    conflicts: Sequence[ConflictPair] = (),
    tile_size: float = 10_000.0,
    min_area_m2: float = 0.0,
    workers: int = 0,
) -> OverlayResult:
    """Stapeling and schuurpunten of ``claims`` per region.

    Parameters
    ----------
    regions : GeoDataFrame with a ``provincie`` column, in the analysis CRS
    claims : sector key → GeoDataFrame with ``feature_id``, ``label`` and polygon geometry
        (as loaded by :func:`novex_geo.io.load_sectors`), in the same CRS
    conflicts : the conflict matrix
    tile_size : edge of the square tiles (m) that are the units of work
    min_area_m2 : schuurpunten smaller than this are dropped (and counted)
    workers : worker processes; 0 uses every core

    Returns
    -------
    OverlayResult

    Examples
    --------
    >>> result = overlay(regions, {key: layer.frame for key, layer in layers.items()},
    ...                  project.conflicts)  # doctest: +SKIP
    >>> result.stapeling.groupby("n_sectoren")["oppervlakte_m2"].sum()  # doctest: +SKIP
    """
    global _CATALOGUE
    started = time.perf_counter()
    unknown = {key for pair in conflicts for key in (pair.a, pair.b)} - set(claims)
    if unknown:
        raise NovexError(f"conflict matrix names sectors without claims: {', '.join(sorted(unknown))}")
    if "provincie" not in regions.columns:
        raise NovexError("regions need a 'provincie' column (see novex_geo.regions.load_regions)")
    crs = regions.crs
    sectors = list(claims)
    specs = plan_tasks(regions, tile_size)
    tiles_per_region = pd.Series([spec.provincie for spec in specs]).value_counts().to_dict()
    _CATALOGUE = _Catalogue(regions, claims, conflicts)
    faces, zones, prov_a, prov_b = [], [], [], []
    retries, fallbacks, piece_offset = [], 0, 0
    done = dict.fromkeys(tiles_per_region, 0)
    finished = 0
    try:
        for result in parallel_map(_work, specs, workers):
            spec = result.spec
            if len(result.face_geoms):
                faces.append(
                    pd.DataFrame(
                        {
                            "provincie": spec.provincie,
                            "tegel": spec.tile,
                            "mask": result.face_masks,
                            "geometry": result.face_geoms,
                        }
                    )
                )
            if len(result.zone_geoms):
                pieces = piece_offset + np.arange(len(result.zone_geoms))
                zones.append(
                    pd.DataFrame(
                        {
                            "piece": pieces,
                            "provincie": spec.provincie,
                            "pair": result.zone_pairs,
                            "geometry": result.zone_geoms,
                            "on_edge": _on_tile_edge(result.zone_geoms, [spec.bounds] * len(pieces)),
                        }
                    )
                )
                for store, prov in ((prov_a, result.provenance_a), (prov_b, result.provenance_b)):
                    store.append(pd.DataFrame({"piece": prov[:, 0] + piece_offset, "row": prov[:, 1]}))
                piece_offset += len(result.zone_geoms)
            if result.precision_retry:
                retries.append(result.precision_retry)
            fallbacks += result.coverage_fallbacks
            done[spec.provincie] += 1
            if done[spec.provincie] == tiles_per_region[spec.provincie]:
                finished += 1
                log.info(
                    "[%d/%d] %s: %d tiles done (%.1f s)",
                    finished,
                    len(tiles_per_region),
                    spec.provincie,
                    done[spec.provincie],
                    time.perf_counter() - started,
                )
    finally:
        _CATALOGUE = None

    stapeling = _assemble_faces(faces, sectors, crs)
    schuurpunten, herkomst, dropped, dropped_area = _assemble_zones(
        zones, prov_a, prov_b, claims, conflicts, min_area_m2, crs
    )
    if dropped:
        log.info(
            "%d schuurpunten smaller than %g m² dropped (%.1f m² in total)",
            dropped,
            min_area_m2,
            dropped_area,
        )
    if fallbacks:
        log.info("%d tiles: features of a sector were not a clean coverage; used union_all", fallbacks)
    return OverlayResult(
        stapeling=stapeling,
        schuurpunten=schuurpunten,
        herkomst=herkomst,
        regions=regions[["provincie", "geometry"]].copy(),
        sectors=sectors,
        conflicts=tuple(conflicts),
        dropped_slivers=dropped,
        dropped_sliver_area_m2=dropped_area,
        precision_retries=retries,
        coverage_fallbacks=fallbacks,
        n_tasks=len(specs),
        seconds=time.perf_counter() - started,
    )


def _assemble_faces(faces: list[pd.DataFrame], sectors: list[str], crs) -> gpd.GeoDataFrame:
    columns = [
        "vlak_id",
        "provincie",
        "tegel",
        "sectoren",
        "n_sectoren",
        "oppervlakte_m2",
        *sectors,
    ]
    if not faces:
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs=crs)
    frame = pd.concat(faces, ignore_index=True)
    geoms = frame["geometry"].to_numpy()
    order = np.lexsort((_stable_order(geoms).argsort(), frame["tegel"], frame["provincie"]))
    frame = frame.iloc[order].reset_index(drop=True)
    masks = frame["mask"].to_numpy()
    bits = np.array([(masks >> i) & 1 for i in range(len(sectors))], dtype=np.int8)
    labels = {
        mask: "+".join(sorted(s for i, s in enumerate(sectors) if mask >> i & 1)) for mask in np.unique(masks)
    }
    rank = frame.groupby(["provincie", "tegel"]).cumcount().to_numpy() + 1
    result = gpd.GeoDataFrame(
        {
            "vlak_id": frame["provincie"]
            .str.cat(frame["tegel"], sep="/")
            .str.cat(pd.Series(rank).astype(str).str.zfill(5), sep="/"),
            "provincie": frame["provincie"],
            "tegel": frame["tegel"],
            "sectoren": frame["mask"].map(labels),
            "n_sectoren": bits.sum(axis=0).astype(np.int64),
            "oppervlakte_m2": shapely.area(frame["geometry"].to_numpy()),
            **{sector: bits[i] for i, sector in enumerate(sectors)},
        },
        geometry=frame["geometry"].to_numpy(),
        crs=crs,
    )
    return result


def _assemble_zones(zones, prov_a, prov_b, claims, conflicts, min_area_m2, crs):
    columns = [
        "schuurpunt_id",
        "conflict",
        "sector_a",
        "sector_b",
        "afstand_m",
        "gewicht",
        "provincie",
        "oppervlakte_m2",
        "n_features_a",
        "n_features_b",
        "feature_ids_a",
        "feature_ids_b",
        "labels_a",
        "labels_b",
    ]
    herkomst_columns = ["schuurpunt_id", "kant", "sector", "feature_id", "label"]
    if not zones:
        empty = gpd.GeoDataFrame(columns=columns, geometry=[], crs=crs)
        return empty, pd.DataFrame(columns=herkomst_columns), 0, 0.0
    frame, pa, pb = _merge_across_tiles(
        pd.concat(zones, ignore_index=True),
        pd.concat(prov_a, ignore_index=True),
        pd.concat(prov_b, ignore_index=True),
    )
    frame["oppervlakte_m2"] = shapely.area(frame["geometry"].to_numpy())
    small = frame["oppervlakte_m2"] < min_area_m2
    dropped, dropped_area = int(small.sum()), float(frame.loc[small, "oppervlakte_m2"].sum())
    frame = frame[~small]
    pair_table = pd.DataFrame(
        {
            "pair": range(len(conflicts)),
            "conflict": [pair.key for pair in conflicts],
            "sector_a": [pair.a for pair in conflicts],
            "sector_b": [pair.b for pair in conflicts],
            "afstand_m": [pair.distance for pair in conflicts],
            "gewicht": [pair.weight for pair in conflicts],
        }
    )
    frame = frame.merge(pair_table, on="pair")
    order = np.lexsort(
        (_stable_order(frame["geometry"].to_numpy()).argsort(), frame["provincie"], frame["pair"])
    )
    frame = frame.iloc[order].reset_index(drop=True)
    rank = frame.groupby(["pair", "provincie"]).cumcount() + 1
    frame["schuurpunt_id"] = (
        frame["sector_a"]
        + "×"
        + frame["sector_b"]
        + "/"
        + frame["provincie"]
        + "/"
        + rank.astype(str).str.zfill(4)
    )

    sides = []
    for side, prov, sector_column in (("a", pa, "sector_a"), ("b", pb, "sector_b")):
        table = prov.merge(frame[["piece", "schuurpunt_id", sector_column]], on="piece")
        table = table.rename(columns={sector_column: "sector"})
        parts = []
        for sector, group in table.groupby("sector", sort=False):
            source = claims[sector]
            parts.append(
                group.assign(
                    feature_id=source["feature_id"].to_numpy()[group["row"].to_numpy()],
                    label=source["label"].to_numpy()[group["row"].to_numpy()].astype(str),
                )
            )
        side_table = pd.concat(parts, ignore_index=True) if parts else table.assign(feature_id=[], label=[])
        sides.append(side_table.assign(kant=side))
    herkomst = pd.concat(sides, ignore_index=True).sort_values(["schuurpunt_id", "kant", "feature_id"])
    herkomst = herkomst[herkomst_columns].reset_index(drop=True)
    for side in ("a", "b"):
        rows = herkomst[herkomst["kant"] == side].groupby("schuurpunt_id")
        frame[f"n_features_{side}"] = frame["schuurpunt_id"].map(rows.size()).fillna(0).astype(np.int64)
        frame[f"feature_ids_{side}"] = frame["schuurpunt_id"].map(rows["feature_id"].agg(_join)).fillna("")
        frame[f"labels_{side}"] = frame["schuurpunt_id"].map(rows["label"].agg(_join)).fillna("")
    result = gpd.GeoDataFrame(frame[columns], geometry=frame["geometry"].to_numpy(), crs=crs)
    return result, herkomst, dropped, dropped_area
