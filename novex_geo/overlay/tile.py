"""The exact engine for one unit of work: faces, their self-audit and schuurpunt pieces.

Within a task each sector's features are dissolved (``coverage_union_all`` for parcel
coverages, ``union_all`` otherwise) and clipped to the tile, keeping only polygonal parts.
The sectors' boundaries and the provincie boundary are noded (snap-rounded to a 10 nm grid)
and polygonised, and each face is labelled with a sector bit-mask by testing one interior
point against each sector. A connected part of a sector's claims that meets no other sector
(nor the provincie's edge) is a face by itself and skips all that
(:mod:`novex_geo.overlay.apart`).

Every task audits itself by a route independent of the labelling: per sector, the area of the
faces that carry it against the area of the sector's dissolved claims within the provincie
part of the tile, and the faces' total against the union of all claims. A task that fails the
audit, or hits a GEOS TopologyException, is redone on a 1 mm precision grid; one that still
fails stops the run with an :class:`~novex_geo.errors.AuditError`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.errors import GEOSException

from novex_geo.errors import AuditError
from novex_geo.geometry import polygonal, polygonal_each, polygons
from novex_geo.overlay.apart import Apart, set_apart
from novex_geo.overlay.geometry import (
    NODING_GRID,
    PRECISION_GRID,
    SPIKE_WIDTH,
    clip,
    expand,
    union_area,
    union_coverage,
)
from novex_geo.overlay.tasks import Catalogue, OverlayTask, TaskClaims, TaskRequest, TaskSpec, Work

__all__ = [
    "ALL_SECTORS",
    "AUDIT_ABSOLUTE_M2",
    "AUDIT_RELATIVE",
    "TaskResult",
    "audit_problem",
    "run_request",
    "run_task",
]

log = logging.getLogger(__name__)

COVERAGE_MIN_FEATURES = 32  # below this, union_all is as fast as coverage_union_all
AUDIT_RELATIVE = 1e-6
AUDIT_ABSOLUTE_M2 = 1.0
ALL_SECTORS = "alle sectoren"  # the audit's key for the union of every sector's claims


@dataclass
class TaskResult:
    """Faces and schuurpunt pieces of one task; provenance as (piece, sector row) pairs.

    ``expected_m2`` and ``faces_m2`` hold the audit per sector key (and :data:`ALL_SECTORS`):
    the claims' area within the provincie part of the tile, and the area of the faces that
    carry them.
    """

    spec: TaskSpec
    face_geoms: np.ndarray
    face_masks: np.ndarray
    zone_geoms: np.ndarray
    zone_pairs: np.ndarray
    provenance_a: np.ndarray  # shape (n, 2): zone index, row in sector a
    provenance_b: np.ndarray
    expected_m2: dict[str, float] = field(default_factory=dict)
    faces_m2: dict[str, float] = field(default_factory=dict)
    precision_retry: str | None = None
    coverage_fallbacks: int = 0


@dataclass
class _SectorPart:
    """One sector in one task: its claims in the tile, within the provincie, and around."""

    claim: TaskClaims
    tile: shapely.Geometry
    inside: shapely.Geometry
    surroundings: shapely.Geometry | None

    @functools.cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the sector's features, built once per task when provenance needs it."""
        return shapely.STRtree(self.claim.geoms)


def _dissolve(geoms: np.ndarray, grid: float | None) -> tuple[shapely.Geometry, bool]:
    """Union of one sector's features; ``coverage_union_all`` when they form a coverage."""
    if grid is not None:
        return polygonal(shapely.union_all(shapely.set_precision(geoms, grid), grid_size=grid)), False
    if len(geoms) < COVERAGE_MIN_FEATURES:
        return polygonal(shapely.union_all(geoms)), False
    try:
        merged = shapely.coverage_union_all(geoms)
    except GEOSException:  # overlapping features: not a coverage
        return polygonal(shapely.union_all(geoms)), True
    total = float(shapely.area(geoms).sum())
    if abs(merged.area - total) <= 1e-9 * total and shapely.is_valid(merged):
        return polygonal(merged), False
    return polygonal(shapely.union_all(geoms)), True


def _sector_parts(task: OverlayTask, region, grid: float | None) -> tuple[dict[str, _SectorPart], int]:
    bounds = task.spec.bounds
    parts, fallbacks = {}, 0
    for claim in task.claims:
        merged, fell_back = _dissolve(claim.geoms, grid)
        fallbacks += fell_back
        in_tile = clip(merged, bounds, grid)
        if shapely.is_empty(in_tile) and not claim.halo:
            continue
        inside = (
            in_tile if task.interior else polygonal(shapely.intersection(in_tile, region, grid_size=grid))
        )
        around = clip(merged, expand(bounds, claim.halo), grid) if claim.halo else None
        parts[claim.key] = _SectorPart(claim, in_tile, inside, around)
    return parts, fallbacks


def _label_points(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point well inside each face, away from noding spikes."""
    points = shapely.point_on_surface(faces)
    near_edge = np.flatnonzero(shapely.distance(points, shapely.boundary(faces)) < SPIKE_WIDTH)
    if near_edge.size:
        eroded = shapely.buffer(faces[near_edge], -SPIKE_WIDTH)
        solid = ~shapely.is_empty(eroded)
        points[near_edge[solid]] = shapely.point_on_surface(eroded[solid])
    return shapely.get_x(points), shapely.get_y(points)


def _faces(region, parts: dict[str, _SectorPart], spec: TaskSpec, interior: bool, grid: float | None):
    """The claimed faces within ``region`` and their sector bit-masks."""
    tiles = {key: part.tile for key, part in parts.items() if not shapely.is_empty(part.tile)}
    # on the precision grid everything is overlaid: the retry takes the plainest route
    apart = set_apart(tiles, region, spec.bounds, interior) if grid is None else Apart({}, tiles)
    overlaid = {key: tile for key, tile in apart.overlaid.items() if not shapely.is_empty(tile)}
    faces, masks = _overlaid_faces(region, overlaid, parts, interior, grid)
    for key, alone in apart.faces.items():
        faces = np.concatenate([faces, alone])
        masks = np.concatenate([masks, np.full(len(alone), parts[key].claim.bit, dtype=masks.dtype)])
    return faces, masks


def _overlaid_faces(region, overlaid: dict, parts: dict[str, _SectorPart], interior: bool, grid):
    """Faces of the noded boundaries of ``overlaid`` (claims by sector) and the region."""
    if not overlaid:
        return np.empty(0, dtype=object), np.zeros(0, dtype=np.int64)
    linework = [shapely.boundary(tile) for tile in overlaid.values()]
    linework.append(shapely.boundary(region))
    # snap-rounded noding: boundaries that meet within floating-point noise share one node, so
    # polygonize cannot return overlapping faces (seen in property tests without it)
    noded = shapely.union_all(linework, grid_size=grid or NODING_GRID)
    faces = polygons(shapely.polygonize(shapely.get_parts(noded)))
    x, y = _label_points(faces)
    masks = np.zeros(len(faces), dtype=np.int64)
    for key, tile in overlaid.items():
        shapely.prepare(tile)
        masks |= np.where(shapely.contains_xy(tile, x, y), parts[key].claim.bit, 0)
    keep = masks > 0
    if not interior:
        shapely.prepare(region)
        keep &= shapely.contains_xy(region, x, y)
    return faces[keep], masks[keep]


def _audit(parts: dict[str, _SectorPart], faces, masks, grid) -> tuple[dict, dict]:
    """Per sector and for all sectors: the claims' area and the area of the faces carrying them."""
    face_area = shapely.area(faces)
    expected = {key: float(shapely.area(part.inside)) for key, part in parts.items()}
    got = {key: float(face_area[(masks & part.claim.bit) > 0].sum()) for key, part in parts.items()}
    insides = [part.inside for part in parts.values() if not shapely.is_empty(part.inside)]
    expected[ALL_SECTORS] = union_area(insides, grid)
    got[ALL_SECTORS] = float(face_area.sum())
    return expected, got


def audit_problem(expected: dict[str, float], got: dict[str, float]) -> str | None:
    """The worst deviation beyond tolerance (1e-6 relative and 1 m²), described; else ``None``."""
    worst, worst_key = 0.0, None
    for key, area in expected.items():
        difference = abs(got.get(key, 0.0) - area)
        if difference > AUDIT_ABSOLUTE_M2 and difference > AUDIT_RELATIVE * area:
            relative = difference / area if area else np.inf
            if relative > worst or worst_key is None:
                worst, worst_key = relative, key
    if worst_key is None:
        return None
    area, faces = expected[worst_key], got.get(worst_key, 0.0)
    return (
        f"sector {worst_key}: faces carry {faces:,.1f} m² but the claims cover {area:,.1f} m² "
        f"(difference {faces - area:+,.1f} m², {worst:.2e} relative)"
    )


def _provenance(zones, part: _SectorPart, near_zones, distance: float) -> np.ndarray:
    """(zone, row) pairs: features overlapping ``zones`` or within ``distance`` of ``near_zones``.

    Zones are indexed by position in ``zones``; rows are the features' rows in their sector.
    """
    tree, geoms, rows = part.tree, part.claim.geoms, part.claim.rows
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


def _pair_zones(a: _SectorPart, b: _SectorPart, distance: float, faces, masks, grid):
    """Schuurpunt pieces of one pair in this task, with the parts of each side near the other."""
    if distance == 0:
        both = ((masks & a.claim.bit) > 0) & ((masks & b.claim.bit) > 0)
        if not both.any():
            return None
        overlap = faces[both]  # faces of one partition: a coverage, unless on the precision grid
        merged = (
            union_coverage(overlap[np.newaxis])[0]
            if grid is None
            else shapely.union_all(overlap, grid_size=grid)
        )
        return polygons(merged), None, None
    near_a = polygonal(
        shapely.intersection(a.inside, shapely.buffer(b.surroundings, distance), grid_size=grid)
    )
    near_b = polygonal(
        shapely.intersection(b.inside, shapely.buffer(a.surroundings, distance), grid_size=grid)
    )
    zones = polygons(shapely.union(near_a, near_b, grid_size=grid))
    if not len(zones):
        return None
    near_a = polygonal_each(shapely.intersection(zones, near_a, grid_size=grid))
    near_b = polygonal_each(shapely.intersection(zones, near_b, grid_size=grid))
    return zones, near_a, near_b


def _zones(task: OverlayTask, parts: dict[str, _SectorPart], faces, masks, grid):
    zone_geoms, zone_pairs, prov_a, prov_b = [], [], [], []
    offset = 0
    for index, (a, b, distance) in enumerate(task.pairs):
        if a not in parts or b not in parts or not task.spec.work.computes(distance):
            continue
        found = _pair_zones(parts[a], parts[b], distance, faces, masks, grid)
        if found is None:
            continue
        zones, near_a, near_b = found
        pa = _provenance(zones if near_a is None else near_a, parts[a], near_b, distance)
        pb = _provenance(zones if near_b is None else near_b, parts[b], near_a, distance)
        prov_a.append(pa + [offset, 0])
        prov_b.append(pb + [offset, 0])
        zone_geoms.append(zones)
        zone_pairs.append(np.full(len(zones), index))
        offset += len(zones)
    empty_pairs = np.zeros((0, 2), dtype=np.int64)
    return (
        np.concatenate(zone_geoms) if zone_geoms else np.empty(0, dtype=object),
        np.concatenate(zone_pairs) if zone_pairs else np.empty(0, dtype=np.int64),
        np.concatenate(prov_a) if prov_a else empty_pairs,
        np.concatenate(prov_b) if prov_b else empty_pairs,
    )


def _run(task: OverlayTask, grid: float | None) -> TaskResult:
    region = polygonal(task.region if grid is None else shapely.set_precision(task.region, grid))
    parts, fallbacks = _sector_parts(task, region, grid)
    if task.spec.work is Work.AT_DISTANCE:  # the faces of a crowded tile are its quarters' work
        faces, masks = np.empty(0, dtype=object), np.zeros(0, dtype=np.int64)
        expected, got = {}, {}
    else:
        faces, masks = _faces(region, parts, task.spec, task.interior, grid)
        expected, got = _audit(parts, faces, masks, grid)
    zone_geoms, zone_pairs, prov_a, prov_b = _zones(task, parts, faces, masks, grid)
    return TaskResult(
        task.spec,
        faces,
        masks,
        zone_geoms,
        zone_pairs,
        prov_a,
        prov_b,
        expected,
        got,
        coverage_fallbacks=fallbacks,
    )


def run_request(catalogue: Catalogue, request: TaskRequest) -> TaskResult:
    """Build the task of ``request`` from the shared catalogue and run it (what a worker does)."""
    return run_task(catalogue.task(request))


def run_task(task: OverlayTask) -> TaskResult:
    """Run one unit of work, audited; redone on a 1 mm grid when GEOS or the audit fails.

    Raises
    ------
    AuditError
        when the faces still disagree with the claims on the precision grid.
    """
    spec = task.spec
    try:
        result = _run(task, None)
        reason = audit_problem(result.expected_m2, result.faces_m2)
        if reason is None:
            return result
        reason = f"audit: {reason}"
    except GEOSException as exc:
        reason = str(exc)
    log.warning(
        "%s tile %s: %s; redoing it on a %g m precision grid",
        spec.provincie,
        spec.tile,
        reason,
        PRECISION_GRID,
    )
    try:
        result = _run(task, PRECISION_GRID)
    except GEOSException as exc:
        raise AuditError(
            f"{spec.provincie} tile {spec.tile}: GEOS failed on the precision grid too: {exc}"
        ) from None
    problem = audit_problem(result.expected_m2, result.faces_m2)
    if problem is not None:
        raise AuditError(
            f"{spec.provincie} tile {spec.tile} ({', '.join(f'{v:g}' for v in spec.bounds)}): {problem}, "
            f"also on the {PRECISION_GRID:g} m precision grid; nothing was written"
        )
    result.precision_retry = f"{spec.provincie} tile {spec.tile}: {reason}"
    return result
