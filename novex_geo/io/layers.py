"""Load sector claim layers into the analysis CRS, repaired and counted.

Every step that changes data counts what it changed in a :class:`SourceReport`, so that
``novex-geo check`` and the run log can say exactly how many features were reprojected,
repaired, buffered or dropped — nothing is lost silently.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import Project, Sector, Source
from novex_geo.errors import LayerError
from novex_geo.geometry import on_every_core
from novex_geo.io.plausibility import check_coordinates_fit, plain_names
from novex_geo.io.vector import PARQUET_SUFFIXES, QUAD_SEGS, file_crs, read_vector
from novex_geo.units import counted

__all__ = [
    "BUFFER_QUAD_SEGS",
    "SectorLayer",
    "SourceReport",
    "load_sector",
    "load_sectors",
    "read_source",
]

log = logging.getLogger(__name__)

BUFFER_QUAD_SEGS = QUAD_SEGS  # as curves are linearised: a buffered point within 0.05 % of pi*r^2
POLYGONAL = {"Polygon", "MultiPolygon"}
FEATURE_COLUMNS = ["feature_id", "sector", "source", "label"]


@dataclass
class SourceReport:
    """What loading one source did, counted per step."""

    sector: str
    source: str
    path: str
    layer: str | None
    sql: str | None = None
    n_read: int = 0
    geometry_types: dict[str, int] = field(default_factory=dict)
    source_crs: str | None = None
    target_crs: str | None = None
    n_reprojected: int = 0
    n_repaired: int = 0
    n_buffered: dict[str, int] = field(default_factory=dict)
    n_dropped_empty: int = 0
    n_dropped_coordinates: int = 0
    n_undecodable: int = 0
    n_linearised: int = 0
    encoding: str | None = None  # how a Shapefile's text was decoded, when not plain UTF-8
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
        if self.encoding:
            lines.append(self.encoding)
        if self.n_linearised:
            lines.append(
                f"{counted(self.n_linearised, 'curved geometry', 'curved geometries')} linearised: arcs as "
                f"{QUAD_SEGS} straight segments per quarter circle"
            )
        if self.n_reprojected:
            lines.append(f"{self.n_reprojected} reprojected {self.source_crs} → {self.target_crs}")
        if self.n_repaired:
            lines.append(f"{self.n_repaired} invalid geometries repaired with make_valid")
        for kind, count in sorted(self.n_buffered.items()):
            lines.append(f"{counted(count, f'{kind} feature')} buffered")
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
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
]
GEOMETRY_KINDS = np.array(
    ["Point", "LineString", "LineString", "Polygon", "Point", "LineString", "Polygon", "Collection"]
)


def _geometry_kinds(geoms: np.ndarray) -> np.ndarray:
    """'Point', 'LineString', 'Polygon' or 'Collection' per geometry ('' when missing)."""
    type_ids = shapely.get_type_id(geoms)
    return np.where(type_ids >= 0, GEOMETRY_KINDS[type_ids.clip(0)], "")


def _fetched_attribution(source: Source) -> str | None:
    """The attribution that ``novex-geo fetch`` stored with this layer, if it came from there;
    a layer whose download did not end complete is refused unless the source allows it."""
    from novex_geo.io.downloads import DONE, download_record

    if not isinstance(source.path, Path) or source.path.suffix.lower() != ".gpkg" or not source.path.exists():
        return None
    layer = source.layer or source.path.stem
    record = download_record(source.path, layer)
    if not record:
        return None
    if record.get("status") != DONE:
        counts = f"{_count(record.get('n_received'))} of {_count(record.get('n_matched'))} features received"
        problem = (
            f"its download (novex-geo fetch {record.get('key')}) ended '{record.get('status')}' ({counts})"
        )
        if not source.allow_incomplete:
            raise LayerError(
                f"{problem}: run the same fetch again, or set allow_incomplete = true for this source "
                "to analyse the layer as it is",
                source.path,
                layer,
            )
        log.warning("%s, layer %s: %s; used as it is (allow_incomplete)", source.path, layer, problem)
    return record["attribution"]


def _count(value) -> str:
    return "?" if value is None or pd.isna(value) else f"{int(value):,}"


def _bbox_in_file_crs(source: Source, area, crs: str):
    """``area`` (bounds in ``crs``) as bounds in the source's own CRS, for a bbox read."""
    path = source.path
    if area is None or (
        isinstance(path, Path) and (path.suffix.lower() in PARQUET_SUFFIXES or not path.is_file())
    ):
        return None
    from pyproj import CRS, Transformer

    info_crs = file_crs(path, source.layer, source.sql) or source.crs
    if info_crs is None:
        return None
    transformer = Transformer.from_crs(
        CRS.from_user_input(crs), CRS.from_user_input(info_crs), always_xy=True
    )
    return transformer.transform_bounds(*area)


def _raster_source(source: Source, sector: str, crs: str, report: SourceReport) -> gpd.GeoDataFrame:
    from novex_geo.io.raster import read_raster_source

    frame = read_raster_source(source, sector, crs, report)
    if source.buffer:
        report.n_buffered = {"Polygon": len(frame)}
        frame = frame.set_geometry(
            shapely.buffer(frame.geometry.values, source.buffer, quad_segs=BUFFER_QUAD_SEGS)
        )
    if not len(frame):
        report.warnings.append("no raster cell meets the rule")
    return frame


def _with_crs(raw: gpd.GeoDataFrame, source: Source, report: SourceReport) -> gpd.GeoDataFrame:
    """The layer with its CRS (the file's, else the configured one), checked against its coordinates."""
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
    outside = check_coordinates_fit(
        np.asarray(raw.geometry.values, dtype=object), raw.crs, source.path, source.layer
    )
    if outside:
        valid = f"the area where {report.source_crs} is valid"
        report.warnings.append(f"{outside} features lie or reach outside {valid}: check their coordinates")
    return raw


def _claim_geometries(raw: gpd.GeoDataFrame, source: Source, crs: str, report: SourceReport) -> np.ndarray:
    """Reprojected, repaired, buffered polygons; every step counted in ``report``."""
    missing = (raw.geometry.isna() | raw.geometry.is_empty).to_numpy(copy=True)  # changed below
    present = np.asarray(raw.geometry.values, dtype=object)[~missing]
    type_ids, counts = np.unique(shapely.get_type_id(present), return_counts=True)
    report.geometry_types = {GEOMETRY_NAMES[t]: int(n) for t, n in zip(type_ids, counts, strict=True)}
    if not raw.crs.equals(gpd.GeoSeries(crs=crs).crs):
        raw = raw.to_crs(crs)
        report.n_reprojected = int((~missing).sum())
    geoms = np.array(raw.geometry.values, dtype=object)  # a copy: changed below, not the frame's
    broken = ~missing & ~np.all(np.isfinite(shapely.bounds(geoms)), axis=1)
    if broken.any():  # inf or NaN, or coordinates a reprojection cannot map: counted and dropped
        report.n_dropped_coordinates = int(broken.sum())
        report.warnings.append(
            f"{counted(report.n_dropped_coordinates, 'feature')} dropped: coordinates that are not finite "
            "numbers (inf, NaN) or cannot be reprojected"
        )
        geoms[broken] = None
        missing |= broken
    invalid = ~missing & ~on_every_core(shapely.is_valid, geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        report.n_repaired = int(invalid.sum())
    kinds = _geometry_kinds(geoms)
    if source.buffer:  # counted by their own type: MultiLineString is not LineString to a user
        report.n_buffered = dict(Counter(np.asarray(GEOMETRY_NAMES)[shapely.get_type_id(geoms[~missing])]))
        return shapely.buffer(geoms, source.buffer, quad_segs=BUFFER_QUAD_SEGS)
    not_area = ~missing & np.isin(kinds, ["Point", "LineString"])
    if not_area.any():
        listed = ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(kinds[not_area]).items()))
        raise LayerError(
            f"claims must be areas but the layer has {listed} features; set buffer = <metres> "
            "on this source to turn them into zones",
            source.path,
            source.layer,
        )
    return geoms


def read_source(
    source: Source, sector: str, crs: str, area: tuple[float, float, float, float] | None = None
) -> tuple[gpd.GeoDataFrame, SourceReport]:
    """Load one source as claim polygons in ``crs``.

    Steps, each counted in the returned report: read (with ``where``), check the coordinates
    against the declared CRS, reproject to ``crs``, repair invalid geometries with
    ``make_valid``, buffer by ``source.buffer``, keep only the polygonal part of collections,
    drop empty geometries.

    Returns
    -------
    frame : GeoDataFrame with ``feature_id``, ``sector``, ``source``, ``label``, geometry
    report : SourceReport
    """
    fetched = _fetched_attribution(source)
    attribution = source.attribution or fetched
    report = SourceReport(
        sector,
        source.name,
        str(source.path),
        source.layer,
        source.sql,
        target_crs=crs,
        attribution=attribution,
    )
    if source.raster is not None:
        frame = _raster_source(source, sector, crs, report)
        return frame, _finish(report, frame)
    columns = [source.label_field] if source.label_field else []
    bbox = _bbox_in_file_crs(source, area, crs)
    raw = read_vector(source.path, source.layer, source.where, columns, bbox=bbox, sql=source.sql)
    _note_reading(raw, report)
    raw = _with_crs(raw, source, report)
    if raw.empty:
        if area is None:  # an empty bbox read is normal; an empty layer is worth a warning
            report.warnings.append(
                "layer is empty" + (f" after where {source.where!r}" if source.where else "")
            )
        return gpd.GeoDataFrame(columns=FEATURE_COLUMNS, geometry=[], crs=crs), report
    geoms, report.n_parts_dropped = _polygonal_parts(_claim_geometries(raw, source, crs, report))
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report.n_dropped_empty = int(empty.sum()) - report.n_dropped_coordinates - report.n_undecodable
    keep = ~empty
    name = source.name
    fids = pd.Series(raw.index.to_numpy()[keep]).astype(str)
    ids = f"{name}/" + fids
    labels = _labels(raw, source, keep, report, ids) if source.label_field else ids
    frame = gpd.GeoDataFrame(
        {"feature_id": f"{sector}/{name}/" + fids, "sector": sector, "source": name, "label": labels},
        geometry=geoms[keep],
        crs=crs,
    )
    return frame, _finish(report, frame)


def _note_reading(raw: gpd.GeoDataFrame, report: SourceReport) -> None:
    """What reading the layer found (see :func:`~novex_geo.io.vector.read_vector`), in ``report``."""
    report.n_read = len(raw)
    report.warnings += raw.attrs.get("warnings", [])
    report.n_linearised, report.encoding = raw.attrs.get("linearised", 0), raw.attrs.get("encoding")
    report.n_undecodable = raw.attrs.get("undecodable", 0)
    if closed := raw.attrs.get("closed", 0):
        report.warnings.append(f"{counted(closed, 'feature')} with a ring that was not closed: closed")
    if report.n_undecodable:
        report.warnings.append(
            f"{counted(report.n_undecodable, 'feature')} dropped: a geometry that cannot "
            "be decoded (a damaged file?)"
        )


def _labels(
    raw: gpd.GeoDataFrame, source: Source, keep: np.ndarray, report: SourceReport, ids: pd.Series
) -> pd.Series:
    """The labels of the kept features, without control characters (counted in ``report``); a
    feature without a value is labelled by its id, as in a source without ``label_field``."""
    values = raw[source.label_field][keep].reset_index(drop=True)
    blank = (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()
    labels, note = plain_names(values.where(~blank, "").astype(str))
    if note:
        report.warnings.append(f"field '{source.label_field}': {note}")
    if blank.any():
        labels = labels.where(~blank, ids)
        report.warnings.append(
            f"field '{source.label_field}': {counted(int(blank.sum()), 'feature')} without a value, "
            "labelled by their id"
        )
    return labels


def _finish(report: SourceReport, frame: gpd.GeoDataFrame) -> SourceReport:
    report.n_loaded = len(frame)
    if len(frame):
        report.bounds = tuple(float(v) for v in frame.total_bounds)
    return report


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
