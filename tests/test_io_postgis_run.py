"""A run written into a PostGIS schema: the same rows as the GeoPackage, the runs history,
one transaction (a run killed while writing leaves the previous run), guarded schemas, and no
password in anything written."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import datetime

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.config import load_project
from novex_geo.errors import NovexError
from novex_geo.io.run import read_run
from novex_geo.pipeline import run_maps, run_overlay, run_signals, run_triage

from .support.postgis_db import connect

LAYERS = ("stapeling", "schuurpunten", "kansen", "provincies", "spanningsgebieden")
NAMES = (
    *LAYERS,
    "herkomst",
    "samenvatting",
    "controle",
    "invoer",
    "conflictparen",
    "kansparen",
    "novexgebieden",
    "afspraken",
)


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory):
    from novex_geo.demo import write_demo_project

    return write_demo_project(tmp_path_factory.mktemp("demo")).project


def schema_url(postgis_url: str, schema: str) -> str:
    return f"{postgis_url}?schema={schema}"


def runs(postgis_url: str, schema: str) -> list[tuple]:
    with connect(postgis_url) as connection:
        return connection.execute(
            f"SELECT run_id, opdracht, n_bronnen, n_features_gelezen, n_claims, uitvoer FROM {schema}.runs "
            "ORDER BY run_id"
        ).fetchall()


def same_rows(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal columns and values; geometries equal (the GeoPackage keeps single parts as written)."""
    assert list(left.columns) == list(right.columns)
    if "geometry" in left:
        assert shapely.equals(left.geometry.values, right.geometry.values).all()
        assert (left.crs.to_epsg(), right.crs.to_epsg()) == (28992, 28992)
        left, right = left.drop(columns="geometry"), right.drop(columns="geometry")
    pd.testing.assert_frame_equal(pd.DataFrame(left), pd.DataFrame(right), check_dtype=False)


def test_the_schema_holds_the_same_rows_as_the_geopackage(demo_project, postgis_url, pg_schema):
    project = load_project(demo_project)
    url = schema_url(postgis_url, pg_schema)
    run = run_overlay(project)
    result = CliRunner().invoke(cli, ["run", str(demo_project), "--out", url])
    assert result.exit_code == 0 and result.output.strip().endswith(f"wrote {url}"), result.output
    run_triage(project)
    result = CliRunner().invoke(cli, ["triage", str(demo_project), "--out", url])
    assert result.exit_code == 0 and f"layer spanningsgebieden in {url}" in result.output, result.output
    from_gpkg, from_schema = read_run(run.gpkg, required=NAMES), read_run(url, required=NAMES)
    for name in NAMES:
        same_rows(getattr(from_schema, name), getattr(from_gpkg, name))
    assert len(from_schema.stapeling) == 220 and len(from_schema.spanningsgebieden) == 62
    assert from_schema.stapeling["oppervlakte_m2"].sum() == pytest.approx(
        from_gpkg.stapeling["oppervlakte_m2"].sum()
    )
    history = runs(postgis_url, pg_schema)
    assert [row[:2] for row in history] == [(1, "run"), (2, "triage")]
    invoer = from_gpkg.invoer
    features = invoer["n_loaded"].where(
        invoer["raster"].fillna("") != "", invoer["n_read"]
    )  # raster: polygons
    assert history[0][2:5] == (8, int(features.sum()), int(invoer["n_loaded"].sum()))
    assert 8000 < features.sum() < invoer["n_read"].sum()
    assert history[0][5].startswith("stapeling 220, schuurpunten 85, kansen 17, provincies 3, herkomst 482")
    assert (
        history[1][5] == "spanningsgebieden 62, conflictparen 68, kansparen 11, novexgebieden 2, afspraken 0"
    )
    with connect(postgis_url) as connection:
        geometry = connection.execute(
            "SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema = %s ORDER BY 1",
            [pg_schema],
        ).fetchall()
        indexes = connection.execute(
            "SELECT tablename FROM pg_indexes WHERE schemaname = %s AND indexdef LIKE %s",
            [pg_schema, "%USING gist (geom)%"],
        ).fetchall()
        sha = connection.execute(f"SELECT sha256 FROM {pg_schema}.manifest WHERE rol = 'project'").fetchone()
        history_sha = connection.execute(f"SELECT DISTINCT project_sha256 FROM {pg_schema}.runs").fetchall()
    assert [(name, srid) for name, _, srid in geometry] == [(n, 28992) for n in sorted(LAYERS)]
    assert sorted(name for (name,) in indexes) == sorted(LAYERS)
    assert history_sha == [sha] and len(sha[0]) == 64
    # maps and signals read the run from the schema through the library, as from the GeoPackage
    today = datetime.now().strftime("%d-%m-%Y")
    maps = run_maps(
        project, ["Westmark"], out=demo_project.parent / "kaarten_pg", gpkg=url, layers=run.layers
    )
    assert [path.name for path in maps] == ["kaart_westmark.html"]
    assert f"Analyse van {today}" in maps[0].read_text(encoding="utf-8")
    (signal,) = run_signals(
        project, top=1, out=demo_project.parent / "signalen_pg", gpkg=url, layers=run.layers
    )
    assert signal.html.read_text(encoding="utf-8").count(f"analyse {today}") >= 1
    # the voortgangsmeter follows a GeoPackage run into a schema run: every area continued
    result = CliRunner().invoke(
        cli,
        [
            "monitor",
            str(run.gpkg),
            url,
            "--label",
            "gpkg",
            "--label",
            "schema",
            "--out",
            str(demo_project.parent / "v"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "62 spanningsgebieden followed over 2 runs: 62 active, 0 resolved" in result.output


def test_a_schema_novex_geo_did_not_write_is_never_replaced(demo_project, postgis_url, pg_schema):
    with connect(postgis_url) as connection:
        connection.execute(f"CREATE SCHEMA {pg_schema}")
        connection.execute(f"CREATE TABLE {pg_schema}.eigen_data AS SELECT 1 AS waarde")
    result = CliRunner().invoke(cli, ["run", str(demo_project), "--out", schema_url(postgis_url, pg_schema)])
    assert result.exit_code == 1 and "was not written by novex-geo" in result.output, result.output
    assert "stapeling faces" not in result.output  # found before the overlay, not after it
    with connect(postgis_url) as connection:
        assert connection.execute(f"SELECT waarde FROM {pg_schema}.eigen_data").fetchall() == [(1,)]


def test_a_second_writer_of_the_same_schema_stops_with_a_message(demo_project, postgis_url, pg_schema):
    with connect(postgis_url) as holder:  # what a running novex-geo holds while it writes
        holder.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"novex-geo:{pg_schema}"])
        with pytest.raises(NovexError, match=f"another novex-geo command is writing schema {pg_schema}"):
            run_overlay(load_project(demo_project), out=schema_url(postgis_url, pg_schema))


@pytest.mark.parametrize(
    "out",
    [
        "postgresql://gis:geheim99@127.0.0.1/novex?schema=a",
        "postgresql://127.0.0.1/novex",
        "postgresql://h/d?schema=Public",
    ],
)
def test_a_wrong_out_url_is_one_message(demo_project, out):
    result = CliRunner().invoke(cli, ["run", str(demo_project), "--out", out])
    assert (
        result.exit_code == 2
        and "Invalid value for '--out'" in result.output
        and "geheim99" not in result.output
    )


def test_triage_takes_gpkg_or_out_not_both(demo_project):
    result = CliRunner().invoke(cli, ["triage", str(demo_project), "--gpkg", "a.gpkg", "--out", "b.gpkg"])
    assert result.exit_code == 2 and "give --gpkg or --out, not both" in result.output


# each moment kills the writing process itself (SIGKILL: no cleanup runs) right after one step
KILL_AT = {
    "after the staging schema was created": ("_srid", "run"),
    "between two tables": ("_create_table", "run"),
    "in the middle of a COPY": ("copy_row", "run"),
    "after the old schema was dropped and the new one renamed": ("literal", "run"),
    "triage, after the run's tables moved to the staging schema": ("_write_runs", "triage"),
}
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from novex_geo.io import postgis_run
    from novex_geo.cli.main import cli

    step, command, project, url = sys.argv[1:]
    calls = []

    def killing(original, after):
        def step_then_die(*args, **kwargs):
            calls.append(1)
            if len(calls) >= after:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return step_then_die

    if step == "copy_row":  # the 500th row sent, in the 4th table (herkomst): its COPY still open
        import psycopg
        psycopg.Copy.write_row = killing(psycopg.Copy.write_row, 500)
    else:  # _create_table: as the second table starts, the first one loaded
        after = 2 if step == "_create_table" else 1
        setattr(postgis_run, step, killing(getattr(postgis_run, step), after))
    cli([command, project, "--out", url])
    """
)


def wait_until_no_writer(postgis_url: str) -> None:
    """The server notices the killed client and rolls back; bounded wait until it has."""
    deadline = time.monotonic() + 30
    with connect(postgis_url) as connection:
        while connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'novex-geo'"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed writer's session did not end"
            time.sleep(0.1)


@pytest.mark.parametrize("moment", list(KILL_AT))
def test_a_run_killed_while_writing_leaves_the_previous_run(demo_project, postgis_url, pg_schema, moment):
    step, command = KILL_AT[moment]
    url = schema_url(postgis_url, pg_schema)
    previous = run_overlay(load_project(demo_project), out=url).result
    before = runs(postgis_url, pg_schema)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, step, command, str(demo_project), url],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    wait_until_no_writer(postgis_url)
    assert runs(postgis_url, pg_schema) == before
    kept = read_run(url, required=("stapeling", "schuurpunten", "herkomst"), optional=("spanningsgebieden",))
    assert list(kept.stapeling["vlak_id"]) == list(previous.stapeling["vlak_id"])
    assert len(kept.herkomst) == len(previous.herkomst) == 482 and kept.spanningsgebieden is None
    with connect(postgis_url) as connection:
        schemas = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [pg_schema + "%"]
        )
        assert schemas.fetchall() == [(pg_schema,)]
    run_triage(load_project(demo_project), url)  # the lock is free again and the next write lands
    assert [row[1] for row in runs(postgis_url, pg_schema)] == ["run", "triage"]


def test_triage_into_an_empty_schema_runs_the_overlay_into_it_first(demo_project, postgis_url, pg_schema):
    url = schema_url(postgis_url, pg_schema)
    with pytest.raises(NovexError, match=f"no analysis in schema {pg_schema}"):
        read_run(url)
    triaged = run_triage(load_project(demo_project), url)
    assert [row[1] for row in runs(postgis_url, pg_schema)] == ["run", "triage"]
    assert len(read_run(url, required=("spanningsgebieden",)).spanningsgebieden) == len(triaged.areas) == 62
    assert triaged.report.parent == load_project(demo_project).output_dir and triaged.report.is_file()
