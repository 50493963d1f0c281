"""Raster claims: rules, nodata, reprojection and errors."""

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from rasterio.transform import from_origin

from novex_geo.cli.main import cli
from novex_geo.config import RasterRule, Source, load_project
from novex_geo.errors import ConfigError, LayerError
from novex_geo.io.layers import read_source

from .conftest import RD, write_project
from .support.helpers import gradient, write_raster


def test_threshold_on_gradient_gives_expected_area(tmp_path):
    values = gradient()
    values[:10, 80:] = -9999.0  # nodata in the north-east, where the rule would hold
    path = write_raster(tmp_path / "bodemdaling.tif", values, from_origin(150_000, 450_500, 10, 10))
    source = Source(path, raster=RasterRule(op=">=", value=0.3))
    frame, report = read_source(source, "water_bodem", RD)
    # columns 30..99 claim, minus the 10 x 20 nodata cells; 100 m² per cell
    assert frame.area.sum() == pytest.approx((70 * 50 - 10 * 20) * 100)
    claim = shapely.union_all(frame.geometry.values)
    assert claim.bounds == pytest.approx((150_300, 450_000, 151_000, 450_500))
    nodata = shapely.box(150_800, 450_400, 151_000, 450_500)
    assert shapely.intersection(claim, nodata).area == 0
    assert report.n_loaded == len(frame) >= 1
    assert "3,300 of 5,000 cells" in report.raster and "200 nodata" in report.raster
    assert frame["feature_id"].iloc[0] == "water_bodem/bodemdaling/1"


def test_class_list_rule(tmp_path):
    classes = (
        np.repeat(np.arange(1, 6), 20).reshape(1, 100).repeat(10, axis=0)
    )  # classes 1..5 in bands of 20 columns
    path = write_raster(tmp_path / "kans.tif", classes, from_origin(150_000, 450_100, 25, 25))
    frame, _ = read_source(Source(path, raster=RasterRule(classes=(4.0, 5.0))), "water_bodem", RD)
    assert frame.area.sum() == pytest.approx(40 * 10 * 625)


def test_simplify_moves_edges_at_most_one_cell(tmp_path):
    values = np.zeros((40, 40))
    yy, xx = np.mgrid[0:40, 0:40]
    values[(xx - 20) ** 2 + (yy - 20) ** 2 < 15**2] = 1.0  # a pixelated disc
    path = write_raster(tmp_path / "schijf.tif", values, from_origin(0, 400, 10, 10))
    exact, _ = read_source(Source(path, raster=RasterRule(op="==", value=1)), "x", RD)
    simple, report = read_source(Source(path, raster=RasterRule(op="==", value=1, simplify=True)), "x", RD)
    a, b = exact.geometry.iloc[0], simple.geometry.iloc[0]
    assert shapely.hausdorff_distance(a, b) <= 10 + 1e-9
    assert shapely.get_num_coordinates(b) < shapely.get_num_coordinates(a)
    assert "simplified by 10 m" in report.raster


def test_wgs84_raster_is_reprojected(tmp_path):
    # 0.001° cells around Utrecht; claim where longitude >= 5.1
    lon0, lat0, step = 5.05, 52.12, 0.001
    cols, rows = 100, 60
    values = np.tile(lon0 + (np.arange(cols) + 0.5) * step, (rows, 1))
    path = write_raster(tmp_path / "wgs.tif", values, from_origin(lon0, lat0, step, step), crs="EPSG:4326")
    frame, report = read_source(Source(path, raster=RasterRule(op=">=", value=5.1)), "water_bodem", RD)
    assert report.n_reprojected == rows * cols and report.source_crs == "EPSG:4326"
    expected = (
        __import__("geopandas")
        .GeoSeries([shapely.box(5.1, lat0 - rows * step, lon0 + cols * step, lat0)], crs="EPSG:4326")
        .to_crs(RD)
        .area.iloc[0]
    )
    assert frame.crs.to_epsg() == 28992
    assert frame.area.sum() == pytest.approx(expected, rel=0.03)
    minx = frame.total_bounds[0]
    x_at_5_1 = (
        __import__("pyproj").Transformer.from_crs("EPSG:4326", RD, always_xy=True).transform(5.1, 52.09)[0]
    )
    assert abs(minx - x_at_5_1) < 150  # within about two cells


def test_missing_band_and_missing_crs(tmp_path):
    path = write_raster(tmp_path / "a.tif", gradient(), from_origin(0, 500, 10, 10))
    with pytest.raises(LayerError, match="band 2 does not exist"):
        read_source(Source(path, raster=RasterRule(band=2, op=">", value=0)), "x", RD)
    bare = write_raster(tmp_path / "bare.tif", gradient(), from_origin(0, 500, 10, 10), crs=None)
    with pytest.raises(LayerError, match="raster has no CRS"):
        read_source(Source(bare, raster=RasterRule(op=">", value=0)), "x", RD)
    frame, _ = read_source(Source(bare, crs="EPSG:28992", raster=RasterRule(op=">", value=0.5)), "x", RD)
    assert frame.area.sum() == pytest.approx(50 * 50 * 100)


@pytest.mark.parametrize(
    ("raster", "fragment"),
    [
        ('{ where = ">> 3" }', "not a rule: '>> 3'"),
        ('{ where = ">= 1", in = [3] }', "exactly one rule"),
        ("{ in = [] }", "non-empty list"),
        ('{ band = 0, where = "> 1" }', "band number"),
    ],
)
def test_bad_raster_rules_are_config_errors(tmp_path, raster, fragment):
    body = f"""
    [sectors.water_bodem]
    [[sectors.water_bodem.sources]]
    path = "b.tif"
    raster = {raster}
    """
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[")):
        load_project(write_project(tmp_path, body))


def test_cli_check_reports_raster_and_missing_band_without_traceback(tmp_path):
    write_raster(tmp_path / "b.tif", gradient(), from_origin(1_000, 1_500, 10, 10))
    body = """
    [sectors.water_bodem]
    [[sectors.water_bodem.sources]]
    path = "b.tif"
    raster = { band = 1, where = ">= 0.3" }
    """
    ok = CliRunner().invoke(cli, ["check", str(write_project(tmp_path, body))])
    assert ok.exit_code == 0, ok.output
    assert "raster: 3,500 of 5,000 cells (band 1 ≥ 0.3, 0 nodata)" in ok.output
    bad = CliRunner().invoke(
        cli, ["check", str(write_project(tmp_path, body.replace("band = 1", "band = 3")))]
    )
    assert bad.exit_code == 1 and "band 3 does not exist" in bad.output and "Traceback" not in bad.output
