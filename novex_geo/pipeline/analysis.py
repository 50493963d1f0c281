"""Load, overlay, triage and grid: the analysis steps of the pipeline."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import Database, Project, Regions
from novex_geo.errors import LayerError, UsageError
from novex_geo.executor import Executor
from novex_geo.io.files import output_lock, write_text
from novex_geo.io.layers import SectorLayer, load_sectors, read_source
from novex_geo.io.outputs import input_table, write_csv
from novex_geo.io.qgis import STYLED_LAYERS
from novex_geo.io.regions import (
    NAMING,
    OVERLAPPING,
    PARTITION,
    check_triage_layers,
    load_regions,
    select_regions,
)
from novex_geo.io.run import (
    AFSPRAKEN,
    AREAS_CSV,
    CONFLICTPAREN,
    CONTROLE,
    HERKOMST,
    INVOER,
    KANSEN,
    KANSPAREN,
    NOVEXGEBIEDEN,
    OVERLAY_LAYERS,
    PROVINCIES,
    SAMENVATTING,
    SCHUURPUNTEN,
    SPANNINGSGEBIEDEN,
    STAPELING,
    TRIAGE_MD,
    add_triage,
    check_run_target,
    location_of,
    read_run,
    replaced_run,
    run_exists,
    run_location,
    write_run,
)
from novex_geo.overlay import OverlayResult, summarise
from novex_geo.overlay.audit import describe
from novex_geo.overlay.engine import overlay_project
from novex_geo.overlay.summary import PRINTED_COLUMNS
from novex_geo.units import SLIVER_M2

if TYPE_CHECKING:  # triage, grid, sketch and the renderers are imported when a command needs them
    from novex_geo.grid import GridResult
    from novex_geo.triage.kansen import AreaKansen
    from novex_geo.triage.novex import NovexShares

__all__ = [
    "PRINTED_COLUMNS",
    "OverlayRun",
    "TriageRun",
    "audit_line",
    "check_within_regions",
    "load_claims",
    "load_gemeenten",
    "load_priority",
    "load_regions_logged",
    "location_of",
    "run_grid",
    "run_overlay",
    "run_triage",
]

log = logging.getLogger(__name__)
Bounds = tuple[float, float, float, float]


def audit_line(controle: pd.DataFrame) -> str:
    """The self-audit in one line: the largest relative difference between faces and claims."""
    return describe(controle)


def load_regions_logged(regions: Regions, crs: str, kind: str = PARTITION) -> gpd.GeoDataFrame:
    """:func:`~novex_geo.io.regions.load_regions`, with what it resolved (overlaps) said."""
    frame = load_regions(regions, crs, kind)
    for note in frame.attrs.get("notes", []):
        log.warning("%s", note)
    return frame


def load_priority(project: Project, area: Bounds | None = None) -> list[gpd.GeoDataFrame]:
    """The priority areas of criterion 3 (``[triage] priority``), within ``area`` if given; what
    reading them found (an empty layer, a ``where`` that matches nothing) is logged, since it
    turns criterion 3 to 'nee' everywhere."""
    priority = []
    for source in project.triage.priority:
        frame, report = read_source(source, "prioriteit", project.crs, area)
        for warning in report.warnings:
            log.warning("prioriteit %s: %s", source.name, warning)
        priority.append(frame)
    return priority


def load_gemeenten(project: Project) -> gpd.GeoDataFrame | None:
    """The gemeenten that name spanningsgebieden (``[triage] gemeenten``), or ``None``."""
    named = project.triage.gemeenten
    return load_regions_logged(named, project.crs, NAMING) if named else None


def check_within_regions(geoms: np.ndarray, regions: gpd.GeoDataFrame, path: Path, what: str) -> None:
    """A :class:`LayerError` naming ``path`` when none of ``geoms`` meets the project's regions:
    x and y swapped, or drawn for another place; it would otherwise change nothing, silently."""
    if not regions.intersects(shapely.union_all(geoms)).any():
        west, south, east, north = shapely.total_bounds(geoms)
        raise LayerError(
            f"{what} lies outside the project's regions ({west:,.0f}, {south:,.0f} … {east:,.0f}, "
            f"{north:,.0f} in {regions.crs.to_string() if regions.crs else 'the analysis CRS'}): are x and "
            "y swapped, or is it drawn for another place?",
            path,
        )


def _regions(project: Project, provincies: Sequence[str] = ()) -> gpd.GeoDataFrame:
    return select_regions(
        load_regions_logged(project.regions, project.crs), list(provincies or project.provincies)
    )


def _executor(project: Project, scheduler: str | None) -> Executor:
    """Where the tasks run; a dask scheduler address is checked (a dask scheduler with a worker)
    before any layer is loaded, not after minutes of loading."""
    executor = Executor.choose(project.executor, project.workers, scheduler)
    if executor.scheduler is not None:
        from novex_geo.cluster import check_scheduler

        check_scheduler(executor.scheduler)
    return executor


def load_claims(project: Project) -> dict[str, SectorLayer]:
    started = time.perf_counter()
    layers = load_sectors(project)
    counts = ", ".join(f"{key} ({len(layer.frame)})" for key, layer in layers.items())
    log.info("loaded %s in %.1f s", counts, time.perf_counter() - started)
    return layers


@dataclass
class OverlayRun:
    """What :func:`run_overlay` computed and wrote."""

    project: Project
    layers: dict[str, SectorLayer]
    result: OverlayResult
    summary: pd.DataFrame
    gpkg: Path | Database | None
    csv: Path | None


def run_overlay(
    project: Project,
    provincies: tuple[str, ...] | list[str] = (),
    min_sectoren: int = 1,
    out: Path | str | Database | None = None,
    write: bool = True,
    scheduler: str | None = None,
) -> OverlayRun:
    """Load every sector, overlay per provincie and write the outputs.

    Writes to ``out`` (default ``<output>/analyse.gpkg``) the layers ``stapeling`` (faces with
    at least ``min_sectoren`` sectors), ``schuurpunten``, ``kansen``, ``provincies`` and the tables
    ``herkomst``, ``samenvatting``, ``controle`` (the self-audit) and ``invoer``; and
    ``samenvatting.csv`` beside it. With ``out = "postgresql://…?schema=NAME"`` they (and the
    manifest) replace that PostGIS schema instead (:mod:`novex_geo.io.postgis_run`). The tiles
    run on the project's executor (``scheduler``: the address of a dask scheduler, which
    overrides it).
    """
    started = time.perf_counter()
    target = run_location(project, out)
    if write:
        check_run_target(project, target, chosen=out is not None)  # before any work: never over an input
    check_triage_layers(project)  # a missing triage layer or field stops here, not after the run
    executor = _executor(project, scheduler)  # a wrong scheduler too
    regions = _regions(project, provincies)
    if write:
        _say_what_is_replaced(target, regions["provincie"])
    layers = load_claims(project)
    result = overlay_project(project, regions, {key: layer.frame for key, layer in layers.items()}, executor)
    summary = summarise(result)
    slivers = result.stapeling.area < SLIVER_M2
    if slivers.any():
        log.info(
            "%d of %d stapeling faces are smaller than %g m² (%.1f m² in total): where the boundaries of "
            "layers almost coincide; kept, so the partition stays exact, but they make no spanningsgebied",
            int(slivers.sum()),
            len(slivers),
            SLIVER_M2,
            float(result.stapeling.area[slivers].sum()),
        )
    gpkg = csv = None
    if write:
        gpkg = target
        tables = _overlay_tables(layers, result, summary, min_sectoren)
        styled = _qgis_layers(project, [STAPELING.name, SCHUURPUNTEN.name, KANSEN.name, PROVINCIES.name])
        csv = write_run(project, layers, tables, gpkg, styled)
        log.info("wrote %s (%.1f s in total)", gpkg, time.perf_counter() - started)
    return OverlayRun(project, layers, result, summary, gpkg, csv)


def _say_what_is_replaced(target: Path | Database, provincies: pd.Series) -> None:
    """A warning when this run covers fewer provinces than the run it replaces, and a note that
    the replaced run's triage is gone with it (its reports beside it are then out of date)."""
    before, triaged = replaced_run(target)
    left_out = sorted(set(before) - set(provincies))
    if left_out:
        log.warning(
            "%s holds a run of %d provinces; this run of %d replaces it, without %s (--out keeps both)",
            target,
            len(set(before)),
            len(provincies),
            ", ".join(left_out),
        )
    if triaged:
        log.info(
            "%s: the triage in it (%s) is replaced too; run novex-geo triage again, until then "
            "triage.md and the signals beside it are of the previous run",
            target,
            ", ".join(triaged),
        )


def _overlay_tables(
    layers: dict[str, SectorLayer], result: OverlayResult, summary: pd.DataFrame, min_sectoren: int
) -> dict[str, pd.DataFrame]:
    """The layers (GeoDataFrames) and tables of a run by name, whatever they are written to."""
    kept = result.stapeling["n_sectoren"] >= min_sectoren
    if not kept.all():
        log.warning(
            "%s of %s stapeling faces have fewer than %d sectors (--min-sectoren) and are not written%s",
            f"{int((~kept).sum()):,}",
            f"{len(kept):,}",
            min_sectoren,
            ""
            if min_sectoren <= len(result.sectors)
            else f": the project has only {len(result.sectors)} sectors",
        )
    return {
        STAPELING.name: result.stapeling[kept],
        SCHUURPUNTEN.name: result.schuurpunten,
        KANSEN.name: result.kansen,
        PROVINCIES.name: result.regions,
        HERKOMST.name: result.herkomst,
        SAMENVATTING.name: summary,
        CONTROLE.name: result.controle,
        INVOER.name: input_table([report for layer in layers.values() for report in layer.reports]),
    }


def _qgis_layers(project: Project, names: Iterable[str]) -> list[str]:
    """The run's layers to style and show in QGIS: the kansen only when the project has kansen."""
    return [name for name in names if name != KANSEN.name or project.kansen]


@dataclass
class TriageRun:
    """What :func:`run_triage` computed and wrote."""

    areas: gpd.GeoDataFrame
    pairs: pd.DataFrame
    gpkg: Path | Database
    csv: Path
    report: Path
    annotations: Path | None
    annotations_added: int
    kansen: AreaKansen | None = None  # the kansen near each area
    novex: NovexShares | None = None  # the share of each area in each NOVEX-gebied


def _check_same_pairs(project: Project, location: Path | Database, schuurpunten: pd.DataFrame | None) -> None:
    """A :class:`UsageError` when the run's schuurpunten hold a pair that the project no longer
    has (a sector renamed, a pair removed): weighed as nothing, they would silently skew the
    ranking."""
    found = set() if schuurpunten is None else set(schuurpunten["conflict"])
    unknown = sorted(found - {pair.key for pair in project.conflicts})
    if unknown:
        raise UsageError(
            f"{location} was run with another project file: its pair(s) {', '.join(unknown)} are not "
            f"in the conflicts of {project.path.name}; run novex-geo run again"
        )


def run_triage(project: Project, gpkg: Path | str | Database | None = None, write: bool = True) -> TriageRun:
    """Spanningsgebieden and criteria from a run's GeoPackage or PostGIS schema (running the
    overlay into it when absent).

    Writes layer ``spanningsgebieden`` and tables ``conflictparen``, ``kansparen`` and
    ``novexgebieden`` into the GeoPackage (or the schema, in one transaction),
    ``spanningsgebieden.csv`` and ``triage.md`` beside it (for a schema: into the output
    folder), and adds new ids to the annotations file without touching what users filled in.
    """
    from novex_geo.io.annotations import read_annotations
    from novex_geo.triage import evaluate_criteria, spanningsgebieden
    from novex_geo.triage.evaluate import separation
    from novex_geo.triage.kansen import kansen_near_areas
    from novex_geo.triage.novex import novex_shares

    settings = project.triage
    location = run_location(project, gpkg)
    if not run_exists(location):
        log.info("%s not found: running the overlay first", location)
        run_overlay(project, out=location)
    run = read_run(location, required=OVERLAY_LAYERS)
    assert run.herkomst is not None and run.kansen is not None  # required: read_run read them
    _check_same_pairs(project, location, run.schuurpunten)
    started = time.perf_counter()
    areas, pairs = spanningsgebieden(
        run.stapeling, run.schuurpunten, run.herkomst, project.conflicts, settings, project.min_area_m2
    )
    priority = load_priority(project)
    gemeenten = load_gemeenten(project)
    annotations = read_annotations(settings.annotations)
    kansen = kansen_near_areas(areas, run.kansen, run.herkomst, settings.merge_distance)
    gebieden = settings.novex_gebieden
    novex = novex_shares(areas, gebieden and load_regions_logged(gebieden, project.crs, OVERLAPPING))
    labels = project.labels
    areas = evaluate_criteria(areas, pairs, settings, priority, gemeenten, annotations, kansen, novex, labels)
    log.info("%d spanningsgebieden in %.1f s", len(areas), time.perf_counter() - started)
    uniform = separation(areas, settings)
    if uniform is not None:
        log.warning(
            "criterion 2b is '%s' for %d of %d spanningsgebieden: with provinces_recurring = %d it does "
            "not separate them (triage.md shows the effect of other thresholds)",
            *uniform,
            len(areas),
            settings.provinces_recurring,
        )
    folder = project.output_dir if isinstance(location, Database) else location.parent
    csv, report = folder / AREAS_CSV, folder / TRIAGE_MD
    triage = TriageRun(areas, pairs, location, csv, report, settings.annotations, 0, kansen, novex)
    if write:
        _write_triage(project, triage, folder)
    return triage


def _write_triage(project: Project, run: TriageRun, folder: Path) -> None:
    """The triage's layer and tables into the run (with the annotations file's afspraken as they
    stand: novex-geo monitor reads them per run), the CSV and triage.md beside it, and new ids
    into the annotations file (``run.annotations_added``)."""
    from novex_geo.io.annotations import read_afspraken, update_annotations
    from novex_geo.triage import triage_report

    settings, areas = project.triage, run.areas
    assert run.kansen is not None and run.novex is not None  # run_triage computed them
    tables = {
        SPANNINGSGEBIEDEN.name: areas,
        CONFLICTPAREN.name: run.pairs,
        KANSPAREN.name: run.kansen.per_area,
        NOVEXGEBIEDEN.name: run.novex.table,
        AFSPRAKEN.name: read_afspraken(settings.annotations),
    }
    with output_lock(folder):
        add_triage(project, tables, run.gpkg, _qgis_layers(project, STYLED_LAYERS))
        write_csv(areas.drop(columns="geometry"), run.csv)
        report_kansen = run.kansen if project.kansen else None  # no kansen sections without kansen pairs
        labels = project.labels
        text = triage_report(areas, settings, project.name, run.pairs, kansen=report_kansen, labels=labels)
        write_text(run.report, text)
        if settings.annotations is not None:
            run.annotations_added = update_annotations(settings.annotations, areas)


def run_grid(
    project: Project,
    resolution: float = 25.0,
    provincies: Sequence[str] = (),
    out: Path | None = None,
    layers: dict[str, SectorLayer] | None = None,
    scheduler: str | None = None,
) -> GridResult:
    """Grid mode (:func:`novex_geo.grid.grid_overlay`) into ``out`` (default: the output folder)."""
    from novex_geo.grid import grid_overlay

    executor = _executor(project, scheduler)
    regions = _regions(project, provincies)  # an unknown provincie stops before the loading
    layers = layers if layers is not None else load_claims(project)
    out = Path(out) if out else project.output_dir
    with output_lock(out):
        return grid_overlay(project, layers, regions, resolution, out, executor=executor)
