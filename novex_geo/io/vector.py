"""Reading one vector layer from a file, with every read problem turned into one clear error.

GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GML and CSV (with a WKT column) are read by GDAL
through pyogrio; GeoParquet by pyarrow; a table or query in a PostGIS database by
:mod:`novex_geo.io.postgis`. The original feature ids (FID) become the index so that ids stay
stable across runs. A Shapefile's text is decoded as :mod:`novex_geo.io.encoding` decides (and
says). Curved geometries (CurvePolygon, MultiSurface, CompoundCurve in a GeoPackage or GML),
which shapely cannot hold, are linearised by GDAL — arcs as :data:`QUAD_SEGS` straight segments
per quarter circle, as buffers and PostGIS's ``ST_CurveToLine`` — and counted in
``frame.attrs["linearised"]``; notes and warnings on reading are in ``frame.attrs``.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError
from pyogrio.raw import read_arrow

from novex_geo.config.database import Database
from novex_geo.errors import LayerError
from novex_geo.io.encoding import TextEncoding, dbf_encoding

__all__ = ["PARQUET_SUFFIXES", "QUAD_SEGS", "check_layer", "file_crs", "layer_fields", "read_vector"]

PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
SHAPEFILE_SUFFIXES = {".shp", ".dbf"}
QUAD_SEGS = 32  # straight segments per quarter circle: a circle within 0.05 % of pi*r^2
CURVED = {8, 9, 10, 11, 12, 13, 14}  # WKB types: CircularString … MultiSurface, Curve, Surface
FILE_SUFFIXES = {".gpkg", ".geojson", ".json", ".fgb", ".gml", ".csv", ".kml", *PARQUET_SUFFIXES}
CSV_OPEN_OPTIONS = {"GEOM_POSSIBLE_NAMES": "wkt,WKT,geometry,geom,the_geom", "KEEP_GEOM_COLUMNS": "NO"}
SQL_WORDS = {
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "like",
    "ilike",
    "between",
    "true",
    "false",
    "escape",
    "cast",
    "as",
    "integer",
    "real",
    "text",
    "date",
    "upper",
    "lower",
    "substr",
    "length",
    "abs",
    "round",
    "coalesce",
}
READ_ERRORS = (FeatureError, FieldError, DataLayerError, DataSourceError, OSError, UnicodeDecodeError)


def _check_file(path: Path, layer: str | None) -> None:
    if not path.exists():
        raise LayerError("file not found", path, layer)
    if path.is_dir() and path.suffix.lower() in FILE_SUFFIXES:
        raise LayerError(f"is a folder, not a {path.suffix} file", path, layer)
    if path.is_file() and path.stat().st_size == 0:
        raise LayerError("the file is empty (0 bytes)", path, layer)
    if not (path.is_file() or path.is_dir()):  # opening a pipe waits for a writer, without end
        raise LayerError("not a file or folder (a pipe or device); give the file itself", path, layer)


def _list_layers(path: Path) -> list[str]:
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except READ_ERRORS as exc:
        raise LayerError(f"cannot open as a vector file ({_first_line(exc)})", path) from None
    if not layers:
        raise LayerError("cannot open as a vector file: it holds no layers", path)
    return layers


def _first_line(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):  # a Shapefile's is decided (io.encoding); GeoJSON is UTF-8
        return f"its text is not UTF-8 ({exc.reason}): save it as UTF-8"
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
    try:
        return pyogrio.read_info(path, layer=layer, **_options(path)[0]).get("crs")
    except READ_ERRORS as exc:
        raise LayerError(f"cannot read ({_first_line(exc)})", path, layer) from None


def _options(path: Path) -> tuple[dict, TextEncoding | None]:
    """pyogrio's options for ``path`` (a CSV's geometry column, a Shapefile's text encoding), and
    the encoding decided for a Shapefile."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CSV_OPEN_OPTIONS, None
    if suffix not in SHAPEFILE_SUFFIXES:
        return {}, None
    encoding = dbf_encoding(path)
    return ({"encoding": encoding.name} if encoding.name else {}), encoding


def layer_fields(
    path: str | Path, layer: str | None = None, options: dict | None = None
) -> tuple[str, list[str]]:
    """The layer of a vector file (``layer``, or its only one) and the names of its fields; a
    :class:`LayerError` says what is missing: the file, the layer, a readable table."""
    path = Path(path)
    _check_file(path, layer)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow.parquet

        try:
            names = pyarrow.parquet.read_schema(path).names
        except (OSError, ValueError) as exc:
            raise LayerError(f"cannot read GeoParquet ({exc})", path) from None
        return layer or path.stem, [name for name in names if name != "geometry"]
    layer = _choose_layer(path, layer)
    try:
        info = pyogrio.read_info(path, layer=layer, **(_options(path)[0] if options is None else options))
    except READ_ERRORS as exc:
        raise LayerError(f"cannot read ({_first_line(exc)})", path, layer) from None
    return layer, [str(name) for name in info["fields"]]


def _wkb_counts(path: Path, layer: str, options: dict, query: dict) -> tuple[int, int, int]:
    """How many features of the query have a curved geometry, how many a ring that is not
    closed (which the reading closes), and how many one that cannot be decoded at all (a damaged
    file), from their WKB."""
    meta, table = read_arrow(path, layer=layer, **{**query, "columns": []}, **options)
    wkb = np.array(
        [w for w in table.column(meta["geometry_name"] or "wkb_geometry").to_pylist() if w], object
    )
    kinds = np.array([int.from_bytes(w[1:5], "little" if w[0] else "big") % 1000 for w in wkb], int)
    curved = np.isin(kinds, list(CURVED))
    unreadable = int(shapely.is_missing(shapely.from_wkb(wkb[~curved], on_invalid="ignore")).sum())
    broken = int(shapely.is_missing(shapely.from_wkb(wkb[~curved], on_invalid="fix")).sum())
    return int(curved.sum()), unreadable - broken, broken


def _read(path: Path, layer: str, options: dict, query: dict) -> gpd.GeoDataFrame:
    """Read through Arrow; again without Arrow what Arrow cannot hold: curves, which shapely cannot
    decode and GDAL then linearises, geometries that cannot be decoded at all, which GDAL then
    leaves empty (both counted in ``attrs``), and text that is not UTF-8, which Arrow takes as it
    comes (to fail later, wherever it is used) and the classic reader refuses at once."""
    try:
        frame = pyogrio.read_dataframe(
            path, layer=layer, fid_as_index=True, use_arrow=True, **query, **options
        )
        if _utf8(frame):
            return frame
        curved = closed = broken = 0
    except (NotImplementedError, shapely.errors.GEOSException):  # "Nonlinear geometry types…", damaged
        curved, closed, broken = _wkb_counts(path, layer, options, query)
    pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": str(90 / QUAD_SEGS)})  # degrees per segment
    try:
        frame = pyogrio.read_dataframe(
            path, layer=layer, fid_as_index=True, on_invalid="fix", **query, **options
        )
    except NotImplementedError as exc:  # TIN, PolyhedralSurface: no linear form shapely holds
        raise LayerError(f"geometry types that cannot be analysed as areas ({exc})", path, layer) from None
    frame.attrs.update(linearised=curved, closed=closed, undecodable=broken)
    return frame


def _utf8(frame: pd.DataFrame) -> bool:
    """Whether every text column read through Arrow is valid UTF-8."""
    try:
        for name in frame.columns:
            if pd.api.types.is_string_dtype(frame[name]) and hasattr(frame[name].array, "__arrow_array__"):
                pyarrow.array(frame[name].array).validate(full=True)
    except pyarrow.ArrowInvalid:
        return False
    return True


def _check_fields(fields: list[str], where: str | None, columns, path, layer: str | None) -> None:
    if where:
        _check_where(where, fields, path, layer)
    for name in columns or []:
        if name not in fields:
            raise LayerError(f"field not in layer; fields: {', '.join(fields)}", path, layer, name)


def check_layer(
    path: str | Path | Database,
    layer: str | None = None,
    where: str | None = None,
    columns: list[str] | None = None,
    sql: str | None = None,
) -> None:
    """Refuse what :func:`read_vector` would refuse before reading a feature — a missing file,
    layer or field, a where filter on an unknown field — from the layer's description alone."""
    if isinstance(path, Database):
        from novex_geo.io.postgis import postgis_fields

        _check_fields(postgis_fields(path, layer, sql), None, columns, path, layer)  # where: PostgreSQL's
        return
    layer, fields = layer_fields(path, layer)
    _check_fields(fields, where, columns, path, layer)


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
    if path.suffix.lower() in PARQUET_SUFFIXES:
        _check_file(path, layer)
        return _read_parquet(path, where, columns)
    options, encoding = _options(path)
    layer, fields = layer_fields(path, layer, options)
    _check_fields(fields, where, columns, path, layer)
    try:
        frame = _read(path, layer, options, {"where": where, "columns": columns, "bbox": bbox})
    except READ_ERRORS as exc:
        problem = f"the where filter {where!r} is not valid" if where else "cannot read"
        raise LayerError(f"{problem} ({_first_line(exc)})", path, layer) from None
    if encoding is not None:
        frame.attrs["encoding"] = encoding.note
        frame.attrs["warnings"] = list(encoding.warnings)
    return frame
