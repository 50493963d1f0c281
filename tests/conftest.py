"""Shared fixtures: the real Dutch boundaries shipped in tests/data/real, and project-file builders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
RD = "EPSG:28992"
# real public Dutch layers in the repository (tests/data/real/SOURCES.md): the 12 Kadaster
# provinces (fields naam, code; "Fryslân") and the 345 CBS gemeenten of 2022 (statnaam), both RD
REAL_DATA = ROOT / "tests" / "data" / "real"
PROVINCES = REAL_DATA / "kadaster_provinciegebied.gpkg"
GEMEENTEN = REAL_DATA / "cbs_gemeenten_2022.gpkg"


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


def sectors_toml(**paths: str) -> str:
    """``[sectors.KEY]`` tables, each with one source at its path, labelled by ``naam``."""
    return "".join(
        f'[sectors.{key}]\n[[sectors.{key}.sources]]\npath = "{path}"\nlabel_field = "naam"\n'
        for key, path in paths.items()
    )


def housing_and_water_project(folder: Path, homes, home_labels, water, water_labels):
    """A two-provincie project (Utrecht | Fryslân at x = 10 km) with woningbouw and water_bodem
    in conflict, run through overlay and triage; returns the loaded project."""
    from novex_geo import load_project
    from novex_geo.pipeline import run_overlay, run_triage

    write_layer(
        folder / "regions.gpkg",
        [shapely.box(0, 0, 10_000, 10_000), shapely.box(10_000, 0, 20_000, 10_000)],
        naam=["Utrecht", "Fryslân"],
    )
    write_layer(folder / "wonen.gpkg", homes, naam=home_labels)
    write_layer(folder / "water.gpkg", water, naam=water_labels)
    body = """
        [sectors.woningbouw]
        label = "Woningbouw"
        colour = "#e31a1c"
        [[sectors.woningbouw.sources]]
        path = "wonen.gpkg"
        label_field = "naam"
        [sectors.water_bodem]
        label = "Water en bodem"
        colour = "#1f78b4"
        [[sectors.water_bodem.sources]]
        path = "water.gpkg"
        label_field = "naam"
        [[conflicts.pairs]]
        sectors = ["woningbouw", "water_bodem"]
        [triage]
        min_area_ha = 1
        annotations = "annotaties.csv"
        """
    project = load_project(write_project(folder, body, regions=folder / "regions.gpkg"))
    run_overlay(project)
    run_triage(project)
    return project


def pytest_collection_modifyitems(items):
    """Every test that needs the PostgreSQL + PostGIS server is slow: out of the quick default run
    (a newcomer has no server), run by ``pytest -m ""`` and in CI (``.ci/run`` starts one)."""
    for item in items:
        if "postgis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


# the PostgreSQL + PostGIS fixtures (tests/support/postgis_db.py), for the test_io_postgis* modules
from .support.postgis_db import pg_schema, postgis_url  # noqa: E402, F401
