"""Claims apart: the parts of a sector's dissolved claims that meet no other sector in a tile.

Most parcels of a dense sector (landbouw's BRP percelen) lie where no other sector claims land
and away from the provincie's edge. A connected part of a sector's dissolved claims that meets
no part of another sector's claims, nor the provincie's edge, is a face by itself: its sector is
alone all over it and no other boundary crosses it. Such parts skip the noding, the
polygonizing and the labelling; only the parts that meet something are overlaid.

The parts apart are rounded to the noding grid, as the overlaid faces are snap-rounded to it,
so that faces of neighbouring tiles still meet along identical edges when they are merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from novex_geo.geometry import EMPTY, polygons
from novex_geo.overlay.geometry import NODING_GRID

__all__ = ["APART_MIN_PARTS", "Apart", "set_apart"]

# a sector with fewer parts in a tile is overlaid whole: the test would cost what it saves
APART_MIN_PARTS = 32


@dataclass(frozen=True)
class Apart:
    """Per sector: its parts apart, within the region (faces of their own), and what remains of
    its claims in the tile to overlay."""

    faces: dict[str, np.ndarray]
    overlaid: dict[str, shapely.Geometry]


def set_apart(tiles: dict[str, shapely.Geometry], region: shapely.Geometry, bounds, interior: bool) -> Apart:
    """Set apart the parts of each sector's claims in the tile (``tiles``, by sector) that meet
    no other sector's claims and not the provincie's edge (touching counts as meeting)."""
    parts = {key: polygons(tile) for key, tile in tiles.items()}
    dense = [key for key, found in parts.items() if len(found) >= APART_MIN_PARTS]
    if not dense:
        return Apart({}, dict(tiles))
    edge = None if interior else _provincie_edge(region, bounds)
    faces, overlaid = {}, dict(tiles)
    for key in dense:
        tree = shapely.STRtree(parts[key])
        meets = np.zeros(len(parts[key]), dtype=bool)
        for other, found in parts.items():
            if other != key and len(found):
                meets[tree.query(found, predicate="intersects")[1]] = True
        if edge is not None:
            meets[tree.query(edge, predicate="intersects")[1]] = True
        if meets.all():
            continue
        alone = np.flatnonzero(~meets)
        if not interior:  # apart from the provincie's edge, a part lies wholly inside the region or out
            inner = shapely.point_on_surface(parts[key][alone])
            shapely.prepare(region)
            alone = alone[shapely.contains_xy(region, shapely.get_x(inner), shapely.get_y(inner))]
        rounded = shapely.set_precision(parts[key][alone], NODING_GRID, mode="pointwise")
        # a part thinner than the grid somewhere may not survive rounding: the noding handles it
        valid = shapely.is_valid(rounded)
        meets[alone[~valid]] = True
        faces[key] = rounded[valid]
        overlaid[key] = shapely.multipolygons(parts[key][meets]) if meets.any() else EMPTY
    return Apart(faces, overlaid)


def _provincie_edge(region: shapely.Geometry, bounds) -> np.ndarray:
    """The region's boundary without the tile's own edges: where the provincie ends."""
    tile_edge = shapely.boundary(shapely.box(*bounds))
    return shapely.get_parts(shapely.difference(shapely.boundary(region), tile_edge))
