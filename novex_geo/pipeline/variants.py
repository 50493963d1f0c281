"""Oplossingsrichtingen for one spanningsgebied side by side: what ``novex-geo varianten`` does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import shapely

from novex_geo.config import Database, Project
from novex_geo.errors import LayerError, UsageError
from novex_geo.io.files import atomic_path, ensure_folder, output_lock, write_text
from novex_geo.io.layers import load_sectors, read_source, read_vector
from novex_geo.io.outputs import write_csv, write_layer
from novex_geo.io.run import SPANNINGSGEBIEDEN, read_run, run_location
from novex_geo.pipeline.analysis import load_regions_logged

__all__ = ["VariantsRun", "run_variants"]

VARIANTS_FOLDER = "varianten"


@dataclass
class VariantsRun:
    """What :func:`run_variants` compared and wrote."""

    table: pd.DataFrame  # one row per situation, ``huidig`` first
    csv: Path
    markdown: Path
    gpkg: Path
    seconds: float


def run_variants(
    project: Project,
    area_id: str,
    files: Sequence[Path],
    gpkg: Path | str | Database | None = None,
    out: Path | None = None,
) -> VariantsRun:
    """The spanningsgebied ``area_id`` of the run (default ``<output>/analyse.gpkg``) as it is
    and under each variant in ``files`` (GeoJSON, as the map exports sketches, with ``sector``
    and ``actie`` per polygon; the variant is named after the file): ``vergelijking.csv``,
    ``vergelijking.md`` and ``varianten.gpkg`` (each situation's schuurpunten) into ``out``
    (default ``<output>/varianten/<id>``)."""
    import time

    from novex_geo.variants import compare_variants, comparison_report, focus_of, loading_box, variant_frame

    started = time.perf_counter()
    run = read_run(run_location(project, gpkg), required=(SPANNINGSGEBIEDEN.name,))
    areas = run.spanningsgebieden
    assert areas is not None  # required: read_run read it
    chosen = areas[areas["id"].astype(str) == area_id]
    if chosen.empty:
        some = ", ".join(areas["id"].astype(str)[:3])
        raise UsageError(f"{run.path}: no spanningsgebied {area_id!r}; the run has e.g. {some}")
    if not files:
        raise UsageError("give one or more variant files (GeoJSON with sector and actie per polygon)")
    variants = []
    for path in map(Path, files):
        if not path.exists():
            raise LayerError("variant file not found", path)
        variants.append(variant_frame(read_vector(path), project, path, path.stem))
    names = [v.name for v in variants]
    if len(set(names)) < len(names) or "huidig" in names:
        raise UsageError(f"variant names must differ and not be 'huidig': {', '.join(names)}")
    area = chosen.geometry.iloc[0]
    box = loading_box(project, focus_of(project, area, variants))
    claims = {key: layer.frame for key, layer in load_sectors(project, box).items()}
    regions = load_regions_logged(project.regions, project.crs)
    priority = [read_source(s, "prioriteit", project.crs, box)[0] for s in project.triage.priority]
    figures, table = compare_variants(project, area, variants, regions, claims, priority)
    folder = ensure_folder(Path(out) if out else project.output_dir / VARIANTS_FOLDER / _safe(area_id))
    with output_lock(folder):
        csv = write_csv(table, folder / "vergelijking.csv")
        text = comparison_report(table, area_id, str(chosen["naam"].iloc[0]), project.labels)
        markdown = write_text(folder / "vergelijking.md", text)
        gpkg_path = folder / "varianten.gpkg"
        with atomic_path(gpkg_path) as temporary:
            for figure in figures:
                zones = figure.result.schuurpunten
                zones = zones[zones.intersects(shapely.box(*box))]
                layer = f"schuurpunten_{_safe(figure.name)}"
                write_layer(zones, temporary, layer, f"Schuurpunten, {figure.name}")
    return VariantsRun(table, csv, markdown, gpkg_path, time.perf_counter() - started)


def _safe(name: str) -> str:
    """A file or layer name from a name people gave."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "variant"
