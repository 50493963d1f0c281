"""Geometry helpers of the overlay engine that never drop area silently.

Shapely's set operations may return a ``GeometryCollection`` (polygons plus the lines or
points where two inputs only touch), a lower-dimensional geometry, or an empty one. The
engine only ever wants the polygonal part: these helpers keep exactly that part and discard
the rest knowingly, so a collection can never reach ``shapely.boundary`` (which returns
``None`` for collections) or a type test that would skip it.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = [
    "EMPTY",
    "NODING_GRID",
    "PRECISION_GRID",
    "SPIKE_WIDTH",
    "clip",
    "expand",
    "on_tile_edge",
    "polygonal",
    "polygonal_each",
    "polygons",
    "stable_order",
]

PRECISION_GRID = 0.001  # metres: the retry grid after a GEOS TopologyException or a failed audit
NODING_GRID = 1e-8  # metres: far below survey precision, ~100x above floating-point noise at RD scale
# Floating-point noding can leave sub-millimetre spikes on a face; a label point inside such a
# spike may fall on the wrong side of a sector boundary, so it is moved to the eroded face.
SPIKE_WIDTH = 1e-3
EDGE_TOLERANCE = 1e-6
EMPTY = shapely.from_wkt("MULTIPOLYGON EMPTY")
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_MULTI = (
    shapely.GeometryType.MULTIPOINT,
    shapely.GeometryType.MULTILINESTRING,
    shapely.GeometryType.MULTIPOLYGON,
    shapely.GeometryType.GEOMETRYCOLLECTION,
)


def polygons(geoms) -> np.ndarray:
    """Every polygon with area inside ``geoms`` (one geometry or an array), flattened."""
    parts = shapely.get_parts(geoms)
    while np.isin(shapely.get_type_id(parts), _MULTI).any():  # collections may nest
        parts = shapely.get_parts(parts)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    return parts[keep]


def polygonal(geom) -> shapely.Geometry:
    """The polygonal part of ``geom`` as one (Multi)Polygon; ``None`` becomes empty."""
    if geom is None:
        return EMPTY
    if shapely.get_type_id(geom) in _POLYGONAL:
        return geom
    parts = polygons(geom)
    return shapely.multipolygons(parts) if len(parts) else EMPTY


def polygonal_each(geoms: np.ndarray) -> np.ndarray:
    """:func:`polygonal` of every element, vectorised for the common all-polygonal case."""
    geoms = np.asarray(geoms, dtype=object)
    odd = ~np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    if odd.any():
        geoms = geoms.copy()
        geoms[odd] = [polygonal(geom) for geom in geoms[odd]]
    return geoms


def expand(bounds, distance: float) -> tuple[float, float, float, float]:
    """``bounds`` grown by ``distance`` on every side."""
    xmin, ymin, xmax, ymax = bounds
    return (xmin - distance, ymin - distance, xmax + distance, ymax + distance)


def clip(geom, bounds, grid: float | None = None) -> shapely.Geometry:
    """The polygonal part of ``geom`` inside a rectangle.

    The fast rectangle clipper is used when its result is valid; otherwise (and on a precision
    grid) the exact intersection. Either way lines and points on the rectangle's edges, which
    both return when a polygon edge lies on the rectangle, are dropped.
    """
    if grid is None:
        clipped = shapely.clip_by_rect(geom, *bounds)
        if shapely.is_valid(clipped):
            return polygonal(clipped)
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
