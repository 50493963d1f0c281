"""The one reader of a run — its GeoPackage (``analyse.gpkg``) or its PostGIS schema — and the
names of what it holds.

``run`` writes the layers ``stapeling``, ``schuurpunten``, ``kansen``, ``provincies`` and the
tables ``herkomst``, ``samenvatting``, ``controle`` and ``invoer``; ``triage`` adds the layer
``spanningsgebieden`` and the tables ``conflictparen``, ``kansparen`` and ``novexgebieden``.
Every command that reads a run's results reads them through :func:`read_run`, which says in
one clear message what is missing and which command writes it (a run written before kansen
existed has no ``kansen`` layer: it is asked to run again). A run written with
``--out "postgresql://…?schema=…"`` is read from that schema by
:mod:`novex_geo.io.postgis_run`, all tables in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from novex_geo.config import KANS, SCHUURPUNT
from novex_geo.config.database import Database
from novex_geo.errors import RunError
from novex_geo.io.postgis import run_location

__all__ = [
    "ANALYSIS_GPKG", "OVERLAY_LAYERS", "SUMMARY_CSV", "TABLES", "TRIAGE_LAYERS", "RunData", "read_controle",
    "read_run", "run_exists",
]  # fmt: skip

ANALYSIS_GPKG = "analyse.gpkg"
SUMMARY_CSV = "samenvatting.csv"
OVERLAY_LAYERS = ("stapeling", SCHUURPUNT.layer, KANS.layer, "herkomst")
TRIAGE_LAYERS = ("spanningsgebieden", "conflictparen", "kansparen", "novexgebieden")
TABLES = {"herkomst", "samenvatting", "controle", "invoer", "conflictparen", "kansparen", "novexgebieden"}
WRITTEN_BY = {
    **dict.fromkeys((*OVERLAY_LAYERS, "provincies", "samenvatting", "controle", "invoer"), "novex-geo run"),
    **dict.fromkeys(TRIAGE_LAYERS, "novex-geo triage"),
}  # fmt: skip


@dataclass
class RunData:
    """The layers and tables read from a run's GeoPackage or schema (``None`` when not read)."""

    path: Path | Database
    stapeling: gpd.GeoDataFrame | None = None
    schuurpunten: gpd.GeoDataFrame | None = None
    kansen: gpd.GeoDataFrame | None = None
    provincies: gpd.GeoDataFrame | None = None
    spanningsgebieden: gpd.GeoDataFrame | None = None
    herkomst: pd.DataFrame | None = None
    samenvatting: pd.DataFrame | None = None
    controle: pd.DataFrame | None = None
    invoer: pd.DataFrame | None = None
    conflictparen: pd.DataFrame | None = None
    kansparen: pd.DataFrame | None = None
    novexgebieden: pd.DataFrame | None = None


def _available(gpkg: Path | Database) -> set[str]:
    if isinstance(gpkg, Database):
        from novex_geo.io.postgis_run import schema_tables

        available = schema_tables(gpkg)
        if not available:
            raise RunError(f"{gpkg}: no analysis in schema {gpkg.schema} yet; run novex-geo run --out first")
        return available
    if not gpkg.exists():
        raise RunError(f"{gpkg}: no analysis yet; run novex-geo run first")
    if not gpkg.is_file():
        raise RunError(f"{gpkg}: not a file")
    try:
        return {str(name) for name in pyogrio.list_layers(gpkg)[:, 0]}
    except (DataSourceError, DataLayerError) as exc:
        raise RunError(f"{gpkg}: not a readable GeoPackage ({exc})") from None


def run_exists(location: Path | Database) -> bool:
    """Whether a run (its stapeling) is at ``location``, a GeoPackage or a PostGIS schema."""
    if isinstance(location, Database):
        from novex_geo.io.postgis_run import schema_tables

        return "stapeling" in schema_tables(location)
    return Path(location).exists()


def read_run(
    gpkg: str | Path | Database, required: tuple[str, ...] = OVERLAY_LAYERS, optional: tuple[str, ...] = ()
) -> RunData:
    """Read ``required`` (an error names what is missing and the command that writes it) and
    whichever of ``optional`` exist, from a GeoPackage or a PostGIS schema."""
    gpkg = run_location(gpkg)
    available = _available(gpkg)
    missing = [name for name in required if name not in available]
    if missing:
        commands = sorted({WRITTEN_BY.get(name, "novex-geo run") for name in missing})
        container = "schema" if isinstance(gpkg, Database) else "GeoPackage"
        raise RunError(
            f"{gpkg}: no {', '.join(missing)} in this {container}; run {' and '.join(commands)} first"
        )
    data = RunData(gpkg)
    names = [*required, *(name for name in optional if name in available)]
    if isinstance(gpkg, Database):
        from novex_geo.io.postgis_run import read_schema

        for name, frame in read_schema(gpkg, names).items():
            setattr(data, name, frame)
        return data
    for name in names:
        try:
            if name in TABLES:
                setattr(data, name, pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False))
            else:
                setattr(data, name, gpd.read_file(gpkg, layer=name, engine="pyogrio"))
        except (DataSourceError, DataLayerError) as exc:  # damaged after it was listed
            raise RunError(
                f"{gpkg}, layer {name}: cannot be read ({exc}); run the command that wrote it again"
            ) from None
    return data


def read_controle(gpkg: Path) -> pd.DataFrame | None:
    """The self-audit table of a run's GeoPackage, or ``None`` when there is none to read."""
    try:
        return read_run(gpkg, required=(), optional=("controle",)).controle
    except RunError:
        return None
