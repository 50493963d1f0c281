"""Grid mode: known answers, COG validity, consistency with the exact vector engine."""

import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from rasterio.transform import from_origin

from novex_geo import load_project, load_regions, load_sectors
from novex_geo.cli.main import cli
from novex_geo.grid import grid_overlay, grid_spec
from novex_geo.pipeline import run_overlay

from .conftest import PROVINCES, write_layer, write_project
from .support.helpers import gradient, write_raster


def test_grid_is_aligned_to_rd_multiples():
    spec = grid_spec((155_012.3, 463_001.0, 157_490.0, 465_000.0), 25)
    assert (spec.xmin, spec.ymax, spec.width, spec.height) == (155_000, 465_000, 100, 80)


def project_with(tmp_path, body):
    return load_project(write_project(tmp_path, body))


def test_known_answer_grid_with_overlap_distance_and_raster(tmp_path):
    write_layer(tmp_path / "a.gpkg", [shapely.box(0, 0, 1_000, 1_000)])
    write_layer(tmp_path / "b.gpkg", [shapely.box(500, 0, 1_500, 1_000)])
    write_layer(tmp_path / "d.gpkg", [shapely.box(1_800, 0, 2_800, 1_000)])
    # bodemdaling raster: claim (>= 0.3) in columns 30..99 of 10 m cells from x=3000
    write_raster(tmp_path / "w.tif", gradient(), from_origin(3_000, 500, 10, 10))
    project = project_with(
        tmp_path,
        """
        [sectors.a]
        [[sectors.a.sources]]
        path = "a.gpkg"
        [sectors.b]
        [[sectors.b.sources]]
        path = "b.gpkg"
        [sectors.d]
        [[sectors.d.sources]]
        path = "d.gpkg"
        [sectors.water]
        [[sectors.water.sources]]
        path = "w.tif"
        raster = { where = ">= 0.3" }
        [[conflicts.pairs]]
        sectors = ["a", "b"]
        [[conflicts.pairs]]
        sectors = ["b", "d"]
        distance = 500
        """,
    )
    regions = load_regions(project.regions, project.crs)
    result = grid_overlay(project, load_sectors(project), regions, 100, tmp_path / "grid", workers=1)
    west = result.summary.set_index("provincie").loc["West"]
    assert west["stapeling_1_ha"] == pytest.approx(50 + 50 + 100 + 35)  # a, b, d and the raster claim
    assert west["stapeling_2_ha"] == pytest.approx(50)
    assert west["a×b_ha"] == pytest.approx(50)
    # b (ends at 1500) and d (starts at 1800) lie 300 m apart: the 200 m strip of each within 500 m
    assert west["b×d_ha"] == pytest.approx(40)
    with rasterio.open(result.mask_path) as mask, rasterio.open(result.count_path) as count:
        bits = mask.read(1)
        n = count.read(1)
        row, col = rasterio.transform.rowcol(mask.transform, 750, 500)
        assert bits[row, col] == 0b11 and n[row, col] == 2
        row, col = rasterio.transform.rowcol(mask.transform, 3_905, 250)
        assert bits[row, col] == 0b1000
        assert mask.tags()["bit_3"] == "water"


def test_cogs_are_valid(tmp_path):
    write_layer(tmp_path / "a.gpkg", [shapely.box(0, 0, 9_000, 9_000)])
    project = project_with(
        tmp_path,
        """
        [sectors.a]
        [[sectors.a.sources]]
        path = "a.gpkg"
        """,
    )
    regions = load_regions(project.regions, project.crs)
    result = grid_overlay(
        project, load_sectors(project), regions, 10, tmp_path / "g", workers=2, window_cells=700
    )
    for path in (result.mask_path, result.count_path):
        with rasterio.open(path) as dataset:
            assert dataset.crs.to_epsg() == 28992
            assert dataset.profile["tiled"] and dataset.block_shapes[0] == (512, 512)
            assert dataset.overviews(1), "COG needs overviews"
            assert dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert dataset.compression.name.lower() == "deflate"
            assert dataset.transform.c % 10 == 0 and dataset.transform.f % 10 == 0
            assert (dataset.width, dataset.height) == (2_000, 1_000)
    with rasterio.open(result.count_path) as dataset:
        assert int(dataset.read(1).sum()) == 900 * 900


def test_grid_agrees_with_vector_engine_on_synthetic_set(tmp_path):
    import geopandas as gpd

    from novex_geo.synthetic import national_claims

    provinces = gpd.read_file(PROVINCES)
    provinces = provinces[provinces["naam"].isin(["Utrecht", "Flevoland"])]
    provinces.to_file(tmp_path / "provincies.gpkg")
    layers = national_claims(provinces, scale=0.04, seed=11)
    for name, frame in layers.items():
        frame.to_file(tmp_path / f"{name}.gpkg")
    body = (
        "".join(
            f"""
        [sectors.{key}]
        [[sectors.{key}.sources]]
        path = "{file}.gpkg"
        {extra}
        """
            for key, file, extra in [
                ("landbouw", "landbouw", ""),
                ("woningbouw", "woningbouw", ""),
                ("water_bodem", "water_bodem", ""),
                ("energie", "hoogspanning", "buffer = 75"),
                ("defensie", "defensie", ""),
            ]
        )
        + '[[conflicts.pairs]]\nsectors = ["water_bodem", "landbouw"]\n'
    )
    project = load_project(write_project(tmp_path, body, regions=tmp_path / "provincies.gpkg"))
    exact = run_overlay(project, write=False).summary.set_index("provincie")
    grid = grid_overlay(
        project,
        load_sectors(project),
        load_regions(project.regions, project.crs),
        25,
        tmp_path / "g",
    ).summary.set_index("provincie")
    compared = 0
    for provincie in ("Utrecht", "Flevoland"):
        for column in [
            "geclaimd_ha",
            "stapeling_1_ha",
            "stapeling_2_ha",
            "water_bodem×landbouw_ha",
        ]:
            if exact.loc[provincie, column] >= 100:  # classes of at least 100 ha (1,600 cells)
                assert grid.loc[provincie, column] == pytest.approx(exact.loc[provincie, column], rel=0.02)
                compared += 1
    assert compared >= 6


def test_grid_cli(tmp_path):
    write_layer(tmp_path / "a.gpkg", [shapely.box(0, 0, 1_000, 1_000)])
    path = write_project(
        tmp_path,
        """
        [sectors.a]
        [[sectors.a.sources]]
        path = "a.gpkg"
        """,
    )
    result = CliRunner().invoke(cli, ["grid", str(path), "-r", "50", "--provincie", "West"])
    assert result.exit_code == 0, result.output
    assert "bit 0 = a" in result.output
    assert (tmp_path / "uit" / "grid_50m_stapeling.tif").exists()
    assert np.isclose(
        __import__("pandas")
        .read_csv(tmp_path / "uit" / "grid_50m_samenvatting.csv")
        .set_index("provincie")
        .loc["West", "geclaimd_ha"],
        100,
    )
