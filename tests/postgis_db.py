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
            for fid, *values, geom in zip(frame.index, *(frame[c].tolist() for c in columns), frame.geometry)
        ]
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {schema}.{table} ({names}) VALUES ({holders})", rows)
    return f"{schema}.{table}"


def load_file(url: str, schema: str, table: str, path, layer: str | None = None) -> str:
    """Load a vector file's layer (with its FIDs) into ``schema.table``."""
    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    return load_table(url, schema, table, frame, srid=frame.crs.to_epsg())
