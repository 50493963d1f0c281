"""The layer written from a download's staged pages, in one pass, when every page is in.

Pages are staged as Parquet files (:mod:`novex_geo.fetch.store`) because a GeoPackage append
maps columns by position: the layer takes the union of the pages' columns, a column that is whole
numbers on one page and text on another becomes text, and ``Naam`` and ``naam`` are one column
(a GeoPackage ignores case).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio

from novex_geo.errors import DownloadError

__all__ = ["edition", "shared_ids", "write_layer"]


def _unify(types: list[pa.DataType]) -> str:
    """One storable type for a column from its types on every page."""
    kinds = {t for t in types if not pa.types.is_null(t)}
    if not kinds or kinds <= {pa.bool_()}:
        return "boolean" if kinds else "string"
    if all(pa.types.is_integer(t) for t in kinds):
        return "Int64"
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in kinds):
        return "Float64"
    if len(kinds) == 1 and (pa.types.is_timestamp(next(iter(kinds))) or pa.types.is_date(next(iter(kinds)))):
        return "keep"
    return "string"


def _plan(files: list[Path]) -> tuple[dict[str, str], dict[str, str], str]:
    """The layer's columns and their types, the column each staged column goes into (a
    GeoPackage ignores case: ``Naam`` on one page and ``naam`` on the next are one column),
    and the geometry type, from the staged pages' schemas."""
    columns: dict[str, list[pa.DataType]] = {}
    spelling: dict[str, str] = {}
    geometry_types: set[str] = set()
    for path in files:
        schema = pq.read_schema(path)
        geo = json.loads(schema.metadata[b"geo"])["columns"]["geometry"]
        geometry_types.update(name.removeprefix("Multi") for name in geo.get("geometry_types", []))
        for column in schema:
            if column.name != "geometry":
                name = spelling.setdefault(column.name.lower(), column.name)
                columns.setdefault(name, []).append(column.type)
    single = next(iter(geometry_types)) if len(geometry_types) == 1 else None
    geometry_type = f"Multi{single}" if single in ("Point", "LineString", "Polygon") else "Unknown"
    return {name: _unify(types) for name, types in columns.items()}, spelling, geometry_type


def write_layer(out: Path, layer: str, record: dict, staging: Path) -> None:
    files = sorted(staging.glob("page_*.parquet"))
    if not record["n_received"]:
        raise DownloadError(f"{record['url']}: no features for this query ({record['query']})")
    if not files:
        raise DownloadError(
            f"{layer}: none of the {record['n_received']:,} features received could be kept "
            f"({record['n_dropped_outside']:,} outside the area, {record['n_dropped_invalid']:,} "
            "without usable coordinates)"
        )
    types, spelling, geometry_type = _plan(files)
    description = f"{record.get('title', layer)}; {record.get('attribution', '')}; {record['url']}"
    for number, path in enumerate(files):
        frame = gpd.read_parquet(path)
        frame = frame.rename(columns={c: spelling[c.lower()] for c in frame.columns if c != "geometry"})
        for name, dtype in types.items():
            if name not in frame.columns:
                frame[name] = pd.NA
            if dtype != "keep":
                frame[name] = frame[name].astype("string" if dtype == "string" else dtype)
        pyogrio.write_dataframe(
            frame[[*types, "geometry"]],
            out,
            layer=layer,
            driver="GPKG",
            append=number > 0,
            promote_to_multi=True,
            geometry_type=geometry_type,
            layer_options=None if number else {"DESCRIPTION": description},
        )


def shared_ids(out: Path, layer: str) -> int:
    """Features whose non-empty id another feature also has (kept: ids are not trusted)."""
    sql = f"SELECT COUNT(ogc_id) - COUNT(DISTINCT ogc_id) AS n FROM \"{layer}\" WHERE ogc_id <> ''"
    table = pyogrio.read_dataframe(out, sql=sql, read_geometry=False)
    return int(table["n"].iloc[0] or 0)


def edition(out: Path, layer: str, edition: str, field_name: str) -> str:
    """``edition`` plus the values of ``field_name`` found in the layer (e.g. ``jaar 2025``)."""
    fields = pyogrio.read_info(out, layer=layer)["fields"]
    if field_name not in fields:
        return f"{edition} (field '{field_name}' not in the data)".strip()
    sql = f'SELECT DISTINCT "{field_name}" AS v FROM "{layer}" ORDER BY 1 LIMIT 6'
    values = [
        str(v) for v in pyogrio.read_dataframe(out, sql=sql, read_geometry=False)["v"] if not pd.isna(v)
    ]
    found = ", ".join(values[:5]) + (", …" if len(values) > 5 else "")
    return f"{edition}; {field_name} {found}".strip("; ")
