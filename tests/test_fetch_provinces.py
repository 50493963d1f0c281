import json
import urllib.parse

import geopandas as gpd
import pytest
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError
from novex_geo.fetch.http import RetryPolicy
from novex_geo.fetch.provinces import fetch_provinces

from .conftest import PROVINCES
from .support.fetch_data import bounded
from .support.ogc_server import OGCServer

FAST = RetryPolicy(retries=2, timeout=2.0, backoff=0.01)


@pytest.fixture
def cbs_provinces():
    """CBS-style provincie_gegeneraliseerd features (RD) built from the shipped Kadaster provinces."""
    data = json.loads(gpd.read_file(PROVINCES).to_json())
    return [
        {
            "type": "Feature",
            "id": i,
            "properties": {
                "statcode": "PV" + feature["properties"]["code"],
                "statnaam": feature["properties"]["naam"],
                "jaarcode": 2025,
            },
            "geometry": feature["geometry"],
        }
        for i, feature in enumerate(data["features"], start=1)
    ]


def test_fetch_pages_through_to_12_provinces(tmp_path, cbs_provinces):
    with OGCServer({"provincie_gegeneraliseerd": cbs_provinces}) as server, bounded(30):
        frame = fetch_provinces(tmp_path / "p.gpkg", base_url=server.url, page_size=5, policy=FAST)
        pages = list(server.requests)
    assert len(pages) == 3
    first = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(pages[0]).query))
    assert first["jaarcode"] == "2025"
    assert first["crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert first["f"] == "json"
    assert len(frame) == 12
    written = gpd.read_file(tmp_path / "p.gpkg", layer="provincies")
    assert len(written) == 12
    assert "Fryslân" in set(written["statnaam"])
    assert written.crs.to_epsg() == 28992


def test_fetch_recovers_from_one_503(tmp_path, cbs_provinces):
    with OGCServer({"provincie_gegeneraliseerd": cbs_provinces}) as server, bounded(30):
        server.fail_with = [503]
        frame = fetch_provinces(tmp_path / "p.gpkg", base_url=server.url, page_size=5, policy=FAST)
    assert len(frame) == 12


def test_fetch_gives_up_on_persistent_500(tmp_path, cbs_provinces):
    with OGCServer({"provincie_gegeneraliseerd": cbs_provinces}) as server, bounded(30):
        server.fail_with = [500] * 10
        with pytest.raises(DownloadError, match=r"HTTP 500.*gave up after 3 attempts"):
            fetch_provinces(tmp_path / "p.gpkg", base_url=server.url, policy=FAST)
        assert len(server.requests) == 3


def test_fetch_times_out_with_clear_error(tmp_path, cbs_provinces):
    with OGCServer({"provincie_gegeneraliseerd": cbs_provinces}) as server, bounded(30):
        server.delay = 1.0
        policy = RetryPolicy(retries=1, timeout=0.2, backoff=0.01)
        with pytest.raises(DownloadError, match=r"no complete answer within 0.2 s.*gave up after 2"):
            fetch_provinces(tmp_path / "p.gpkg", base_url=server.url, policy=policy)


def test_fetch_cli_reports_html_answer_without_traceback(tmp_path, cbs_provinces):
    with OGCServer({"provincie_gegeneraliseerd": cbs_provinces}) as server, bounded(30):
        server.html = True
        result = CliRunner().invoke(
            cli,
            ["fetch", "provincies", "--base-url", server.url, "--out", str(tmp_path / "p.gpkg")],
        )
    assert result.exit_code == 1
    assert "answer is not JSON" in result.output
    assert "Traceback" not in result.output


def test_fetch_cli_writes_provinces(tmp_path, cbs_provinces):
    with OGCServer({"provincie_gegeneraliseerd": cbs_provinces}) as server, bounded(30):
        result = CliRunner().invoke(
            cli,
            ["fetch", "provincies", "--base-url", server.url, "--out", str(tmp_path / "p.gpkg")],
        )
    assert result.exit_code == 0, result.output
    assert "wrote 12 provinces" in result.output


def test_connection_refused_is_a_download_error(tmp_path):
    with OGCServer({}) as server, bounded(30):
        url = server.url
    with pytest.raises(DownloadError, match="connection failed"):
        fetch_provinces(tmp_path / "p.gpkg", base_url=url, policy=FAST)
