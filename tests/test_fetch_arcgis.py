"""`novex-geo fetch` of an ArcGIS REST FeatureServer layer against a local server on 127.0.0.1:
offset paging capped by maxRecordCount, smaller pages on HTTP 504, RD output, bbox filter."""

import urllib.parse

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError
from novex_geo.io.downloads import download_record

from .support.arcgis_server import ArcGISServer
from .support.fetch_data import bounded, fetch, square_features

KEY = "netcapaciteit_afname"
LAYER = "/arcgis/rest/services/Capaciteitskaart_elektriciteitsnet_v2_afname/FeatureServer/0"


def voedingsgebieden(n: int):
    features = square_features(n, size=90.0)
    for i, feature in enumerate(features):
        feature.pop("id")
        feature["properties"] = {"OBJECTID": i + 1, "voedingsgebied_naam": f"VG {i + 1}", "afname": i % 4}
    return features


def test_offset_paging_capped_by_max_record_count(tmp_path):
    features = voedingsgebieden(1_234)
    with ArcGISServer(features, max_record_count=500) as server, bounded(30):
        result = fetch(KEY, server, tmp_path / "c.gpkg", path=LAYER, page_size=1000)
        pages = list(server.pages)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[-1]).query))
    assert pages == [(0, 500), (500, 500), (1000, 500)]
    assert query["outSR"] == "28992" and query["f"] == "geojson" and query["orderByFields"] == "OBJECTID"
    assert result.n_features == 1_234 and result.n_matched == 1_234
    frame = gpd.read_file(tmp_path / "c.gpkg", layer=KEY).set_index("OBJECTID")
    assert sorted(frame.index) == list(range(1, 1_235))
    assert shapely.equals(frame.geometry[8], shapely.geometry.shape(features[7]["geometry"]))
    assert download_record(tmp_path / "c.gpkg", KEY)["service"] == "arcgis-featureserver"


@pytest.mark.parametrize("as_json", [False, True], ids=["HTTP 504", "error 504 in JSON"])
def test_a_timeout_asks_the_page_again_at_half_the_size(tmp_path, as_json):
    with ArcGISServer(voedingsgebieden(450)) as server, bounded(30):
        server.timeout_above, server.timeout_as_json = 100, as_json
        result = CliRunner().invoke(
            cli,
            [
                "fetch",
                KEY,
                "--out",
                str(tmp_path / "c.gpkg"),
                "--base-url",
                server.url + LAYER,
                "--page-size",
                "400",
            ],
        )
        pages = list(server.pages)
        asked = [
            int(dict(urllib.parse.parse_qsl(r.split("?")[1])).get("resultRecordCount", 0))
            for r in server.requests
        ]
    assert result.exit_code == 0, result.output
    assert [size for size in asked if size] == [400, 200, 100, 100, 100, 100, 100]
    assert pages == [(0, 100), (100, 100), (200, 100), (300, 100), (400, 100)]
    assert "note: timed out at 400 features per page; asking 200 from offset 0" in result.output
    assert "note: timed out at 200 features per page; asking 100 from offset 0" in result.output
    assert "wrote 450 features" in result.output


def test_a_server_that_times_out_even_at_the_smallest_page_is_a_clear_error(tmp_path):
    with ArcGISServer(voedingsgebieden(30)) as server, bounded(30):
        server.timeout_above = 5
        with pytest.raises(DownloadError, match="the server times out even at 10 features per page"):
            fetch(KEY, server, tmp_path / "c.gpkg", path=LAYER)


def test_bbox_and_where_filters_in_rd(tmp_path, monkeypatch):
    from .support.fetch_data import patch_entry

    patch_entry(monkeypatch, KEY, params={"where": "afname >= 2"})
    with ArcGISServer(voedingsgebieden(400)) as server, bounded(30):
        result = fetch(
            KEY, server, tmp_path / "c.gpkg", path=LAYER, bbox=(120_000, 440_000, 125_000, 441_000)
        )
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[-1]).query))
    assert query["geometry"] == "120000.000,440000.000,125000.000,441000.000" and query["inSR"] == "28992"
    frame = gpd.read_file(tmp_path / "c.gpkg", layer=KEY)
    # 51 columns x 2 rows touch the box (column 50 starts at x = 125,000); afname is the column
    # number modulo 4, so 25 columns per row have afname >= 2
    assert result.n_features == len(frame) == 50
    assert set(frame["afname"]) == {2, 3}


def test_an_arcgis_error_object_is_a_clear_error(tmp_path):
    with ArcGISServer(voedingsgebieden(3)) as server, bounded(10):
        result = CliRunner().invoke(
            cli, ["fetch", KEY, "--out", str(tmp_path / "c.gpkg"), "--base-url", server.url + "/wrong"]
        )
    assert result.exit_code == 1
    assert "the service answered with error 400: 'Invalid URL'" in result.output
