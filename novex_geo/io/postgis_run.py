"""A run in a PostGIS schema: replaced whole in one transaction, and read back consistently.

``run``/``overlay``/``triage --out "postgresql://…?schema=novex_2026"`` write the layers and
tables that a GeoPackage would hold into that schema: geometry columns ``geom`` in the analysis
CRS (EPSG:28992) with a GiST spatial index, an integer primary key ``fid``, and a table ``runs``
that keeps one row per command that wrote the schema (date, project and its SHA-256, novex-geo
version, input counts, rows written).

All of it happens in one transaction: the tables are loaded into a new schema
``<schema>__novex_nieuw``, then the old schema is dropped and the new one renamed. Readers see
the previous run until the commit and the whole new run after it; a process killed on the way
never commits, so the server rolls everything back. Only a schema that novex-geo created (it
carries a comment saying so) is ever replaced; a transaction-scoped advisory lock stops a
second writer of the same schema with a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import Database, Project
from novex_geo.errors import DatabaseError, OutputError, RunError
from novex_geo.io.layers import SectorLayer
from novex_geo.io.manifest import manifest_table
from novex_geo.io.postgis import (
    connect,
    fetch_frame,
    geometry_select,
    literal,
    one_line,
    quote,
    require_psycopg,
)
from novex_geo.io.run import INVOER

__all__ = [
    "RUNS_TABLE",
    "check_run_schema",
    "last_run_time",
    "read_schema",
    "schema_tables",
    "write_run_schema",
    "write_triage_schema",
]

RUNS_TABLE = "runs"
STAGING_SUFFIX = "__novex_nieuw"
MARK = "novex-geo"  # the schema comment that marks a schema novex-geo may replace
RUN_COLUMNS = {
    "opdracht": "text",
    "aangemaakt": "timestamptz",
    "project": "text",
    "project_bestand": "text",
    "project_sha256": "text",
    "novex_geo_versie": "text",
    "n_bronnen": "bigint",
    "n_features_gelezen": "bigint",
    "n_claims": "bigint",
    "uitvoer": "text",
}
MULTI = {
    "Polygon": shapely.multipolygons,
    "LineString": shapely.multilinestrings,
    "Point": shapely.multipoints,
}


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "bigint"
    if pd.api.types.is_float_dtype(series):
        return "double precision"
    return "text"


def _values(series: pd.Series, sql_type: str) -> list:
    """The column as Python values for COPY: ``None`` for missing, text for anything not a number."""
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    if sql_type == "text":
        return [None if gone else str(value) for value, gone in zip(values, missing, strict=True)]
    values[missing] = None
    return values.tolist()


def _geometries(frame: gpd.GeoDataFrame, srid: int) -> tuple[list, str]:
    """Hex EWKB of the geometries and the column's geometry type; like the GeoPackage writer,
    single parts are promoted to multi when both kinds occur, so that the column has one type."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    names = set(frame.geom_type.dropna())
    if len(names) == 2 and (single := min(names, key=len)) in MULTI and f"Multi{single}" in names:
        promote = (frame.geom_type == single).to_numpy()
        geoms = geoms.copy()
        geoms[promote] = MULTI[single](geoms[promote], indices=np.arange(int(promote.sum())))
        names = {f"Multi{single}"}
    hexes = shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True)
    return hexes.tolist(), names.pop() if len(names) == 1 else "Geometry"


def _create_table(connection, schema: str, name: str, frame: pd.DataFrame, srid: int) -> int:
    """Create ``schema.name`` from ``frame`` and load its rows with COPY; returns the row count."""
    spatial = isinstance(frame, gpd.GeoDataFrame)
    attributes = (frame.drop(columns=frame.geometry.name) if spatial else frame).reset_index(drop=True)
    types = [_sql_type(attributes[column]) for column in attributes.columns]
    columns = [quote(connection, str(column)) for column in attributes.columns]
    values = [
        _values(attributes[column], kind) for column, kind in zip(attributes.columns, types, strict=True)
    ]
    definitions = [f"{column} {kind}" for column, kind in zip(columns, types, strict=True)]
    if spatial:
        hexes, geometry_type = _geometries(frame, srid)
        definitions.append(f"geom geometry({geometry_type}, {srid})")
        columns.append("geom")
        values.append(hexes)
    table = quote(connection, schema, name)
    key = "fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    connection.execute(f"CREATE TABLE {table} ({', '.join([key, *definitions])})")
    with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in zip(*values, strict=True):
            copy.write_row(row)
    if spatial:
        connection.execute(
            f"CREATE INDEX {quote(connection, f'{name}_geom_idx')} ON {table} USING GIST (geom)"
        )
    return len(frame)


def _run_row(command: str, project: Project, tables: dict[str, pd.DataFrame], counts: dict[str, int]) -> dict:
    """The ``runs`` row of this command: when, which project and version, inputs and rows written."""
    manifest = tables["manifest"] if "manifest" in tables else manifest_table(project, [])
    head = manifest[manifest["rol"] == "project"].iloc[0]
    invoer, inputs = tables.get(INVOER.name), manifest[manifest["rol"] == "sector"]
    return {
        "opdracht": command,
        "aangemaakt": datetime.now(UTC),
        "project": project.name,
        "project_bestand": head["bestand"],
        "project_sha256": head["sha256"],
        "novex_geo_versie": head["novex_geo_versie"],
        "n_bronnen": len(inputs) if len(inputs) else None,
        "n_features_gelezen": int(inputs["n_features"].sum()) if len(inputs) else None,
        "n_claims": int(invoer["n_loaded"].sum()) if invoer is not None else None,
        "uitvoer": ", ".join(f"{name} {count}" for name, count in counts.items()),
    }


def _write_runs(connection, staging: str, previous: str | None, row: dict) -> None:
    """Table ``runs`` in ``staging``: the rows of the ``previous`` schema's table, then ``row``."""
    table = quote(connection, staging, RUNS_TABLE)
    names = ", ".join(RUN_COLUMNS)
    definitions = ", ".join(f"{name} {kind}" for name, kind in RUN_COLUMNS.items())
    connection.execute(f"CREATE TABLE {table} (run_id bigint PRIMARY KEY, {definitions})")
    if previous is not None:
        connection.execute(
            f"INSERT INTO {table} (run_id, {names}) SELECT run_id, {names} "
            f"FROM {quote(connection, previous, RUNS_TABLE)}"
        )
    holders = ", ".join(["%s"] * len(RUN_COLUMNS))
    connection.execute(
        f"INSERT INTO {table} (run_id, {names}) SELECT coalesce(max(run_id), 0) + 1, {holders} FROM {table}",
        list(row.values()),
    )


def _existing(connection, database: Database) -> set[str] | None:
    """The tables of the target schema (``None`` when it does not exist); a schema that novex-geo
    did not write is never replaced."""
    row = connection.execute(
        "SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = %s",
        [database.schema],
    ).fetchone()
    if row is None:
        return None
    if not row[0].startswith(MARK):
        raise OutputError(
            f"{database}: schema {database.schema} exists and was not written by novex-geo; novex-geo "
            "replaces the whole schema, so give a new one (?schema=…)"
        )
    rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [database.schema])
    return {name for (name,) in rows.fetchall()}


def _srid(connection, crs: str) -> int:
    authority, code = crs.split(":")
    row = connection.execute(
        "SELECT srid FROM spatial_ref_sys WHERE upper(auth_name) = %s AND auth_srid = %s",
        [authority.upper(), int(code)],
    ).fetchone()
    if row is None:
        raise DatabaseError(
            f"{crs} is not in this database's spatial_ref_sys; PostGIS cannot store the run in it"
        )
    return row[0]


def check_run_schema(database: Database, crs: str) -> None:
    """Before any work: the server answers, ``database.schema`` is new or novex-geo's to replace,
    and PostGIS knows ``crs`` — so a wrong URL costs seconds, not a whole run."""
    psycopg = require_psycopg()
    with connect(database) as connection:
        try:
            _existing(connection, database)
            _srid(connection, crs)
        except psycopg.Error as exc:  # no PostGIS in this database: no spatial_ref_sys
            raise DatabaseError(
                f"{database}: cannot hold a run; is PostGIS installed in it? ({one_line(exc)})"
            ) from None


def write_run_schema(
    database: Database, project: Project, tables: dict[str, pd.DataFrame], layers: Iterable[SectorLayer]
) -> Database:
    """Replace ``database.schema`` with the run's ``tables`` (GeoDataFrames become geometry
    tables), its ``manifest`` (the inputs of ``layers``) and the ``runs`` history plus a row for
    this run, in one transaction. A failure leaves the schema as it was."""
    return _replace_schema(database, project, {**tables, "manifest": manifest_table(project, layers)}, "run")


def write_triage_schema(database: Database, project: Project, tables: dict[str, pd.DataFrame]) -> Database:
    """Add (replace) the triage ``tables`` in the run's schema, with a ``runs`` row, in one
    transaction that carries the run's other tables over."""
    return _replace_schema(database, project, tables, "triage", keep=True)


def _replace_schema(
    database: Database, project: Project, tables: dict[str, pd.DataFrame], command: str, keep: bool = False
) -> Database:
    """Replace ``database.schema`` with ``tables`` and the ``runs`` history plus a row for
    ``command`` in one transaction; with ``keep`` the schema's other tables are carried over.
    A failure leaves the schema as it was; a held lock, a schema that novex-geo did not write
    and a failed write are an :class:`OutputError`."""
    psycopg = require_psycopg()
    schema, staging = database.schema, f"{database.schema}{STAGING_SUFFIX}"
    with connect(database, read_only=False) as connection:
        try:
            locked = connection.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext(%s))", [f"{MARK}:{schema}"]
            )
            if not locked.fetchone()[0]:
                raise OutputError(
                    f"{database}: another novex-geo command is writing schema {schema}; wait until it has "
                    "finished (or give another ?schema=)"
                )
            existing = _existing(connection, database)
            connection.execute(f"CREATE SCHEMA {staging}")
            srid = _srid(connection, project.crs)
            counts = {
                name: _create_table(connection, staging, name, frame, srid) for name, frame in tables.items()
            }
            for name in sorted((existing or set()) - set(tables) - {RUNS_TABLE}) if keep else ():
                connection.execute(f"ALTER TABLE {quote(connection, schema, name)} SET SCHEMA {staging}")
            previous = schema if existing and RUNS_TABLE in existing else None
            _write_runs(connection, staging, previous, _run_row(command, project, tables, counts))
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.execute(f"ALTER SCHEMA {staging} RENAME TO {schema}")
            comment = f"{MARK}: {project.name}, {command} {datetime.now(UTC).isoformat(timespec='seconds')}"
            connection.execute(f"COMMENT ON SCHEMA {schema} IS {literal(connection, comment)}")
        except psycopg.Error as exc:
            raise OutputError(
                f"{database}: writing the run failed; the schema is unchanged ({one_line(exc)})"
            ) from None
    return database


def schema_tables(database: Database) -> set[str]:
    """The tables in ``database.schema`` (empty when the schema does not exist)."""
    psycopg = require_psycopg()
    with connect(database) as connection:
        try:
            query = "SELECT tablename FROM pg_tables WHERE schemaname = %s"
            return {name for (name,) in connection.execute(query, [database.schema]).fetchall()}
        except psycopg.Error as exc:  # e.g. the connection dropped
            raise RunError(f"{database}: cannot read the run ({one_line(exc)})") from None


def _read_table(connection, schema: str, name: str) -> pd.DataFrame:
    """One table of a run, in ``fid`` order, without ``fid``; ``geom`` becomes the geometry."""
    columns = [
        row[0]
        for row in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    ]
    selected = [quote(connection, column) for column in columns if column not in ("fid", "geom")]
    srid = 0
    if "geom" in columns:
        srid = connection.execute("SELECT Find_SRID(%s, %s, 'geom')", [schema, name]).fetchone()[0]
        selected += geometry_select(connection, "geom", srid)
    query = f"SELECT {', '.join(selected)} FROM {quote(connection, schema, name)} ORDER BY fid"
    frame = fetch_frame(connection, query, "geom" if "geom" in columns else None, srid=srid)
    return frame.reset_index(drop=True)


def read_schema(database: Database, names: list[str]) -> dict[str, pd.DataFrame]:
    """The tables ``names`` of the run in ``database.schema``, read in one transaction that
    first locks them all (a writer's swap waits until the read ends): one run, never a mix."""
    psycopg = require_psycopg()
    with connect(database) as connection:
        try:
            tables = ", ".join(quote(connection, database.schema, name) for name in names)
            connection.execute(f"LOCK TABLE {tables} IN ACCESS SHARE MODE")
            return {name: _read_table(connection, database.schema, name) for name in names}
        except psycopg.Error as exc:
            raise RunError(f"{database}: cannot read the run ({one_line(exc)})") from None


def last_run_time(database: Database) -> datetime:
    """When ``novex-geo run`` last wrote the schema (its ``runs`` table)."""
    psycopg = require_psycopg()
    with connect(database) as connection:
        try:
            table = quote(connection, database.schema, RUNS_TABLE)
            query = f"SELECT max(aangemaakt) FROM {table} WHERE opdracht = 'run'"
            (moment,) = connection.execute(query).fetchone()
        except psycopg.Error as exc:
            raise RunError(f"{database}: cannot read the run ({one_line(exc)})") from None
    if moment is None:
        raise RunError(f"{database}: no run in schema {database.schema} yet; run novex-geo run --out first")
    return moment
