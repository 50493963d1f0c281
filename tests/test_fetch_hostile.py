"""`fetch` against a hostile or broken OGC API server: nothing followed that should not be, nothing
echoed, nothing hangs, nothing lost — each case bounded in time."""

import dataclasses
import json
import math
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError, IncompleteDownloadError
from novex_geo.fetch import RetryPolicy, get_entry
from novex_geo.io.downloads import download_record

from .support.fetch_data import bounded, fetch, square_features, stored
from .support.ogc_server import OGCServer

KEY, LAYER = "brp_gewaspercelen", "brp_gewaspercelen"


def cli_fetch(server, out, *args):
    return CliRunner().invoke(cli, ["fetch", KEY, "--out", str(out), "--base-url", server.url, *args])


@pytest.mark.parametrize("target", ["itself", "first page"])
def test_next_link_loops_are_stopped(tmp_path, target):
    with OGCServer({"brpgewas": square_features(50)}) as server, bounded(10):

        def loop(offset, limit, default):
            if target == "itself":
                return server.url + server.item_requests[-1]
            return default if offset == 0 else server.url + server.item_requests[0]  # page 2 → page 1

        server.next_href = loop
        with pytest.raises(DownloadError, match="next link leads back to page 1 of this run; stopped"):
            fetch(KEY, server, tmp_path / "c.gpkg", page_size=10)
        requests = len(server.item_requests)
    assert requests == (1 if target == "itself" else 2)
    record = download_record(tmp_path / "c.gpkg", LAYER)
    assert record["status"] == "bezig" and record["n_features"] == requests * 10  # kept, resumable


def test_foreign_scheme_next_link_is_refused_and_never_read(tmp_path):
    secret = tmp_path / "geheim.txt"
    secret.write_text("wachtwoord=hunter2\n" * 10, encoding="utf-8")
    with OGCServer({"brpgewas": square_features(30)}) as server, bounded(10):
        server.next_href = lambda offset, limit, default: secret.as_uri()
        result = cli_fetch(server, tmp_path / "c.gpkg", "--page-size", "10")
    assert result.exit_code == 1
    assert (
        f"refused to follow next link '{secret.as_uri()}': only http(s) links are followed" in result.output
    )
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_next_link_to_another_host_is_refused_unless_the_entry_allows_it(tmp_path, monkeypatch):
    with OGCServer({"brpgewas": square_features(30)}) as server, bounded(20):
        port = server.httpd.server_address[1]
        server.next_href = lambda offset, limit, default: default.replace("127.0.0.1", "localhost")
        with pytest.raises(DownloadError, match=f"it leaves 127.0.0.1:{port} for localhost:{port}"):
            fetch(KEY, server, tmp_path / "a.gpkg", page_size=10)
        allowing = dataclasses.replace(get_entry(KEY), hosts=(f"localhost:{port}",))
        monkeypatch.setattr("novex_geo.fetch.datasets.get_entry", lambda key: allowing)
        result = fetch(KEY, server, tmp_path / "b.gpkg", page_size=10)
    assert result.n_features == 30


def test_redirect_to_another_host_is_refused(tmp_path):
    with OGCServer({"brpgewas": square_features(30)}) as server, bounded(10):
        server.redirect = "http://example.invalid/steal"
        with pytest.raises(
            DownloadError, match=re.escape("refused to follow redirect to 'http://example.invalid/steal'")
        ):
            fetch(KEY, server, tmp_path / "c.gpkg")


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_a_drip_feeding_server_cannot_hold_a_request_past_the_timeout(tmp_path, headers):
    with OGCServer({"brpgewas": square_features(30)}) as server, bounded(6):
        server.drip, server.drip_headers = 0.2, headers
        result = cli_fetch(server, tmp_path / "c.gpkg", "--timeout", "1", "--retries", "1")
    assert result.exit_code == 1
    assert "no complete answer within 1 s (gave up after 2 attempts)" in result.output


def test_a_silent_server_times_out_within_the_deadline(tmp_path):
    with OGCServer({"brpgewas": square_features(3)}) as server, bounded(4):
        server.delay = 3.0
        with pytest.raises(DownloadError, match=r"no complete answer within 0\.5 s"):
            fetch(KEY, server, tmp_path / "c.gpkg", policy=RetryPolicy(retries=1, timeout=0.5, backoff=0.01))


def test_endless_pages_stop_at_max_pages_and_a_rerun_continues(tmp_path):
    out = tmp_path / "c.gpkg"
    with OGCServer({"brpgewas": square_features(100)}) as server, bounded(30):
        server.endless = True
        first = cli_fetch(server, out, "--page-size", "10", "--max-pages", "5")
        assert first.exit_code == 1
        assert (
            "stopped after 5 pages (--max-pages) with 50 features received and more offered" in first.output
        )
        assert download_record(out, LAYER)["n_pages"] == 5
        server.requests.clear()
        second = cli_fetch(server, out, "--page-size", "10", "--max-pages", "3")
        assert second.exit_code == 1 and "offset=50" in server.requests[0] and len(server.requests) == 3
        server.endless = False  # the service comes to its senses: pages 80 and 90 end it
        third = cli_fetch(server, out, "--page-size", "10")
    assert third.exit_code == 0, third.output
    assert "wrote 100 features" in third.output and "(resumed)" in third.output
    ids = stored(out, LAYER)["ogc_id"]
    assert list(ids) == [f"f.{i}" for i in range(80)] + [f"perceel.{i}" for i in range(80, 100)]


@pytest.mark.parametrize("matched", [25, 400], ids=["count lower than served", "count higher than served"])
def test_a_count_that_disagrees_with_what_arrives_is_stored_marked_onvolledig_and_fails(tmp_path, matched):
    with OGCServer({"brpgewas": square_features(100)}) as server, bounded(10):
        server.matched = matched
        with pytest.raises(IncompleteDownloadError, match=f"holds {matched:,} features .* but 100 arrived"):
            fetch(KEY, server, tmp_path / "c.gpkg", page_size=10)
    record = download_record(tmp_path / "c.gpkg", LAYER)
    assert record["status"] == "onvolledig"
    assert (record["n_matched"], record["n_received"], record["n_features"]) == (matched, 100, 100)
    assert len(gpd.read_file(tmp_path / "c.gpkg", layer=LAYER)) == 100  # kept for inspection


def test_a_server_without_crs_support_answers_crs84_which_is_reprojected(tmp_path):
    features = square_features(20)
    with OGCServer({"brpgewas": features}) as server, bounded(10):
        server.crs_mode = "ignore"  # CRS84 coordinates and no Content-Crs header, as the standard allows
        result = fetch(KEY, server, tmp_path / "c.gpkg")
    assert result.n_reprojected == 20
    frame = gpd.read_file(tmp_path / "c.gpkg", layer=LAYER).set_index("ogc_id")
    expected = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in features}
    worst = max(shapely.hausdorff_distance(frame.geometry[key], geom) for key, geom in expected.items())
    assert worst < 0.01  # metres: the CRS84 answer is stored in RD, not as RD


LIE = "none of the 20 features lies in the Netherlands when read as EPSG:28992 (first coordinate read as 4.8"
UNKNOWN = "the service names a CRS novex-geo does not know: 'http://example.com/crs/rd-ish'"


@pytest.mark.parametrize(("header", "message"), [(None, LIE), ("<http://example.com/crs/rd-ish>", UNKNOWN)])
def test_a_wrong_or_unknown_content_crs_is_a_clear_error(tmp_path, header, message):
    with OGCServer({"brpgewas": square_features(20)}) as server, bounded(10):
        server.crs_mode, server.crs_header = "lie", header
        result = cli_fetch(server, tmp_path / "c.gpkg")
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_features_without_ids_are_all_stored_and_resume_after_a_drop(tmp_path):
    out = tmp_path / "c.gpkg"
    with OGCServer({"brpgewas": square_features(2_500)}) as server, bounded(30):
        server.ids, server.drop_at_offset = "none", 2_000
        with pytest.raises(DownloadError, match="incomplete answer"):
            fetch(KEY, server, out)
        server.drop_at_offset = None
        result = fetch(KEY, server, out)
    assert result.resumed and result.n_features == 2_500 and result.n_shared_ids == 0
    table = stored(out, LAYER)
    assert sorted(table["nummer"]) == list(range(2_500)) and set(table["ogc_id"]) == {""}


def test_reused_ids_are_all_stored_and_said(tmp_path):
    with OGCServer({"brpgewas": square_features(250)}) as server, bounded(10):
        server.ids = "reuse"
        result = cli_fetch(server, tmp_path / "c.gpkg", "--page-size", "100")
    assert result.exit_code == 0
    assert "wrote 250 features" in result.output
    assert "note: 249 features share their id with another; all are stored" in result.output
    assert sorted(stored(tmp_path / "c.gpkg", LAYER)["nummer"]) == list(range(250))


def test_nonsense_coordinates_are_counted_and_dropped(tmp_path):
    features = square_features(12)
    features[1]["geometry"] = {"type": "Polygon", "coordinates": [["a", "b"]]}
    features[2]["geometry"] = {"type": "Poligon", "coordinates": []}
    features[3]["geometry"] = None
    features[4]["geometry"] = {"type": "Point", "coordinates": [math.nan, 440_000.0]}
    features[5]["geometry"] = {"type": "Point", "coordinates": [1e300, 1e300]}
    features[6] = "not a feature"
    with OGCServer({"brpgewas": features}) as server, bounded(10):
        server.crs_mode = "ignore"  # sent as CRS84: the huge point becomes inf on the way to RD
        result = cli_fetch(server, tmp_path / "c.gpkg")
    assert result.exit_code == 0, result.output
    assert "wrote 6 features" in result.output
    assert "6 features dropped: no readable geometry or coordinates outside the Netherlands" in result.output
    record = download_record(tmp_path / "c.gpkg", LAYER)
    assert record["n_received"] == 12 and record["n_dropped_invalid"] == 6
    assert sorted(stored(tmp_path / "c.gpkg", LAYER)["nummer"]) == [0, 7, 8, 9, 10, 11]


def test_a_hostile_error_page_is_echoed_only_as_a_short_clean_excerpt(tmp_path):
    body = b"<html><script>alert(1)</script>\x1b[31mROOD\x1b[0m " + b"A" * 100_000
    with OGCServer({"brpgewas": square_features(3)}) as server, bounded(10):
        server.html, server.html_body = True, body
        result = cli_fetch(server, tmp_path / "c.gpkg")
    assert result.exit_code == 1
    assert "answer is not JSON (starts with 'alert(1) [31mROOD [0m AAAA" in result.output
    assert "\x1b" not in result.output and "<script>" not in result.output
    error = next(line for line in result.output.splitlines() if line.startswith("Error:"))
    assert len(error) < 400


def test_filters_become_query_parameters(tmp_path):
    with OGCServer({"brpgewas": square_features(3)}) as server, bounded(10):
        result = cli_fetch(server, tmp_path / "c.gpkg", "--filter", "gewas=maïs")
        query = server.item_requests[0]
    assert result.exit_code == 0, result.output
    assert "gewas=ma%C3%AFs" in query
    assert json.loads(download_record(tmp_path / "c.gpkg", LAYER)["query"])["gewas"] == "maïs"
    assert np.isfinite(gpd.read_file(tmp_path / "c.gpkg", layer=LAYER).total_bounds).all()


def test_an_http_error_says_what_the_server_said():
    from novex_geo.fetch.http import server_message

    ows = (
        b'<?xml version="1.0"?><ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" '
        + b'xsi:schemaLocation="'
        + b"http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd " * 8
        + b'">'
        + b'<ows:Exception exceptionCode="InvalidParameterValue" locator="outputformat"><ows:ExceptionText>'
        + b"msWFSGetFeature(): WFS server error. 'application/json' is not a permitted output format"
        + b"</ows:ExceptionText></ows:Exception></ows:ExceptionReport>"
    )
    assert (
        server_message(ows)
        == "\"msWFSGetFeature(): WFS server error. 'application/json' is not a permitted output format\""
    )
    assert server_message(b'{"code": "InvalidParameterValue", "description": "Limit of 500 exceeded"}') == (
        "'Limit of 500 exceeded'"
    )
    assert server_message(b'{"error": {"code": 400, "message": "Invalid URL"}}') == "'Invalid URL'"
    assert server_message(b"<html>Bad gateway</html>") is None


def test_an_http_400_error_carries_the_servers_explanation(tmp_path):
    with OGCServer({"brpgewas": square_features(5)}) as server, bounded(10):
        result = CliRunner().invoke(
            cli,
            [
                "fetch",
                KEY,
                "--out",
                str(tmp_path / "c.gpkg"),
                "--base-url",
                server.url,
                "--collection",
                "nope",
            ],
        )
    assert result.exit_code == 1
    assert "server answered HTTP 404 Not Found: 'not found'" in result.output
