"""The ``novex_downloads`` table that ``novex-geo fetch`` keeps in a GeoPackage, read back.

Each row documents one downloaded layer: source URL, query, times, licence, attribution, the
``next`` link of an unfinished download and counts. Reading a fetched layer takes its
attribution from here; :mod:`novex_geo.fetch.download` writes the rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

__all__ = ["DOWNLOADS_TABLE", "download_record", "download_records"]

DOWNLOADS_TABLE = "novex_downloads"


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
