"""Completeness is proven, never assumed: every protocol, against stand-ins with the faults of real
services (pages capped silently, counts lower or higher than what is served, paging that stops
early), ends either ``klaar`` with every feature stored or ``onvolledig`` with a non-zero exit."""

from __future__ import annotations

import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import IncompleteDownloadError
from novex_geo.io.downloads import download_record

from .support.arcgis_server import ArcGISServer
from .support.fetch_data import bounded, fetch, square_features
from .support.ogc_server import OGCServer
from .support.wfs_server import WFSServer

N = 100
BRP_WFS = "brpgewaspercelen:BrpGewas"
SERVERS = {
    "ogcapi": ("brp_gewaspercelen", "", lambda: OGCServer({"brpgewas": square_features(N)})),
    "wfs": ("brp_gewaspercelen_wfs", "", lambda: WFSServer({BRP_WFS: square_features(N)})),
    "arcgis": (
        "netcapaciteit_afname",
        "/arcgis/rest/services/afname/FeatureServer/0",
        lambda: ArcGISServer(arcgis_features(N)),
    ),
}
SCENARIOS = [
    ("ogcapi", {}, True),
    ("ogcapi", {"matched": 25}, False),  # numberMatched lower than what is served
    ("ogcapi", {"matched": 400}, False),  # higher
    ("ogcapi", {"unlink_from": 30}, False),  # next links stop before numberMatched is reached
    ("wfs", {"silent_cap": 7}, True),  # every page shorter than asked, nothing said: paging goes on
    ("wfs", {"count_default": 20}, True),  # the page cap announced in the capabilities
    ("wfs", {"matched": 40}, False),
    ("wfs", {"matched": 400, "silent_cap": 7}, False),
    ("arcgis", {}, True),
    ("arcgis", {"count": 40}, False),
    ("arcgis", {"stop_after": 50}, False),  # exceededTransferLimit false halfway
]


def arcgis_features(n: int) -> list[dict]:
    features = square_features(n)
    for number, feature in enumerate(features, start=1):
        feature["properties"] = {**feature["properties"], "OBJECTID": number, "afname": 3}
    return features


@pytest.mark.parametrize(("kind", "faults", "complete"), SCENARIOS, ids=lambda v: str(v))
def test_a_layer_is_klaar_only_when_every_feature_the_service_holds_is_stored(
    tmp_path, kind, faults, complete
):
    key, path, make = SERVERS[kind]
    with make() as server, bounded(30):
        for name, value in faults.items():
            setattr(server, name, value)
        if complete:
            result = fetch(key, server, tmp_path / "c.gpkg", page_size=10, path=path)
            assert result.n_features == result.n_received == N
        else:
            with pytest.raises(IncompleteDownloadError, match=r"holds [\d,]+ features for this query but"):
                fetch(key, server, tmp_path / "c.gpkg", page_size=10, path=path)
    record = download_record(tmp_path / "c.gpkg", key)
    assert (record["status"] == "klaar") == complete
    if record["status"] == "klaar":  # never fewer (or more) stored than the service holds
        assert record["n_features"] == N


def test_an_incomplete_download_ends_the_command_with_a_clear_message_and_a_non_zero_exit(tmp_path):
    with OGCServer({"brpgewas": square_features(N)}) as server, bounded(30):
        server.unlink_from = 30
        result = CliRunner().invoke(
            cli,
            [
                "fetch",
                "brp_gewaspercelen",
                "--out",
                str(tmp_path / "c.gpkg"),
                "--base-url",
                server.url,
                "--page-size",
                "10",
            ],
        )
    assert result.exit_code != 0
    assert "the service says it holds 100 features for this query but 40 arrived" in result.output
    assert "marked 'onvolledig'" in result.output and "Traceback" not in result.output


def test_the_downloads_table_keeps_counts_as_integers(tmp_path):
    import sqlite3

    with OGCServer({"brpgewas": square_features(N)}) as server, bounded(30):
        server.ids = "none"  # no numberMatched problem, just ids missing: the count columns stay whole
        fetch("brp_gewaspercelen", server, tmp_path / "c.gpkg", page_size=10)
    with sqlite3.connect(tmp_path / "c.gpkg") as connection:
        types = {row[1]: row[2] for row in connection.execute("PRAGMA table_info(novex_downloads)")}
    assert types["n_matched"] == "INTEGER" and types["n_received"] == "INTEGER"
    assert types["n_pages"] == "INTEGER" and types["n_features"] == "INTEGER"


@pytest.mark.parametrize("allowed", [False, True], ids=["refused", "allow_incomplete"])
def test_run_refuses_a_layer_whose_download_is_onvolledig_unless_the_source_allows_it(tmp_path, allowed):
    from .conftest import write_layer, write_project

    cache = tmp_path / "cache.gpkg"
    with OGCServer({"brpgewas": square_features(N)}) as server, bounded(30):
        server.unlink_from = 30
        with pytest.raises(IncompleteDownloadError):
            fetch("brp_gewaspercelen", server, cache, page_size=10)
    area = shapely.box(110_000, 430_000, 150_000, 460_000)
    regions = write_layer(tmp_path / "regions.gpkg", [area], naam=["Westmark"])
    body = f"""
        [sectors.landbouw]
        [[sectors.landbouw.sources]]
        path = "{cache.as_posix()}"
        layer = "brp_gewaspercelen"
        {"allow_incomplete = true" if allowed else ""}
        """
    project = write_project(tmp_path, body, regions=regions)
    for command in ("check", "run"):
        result = CliRunner().invoke(cli, [command, str(project)])
        if allowed:
            assert result.exit_code == 0, result.output
            assert "ended 'onvolledig' (40 of 100 features received); used as it is" in result.output
        else:
            assert result.exit_code == 1, result.output
            assert (
                "layer 'brp_gewaspercelen': its download (novex-geo fetch brp_gewaspercelen) ended "
                in result.output
            )
            assert "'onvolledig' (40 of 100 features received): run the same fetch again" in result.output
