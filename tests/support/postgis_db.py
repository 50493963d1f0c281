"""The PostgreSQL + PostGIS server of the PostGIS tests, and loading test layers into it.

``.ci/postgis`` (sourced by ``.ci/run``) installs and starts Debian's PostgreSQL 15 with
PostGIS 3, creates the role and database ``novex_test`` and exports
``NOVEX_GEO_TEST_DATABASE`` (a URL without password) and ``PGPASSFILE``. Without a server the
tests skip with the reason; in CI (``CI`` set) they fail instead.

Test layers are loaded with plain ``INSERT``s, independently of novex-geo's own writer, keeping
each file's FIDs as the integer primary key ``fid`` so that feature ids match the file's.
"""

from __future__ import annotations

import os
import re
import uuid

import geopandas as gpd
import pyogrio
import pytest
import shapely

DEFAULT_URL = "postgresql://novex_test@127.0.0.1:5432/novex_test"


def database_url() -> str:
    return os.environ.get("NOVEX_GEO_TEST_DATABASE", DEFAULT_URL)


def connect(url: str | None = None, **settings):
    import psycopg

    return psycopg.connect(url or database_url(), connect_timeout=5, autocommit=True, **settings)


@pytest.fixture(scope="session")
def postgis_url() -> str:
    """The URL of the test database; skips (fails in CI) when there is no server with PostGIS."""
    url = database_url()
    try:
        with connect(url) as connection:
            connection.execute("SELECT postgis_version()")
    except Exception as exc:  # psycopg missing, no server, no role, no PostGIS: all say the same
        reason = f"no PostgreSQL with PostGIS at {url} ({type(exc).__name__}: {exc}); `source .ci/postgis`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_schema(postgis_url):
    """A fresh schema name (not yet created); it and its staging schema are dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with connect(postgis_url) as connection:
        for schema in (name, f"{name}__novex_nieuw"):
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


SQL_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean"}


def load_table(url: str, schema: str, table: str, frame: gpd.GeoDataFrame, srid: int = 28992) -> str:
    """Create ``schema.table`` from ``frame`` (its index as the primary key ``fid``); returns
    ``"schema.table"``."""
    columns = [name for name in frame.columns if name != frame.geometry.name]
    types = [SQL_TYPES.get(frame[name].dtype.kind, "text") for name in columns]
    definitions = ", ".join(f'"{name}" {kind}' for name, kind in zip(columns, types, strict=True))
    with connect(url) as connection:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        connection.execute(
            f"CREATE TABLE {schema}.{table} (fid bigint PRIMARY KEY, {definitions + ', ' if columns else ''}"
            f"geom geometry(Geometry, {srid}))"
        )
        names = ", ".join(["fid", *(f'"{name}"' for name in columns), "geom"])
        holders = ", ".join(["%s"] * (len(columns) + 1) + [f"ST_GeomFromWKB(%s, {srid})"])
        rows = [
            (int(fid), *(None if value != value else value for value in values), shapely.to_wkb(geom))
            for fid, *values, geom in zip(
                frame.index, *(frame[c].tolist() for c in columns), frame.geometry, strict=True
            )
        ]
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {schema}.{table} ({names}) VALUES ({holders})", rows)
    return f"{schema}.{table}"


def load_file(url: str, schema: str, table: str, path, layer: str | None = None) -> str:
    """Load a vector file's layer (with its FIDs) into ``schema.table``."""
    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    return load_table(url, schema, table, frame, srid=frame.crs.to_epsg())


def demo_in_postgis(url: str, schema: str, folder) -> tuple:
    """The demo project (files) and ``novex_pg.toml``, the same project with every vector sector
    source read from a PostGIS table in ``schema`` (landbouw through ``sql``), under the names
    the file sources get, so that feature ids are the same. Returns both project files."""
    from novex_geo.demo import write_demo_project

    files = write_demo_project(folder)
    lines = files.project.read_text(encoding="utf-8").splitlines()
    loaded: dict[str, str] = {}
    written, in_sector_source = [], False
    for i, line in enumerate(lines):
        in_sector_source = line.startswith("[[sectors.") or (in_sector_source and not line.startswith("["))
        match = re.fullmatch(r'path = "data/(\w+)\.gpkg"', line.strip())
        if not (in_sector_source and match):
            written.append(line)
            continue
        stem = match.group(1)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("[")), len(lines))
        buffer = next(
            (float(text.split("=")[1]) for text in lines[i + 1 : end] if text.startswith("buffer")), None
        )
        if stem not in loaded:
            loaded[stem] = load_file(url, schema, stem, files.data[stem])
        where = f'sql = "SELECT fid, gewas, geom FROM {loaded[stem]}"' if stem == "landbouw" else None
        written += [
            f'path = "{url}"',
            where or f'layer = "{loaded[stem]}"',
            f'name = "{stem}+{buffer:g}m"' if buffer else f'name = "{stem}"',
        ]
    postgis_project = files.project.with_name("novex_pg.toml")
    postgis_project.write_text("\n".join(written) + "\n", encoding="utf-8")
    return files.project, postgis_project
