"""Write analysis results: one GeoPackage (QGIS opens it) plus CSV tables."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataSourceError

from novex_geo.io.layers import SourceReport

__all__ = ["ANALYSIS_GPKG", "SUMMARY_CSV", "input_table", "read_controle", "write_layer", "write_table"]

log = logging.getLogger(__name__)

ANALYSIS_GPKG = "analyse.gpkg"
SUMMARY_CSV = "samenvatting.csv"


def write_layer(frame: gpd.GeoDataFrame, path: Path, layer: str, description: str = "") -> None:
    """Write (replace) one spatial layer; geometries are promoted to multi when types mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(
        frame,
        path,
        layer=layer,
        driver="GPKG",
        promote_to_multi=frame.geom_type.nunique() > 1 if len(frame) else None,
        layer_options={"DESCRIPTION": description} if description else None,
    )
    log.debug("wrote %s layer %s (%d rows)", path, layer, len(frame))


def write_table(table: pd.DataFrame, path: Path, layer: str) -> None:
    """Write (replace) one attribute table without geometry into a GeoPackage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(table.reset_index(drop=True), path, layer=layer, driver="GPKG")


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


def read_controle(gpkg: Path) -> pd.DataFrame | None:
    """The self-audit table of a run's GeoPackage, or ``None`` when there is none to read."""
    try:
        if "controle" not in pyogrio.list_layers(gpkg)[:, 0]:
            return None
        return pyogrio.read_dataframe(gpkg, layer="controle", read_geometry=False)
    except (OSError, DataSourceError):
        return None
