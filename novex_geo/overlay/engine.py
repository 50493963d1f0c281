"""Exact overlay engine: stapeling (stacking) and schuurpunten (friction zones).

Definitions
-----------
Stapeling
    Per provincie, the planar partition of all claimed area into faces. A face is a maximal
    connected region inside which the set of claiming sectors is constant; ``n_sectoren``
    counts *distinct* sectors (two overlapping features of one sector count once). Faces are
    cut at provincial borders, never at the tile lines the engine works in.
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
Kans
    The same for a pair of the kansen (an opportunity instead of a conflict): a kans is found
    by the same definitions, distances and provenance as a schuurpunt, because the engine
    computes every pair alike and only assembly tells the kinds apart (:class:`ZoneKind`).

Algorithm
---------
The work is split into independent tasks, one per (provincie, tile) of a square RD grid
(:mod:`novex_geo.overlay.tasks`; a crowded tile's faces in its quarters, its zones at a
distance whole), run on all cores; each task computes and audits its faces and schuurpunt
pieces (:mod:`novex_geo.overlay.tile`). The results are merged across tile
lines (:mod:`novex_geo.overlay.assembly`) and audited once more against the claims
(:mod:`novex_geo.overlay.audit`, table ``controle``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from novex_geo.config import KANS, SCHUURPUNT, ZONE_KINDS, ConflictPair, KansPair, Project
from novex_geo.errors import LayerError, UsageError
from novex_geo.executor import Executor
from novex_geo.overlay.assembly import TaskRows, Zones, assemble_faces, assemble_zones
from novex_geo.overlay.audit import check_controle, controle_table
from novex_geo.overlay.tasks import CROWDED_TILE_FEATURES, Catalogue, TaskRequest, TaskSpec, Work, plan_tasks
from novex_geo.overlay.tile import TaskResult, run_request

__all__ = ["OverlayResult", "overlay", "overlay_project"]

log = logging.getLogger(__name__)


@dataclass
class OverlayResult:
    """The outcome of :func:`overlay`.

    Attributes
    ----------
    stapeling : faces with ``vlak_id``, ``provincie``, ``sectoren``, ``n_sectoren``,
        ``oppervlakte_m2`` and a 0/1 column per sector
    schuurpunten : zones with ``schuurpunt_id``, ``conflict``, ``sector_a``, ``sector_b``,
        ``afstand_m``, ``gewicht``, ``provincie``, ``oppervlakte_m2`` and provenance
    kansen : the zones of the kansen, with ``kans_id``, ``kans``, ``toelichting`` and otherwise
        the columns of the schuurpunten
    herkomst : one row per (zone, feature), with ``soort`` (``schuurpunt``/``kans``) and
        ``zone_id``: the overlap table behind the provenance
    controle : the self-audit per provincie and sector (see :mod:`novex_geo.overlay.audit`)
    regions : the provinces analysed, with ``provincie`` and geometry
    sectors : sector keys in bit order
    dropped : per kind (``soort``) the number and area (m²) of the zones smaller than
        ``min_area_m2`` of that kind, which were dropped
    """

    stapeling: gpd.GeoDataFrame
    schuurpunten: gpd.GeoDataFrame
    kansen: gpd.GeoDataFrame
    herkomst: pd.DataFrame
    controle: pd.DataFrame
    regions: gpd.GeoDataFrame
    sectors: list[str]
    conflicts: tuple[ConflictPair, ...]
    kans_pairs: tuple[KansPair, ...] = ()
    dropped: dict[str, tuple[int, float]] = field(default_factory=dict)
    min_area_m2: dict[str, float] = field(default_factory=dict)
    precision_retries: list[str] = field(default_factory=list)
    coverage_fallbacks: int = 0
    n_tasks: int = 0
    seconds: float = 0.0


class _Collector:
    """Gathers the tasks' results as they arrive and logs progress per provincie."""

    def __init__(self, specs: list[TaskSpec]):
        self.tiles = pd.Series([spec.provincie for spec in specs]).value_counts().to_dict()
        self.done = dict.fromkeys(self.tiles, 0)
        self.faces, self.zones = TaskRows(), TaskRows()
        self.provenance: dict[str, list[np.ndarray]] = {"a": [], "b": []}
        self.expected: list[tuple[str, str, float]] = []
        self.retries: list[str] = []
        self.fallbacks = self.pieces = self.finished = 0
        self.started = time.perf_counter()

    def add(self, result: TaskResult) -> None:
        spec = result.spec
        self.faces.add(spec, result.face_geoms, mask=result.face_masks)
        if len(result.zone_geoms):
            self.zones.add(
                spec,
                result.zone_geoms,
                piece=self.pieces + np.arange(len(result.zone_geoms)),
                pair=result.zone_pairs,
            )
            for side, prov in (("a", result.provenance_a), ("b", result.provenance_b)):
                self.provenance[side].append(prov + [self.pieces, 0])
            self.pieces += len(result.zone_geoms)
        self.expected += [(spec.provincie, sector, m2) for sector, m2 in result.expected_m2.items()]
        if result.precision_retry:
            self.retries.append(result.precision_retry)
        self.fallbacks += result.coverage_fallbacks
        self.done[spec.provincie] += 1
        if self.done[spec.provincie] == self.tiles[spec.provincie]:
            self.finished += 1
            log.info(
                "[%d/%d] %s: %d tasks done (%.1f s)",
                self.finished,
                len(self.tiles),
                spec.provincie,
                self.done[spec.provincie],
                time.perf_counter() - self.started,
            )


def overlay(
    regions: gpd.GeoDataFrame,
    claims: Mapping[str, gpd.GeoDataFrame],
    conflicts: Sequence[ConflictPair] = (),
    tile_size: float = 10_000.0,
    min_area_m2: float = 0.0,
    workers: int = 0,
    kansen: Sequence[KansPair] = (),
    kansen_min_area_m2: float = 0.0,
    executor: Executor | None = None,
) -> OverlayResult:
    """Stapeling, schuurpunten and kansen of ``claims`` per region, audited against the claims.

    Parameters
    ----------
    regions : GeoDataFrame with a ``provincie`` column, in the analysis CRS
    claims : sector key → GeoDataFrame with ``feature_id``, ``label`` and polygon geometry
        (as loaded by :func:`novex_geo.io.load_sectors`), in the same CRS
    conflicts : the conflict matrix
    tile_size : edge of the square tiles (m) that are the units of work
    min_area_m2 : schuurpunten smaller than this are dropped (and counted)
    workers : worker processes; 0 uses every core
    kansen : the pairs whose meeting is an opportunity
    kansen_min_area_m2 : kansen smaller than this are dropped (and counted)
    executor : where the tasks run (default: ``workers`` local processes); see
        :class:`novex_geo.executor.Executor` for a dask.distributed cluster

    Returns
    -------
    OverlayResult

    Raises
    ------
    UsageError when a pair names a sector without claims; LayerError when ``regions`` has no
    ``provincie`` column; AuditError when faces disagree with the claims beyond 1e-6 relative
    and 1 m² even after a redo on the precision grid (nothing wrong is returned).

    Examples
    --------
    >>> result = overlay(regions, {key: layer.frame for key, layer in layers.items()},
    ...                  project.conflicts)  # doctest: +SKIP
    >>> result.stapeling.groupby("n_sectoren")["oppervlakte_m2"].sum()  # doctest: +SKIP
    """
    # one list of pairs for the engine: every pair is computed alike, whatever its kind
    pairs = (*conflicts, *kansen)
    unknown = {key for pair in pairs for key in (pair.a, pair.b)} - set(claims)
    if unknown:
        raise UsageError(f"sector pairs name sectors without claims: {', '.join(sorted(unknown))}")
    if "provincie" not in regions.columns:
        raise LayerError("regions need a 'provincie' column (see novex_geo.io.regions.load_regions)")
    catalogue = Catalogue(regions, claims, pairs)
    specs = _planned(catalogue, regions, tile_size)
    collected = _Collector(specs)
    executor = executor or Executor(workers=workers)
    requests = catalogue.requests(specs)
    _say_outside(catalogue, requests)
    for result in executor.map(run_request, requests, catalogue):
        collected.add(result)
    minimum = {SCHUURPUNT.soort: min_area_m2, KANS.soort: kansen_min_area_m2}
    return _assemble(collected, regions, claims, tuple(conflicts), tuple(kansen), minimum, len(specs))


def _say_outside(catalogue: Catalogue, requests: Sequence[TaskRequest]) -> None:
    """How many features of each sector no task takes in: they lie away from every provincie
    analysed (in none of its tiles) and so in no face or schuurpunt. A sector with none inside
    is a warning: its pairs find nothing."""
    for key, taken in catalogue.taken(requests).items():
        outside, total = int((~taken).sum()), len(taken)
        if total and outside == total:
            log.warning(
                "%s: none of its %d features lies in the provinces analysed; its pairs find nothing",
                key,
                total,
            )
        elif outside:
            log.info(
                "%s: %d of %d features lie away from the provinces analysed: not in the analysis",
                key,
                outside,
                total,
            )


def _planned(catalogue: Catalogue, regions, tile_size: float) -> list[TaskSpec]:
    """The tasks: one per tile and provincie, crowded tiles split (:meth:`Catalogue.split_crowded`)."""
    tiles = plan_tasks(regions, tile_size)
    specs = catalogue.split_crowded(tiles)
    quarters = sum(spec.work is Work.FACES for spec in specs)
    if quarters:
        log.info(
            "%d of %d tiles hold more than %s features: their faces are worked out in %d quarters",
            len(tiles) - sum(spec.work is Work.WHOLE for spec in specs),
            len(tiles),
            f"{CROWDED_TILE_FEATURES:,}",
            quarters,
        )
    return specs


def _zones(collected: _Collector, regions, claims, pairs, minimum: dict[str, float]) -> Zones:
    """The zones of every kind, with a log line on those dropped as smaller than ``minimum``."""
    prov_a, prov_b = (
        pd.DataFrame(np.concatenate(links) if links else np.empty((0, 2), np.int64), columns=["piece", "row"])
        for links in (collected.provenance["a"], collected.provenance["b"])
    )
    started = time.perf_counter()
    zones = assemble_zones(collected.zones.frame(), prov_a, prov_b, claims, pairs, minimum, regions.crs)
    log.info(
        "%d zone pieces of the tiles merged into %s, with %d herkomst rows (%.1f s)",
        collected.zones.count,
        " and ".join(f"{len(zones.layers[kind.soort])} {kind.layer}" for kind in ZONE_KINDS),
        len(zones.herkomst),
        time.perf_counter() - started,
    )
    for kind in ZONE_KINDS:
        count, area = zones.dropped[kind.soort]
        if count:
            log.info(
                "%d %s smaller than %g m² dropped (%.1f m² in total)",
                count,
                kind.layer,
                minimum[kind.soort],
                area,
            )
    return zones


def _assemble(collected: _Collector, regions, claims, conflicts, kansen, minimum, n_tasks) -> OverlayResult:
    """Faces merged and audited, and beside them the zones of the conflict pairs and kansen.

    The zones are assembled in a thread while the faces are: both are mostly shapely's array
    operations, which release the GIL, so on two cores they take little more than the faces.
    """
    sectors = list(claims)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="novex-zones") as beside:
        pending = beside.submit(_zones, collected, regions, claims, (*conflicts, *kansen), minimum)
        stapeling, controle = _faces_audited(collected, regions, sectors)
        zones = pending.result()
    if collected.fallbacks:
        log.debug(
            "%d tiles: features of a sector were not a clean coverage; used union_all", collected.fallbacks
        )
    return OverlayResult(
        stapeling=stapeling,
        schuurpunten=zones.layers[SCHUURPUNT.soort],
        kansen=zones.layers[KANS.soort],
        herkomst=zones.herkomst,
        controle=controle,
        regions=regions[["provincie", "geometry"]].copy(),
        sectors=sectors,
        conflicts=conflicts,
        kans_pairs=kansen,
        dropped=zones.dropped,
        min_area_m2=minimum,
        precision_retries=collected.retries,
        coverage_fallbacks=collected.fallbacks,
        n_tasks=n_tasks,
        seconds=time.perf_counter() - collected.started,
    )


def _faces_audited(
    collected: _Collector, regions, sectors: list[str]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The stapeling layer, merged across tiles, and its self-audit (raises AuditError when off)."""
    started = time.perf_counter()
    stapeling = assemble_faces(collected.faces.frame(), sectors, regions.crs)
    log.info(
        "%d face pieces of the tiles merged into %d stapeling faces (%.1f s)",
        collected.faces.count,
        len(stapeling),
        time.perf_counter() - started,
    )
    controle = controle_table(
        pd.DataFrame(collected.expected, columns=["provincie", "sector", "m2"]),
        stapeling,
        regions["provincie"],
        sectors,
    )
    check_controle(controle)
    return stapeling, controle


def overlay_project(
    project: Project,
    regions: gpd.GeoDataFrame,
    claims: Mapping[str, gpd.GeoDataFrame],
    executor: Executor | None = None,
) -> OverlayResult:
    """:func:`overlay` with the pairs, tiles, thresholds and workers of ``project``."""
    return overlay(
        regions,
        claims,
        project.conflicts,
        tile_size=project.tile_size,
        min_area_m2=project.min_area_m2,
        workers=project.workers,
        kansen=project.kansen,
        kansen_min_area_m2=project.kansen_min_area_m2,
        executor=executor,
    )
