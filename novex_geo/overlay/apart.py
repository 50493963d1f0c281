"""Features apart: the claims of a dense sector that meet no other sector in a task.

Most parcels of a dense sector (landbouw's BRP percelen) lie where no other sector claims land
and away from the provincie's edge. Where such a feature lies its sector is alone, so its faces
are the features themselves, dissolved: they need no noding, no polygonizing and no labels. A
task overlays only the features that meet another sector's features (or the provincie's edge
within the tile) and afterwards merges the features apart into the faces that carry their
sector alone, in one coverage union per sector.

The features apart are clipped to the tile as the overlaid ones are, and rounded to the noding
grid that the overlaid faces are snap-rounded to, so the two meet along identical edges and the
coverage union applies. When it does not (a sector whose features overlap each other), the union
on the noding grid does the merge; the task reports it as a coverage fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely

from novex_geo.geometry import polygons
from novex_geo.overlay.geometry import NODING_GRID, clip_each, union_coverage
from novex_geo.overlay.tasks import OverlayTask, TaskClaims

__all__ = ["APART_MIN_FEATURES", "Merged", "Split", "merge_apart", "split_apart"]

# a sector with fewer features in a task is overlaid whole: the test would cost what it saves
APART_MIN_FEATURES = 256
COVERAGE_TOLERANCE = 1e-9  # relative: a merge whose area differs more was not of a coverage


@dataclass(frozen=True)
class Split:
    """A task's claims divided: what to overlay, and per sector its features apart.

    ``divided`` names the sectors that lost features to ``apart`` (including features that
    lay outside the tile or the provincie and so left no piece).
    """

    overlaid: tuple[TaskClaims, ...]
    apart: dict[str, np.ndarray]  # clipped to the tile, inside the region, on the noding grid
    divided: frozenset[str]


@dataclass(frozen=True)
class Merged:
    """Faces with the features apart merged in; the sectors whose merge was not a coverage."""

    faces: np.ndarray
    masks: np.ndarray
    apart_m2: dict[str, float]  # area of the features apart, per sector merged as a coverage
    unclean: frozenset[str]


def split_apart(task: OverlayTask, region: shapely.Geometry) -> Split:
    """Divide the claims of ``task`` into those to overlay and those apart."""
    meeting = _meeting(task, region)
    overlaid, apart, divided = [], {}, set()
    for claim in task.claims:
        meets = meeting.get(claim.key)
        if meets is None or meets.all():
            overlaid.append(claim)
            continue
        divided.add(claim.key)
        if meets.any():
            overlaid.append(replace(claim, geoms=claim.geoms[meets], rows=claim.rows[meets]))
        pieces = _pieces(claim.geoms[~meets], task, region)
        if len(pieces):
            apart[claim.key] = pieces
    return Split(tuple(overlaid), apart, frozenset(divided))


def _meeting(task: OverlayTask, region: shapely.Geometry) -> dict[str, np.ndarray]:
    """Per sector with enough features: which of them meet another sector's features or the
    provincie's edge (touching counts)."""
    claims = task.claims
    dense = {claim.key for claim in claims if len(claim.geoms) >= APART_MIN_FEATURES}
    if not dense:
        return {}
    meets = {claim.key: np.zeros(len(claim.geoms), dtype=bool) for claim in claims if claim.key in dense}
    trees = {claim.key: shapely.STRtree(claim.geoms) for claim in claims if claim.key in dense}
    for index, claim in enumerate(claims):
        for other in claims[index + 1 :]:
            if claim.key not in dense and other.key not in dense:
                continue
            # the index of the sector with more features (always a dense one), asked with the other's
            small, large = sorted((claim, other), key=lambda c: len(c.geoms))
            small_i, large_i = trees[large.key].query(small.geoms, predicate="intersects")
            for side, hits in ((small, small_i), (large, large_i)):
                if side.key in dense:
                    meets[side.key][hits] = True
    if not task.interior:
        # the provincie's edge: the region's boundary without the tile's own edges
        tile_edge = shapely.boundary(shapely.box(*task.spec.bounds))
        edge = shapely.get_parts(shapely.difference(shapely.boundary(region), tile_edge))
        for key, tree in trees.items():
            meets[key][tree.query(edge, predicate="intersects")[1]] = True
    return meets


def _pieces(geoms: np.ndarray, task: OverlayTask, region: shapely.Geometry) -> np.ndarray:
    """Features apart clipped to the tile, within the region, rounded to the noding grid."""
    xmin, ymin, xmax, ymax = task.spec.bounds
    bounds = shapely.bounds(geoms)
    crossing = np.flatnonzero(
        (bounds[:, 0] < xmin) | (bounds[:, 1] < ymin) | (bounds[:, 2] > xmax) | (bounds[:, 3] > ymax)
    )
    if crossing.size:
        geoms = geoms.copy()
        geoms[crossing] = clip_each(geoms[crossing], task.spec.bounds)
    geoms = geoms[shapely.area(geoms) > 0]
    if not task.interior and len(geoms):
        # a feature apart does not meet the provincie's edge: wholly inside the region or outside
        inner = shapely.point_on_surface(geoms)
        shapely.prepare(region)
        geoms = geoms[shapely.contains_xy(region, shapely.get_x(inner), shapely.get_y(inner))]
    return shapely.set_precision(geoms, NODING_GRID, mode="pointwise")


def merge_apart(split: Split, bits: dict[str, int], faces: np.ndarray, masks: np.ndarray) -> Merged:
    """The overlaid faces with each sector's features apart merged into the faces that carry
    that sector alone."""
    keep = np.ones(len(faces), dtype=bool)
    merged_faces, merged_masks, apart_m2, unclean = [], [], {}, set()
    for key, pieces in split.apart.items():
        alone = masks == bits[key]
        keep &= ~alone
        table = np.concatenate([pieces, faces[alone]])
        merged = union_coverage(table[np.newaxis])[0]
        total = float(shapely.area(table).sum())
        if abs(float(shapely.area(merged)) - total) <= COVERAGE_TOLERANCE * total:
            apart_m2[key] = float(shapely.area(pieces).sum())
        else:
            unclean.add(key)
        parts = polygons(merged)
        merged_faces.append(parts)
        merged_masks.append(np.full(len(parts), bits[key], dtype=masks.dtype))
    return Merged(
        np.concatenate([faces[keep], *merged_faces]),
        np.concatenate([masks[keep], *merged_masks]),
        apart_m2,
        frozenset(unclean),
    )
