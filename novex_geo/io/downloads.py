"""The ``novex_downloads`` table that ``novex-geo fetch`` keeps in a GeoPackage: its schema, read back.

Each row documents the download of one layer — under way (``bezig``), complete (``klaar``) or
stored incomplete (``onvolledig``): source URL, query, times, licence, attribution, where an
unfinished download continues, whether the catalogue entry was overridden, and counts — among
them what the service said it holds (``n_matched``) and what arrived (``n_received``).
:mod:`novex_geo.fetch.store` writes the row after every page through :func:`downloads_table`,
so that counts are INTEGER columns whatever a row lacks. Reading a fetched layer takes its
attribution and status from here, and so do the run manifest and the maps' credits.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

__all__ = [
    "BUSY",
    "COUNTS",
    "DONE",
    "DOWNLOADS_TABLE",
    "INCOMPLETE",
    "download_record",
    "download_records",
    "downloads_table",
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


def downloads_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as the ``novex_downloads`` table: counts and sizes as nullable integers (a
    missing ``n_matched`` stays empty instead of turning the column into text or reals)."""
    table = pd.DataFrame(rows)
    for name in INTEGERS:
        if name in table.columns:
            table[name] = pd.to_numeric(table[name], errors="coerce").round().astype("Int64")
    return table


def download_records(path: str | Path) -> pd.DataFrame:
    """Every ``novex_downloads`` row of the GeoPackage ``path`` (empty when there are none)."""
    path = Path(path)
    try:
        if not path.is_file() or DOWNLOADS_TABLE not in pyogrio.list_layers(path)[:, 0]:
            return pd.DataFrame()
    except (DataSourceError, DataLayerError):  # not a GeoPackage: its reader says why
        return pd.DataFrame()
    return pyogrio.read_dataframe(path, layer=DOWNLOADS_TABLE, read_geometry=False)


def download_record(path: str | Path, layer: str) -> dict | None:
    """The ``novex_downloads`` row of ``layer`` in the GeoPackage ``path``, if any."""
    records = download_records(path)
    if records.empty:
        return None
    rows = records[records["layer"] == layer]
    return None if rows.empty else rows.iloc[0].to_dict()
