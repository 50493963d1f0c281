"""Provinces (or other regions) the analysis runs per, from the file in ``[project.regions]``.

``novex-geo fetch provincies`` (:mod:`novex_geo.fetch.provinces`) downloads the CBS
``provincie_gegeneraliseerd`` boundaries from PDOK into such a file.
"""

from __future__ import annotations

import logging
import unicodedata

import geopandas as gpd
import numpy as np
import shapely

from novex_geo.config import DEFAULT_CRS, Project, Regions
from novex_geo.errors import LayerError
from novex_geo.geometry import polygonal_each
from novex_geo.io.downloads import download_record
from novex_geo.io.plausibility import check_coordinates_fit, plain_names, resolve_overlaps
from novex_geo.io.vector import check_layer, read_vector
from novex_geo.units import counted

__all__ = [
    "NAMING",
    "OVERLAPPING",
    "PARTITION",
    "check_triage_layers",
    "load_regions",
    "regions_credit",
    "select_regions",
]

log = logging.getLogger(__name__)


PARTITION, NAMING, OVERLAPPING = "partition", "naming", "overlapping"


def load_regions(regions: Regions, crs: str = DEFAULT_CRS, kind: str = PARTITION) -> gpd.GeoDataFrame:
    """Load the regions file as a GeoDataFrame with a ``provincie`` column (the region's name).

    Invalid boundaries are repaired with ``make_valid`` (and logged); a missing or empty name,
    coordinates that do not fit the file's CRS and regions without area are errors that name
    the file. Overlaps depend on the ``kind`` of layer (see
    :func:`~novex_geo.io.plausibility.resolve_overlaps`): the regions an analysis runs per
    (``PARTITION``) may overlap by slivers only, which go to one region; gemeenten, which only
    name places (``NAMING``), may overlap by more and are resolved the same way; NOVEX-gebieden
    (``OVERLAPPING``) may overlap as they are. What was resolved is kept in
    ``frame.attrs["notes"]``, for the caller to report.
    """
    path, layer, field = regions.path, regions.layer, regions.name_field
    frame = read_vector(path, layer, columns=[field])
    notes = [f"{path}: {note}" for note in _reading_notes(frame)]
    if frame.empty:
        raise LayerError("regions layer is empty", path, layer)
    if frame.crs is None:
        raise LayerError("regions layer has no CRS", path, layer)
    nameless = frame[field].isna() | (frame[field].astype(str).str.strip() == "")
    if nameless.any():
        raise LayerError(
            f"{int(nameless.sum())} region(s) have an empty name; give every region a name",
            path,
            layer,
            field,
        )
    names, note = plain_names(frame[field].astype(str))
    notes += [f"{path}, field '{field}': {note}"] if note else []
    check_coordinates_fit(np.asarray(frame.geometry.values, dtype=object), frame.crs, path, layer)
    frame = frame.to_crs(crs)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        log.warning("%s: %d invalid region boundaries repaired", path, int(invalid.sum()))
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    geoms = polygonal_each(geoms)
    flat = shapely.is_empty(geoms) | (shapely.area(geoms) == 0)
    if flat.any():
        listed = ", ".join(names[flat].head(5))
        raise LayerError(f"region(s) without area (not polygons): {listed}", path, layer, field)
    result = gpd.GeoDataFrame({"provincie": names.to_numpy()}, geometry=geoms, crs=crs)
    # a province stored as several rows (islands) is one region
    if result["provincie"].duplicated().any():
        result = result.dissolve("provincie", as_index=False)
    if kind != OVERLAPPING:
        names = result["provincie"].to_numpy()
        geoms, note = resolve_overlaps(
            names, np.asarray(result.geometry.values, dtype=object), path, layer, naming=kind == NAMING
        )
        if note:
            notes.append(f"{path}: {note}")
            result = result.set_geometry(gpd.GeoSeries(geoms, index=result.index, crs=crs))
    result = result.sort_values("provincie", ignore_index=True)
    result.attrs["notes"] = notes
    return result


def _reading_notes(frame: gpd.GeoDataFrame) -> list[str]:
    """What reading the file did to it (see :func:`~novex_geo.io.vector.read_vector`), in words."""
    curved = frame.attrs.get("linearised", 0)
    notes = [f"{counted(curved, 'curved boundary', 'curved boundaries')} linearised"] if curved else []
    return notes + frame.attrs.get("warnings", [])


def _name_key(name: str) -> str:
    """How a provincie name is matched: without case, and with "â" one character however it was
    typed or stored (NFC; macOS and some files store it as "a" plus a combining accent)."""
    return unicodedata.normalize("NFC", str(name)).casefold()


def select_regions(regions: gpd.GeoDataFrame, names: list[str] | tuple[str, ...]) -> gpd.GeoDataFrame:
    """The regions named in ``names`` (case-insensitive); an unknown name is an error."""
    if not names:
        return regions
    by_key = {_name_key(name): name for name in regions["provincie"]}
    unknown = [name for name in names if _name_key(name) not in by_key]
    if unknown:
        raise LayerError(
            f"unknown provincie {', '.join(map(repr, unknown))}; known: " + ", ".join(regions["provincie"])
        )
    wanted = [by_key[_name_key(name)] for name in names]
    return regions[regions["provincie"].isin(wanted)].reset_index(drop=True)


def check_triage_layers(project: Project) -> None:
    """The layers triage reads besides the run — ``[triage.gemeenten]``, ``[triage.novex_gebieden]``
    and every ``[[triage.priority]]`` — exist, with their layer and fields: a look at their
    descriptions, before an overlay runs, so that a run does not end well only for triage to
    fail on them. A :class:`LayerError` names the key, the file, the layer and the field."""
    settings = project.triage
    named = {"triage.gemeenten": settings.gemeenten, "triage.novex_gebieden": settings.novex_gebieden}
    for key, regions in named.items():
        if regions is not None:
            _checked(key, regions.path, regions.layer, columns=[regions.name_field])
    for number, source in enumerate(settings.priority):
        key, label = f"triage.priority[{number}]", [source.label_field] if source.label_field else []
        if source.raster is None:
            _checked(key, source.path, source.layer, source.where, label, source.sql)
        elif not source.path.exists():
            raise LayerError(f"{key}: {source.path}: file not found")


def _checked(key: str, path, layer, where=None, columns=None, sql=None) -> None:
    try:
        check_layer(path, layer, where, columns, sql)
    except LayerError as exc:
        raise LayerError(f"{key}: {exc}") from None


def regions_credit(regions: Regions) -> str:
    """The credit of a regions file on maps: the attribution ``novex-geo fetch provincies``
    stored with it, else its file name."""
    path = regions.path
    record = download_record(path, regions.layer or path.stem) if path.suffix == ".gpkg" else None
    return (record or {}).get("attribution") or f"provinciegrenzen: {path.name}"
