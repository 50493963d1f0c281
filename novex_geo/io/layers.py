"""Load sector claim layers into the analysis CRS, repaired and counted.

Every step that changes data counts what it changed in a :class:`SourceReport`, so that
``novex-geo check`` and the run log can say exactly how many features were reprojected,
repaired, buffered or dropped — nothing is lost silently.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError

from novex_geo.config import Project, Sector, Source
from novex_geo.errors import LayerError

__all__ = [
    "BUFFER_QUAD_SEGS",
    "SectorLayer",
    "SourceReport",
    "load_sector",
    "load_sectors",
    "read_source",
    "read_vector",
]

log = logging.getLogger(__name__)

# 32 segments per quarter circle keeps a buffered point within 0.05 % of pi*r^2.
BUFFER_QUAD_SEGS = 32
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
CSV_OPEN_OPTIONS = {
    "GEOM_POSSIBLE_NAMES": "wkt,WKT,geometry,geom,the_geom",
    "KEEP_GEOM_COLUMNS": "NO",
}
SQL_WORDS = {
    "and", "or", "not", "in", "is", "null", "like", "ilike", "between", "true", "false",
    "escape", "cast", "as", "integer", "real", "text", "date", "upper", "lower", "substr",
    "length", "abs", "round", "coalesce",
}  # fmt: skip
POLYGONAL = {"Polygon", "MultiPolygon"}
FEATURE_COLUMNS = ["feature_id", "sector", "source", "label"]


@dataclass
class SourceReport:
    """What loading one source did, counted per step."""

    sector: str
    source: str
    path: str
    layer: str | None
    n_read: int = 0
    geometry_types: dict[str, int] = field(default_factory=dict)
    source_crs: str | None = None
    target_crs: str | None = None
    n_reprojected: int = 0
    n_repaired: int = 0
    n_buffered: dict[str, int] = field(default_factory=dict)
    n_dropped_empty: int = 0
    n_parts_dropped: int = 0
    n_loaded: int = 0
    bounds: tuple[float, float, float, float] | None = None
    attribution: str | None = None
    raster: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[str]:
        """Human-readable lines for every step that changed something."""
        lines = [f"raster: {self.raster}"] if self.raster else []
        if self.n_reprojected:
            lines.append(f"{self.n_reprojected} reprojected {self.source_crs} → {self.target_crs}")
        if self.n_repaired:
            lines.append(f"{self.n_repaired} invalid geometries repaired with make_valid")
        for kind, count in sorted(self.n_buffered.items()):
            lines.append(f"{count} {kind} features buffered")
        if self.n_parts_dropped:
            lines.append(f"{self.n_parts_dropped} features lost non-polygonal parts (points/lines)")
        if self.n_dropped_empty:
            lines.append(f"{self.n_dropped_empty} features dropped: empty geometry")
        return lines


@dataclass
class SectorLayer:
    """All claims of one sector: one row per feature, in the analysis CRS."""

    sector: Sector
    frame: gpd.GeoDataFrame
    reports: list[SourceReport]


def _list_layers(path: Path) -> list[str]:
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (DataSourceError, DataLayerError) as exc:
        raise LayerError(f"cannot open as a vector file ({exc})", path) from None


def _check_where(where: str, fields: list[str], path: Path, layer: str | None) -> None:
    """Name the unknown field of an attribute filter before GDAL gives a cryptic error."""
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


def read_vector(
    path: str | Path,
    layer: str | None = None,
    where: str | None = None,
    columns: list[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer with pyogrio, turning every read problem into a :class:`LayerError`.

    GeoPackage, GeoJSON, Shapefile, FlatGeobuf and GML are read by GDAL; GeoParquet by
    pyarrow; a CSV needs a WKT column (``wkt``, ``geometry`` or ``geom``). The original
    feature ids (FID) become the index so that ids stay stable across runs.
    """
    path = Path(path)
    if not path.exists():
        raise LayerError("file not found", path, layer)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            frame = gpd.read_parquet(path, columns=None if columns is None else [*columns, "geometry"])
        except (ValueError, OSError) as exc:
            raise LayerError(f"cannot read GeoParquet ({exc})", path) from None
        if where:
            raise LayerError("'where' is not supported for GeoParquet; filter the file first", path)
        frame.index = pd.RangeIndex(len(frame), name="fid")
        return frame
    layers = _list_layers(path)
    if layer is not None and layer not in layers:
        raise LayerError(f"layer not found; layers in this file: {', '.join(layers)}", path, layer)
    if layer is None and len(layers) > 1:
        raise LayerError(f"file has several layers, set 'layer' to one of: {', '.join(layers)}", path)
    layer = layer or (layers[0] if layers else None)
    options = CSV_OPEN_OPTIONS if path.suffix.lower() == ".csv" else {}
    info = pyogrio.read_info(path, layer=layer, **options)
    fields = [str(name) for name in info["fields"]]
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
    except (FeatureError, FieldError, DataLayerError, DataSourceError) as exc:
        raise LayerError(f"cannot read ({exc})", path, layer) from None


def _polygonal_parts(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Keep only the polygons of geometry collections.

    Returns the geometries (a collection without polygons becomes ``None``) and the number of
    features that lost point or line parts.
    """
    collection = shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION
    if not collection.any():
        return geoms, 0
    parts, owner = shapely.get_parts(geoms[collection], return_index=True)
    # a second pass flattens multi-part members of the collection
    parts, member = shapely.get_parts(parts, return_index=True)
    owner = owner[member]
    is_polygon = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    rebuilt = np.full(int(collection.sum()), None, dtype=object)
    shapely.multipolygons(parts[is_polygon], indices=owner[is_polygon], out=rebuilt)
    result = geoms.copy()
    result[collection] = rebuilt
    return result, int(np.unique(owner[~is_polygon]).size)


GEOMETRY_NAMES = [
    "Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
    "GeometryCollection",
]  # fmt: skip
GEOMETRY_KINDS = np.array(
    ["Point", "LineString", "LineString", "Polygon", "Point", "LineString", "Polygon", "Collection"]
)


def _geometry_kinds(geoms: np.ndarray) -> np.ndarray:
    """'Point', 'LineString', 'Polygon' or 'Collection' per geometry ('' when missing)."""
    type_ids = shapely.get_type_id(geoms)
    return np.where(type_ids >= 0, GEOMETRY_KINDS[type_ids.clip(0)], "")


def _download_attribution(source: Source) -> str | None:
    """The attribution that ``novex-geo fetch`` stored with this layer, if it came from there."""
    from novex_geo.io.downloads import download_record

    if source.path.suffix.lower() != ".gpkg" or not source.path.exists():
        return None
    record = download_record(source.path, source.layer or source.path.stem)
    return record["attribution"] if record else None


def _bbox_in_file_crs(path: Path, layer: str | None, area, crs: str, assumed: str | None):
    """``area`` (bounds in ``crs``) as bounds in the file's own CRS, for a bbox read."""
    if area is None or path.suffix.lower() in PARQUET_SUFFIXES:
        return None
    from pyproj import CRS, Transformer

    info_crs = pyogrio.read_info(path, layer=layer).get("crs") or assumed
    if info_crs is None:
        return None
    transformer = Transformer.from_crs(
        CRS.from_user_input(crs), CRS.from_user_input(info_crs), always_xy=True
    )
    return transformer.transform_bounds(*area)


def read_source(
    source: Source, sector: str, crs: str, area: tuple[float, float, float, float] | None = None
) -> tuple[gpd.GeoDataFrame, SourceReport]:
    """Load one source as claim polygons in ``crs``.

    Steps, each counted in the returned report: read (with ``where``), reproject to
    ``crs``, repair invalid geometries with ``make_valid``, buffer by ``source.buffer``,
    keep only the polygonal part of collections, drop empty geometries.

    Returns
    -------
    frame : GeoDataFrame with ``feature_id``, ``sector``, ``source``, ``label``, geometry
    report : SourceReport
    """
    report = SourceReport(
        sector=sector,
        source=source.name,
        path=str(source.path),
        layer=source.layer,
        target_crs=crs,
        attribution=source.attribution or _download_attribution(source),
    )
    if source.raster is not None:
        from novex_geo.io.raster import read_raster_source

        frame = read_raster_source(source, sector, crs, report)
        if source.buffer:
            report.n_buffered = {"Polygon": len(frame)}
            frame = frame.set_geometry(
                shapely.buffer(frame.geometry.values, source.buffer, quad_segs=BUFFER_QUAD_SEGS)
            )
        report.n_loaded = len(frame)
        if len(frame):
            report.bounds = tuple(float(v) for v in frame.total_bounds)
        else:
            report.warnings.append("no raster cell meets the rule")
        return frame, report
    columns = [source.label_field] if source.label_field else []
    bbox = (
        _bbox_in_file_crs(source.path, source.layer, area, crs, source.crs) if source.path.exists() else None
    )
    raw = read_vector(source.path, source.layer, source.where, columns, bbox=bbox)
    if source.label_field and source.label_field not in raw.columns:
        raise LayerError("label_field not in layer", source.path, source.layer, source.label_field)
    report.n_read = len(raw)
    if raw.crs is None:
        if source.crs is None:
            raise LayerError(
                "layer has no CRS; fix the file (e.g. add a .prj) or set crs = 'EPSG:28992' "
                "on this source in the project file",
                source.path,
                source.layer,
            )
        raw = raw.set_crs(source.crs)
    elif source.crs and not raw.crs.equals(gpd.GeoSeries(crs=source.crs).crs):
        report.warnings.append(f"file CRS {raw.crs.to_string()} used, not the configured {source.crs}")
    report.source_crs = raw.crs.to_string()
    if raw.empty:
        if area is None:  # an empty bbox read is normal; an empty layer is worth a warning
            report.warnings.append(
                "layer is empty" + (f" after where {source.where!r}" if source.where else "")
            )
        return gpd.GeoDataFrame(columns=FEATURE_COLUMNS, geometry=[], crs=crs), report

    missing = raw.geometry.isna() | raw.geometry.is_empty
    present = np.asarray(raw.geometry.values, dtype=object)[~missing.to_numpy()]
    type_ids, counts = np.unique(shapely.get_type_id(present), return_counts=True)
    report.geometry_types = {GEOMETRY_NAMES[t]: int(n) for t, n in zip(type_ids, counts, strict=True)}
    if not raw.crs.equals(gpd.GeoSeries(crs=crs).crs):
        raw = raw.to_crs(crs)
        report.n_reprojected = int((~missing).sum())
    geoms = np.asarray(raw.geometry.values, dtype=object)

    invalid = ~missing.to_numpy() & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        report.n_repaired = int(invalid.sum())

    kinds = _geometry_kinds(geoms)
    if source.buffer:
        for kind, count in Counter(kinds[~missing.to_numpy()]).items():
            report.n_buffered[kind] = count
        geoms = shapely.buffer(geoms, source.buffer, quad_segs=BUFFER_QUAD_SEGS)
    else:
        not_area = ~missing.to_numpy() & np.isin(kinds, ["Point", "LineString"])
        if not_area.any():
            found = Counter(kinds[not_area])
            listed = ", ".join(f"{count} {kind}" for kind, count in sorted(found.items()))
            raise LayerError(
                f"claims must be areas but the layer has {listed} features; set buffer = <metres> "
                "on this source to turn them into zones",
                source.path,
                source.layer,
            )

    geoms, report.n_parts_dropped = _polygonal_parts(geoms)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report.n_dropped_empty = int(empty.sum())
    keep = ~empty
    name = source.name
    fids = pd.Series(raw.index.to_numpy()[keep]).astype(str)
    labels = (
        raw[source.label_field][keep].astype(str).reset_index(drop=True)
        if source.label_field
        else f"{name}/" + fids
    )
    frame = gpd.GeoDataFrame(
        {"feature_id": f"{sector}/{name}/" + fids, "sector": sector, "source": name, "label": labels},
        geometry=geoms[keep],
        crs=crs,
    )
    report.n_loaded = len(frame)
    if report.n_loaded:
        report.bounds = tuple(float(v) for v in frame.total_bounds)
    return frame, report


def load_sector(
    sector: Sector, crs: str, area: tuple[float, float, float, float] | None = None
) -> SectorLayer:
    """Load every source of ``sector``; an empty source warns, an all-empty sector fails."""
    frames, reports = [], []
    for source in sector.sources:
        frame, report = read_source(source, sector.key, crs, area)
        for line in report.changes:
            log.info("%s %s: %s", sector.key, source.name, line)
        for warning in report.warnings:
            log.warning("%s %s: %s", sector.key, source.name, warning)
        frames.append(frame)
        reports.append(report)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
    if frame.empty and area is None:
        raise LayerError(
            f"every layer of sector '{sector.key}' is empty: "
            + ", ".join(str(source.path) for source in sector.sources)
        )
    return SectorLayer(sector=sector, frame=frame, reports=reports)


def load_sectors(
    project: Project, area: tuple[float, float, float, float] | None = None
) -> dict[str, SectorLayer]:
    """Load all sectors of a project, in the order of the project file.

    With ``area`` (bounds in the analysis CRS) only features whose bounding box meets it are
    read — fast surroundings for a sketch — and a sector may then be empty.
    """
    return {key: load_sector(sector, project.crs, area) for key, sector in project.sectors.items()}
