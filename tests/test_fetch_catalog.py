"""The catalogue: every entry valid and honest, `catalog` per sector (also where no national layer
exists), and `init --from-catalog` on layers fetched by every protocol from local servers giving
a project that `check` and `run` accept, with all five NOVEX sectors wired or marked to fill in."""

import json
import re
import tomllib
import urllib.parse

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import NovexError
from novex_geo.fetch.catalog import FETCHABLE, REQUIRED, VERIFIABLE, _parse, get_entry, load_catalog
from novex_geo.templates import default_sectors

from .support.arcgis_server import ArcGISServer
from .support.download_server import DownloadServer, atom_feed
from .support.fetch_data import bounded, square_features
from .support.ogc_server import OGCServer
from .support.wfs_server import WFSServer

NOVEX_SECTORS = ["woningbouw", "water_bodem", "energie", "defensie", "landbouw"]


def test_catalogue_entries_are_complete_and_honest():
    catalog = load_catalog()
    expected = """cbs_provincies cbs_gemeenten kadaster_provincies novex_gebieden natura2000 natura2000_wfs
        nnn
        brp_gewaspercelen brp_gewaspercelen_wfs overstromingen_risicogebied netcapaciteit_afname
        hoogspanningsleidingen defensiezones plancapaciteit water_bodem_sturend"""
    assert set(expected.split()) <= set(catalog)
    for key, entry in catalog.items():
        for name in REQUIRED:
            assert getattr(entry, name) not in (None, ""), (key, name)
        assert set(entry.verified) <= set(VERIFIABLE)
        if entry.url:
            assert urllib.parse.urlsplit(entry.url).scheme == "https", key
        if "unconfirmed" in entry.licence:
            assert "licence" not in entry.verified, key
    services = {entry.service for entry in catalog.values()}
    assert services | {"download"} >= FETCHABLE  # every protocol has a real entry (download: via atom)
    assert catalog["brp_gewaspercelen"].collection == "brpgewas" and catalog["brp_gewaspercelen"].edition
    assert catalog["brp_gewaspercelen_wfs"].max_start_index == 50_000
    assert catalog["natura2000_wfs"].typename == "natura2000:natura2000"
    assert catalog["netcapaciteit_afname"].page_size == 100
    assert catalog["hoogspanningsleidingen"].buffer == 50
    assert catalog["cbs_provincies"].params == {"jaarcode": 2025}
    assert "CC BY-SA" in catalog["bodemdaling"].obligations
    assert catalog["natura2000"].obligations == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service": "wms"}, "service must be one of"),
        ({"service": "wfs", "collection": ""}, "a 'wfs' entry needs typename (or layer_search)"),
        ({"verified": True}, "verified must list what is confirmed"),
        ({"url": "ftp://example.org"}, "url must be an http(s) URL"),
        ({"page_size": "1000"}, "page_size has the wrong type"),
        ({"colour": "red"}, "unknown keys colour"),
    ],
)
def test_a_broken_entry_is_named_with_its_problem(change, message):
    data = {
        "key": "x",
        "title": "X",
        "sector": "natuur",
        "provider": "p",
        "service": "ogcapi-features",
        "url": "https://example.org/ogc/v1",
        "collection": "c",
        "licence": "CC0 1.0",
        "attribution": "a",
        "verified": [],
        "names_from": "n",
        "note": "n",
        **change,
    }
    with pytest.raises(NovexError, match=f"layers/x.toml: .*{re.escape(message)}"):
        _parse("x.toml", data)


def test_an_entry_may_name_an_intranet_service_over_http():
    data = {
        "key": "x",
        "title": "X",
        "sector": "natuur",
        "provider": "p",
        "service": "wfs",
        "url": "http://geo.intranet.provincie.local/wfs",
        "typename": "nnn",
        "licence": "CC0 1.0",
        "attribution": "a",
        "verified": [],
        "names_from": "n",
        "note": "n",
    }
    assert _parse("x.toml", data).url == "http://geo.intranet.provincie.local/wfs"


def test_catalog_lists_every_sector_with_its_layers_or_the_route():
    result = CliRunner().invoke(cli, ["catalog"])
    assert result.exit_code == 0
    blocks: dict[str, list[str]] = {}
    for line in result.output.splitlines():
        if not line.startswith(" "):
            blocks[line] = []
        blocks[list(blocks)[-1]].append(line.strip())
    assert list(blocks) == [*NOVEX_SECTORS, "natuur", "regio"]
    route = get_entry("plancapaciteit").route
    assert blocks["woningbouw"][1:] == [
        f"no national layer: Plancapaciteit woningbouw (plancapaciteit) — {route}"
    ]
    assert route.startswith("each provincie publishes its own planned housing locations: plancapaciteit.nl")
    assert (
        "no national layer: Water en bodem sturend (water_bodem_sturend) — provinces publish it"
        in result.output
    )
    assert (
        "netcapaciteit_afname" in result.output and "[arcgis-featureserver; verified: names]" in result.output
    )


def test_catalog_for_one_sector_and_an_unknown_one():
    landbouw = CliRunner().invoke(cli, ["catalog", "--sector", "landbouw"])
    assert landbouw.exit_code == 0
    assert "brp_gewaspercelen_wfs" in landbouw.output and "natura2000" not in landbouw.output
    unknown = CliRunner().invoke(cli, ["catalog", "--sector", "kunst"])
    assert (
        unknown.exit_code == 1 and "no sector 'kunst' in the catalogue; sectors: woningbouw" in unknown.output
    )


def feature(geometry, properties, ident):
    return {
        "type": "Feature",
        "id": ident,
        "properties": properties,
        "geometry": shapely.geometry.mapping(geometry),
    }


def fixtures():
    """One layer per catalogue entry the init test fetches, around Westmark (x 120,000-125,025)."""
    box = shapely.box
    high_voltage = {"typeinrichtingselement": "hoogspanningsleiding"}
    ogc = {
        "provincie_gegeneraliseerd": [
            feature(box(120_000, 440_000, 125_025, 445_000), {"statnaam": "Westmark"}, "p.1"),
            feature(box(125_025, 440_000, 140_000, 445_000), {"statnaam": "Oostmark"}, "p.2"),
        ],
        "gemeente_gegeneraliseerd": [
            feature(box(120_000, 440_000, 122_000, 445_000), {"statnaam": "Grensdam"}, "g")
        ],
        "natura2000": [feature(box(121_000, 441_000, 122_000, 442_000), {"naamN2K": "Heide"}, "n.1")],
        "brpgewas": square_features(600),
        "risk_zone": [feature(box(120_500, 440_500, 123_000, 441_500), {"name": "dijkring 14"}, "r.1")],
        "inrichtingselement_lijn": [
            feature(shapely.LineString([(120_000, 443_000), (126_000, 443_000)]), high_voltage, "l")
        ],
    }
    capaciteit = {"OBJECTID": 1, "voedingsgebied_naam": "VG Westmark", "afname": 3}
    netten = [feature(box(122_000, 443_500, 124_000, 444_500), capaciteit, 1)]
    defensie = [feature(box(123_000, 440_000, 124_500, 441_000), {"naam": "Oefenterrein"}, "d.1")]
    return ogc, netten, defensie


def test_init_from_catalog_wires_every_protocol_and_marks_what_to_fill_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ogc, netten, defensie = fixtures()
    runner = CliRunner()
    groene_hart = shapely.box(121_500, 441_500, 124_000, 444_000)
    gpd.GeoDataFrame({"naam": ["Groene Hart"]}, geometry=[groene_hart], crs="EPSG:28992").to_file(
        tmp_path / "novex.gpkg", engine="pyogrio"
    )
    gpkg = (tmp_path / "novex.gpkg").read_bytes()
    with (
        OGCServer(ogc) as pdok,
        ArcGISServer(netten) as arcgis,
        WFSServer({"alo:defensiezones_a": defensie}) as rivm,
        DownloadServer({}, {"/dl/novex.gpkg": gpkg}) as atom,
        bounded(120),
    ):
        link = {"rel": "alternate", "href": f"{atom.url}/dl/novex.gpkg"}
        atom.feeds["/atom.xml"] = atom_feed(
            "NOVEX", [{"title": "NOVEX", "updated": "2025-01-01", "links": [link]}]
        )
        netcapaciteit = f"{arcgis.url}/arcgis/rest/services/x/FeatureServer/0"
        westmark = ["--provincie", "Westmark"]
        pdok_layers = (
            "natura2000",
            "brp_gewaspercelen",
            "overstromingen_risicogebied",
            "hoogspanningsleidingen",
        )
        for args in (
            ["cbs_provincies", "--base-url", pdok.url],
            ["cbs_gemeenten", "--base-url", pdok.url],
            *([key, *westmark, "--base-url", pdok.url] for key in pdok_layers),
            ["netcapaciteit_afname", *westmark, "--base-url", netcapaciteit],
            ["defensiezones", *westmark, "--base-url", rivm.url],
            ["novex_gebieden", "--base-url", f"{atom.url}/atom.xml"],
        ):
            result = runner.invoke(cli, ["fetch", *args])
            assert result.exit_code == 0, (args, result.output)
    result = runner.invoke(cli, ["init", "novex.toml", "--provincie", "Westmark", "--from-catalog"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "novex.toml").read_text(encoding="utf-8")
    project = tomllib.loads(text)
    assert set(project["sectors"]) == {"water_bodem", "energie", "defensie", "landbouw", "natuur"}
    assert "# Woningbouw (woningbouw): no layer fetched yet" in text
    assert "#   no national layer: each provincie publishes its own planned housing locations" in text
    assert (
        "# [sectors.woningbouw]" in text
        and '# path = "data/woningbouw.gpkg"   # <- fill in your file' in text
    )
    energie = {source["layer"]: source for source in project["sectors"]["energie"]["sources"]}
    assert energie["hoogspanningsleidingen"]["buffer"] == 50
    assert energie["netcapaciteit_afname"]["label_field"] == "voedingsgebied_naam"
    assert '# where = "afname >= 2"' in text
    assert project["sectors"]["defensie"]["sources"][0]["layer"] == "defensiezones"
    assert "label_field" not in project["sectors"]["defensie"]["sources"][0]  # the catalogue knows no field
    assert project["triage"]["priority"][0]["layer"] == "novex_gebieden"
    assert project["triage"]["gemeenten"]["layer"] == "cbs_gemeenten"
    # the template's kansen whose sectors have layers: energie × landbouw, not woningbouw × water_bodem
    assert [pair["sectors"] for pair in project["kansen"]["pairs"]] == [["energie", "landbouw"]]
    check = runner.invoke(cli, ["check", "novex.toml"])
    assert check.exit_code == 0, check.output
    assert "Natura 2000 © RVO" in check.output
    run = runner.invoke(cli, ["run", "novex.toml"])
    assert run.exit_code == 0, run.output
    manifest = json.loads((tmp_path / "uitvoer" / "manifest.json").read_text(encoding="utf-8"))
    rows = {(row["sector"], row["laag"]): row for row in manifest["invoer"]}
    assert rows[("energie", "netcapaciteit_afname")]["service_url"] == netcapaciteit
    assert rows[("energie", "netcapaciteit_afname")]["verplichtingen"].startswith("licence not confirmed")
    assert (
        rows[("natuur", "natura2000")]["licentie"].startswith("CC0 1.0 (catalogue entry 'natura2000'")
        and rows[("natuur", "natura2000")]["opgehaald"]
    )
    assert {row["rol"] for row in manifest["invoer"]} == {"regio", "sector"}


def test_init_from_catalog_without_fetched_layers_says_what_to_do(tmp_path):
    result = CliRunner().invoke(
        cli, ["init", str(tmp_path / "p.toml"), "--from-catalog", "--cache", str(tmp_path / "none.gpkg")]
    )
    assert result.exit_code == 1
    assert "no fetched layers; run e.g. 'novex-geo fetch cbs_provincies'" in result.output
    # the provinces alone make no project either
    from novex_geo.io.downloads import save_download_record

    cache = tmp_path / "cache.gpkg"
    save_download_record(cache, {"layer": "cbs_provincies", "key": "cbs_provincies", "status": "klaar"})
    only = CliRunner().invoke(
        cli, ["init", str(tmp_path / "p.toml"), "--from-catalog", "--cache", str(cache)]
    )
    assert only.exit_code == 1 and "no layer of a sector fetched yet" in only.output
    assert not (tmp_path / "p.toml").exists()


def test_default_sectors_are_the_five_novex_sectors():
    assert list(default_sectors()[0]) == NOVEX_SECTORS
    assert get_entry("plancapaciteit").sector == "woningbouw"
