"""Shared fixtures: real Dutch boundaries from ../shared/data and project-file builders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data" / "nl"
RD = "EPSG:28992"


@pytest.fixture
def shared_data() -> Path:
    """The folder with real Dutch boundaries; tests using it skip in a user's clone."""
    if not (SHARED_DATA / "provincies.geojson").is_file():
        pytest.skip(f"real boundary data not found at {SHARED_DATA} (only present in the dev workspace)")
    return SHARED_DATA


def write_layer(path: Path, geometries, layer: str | None = None, crs=RD, **columns) -> Path:
    """Write geometries (and columns) to a vector file; returns the path."""
    frame = gpd.GeoDataFrame(columns, geometry=list(geometries), crs=crs)
    frame.to_file(path, layer=layer, engine="pyogrio")
    return path


def write_project(folder: Path, body: str, regions: Path | None = None, name_field: str = "naam") -> Path:
    """Write a novex.toml with a ``[project]`` table and the given sector/conflict tables."""
    if regions is None:
        regions = write_layer(
            folder / "regions.gpkg",
            [shapely.box(0, 0, 10_000, 10_000), shapely.box(10_000, 0, 20_000, 10_000)],
            naam=["West", "Oost"],
        )
    text = textwrap.dedent(
        f"""
        [project]
        name = "test"
        output = "uit"
        [project.regions]
        path = "{regions.as_posix()}"
        name_field = "{name_field}"
        """
    ) + textwrap.dedent(body)
    path = folder / "novex.toml"
    path.write_text(text, encoding="utf-8")
    return path
