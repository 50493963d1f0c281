"""The overlay's units of work: one task per (provincie, tile), planned and filled with claims.

A task is a plain, picklable value, so any executor can run it: forked or spawned local
processes, or a dask.distributed cluster.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import shapely

from novex_geo.config import SectorPair
from novex_geo.overlay.geometry import clip, expand

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CROWDED_TILE_FEATURES",
    "Catalogue",
    "OverlayTask",
    "TaskClaims",
    "TaskRequest",
    "TaskSpec",
    "Work",
    "plan_tasks",
]

# A tile's faces cost more than in proportion to its features (dissolve, validity, noding and
# polygonize all slow down on larger geometries): a tile whose features' bounding boxes number
# more than this has its faces worked out in its four quarters. At the BRP-size benchmark's
# density (5,300 features in the median 10 km tile) that saves a seventh of the tile work (77 s
# → 66 s); the national sets hold at most 1,900 in any tile, where quarters are no faster.
CROWDED_TILE_FEATURES = 4_000


class Work(enum.Enum):
    """What a task computes of its tile."""

    WHOLE = "whole"  # the faces, their audit and the zones of every pair
    FACES = "faces"  # the faces, their audit and the zones of the pairs that meet (distance 0)
    AT_DISTANCE = "at_distance"  # only the zones of the pairs at a distance

    def computes(self, distance: float) -> bool:
        """Whether this work computes the zones of a pair at ``distance``."""
        return self is Work.WHOLE or (distance > 0) == (self is Work.AT_DISTANCE)


@dataclass(frozen=True)
class TaskSpec:
    """The identity of one unit of work: a provincie, one tile of the RD grid, and what of it."""

    provincie: str
    tile: str
    bounds: tuple[float, float, float, float]
    work: Work = Work.WHOLE


@dataclass(frozen=True)
class TaskRequest:
    """What a worker is asked to do: a spec, its region (the provincie within the tile; the
    tile itself when ``interior``), and per sector (in catalogue order) the rows of the features
    whose bounding boxes meet the tile grown by the sector's halo.

    Rows and region are found where the spatial indexes and the provinces already are, so a
    worker needs neither.
    """

    spec: TaskSpec
    region: shapely.Geometry
    interior: bool
    rows: tuple[np.ndarray, ...]


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
    """Everything one unit of work needs."""

    spec: TaskSpec
    region: shapely.Geometry
    interior: bool
    claims: tuple[TaskClaims, ...]
    pairs: tuple[tuple[str, str, float], ...]
    n_sectors: int


def _tiles_meeting(
    geom: shapely.Geometry, bounds, tile_size: float
) -> Iterator[tuple[str, tuple[float, float, float, float]]]:
    """The tiles of the RD grid of ``tile_size`` within ``bounds`` that meet ``geom`` (prepared)."""
    xmin, ymin, xmax, ymax = bounds
    for ix in range(int(np.floor(xmin / tile_size)), int(np.ceil(xmax / tile_size))):
        for iy in range(int(np.floor(ymin / tile_size)), int(np.ceil(ymax / tile_size))):
            x0, y0 = ix * tile_size, iy * tile_size
            tile = (x0, y0, x0 + tile_size, y0 + tile_size)
            if shapely.intersects(geom, shapely.box(*tile)):
                yield f"{x0 / 1000:g}_{y0 / 1000:g}", tile


def plan_tasks(regions: gpd.GeoDataFrame, tile_size: float) -> list[TaskSpec]:
    """The (provincie, tile) units of work: every grid tile that meets a provincie.

    They come in Z-order of their tiles, the provinces of one tile together: a run of
    consecutive tasks, as an executor batches them, is then a compact block of the map whose
    tasks share most features.
    """
    specs = []
    for name, geom in zip(regions["provincie"], regions.geometry.values, strict=True):
        shapely.prepare(geom)
        specs += [
            TaskSpec(name, tile, bounds) for tile, bounds in _tiles_meeting(geom, geom.bounds, tile_size)
        ]
    if not specs:
        return specs
    corners = np.array([spec.bounds[:2] for spec in specs], dtype=float)
    cells = np.round((corners - corners.min(axis=0)) / tile_size).astype(np.int64)
    return [specs[i] for i in np.lexsort((np.arange(len(specs)), _z_order(cells[:, 0], cells[:, 1])))]


def _z_order(column: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The Morton code of tiles: the bits of their column and row interleaved."""
    code = np.zeros(len(column), dtype=np.int64)
    for bit in range(24):
        code |= ((column >> bit) & 1) << (2 * bit) | ((row >> bit) & 1) << (2 * bit + 1)
    return code


class Catalogue:
    """Sector features with spatial indexes; builds the task of a request.

    This is the state the workers share. A forked worker inherits it whole; a worker that shares
    no memory with this process (spawned, or on a dask cluster) receives with each batch of
    requests only the :meth:`part` of it that the batch needs.
    """

    def __init__(
        self,
        regions: gpd.GeoDataFrame,
        claims: Mapping[str, gpd.GeoDataFrame],
        pairs: Sequence[SectorPair],
    ):
        self.sectors = list(claims)
        self.geoms = {key: np.asarray(frame.geometry.values, dtype=object) for key, frame in claims.items()}
        self.rows: dict[str, np.ndarray] | None = None  # a part: the sectors' row numbers it holds
        self._wkb: dict[str, np.ndarray] | None = None  # see _encoded
        self.trees = {key: shapely.STRtree(geoms) for key, geoms in self.geoms.items()}
        self.regions = dict(zip(regions["provincie"], regions.geometry.values, strict=True))
        # the engine computes every pair alike; which kind a pair is matters only in assembly
        self.pairs = tuple((pair.a, pair.b, pair.distance) for pair in pairs)
        self.halo = dict.fromkeys(self.sectors, 0.0)
        for a, b, distance in self.pairs:
            self.halo[a] = max(self.halo[a], distance)
            self.halo[b] = max(self.halo[b], distance)

    def _halo(self, key: str, work: Work) -> float | None:
        """How far around a tile a task of ``work`` needs the features of sector ``key``; None
        when it needs none: faces need only the tile, zones at a distance only their pairs'
        sectors, to the largest distance of their pairs."""
        if work is Work.FACES:
            return 0.0
        if work is Work.AT_DISTANCE and not self.halo[key]:
            return None
        return self.halo[key]

    def features_per_tile(self, specs: Sequence[TaskSpec]) -> np.ndarray:
        """How many features of all sectors have a bounding box meeting each spec's tile."""
        tiles = shapely.box(*np.array([spec.bounds for spec in specs], dtype=float).reshape(-1, 4).T)
        counts = np.zeros(len(specs), dtype=np.int64)
        for key in self.sectors:
            counts += np.bincount(self.trees[key].query(tiles)[0], minlength=len(specs))
        return counts

    def split_crowded(self, specs: Sequence[TaskSpec]) -> list[TaskSpec]:
        """``specs`` with every crowded tile (more than :data:`CROWDED_TILE_FEATURES` features)
        split: its faces (with their audit and the zones of the pairs that meet) in its quarters
        that meet the provincie, and the zones of the pairs at a distance in the whole tile, so
        that they are buffered from the same claims as ever."""
        if not specs:
            return []
        crowded = self.features_per_tile(specs) > CROWDED_TILE_FEATURES
        at_distance = any(distance > 0 for *_, distance in self.pairs)
        split = []
        for spec, crowd in zip(specs, crowded, strict=True):
            if not crowd:
                split.append(spec)
                continue
            if at_distance:
                split.append(replace(spec, work=Work.AT_DISTANCE))
            quarters = _tiles_meeting(
                self.regions[spec.provincie], spec.bounds, (spec.bounds[2] - spec.bounds[0]) / 2
            )
            split += [TaskSpec(spec.provincie, tile, bounds, Work.FACES) for tile, bounds in quarters]
        return split

    def requests(self, specs: Sequence[TaskSpec]) -> list[TaskRequest]:
        """The request of every spec: one index query per sector for all tiles together."""
        tiles = np.array([spec.bounds for spec in specs], dtype=float).reshape(-1, 4)
        selected = []
        for key in self.sectors:
            halos = [self._halo(key, spec.work) for spec in specs]
            needed = np.array([halo is not None for halo in halos], dtype=bool)
            grown = expand(tiles.T, np.array([halo or 0.0 for halo in halos], dtype=float))
            # bounding boxes suffice: a feature that only comes near the tile is clipped away
            tile_i, rows = self.trees[key].query(shapely.box(*grown))
            keep = needed[tile_i]
            tile_i, rows = tile_i[keep], rows[keep]
            order = np.lexsort((rows, tile_i))
            selected.append(np.split(rows[order], np.searchsorted(tile_i[order], np.arange(1, len(specs)))))
        shapely.prepare(list(self.regions.values()))
        provinces = np.array([self.regions[spec.provincie] for spec in specs], dtype=object)
        boxes = shapely.box(*tiles.T)
        interior = shapely.contains(provinces, boxes)
        return [
            TaskRequest(
                spec,
                boxes[i] if interior[i] else clip(provinces[i], spec.bounds),
                bool(interior[i]),
                tuple(found[i] for found in selected),
            )
            for i, spec in enumerate(specs)
        ]

    def taken(self, requests: Sequence[TaskRequest]) -> dict[str, np.ndarray]:
        """Per sector a mask over its features: those that ``requests`` select."""
        masks = {}
        for bit, key in enumerate(self.sectors):
            # a mask over the sector, not np.unique: no sort of the rows of every task again
            masks[key] = np.zeros(len(self.geoms[key]), dtype=bool)
            for request in requests:
                masks[key][request.rows[bit]] = True
        return masks

    def part(self, requests: Sequence[TaskRequest]) -> Catalogue:
        """Only the features that ``requests`` select.

        Neighbouring tiles share most features, so a batch of them carries each feature about
        once, and a worker receives only what its batches need instead of every input.
        """
        part = object.__new__(Catalogue)
        part.sectors, part.pairs, part.halo, part.trees = self.sectors, self.pairs, self.halo, None
        part.regions = {}
        part.rows = {key: np.flatnonzero(wanted) for key, wanted in self.taken(requests).items()}
        # made to be sent: the features go encoded, and a worker decodes them (__setstate__)
        part.geoms, part._wkb = None, self._encoded(part.rows)
        return part

    def _encoded(self, rows: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The features of every sector (or only ``rows`` of each) as WKB.

        Encoding a sector in one pass, in the order its features lie in memory, is about twice
        as fast as encoding the scattered rows of each part; so every feature is encoded once,
        and a part picks its bytes.
        """
        if self._wkb is None:
            self._wkb = {key: shapely.to_wkb(geoms) for key, geoms in self.geoms.items()}
        if rows is None:
            return self._wkb
        return {key: self._wkb[key][selected] for key, selected in rows.items()}

    def __getstate__(self) -> dict:
        # workers need no provinces and no indexes (see TaskRequest)
        return {
            "sectors": self.sectors,
            "pairs": self.pairs,
            "halo": self.halo,
            "rows": self.rows,
            "wkb": self._encoded(),
        }

    def __setstate__(self, state: dict) -> None:
        wkb = state.pop("wkb")
        self.__dict__.update(state, trees=None, regions={}, _wkb=None)
        self.geoms = {key: shapely.from_wkb(features) for key, features in wkb.items()}

    def _features(self, key: str, rows: np.ndarray) -> np.ndarray:
        held = self.geoms[key]
        return held[rows] if self.rows is None else held[np.searchsorted(self.rows[key], rows)]

    def task(self, request: TaskRequest) -> OverlayTask:
        work = request.spec.work
        claims = tuple(
            TaskClaims(key, 1 << bit, self._features(key, rows), rows, self._halo(key, work) or 0.0)
            for bit, (key, rows) in enumerate(zip(self.sectors, request.rows, strict=True))
            if rows.size
        )
        spec, region, interior = request.spec, request.region, request.interior
        return OverlayTask(spec, region, interior, claims, self.pairs, len(self.sectors))
