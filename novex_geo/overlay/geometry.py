"""Geometry constants and helpers of the overlay engine: grids, clipping, tile edges, order, unions.

Every clip keeps exactly the polygonal part (see :mod:`novex_geo.geometry`).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.errors import GEOSException

from novex_geo.geometry import EMPTY, polygonal, polygons

__all__ = [
    "NODING_GRID",
    "PRECISION_GRID",
    "SPIKE_WIDTH",
    "clip",
    "expand",
    "on_tile_edge",
    "stable_order",
    "union_area",
    "union_coverage",
]

PRECISION_GRID = 0.001  # metres: the retry grid after a GEOS TopologyException or a failed audit
NODING_GRID = 1e-8  # metres: far below survey precision, ~100x above floating-point noise at RD scale
# Floating-point noding can leave sub-millimetre spikes on a face; a label point inside such a
# spike may fall on the wrong side of a sector boundary, so it is moved to the eroded face.
SPIKE_WIDTH = 1e-3
EDGE_TOLERANCE = 1e-6
# rows of faces unioned per GEOS call: GEOS refuses a whole batch for one row it refuses, and the
# batch is then redone row by row
COVERAGE_BATCH = 128


def expand(bounds, distance):
    """``bounds`` grown by ``distance`` on every side (arrays of bounds by arrays of distances)."""
    xmin, ymin, xmax, ymax = bounds
    return (xmin - distance, ymin - distance, xmax + distance, ymax + distance)


def clip(geom, bounds, grid: float | None = None) -> shapely.Geometry:
    """The polygonal part of ``geom`` (a (multi)polygon) inside a rectangle.

    Polygons wholly inside are kept as they are and those wholly outside dropped; the fast
    rectangle clipper cuts the ones across its edges, and is trusted when what it returns is
    valid — otherwise (and on a precision grid) the exact intersection is taken. Either way
    lines and points on the rectangle's edges, which both return when a polygon edge lies on
    the rectangle, are dropped.
    """
    if grid is None:
        parts = shapely.get_parts(geom)
        xmin, ymin, xmax, ymax = bounds
        west, south, east, north = shapely.bounds(parts).T
        inside = (west >= xmin) & (south >= ymin) & (east <= xmax) & (north <= ymax)
        across = ~inside & (east > xmin) & (west < xmax) & (north > ymin) & (south < ymax)
        clipped = shapely.clip_by_rect(parts[across], *bounds)
        if shapely.is_valid(clipped).all():
            kept = np.concatenate([parts[inside], polygons(clipped)])
            return shapely.multipolygons(kept) if len(kept) else EMPTY
    return polygonal(shapely.intersection(geom, shapely.box(*bounds), grid_size=grid))


def on_tile_edge(geoms: np.ndarray, tile_bounds: np.ndarray) -> np.ndarray:
    """Whether each geometry's bounding box touches an edge of its tile (one row per geometry)."""
    bounds = shapely.bounds(geoms)
    return (np.abs(bounds - tile_bounds) < EDGE_TOLERANCE).any(axis=1)


def stable_order(geoms: np.ndarray) -> np.ndarray:
    """An order of ``geoms`` that depends only on their shape and place, not on how their vertices
    are stored: by bounding box (south to north, west to east), then area."""
    xmin, ymin, xmax, ymax = np.round(shapely.bounds(geoms), 3).T
    return np.lexsort((np.round(shapely.area(geoms), 1), xmax, ymax, xmin, ymin))


def union_area(geoms: list[shapely.Geometry], grid: float | None = None) -> float:
    """The area of the union of polygonal geometries, each without overlapping parts (dissolved).

    Building the union of the most detailed one (a sector's parcels) with the others costs as
    much as the overlay itself; its area is that one's area plus the others' union's, less
    their overlap, summed over the pairs of parts that meet (each side's parts are disjoint).
    """
    if not geoms:
        return 0.0
    detailed = int(np.argmax(shapely.get_num_coordinates(geoms)))
    mine = shapely.get_parts(geoms[detailed])
    others = shapely.get_parts(shapely.union_all(geoms[:detailed] + geoms[detailed + 1 :], grid_size=grid))
    other_i, mine_i = shapely.STRtree(mine).query(others, predicate="intersects")
    overlap = shapely.area(shapely.intersection(mine[mine_i], others[other_i], grid_size=grid))
    return float(shapely.area(mine).sum() + shapely.area(others).sum() - overlap.sum())


def union_coverage(table: np.ndarray) -> np.ndarray:
    """The union along each row of faces that do not overlap (``None`` where a row is short).

    Faces meet along shared edges, so the fast coverage union applies; a row whose result is
    not valid or not of the same area is redone by a union on the noding grid, which is exact
    because the faces are snap-rounded to that grid. GEOS refuses a whole table when one row
    is not noded alike everywhere (pieces of two tiles along a tile line): the rows go in
    batches of :data:`COVERAGE_BATCH`, a refused batch row by row, and only the refused rows
    take the slow union.
    """
    merged = np.empty(len(table), dtype=object)
    for start in range(0, len(table), COVERAGE_BATCH):
        rows = table[start : start + COVERAGE_BATCH]
        try:
            merged[start : start + len(rows)] = shapely.coverage_union_all(rows, axis=1)
        except GEOSException:
            merged[start : start + len(rows)] = [_coverage_union_or_none(row) for row in rows]
    total = np.nansum(shapely.area(table), axis=1)
    bad = ~shapely.is_valid(merged) | (np.abs(shapely.area(merged) - total) > 1e-12 * total)
    if bad.any():
        merged[bad] = shapely.union_all(table[bad], axis=1, grid_size=NODING_GRID)
    return merged


def _coverage_union_or_none(row: np.ndarray) -> shapely.Geometry | None:
    try:
        return shapely.coverage_union_all(row)
    except GEOSException:
        return None
