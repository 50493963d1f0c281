"""Oplossingsrichtingen for one spanningsgebied side by side: what ``novex-geo varianten`` does."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import Database, Project
from novex_geo.config.variants import CURRENT
from novex_geo.errors import LayerError, UsageError
from novex_geo.io.files import ensure_folder, output_lock, write_text
from novex_geo.io.layers import load_sectors, read_vector
from novex_geo.io.outputs import write_csv
from novex_geo.io.regions import regions_credit
from novex_geo.io.run import HERKOMST, SPANNINGSGEBIEDEN, read_run, run_date, run_location
from novex_geo.io.variants import VARIANTS_GPKG, write_variants
from novex_geo.pipeline.analysis import (
    check_within_regions,
    load_gemeenten,
    load_priority,
    load_regions_logged,
)

if TYPE_CHECKING:
    from novex_geo.variants import Variant

__all__ = ["VariantsRun", "run_variants"]

log = logging.getLogger(__name__)

VARIANTS_FOLDER = "varianten"


@dataclass
class VariantsRun:
    """What :func:`run_variants` compared and wrote."""

    table: pd.DataFrame  # one row per situation, ``huidig`` first
    csv: Path
    markdown: Path
    gpkg: Path
    pdf: Path  # the snelle-tafel 2-pager
    html: Path
    seconds: float


def run_variants(
    project: Project,
    area_id: str,
    files: Sequence[Path] = (),
    gpkg: Path | str | Database | None = None,
    out: Path | None = None,
) -> VariantsRun:
    """The spanningsgebied ``area_id`` of the run (default ``<output>/analyse.gpkg``) as it is
    and under each variant: one per file in ``files`` (GeoJSON, as the map exports sketches,
    with ``sector`` and ``actie`` per polygon; named after the file), else the project file's
    ``[[varianten]]`` of that spanningsgebied. Writes ``vergelijking.csv``, ``vergelijking.md``,
    ``varianten.gpkg`` (each situation's schuurpunten) and the snelle-tafel 2-pager
    (``snelle_tafel.pdf``/``.html``) into ``out`` (default ``<output>/varianten/<id>``)."""
    import time

    from novex_geo.maps.signal import build_signal
    from novex_geo.maps.snelle_tafel import write_two_pager
    from novex_geo.maps.static import Credits
    from novex_geo.variants import compare_variants, comparison_report, focus_of, loading_box

    started = time.perf_counter()
    required = (SPANNINGSGEBIEDEN.name, HERKOMST.name)
    run = read_run(run_location(project, gpkg), required=required)
    areas, herkomst = run.spanningsgebieden, run.herkomst
    assert areas is not None and herkomst is not None  # required: read_run read them
    chosen = areas[areas["id"].astype(str) == area_id]
    if chosen.empty:
        some = ", ".join(areas["id"].astype(str)[:3])
        raise UsageError(f"{run.path}: no spanningsgebied {area_id!r}; the run has e.g. {some}")
    regions = load_regions_logged(project.regions, project.crs)
    variants = _variants(project, area_id, files, regions)
    area = chosen.geometry.iloc[0]
    _warn_far(project, area_id, area, variants)
    box = loading_box(project, focus_of(project, area, variants))
    layers = load_sectors(project, box)
    claims = {key: layer.frame for key, layer in layers.items()}
    priority = load_priority(project, box)
    figures, table = compare_variants(project, area, variants, regions, claims, priority)
    signal = build_signal(chosen.iloc[0], herkomst, project, load_gemeenten(project), run_date(run.path))
    credits = Credits.of(project, layers, regions_credit(project.regions))
    folder = ensure_folder(Path(out) if out else project.output_dir / VARIANTS_FOLDER / _safe(area_id))
    with output_lock(folder):
        csv = write_csv(table, folder / "vergelijking.csv")
        text = comparison_report(table, area_id, str(chosen["naam"].iloc[0]), project.labels)
        markdown = write_text(folder / "vergelijking.md", text)
        around = shapely.box(*box)
        zones = [f.result.schuurpunten[f.result.schuurpunten.intersects(around)] for f in figures]
        changes = [None if f.variant is None else f.variant.drawn for f in figures]
        gpkg_path = write_variants(folder / VARIANTS_GPKG, table, zones, changes)
        two_pager = write_two_pager(project, signal, figures, table, regions, credits, folder)
    return VariantsRun(
        table, csv, markdown, gpkg_path, two_pager.pdf, two_pager.html, time.perf_counter() - started
    )


def _variants(
    project: Project, area_id: str, files: Sequence[Path], regions: gpd.GeoDataFrame
) -> list[Variant]:
    """The variants in ``files`` (one per file, or one per name in a file's ``variant``
    column), else those of ``[[varianten]]`` for ``area_id``."""
    from novex_geo.variants import merge_variants, variants_in

    def read(path: Path, name: str) -> list[Variant]:
        if not path.exists():
            raise LayerError("variant file not found", path)
        found = variants_in(read_vector(path), project, path, name)
        check_within_regions(np.concatenate([v.changes for v in found]), regions, path, "the variant")
        return found

    if files:
        variants = [variant for path in map(Path, files) for variant in read(path, path.stem)]
    else:
        specs = [spec for spec in project.varianten if spec.area_id == area_id]
        if not specs:
            raise UsageError(
                f"give one or more variant files (GeoJSON with sector and actie per polygon), or list "
                f"them in {project.path.name} as [[varianten]] with spanningsgebied = {area_id!r}"
            )
        variants = [
            merge_variants(
                [v for path in spec.files for v in _named(read(path, spec.name), spec.name)],
                spec.name,
                spec.toelichting,
            )
            for spec in specs
        ]
    names = [v.name for v in variants]
    if len(set(names)) < len(names) or CURRENT in names:
        raise UsageError(f"variant names must differ and not be {CURRENT!r}: {', '.join(names)}")
    return variants


FAR_M = 2_000.0  # a change this far beyond the area's reach is about another place


def _warn_far(project: Project, area_id: str, area: shapely.Geometry, variants: list[Variant]) -> None:
    """Say so when a variant changes claims far from the spanningsgebied: the comparison then
    also counts the schuurpunten there, which belong to other areas."""
    from novex_geo.variants import focus_of

    reach = focus_of(project, area, [])  # where a change can touch the area's schuurpunten
    for variant in variants:
        distance = shapely.distance(reach, variant.changes).max() if len(variant.changes) else 0.0
        if distance > FAR_M:
            log.warning(
                "%s: a change lies %.1f km from spanningsgebied %s; the comparison also counts the "
                "schuurpunten around it",
                variant.name,
                distance / 1000,
                area_id,
            )


def _named(found: list[Variant], name: str) -> list[Variant]:
    """Of a file exported from the map with several variants, those called ``name`` (all of
    them when none is)."""
    return [v for v in found if v.name == name] or found


def _safe(name: str) -> str:
    """A file or layer name from a name people gave."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "variant"
