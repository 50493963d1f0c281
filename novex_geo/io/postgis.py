"""PostGIS as a source: bounded connections and the one reader of tables and queries.

A source with ``path = "postgresql://user@host:5432/db"`` reads the table ``layer =
"schema.table"`` or the rows of ``sql = "SELECT …"``; :func:`~novex_geo.io.vector.read_vector`
hands it here, and the loading steps after reading (CRS check, reprojection, repair, buffer,
counts) are those of every file. Reading, like writing a run (:mod:`novex_geo.io.postgis_run`),
goes through psycopg (v3): the GDAL that the pyogrio wheels carry has no PostgreSQL driver.
psycopg is optional (``pip install 'novex-geo[postgis]'``) and imported only when a database is
used.

The password comes from ``PGPASSWORD`` or the passfile that libpq reads, never from a URL, so
no message, table or report can show it. Nothing waits without a bound: connecting gives up
after :data:`CONNECT_TIMEOUT_S` seconds (unless the URL or ``PGCONNECT_TIMEOUT`` says
otherwise); the server ends a statement after :data:`STATEMENT_TIMEOUT`, a lock wait after
:data:`LOCK_TIMEOUT` and a session left idle in its transaction after :data:`STATEMENT_TIMEOUT`;
TCP keepalives notice a server that vanished, ``tcp_user_timeout`` one that stopped taking what
is sent; and this side gives up on a connection that stalls with the peer still alive (a hung
server or proxy: keepalives are answered, nothing else) when no byte has arrived for
:data:`REPLY_TIMEOUT_S`, a minute longer than the server would take to end the statement itself.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config.database import Database
from novex_geo.errors import DatabaseError, LayerError

__all__ = [
    "CONNECT_TIMEOUT_S",
    "LOCK_TIMEOUT",
    "REPLY_TIMEOUT_S",
    "STATEMENT_TIMEOUT",
    "connect",
    "fetch_frame",
    "geometry_select",
    "literal",
    "one_line",
    "postgis_crs",
    "postgis_fields",
    "quote",
    "read_postgis",
    "require_psycopg",
]

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT = "30min"
LOCK_TIMEOUT = "2min"
REPLY_TIMEOUT_S = 31 * 60.0  # the server ends a statement (or an idle transaction) first
SESSION = {
    "statement_timeout": STATEMENT_TIMEOUT,
    "lock_timeout": LOCK_TIMEOUT,
    "idle_in_transaction_session_timeout": STATEMENT_TIMEOUT,
}
FETCH_ROWS = 50_000  # rows per round trip of the server-side cursor: bounded memory per batch
SRID_COLUMN = "novex_geo_srid"
CURVED_COLUMN = "novex_geo_curved"
CURVE_TYPES = "'ST_CircularString', 'ST_CompoundCurve', 'ST_CurvePolygon', 'ST_MultiCurve', 'ST_MultiSurface'"
DEFAULTS = {
    "application_name": "novex-geo",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
}
INTEGER_TYPES = {20, 21, 23}  # bigint, smallint, integer
NO_KEY = "no integer primary key or fid column: feature ids are row numbers and change when the rows change"


def require_psycopg():
    """The psycopg module, or a :class:`DatabaseError` that says how to install it."""
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(
            "PostGIS needs psycopg (v3), which is not installed: pip install 'novex-geo[postgis]'"
        ) from None
    return psycopg


def one_line(exc: Exception) -> str:
    """The server's (or libpq's) message of a psycopg error on one short line."""
    diag = getattr(exc, "diag", None)
    text = diag.message_primary if diag is not None and diag.message_primary else str(exc)
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


@contextmanager
def connect(database: Database, layer: str | None = None, read_only: bool = True) -> Iterator:
    """A psycopg connection in one transaction, committed when the block ends and rolled back
    when it raises (or when the process dies: the server never sees a commit).

    A failure to connect is a :class:`LayerError` naming the URL (and ``layer``).
    """
    psycopg = require_psycopg()
    settings = dict(DEFAULTS)
    if not os.environ.get("PGCONNECT_TIMEOUT"):
        settings["connect_timeout"] = str(CONNECT_TIMEOUT_S)
    settings = {key: value for key, value in settings.items() if key not in database.params}
    try:
        connection = _bounded_connection().connect(database.conninfo, **settings)
    except psycopg.Error as exc:
        raise LayerError(f"cannot connect ({one_line(exc)})", database, layer) from None
    with connection:
        try:
            connection.read_only = read_only
            for name, value in SESSION.items():
                connection.execute(f"SET LOCAL {name} = '{value}'")
        except psycopg.Error as exc:  # the connection dropped at once, or a server refusing a setting
            raise LayerError(f"cannot connect ({one_line(exc)})", database, layer) from None
        yield connection


@functools.cache
def _bounded_connection():
    """psycopg's connection class, with every round trip given up on when the server sends
    nothing for :data:`REPLY_TIMEOUT_S` (psycopg itself would wait for ever)."""
    psycopg = require_psycopg()

    class BoundedConnection(psycopg.Connection):
        def wait(self, gen, *args, **kwargs):
            return super().wait(_answered(self, gen), *args, **kwargs)

    return BoundedConnection


def _answered(connection, gen):
    """psycopg's protocol generator ``gen``, passed through; psycopg's wait wakes it every tenth
    of a second with nothing ready, and when that has gone on for :data:`REPLY_TIMEOUT_S` the
    connection is closed and an :class:`psycopg.OperationalError` says why."""
    psycopg = require_psycopg()
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    try:
        state = next(gen)
        while True:
            ready = yield state
            if ready:
                deadline = time.monotonic() + REPLY_TIMEOUT_S
            elif time.monotonic() > deadline:
                connection.pgconn.finish()
                raise psycopg.OperationalError(
                    f"the server sent nothing for {REPLY_TIMEOUT_S:g} s although the connection is up "
                    "(a hung server or proxy); the connection was closed"
                )
            state = gen.send(ready)
    except StopIteration as stop:
        return stop.value


def quote(connection, *name: str) -> str:
    """``name`` (or ``schema, table``) as a quoted SQL identifier."""
    from psycopg import sql

    return sql.Identifier(*name).as_string(connection)


def literal(connection, text: str) -> str:
    """``text`` as a quoted SQL string literal (for statements that take no parameters)."""
    from psycopg import sql

    return sql.Literal(text).as_string(connection)


def _describe(connection, relation: str) -> list[tuple[str, int, int]]:
    """(name, type oid, type modifier) of every column of ``relation``."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {relation} LIMIT 0")
        return [
            (column.name, column.type_code, cursor.pgresult.fmod(i))
            for i, column in enumerate(cursor.description)
        ]


def _table(connection, database: Database, layer: str) -> tuple[str, int]:
    """The quoted name and oid of the table or view ``layer`` (``schema.table`` or ``table``)."""
    quoted = quote(connection, *layer.split(".", 1))
    oid = connection.execute("SELECT to_regclass(%s)::oid", [quoted]).fetchone()[0]
    if oid is None:
        known = connection.execute(
            "SELECT f_table_schema || '.' || f_table_name FROM geometry_columns ORDER BY 1 LIMIT 30"
        ).fetchall()
        listed = ", ".join(row[0] for row in known) or "none"
        raise LayerError(f"table not found; tables with geometry in this database: {listed}", database, layer)
    return quoted, oid


def _fid_column(connection, oid: int | None, columns: list[tuple[str, int, int]]) -> str | None:
    """The column whose values are the feature ids: the table's integer primary key, else an
    integer column called ``fid`` (the way to keep ids stable in a query)."""
    if oid is not None:
        keys = connection.execute(
            "SELECT a.attname, a.atttypid FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s AND i.indisprimary",
            [oid],
        ).fetchall()
        if len(keys) == 1 and keys[0][1] in INTEGER_TYPES:
            return keys[0][0]
    return next((name for name, type_oid, _ in columns if name == "fid" and type_oid in INTEGER_TYPES), None)


def _crs(connection, srid: int) -> str:
    """The authority code (``EPSG:28992``) of a PostGIS SRID."""
    row = connection.execute(
        "SELECT auth_name, auth_srid FROM spatial_ref_sys WHERE srid = %s", [srid]
    ).fetchone()
    return f"{row[0]}:{row[1]}" if row and row[0] else f"EPSG:{srid}"


def _declared_srid(type_modifier: int) -> int:
    """The SRID that a ``geometry(Type, SRID)`` column declares in its type modifier (0: none)."""
    return max(0, (type_modifier & 0x0FFFFF00) >> 8) if type_modifier > 0 else 0


def _geometry_oid(connection, database: Database, layer: str | None) -> int:
    """The type oid of PostGIS' ``geometry``; an error when the database has no PostGIS."""
    oid = connection.execute("SELECT to_regtype('geometry')::oid").fetchone()[0]
    if oid is None:
        raise LayerError(
            "PostGIS is not installed in this database (CREATE EXTENSION postgis)", database, layer
        )
    return oid


def geometry_select(connection, column: str, declared_srid: int, linearise: bool = False) -> list[str]:
    """The select items that fetch geometry ``column`` for :func:`fetch_frame`: its WKB, plus its
    SRID per row when the column declares none. With ``linearise`` curved geometries (which
    shapely cannot decode) come as ``ST_CurveToLine`` makes them — 32 segments per quarter
    circle, as buffers — and whether each was curved."""
    quoted = quote(connection, column)
    value, extra = quoted, []
    if linearise:
        curved = f"(ST_HasArc({quoted}) OR ST_GeometryType({quoted}) IN ({CURVE_TYPES}))"
        value = f"CASE WHEN {curved} THEN ST_CurveToLine({quoted}) ELSE {quoted} END"
        extra.append(f"{curved} AS {CURVED_COLUMN}")
    srid = [] if declared_srid else [f"ST_SRID({quoted}) AS {SRID_COLUMN}"]
    return [f"ST_AsBinary({value}) AS {quoted}", *extra, *srid]


def fetch_frame(
    connection, query: str, geometry: str | None = None, index: str | None = None, srid: int = 0
) -> pd.DataFrame:
    """The rows of ``query`` through a server-side cursor, in batches of :data:`FETCH_ROWS`.

    The column ``geometry`` (WKB, see :func:`geometry_select`) becomes the geometry of a
    GeoDataFrame in the CRS of ``srid``, or of the rows' SRIDs when ``srid`` is 0; ``index``
    becomes the index; the number of linearised curves goes to ``attrs["linearised"]``. Raises
    :class:`ValueError` when the rows mix SRIDs.
    """
    rows: list[tuple] = []
    with connection.cursor(name="novex_geo_read") as cursor:
        cursor.execute(query)
        while batch := cursor.fetchmany(FETCH_ROWS):
            rows.extend(batch)
        names = [column.name for column in cursor.description]
    values = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else dict.fromkeys(names, ())
    ids = values.pop(index) if index else range(len(rows))
    srids, curved = values.pop(SRID_COLUMN, None), values.pop(CURVED_COLUMN, ())
    frame = pd.DataFrame(
        {name: list(column) for name, column in values.items() if name != geometry},
        index=pd.Index(list(ids), name="fid"),
    )
    if geometry is None:
        return frame
    if srids is not None:
        found = sorted({value for value in srids if value})
        if len(found) > 1:
            raise ValueError(f"the rows mix SRIDs {', '.join(str(value) for value in found)}; give them one")
        srid = found[0] if found else 0
    geoms = shapely.from_wkb(np.array(values[geometry], dtype=object))
    frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=_crs(connection, srid) if srid else None)
    frame.attrs["linearised"] = sum(map(bool, curved))
    return frame


def _source(connection, database: Database, layer: str | None, sql: str | None):
    """The relation to select from, its geometry column, declared SRID, fields and id column."""
    oid = None
    if layer:
        relation, oid = _table(connection, database, layer)
    else:
        relation = f"({sql.strip().rstrip(';')}) AS bron"
    columns = _describe(connection, relation)
    geometry_oid = _geometry_oid(connection, database, layer)
    geometries = [(name, modifier) for name, type_oid, modifier in columns if type_oid == geometry_oid]
    if len(geometries) != 1:
        found = f"several ({', '.join(name for name, _ in geometries)})" if geometries else "none"
        raise LayerError(
            f"needs exactly one geometry column, found {found}; select one with sql = 'SELECT …'",
            database,
            layer,
        )
    fields = [name for name, type_oid, _ in columns if type_oid != geometry_oid]
    return relation, geometries[0], fields, _fid_column(connection, oid, columns)


def postgis_crs(database: Database, layer: str | None = None, sql: str | None = None) -> str | None:
    """The CRS the geometry column of a table or query declares (``None`` when it declares none)."""
    with connect(database, layer) as connection:
        _, (_, modifier), _, _ = _described(connection, database, layer, sql)
        srid = _declared_srid(modifier)
        return _crs(connection, srid) if srid else None


def _described(connection, database: Database, layer: str | None, sql: str | None):
    """:func:`_source`, with a failing query (or table) one :class:`LayerError`."""
    psycopg = require_psycopg()
    try:
        return _source(connection, database, layer, sql)
    except psycopg.Error as exc:
        problem = f"the sql query {' '.join(sql.split())[:200]!r} fails" if sql else "cannot read"
        raise LayerError(f"{problem} ({one_line(exc)})", database, layer) from None


def postgis_fields(database: Database, layer: str | None = None, sql: str | None = None) -> list[str]:
    """The fields (besides the geometry) of a table or query, from its description alone."""
    with connect(database, layer) as connection:
        return _described(connection, database, layer, sql)[2]


def _select(
    connection,
    relation: str,
    columns: list[str],
    geometry: str,
    declared_srid: int,
    where: str | None,
    bbox: tuple[float, float, float, float] | None,
) -> str:
    """The query for ``columns`` and the geometry of ``relation``, filtered by ``where`` (a
    PostgreSQL condition) and by the bounding box (in the geometry's own CRS)."""
    column = quote(connection, geometry)
    selected = [quote(connection, name) for name in columns] + geometry_select(
        connection, geometry, declared_srid, linearise=True
    )
    conditions = [f"({where})"] if where else []
    if bbox is not None:
        corners = ", ".join(repr(float(value)) for value in bbox)
        conditions.append(f"{column} && ST_MakeEnvelope({corners}, ST_SRID({column}))")
    query = f"SELECT {', '.join(selected)} FROM {relation}"
    return query + (f" WHERE {' AND '.join(conditions)}" if conditions else "")


def read_postgis(
    database: Database,
    layer: str | None = None,
    sql: str | None = None,
    where: str | None = None,
    columns: list[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read the table ``layer`` or the rows of ``sql`` as features, as
    :func:`~novex_geo.io.vector.read_vector` reads a file: the ids (the integer primary key, or
    a column ``fid``) become the index, the SRID the CRS; every problem is one :class:`LayerError`.

    Feature ids of a table without such a key are row numbers; the frame then carries a warning
    in ``frame.attrs["warnings"]``. ``where`` is a PostgreSQL condition on the table.
    """
    psycopg = require_psycopg()
    with connect(database, layer) as connection:
        relation, (geometry, modifier), fields, fid = _described(connection, database, layer, sql)
        for name in columns or []:
            if name not in fields:
                raise LayerError(f"field not in layer; fields: {', '.join(fields)}", database, layer, name)
        chosen = [name for name in (fields if columns is None else columns) if name != fid]
        declared = _declared_srid(modifier)
        query = _select(
            connection, relation, [*([fid] if fid else []), *chosen], geometry, declared, where, bbox
        )
        query += f" ORDER BY {quote(connection, fid)}" if fid else ""
        try:
            frame = fetch_frame(connection, query, geometry, fid, declared)
        except psycopg.errors.UndefinedColumn as exc:  # a field in where: name it, list the others
            unknown = re.search(r'column "?([^" ]+)"? does not exist', one_line(exc))
            raise LayerError(
                f"the where filter {where!r} uses an unknown field; fields: {', '.join(fields)}",
                database,
                layer,
                unknown.group(1) if unknown else None,
            ) from None
        except psycopg.Error as exc:
            problem = f"the where filter {where!r} is not valid" if where else "cannot read"
            raise LayerError(f"{problem} ({one_line(exc)})", database, layer) from None
        except ValueError as exc:
            raise LayerError(str(exc), database, layer) from None
    if fid is None:
        frame.attrs["warnings"] = [NO_KEY]
    return frame
