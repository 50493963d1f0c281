"""The overlay's units of work: one task per (provincie, tile), planned and filled with claims.

A task is a plain, picklable value, so any executor can run it: forked or spawned local
processes, or a dask.distributed cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from novex_geo.config import SectorPair
from novex_geo.overlay.geometry import clip, expand

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["Catalogue", "OverlayTask", "TaskClaims", "TaskSpec", "plan_tasks"]


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
    """Everything one unit of work needs."""

    spec: TaskSpec
    region: shapely.Geometry
    interior: bool
    claims: tuple[TaskClaims, ...]
    pairs: tuple[tuple[str, str, float], ...]
    n_sectors: int


def _tile_grid(bounds, tile_size: float) -> Iterator[tuple[str, tuple[float, float, float, float]]]:
    xmin, ymin, xmax, ymax = bounds
    for ix in range(int(np.floor(xmin / tile_size)), int(np.ceil(xmax / tile_size))):
        for iy in range(int(np.floor(ymin / tile_size)), int(np.ceil(ymax / tile_size))):
            x0, y0 = ix * tile_size, iy * tile_size
            yield f"{x0 / 1000:g}_{y0 / 1000:g}", (x0, y0, x0 + tile_size, y0 + tile_size)


def plan_tasks(regions: gpd.GeoDataFrame, tile_size: float) -> list[TaskSpec]:
    """The (provincie, tile) units of work: every grid tile that meets a provincie."""
    specs = []
    for name, geom in zip(regions["provincie"], regions.geometry.values, strict=True):
        shapely.prepare(geom)
        for tile, bounds in _tile_grid(geom.bounds, tile_size):
            if shapely.intersects(geom, shapely.box(*bounds)):
                specs.append(TaskSpec(name, tile, bounds))
    return specs


class Catalogue:
    """Sector features with spatial indexes; builds the task for a spec.

    This is the state every worker shares: it is handed to each worker once, never per task.
    """

    def __init__(
        self,
        regions: gpd.GeoDataFrame,
        claims: Mapping[str, gpd.GeoDataFrame],
        pairs: Sequence[SectorPair],
    ):
        self.sectors = list(claims)
        self.geoms = {key: np.asarray(frame.geometry.values, dtype=object) for key, frame in claims.items()}
        self.trees = {key: shapely.STRtree(geoms) for key, geoms in self.geoms.items()}
        self.regions = dict(zip(regions["provincie"], regions.geometry.values, strict=True))
        # the engine computes every pair alike; which kind a pair is matters only in assembly
        self.pairs = tuple((pair.a, pair.b, pair.distance) for pair in pairs)
        self.halo = dict.fromkeys(self.sectors, 0.0)
        for a, b, distance in self.pairs:
            self.halo[a] = max(self.halo[a], distance)
            self.halo[b] = max(self.halo[b], distance)

    def __getstate__(self) -> dict:
        # features travel as WKB plus their bounding boxes: a spawned or remote worker indexes
        # the boxes right away and decodes a feature only when a task needs it, so decoding
        # millions of parcels is spread over the tasks instead of delaying the first one
        return {
            "sectors": self.sectors,
            "wkb": {key: shapely.to_wkb(geoms) for key, geoms in self.geoms.items()},
            "bounds": {key: shapely.bounds(geoms) for key, geoms in self.geoms.items()},
            "regions": {name: shapely.to_wkb(geom) for name, geom in self.regions.items()},
            "pairs": self.pairs,
            "halo": self.halo,
        }

    def __setstate__(self, state: dict) -> None:
        self.sectors, self.pairs, self.halo = state["sectors"], state["pairs"], state["halo"]
        self.geoms, self.wkb = None, state["wkb"]
        # an index of the boxes answers bounding-box queries exactly as one of the features
        self.trees = {key: shapely.STRtree(shapely.box(*bounds.T)) for key, bounds in state["bounds"].items()}
        self.regions = {name: shapely.from_wkb(wkb) for name, wkb in state["regions"].items()}

    def _features(self, key: str, rows: np.ndarray) -> np.ndarray:
        if self.geoms is not None:
            return self.geoms[key][rows]
        return shapely.from_wkb(self.wkb[key][rows])

    def task(self, spec: TaskSpec) -> OverlayTask:
        provincie = self.regions[spec.provincie]
        shapely.prepare(provincie)
        interior = bool(shapely.contains(provincie, shapely.box(*spec.bounds)))
        region = shapely.box(*spec.bounds) if interior else clip(provincie, spec.bounds)
        claims = []
        for bit, key in enumerate(self.sectors):
            halo = self.halo[key]
            area = expand(spec.bounds, halo) if halo else spec.bounds
            # bounding boxes suffice: a feature that only comes near the tile is clipped away
            rows = np.sort(self.trees[key].query(shapely.box(*area)))
            if rows.size:
                claims.append(TaskClaims(key, 1 << bit, self._features(key, rows), rows, halo))
        return OverlayTask(spec, region, interior, tuple(claims), self.pairs, len(self.sectors))
