"""The map of a sketch evaluation: the sketched features, the existing claims on the other
side of each schuurpunt they would cause, and those schuurpunten."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from matplotlib.figure import Figure

from novex_geo.config import Project
from novex_geo.maps.files import save_figure
from novex_geo.maps.static import Credits, MapDrawing, conflict_map_figure
from novex_geo.sketch import SketchResult

__all__ = ["draw_sketch_map", "sketch_figure"]


def sketch_figure(
    project: Project,
    result: SketchResult,
    regions: gpd.GeoDataFrame,
    title: str,
    regions_credit: str | None = None,
) -> tuple[Figure, MapDrawing]:
    """The sketch (dashed, in its sector's colour) over the claims it collides with."""
    claims = {key: result.other_claims[result.other_claims["sector"] == key] for key in project.sectors}
    return conflict_map_figure(
        project,
        claims,
        regions,
        title,
        size=(8.0, 5.5),
        schuurpunten=result.new_schuurpunten,
        focus=result.sketch.geometry.union_all(),
        focus_label="",
        sketch=result.sketch,
        credits=Credits.of(project, result.layers, regions_credit),
    )


def draw_sketch_map(
    project: Project,
    result: SketchResult,
    regions: gpd.GeoDataFrame,
    title: str,
    path: Path,
    regions_credit: str | None = None,
) -> Path:
    """Write the PNG map of a sketch evaluation to ``path``."""
    figure, _ = sketch_figure(project, result, regions, title, regions_credit)
    return save_figure(figure, path, format="png")
