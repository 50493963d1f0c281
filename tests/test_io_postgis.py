"""PostGIS tables and queries as sources: the project keys, the same analysis as from files,
``check``, one clear line for every database mistake, and no password anywhere."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.config import Database, load_project, parse_project
from novex_geo.errors import ConfigError, LayerError, NovexError
from novex_geo.io.layers import read_source
from novex_geo.io.vector import read_vector
from novex_geo.pipeline import run_overlay

from .conftest import write_project
from .support.postgis_db import demo_in_postgis, load_table

URL = "postgresql://gis@db.example.nl:5432/novex"


def parse_source(tmp_path, **source):
    regions = {"path": "regions.gpkg", "name_field": "naam"}
    data = {"project": {"regions": regions}, "sectors": {"wonen": {"sources": [source]}}}
    return parse_project(data, tmp_path / "novex.toml").sectors["wonen"].sources[0]


def test_a_postgis_source_is_a_database_with_a_table_or_a_query(tmp_path):
    table = parse_source(tmp_path, path=URL, layer="plannen.woningbouw", where="status = 'vastgesteld'")
    assert table.path == Database(URL, "novex", URL) and str(table.path) == URL
    assert (table.layer, table.sql, table.name) == ("plannen.woningbouw", None, "novex:plannen.woningbouw")
    query = parse_source(tmp_path, path=URL + "?sslmode=require", sql="SELECT id AS fid, geom FROM t")
    assert (query.sql, query.name, query.path.params) == (
        "SELECT id AS fid, geom FROM t",
        "novex:sql",
        {"sslmode": "require"},
    )


@pytest.mark.parametrize(
    ("source", "key", "words"),
    [
        ({"path": "postgresql://gis:geheim99@db/novex", "layer": "a.b"}, "path", "password does not belong"),
        ({"path": URL + "?password=geheim99", "layer": "a.b"}, "path", "password does not belong"),
        # libpq decodes the key: pass%77ord is password; also in any case, and a fragment is refused
        ({"path": URL + "?sslmode=require&pass%77ord=geheim99", "layer": "a.b"}, "path", "password does not"),
        ({"path": URL + "?PASSWORD=geheim99", "layer": "a.b"}, "path", "password does not belong"),
        ({"path": URL + "#geheim99", "layer": "a.b"}, "path", "no #fragment"),
        ({"path": URL, "layer": "a.b", "sql": "SELECT 1"}, "layer", "exactly one of layer"),
        ({"path": URL}, "layer", "exactly one of layer"),
        ({"path": URL, "sql": "SELECT 1", "where": "a = 1"}, "where", "put the condition in the query"),
        ({"path": URL + "?schema=novex_2026", "layer": "a.b"}, "path", "layer = 'schema.table'"),
        ({"path": URL, "layer": "a.b", "raster": {"where": "> 1"}}, "raster", "vector features"),
        ({"path": "wonen.gpkg", "sql": "SELECT 1"}, "sql", "PostGIS source"),
        ({"path": "postgresql://db/", "layer": "a.b"}, "path", "name the database"),
    ],
)
def test_a_wrong_postgis_source_names_the_key_and_never_the_password(tmp_path, source, key, words):
    with pytest.raises(ConfigError) as raised:
        parse_source(tmp_path, **source)
    message = str(raised.value)
    assert f"sectors.wonen.sources[0].{key}:" in message and words in message
    assert "geheim99" not in message
    if "password" in words or "fragment" in words:
        assert "***" in message


def test_a_password_in_an_out_url_is_refused_without_showing_it(tmp_path):
    project = failing_project(tmp_path, path="wonen.gpkg")
    result = CliRunner().invoke(cli, ["run", project, "--out", URL + "?schema=x&pass%77ord=geheim99"])
    assert result.exit_code == 2 and "password does not belong" in result.output, result.output
    assert "geheim99" not in result.output and "pass%77ord=***" in result.output


def test_regions_are_read_from_a_file(tmp_path):
    data = {"project": {"regions": {"path": URL}}, "sectors": {"w": {"sources": [{"path": "w.gpkg"}]}}}
    with pytest.raises(ConfigError, match=r"project\.regions\.path: must be a file"):
        parse_project(data, tmp_path / "novex.toml")


def test_without_psycopg_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes `import psycopg` fail
    with pytest.raises(NovexError, match=r"pip install 'novex-geo\[postgis\]'"):
        read_vector(Database(URL, "novex", URL), "a.b")


@pytest.fixture(scope="module")
def demo_projects(postgis_url, tmp_path_factory):
    """The demo as files and with its vector sources in PostGIS (schema dropped afterwards)."""
    from .support.postgis_db import connect

    schema = f"bron_{uuid.uuid4().hex[:12]}"
    files, postgis = demo_in_postgis(postgis_url, schema, tmp_path_factory.mktemp("demo"))
    yield load_project(files), load_project(postgis), schema
    with connect(postgis_url) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_sources_read_from_postgis_give_the_same_analysis_as_files(demo_projects):
    files, postgis, _ = demo_projects
    assert {source.path.__class__ for source in postgis.sectors["landbouw"].sources} == {Database}
    from_files = run_overlay(files, write=False)
    from_postgis = run_overlay(postgis, write=False)
    faces = ["vlak_id", "provincie", "sectoren", "n_sectoren", "oppervlakte_m2"]
    pd.testing.assert_frame_equal(from_postgis.result.stapeling[faces], from_files.result.stapeling[faces])
    zones = [
        "schuurpunt_id",
        "conflict",
        "oppervlakte_m2",
        "feature_ids_a",
        "feature_ids_b",
        "labels_a",
        "labels_b",
    ]
    pd.testing.assert_frame_equal(
        from_postgis.result.schuurpunten[zones], from_files.result.schuurpunten[zones]
    )
    pd.testing.assert_frame_equal(from_postgis.result.herkomst, from_files.result.herkomst)
    assert (
        len(from_files.result.schuurpunten) == 85 and from_files.result.herkomst["feature_id"].nunique() > 100
    )
    assert from_postgis.result.stapeling.geometry.geom_equals(from_files.result.stapeling.geometry).all()
    counts = [
        {
            (r.sector, r.source): (r.n_read, r.n_loaded, r.n_buffered)
            for layer in run.layers.values()
            for r in layer.reports
        }
        for run in (from_postgis, from_files)
    ]
    assert counts[0] == counts[1]
    lines = counts[0][("energie", "hoogspanning+50m")]
    assert lines[2] == {"LineString": lines[0]} and lines[0] > 0


def test_a_bounding_box_read_from_postgis_keeps_the_same_features(demo_projects):
    files, postgis, _ = demo_projects
    area = (130_000.0, 465_000.0, 140_000.0, 475_000.0)
    [file_source], [table_source] = files.sectors["woningbouw"].sources, postgis.sectors["woningbouw"].sources
    from_file, _ = read_source(file_source, "woningbouw", files.crs, area)
    from_table, report = read_source(table_source, "woningbouw", postgis.crs, area)
    assert 0 < len(from_table) < report.n_read + 1 and len(from_table) < 121
    assert sorted(from_table["feature_id"]) == sorted(from_file["feature_id"])


def test_check_reports_a_postgis_source_like_a_file(demo_projects):
    files, postgis, _ = demo_projects
    as_files = json.loads(CliRunner().invoke(cli, ["check", str(files.path), "--json"]).output)
    result = CliRunner().invoke(cli, ["check", str(postgis.path), "--json"])
    assert result.exit_code == 0, result.output
    as_postgis = json.loads(result.output)
    keys = ["sector", "source", "n_read", "geometry_types", "source_crs", "n_loaded", "n_outside_regions"]
    assert [{k: s[k] for k in keys} for s in as_postgis["sources"]] == [
        {k: s[k] for k in keys} for s in as_files["sources"]
    ]
    landbouw = next(s for s in as_postgis["sources"] if s["sector"] == "landbouw")
    assert landbouw["path"].startswith("postgresql://") and landbouw["sql"].startswith("SELECT fid, gewas")
    assert landbouw["source_crs"] == "EPSG:28992" and landbouw["n_read"] > 1000
    text = CliRunner().invoke(cli, ["check", str(postgis.path)]).output
    assert "OK: the project can be analysed." in text and f"{landbouw['n_read']:,} features read" in text


def test_a_query_without_ids_numbers_its_rows_and_says_so(demo_projects, postgis_url):
    _, postgis, schema = demo_projects
    source = parse_source(
        postgis.path.parent,
        path=postgis_url,
        sql=f"SELECT naam, geom FROM {schema}.woningbouw WHERE naam LIKE 'W%';",
    )
    frame, report = read_source(source, "woningbouw", postgis.crs)
    assert len(frame) == report.n_read == 120 and frame["feature_id"].iloc[0] == f"woningbouw/{source.name}/0"
    assert report.warnings == [
        "no integer primary key or fid column: feature ids are row numbers and change when the rows change"
    ]


def failing_project(tmp_path, **source) -> str:
    body = "\n".join(f"{key} = {json.dumps(value)}" for key, value in source.items())
    return str(write_project(tmp_path, f"[sectors.wonen]\n[[sectors.wonen.sources]]\n{body}\n"))


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ({"path": "postgresql://novex_test@127.0.0.1:1/novex_test", "layer": "a.b"}, "cannot connect"),
        ({"layer": "{schema}.bestaat_niet"}, "table not found; tables with geometry in this database:"),
        ({"sql": "SELECT naam, geom FROM {schema}.wonen WHER naam = 'x'"}, "fails (syntax error at or near"),
        (
            {"layer": "{schema}.wonen", "where": "naam = 7"},
            "is not valid (operator does not exist: text = integer)",
        ),
        (
            {"layer": "{schema}.wonen", "where": "nam = 'x'"},
            "field 'nam': the where filter \"nam = 'x'\" uses an unknown field",
        ),
        (
            {"layer": "{schema}.wonen", "label_field": "plan"},
            "field 'plan': field not in layer; fields: fid, naam",
        ),
    ],
)
def test_a_database_problem_is_one_line_naming_the_source(tmp_path, postgis_url, pg_schema, source, words):
    homes = gpd.GeoDataFrame({"naam": ["a"]}, geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:28992")
    load_table(postgis_url, pg_schema, "wonen", homes)
    source = {"path": postgis_url, **{key: value.format(schema=pg_schema) for key, value in source.items()}}
    project = failing_project(tmp_path, **source)
    result = CliRunner().invoke(cli, ["check", project])
    assert result.exit_code == 1 and words in result.output, result.output
    result = CliRunner().invoke(cli, ["run", project])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert source["path"] in lines[0] and words in lines[0] and "Traceback" not in result.output


def test_the_password_comes_from_the_environment_and_is_never_written_or_shown(
    demo_projects, postgis_url, pg_schema, tmp_path, monkeypatch
):
    passfile = Path(os.environ.get("PGPASSFILE", Path.home() / ".pgpass"))
    dbname = postgis_url.rsplit("/", 1)[1]
    lines = passfile.read_text(encoding="utf-8").splitlines() if passfile.is_file() else []
    passwords = [
        line.split(":", 4)[4] for line in lines if line.count(":") >= 4 and line.split(":")[2] == dbname
    ]
    if not passwords:
        pytest.skip(f"no password for {dbname} in {passfile}: the test server needs none")
    password = passwords[0]
    monkeypatch.setenv("PGPASSWORD", password)  # the environment instead of the passfile
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "geen-passfile"))
    _, postgis, _ = demo_projects
    schema = f"{postgis_url}?schema={pg_schema}"
    project = str(postgis.path)
    commands = [
        ["check", project],
        ["run", project, "--out", str(tmp_path / "a.gpkg")],
        ["run", project, "--out", schema],
        ["triage", project, "--out", schema],
    ]
    shown = [CliRunner().invoke(cli, ["-v", *arguments]) for arguments in commands]
    assert [result.exit_code for result in shown] == [0, 0, 0, 0], [result.output[-500:] for result in shown]
    assert all(password not in result.output for result in shown)
    written = [path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) >= 3 and all(password.encode() not in content for content in written)
    from .support.postgis_db import connect

    with connect(postgis_url) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [pg_schema]
        ).fetchall()
        dump = "SELECT coalesce(string_agg(t::text, ''), '') FROM {}.{} t"
        stored = [connection.execute(dump.format(pg_schema, name)).fetchone()[0] for (name,) in tables]
    assert len(tables) == 15 and postgis_url in "".join(stored)  # the URL is recorded, its password never
    assert all(password not in text for text in stored)
    monkeypatch.setenv("PGPASSWORD", password + "-fout")
    result = CliRunner().invoke(cli, ["run", str(postgis.path)])
    assert result.exit_code == 1 and "password authentication failed" in result.output
    assert password not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_where_on_a_table_is_postgresql_with_postgis_functions(demo_projects, postgis_url):
    files, postgis, schema = demo_projects
    source = parse_source(
        postgis.path.parent,
        path=postgis_url,
        layer=f"{schema}.woningbouw",
        where="ST_Area(geom) > 300000 AND naam LIKE 'W%'",
        label_field="naam",
    )
    frame, report = read_source(source, "woningbouw", postgis.crs)
    everything = read_vector(files.sectors["woningbouw"].sources[0].path)
    large = everything[(everything.geometry.area > 300_000) & everything["naam"].str.startswith("W")]
    assert 0 < report.n_read == len(large) < len(everything)
    assert list(frame["feature_id"]) == [
        f"woningbouw/novex_test:{schema}.woningbouw/{fid}" for fid in large.index
    ]


def test_a_server_that_never_answers_is_given_up_on(monkeypatch):
    import socket
    import time

    from novex_geo.io import postgis

    pytest.importorskip("psycopg")
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, then says nothing
        port = silent.getsockname()[1]
        monkeypatch.setattr(postgis, "CONNECT_TIMEOUT_S", 1)
        monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
        url = f"postgresql://novex@127.0.0.1:{port}/novex"
        started = time.monotonic()
        with pytest.raises(NovexError, match=r"cannot connect \(.*timeout") as raised:
            read_vector(Database(url, "novex", url), "a.b")
        assert time.monotonic() - started < 8 and str(raised.value).startswith(f"{url}, layer 'a.b': ")


def test_curved_geometries_in_postgis_are_linearised_and_counted(tmp_path, postgis_url, pg_schema):
    from .support.postgis_db import connect

    with connect(postgis_url) as connection:
        connection.execute(f"CREATE SCHEMA {pg_schema}")
        connection.execute(
            f"CREATE TABLE {pg_schema}.bogen (fid bigint PRIMARY KEY, naam text, "
            "geom geometry(Geometry, 28992))"
        )
        connection.execute(
            f"INSERT INTO {pg_schema}.bogen VALUES "
            "(1, 'rond', ST_GeomFromText('CURVEPOLYGON(CIRCULARSTRING(400 500, 600 500, 400 500))', 28992)), "
            "(2, 'hoek', ST_GeomFromText('MULTISURFACE(((2000 0, 2100 0, 2100 100, 2000 0)))', 28992)), "
            "(3, 'vierkant', ST_MakeEnvelope(3000, 0, 3100, 100, 28992))"
        )
    project = failing_project(tmp_path, path=postgis_url, layer=f"{pg_schema}.bogen", label_field="naam")
    result = CliRunner().invoke(cli, ["check", project])
    assert result.exit_code == 0, result.output
    assert "2 curved geometries linearised: arcs as 32 straight segments per quarter circle" in result.output
    source = load_project(project).sectors["wonen"].sources[0]
    frame, report = read_source(source, "wonen", "EPSG:28992")
    assert (report.n_read, report.n_linearised) == (3, 2)
    assert list(frame.area) == [pytest.approx(np.pi * 100**2, rel=5e-4), 5_000, 10_000]  # as GDAL, buffers


@contextlib.contextmanager
def stalling_proxy(host: str, port: int):
    """A TCP proxy to the server that passes nothing back once the client asks for the rows of its
    cursor (FETCH): the peer stays alive and answers keepalives, but the reply never comes."""
    listener = socket.create_server(("127.0.0.1", 0))
    sockets = [listener]

    def pump(source, target, stall):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                stall[0] |= b"FETCH" in data and source is not stall[1]
                if not (stall[0] and source is stall[1]):
                    target.sendall(data)

    def accept():
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.create_connection((host, port))
                sockets.extend([client, server])
                stall = [False, server]  # stalled?, the side whose data is held back
                for source, target in ((client, server), (server, client)):
                    threading.Thread(target=pump, args=(source, target, stall), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:  # shut down, not only closed: a thread blocked in recv keeps a closed socket open
        for each in sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()


def test_a_connection_that_stalls_mid_read_is_given_up_on(tmp_path, postgis_url, pg_schema, monkeypatch):
    from novex_geo.config import parse_database_url
    from novex_geo.io import postgis

    homes = gpd.GeoDataFrame({"naam": ["a", "b"]}, geometry=[shapely.box(0, 0, 10, 10)] * 2, crs="EPSG:28992")
    load_table(postgis_url, pg_schema, "wonen", homes)
    passfile = Path(os.environ.get("PGPASSFILE", Path.home() / ".pgpass"))
    if passfile.is_file():  # the same password through the proxy's port
        lines = passfile.read_text(encoding="utf-8").splitlines()
        (tmp_path / "pgpass").write_text(
            "\n".join(re.sub(r"^([^:]*):[^:]*:", r"\1:*:", line) for line in lines)
        )
        (tmp_path / "pgpass").chmod(0o600)
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    monkeypatch.setattr(postgis, "REPLY_TIMEOUT_S", 1.5)
    database = parse_database_url(postgis_url)
    host, port = re.search(r"@([^:/]+):(\d+)/", postgis_url).groups()
    with stalling_proxy(host, int(port)) as proxy:
        stalled = parse_database_url(postgis_url.replace(f"{host}:{port}", f"127.0.0.1:{proxy}"))
        started = time.monotonic()
        with pytest.raises(LayerError, match=r"cannot read \(the server sent nothing for 1\.5 s although"):
            read_vector(stalled, f"{pg_schema}.wonen")
        assert time.monotonic() - started < 10
    assert len(read_vector(database, f"{pg_schema}.wonen")) == 2  # the same read, not stalled
