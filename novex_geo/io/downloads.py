"""The ``novex_downloads`` table that ``novex-geo fetch`` keeps in a GeoPackage: its schema, read back.

Each row documents the download of one layer — under way (``bezig``), complete (``klaar``) or
stored incomplete (``onvolledig``): source URL, query, times, licence, attribution, where an
unfinished download continues, whether the catalogue entry was overridden, and counts — among
them what the service said it holds (``n_matched``) and what arrived (``n_received``).
:mod:`novex_geo.fetch.store` saves the row after every page with :func:`save_download_record`:
each save is one SQLite transaction, so a reader meanwhile, or a kill, meets the old row or
the new one, never a table half rewritten; counts are INTEGER columns whatever a row lacks.
Reading a fetched layer takes its attribution and status from here, and so do the run
manifest and the maps' credits.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from novex_geo.io.files import atomic_path

__all__ = [
    "BUSY",
    "COUNTS",
    "DONE",
    "DOWNLOADS_TABLE",
    "INCOMPLETE",
    "download_record",
    "download_records",
    "downloads_table",
    "save_download_record",
]

DOWNLOADS_TABLE = "novex_downloads"
# a download's status: paging (resumable), complete as proven, or stored with a count mismatch
DONE, BUSY, INCOMPLETE = "klaar", "bezig", "onvolledig"
COUNTS = (
    "n_pages",
    "n_received",
    "n_features",
    "n_clipped",
    "n_dropped_outside",
    "n_dropped_invalid",
    "n_repaired",
    "n_reprojected",
)
INTEGERS = (*COUNTS, "n_matched", "n_shared_ids", "file_bytes", "file_total")
# how long a save waits for a reader of the same GeoPackage (``check``, a map) to finish
_BUSY_TIMEOUT_S = 30


def downloads_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as the ``novex_downloads`` table: counts and sizes as nullable integers (a
    missing ``n_matched`` stays empty instead of turning the column into text or reals)."""
    table = pd.DataFrame(rows)
    for name in INTEGERS:
        if name in table.columns:
            table[name] = pd.to_numeric(table[name], errors="coerce").round().astype("Int64")
    return table


def download_records(path: str | Path) -> pd.DataFrame:
    """Every ``novex_downloads`` row of the GeoPackage ``path`` (empty when there are none).

    Read with SQLite itself, inside one read transaction that waits for a save under way:
    GDAL, opening the file while a save larger than SQLite's page cache had written pages before
    committing, failed ('attempt to write a readonly database') and the record looked absent.
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame()
    table = _quoted(DOWNLOADS_TABLE)
    try:
        connection = sqlite3.connect(_existing(path), uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        with closing(connection) as db:
            db.execute("BEGIN")
            tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if DOWNLOADS_TABLE not in {row[0] for row in tables}:
                return pd.DataFrame()
            kinds = {row[1]: str(row[2]).upper() for row in db.execute(f"PRAGMA table_info({table})")}
            rows = db.execute(f"SELECT * FROM {table} ORDER BY fid")
            names = [column[0] for column in rows.description]
            records = pd.DataFrame(rows.fetchall(), columns=names).drop(columns="fid")
    except sqlite3.DatabaseError:  # not an SQLite file: reading it as a layer says why
        return pd.DataFrame()
    for name in [name for name, kind in kinds.items() if kind == "BOOLEAN"]:
        records[name] = records[name].map(lambda value: None if pd.isna(value) else bool(value))
    return downloads_table(records.to_dict("records"))


def _existing(path: Path) -> str:
    """An SQLite URI that opens ``path`` without creating it when it vanished meanwhile."""
    return path.resolve().as_uri() + "?mode=rw"


def download_record(path: str | Path, layer: str) -> dict | None:
    """The ``novex_downloads`` row of ``layer`` in the GeoPackage ``path``, if any."""
    records = download_records(path)
    if records.empty:
        return None
    rows = records[records["layer"] == layer]
    return None if rows.empty else rows.iloc[0].to_dict()


def save_download_record(path: str | Path, record: dict) -> None:
    """Store ``record`` as the row of its ``layer`` in the GeoPackage ``path``.

    A new GeoPackage appears whole (written beside it, then renamed); in an existing one the
    row is replaced inside one SQLite transaction, adding columns the table lacks. GDAL would
    drop and recreate the table instead, and a reader in between finds no table at all.
    """
    path = Path(path)
    first = downloads_table([record])
    if not path.exists():
        with atomic_path(path) as temporary:
            pyogrio.write_dataframe(first, temporary, layer=DOWNLOADS_TABLE, driver="GPKG")
        return
    if DOWNLOADS_TABLE not in pyogrio.list_layers(path)[:, 0]:  # a GeoPackage fetched into first now
        pyogrio.write_dataframe(first, path, layer=DOWNLOADS_TABLE, driver="GPKG")
        return
    table = _quoted(DOWNLOADS_TABLE)
    with closing(sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            for name in [name for name in record if name not in columns]:
                kind = _column_type(name, record[name])
                db.execute(f"ALTER TABLE {table} ADD COLUMN {_quoted(name)} {kind}")
            db.execute(f"DELETE FROM {table} WHERE layer = ?", (record["layer"],))
            names = ", ".join(_quoted(name) for name in record)
            marks = ", ".join("?" * len(record))
            values = [_plain(value) for value in record.values()]
            db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_type(name: str, value) -> str:
    if name in INTEGERS or (isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
        return "INTEGER"
    if isinstance(value, (bool, np.bool_)):
        return "BOOLEAN"
    return "REAL" if isinstance(value, (float, np.floating)) else "TEXT"


def _plain(value):
    """``value`` as SQLite stores it: missing values as NULL, NumPy scalars as Python ones."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
