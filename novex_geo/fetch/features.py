"""Features as services send them, made safe to store: parsed, CRS-checked, in RD, in the area.

Every protocol hands its features over as a GeoDataFrame in the CRS *the server declared*
(``Content-Crs``, a GeoJSON ``crs`` member, a GML ``srsName``). Here they are reprojected to RD
New, and features that cannot be right are counted and dropped instead of stored: a geometry
that does not parse, non-finite coordinates, or coordinates outside the Netherlands and its part
of the North Sea. When *no* feature of a page lies there, the declared CRS or axis order is
wrong, and that is an error rather than a page of silently dropped features.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.io.plausibility import NETHERLANDS_RD

__all__ = [
    "CRS84",
    "RD_PLAUSIBLE",
    "ServerReprojection",
    "clip_to_area",
    "compare_reprojection",
    "content_crs",
    "geojson_crs",
    "geojson_frame",
    "parse_crs",
    "to_rd",
]

CRS84 = "OGC:CRS84"
# lon/lat degrees or swapped RD axes read as RD fall outside it
RD_PLAUSIBLE = NETHERLANDS_RD
RESERVED_COLUMNS = {"ogc_id", "geometry", "fid"}
# how far a server's own RD coordinates may lie from PROJ's reprojection of the same feature: PROJ
# without grids (Helmert, EPSG's 1 m accuracy) and with the RDNAPTRANS grid differ by decimetres;
# a server that drops the datum shift is about 100 m off
REPROJECTION_TOLERANCE_M = 1.0
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.ShapelyError)


def parse_crs(text: str, where: str) -> str:
    """``EPSG:28992``-style code for a CRS named as an OGC URI, a URN or an authority code."""
    value = text.strip().strip("<>").strip()
    legacy = re.search(r"epsg\.xml#(\d+)$", value)
    if legacy:
        value = f"EPSG:{legacy.group(1)}"
    try:
        crs = CRS.from_user_input(value)
    except CRSError:
        shown = value if len(value) <= 80 else value[:80] + "…"
        raise DownloadError(f"{where}: the service names a CRS novex-geo does not know: {shown!r}") from None
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.to_wkt()


def content_crs(headers, where: str) -> str | None:
    """The CRS of the ``Content-Crs`` header of an OGC API answer, if it has one."""
    value = headers.get("Content-Crs") if headers else None
    return parse_crs(value, where) if value else None


def geojson_crs(collection: dict, where: str) -> str | None:
    """The CRS of a (pre-RFC 7946) GeoJSON ``crs`` member, as WFS and ArcGIS servers send it."""
    member = collection.get("crs")
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    return parse_crs(str(name), where) if name else None


def _as_text(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


def _kind(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return "nested" if isinstance(value, dict | list) else type(value).__name__


def _property_column(values: pd.Series) -> pd.Series:
    """A column that nests objects or mixes types (``1`` and ``"1a"``) becomes text, so that
    every page can be stored as it came; other columns keep their values."""
    kinds = set(values.dropna().map(_kind))
    return values.map(_as_text) if len(kinds) > 1 or "nested" in kinds else values


def geojson_frame(features: list, crs: str) -> tuple[gpd.GeoDataFrame, int]:
    """GeoJSON features as a GeoDataFrame in ``crs``, with the feature ``id`` as column ``ogc_id``.

    Returns the frame and the number of features left out because their geometry is missing
    or cannot be read (nonsense coordinates, wrong nesting, not a feature at all).
    """
    ids, rows, geoms, unreadable = [], [], [], 0
    for feature in features:
        try:
            geom = shapely.geometry.shape(feature["geometry"])
        except SHAPE_ERRORS:
            unreadable += 1
            continue
        properties = feature.get("properties")
        ids.append("" if feature.get("id") is None else str(feature["id"]))
        rows.append(properties if isinstance(properties, dict) else {})
        geoms.append(geom)
    return properties_frame(
        pd.DataFrame.from_records(rows, index=range(len(rows))), ids, geoms, crs
    ), unreadable


def _column_names(names) -> list[str]:
    """Names a GeoPackage accepts: none empty or reserved, none equal to another but for case."""
    taken: set[str] = set()
    result = []
    for name in names:
        base = str(name).strip() or "attr"
        base = f"{base}_attr" if base.lower() in RESERVED_COLUMNS else base
        candidate, number = base, 2
        while candidate.lower() in taken:
            candidate, number = f"{base}_{number}", number + 1
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def properties_frame(table: pd.DataFrame, ids, geoms, crs: str | None) -> gpd.GeoDataFrame:
    """Attribute columns made storable (see :func:`_property_column`, :func:`_column_names`)."""
    table.columns = _column_names(table.columns)
    table = table.apply(_property_column).convert_dtypes() if len(table.columns) else table
    table.insert(0, "ogc_id", pd.array(list(ids), dtype="string"))
    return gpd.GeoDataFrame(table, geometry=list(geoms), crs=crs)


def _bad_coordinates(geoms: np.ndarray) -> np.ndarray:
    """Per geometry: missing, empty, a non-finite coordinate, or outside :data:`RD_PLAUSIBLE`."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    xmin, ymin, xmax, ymax = RD_PLAUSIBLE
    bad_point = ~np.isfinite(coords).all(axis=1)
    with np.errstate(invalid="ignore"):
        bad_point |= (
            (coords[:, 0] < xmin) | (coords[:, 0] > xmax) | (coords[:, 1] < ymin) | (coords[:, 1] > ymax)
        )
    bad = np.bincount(index[bad_point], minlength=len(geoms)) > 0
    return bad | shapely.is_missing(geoms) | shapely.is_empty(geoms)


def to_rd(frame: gpd.GeoDataFrame, where: str) -> tuple[gpd.GeoDataFrame, int, int]:
    """``frame`` in RD New with implausible features dropped.

    Returns
    -------
    the frame, the number of features reprojected, the number dropped for their coordinates

    Raises
    ------
    DownloadError
        when no feature of a non-empty frame has plausible coordinates: the declared CRS (or
        axis order) does not match the coordinates.
    """
    if frame.empty:
        return frame.set_crs(DEFAULT_CRS, allow_override=True), 0, 0
    source = frame.crs
    n_reprojected = 0
    if source is None:
        raise DownloadError(f"{where}: the answer does not say in which CRS its coordinates are")
    if not source.equals(CRS.from_user_input(DEFAULT_CRS)):
        frame = frame.to_crs(DEFAULT_CRS)
        n_reprojected = int((~shapely.is_missing(frame.geometry.values)).sum())
    bad = _bad_coordinates(np.asarray(frame.geometry.values, dtype=object))
    if bad.all():
        sample = shapely.get_coordinates(frame.geometry.values[:1])
        first = f" (first coordinate read as {sample[0, 0]:.6g}, {sample[0, 1]:.6g})" if len(sample) else ""
        raise DownloadError(
            f"{where}: none of the {len(frame)} features lies in the Netherlands when read as "
            f"{source.to_string()}{first}; the service's CRS or axis order is not what it declares"
        )
    return frame[~bad], n_reprojected, int(bad.sum())


@dataclass(frozen=True)
class ServerReprojection:
    """How a server's RD coordinates compare with PROJ's reprojection of the same features
    (asked again in the service's own CRS or CRS84): the largest distance in metres and the
    number of features compared."""

    deviation_m: float
    n_compared: int

    @property
    def trusted(self) -> bool:
        return self.n_compared > 0 and self.deviation_m <= REPROJECTION_TOLERANCE_M

    def describe(self, native: str) -> str:
        if not self.n_compared:
            return f"the server's RD answer could not be compared with {native} (no common features)"
        verdict = "match" if self.trusted else "deviate from"
        return (
            f"the server's RD coordinates {verdict} PROJ's reprojection from {native} "
            f"(largest distance {self.deviation_m:.3g} m over {self.n_compared} features)"
        )


def compare_reprojection(server_rd: gpd.GeoDataFrame, reference: gpd.GeoDataFrame) -> ServerReprojection:
    """Compare features a server reprojected to RD with the same features in another CRS,
    reprojected here with PROJ: matched by id when both have unique ids, else by position."""
    local = reference.to_crs(DEFAULT_CRS) if reference.crs is not None else reference
    ids_a, ids_b = server_rd["ogc_id"], local["ogc_id"]
    usable = ids_a.ne("").all() and ids_a.is_unique and ids_b.ne("").all() and ids_b.is_unique
    if usable:
        common = ids_a[ids_a.isin(ids_b)]
        first = server_rd.geometry.values[ids_a.isin(ids_b).to_numpy()]
        second = local.set_index("ogc_id").geometry.reindex(common).values
    else:
        n = min(len(server_rd), len(local))
        first, second = server_rd.geometry.values[:n], local.geometry.values[:n]
    first, second = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    present = ~(shapely.is_missing(first) | shapely.is_missing(second))
    if not present.any():
        return ServerReprojection(0.0, 0)
    distances = shapely.hausdorff_distance(first[present], second[present])
    return ServerReprojection(float(np.nanmax(distances)), int(present.sum()))


def clip_to_area(frame: gpd.GeoDataFrame, area) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """The parts of ``frame``'s features inside the prepared polygon ``area``.

    Returns the clipped frame and counts: ``clipped`` (cut at the border), ``outside`` (dropped),
    ``repaired`` (invalid geometries made valid so that they could be cut).
    """
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    inside = shapely.contains(area, geoms)
    touching = ~inside & shapely.intersects(area, geoms)
    cut = geoms[touching]
    invalid = ~shapely.is_valid(cut)
    cut[invalid] = shapely.make_valid(cut[invalid])
    geoms[touching] = shapely.intersection(cut, area)
    keep = (inside | touching) & ~shapely.is_empty(geoms)
    counts = {"clipped": int(touching.sum()), "outside": int((~keep).sum()), "repaired": int(invalid.sum())}
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))[keep], counts
