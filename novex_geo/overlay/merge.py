"""Which pieces meet across a tile line, and the union of each connected group of them.

Pieces of one tile never share an edge with a piece of the same key (faces of one sector set,
zone pieces of one pair): they would have been one piece. So the only merging assembly has to
do is across tile lines, between pieces that share a stretch of a tile line of positive length.
Those stretches are found from the pieces' own vertices on their tile's edges, joined as
intervals; the pairs are grouped into connected components and only the pieces of a component
of two or more are unioned, so the work is proportional to what is merged, not to everything
that touches a tile edge. Pieces that meet only in a point stay apart, as a union would keep
them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from novex_geo.geometry import polygons_indexed
from novex_geo.overlay.geometry import EDGE_TOLERANCE, NODING_GRID

__all__ = [
    "MIN_SHARED_LENGTH",
    "Merged",
    "components",
    "merge_across_tiles",
    "tile_line_pairs",
]

# Two pieces whose stretches of a tile line overlap by less than this meet in a point: each
# tile nodes its crossing points on the 10 nm grid on its own, so they may differ by a step.
MIN_SHARED_LENGTH = 2 * NODING_GRID
_LINE_UNIT = 1e-3  # tile lines are told apart in millimetres; they lie at least a tile apart


def _edge_segments(geoms: np.ndarray, tile_bounds: np.ndarray):
    """Every segment of the pieces' exterior rings that lies on an edge of its tile.

    Returns per segment: the piece, the line (``axis`` 0: x = const, 1: y = const; ``line`` in
    millimetres), which side of the line the piece lies on (0 below/left, 1 above/right), and the
    stretch ``lo``–``hi`` along the line. Holes cannot lie on a tile edge: the piece would be
    outside its tile on the other side.
    """
    coords, ring = shapely.get_coordinates(shapely.get_exterior_ring(geoms), return_index=True)
    same = ring[1:] == ring[:-1]
    start, end, piece = coords[:-1][same], coords[1:][same], ring[:-1][same]
    bounds = tile_bounds[piece]
    found = []
    for axis, edge, side in ((0, 0, 1), (0, 2, 0), (1, 1, 1), (1, 3, 0)):
        on = (np.abs(start[:, axis] - bounds[:, edge]) < EDGE_TOLERANCE) & (
            np.abs(end[:, axis] - bounds[:, edge]) < EDGE_TOLERANCE
        )
        along = 1 - axis
        lo = np.minimum(start[on, along], end[on, along])
        hi = np.maximum(start[on, along], end[on, along])
        line = np.round(bounds[on, edge] / _LINE_UNIT).astype(np.int64)
        found.append((piece[on], np.full(on.sum(), axis), line, np.full(on.sum(), side), lo, hi))
    return (np.concatenate(column) for column in zip(*found, strict=True))


def tile_line_pairs(geoms: np.ndarray, tile_bounds: np.ndarray, keys: np.ndarray):
    """Pairs ``(i, j)`` of pieces with the same key on either side of a tile line that share a
    stretch of it longer than :data:`MIN_SHARED_LENGTH`.

    ``tile_bounds`` holds each piece's tile (one row of four per piece); ``keys`` are integers.
    """
    piece, axis, line, side, lo, hi = _edge_segments(geoms, tile_bounds)
    if not len(piece):
        return piece, piece
    # one integer per (line, key): segments can only meet within one
    _, group = np.unique(np.stack([axis, line, keys[piece]]), axis=1, return_inverse=True)
    group = group.astype(float)
    below, above = side == 0, side == 1
    # an interval join: each stretch as a degenerate box at x = its group, so boxes meet only
    # within a group and where the stretches meet
    boxes = shapely.box(group[below], lo[below], group[below], hi[below])
    tree = shapely.STRtree(boxes)
    query, found = tree.query(shapely.box(group[above], lo[above], group[above], hi[above]))
    i, j = np.flatnonzero(above)[query], np.flatnonzero(below)[found]
    shared = np.minimum(hi[i], hi[j]) - np.maximum(lo[i], lo[j])
    keep = shared > MIN_SHARED_LENGTH
    return piece[i[keep]], piece[j[keep]]


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The connected component of each of ``n`` nodes joined by edges ``(i, j)``, numbered
    0, 1, … in order of their smallest node.

    Every root is hooked on the smallest root it is joined to, then pointers jump until every
    node points at its root (after Shiloach–Vishkin): a few array passes, not one per node, as
    parents always have smaller numbers there can be no cycle.
    """
    label = np.arange(n)
    while True:
        li, lj = label[i], label[j]
        if (li == lj).all():
            break
        low = np.minimum(li, lj)
        np.minimum.at(label, li, low)
        np.minimum.at(label, lj, low)
        while True:
            jumped = label[label]
            if (jumped == label).all():
                break
            label = jumped
    return np.unique(label, return_inverse=True)[1]


def _by_component(geoms: np.ndarray, component: np.ndarray, union: Callable[[np.ndarray], np.ndarray]):
    """``union`` (of a 2-D array, along rows, gaps None) of each component's geometries.

    Components are padded to the next power of two and unioned a width at a time: a few
    vectorised calls, at most twice the cells.
    """
    sizes = np.bincount(component)
    width = 2 ** np.ceil(np.log2(np.maximum(sizes, 1))).astype(np.int64)
    order = np.argsort(component, kind="stable")
    member = component[order]
    position = np.arange(len(order)) - (np.cumsum(sizes) - sizes)[member]
    row = np.zeros(len(sizes), dtype=np.int64)
    merged = np.empty(len(sizes), dtype=object)
    for w in np.unique(width):
        mine = np.flatnonzero(width == w)
        row[mine] = np.arange(len(mine))
        cells = np.flatnonzero(width[member] == w)
        table = np.full((len(mine), w), None, dtype=object)
        table[row[member[cells]], position[cells]] = geoms[order[cells]]
        merged[mine] = union(table)
    return merged


@dataclass
class Merged:
    """Pieces after merging: ``parts`` (the merged components' polygons, then every piece left
    as it was), for each part ``source``, one piece it came from (to carry its key over), and
    ``links``, pairs (piece, part) from every piece to every part of its component."""

    parts: np.ndarray
    source: np.ndarray
    links: np.ndarray


def _ranges(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, ``count - 1`` for each count, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def merge_across_tiles(geoms, tile_bounds, keys, union: Callable[[np.ndarray], np.ndarray]) -> Merged:
    """Merge the pieces that meet across tile lines (see the module); ``union`` unions the rows
    of a 2-D array with ``None`` gaps (:func:`union_coverage` for faces)."""
    i, j = tile_line_pairs(geoms, tile_bounds, keys)
    component = components(len(geoms), i, j)
    alone = np.bincount(component)[component] == 1
    merging, kept = np.flatnonzero(~alone), np.flatnonzero(alone)
    first, renumbered = np.unique(component[merging], return_index=True, return_inverse=True)[1:]
    merged = _by_component(geoms[merging], renumbered, union) if len(merging) else merging.astype(object)
    parts, part_component = polygons_indexed(merged)
    count = np.bincount(part_component, minlength=len(first))
    start = np.cumsum(count) - count
    per_piece = count[renumbered]
    to_parts = np.repeat(start[renumbered], per_piece) + _ranges(per_piece)
    links = np.concatenate(
        [
            np.stack([np.repeat(merging, per_piece), to_parts], axis=1),
            np.stack([kept, len(parts) + np.arange(len(kept))], axis=1),
        ]
    )
    source = np.concatenate([merging[first][part_component], kept])
    return Merged(np.concatenate([parts, geoms[kept]]), source, links)
