"""Write analysis results: one GeoPackage (QGIS opens it) plus CSV tables."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from novex_geo.errors import OutputError
from novex_geo.escape import csv_cell
from novex_geo.io.files import atomic_path
from novex_geo.io.layers import SourceReport

__all__ = ["geopackage_target", "input_table", "write_csv", "write_layer", "write_table"]

log = logging.getLogger(__name__)

# Writing through Arrow hands GDAL whole columns instead of a feature at a time: two to three
# times faster for the large layers and tables of a run (GDAL 3.8 and later can).
ARROW = pyogrio.__gdal_version__ >= (3, 8, 0)


def geopackage_target(path: Path, kept: str) -> set[str]:
    """The layers of the GeoPackage that ``path`` is to be written into (none while it does not
    exist); an :class:`OutputError` when it cannot be one: a name not ending in ``.gpkg``, or a
    file that is no GeoPackage (left as it is). ``kept`` says what goes in, for the message."""
    if path.suffix.lower() != ".gpkg":
        raise OutputError(f"{path}: {kept} in a GeoPackage: give a file name ending in .gpkg")
    if not path.is_file():
        return set()
    try:
        return {str(name) for name in pyogrio.list_layers(path)[:, 0]}
    except (DataSourceError, DataLayerError):
        raise OutputError(
            f"{path}: exists and is no GeoPackage; it is left as it is: choose another --out"
        ) from None


def write_layer(frame: gpd.GeoDataFrame, path: Path, layer: str, description: str = "") -> None:
    """Write (replace) one spatial layer; geometries are promoted to multi when types mix, and
    an empty layer is a MultiPolygon layer (every layer a run writes holds areas), so that QGIS
    shows it as such rather than as geometry type "Unknown".

    Writes into ``path`` directly: callers write a whole GeoPackage into the temporary path of
    :func:`~novex_geo.io.files.atomic_path`.
    """
    promote = frame.geom_type.nunique() > 1 if len(frame) else None
    pyogrio.write_dataframe(
        # the Arrow writer promotes geometries in the frame it is given: never the caller's
        frame.copy() if promote and ARROW else frame,
        path,
        layer=layer,
        driver="GPKG",
        use_arrow=ARROW,
        promote_to_multi=promote,
        geometry_type=None if len(frame) else "MultiPolygon",
        layer_options={"DESCRIPTION": description} if description else None,
    )
    log.debug("wrote %s layer %s (%d rows)", path, layer, len(frame))


def write_table(table: pd.DataFrame, path: Path, layer: str) -> None:
    """Write (replace) one attribute table without geometry into a GeoPackage."""
    pyogrio.write_dataframe(table.reset_index(drop=True), path, layer=layer, driver="GPKG", use_arrow=ARROW)


def input_table(reports: list[SourceReport]) -> pd.DataFrame:
    """One row per loaded source with every count of the loading steps (table ``invoer``)."""
    rows = []
    for report in reports:
        row = dataclasses.asdict(report)
        row["geometry_types"] = ", ".join(f"{n} {t}" for t, n in sorted(report.geometry_types.items()))
        row["n_buffered"] = sum(report.n_buffered.values())
        row["bounds"] = "" if report.bounds is None else ", ".join(f"{v:.0f}" for v in report.bounds)
        row["warnings"] = "; ".join(report.warnings)
        rows.append(row)
    return pd.DataFrame(rows)


def write_csv(table: pd.DataFrame, path: Path, float_format: str = "%.2f") -> Path:
    """Write a table as CSV, atomically, with every text cell safe to open in a spreadsheet
    (cells that would start a formula are prefixed with ``'``; the GeoPackage keeps them as is)."""
    text_columns = [
        c for c in table.columns if table[c].dtype == object or pd.api.types.is_string_dtype(table[c])
    ]
    safe = table.assign(**{c: table[c].map(csv_cell) for c in text_columns})
    with atomic_path(path) as temporary:
        safe.to_csv(temporary, index=False, float_format=float_format, encoding="utf-8")
    return path
