"""PDOK catalogue and `novex-geo fetch` against a local OGC API server on 127.0.0.1."""

import json
import tracemalloc
import urllib.parse

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError, NovexError
from novex_geo.fetch.catalog import REQUIRED, get_entry, load_catalog
from novex_geo.fetch.download import fetch_collection
from novex_geo.fetch.ogcapi import RetryPolicy
from novex_geo.io.downloads import DOWNLOADS_TABLE, download_record

from .conftest import write_project
from .ogc_server import OGCServer

FAST = RetryPolicy(attempts=3, timeout=5.0, backoff=0.01)


def square_features(n: int, size: float = 50.0, origin=(120_000.0, 440_000.0), columns: int = 200):
    """``n`` RD squares on a grid, like parcels, with PDOK-style string ids."""
    features = []
    for i in range(n):
        x, y = origin[0] + (i % columns) * 100, origin[1] + (i // columns) * 100
        features.append(
            {
                "type": "Feature",
                "id": f"perceel.{i}",
                "properties": {"gewas": "grasland" if i % 2 else "maïs", "nummer": i},
                "geometry": shapely.geometry.mapping(shapely.box(x, y, x + size, y + size)),
            }
        )
    return features


def entry_at(server, key="brp_gewaspercelen"):
    entry = get_entry(key)
    return type(entry)(**{**entry.__dict__, "url": server.url})


def test_catalogue_entries_are_complete_and_valid():
    catalog = load_catalog()
    assert {
        "cbs_provincies",
        "cbs_gemeenten",
        "natura2000",
        "brp_gewaspercelen",
        "overstromingen_risicogebied",
        "kadaster_provincies",
    } <= set(catalog)
    for key, entry in catalog.items():
        for name in REQUIRED:
            value = getattr(entry, name)
            assert value is not None and value != "", (key, name)
        url = urllib.parse.urlsplit(entry.url)
        assert url.scheme == "https" and url.netloc == "api.pdok.nl", key
        assert url.path.endswith("/ogc/v1"), key
        assert entry.items_url.endswith(f"/collections/{entry.collection}/items")
        assert "PDOK" in entry.attribution
    assert catalog["brp_gewaspercelen"].collection == "brpgewas"
    assert catalog["cbs_provincies"].params == {"jaarcode": 2025}


def test_unknown_key_suggests():
    with pytest.raises(NovexError, match="did you mean 'natura2000'"):
        get_entry("natura200")


def test_30000_features_paged_exactly_with_metadata_and_flat_memory(tmp_path):
    features = square_features(30_000)
    with OGCServer({"brpgewas": features}) as server:
        entry = entry_at(server)
        pages = []
        tracemalloc.start()
        small = fetch_collection(
            entry,
            tmp_path / "small.gpkg",
            page_size=1000,
            policy=FAST,
            bbox=(120_000, 440_000, 140_000, 441_400),
        )
        small_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        result = fetch_collection(
            entry,
            tmp_path / "cache.gpkg",
            page_size=1000,
            policy=FAST,
            progress=lambda done, matched: pages.append((done, matched)),
        )
        big_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert small.n_features == 3_000
    assert result.n_features == 30_000 and result.n_matched == 30_000
    assert len(pages) == 30 and pages[-1] == (30_000, 30_000)
    stored = pyogrio.read_dataframe(tmp_path / "cache.gpkg", layer="brp_gewaspercelen", read_geometry=False)
    assert len(stored) == 30_000 and stored["ogc_id"].is_unique
    # streamed page by page: ten times the features, not ten times the memory
    assert big_peak < 2 * small_peak, (small_peak, big_peak)
    record = download_record(tmp_path / "cache.gpkg", "brp_gewaspercelen")
    assert record["status"] == "klaar"
    assert record["n_features"] == 30_000
    assert record["licence"] == "CC0 1.0"
    assert "RVO" in record["attribution"]
    assert record["url"].endswith("/collections/brpgewas/items")
    assert json.loads(record["query"])["crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert record["started"] <= record["finished"]


def test_recovers_from_429_and_503(tmp_path):
    with OGCServer({"brpgewas": square_features(2_500)}) as server:
        server.fail_with = [429, 503]
        result = fetch_collection(entry_at(server), tmp_path / "c.gpkg", page_size=1000, policy=FAST)
        statuses = len(server.requests)
    assert result.n_features == 2_500
    assert statuses == 5  # 429, 503, then three pages


def test_dropped_connection_resumes_without_duplicates(tmp_path):
    with OGCServer({"brpgewas": square_features(5_000)}) as server:
        server.drop_at_offset = 3_000
        with pytest.raises(DownloadError, match="incomplete answer"):
            fetch_collection(entry_at(server), tmp_path / "c.gpkg", page_size=1000, policy=FAST)
        partial = download_record(tmp_path / "c.gpkg", "brp_gewaspercelen")
        assert partial["status"] == "bezig" and partial["n_features"] == 3_000
        server.drop_at_offset = None
        server.requests.clear()
        result = fetch_collection(entry_at(server), tmp_path / "c.gpkg", page_size=1000, policy=FAST)
        resumed_requests = list(server.requests)
    assert result.resumed and result.n_new == 2_000
    assert "offset=3000" in resumed_requests[0]  # continued from the stored next link
    ids = pyogrio.read_dataframe(tmp_path / "c.gpkg", layer="brp_gewaspercelen", read_geometry=False)[
        "ogc_id"
    ]
    assert len(ids) == 5_000 and ids.is_unique
    assert set(ids) == {f"perceel.{i}" for i in range(5_000)}


def provinces_cache(path):
    frame = gpd.GeoDataFrame(
        {"statnaam": ["Westmark", "Oostmark"], "statcode": ["PV91", "PV92"]},
        geometry=[
            shapely.box(120_000, 440_000, 125_025, 445_000),
            shapely.box(125_025, 440_000, 140_000, 445_000),
        ],
        crs="EPSG:28992",
    )
    frame.to_file(path, layer="cbs_provincies", engine="pyogrio")


def test_cli_fetch_provincie_requests_bbox_and_clips(tmp_path):
    cache = tmp_path / "cache.gpkg"
    provinces_cache(cache)
    with OGCServer({"brpgewas": square_features(10_000)}) as server:
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
        first = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[0]).query))
    assert result.exit_code == 0, result.output
    assert first["bbox"] == "120000.000,440000.000,125025.000,445000.000"
    assert first["bbox-crs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    stored = gpd.read_file(cache, layer="brp_gewaspercelen")
    # columns 0..50 of the grid lie in the box; column 50 (x 125000-125050) is cut at 125025
    assert len(stored) == 51 * 50
    assert stored.total_bounds[2] == pytest.approx(125_025)
    cut = stored[stored.area < 2_500 - 1e-6]
    assert len(cut) == 50 and cut.area.round(6).eq(25 * 50).all()
    assert "50 features cut at the border" in result.output
    assert "licence: CC0 1.0" in result.output


@pytest.mark.parametrize(
    ("args", "setup", "message"),
    [
        (
            ["fetch", "brp_gewasperceel"],
            None,
            "unknown catalogue key 'brp_gewasperceel' (did you mean 'brp_gewaspercelen'?)",
        ),
        (
            ["fetch", "brp_gewaspercelen", "--provincie", "Atlantis"],
            "cache",
            "unknown provincie 'Atlantis'",
        ),
        (["fetch", "brp_gewaspercelen"], "html", "answer is not JSON"),
        (
            ["fetch", "brp_gewaspercelen", "--bbox", "0,0,10,10"],
            "empty",
            "no features for this query",
        ),
        (["fetch", "brp_gewaspercelen", "--bbox", "10,0,1"], None, "xmin,ymin,xmax,ymax"),
    ],
)
def test_cli_fetch_mistakes_give_clear_messages(tmp_path, args, setup, message):
    cache = tmp_path / "cache.gpkg"
    if setup == "cache":
        provinces_cache(cache)
    with OGCServer({"brpgewas": square_features(100)}) as server:
        server.html = setup == "html"
        result = CliRunner().invoke(
            cli, [*args, "--out", str(cache), "--base-url", server.url, "--retries", "1"]
        )
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_catalog_command_filters_by_sector():
    result = CliRunner().invoke(cli, ["catalog", "--sector", "landbouw"])
    assert result.exit_code == 0
    assert "brp_gewaspercelen" in result.output and "natura2000" not in result.output


def test_attribution_flows_into_the_load_report(tmp_path):
    cache = tmp_path / "cache.gpkg"
    with OGCServer({"brpgewas": square_features(300)}) as server:
        fetch_collection(entry_at(server), cache, page_size=100, policy=FAST)
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
    assert layer.reports[0].attribution == "BRP gewaspercelen © RVO, via PDOK"
    result = CliRunner().invoke(cli, ["check", str(project)])
    assert "BRP gewaspercelen © RVO, via PDOK" in result.output
    assert DOWNLOADS_TABLE not in {s.source for s in layer.reports}


def test_init_from_catalog_wires_fetched_layers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    provinces = [
        {
            "type": "Feature",
            "id": f"p.{i}",
            "properties": {"statnaam": name, "statcode": code, "jaarcode": 2025},
            "geometry": shapely.geometry.mapping(geom),
        }
        for i, (name, code, geom) in enumerate(
            [
                ("Westmark", "PV91", shapely.box(120_000, 440_000, 125_025, 445_000)),
                ("Oostmark", "PV92", shapely.box(125_025, 440_000, 140_000, 445_000)),
            ]
        )
    ]
    natura = [
        {**feature, "properties": {"naamN2K": f"Heide {i}"}}
        for i, feature in enumerate(square_features(40, size=80, origin=(121_000.0, 440_500.0), columns=10))
    ]
    runner = CliRunner()
    with OGCServer(
        {
            "provincie_gegeneraliseerd": provinces,
            "natura2000": natura,
            "brpgewas": square_features(2_000),
        }
    ) as server:
        for args in (
            ["fetch", "cbs_provincies"],
            ["fetch", "natura2000", "--provincie", "Westmark"],
            ["fetch", "brp_gewaspercelen", "--provincie", "Westmark"],
        ):
            result = runner.invoke(cli, [*args, "--base-url", server.url])
            assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["init", "novex.toml", "--provincie", "Westmark", "--from-catalog"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "novex.toml").read_text(encoding="utf-8")
    assert 'provincies = ["Westmark"]' in text
    assert 'layer = "natura2000"' in text and "[sectors.natuur]" in text
    assert "# [sectors.woningbouw]" in text  # template sectors without data stay as comments
    from novex_geo import load_project

    project = load_project(tmp_path / "novex.toml")
    assert project.regions.layer == "cbs_provincies" and project.regions.name_field == "statnaam"
    assert set(project.sectors) == {"natuur", "landbouw"}
    check = runner.invoke(cli, ["check", "novex.toml"])
    assert check.exit_code == 0, check.output
    assert "Natura 2000 © RVO" in check.output
    run = runner.invoke(cli, ["run", "novex.toml"])
    assert run.exit_code == 0, run.output
    faces = gpd.read_file(tmp_path / "uitvoer" / "analyse.gpkg", layer="stapeling")
    assert set(faces["provincie"]) == {"Westmark"}
    assert faces.loc[faces["sectoren"] == "landbouw+natuur", "oppervlakte_m2"].sum() > 0
