"""The ``run`` pipeline: load → overlay → outputs, as one library call."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from novex_geo.config import Project
from novex_geo.io.layers import SectorLayer, load_sectors
from novex_geo.io.outputs import ANALYSIS_GPKG, SUMMARY_CSV, input_table, write_layer, write_table
from novex_geo.regions import load_regions, select_regions
from novex_geo.tools.engine import OverlayResult, overlay
from novex_geo.tools.summary import summarise

__all__ = ["OverlayRun", "run_overlay"]

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
    ``herkomst``, ``samenvatting`` and ``invoer``; and ``samenvatting.csv`` beside it.
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
        write_table(
            input_table([r for layer in layers.values() for r in layer.reports]), gpkg, "invoer"
        )
        csv = gpkg.with_name(SUMMARY_CSV)
        summary.to_csv(csv, index=False, float_format="%.2f")
        log.info("wrote %s and %s (%.1f s in total)", gpkg, csv, time.perf_counter() - started)
    return OverlayRun(project, layers, result, summary, gpkg, csv)
