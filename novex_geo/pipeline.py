"""The library entry for every command: load once, compute, write.

Each ``run_*`` function is what one ``novex-geo`` command does, usable from a notebook
without the CLI. Data flows one way: project → :mod:`~novex_geo.io` →
:mod:`~novex_geo.overlay` → :mod:`~novex_geo.triage` → :mod:`~novex_geo.maps`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from novex_geo.config import Database, Project, Regions
from novex_geo.executor import Executor
from novex_geo.io.files import atomic_path, ensure_folder, output_lock, write_text
from novex_geo.io.layers import SectorLayer, load_sectors, read_source
from novex_geo.io.manifest import write_manifest
from novex_geo.io.outputs import input_table, write_csv, write_layer, write_table
from novex_geo.io.postgis import run_location
from novex_geo.io.postgis_run import write_run_schema, write_triage_schema
from novex_geo.io.qgis import STYLED_LAYERS, source_layers, write_project_file, write_styles
from novex_geo.io.regions import (
    NAMING,
    OVERLAPPING,
    PARTITION,
    check_triage_layers,
    load_regions,
    select_regions,
)
from novex_geo.io.run import ANALYSIS_GPKG, OVERLAY_LAYERS, SUMMARY_CSV, read_run, run_exists
from novex_geo.overlay import OverlayResult, overlay, summarise

if TYPE_CHECKING:  # triage, grid, sketch and the renderers are imported when a command needs them
    from novex_geo.grid import GridResult
    from novex_geo.maps.signal import SignalFiles
    from novex_geo.sketch import SketchResult
    from novex_geo.triage.diff import DiffResult
    from novex_geo.triage.kansen import AreaKansen
    from novex_geo.triage.novex import NovexShares

__all__ = [
    "OverlayRun",
    "SketchRun",
    "TriageRun",
    "run_diff",
    "run_grid",
    "run_maps",
    "run_overlay",
    "run_signals",
    "run_sketch",
    "run_triage",
]

log = logging.getLogger(__name__)

SLIVER_M2 = 1.0  # a face this small is a sliver between boundaries that almost coincide


def _load_regions(regions: Regions, crs: str, kind: str = PARTITION) -> gpd.GeoDataFrame:
    """:func:`~novex_geo.io.regions.load_regions`, with what it resolved (overlaps) said."""
    frame = load_regions(regions, crs, kind)
    for note in frame.attrs.get("notes", []):
        log.warning("%s", note)
    return frame


def _regions(project: Project, provincies: Sequence[str] = ()) -> gpd.GeoDataFrame:
    return select_regions(_load_regions(project.regions, project.crs), list(provincies or project.provincies))


def _sectors(project: Project) -> dict[str, SectorLayer]:
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
    check_triage_layers(project)  # a missing triage layer or field stops here, not after the run
    regions = _regions(project, provincies)
    layers = _sectors(project)
    result = overlay(
        regions,
        {key: layer.frame for key, layer in layers.items()},
        project.conflicts,
        tile_size=project.tile_size,
        min_area_m2=project.min_area_m2,
        workers=project.workers,
        kansen=project.kansen,
        kansen_min_area_m2=project.kansen_min_area_m2,
        executor=Executor.choose(project.executor, project.workers, scheduler),
    )
    summary = summarise(result)
    slivers = result.stapeling.area < SLIVER_M2
    if slivers.any():
        log.info(
            "%d of %d stapeling faces are smaller than %g m² (%.1f m² in total): where the boundaries of "
            "layers almost coincide; kept, so the partition stays exact, but they make no spanningsgebied",
            int(slivers.sum()), len(slivers), SLIVER_M2, float(result.stapeling.area[slivers].sum()),
        )  # fmt: skip
    gpkg = csv = None
    if write:
        gpkg = run_location(out) if out else project.output_dir / ANALYSIS_GPKG
        tables = _overlay_tables(layers, result, summary, min_sectoren)
        if isinstance(gpkg, Database):
            write_run_schema(gpkg, project, tables, layers.values())
        else:
            with output_lock(gpkg.parent):
                _write_overlay(project, layers, tables, gpkg)
                csv = write_csv(summary, gpkg.with_name(SUMMARY_CSV))
        log.info("wrote %s (%.1f s in total)", gpkg, time.perf_counter() - started)
    return OverlayRun(project, layers, result, summary, gpkg, csv)


def _overlay_tables(
    layers: dict[str, SectorLayer], result: OverlayResult, summary: pd.DataFrame, min_sectoren: int
) -> dict[str, pd.DataFrame]:
    """The layers (GeoDataFrames) and tables of a run by name, whatever they are written to."""
    return {
        "stapeling": result.stapeling[result.stapeling["n_sectoren"] >= min_sectoren],
        "schuurpunten": result.schuurpunten, "kansen": result.kansen, "provincies": result.regions,
        "herkomst": result.herkomst,
        "samenvatting": summary, "controle": result.controle,
        "invoer": input_table([report for layer in layers.values() for report in layer.reports]),
    }  # fmt: skip


def _write_overlay(
    project: Project, layers: dict[str, SectorLayer], tables: dict[str, pd.DataFrame], gpkg: Path
) -> None:
    """Every layer and table of the run into a new GeoPackage that replaces ``gpkg`` when complete."""
    titles = {"stapeling": "Stapeling per provincie", "schuurpunten": "Schuurpunten", "kansen": "Kansen"}
    with atomic_path(gpkg) as temporary:
        for name, frame in tables.items():
            if isinstance(frame, gpd.GeoDataFrame):
                title = f"{titles[name]}, {project.name}" if name in titles else ""
                write_layer(frame, temporary, name, title)
            else:
                write_table(frame, temporary, name)
        shown = _qgis_layers(project, ["stapeling", "schuurpunten", "kansen", "provincies"])
        write_styles(temporary, shown, project.labels)
        write_manifest(project, layers.values(), gpkg, into=temporary)
    write_project_file(gpkg, project.name, project.crs, shown, source_layers(project), project.labels)


def _qgis_layers(project: Project, names: Iterable[str]) -> list[str]:
    """The run's layers to style and show in QGIS: the kansen only when the project has kansen."""
    return [name for name in names if name != "kansen" or project.kansen]


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


def run_triage(project: Project, gpkg: Path | str | Database | None = None, write: bool = True) -> TriageRun:
    """Spanningsgebieden and criteria from a run's GeoPackage or PostGIS schema (running the
    overlay into it when absent).

    Writes layer ``spanningsgebieden`` and tables ``conflictparen``, ``kansparen`` and
    ``novexgebieden`` into the GeoPackage (or the schema, in one transaction),
    ``spanningsgebieden.csv`` and ``triage.md`` beside it (for a schema: into the output
    folder), and adds new ids to the annotations file without touching what users filled in.
    """
    from novex_geo.io.annotations import read_annotations, update_annotations
    from novex_geo.triage import evaluate_criteria, spanningsgebieden, triage_report
    from novex_geo.triage.evaluate import separation
    from novex_geo.triage.kansen import kansen_near_areas
    from novex_geo.triage.novex import novex_shares

    settings = project.triage
    location = run_location(gpkg) if gpkg else project.output_dir / ANALYSIS_GPKG
    if not run_exists(location):
        log.info("%s not found: running the overlay first", location)
        run_overlay(project, out=location)
    run = read_run(location, required=OVERLAY_LAYERS)
    assert run.herkomst is not None and run.kansen is not None  # required: read_run read them
    started = time.perf_counter()
    areas, pairs = spanningsgebieden(
        run.stapeling, run.schuurpunten, run.herkomst, project.conflicts, settings, project.min_area_m2
    )
    priority = [read_source(source, "prioriteit", project.crs)[0] for source in settings.priority]
    gemeenten = _load_regions(settings.gemeenten, project.crs, NAMING) if settings.gemeenten else None
    annotations = read_annotations(settings.annotations)
    kansen = kansen_near_areas(areas, run.kansen, run.herkomst, settings.merge_distance)
    gebieden = settings.novex_gebieden
    novex = novex_shares(areas, gebieden and _load_regions(gebieden, project.crs, OVERLAPPING))
    labels = project.labels
    areas = evaluate_criteria(areas, pairs, settings, priority, gemeenten, annotations, kansen, novex, labels)
    log.info("%d spanningsgebieden in %.1f s", len(areas), time.perf_counter() - started)
    uniform = separation(areas, settings)
    if uniform is not None:
        log.warning(
            "criterion 2b is '%s' for %d of %d spanningsgebieden: with provinces_recurring = %d it does "
            "not separate them (triage.md shows the effect of other thresholds)",
            *uniform, len(areas), settings.provinces_recurring,
        )  # fmt: skip
    folder = project.output_dir if isinstance(location, Database) else location.parent
    csv, report = folder / "spanningsgebieden.csv", folder / "triage.md"
    added = 0
    if write:
        tables = {"spanningsgebieden": areas, "conflictparen": pairs, "kansparen": kansen.per_area,
                  "novexgebieden": novex.table}  # fmt: skip
        with output_lock(folder):
            if isinstance(location, Database):
                write_triage_schema(location, project, tables)
            else:
                _write_triage(project, tables, location)
            write_csv(areas.drop(columns="geometry"), csv)
            report_kansen = kansen if project.kansen else None  # no kansen sections without kansen pairs
            text = triage_report(areas, settings, project.name, pairs, kansen=report_kansen, labels=labels)
            write_text(report, text)
            if settings.annotations is not None:
                added = update_annotations(settings.annotations, areas)
    return TriageRun(areas, pairs, location, csv, report, settings.annotations, added, kansen, novex)


def _write_triage(project: Project, tables: dict[str, pd.DataFrame], gpkg: Path) -> None:
    """Add the triage layer and tables to the run's GeoPackage (replaced when complete)."""
    with atomic_path(gpkg, start_from_target=True) as temporary:
        for name, frame in tables.items():
            if isinstance(frame, gpd.GeoDataFrame):
                write_layer(frame, temporary, name, f"Spanningsgebieden, {project.name}")
            else:
                write_table(frame, temporary, name)
        write_styles(temporary, ["spanningsgebieden"], project.labels)
    shown = _qgis_layers(project, STYLED_LAYERS)
    write_project_file(gpkg, project.name, project.crs, shown, source_layers(project), project.labels)


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

    layers = layers if layers is not None else _sectors(project)
    regions = _regions(project, provincies)
    out = Path(out) if out else project.output_dir
    with output_lock(out):
        executor = Executor.choose(project.executor, project.workers, scheduler)
        return grid_overlay(project, layers, regions, resolution, out, executor=executor)


def run_maps(
    project: Project,
    provincies: Sequence[str] = (),
    out: Path | None = None,
    png: bool = False,
    gpkg: Path | None = None,
    layers: dict[str, SectorLayer] | None = None,
    poster: str | None = None,
    assets: str = "inline",
) -> list[Path]:
    """Kaartsessie maps from a run's GeoPackage into ``out`` (default ``<output>/kaarten``);
    with ``poster`` (``"A3"``/``"A0"``) a print poster per provincie too."""
    from novex_geo.maps.web import write_maps

    gpkg = Path(gpkg) if gpkg else project.output_dir / ANALYSIS_GPKG
    run = read_run(
        gpkg, required=("provincies", "stapeling", "schuurpunten", "kansen"), optional=("spanningsgebieden",)
    )
    layers = layers if layers is not None else _sectors(project)
    out = Path(out) if out else project.output_dir / "kaarten"
    names = list(provincies or project.provincies) or None
    with output_lock(out):
        return write_maps(project, run, layers, out, names, png=png, poster=poster, assets=assets)


def run_signals(
    project: Project,
    ids: list[str] | None = None,
    top: int | None = None,
    out: Path | None = None,
    gpkg: Path | None = None,
    layers: dict[str, SectorLayer] | None = None,
) -> list[SignalFiles]:
    """Signal 1-pagers for ``ids`` or the ``top`` best-ranked spanningsgebieden (default
    ``<output>/signalen``)."""
    from novex_geo.maps.signal import write_signals

    gpkg = Path(gpkg) if gpkg else project.output_dir / ANALYSIS_GPKG
    run = read_run(gpkg, required=("spanningsgebieden", "schuurpunten", "kansen", "herkomst"))
    layers = layers if layers is not None else _sectors(project)
    regions = _load_regions(project.regions, project.crs)
    named = project.triage.gemeenten
    gemeenten = _load_regions(named, project.crs, NAMING) if named else None
    out = Path(out) if out else project.output_dir / "signalen"
    with output_lock(out):
        return write_signals(project, run, layers, regions, gemeenten, out, ids, top)


@dataclass
class SketchRun:
    """What :func:`run_sketch` evaluated and wrote."""

    result: SketchResult
    report: Path
    picture: Path


def run_sketch(
    project: Project, sketch_file: Path, sector: str | None = None, out: Path | None = None
) -> SketchRun:
    """Evaluate a sketch; write ``<sketch>_beoordeling.md`` and ``.png`` (default beside the sketch)."""
    from novex_geo.maps.sketch import draw_sketch_map
    from novex_geo.sketch import evaluate_sketch, sketch_report

    sketch_file = Path(sketch_file)
    result = evaluate_sketch(project, sketch_file, sector)
    folder = ensure_folder(Path(out) if out else sketch_file.parent)
    text = sketch_report(result, sketch_file, project.labels)
    report = write_text(folder / f"{sketch_file.stem}_beoordeling.md", text)
    title = f"{sketch_file.name}: {len(result.new_schuurpunten)} nieuwe schuurpunt(en)"
    regions = _load_regions(project.regions, project.crs)
    picture = draw_sketch_map(project, result, regions, title, folder / f"{sketch_file.stem}_beoordeling.png")
    return SketchRun(result, report, picture)


def run_diff(old: Path, new: Path, out: Path | None = None, tolerance: float = 5.0) -> DiffResult:
    """Changes in spanningsgebieden between two runs (default: beside ``new``)."""
    from novex_geo.triage.diff import diff_runs

    return diff_runs(Path(old), Path(new), Path(out) if out else Path(new).parent, tolerance)
