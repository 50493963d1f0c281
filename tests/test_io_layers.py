import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity

import novex_geo.geometry
from novex_geo.config import Regions, Sector, Source
from novex_geo.errors import LayerError
from novex_geo.geometry import on_every_core
from novex_geo.io.layers import load_sector, read_source
from novex_geo.io.regions import load_regions, select_regions

from .conftest import GEMEENTEN, PROVINCES, RD, write_layer
from .support.helpers import in_rd

BOWTIE = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])


def test_known_answer_repair_and_buffers(tmp_path):
    polygons = write_layer(
        tmp_path / "vlak.gpkg", [BOWTIE, shapely.box(500, 0, 600, 100)], naam=["strik", "vierkant"]
    )
    points = write_layer(tmp_path / "punt.gpkg", [shapely.Point(1000, 1000)], naam=["station"])
    lines = write_layer(
        tmp_path / "lijn.gpkg", [shapely.LineString([(0, 2000), (1000, 2000)])], naam=["380kV"]
    )
    sector = Sector(
        key="energie",
        label="Energie",
        colour="#ff7f00",
        sources=(
            Source(polygons, label_field="naam"),
            Source(points, buffer=100, label_field="naam"),
            Source(lines, buffer=50, label_field="naam"),
        ),
    )
    layer = load_sector(sector, RD)
    areas = dict(zip(layer.frame["label"], layer.frame.area, strict=True))
    assert areas["strik"] == pytest.approx(5_000, rel=1e-3)
    assert areas["vierkant"] == pytest.approx(10_000, rel=1e-9)
    assert areas["station"] == pytest.approx(math.pi * 100**2, rel=1e-3)
    assert areas["380kV"] == pytest.approx(2 * 50 * 1000 + math.pi * 50**2, rel=1e-3)
    assert layer.frame.is_valid.all()
    reports = {report.source: report for report in layer.reports}
    assert reports["vlak"].n_repaired == 1
    assert reports["punt+100m"].n_buffered == {"Point": 1}
    assert reports["lijn+50m"].n_buffered == {"LineString": 1}
    assert sum(r.n_repaired for r in layer.reports) == 1
    assert list(layer.frame["feature_id"]) == [
        "energie/vlak/1",
        "energie/vlak/2",
        "energie/punt+100m/1",
        "energie/lijn+50m/1",
    ]
    assert set(layer.frame["sector"]) == {"energie"}


def test_repairs_are_found_in_every_threads_share_of_a_large_layer(tmp_path, monkeypatch):
    # a large layer's validity is checked on every core, each thread a share of the features:
    # bow-ties first, in the middle and last are each repaired, in whatever share they fall
    monkeypatch.setattr(novex_geo.geometry, "THREADED_MIN", 10)
    monkeypatch.setattr(novex_geo.geometry, "available_cores", lambda: 3)
    squares = [shapely.box(200 * i, 0, 200 * i + 100, 100) for i in range(50)]
    for i in (0, 24, 49):
        squares[i] = shapely.affinity.translate(BOWTIE, 200 * i, 0)
    path = write_layer(tmp_path / "veel.gpkg", squares, naam=[f"v{i}" for i in range(50)])
    frame, report = read_source(Source(path, label_field="naam"), "energie", RD)
    assert report.n_repaired == 3
    assert frame.is_valid.all()
    assert frame.area.sum() == pytest.approx(47 * 10_000 + 3 * 5_000, rel=1e-3)


def test_on_every_core_gives_what_one_call_gives(monkeypatch):
    monkeypatch.setattr(novex_geo.geometry, "THREADED_MIN", 7)
    monkeypatch.setattr(novex_geo.geometry, "available_cores", lambda: 4)
    geoms = np.array([shapely.box(0, 0, i + 1, 1) for i in range(30)] + [BOWTIE, None], dtype=object)
    for func in (shapely.is_valid, shapely.area):
        np.testing.assert_array_equal(on_every_core(func, geoms), func(geoms))


def test_geometry_collection_keeps_polygonal_part(tmp_path):
    mixed = shapely.GeometryCollection([shapely.box(0, 0, 10, 10), shapely.LineString([(20, 20), (30, 30)])])
    lines_only = shapely.GeometryCollection([shapely.LineString([(0, 0), (1, 1)])])
    path = write_layer(tmp_path / "mix.gpkg", in_rd([mixed, lines_only, shapely.box(50, 50, 60, 60)]))
    frame, report = read_source(Source(path), "natuur", RD)
    assert report.n_parts_dropped == 2
    assert report.n_dropped_empty == 1
    assert len(frame) == 2
    assert frame.area.sum() == pytest.approx(200)


def test_points_without_buffer_are_refused(tmp_path):
    path = write_layer(tmp_path / "punten.gpkg", in_rd([shapely.Point(0, 0), shapely.Point(1, 1)]))
    with pytest.raises(LayerError, match=r"2 Point features; set buffer"):
        read_source(Source(path), "energie", RD)


def test_gemeenten_reproject_like_geopandas(tmp_path):
    # the shipped CBS gemeenten (RD) as a GeoJSON in WGS84 lon/lat, as PDOK and CBS hand them out
    shipped = gpd.read_file(GEMEENTEN)
    path = tmp_path / "gemeenten.geojson"
    shipped.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio")
    frame, report = read_source(Source(path, label_field="statnaam"), "gemeente", RD)
    direct = gpd.read_file(path).to_crs(RD)
    assert frame.crs.to_epsg() == 28992
    assert report.n_reprojected == 345
    assert report.source_crs == "EPSG:4326"
    assert frame.area.sum() == pytest.approx(direct.area.sum(), rel=0.005)
    assert frame.area.sum() == pytest.approx(shipped.area.sum(), rel=1e-6)  # back where it started
    assert frame.area.sum() > 3.0e10  # the Netherlands incl. inland water, ~41,500 km²


def test_provincies_load_with_fryslan():
    regions = load_regions(Regions(PROVINCES, "naam"))
    assert len(regions) == 12
    assert "Fryslân" in set(regions["provincie"])
    assert select_regions(regions, ["fryslân", "Utrecht"])["provincie"].tolist() == [
        "Fryslân",
        "Utrecht",
    ]
    with pytest.raises(LayerError, match="unknown provincie 'Friesland'"):
        select_regions(regions, ["Friesland"])


def test_missing_file(tmp_path):
    with pytest.raises(LayerError, match=r"nope.gpkg: file not found"):
        read_source(Source(tmp_path / "nope.gpkg"), "x", RD)


def test_layer_not_in_geopackage(tmp_path):
    path = write_layer(tmp_path / "a.gpkg", in_rd([shapely.box(0, 0, 1, 1)]), layer="plannen")
    with pytest.raises(LayerError, match=r"layer 'plannn': layer not found; layers in this file: plannen"):
        read_source(Source(path, layer="plannn"), "x", RD)


def test_layer_without_crs(tmp_path):
    path = write_layer(tmp_path / "a.shp", in_rd([shapely.box(0, 0, 1, 1)]), crs=None)
    with pytest.raises(LayerError, match="layer has no CRS"):
        read_source(Source(path), "x", RD)
    frame, report = read_source(Source(path, crs="EPSG:28992"), "x", RD)
    assert len(frame) == 1 and report.n_reprojected == 0


def test_where_on_unknown_field_names_the_field(tmp_path):
    path = write_layer(tmp_path / "a.gpkg", in_rd([shapely.box(0, 0, 1, 1)]), status=["vastgesteld"])
    with pytest.raises(LayerError, match=r"field 'stauts'.*fields: status"):
        read_source(Source(path, where="stauts = 'vastgesteld'"), "x", RD)
    frame, _ = read_source(Source(path, where="status = 'vastgesteld' AND status IS NOT NULL"), "x", RD)
    assert len(frame) == 1


def test_label_field_missing(tmp_path):
    path = write_layer(tmp_path / "a.gpkg", in_rd([shapely.box(0, 0, 1, 1)]), naam=["a"])
    with pytest.raises(LayerError, match=r"field 'name'"):
        read_source(Source(path, label_field="name"), "x", RD)


def test_features_without_a_label_are_labelled_by_their_id_and_counted(tmp_path):
    boxes = in_rd([shapely.box(i, 0, i + 1, 1) for i in range(4)])
    path = write_layer(tmp_path / "a.gpkg", boxes, naam=["Plan A", None, "  ", "Plan D"])
    frame, report = read_source(Source(path, label_field="naam"), "woningbouw", RD)
    assert list(frame["label"]) == ["Plan A", "a/2", "a/3", "Plan D"]  # GeoPackage fids count from 1
    assert "field 'naam': 2 features without a value, labelled by their id" in report.warnings


def test_empty_layer_warns_and_all_empty_sector_fails(tmp_path):
    full = write_layer(tmp_path / "vol.gpkg", in_rd([shapely.box(0, 0, 1, 1)]), status=["a"])
    empty_where = Source(full, where="status = 'b'")
    ok = load_sector(Sector("x", "X", "#000000", (Source(full), empty_where)), RD)
    assert len(ok.frame) == 1
    assert "layer is empty" in ok.reports[1].warnings[0]
    with pytest.raises(LayerError, match="every layer of sector 'x' is empty"):
        load_sector(Sector("x", "X", "#000000", (empty_where,)), RD)


def test_csv_with_wkt(tmp_path):
    path = tmp_path / "claims.csv"
    ring = "150000 450000, 150010 450000, 150010 450010, 150000 450010, 150000 450000"
    path.write_text(f'naam,wkt\n"blok","POLYGON (({ring}))"\n', encoding="utf-8")
    frame, _ = read_source(Source(path, crs="EPSG:28992", label_field="naam"), "x", RD)
    assert frame["label"].tolist() == ["blok"]
    assert frame.area.tolist() == [100.0]


def test_geoparquet(tmp_path):
    frame = gpd.GeoDataFrame(
        {"naam": ["a", "b"]}, geometry=in_rd([shapely.box(0, 0, 2, 2), shapely.box(5, 5, 6, 6)]), crs=RD
    )
    frame.to_parquet(tmp_path / "x.parquet")
    loaded, _ = read_source(Source(tmp_path / "x.parquet", label_field="naam"), "x", RD)
    assert np.allclose(loaded.area, [4, 1])
