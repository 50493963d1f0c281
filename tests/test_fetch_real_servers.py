"""``novex-geo fetch`` against real server software on 127.0.0.1, serving real public Dutch layers.

MapServer 8 (WFS 2.0, Debian's cgi-mapserver behind lighttpd), pygeoapi (OGC API Features) and
Koop (Esri's open-source FeatureServer) serve the Drenthe NNN layer (5,401 polygons, a
``gml_id`` property, slivers of a few cm²) and the Kadaster provinces ("Fryslân", text codes
such as "24") from ``tests/data/real`` with page caps far below the layer, so paging is forced.
What arrives is compared with the RD source: feature count, attributes, area per feature
(relative 1e-6; pygeoapi and Koop serve CRS84, so every vertex went RD → CRS84 → RD) and CRS.
Servers are stopped mid-download, the client is killed mid-download, and both resume.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import DownloadError
from novex_geo.fetch import FetchOptions, RetryPolicy, fetch_dataset
from novex_geo.io.downloads import download_record

from .support.real_servers import (
    REAL_DATA,
    KoopServer,
    MapLayer,
    MapServerWFS,
    PygeoapiServer,
    crs84_copy,
)

pytestmark = pytest.mark.slow

NNN_FILE, NNN_LAYER, NNN_ID = (
    "nnn_drenthe_realisatie_verbeteren_zuid.gpkg",
    "Realisatie_verbeteren_NNN",
    "OBJECTID",
)
PROVINCES_FILE, PROVINCES_LAYER = "kadaster_provinciegebied.gpkg", "Provinciegebied"
PATIENT = RetryPolicy(retries=1, timeout=120, backoff=0.1)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Copies of the real layers (servers open them) and the NNN as CRS84 GeoJSON."""
    folder = tmp_path_factory.mktemp("real-data")
    for name in (NNN_FILE, PROVINCES_FILE):
        shutil.copy(REAL_DATA / name, folder / name)
    crs84_copy(folder / NNN_FILE, folder / "nnn.geojson")
    return folder


@pytest.fixture(scope="module")
def nnn(data) -> gpd.GeoDataFrame:
    return gpd.read_file(data / NNN_FILE, layer=NNN_LAYER)


@pytest.fixture(scope="module")
def mapserver(data, tmp_path_factory):
    layers = {
        "nnn": MapLayer(data / NNN_FILE, NNN_LAYER, NNN_ID),
        "provincies": MapLayer(data / PROVINCES_FILE, PROVINCES_LAYER, "identificatie"),
    }
    with MapServerWFS(tmp_path_factory.mktemp("mapserver"), layers, max_features=500) as server:
        yield server


@pytest.fixture(scope="module", params=["EPSG:4326 EPSG:28992", "EPSG:4326"], ids=["reprojects", "no RD"])
def mapserver_wgs84(request, data, tmp_path_factory):
    """The NNN stored in WGS 84: MapServer reprojects to RD itself, or does not offer RD at all."""
    layers = {"nnn": MapLayer(data / "nnn.geojson", "nnn", NNN_ID, 4326)}
    folder = tmp_path_factory.mktemp("mapserver-wgs84")
    with MapServerWFS(folder, layers, max_features=1000, offered=request.param) as server:
        yield server


@pytest.fixture(scope="module")
def pygeoapi(data, tmp_path_factory):
    geojson = data / "nnn.geojson"
    collections = {
        "nnn_rd": (geojson, NNN_ID, True, None),  # RD in its crs list: the server reprojects
        "nnn": (geojson, NNN_ID, False, None),  # pygeoapi's default: CRS84 only
        "nnn_limiet": (geojson, NNN_ID, False, {"max_items": 400, "on_exceed": "error"}),
    }
    with PygeoapiServer(tmp_path_factory.mktemp("pygeoapi"), collections) as server:
        yield server


@pytest.fixture(scope="module")
def koop(data, tmp_path_factory):
    with KoopServer(tmp_path_factory.mktemp("koop"), data / "nnn.geojson", NNN_ID, 1000) as server:
        yield server


def assert_complete(
    out: Path, layer: str, source: gpd.GeoDataFrame, key: str = NNN_ID, precision_m: float | None = None
) -> gpd.GeoDataFrame:
    """The stored layer equals the source: count, CRS, every attribute, every area (or, for a
    server that rounds coordinates, every vertex within ``precision_m``); the download record
    says complete with the service's count equal to what arrived."""
    got = gpd.read_file(out, layer=layer)
    assert got.crs.to_epsg() == 28992
    assert len(got) == len(source)
    assert not {"lowerCorner", "upperCorner"} & set(got.columns)  # no GML envelope columns
    left, right = got.set_index(_key(got[key])), source.set_index(_key(source[key]))
    right = right.loc[left.index]
    for column in source.columns.drop(["geometry"]):
        assert column in got.columns, column
        if pd.api.types.is_numeric_dtype(right[column]):
            assert np.allclose(left[column].astype(float), right[column].astype(float), rtol=1e-12), column
        else:
            assert (left[column].astype(str) == right[column].astype(str)).all(), column
    if precision_m is None:
        assert np.allclose(left.area, right.area, rtol=1e-6, atol=1e-9)
        assert left.area.sum() == pytest.approx(right.area.sum(), rel=1e-8)
    else:
        assert shapely.hausdorff_distance(left.geometry.values, right.geometry.values).max() <= precision_m
        assert left.area.sum() == pytest.approx(right.area.sum(), rel=1e-5)
    record = download_record(out, layer)
    assert record["status"] == "klaar"
    assert record["n_received"] == record["n_features"] == len(source)
    assert pd.isna(record["n_matched"]) or record["n_matched"] == len(source)
    return got


def _key(values: pd.Series) -> pd.Series:
    """Ids as text, ``60`` and ``60.0`` alike (a GeoPackage may store an integer id as REAL)."""
    return values.astype("int64").astype(str) if pd.api.types.is_numeric_dtype(values) else values.astype(str)


def run_fetch(key, out, *args):
    result = CliRunner().invoke(
        cli, ["fetch", key, "--out", str(out), "--timeout", "120", "--retries", "1", *args]
    )
    assert result.exit_code == 0, result.output
    return result


# --- MapServer 8, WFS 2.0 ------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["natura2000_wfs", "brp_gewaspercelen_wfs"], ids=["gml", "geojson"])
def test_mapserver_pages_of_its_cap_arrive_whole_typed_and_exact(mapserver, nnn, tmp_path, key):
    out = tmp_path / "nnn.gpkg"
    result = run_fetch(
        key, out, "--base-url", mapserver.endpoint(), "--collection", "nnn", "--page-size", "2000"
    )
    got = assert_complete(out, key, nnn)
    record = download_record(out, key)
    assert record["n_pages"] == 11  # 5,401 in pages of MapServer's 500, though 2,000 were asked
    assert "pages of 500 features: the service's CountDefault" in result.output
    assert "complete: 5,401 features received; the service holds 5,401" in result.output
    # the layer's own gml_id property stays a property, beside the feature's id
    assert (
        got.sort_values(NNN_ID)["gml_id"].to_numpy() == nnn.sort_values(NNN_ID)["gml_id"].to_numpy()
    ).all()
    if key == "natura2000_wfs":  # GML carries the feature ids (MapServer's GeoJSON has none)
        assert (got["ogc_id"] == "nnn." + got[NNN_ID].astype(int).astype(str)).all()
    assert record["source_name"] == "ms:nnn" and record["overridden"] == "--base-url, --collection"


def test_mapserver_gml_keeps_text_codes_and_non_ascii_names_as_the_schema_says(mapserver, data, tmp_path):
    out = tmp_path / "provincies.gpkg"
    run_fetch("natura2000_wfs", out, "--base-url", mapserver.endpoint(), "--collection", "provincies")
    source = gpd.read_file(data / PROVINCES_FILE)
    got = assert_complete(out, "natura2000_wfs", source, key="identificatie")
    assert got["code"].dtype.kind in "OUT" or pd.api.types.is_string_dtype(got["code"])
    assert sorted(got["code"]) == sorted(source["code"])  # "24", not 24
    assert "Fryslân" in set(got["naam"])


def test_mapserver_in_another_crs_is_checked_against_proj_or_reprojected_here(mapserver_wgs84, nnn, tmp_path):
    out = tmp_path / "nnn.gpkg"
    endpoint = mapserver_wgs84.endpoint()
    result = run_fetch("natura2000_wfs", out, "--base-url", endpoint, "--collection", "nnn")
    reprojects = "28992" in mapserver_wgs84.offered
    # MapServer writes degrees with 6 decimals (its default geometry precision): about 0.1 m
    assert_complete(out, "natura2000_wfs", nnn, precision_m=None if reprojects else 0.1)
    record = download_record(out, "natura2000_wfs")
    if reprojects:  # the server reprojects: its first page compared with PROJ
        assert record["crs_check"].startswith(
            "the server's RD coordinates match PROJ's reprojection from urn:ogc:def:crs:EPSG::4326"
        )
        assert record["n_reprojected"] == 0
    else:
        assert "is not offered in EPSG:28992: asked in urn:ogc:def:crs:EPSG::4326" in result.output
        assert record["n_reprojected"] == len(nnn)
    # an RD bbox goes to the server in the CRS asked, latitude first for EPSG:4326
    box = (230_000.0, 520_000.0, 245_000.0, 535_000.0)
    run_fetch(
        "natura2000_wfs",
        out,
        "--base-url",
        endpoint,
        "--collection",
        "nnn",
        "--bbox",
        ",".join(f"{v:.0f}" for v in box),
    )
    got = set(gpd.read_file(out, layer="natura2000_wfs")[NNN_ID].astype(int))
    inside = set(nnn[nnn.intersects(shapely.box(*box))][NNN_ID].astype(int))
    assert inside <= got and len(got) < len(nnn)  # a box in degrees covers a little more


def test_mapserver_without_number_matched_pages_by_its_next_links(mapserver, nnn, tmp_path):
    out = tmp_path / "nnn.gpkg"
    run_fetch(
        "natura2000_wfs", out, "--base-url", mapserver.endpoint(with_count=False), "--collection", "nnn"
    )
    assert_complete(out, "natura2000_wfs", nnn)


def test_mapserver_bbox_gives_the_features_that_meet_it(mapserver, nnn, tmp_path):
    box = (230_000.0, 520_000.0, 245_000.0, 535_000.0)
    out = tmp_path / "nnn.gpkg"
    run_fetch(
        "natura2000_wfs",
        out,
        "--base-url",
        mapserver.endpoint(),
        "--collection",
        "nnn",
        "--bbox",
        ",".join(f"{v:.0f}" for v in box),
    )
    got = gpd.read_file(out, layer="natura2000_wfs")
    expected = nnn[nnn.intersects(shapely.box(*box))]
    assert len(expected) > 500  # more than one page
    assert sorted(got[NNN_ID].astype(int)) == sorted(expected[NNN_ID].astype(int))
    assert download_record(out, "natura2000_wfs")["status"] == "klaar"


def stop_after(server, pages: int):
    """A progress callback that stops ``server`` once ``pages`` pages are stored."""
    seen = []

    def progress(done, total, unit):
        seen.append(done)
        if len(seen) == pages:
            server.stop()

    return progress


@pytest.mark.parametrize("which", ["mapserver", "pygeoapi"])
def test_a_server_stopped_mid_download_resumes_when_it_is_back(request, nnn, tmp_path, which):
    server = request.getfixturevalue(which)
    key, options = (
        ("natura2000_wfs", FetchOptions(policy=PATIENT, base_url=server.endpoint(), collection="nnn"))
        if which == "mapserver"
        else (
            "natura2000",
            FetchOptions(policy=PATIENT, base_url=server.url, collection="nnn", page_size=500),
        )
    )
    out = tmp_path / "nnn.gpkg"
    try:
        with pytest.raises(DownloadError, match="connection failed"):
            fetch_dataset(key, out, options=options, progress=stop_after(server, 3))
    finally:
        server.start()
    record = download_record(out, key)
    assert record["status"] == "bezig" and record["n_pages"] == 3
    result, _ = fetch_dataset(key, out, options=options)
    assert result.resumed
    assert_complete(out, key, nnn)


def test_a_killed_fetch_resumes_without_duplicates(mapserver, nnn, tmp_path):
    out = tmp_path / "nnn.gpkg"
    command = [
        str(Path(sys.executable).with_name("novex-geo")),
        "fetch",
        "natura2000_wfs",
        "--out",
        str(out),
        "--base-url",
        mapserver.endpoint(),
        "--collection",
        "nnn",
        "--page-size",
        "100",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            record = download_record(out, "natura2000_wfs")
            if record and record["n_pages"] >= 8:
                break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    record = download_record(out, "natura2000_wfs")
    assert record["status"] == "bezig" and 8 <= record["n_pages"] < 55
    result = run_fetch(
        "natura2000_wfs", out, "--base-url", mapserver.endpoint(), "--collection", "nnn", "--page-size", "100"
    )
    assert "(resumed)" in result.output
    assert_complete(out, "natura2000_wfs", nnn)


# --- pygeoapi, OGC API Features ------------------------------------------------------------------


def test_pygeoapi_reprojecting_to_rd_is_checked_against_proj(pygeoapi, nnn, tmp_path):
    out = tmp_path / "nnn.gpkg"
    result = run_fetch(
        "natura2000", out, "--base-url", pygeoapi.url, "--collection", "nnn_rd", "--page-size", "700"
    )
    assert_complete(out, "natura2000", nnn)
    record = download_record(out, "natura2000")
    assert record["crs_check"].startswith(
        "the server's RD coordinates match PROJ's reprojection from OGC:CRS84"
    )
    assert record["n_reprojected"] == 0 and record["n_pages"] == 8
    assert "match PROJ's reprojection" in result.output


def test_pygeoapi_without_rd_in_its_crs_list_answers_crs84_reprojected_here(pygeoapi, nnn, tmp_path):
    out = tmp_path / "nnn.gpkg"
    result = run_fetch("natura2000", out, "--base-url", pygeoapi.url, "--collection", "nnn")
    assert_complete(out, "natura2000", nnn)
    assert download_record(out, "natura2000")["n_reprojected"] == len(nnn)
    assert "does not offer EPSG:28992" in result.output


def test_pygeoapi_refusing_the_page_size_is_asked_its_maximum(pygeoapi, nnn, tmp_path):
    out = tmp_path / "nnn.gpkg"
    result = run_fetch("natura2000", out, "--base-url", pygeoapi.url, "--collection", "nnn_limiet")
    assert_complete(out, "natura2000", nnn)
    assert "the service refused 1000 features per page ('Limit of 400 exceeded'): asking 400" in result.output
    assert download_record(out, "natura2000")["n_pages"] == 14


# --- Koop, ArcGIS FeatureServer ------------------------------------------------------------------


def test_koop_rd_without_datum_shift_is_detected_and_reprojected_here(koop, nnn, tmp_path):
    out = tmp_path / "nnn.gpkg"
    result = run_fetch("netcapaciteit_afname", out, "--base-url", koop.layer_url, "--page-size", "1000")
    assert_complete(out, "netcapaciteit_afname", nnn)
    record = download_record(out, "netcapaciteit_afname")
    deviation = float(record["crs_check"].split("largest distance ")[1].split(" m")[0])
    assert 50 < deviation < 200  # Koop's outSR=28992 lacks the datum shift: about 120 m
    assert "every page is asked in that CRS and reprojected here" in result.output
    assert record["n_reprojected"] == len(nnn) and record["n_matched"] == len(nnn)
