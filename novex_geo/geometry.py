"""Geometry helpers that never drop area silently.

Shapely's set operations may return a ``GeometryCollection`` (polygons plus the lines or
points where two inputs only touch), a lower-dimensional geometry, or an empty one. These
helpers keep exactly the polygonal part and discard the rest knowingly, so a collection can
never reach ``shapely.boundary`` (which returns ``None`` for collections) or a type test that
would skip it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

__all__ = [
    "EMPTY",
    "available_cores",
    "on_every_core",
    "polygonal",
    "polygonal_each",
    "polygons",
    "polygons_indexed",
]

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
    return polygons_indexed(geoms)[0]


def polygons_indexed(geoms) -> tuple[np.ndarray, np.ndarray]:
    """:func:`polygons`, with the index in ``geoms`` of the geometry each polygon came from."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    while np.isin(shapely.get_type_id(parts), _MULTI).any():  # collections may nest
        parts, inner = shapely.get_parts(parts, return_index=True)
        index = index[inner]
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    return parts[keep], index[keep]


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


# below this many geometries a second thread costs more than it saves
THREADED_MIN = 100_000


def available_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def on_every_core(func: Callable[[np.ndarray], np.ndarray], geoms: np.ndarray) -> np.ndarray:
    """``func``, a vectorised shapely function with one result per geometry, over a large array
    in one thread per core: shapely releases the GIL, so the cores share the work."""
    threads = min(available_cores(), len(geoms) // THREADED_MIN)
    if threads < 2:
        return func(geoms)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="novex-geometry") as pool:
        return np.concatenate(list(pool.map(func, np.array_split(geoms, threads))))
