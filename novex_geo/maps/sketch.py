"""The map of a sketch evaluation: the sketched features, the claims they collide with and the
schuurpunten they would cause."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from matplotlib.figure import Figure

from novex_geo.config import Project
from novex_geo.maps.static import draw_conflict_map
from novex_geo.sketch import SketchResult

__all__ = ["draw_sketch_map"]


def draw_sketch_map(
    project: Project, result: SketchResult, regions: gpd.GeoDataFrame, title: str, path: Path
) -> Path:
    """Write the PNG map of a sketch evaluation to ``path``."""
    figure = Figure(figsize=(7, 5), dpi=130)
    ax = figure.subplots()
    claims = {key: result.sketch[result.sketch["sector"] == key] for key in project.sectors}
    draw_conflict_map(
        ax, project, claims, regions, result.new_schuurpunten, focus=result.sketch.geometry.union_all()
    )
    ax.set_title(title, fontsize=10)
    figure.savefig(path, bbox_inches="tight")
    return path
