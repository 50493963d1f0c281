"""The ``run`` pipeline: load → overlay → outputs, as one library call."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from novex_geo.config import Project
from novex_geo.errors import NovexError
from novex_geo.io.layers import SectorLayer, load_sectors
from novex_geo.io.outputs import ANALYSIS_GPKG, SUMMARY_CSV, input_table, write_layer, write_table
from novex_geo.overlay.engine import OverlayResult, overlay
from novex_geo.overlay.summary import summarise
from novex_geo.regions import load_regions, select_regions

__all__ = ["OverlayRun", "TriageRun", "run_overlay", "run_triage"]

log = logging.getLogger(__name__)


@dataclass
class OverlayRun:
    """What :func:`run_overlay` computed and wrote."""

    project: Project
    layers: dict[str, SectorLayer]
    result: OverlayResult
    summary: pd.DataFrame
    gpkg: Path | None
    csv: Path | None


def run_overlay(
    project: Project,
    provincies: tuple[str, ...] | list[str] = (),
    min_sectoren: int = 1,
    out: Path | None = None,
    write: bool = True,
) -> OverlayRun:
    """Load every sector, overlay per provincie and write the outputs.

    Writes to ``out`` (default ``<output>/analyse.gpkg``) the layers ``stapeling`` (faces with
    at least ``min_sectoren`` sectors), ``schuurpunten``, ``provincies`` and the tables
    ``herkomst``, ``samenvatting``, ``controle`` (the self-audit) and ``invoer``; and
    ``samenvatting.csv`` beside it.
    """
    started = time.perf_counter()
    regions = select_regions(
        load_regions(project.regions, project.crs), list(provincies or project.provincies)
    )
    layers = load_sectors(project)
    log.info(
        "loaded %s in %.1f s",
        ", ".join(f"{k} ({len(v.frame)})" for k, v in layers.items()),
        time.perf_counter() - started,
    )
    result = overlay(
        regions,
        {key: layer.frame for key, layer in layers.items()},
        project.conflicts,
        tile_size=project.tile_size,
        min_area_m2=project.min_area_m2,
        workers=project.workers,
    )
    summary = summarise(result)
    gpkg = csv = None
    if write:
        gpkg = Path(out) if out else project.output_dir / ANALYSIS_GPKG
        if gpkg.exists():
            gpkg.unlink()
        faces = result.stapeling[result.stapeling["n_sectoren"] >= min_sectoren]
        write_layer(faces, gpkg, "stapeling", f"Stapeling per provincie, {project.name}")
        write_layer(result.schuurpunten, gpkg, "schuurpunten", f"Schuurpunten, {project.name}")
        write_layer(result.regions, gpkg, "provincies")
        write_table(result.herkomst, gpkg, "herkomst")
        write_table(summary, gpkg, "samenvatting")
        write_table(result.controle, gpkg, "controle")
        write_table(input_table([r for layer in layers.values() for r in layer.reports]), gpkg, "invoer")
        csv = gpkg.with_name(SUMMARY_CSV)
        summary.to_csv(csv, index=False, float_format="%.2f")
        log.info("wrote %s and %s (%.1f s in total)", gpkg, csv, time.perf_counter() - started)
    return OverlayRun(project, layers, result, summary, gpkg, csv)


@dataclass
class TriageRun:
    """What :func:`run_triage` computed and wrote."""

    areas: gpd.GeoDataFrame
    gpkg: Path
    csv: Path
    report: Path
    annotations: Path | None
    annotations_added: int


def _read_run(gpkg: Path):
    import pyogrio

    layers = set(pyogrio.list_layers(gpkg)[:, 0])
    missing = {"stapeling", "schuurpunten", "herkomst"} - layers
    if missing:
        raise NovexError(
            f"{gpkg}: not an analysis GeoPackage (missing {', '.join(sorted(missing))}); run novex-geo run"
        )
    read = gpd.read_file
    return (
        read(gpkg, layer="stapeling"),
        read(gpkg, layer="schuurpunten"),
        pyogrio.read_dataframe(gpkg, layer="herkomst", read_geometry=False),
    )


def run_triage(project: Project, gpkg: Path | None = None, write: bool = True) -> TriageRun:
    """Spanningsgebieden and criteria from a run's GeoPackage (running the overlay when absent).

    Writes layer ``spanningsgebieden`` into the GeoPackage, ``spanningsgebieden.csv`` and
    ``triage.md`` beside it, and adds new ids to the annotations file without touching
    what users filled in.
    """
    from novex_geo.io.annotations import read_annotations, update_annotations
    from novex_geo.io.layers import read_source
    from novex_geo.tools.triage import evaluate_criteria, spanningsgebieden, triage_report

    settings = project.triage
    gpkg = Path(gpkg) if gpkg else project.output_dir / ANALYSIS_GPKG
    if not gpkg.exists():
        log.info("%s not found: running the overlay first", gpkg)
        gpkg = run_overlay(project).gpkg
    stapeling, schuurpunten, herkomst = _read_run(gpkg)
    started = time.perf_counter()
    areas = spanningsgebieden(stapeling, schuurpunten, herkomst, project.conflicts, settings)
    priority = [read_source(source, "prioriteit", project.crs)[0] for source in settings.priority]
    gemeenten = load_regions(settings.gemeenten, project.crs) if settings.gemeenten else None
    annotations = read_annotations(settings.annotations)
    areas = evaluate_criteria(areas, settings, priority, gemeenten, annotations)
    log.info("%d spanningsgebieden in %.1f s", len(areas), time.perf_counter() - started)
    csv = gpkg.with_name("spanningsgebieden.csv")
    report = gpkg.with_name("triage.md")
    added = 0
    if write:
        write_layer(areas, gpkg, "spanningsgebieden", f"Spanningsgebieden, {project.name}")
        areas.drop(columns="geometry").to_csv(csv, index=False, float_format="%.2f")
        report.write_text(triage_report(areas, settings, project.name), encoding="utf-8")
        if settings.annotations is not None:
            added = update_annotations(settings.annotations, areas)
    return TriageRun(areas, gpkg, csv, report, settings.annotations, added)
