"""PostgreSQL locations: a database named by a ``postgresql://`` URL, never with a password.

A source may read a PostGIS table or query (``path = "postgresql://user@host:5432/db"``) and
``run``/``triage`` may write into a schema (``--out postgresql://…?schema=novex_2026``). The URL
names host, port, database and user; the password comes from the environment (``PGPASSWORD``)
or the passfile (``~/.pgpass``, ``PGPASSFILE``) that libpq reads, so a project file can be
shared without a secret in it. A URL with a password is refused (also a percent-escaped key such
as ``pass%77ord``, which libpq reads as ``password``), and a message about it shows the URL with
the password masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

__all__ = ["SCHEMA_NAME", "Database", "is_database_url", "masked_url", "parse_database_url"]

SCHEMES = ("postgresql", "postgres")
# lower-case so that SQL needs no quoting; short enough that the staging name fits in 63 bytes
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
RESERVED_SCHEMAS = {"public", "information_schema", "topology", "tiger", "tiger_data"}


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database given by a URL without password.

    Attributes
    ----------
    url : the URL as given (it never holds a password), shown in messages and outputs
    dbname : the database name
    conninfo : the URL for libpq, without novex-geo's own ``schema`` parameter
    params : the libpq parameters of the query string (e.g. ``sslmode``)
    schema : the schema a run is written to (``?schema=``), for ``--out`` only
    """

    url: str
    dbname: str
    conninfo: str
    params: dict[str, str] = field(default_factory=dict, compare=False)
    schema: str | None = None

    def __str__(self) -> str:
        return self.url

    @property
    def stem(self) -> str:
        """The database name, the part of a default source name that a file's stem would be."""
        return self.dbname


def is_database_url(value: object) -> bool:
    """Whether ``value`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(value, str) and value.split("://", 1)[0].lower() in SCHEMES and "://" in value


def _is_password(name: str) -> bool:
    """Whether a query parameter name means the password, as libpq reads it (percent-decoded:
    ``pass%77ord`` is ``password``)."""
    return unquote_plus(name).strip().lower() == "password"


def masked_url(url: str) -> str:
    """``url`` with any password in it replaced by ``***`` (for messages about a wrong URL)."""
    scheme, _, rest = url.partition("://")
    parts = re.fullmatch(r"([^/?#]*)([^?#]*)(\?[^#]*)?(.*)", rest, re.DOTALL)
    assert parts is not None  # every group may be empty: any text matches
    netloc, path, query, fragment = parts.groups()
    if "@" in netloc:  # the user info ends at the last @, as urlsplit reads it
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else netloc
    if query:
        pairs = [pair.partition("=") for pair in query[1:].split("&")]
        query = "?" + "&".join(
            f"{name}={'***'}" if _is_password(name) else name + equals + value
            for name, equals, value in pairs
        )
    return f"{scheme}://{netloc}{path}{query or ''}{'#***' if fragment else ''}"


def parse_database_url(url: str) -> Database:
    """Check a ``postgresql://`` URL and return its :class:`Database`.

    Raises
    ------
    ValueError
        with a message that names the URL with its password masked: a password in the URL
        (user info or ``password=``, also percent-escaped as ``pass%77ord=``), a ``#fragment``,
        no database name, a parameter given twice, or a ``schema`` that is not a plain
        lower-case name.
    """
    shown = masked_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — reading it checks that the port is a number
    except ValueError as exc:
        raise ValueError(f"{shown}: not a valid PostgreSQL URL ({exc})") from None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is not None or any(_is_password(name) for name, _ in pairs):
        raise ValueError(
            f"{shown}: a password does not belong in the URL (it would be stored and shown); "
            "set PGPASSWORD or put it in ~/.pgpass"
        )
    if parts.fragment or url.endswith("#"):
        raise ValueError(f"{shown}: a PostgreSQL URL has no #fragment; remove it")
    dbname = parts.path.lstrip("/")
    if not dbname or "/" in dbname:
        raise ValueError(f"{shown}: name the database, e.g. postgresql://user@host:5432/DATABASE")
    params = dict(pairs)
    if len(params) != len(pairs):
        raise ValueError(f"{shown}: a parameter is given twice")
    schema = params.pop("schema", None)
    if schema is not None and (
        not SCHEMA_NAME.match(schema) or schema in RESERVED_SCHEMAS or schema.startswith("pg_")
    ):
        raise ValueError(
            f"{shown}: schema {schema!r} must be a new or novex-geo schema named with lower-case letters, "
            "digits and _ (at most 40), not public or a system schema"
        )
    conninfo = urlunsplit(parts._replace(query=urlencode(params)))
    return Database(url=url, dbname=dbname, conninfo=conninfo, params=params, schema=schema)


class SourceKeyError(ValueError):
    """A key of a PostGIS source that is wrong; ``name`` is the key inside the source table."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def database_source(table: dict) -> Database:
    """The database of a source table whose ``path`` is a ``postgresql://`` URL, checked with the
    keys that go with it: exactly one of ``layer`` (``"schema.table"``) and ``sql``, no ``where``
    beside ``sql`` (the condition belongs in the query), no ``raster`` and no ``?schema=``.

    Raises
    ------
    SourceKeyError
        naming the key and what is wrong.
    """
    try:
        database = parse_database_url(table["path"])
    except ValueError as exc:
        raise SourceKeyError("path", str(exc)) from None
    if database.schema is not None:
        raise SourceKeyError(
            "path",
            f"{database}: ?schema= names where a run is written; give a source's table as "
            "layer = 'schema.table'",
        )
    if "raster" in table:
        raise SourceKeyError("raster", "a PostGIS source is a table or query of vector features")
    if ("sql" in table) == ("layer" in table):
        raise SourceKeyError("layer", "give exactly one of layer = 'schema.table' and sql = 'SELECT …'")
    if "sql" in table and "where" in table:
        raise SourceKeyError("where", "does not apply with sql; put the condition in the query")
    return database
