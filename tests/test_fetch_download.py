"""`novex-geo fetch` of OGC API Features against a local server on 127.0.0.1: paging, metadata,
memory, retries, resume, clipping, and the attribution that follows the layer."""

import json
import tracemalloc
import urllib.parse

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError
from novex_geo.fetch import RetryPolicy
from novex_geo.io.downloads import DOWNLOADS_TABLE, download_record

from .conftest import write_project
from .support.fetch_data import bounded, fetch, provinces_cache, square_features, stored
from .support.ogc_server import OGCServer


@pytest.mark.slow
def test_30000_features_paged_exactly_with_metadata_and_flat_memory(tmp_path):
    features = square_features(30_000)
    with OGCServer({"brpgewas": features}) as server, bounded(60):
        progress = []
        tracemalloc.start()
        small = fetch(
            "brp_gewaspercelen", server, tmp_path / "small.gpkg", bbox=(120_000, 440_000, 140_000, 441_400)
        )
        small_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        result = fetch(
            "brp_gewaspercelen", server, tmp_path / "cache.gpkg", progress=lambda *args: progress.append(args)
        )
        big_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert small.n_features == 3_000
    assert result.n_features == 30_000 and result.n_matched == 30_000 and result.n_received == 30_000
    assert len(progress) == 30 and progress[-1] == (30_000, 30_000, "features")
    table = stored(tmp_path / "cache.gpkg", "brp_gewaspercelen")
    assert len(table) == 30_000 and table["ogc_id"].is_unique
    assert sorted(table["nummer"]) == list(range(30_000))
    # staged page by page: ten times the features, not ten times the memory
    assert big_peak < 2 * small_peak, (small_peak, big_peak)
    record = download_record(tmp_path / "cache.gpkg", "brp_gewaspercelen")
    assert record["status"] == "klaar"
    assert record["n_features"] == 30_000 and record["n_pages"] == 30
    # pointed at another address (--base-url): the catalogue's licence is kept, marked as unverified
    assert record["licence"].startswith(
        "CC0 1.0 (catalogue entry 'brp_gewaspercelen'; not verified for 127.0.0.1:"
    )
    assert record["overridden"] == "--base-url" and "RVO" in record["attribution"]
    assert record["service"] == "ogcapi-features" and record["sector"] == "landbouw"
    assert record["url"].endswith("/collections/brpgewas/items")
    assert json.loads(record["query"])["crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert record["started"] <= record["finished"]
    assert record["edition"].endswith("(field 'jaar' not in the data)")
    assert not (tmp_path / "cache.gpkg.parts" / "brp_gewaspercelen").exists()  # staging removed


def test_stored_geometry_equals_the_served_rd_geometry(tmp_path):
    features = square_features(30)
    with OGCServer({"brpgewas": features}) as server, bounded(30):
        fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg", page_size=7)
    frame = gpd.read_file(tmp_path / "c.gpkg", layer="brp_gewaspercelen").set_index("ogc_id")
    assert frame.crs.to_epsg() == 28992
    for feature in features:
        expected = shapely.geometry.shape(feature["geometry"])
        assert shapely.equals(frame.geometry[feature["id"]], expected)


def test_recovers_from_429_and_503(tmp_path):
    with OGCServer({"brpgewas": square_features(2_500)}) as server, bounded(30):
        server.fail_with = [429, 503]
        result = fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg")
        statuses = len(server.requests)
    assert result.n_features == 2_500
    assert statuses == 6  # 429, 503, the collection's metadata, then three pages


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_retries_n_means_n_plus_one_attempts(tmp_path, retries):
    with OGCServer({"brpgewas": square_features(10)}) as server, bounded(10):
        server.fail_with = [503] * 10
        with pytest.raises(DownloadError, match=f"HTTP 503 .*gave up after {retries + 1} attempts"):
            fetch(
                "brp_gewaspercelen",
                server,
                tmp_path / "c.gpkg",
                policy=RetryPolicy(retries=retries, backoff=0.01),
            )
        attempts = len(server.requests)
    assert attempts == retries + 1


def test_cli_retries_option_counts_retries(tmp_path):
    with OGCServer({"brpgewas": square_features(10)}) as server, bounded(10):
        server.fail_with = [503] * 10
        args = ["fetch", "brp_gewaspercelen", "--out", str(tmp_path / "c.gpkg"), "--base-url", server.url]
        result = CliRunner().invoke(cli, [*args, "--retries", "1"])
        attempts = len(server.requests)
    assert result.exit_code == 1 and attempts == 2
    assert "HTTP 503 Service Unavailable (gave up after 2 attempts)" in result.output
    assert "Traceback" not in result.output


def test_dropped_connection_resumes_without_duplicates(tmp_path):
    with OGCServer({"brpgewas": square_features(5_000)}) as server, bounded(30):
        server.drop_at_offset = 3_000
        with pytest.raises(DownloadError, match="incomplete answer"):
            fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg")
        partial = download_record(tmp_path / "c.gpkg", "brp_gewaspercelen")
        assert partial["status"] == "bezig" and partial["n_features"] == 3_000
        server.drop_at_offset = None
        server.requests.clear()
        result = fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg")
        resumed_requests = list(server.requests)
    assert result.resumed and result.n_features == 5_000
    assert "offset=3000" in resumed_requests[0]  # continued from the stored next link
    assert len(resumed_requests) == 2
    ids = stored(tmp_path / "c.gpkg", "brp_gewaspercelen")["ogc_id"]
    assert len(ids) == 5_000 and ids.is_unique
    assert set(ids) == {f"perceel.{i}" for i in range(5_000)}


def test_columns_that_differ_between_pages_are_stored_by_name(tmp_path):
    """A GeoPackage append maps columns by position: pages with other columns or types must not."""
    features = square_features(6)
    features[3]["properties"] = {"nummer": "3a", "extra": True, "gewas": "tarwe"}  # other order, type, column
    features[4]["properties"] = {"nested": {"a": [1, 2]}, "": "leeg", "Gewas": "rogge", "fid": 7}
    features[5]["properties"] = {"Gewas": "haver", "nummer": 5}
    with OGCServer({"brpgewas": features}) as server, bounded(30):
        fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg", page_size=2)
    table = stored(tmp_path / "c.gpkg", "brp_gewaspercelen").set_index("ogc_id")
    assert list(table["nummer"].fillna("NULL")) == [
        "0",
        "1",
        "2",
        "3a",
        "NULL",
        "5",
    ]  # numbers and text: text
    # 'Gewas' on the last page is the 'gewas' of the others (a GeoPackage ignores case)
    assert list(table["gewas"]) == ["maïs", "grasland", "maïs", "tarwe", "rogge", "haver"]
    assert table.loc["perceel.3", "extra"] == 1 and table["extra"].isna().sum() == 5
    assert json.loads(table.loc["perceel.4", "nested"]) == {"a": [1, 2]}
    assert table.loc["perceel.4", "attr"] == "leeg" and table.loc["perceel.4", "fid_attr"] == 7


def test_cli_fetch_provincie_requests_bbox_and_clips(tmp_path):
    cache = tmp_path / "cache.gpkg"
    provinces_cache(cache)
    with OGCServer({"brpgewas": square_features(10_000)}) as server, bounded(30):
        result = CliRunner().invoke(
            cli,
            [
                "fetch",
                "brp_gewaspercelen",
                "--provincie",
                "westmark",
                "--out",
                str(cache),
                "--base-url",
                server.url,
                "--page-size",
                "500",
            ],
        )
        first = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.item_requests[0]).query))
    assert result.exit_code == 0, result.output
    assert first["bbox"] == "120000.000,440000.000,125025.000,445000.000"
    assert first["bbox-crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert first["limit"] == "500"
    frame = gpd.read_file(cache, layer="brp_gewaspercelen")
    # columns 0..50 of the grid lie in the box; column 50 (x 125000-125050) is cut at 125025
    assert len(frame) == 51 * 50
    assert frame.total_bounds[2] == pytest.approx(125_025)
    cut = frame[frame.area < 2_500 - 1e-6]
    assert len(cut) == 50 and cut.area.round(6).eq(25 * 50).all()
    assert "50 features cut at the border" in result.output
    assert "licence: CC0 1.0" in result.output


@pytest.mark.parametrize(
    ("args", "setup", "message"),
    [
        (["fetch", "brp_gewasperceel"], None, "key 'brp_gewasperceel' (did you mean 'brp_gewaspercelen'?)"),
        (["fetch", "brp_gewaspercelen", "--provincie", "Atlantis"], "cache", "unknown provincie 'Atlantis'"),
        (["fetch", "brp_gewaspercelen"], "html", "answer is not JSON (starts with 'Onderhoud')"),
        (["fetch", "brp_gewaspercelen", "--bbox", "0,0,10,10"], "empty", "no features for this query"),
        (["fetch", "brp_gewaspercelen", "--bbox", "10,0,1"], None, "xmin,ymin,xmax,ymax"),
        (["fetch", "brp_gewaspercelen", "--filter", "gewas"], None, "give NAME=VALUE"),
        (["fetch", "netcapaciteit_afname", "--collection", "x"], None, "--collection does not apply"),
        (["fetch", "plancapaciteit"], None, "'plancapaciteit': no national layer: each provincie"),
        (["fetch", "natura2000", "--year", "2024"], None, "--year applies to CBS boundaries only"),
    ],
)
def test_cli_fetch_mistakes_give_clear_messages(tmp_path, args, setup, message):
    cache = tmp_path / "cache.gpkg"
    if setup == "cache":
        provinces_cache(cache)
    with OGCServer({"brpgewas": square_features(100)}) as server, bounded(30):
        server.html = setup == "html"
        result = CliRunner().invoke(
            cli, [*args, "--out", str(cache), "--base-url", server.url, "--retries", "0"]
        )
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_attribution_flows_into_the_load_report(tmp_path):
    cache = tmp_path / "cache.gpkg"
    with OGCServer({"brpgewas": square_features(300)}) as server, bounded(30):
        fetch("brp_gewaspercelen", server, cache, page_size=100)
    project = write_project(
        tmp_path,
        f"""
        [sectors.landbouw]
        [[sectors.landbouw.sources]]
        path = "{cache.as_posix()}"
        layer = "brp_gewaspercelen"
        label_field = "gewas"
        """,
    )
    from novex_geo import load_project, load_sectors

    layer = load_sectors(load_project(project))["landbouw"]
    assert layer.reports[0].attribution.startswith(
        "BRP gewaspercelen © RVO, via PDOK (niet geverifieerd voor"
    )
    result = CliRunner().invoke(cli, ["check", str(project)])
    assert "BRP gewaspercelen © RVO, via PDOK" in result.output
    assert DOWNLOADS_TABLE not in {s.source for s in layer.reports}


def test_a_run_stopped_while_writing_the_layer_finishes_from_the_staged_pages(tmp_path, monkeypatch):
    import novex_geo.fetch.store as store

    write_layer = store.write_layer

    def interrupted(*args):
        raise KeyboardInterrupt

    with OGCServer({"brpgewas": square_features(250)}) as server, bounded(30):
        monkeypatch.setattr(store, "write_layer", interrupted)
        with pytest.raises(KeyboardInterrupt):
            fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg", page_size=100)
        monkeypatch.setattr(store, "write_layer", write_layer)
        assert download_record(tmp_path / "c.gpkg", "brp_gewaspercelen")["status"] == "bezig"
        server.requests.clear()
        result = fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg", page_size=100)
        requests = list(server.requests)
    assert requests == []  # every page was staged: nothing fetched again
    assert result.resumed and result.n_features == 250
    assert sorted(stored(tmp_path / "c.gpkg", "brp_gewaspercelen")["nummer"]) == list(range(250))
