"""Reading one vector layer from a file, with every read problem turned into one clear error.

GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GML and CSV (with a WKT column) are read by GDAL
through pyogrio; GeoParquet by pyarrow; a table or query in a PostGIS database by
:mod:`novex_geo.io.postgis`. The original feature ids (FID) become the index so that ids stay
stable across runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError

from novex_geo.config.database import Database
from novex_geo.errors import LayerError

__all__ = ["PARQUET_SUFFIXES", "file_crs", "read_vector"]

PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
FILE_SUFFIXES = {".gpkg", ".geojson", ".json", ".fgb", ".gml", ".csv", ".kml", *PARQUET_SUFFIXES}
CSV_OPEN_OPTIONS = {"GEOM_POSSIBLE_NAMES": "wkt,WKT,geometry,geom,the_geom", "KEEP_GEOM_COLUMNS": "NO"}
SQL_WORDS = {
    "and", "or", "not", "in", "is", "null", "like", "ilike", "between", "true", "false",
    "escape", "cast", "as", "integer", "real", "text", "date", "upper", "lower", "substr",
    "length", "abs", "round", "coalesce",
}  # fmt: skip
READ_ERRORS = (FeatureError, FieldError, DataLayerError, DataSourceError, OSError)


def _check_file(path: Path, layer: str | None) -> None:
    if not path.exists():
        raise LayerError("file not found", path, layer)
    if path.is_dir() and path.suffix.lower() in FILE_SUFFIXES:
        raise LayerError(f"is a folder, not a {path.suffix} file", path, layer)
    if path.is_file() and path.stat().st_size == 0:
        raise LayerError("the file is empty (0 bytes)", path, layer)


def _list_layers(path: Path) -> list[str]:
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except READ_ERRORS as exc:
        raise LayerError(f"cannot open as a vector file ({_first_line(exc)})", path) from None
    if not layers:
        raise LayerError("cannot open as a vector file: it holds no layers", path)
    return layers


def _first_line(exc: Exception) -> str:
    return str(exc).split(";")[0].strip()


def _check_where(where: str, fields: list[str], path: Path, layer: str | None) -> None:
    """Say what is wrong with an attribute filter before GDAL gives a cryptic error."""
    if where.replace("''", "").count("'") % 2:
        raise LayerError(
            f"the where filter {where!r} is not valid SQL: a text in quotes is not closed", path, layer
        )
    without_strings = re.sub(r"'(?:[^']|'')*'", "''", where)
    quoted = re.findall(r'"([^"]+)"', without_strings)
    bare = re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\b", re.sub(r'"[^"]*"', "", without_strings))
    known = {name.lower() for name in fields}
    for name in quoted + [word for word in bare if word.lower() not in SQL_WORDS]:
        if name.lower() not in known:
            raise LayerError(
                f"the where filter {where!r} uses an unknown field; fields: {', '.join(fields)}",
                path,
                layer,
                name,
            )


def _read_parquet(path: Path, where: str | None, columns: list[str] | None) -> gpd.GeoDataFrame:
    if where:
        raise LayerError("'where' is not supported for GeoParquet; filter the file first", path)
    try:
        frame = gpd.read_parquet(path, columns=None if columns is None else [*columns, "geometry"])
    except (ValueError, OSError) as exc:
        raise LayerError(f"cannot read GeoParquet ({exc})", path) from None
    frame.index = pd.RangeIndex(len(frame), name="fid")
    return frame


def _choose_layer(path: Path, layer: str | None) -> str:
    layers = _list_layers(path)
    if layer is not None and layer not in layers:
        raise LayerError(f"layer not found; layers in this file: {', '.join(layers)}", path, layer)
    if layer is None and len(layers) > 1:
        raise LayerError(f"file has several layers, set 'layer' to one of: {', '.join(layers)}", path)
    return layer or layers[0]


def file_crs(path: str | Path | Database, layer: str | None = None, sql: str | None = None) -> str | None:
    """The CRS a vector file (or a PostGIS table or query) declares (``None`` when it declares none)."""
    if isinstance(path, Database):
        from novex_geo.io.postgis import postgis_crs

        return postgis_crs(path, layer, sql)
    path = Path(path)
    options = CSV_OPEN_OPTIONS if path.suffix.lower() == ".csv" else {}
    try:
        return pyogrio.read_info(path, layer=layer, **options).get("crs")
    except READ_ERRORS as exc:
        raise LayerError(f"cannot read ({_first_line(exc)})", path, layer) from None


def read_vector(
    path: str | Path | Database,
    layer: str | None = None,
    where: str | None = None,
    columns: list[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    sql: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer with pyogrio, turning every read problem into a :class:`LayerError`.

    A :class:`~novex_geo.config.Database` is read by :func:`~novex_geo.io.postgis.read_postgis`:
    the table ``layer`` or the rows of ``sql``.
    """
    if isinstance(path, Database):
        from novex_geo.io.postgis import read_postgis

        return read_postgis(path, layer, sql, where, columns, bbox)
    path = Path(path)
    _check_file(path, layer)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _read_parquet(path, where, columns)
    layer = _choose_layer(path, layer)
    options = CSV_OPEN_OPTIONS if path.suffix.lower() == ".csv" else {}
    try:
        fields = [str(name) for name in pyogrio.read_info(path, layer=layer, **options)["fields"]]
    except READ_ERRORS as exc:
        raise LayerError(f"cannot read ({_first_line(exc)})", path, layer) from None
    if where:
        _check_where(where, fields, path, layer)
    for name in columns or []:
        if name not in fields:
            raise LayerError(f"field not in layer; fields: {', '.join(fields)}", path, layer, name)
    try:
        return pyogrio.read_dataframe(
            path,
            layer=layer,
            where=where,
            columns=columns,
            bbox=bbox,
            fid_as_index=True,
            use_arrow=True,
            **options,
        )
    except READ_ERRORS as exc:
        problem = f"the where filter {where!r} is not valid" if where else "cannot read"
        raise LayerError(f"{problem} ({_first_line(exc)})", path, layer) from None
