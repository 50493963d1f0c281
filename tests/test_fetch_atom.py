"""`novex-geo fetch` of Atom feeds and direct downloads against a local server on 127.0.0.1: the
newest matching file, streaming with Range resume after a dropped connection (in one run and
across runs), SHA-256, unpacking zips safely, reading GeoPackage, GML and Shapefile layers."""

import hashlib
import io
import os
import zipfile

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError
from novex_geo.fetch import RetryPolicy
from novex_geo.io.downloads import download_record

from .support.download_server import DownloadServer, atom_feed
from .support.fetch_data import bounded, fetch, patch_entry, provinces_cache

GEBIEDEN = ["Groene Hart", "Schiphol", "Foodvalley", "Noordzeekanaalgebied"]
KEY = "novex_gebieden"


def novex_frame(n: int = 4) -> gpd.GeoDataFrame:
    """NOVEX-gebieden as 2.5 km squares in a row from x = 118 km (Westmark ends at 125,025)."""
    boxes = [shapely.box(118_000 + 3_000 * i, 440_500, 120_500 + 3_000 * i, 443_000) for i in range(n)]
    return gpd.GeoDataFrame({"naam": GEBIEDEN[:n], "nummer": range(n)}, geometry=boxes, crs="EPSG:28992")


def vector_bytes(tmp_path, frame: gpd.GeoDataFrame, name: str, driver: str) -> bytes:
    folder = tmp_path / "fixtures"
    folder.mkdir(exist_ok=True)
    frame.to_file(folder / name, driver=driver, engine="pyogrio")
    return (folder / name).read_bytes()


def dataset_feed(server: DownloadServer, files: dict[str, str]) -> bytes:
    """An Atom feed with one entry per file (path → updated)."""
    entries = [
        {
            "title": path.rsplit("/", 1)[-1],
            "updated": updated,
            "links": [
                {"rel": "alternate", "href": f"{server.url}{path}", "type": "application/octet-stream"}
            ],
        }
        for path, updated in files.items()
    ]
    return atom_feed("downloads", entries)


def test_the_newest_geopackage_of_the_feed_is_downloaded_recorded_and_clipped(tmp_path):
    cache = tmp_path / "cache.gpkg"
    provinces_cache(cache)
    old = vector_bytes(tmp_path, novex_frame(2), "old.gpkg", "GPKG")
    new = vector_bytes(tmp_path, novex_frame(), "new.gpkg", "GPKG")
    with DownloadServer({}, {"/dl/novex_2024.gpkg": old, "/dl/novex_2025.gpkg": new}) as server, bounded(30):
        dated = {"/dl/novex_2024.gpkg": "2024-03-01", "/dl/novex_2025.gpkg": "2025-06-01"}
        server.feeds["/atom/index.xml"] = dataset_feed(server, dated)
        args = ["fetch", KEY, "--provincie", "Oostmark", "--out", str(cache)]
        result = CliRunner().invoke(cli, [*args, "--base-url", f"{server.url}/atom/index.xml"])
        requested = list(server.requests)
    assert result.exit_code == 0, result.output
    assert requested == ["/atom/index.xml", "/dl/novex_2025.gpkg"]
    record = download_record(cache, KEY)
    assert record["file_sha256"] == hashlib.sha256(new).hexdigest() and record["file_bytes"] == len(new)
    assert record["file_url"].endswith("/dl/novex_2025.gpkg")
    assert record["edition"] == "novex_2025.gpkg, 2025-06-01"
    frame = gpd.read_file(cache, layer=KEY)
    # the first two squares (118.0-120.5 and 121.0-123.5 km) lie in Westmark, the third
    # (124.0-126.5 km) is cut at 125,025
    assert list(frame["naam"]) == GEBIEDEN[2:]
    assert frame.total_bounds[0] == pytest.approx(125_025)
    assert "licence obligations: licence not confirmed" in result.output
    assert not (tmp_path / "cache.gpkg.parts" / KEY).exists()  # the download is removed once stored


def test_a_dropped_connection_resumes_with_range_in_the_same_run(tmp_path, monkeypatch):
    patch_entry(monkeypatch, KEY, service="download")
    data = vector_bytes(tmp_path, novex_frame(), "n.gpkg", "GPKG")
    with DownloadServer({}, {"/d/novex.gpkg": data}) as server, bounded(30):
        server.drop_after = len(data) // 3
        result = fetch(KEY, server, tmp_path / "c.gpkg", path="/d/novex.gpkg")
        ranges = [(headers.get("Range"), headers.get("If-Range")) for headers in server.headers]
    etag = '"' + hashlib.sha256(data).hexdigest() + '"'
    assert ranges == [(None, None), (f"bytes={len(data) // 3}-", etag)]
    assert result.record["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert result.n_features == 4


@pytest.mark.parametrize("changed", [False, True], ids=["same file: the rest", "changed file: whole"])
def test_an_interrupted_download_continues_in_the_next_run(tmp_path, monkeypatch, changed):
    patch_entry(monkeypatch, KEY, service="download")
    final = vector_bytes(tmp_path, novex_frame(), "n.gpkg", "GPKG")
    first = vector_bytes(tmp_path, novex_frame(2), "o.gpkg", "GPKG") if changed else final
    out = tmp_path / "c.gpkg"
    no_retry = RetryPolicy(retries=0, timeout=5, backoff=0.01)
    with DownloadServer({}, {"/d/novex.gpkg": first}) as server, bounded(30):
        server.drop_after = len(first) // 2
        with pytest.raises(DownloadError, match="incomplete answer"):
            fetch(KEY, server, out, path="/d/novex.gpkg", policy=no_retry)
        part = out.with_name("c.gpkg.parts") / KEY / "download" / "novex.gpkg.part"
        assert part.stat().st_size == len(first) // 2
        assert download_record(out, KEY)["status"] == "bezig"
        server.files["/d/novex.gpkg"] = final  # when changed, If-Range no longer matches: sent whole
        result = fetch(KEY, server, out, path="/d/novex.gpkg", policy=no_retry)
        second = server.headers[-1]
    assert second["Range"] == f"bytes={len(first) // 2}-"
    assert result.resumed and result.n_features == 4
    assert result.record["file_sha256"] == hashlib.sha256(final).hexdigest()
    assert result.record["file_bytes"] == len(final)


def test_a_gml_behind_a_service_feed_and_a_dataset_feed(tmp_path, monkeypatch):
    patch_entry(monkeypatch, "nnn", label_field="naam")
    gml = vector_bytes(tmp_path, novex_frame(), "nnn.gml", "GML")
    with (
        DownloadServer({}, {"/dl/inspire-pv-ps.nlps-nnn.gml": gml, "/dl/readme.pdf": b"%PDF"}) as server,
        bounded(30),
    ):
        dataset = dataset_feed(
            server, {"/dl/readme.pdf": "2025-01-01", "/dl/inspire-pv-ps.nlps-nnn.gml": "2025-01-01"}
        )
        below = {"rel": "alternate", "type": "application/atom+xml", "href": f"{server.url}/atom/nnn.xml"}
        service = atom_feed("NNN", [{"title": "NNN", "updated": "2025-01-01", "links": [below]}])
        server.feeds.update({"/atom/index.xml": service, "/atom/nnn.xml": dataset})
        result = fetch("nnn", server, tmp_path / "c.gpkg", path="/atom/index.xml")
        assert result.n_features == 4 and result.record["file_sha256"] == hashlib.sha256(gml).hexdigest()
        requested = list(server.requests)
    assert requested == ["/atom/index.xml", "/atom/nnn.xml", "/dl/inspire-pv-ps.nlps-nnn.gml"]
    frame = gpd.read_file(tmp_path / "c.gpkg", layer="nnn")
    assert sorted(frame["naam"]) == sorted(GEBIEDEN) and frame.crs.to_epsg() == 28992
    assert shapely.equals(frame.geometry[frame["naam"] == "Schiphol"].iloc[0], novex_frame().geometry[1])


def test_a_zip_is_unpacked_safely_and_its_shapefile_read(tmp_path, monkeypatch):
    patch_entry(monkeypatch, KEY, service="download", file=r"gebieden\.shp$")
    novex_frame().to_file(tmp_path / "gebieden.shp", engine="pyogrio")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            archive.write(tmp_path / f"gebieden{suffix}", f"data/gebieden{suffix}")
        archive.writestr("../../outside.gml", b"<evil/>")  # a path that would leave the folder
        archive.writestr("leesmij.txt", b"NOVEX")
    with DownloadServer({}, {"/d/novex.zip": buffer.getvalue()}) as server, bounded(30):
        result = fetch(KEY, server, tmp_path / "out" / "c.gpkg", path="/d/novex.zip")
    assert result.n_features == 4
    assert sorted(gpd.read_file(tmp_path / "out" / "c.gpkg", layer=KEY)["naam"]) == sorted(GEBIEDEN)
    assert not any(path.name == "outside.gml" for path in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("other host", "refused to follow download link 'http://localhost:"),
        ("dtd", "XML answer with a DTD; refused"),
        ("length", "bytes received, the feed says 999"),
        ("no match", r"no download in the feed matches '\\.gpkg$'"),
        ("corrupt", "n.gpkg: the downloaded file is not a readable vector file"),
    ],
)
def test_feed_problems_are_clear_errors(tmp_path, problem, message):
    data = (
        vector_bytes(tmp_path, novex_frame(), "n.gpkg", "GPKG") if problem != "corrupt" else os.urandom(5000)
    )
    with DownloadServer({}, {"/dl/n.gpkg": data}) as server, bounded(30):
        host = server.url.replace("127.0.0.1", "localhost") if problem == "other host" else server.url
        link = {"rel": "alternate", "href": f"{host}/dl/{'n.pdf' if problem == 'no match' else 'n.gpkg'}"}
        if problem == "length":
            link["length"] = 999
        feed = atom_feed("x", [{"title": "n", "updated": "2025-01-01", "links": [link]}])
        if problem == "dtd":
            feed = feed.replace(b"<feed", b'<!DOCTYPE feed [<!ENTITY a "aaaa">]><feed', 1)
        server.feeds["/atom/index.xml"] = feed
        result = CliRunner().invoke(
            cli,
            ["fetch", KEY, "--out", str(tmp_path / "c.gpkg"), "--base-url", f"{server.url}/atom/index.xml"],
        )
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_the_stock_nnn_entry_takes_the_zipped_gml_and_ignores_metadata_links_elsewhere(tmp_path):
    """A real INSPIRE feed: a service feed whose entry links its metadata (``describedby``, on
    the register's host) beside the dataset feed, and a dataset feed with the GML zipped."""
    gml = vector_bytes(tmp_path, novex_frame(), "nnn.gml", "GML")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inspire-pv-ps.nlps-nnn.gml", gml)
    with DownloadServer({}, {"/dl/inspire-pv-ps.nlps-nnn.gml.zip": buffer.getvalue()}) as server, bounded(30):
        register = "http://nationaalgeoregister.example/geonetwork/srv/dut/csw?id=nnn"
        server.feeds["/atom/index.xml"] = atom_feed(
            "NNN",
            [
                {
                    "title": "NNN",
                    "updated": "2025-06",
                    "links": [
                        {
                            "rel": "describedby",
                            "href": register + "&output=xml.xml",
                            "type": "application/xml",
                        },
                        {
                            "rel": "alternate",
                            "href": f"{server.url}/atom/nnn.xml",
                            "type": "application/atom+xml",
                        },
                    ],
                }
            ],
        )
        server.feeds["/atom/nnn.xml"] = dataset_feed(
            server, {"/dl/inspire-pv-ps.nlps-nnn.gml.zip": "2025-06-01"}
        )
        result = fetch("nnn", server, tmp_path / "c.gpkg", path="/atom/index.xml")
    assert result.n_features == 4 == result.n_matched
    record = download_record(tmp_path / "c.gpkg", "nnn")
    assert record["file_url"].endswith("/dl/inspire-pv-ps.nlps-nnn.gml.zip")
    assert record["file_sha256"] == hashlib.sha256(buffer.getvalue()).hexdigest()
    assert not (tmp_path / "c.gpkg.parts").exists()


def test_a_zip_that_unpacks_far_beyond_its_size_is_refused_and_nothing_stays_behind(tmp_path, monkeypatch):
    patch_entry(monkeypatch, KEY, service="download", file=r"\.gml$")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bom.gml", b"<a/>" + b" " * (64 * 2**20))  # 64 MiB of spaces in ~64 KiB
    assert len(buffer.getvalue()) < 2**20
    with DownloadServer({}, {"/d/bom.zip": buffer.getvalue()}) as server, bounded(30):
        result = CliRunner().invoke(
            cli, ["fetch", KEY, "--out", str(tmp_path / "c.gpkg"), "--base-url", f"{server.url}/d/bom.zip"]
        )
    assert result.exit_code == 1 and "refused as a zip bomb" in result.output, result.output
    left = [path for path in (tmp_path / "c.gpkg.parts").rglob("*") if path.is_file()]
    assert left == []
