"""`novex-geo fetch` of WFS 2.0 entries against a local WFS on 127.0.0.1: count/startIndex paging,
paging past the startIndex cap by bbox tiles, FES filters, GML axis order, layer search."""

import urllib.parse
import xml.etree.ElementTree as ElementTree

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError
from novex_geo.io.downloads import download_record

from .support.fetch_data import bounded, fetch, patch_entry, provinces_cache, square_features, stored
from .support.wfs_server import WFSServer

BRP = "brpgewaspercelen:BrpGewas"
KEY = "brp_gewaspercelen_wfs"


def overlapping_parcels(n: int):
    """Squares of 150 m on a 100 m grid: every one overlaps its neighbours and crosses grid lines."""
    return square_features(n, size=150.0, origin=(120_010.0, 440_010.0), columns=100)


def test_pages_with_count_and_start_index_in_rd(tmp_path):
    features = square_features(2_345)
    with WFSServer({BRP: features}) as server, bounded(30):
        result = fetch(KEY, server, tmp_path / "c.gpkg", page_size=500)
        starts = [page["start"] for page in server.pages]
        queries = [dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r).query)) for r in server.requests]
        first = next(q for q in queries if q.get("startIndex") == "0")
    assert starts == [0, 500, 1000, 1500, 2000]
    assert first["srsName"] == "urn:ogc:def:crs:EPSG::28992" and first["outputFormat"] == "application/json"
    assert result.n_features == 2_345 and result.n_matched == 2_345
    frame = gpd.read_file(tmp_path / "c.gpkg", layer=KEY).set_index("ogc_id")
    assert sorted(frame["nummer"]) == list(range(2_345))
    assert shapely.equals(frame.geometry["perceel.7"], shapely.geometry.shape(features[7]["geometry"]))
    record = download_record(tmp_path / "c.gpkg", KEY)
    assert record["service"] == "wfs" and record["status"] == "klaar"


@pytest.mark.parametrize("announced", [True, False], ids=["cap in catalogue", "cap found by refusal"])
def test_pages_past_the_start_index_cap_by_bbox_tiles_storing_each_feature_once(
    tmp_path, monkeypatch, announced
):
    features = overlapping_parcels(5_000)
    patch_entry(monkeypatch, KEY, max_start_index=1_000 if announced else 0)
    with WFSServer({BRP: features}) as server, bounded(90):
        server.cap = 1_000
        result = fetch(KEY, server, tmp_path / "c.gpkg", page_size=400)
        tiles = {page["area"] for page in server.pages if page["area"]}
        refused = [page for page in server.pages if page["start"] > 1_000]
    assert refused == []  # the server never had to refuse a page it served
    assert len(tiles) > 4
    assert result.n_features == 5_000 and result.n_matched == 5_000
    table = stored(tmp_path / "c.gpkg", KEY)
    assert sorted(table["nummer"]) == list(range(5_000))  # every parcel once, also those on tile lines
    if not announced:
        assert result.notes == ["the service refuses startIndex 1,200; paging by bbox tiles instead"]


def test_fes_filter_with_the_provincie_bbox(tmp_path):
    cache = tmp_path / "cache.gpkg"
    provinces_cache(cache)
    with WFSServer({BRP: square_features(4_000)}) as server, bounded(30):
        result = CliRunner().invoke(
            cli,
            [
                "fetch",
                KEY,
                "--provincie",
                "Westmark",
                "--filter",
                "gewas=maïs",
                "--out",
                str(cache),
                "--base-url",
                server.url,
            ],
        )
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[-1]).query))
    assert result.exit_code == 0, result.output
    fes = ElementTree.fromstring(query["filter"])
    assert fes.tag == "{http://www.opengis.net/fes/2.0}Filter"
    assert [e.tag.split("}")[1] for e in fes[0]] == ["BBOX", "PropertyIsEqualTo"]
    assert "bbox" not in query  # WFS 2.0 forbids BBOX next to FILTER: the box is inside the filter
    frame = gpd.read_file(cache, layer=KEY)
    assert set(frame["gewas"]) == {"maïs"}
    assert frame.total_bounds[2] == pytest.approx(125_025)  # clipped to Westmark
    # 51 grid columns (0..50) reach into Westmark; maïs grows in the even ones (20 rows each),
    # and column 50 is cut at the border
    assert len(frame) == 26 * 20 and "20 features cut at the border" in result.output


@pytest.mark.parametrize("axis", ["rd", "latlon"])
def test_gml_is_read_in_the_axis_order_of_its_srs_name(tmp_path, monkeypatch, axis):
    features = square_features(30, origin=(155_000.0, 463_000.0))
    patch_entry(monkeypatch, KEY, format="gml")
    with WFSServer({BRP: features}) as server, bounded(20):
        server.axis = axis
        result = fetch(KEY, server, tmp_path / "c.gpkg")
    assert result.n_features == 30 and result.n_reprojected == (30 if axis == "latlon" else 0)
    frame = gpd.read_file(tmp_path / "c.gpkg", layer=KEY).set_index("ogc_id")
    worst = max(
        shapely.hausdorff_distance(frame.geometry[f["id"]], shapely.geometry.shape(f["geometry"]))
        for f in features
    )
    assert worst < (1e-9 if axis == "rd" else 0.01)  # metres
    assert frame.loc["perceel.3", "gewas"] == "grasland"


def test_gml_with_swapped_rd_axes_is_a_clear_error(tmp_path, monkeypatch):
    patch_entry(monkeypatch, KEY, format="gml")
    with WFSServer({BRP: square_features(30)}) as server, bounded(20):
        server.axis = "swapped"
        with pytest.raises(DownloadError, match="the service's CRS or axis order is not what it declares"):
            fetch(KEY, server, tmp_path / "c.gpkg")


def test_an_exception_report_is_a_clear_error(tmp_path):
    with WFSServer({BRP: square_features(3)}) as server, bounded(20):
        server.exception = "Invalid filter <script>"
        result = CliRunner().invoke(
            cli, ["fetch", KEY, "--out", str(tmp_path / "c.gpkg"), "--base-url", server.url, "--retries", "0"]
        )
    assert result.exit_code == 1
    assert "server answered HTTP 400 Bad Request: 'Invalid filter &lt;script&gt;'" in result.output


def test_the_layer_is_found_in_the_capabilities_by_its_search_word(tmp_path):
    zones = square_features(12, origin=(180_000.0, 450_000.0))
    layers = {"alo:geluid": square_features(2), "alo:defensie_zone_a": zones, "alo:wegen": square_features(1)}
    titles = {"alo:defensie_zone_a": "Defensiezones A (laagvliegen)"}
    with WFSServer(layers, titles) as server, bounded(20):
        result = fetch("defensiezones", server, tmp_path / "c.gpkg")
    assert result.n_features == 12
    assert download_record(tmp_path / "c.gpkg", "defensiezones")["status"] == "klaar"


def test_several_matching_layers_are_listed_and_one_is_chosen_with_collection(tmp_path):
    layers = {"alo:defensie_a": square_features(2), "alo:defensie_b": square_features(3)}
    with WFSServer(layers, {"alo:defensie_b": "Defensiezones B"}) as server, bounded(20):
        runner = CliRunner()
        args = ["fetch", "defensiezones", "--out", str(tmp_path / "c.gpkg"), "--base-url", server.url]
        ambiguous = runner.invoke(cli, args)
        chosen = runner.invoke(cli, [*args, "--collection", "alo:defensie_b"])
    assert ambiguous.exit_code == 1
    listed = "alo:defensie_a (alo:defensie_a); alo:defensie_b (Defensiezones B)"
    assert (
        f"2 of the 2 layers match 'defensie': {listed}; choose one with --collection NAME" in ambiguous.output
    )
    assert chosen.exit_code == 0 and "wrote 3 features" in chosen.output
