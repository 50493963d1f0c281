"""The run format — a run's GeoPackage (``analyse.gpkg``) or PostGIS schema — declared once,
written and read here, and the names of every file the commands write beside it.

``run`` writes the layers ``stapeling``, ``schuurpunten``, ``kansen``, ``provincies`` and the
tables ``herkomst``, ``samenvatting``, ``controle`` and ``invoer`` (:func:`write_run`);
``triage`` adds the layer ``spanningsgebieden`` and the tables ``conflictparen``, ``kansparen``
and ``novexgebieden`` (:func:`add_triage`). Each is a :class:`RunPart` in :data:`PARTS`: the
one place its name is spelled. Every command that reads a run's results reads them through
:func:`read_run`, which says in one clear message what is missing and which command writes it
(a run written before kansen existed has no ``kansen`` layer: it is asked to run again). A run
written with ``--out "postgresql://…?schema=…"`` is written to and read from that schema by
:mod:`novex_geo.io.postgis_run`, all tables in one transaction.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from novex_geo.config import KANS, SCHUURPUNT, Project
from novex_geo.config.database import Database, is_database_url, parse_database_url
from novex_geo.errors import DatabaseError, OutputError, RunError
from novex_geo.io.files import atomic_path, output_lock
from novex_geo.io.layers import SectorLayer
from novex_geo.io.outputs import geopackage_target, write_csv, write_layer, write_table

__all__ = [
    "ANALYSIS_GPKG",
    "AREAS_CSV",
    "CHANGES_GPKG",
    "CHANGES_MD",
    "CONFLICTPAREN",
    "CONTROLE",
    "HERKOMST",
    "INVOER",
    "KANSEN",
    "KANSPAREN",
    "MAPS_FOLDER",
    "NOVEXGEBIEDEN",
    "OVERLAY_LAYERS",
    "PARTS",
    "PROGRESS_CHARTS",
    "PROGRESS_CSV",
    "PROGRESS_GPKG",
    "PROGRESS_MD",
    "PROVINCIES",
    "SAMENVATTING",
    "SCHUURPUNTEN",
    "SIGNALS_FOLDER",
    "SPANNINGSGEBIEDEN",
    "STAPELING",
    "SUMMARY_CSV",
    "TRIAGE_LAYERS",
    "TRIAGE_MD",
    "RunData",
    "RunPart",
    "add_triage",
    "beside",
    "check_run_target",
    "location_of",
    "read_controle",
    "read_run",
    "replaced_run",
    "run_date",
    "run_exists",
    "run_location",
    "write_comparison",
    "write_run",
]

# the files the commands write beside the run (or, for a schema, into the output folder)
ANALYSIS_GPKG = "analyse.gpkg"
SUMMARY_CSV = "samenvatting.csv"
AREAS_CSV = "spanningsgebieden.csv"
TRIAGE_MD = "triage.md"
MAPS_FOLDER = "kaarten"
SIGNALS_FOLDER = "signalen"
CHANGES_MD, CHANGES_GPKG = "wijzigingen.md", "wijzigingen.gpkg"
PROGRESS_MD, PROGRESS_CSV, PROGRESS_GPKG = "voortgang.md", "voortgang.csv", "voortgang.gpkg"
PROGRESS_CHARTS = "voortgang"  # the folder of the charts per spanningsgebied beside voortgang.md
RUN, TRIAGE = "novex-geo run", "novex-geo triage"


@dataclass(frozen=True)
class RunPart:
    """One layer (``spatial``) or table of a run: its name, the command that writes it, and for
    a layer its title in the GeoPackage and its name in the QGIS legend."""

    name: str
    spatial: bool
    written_by: str
    title: str = ""
    legend: str = ""


STAPELING = RunPart("stapeling", True, RUN, "Stapeling per provincie", "Stapeling (aantal sectoren)")
SCHUURPUNTEN = RunPart(SCHUURPUNT.layer, True, RUN, "Schuurpunten", "Schuurpunten")
KANSEN = RunPart(KANS.layer, True, RUN, "Kansen", "Kansen")
PROVINCIES = RunPart("provincies", True, RUN, legend="Provinciegrenzen")
HERKOMST = RunPart("herkomst", False, RUN)
SAMENVATTING = RunPart("samenvatting", False, RUN)
CONTROLE = RunPart("controle", False, RUN)
INVOER = RunPart("invoer", False, RUN)
SPANNINGSGEBIEDEN = RunPart("spanningsgebieden", True, TRIAGE, "Spanningsgebieden", "Spanningsgebieden")
CONFLICTPAREN = RunPart("conflictparen", False, TRIAGE)
KANSPAREN = RunPart("kansparen", False, TRIAGE)
NOVEXGEBIEDEN = RunPart("novexgebieden", False, TRIAGE)
AFSPRAKEN = RunPart("afspraken", False, TRIAGE)  # the annotations file's afspraken as at this triage
_RUN_PARTS = (STAPELING, SCHUURPUNTEN, KANSEN, PROVINCIES, HERKOMST, SAMENVATTING, CONTROLE, INVOER)
_TRIAGE_PARTS = (SPANNINGSGEBIEDEN, CONFLICTPAREN, KANSPAREN, NOVEXGEBIEDEN, AFSPRAKEN)
PARTS = {part.name: part for part in (*_RUN_PARTS, *_TRIAGE_PARTS)}
OVERLAY_LAYERS = tuple(part.name for part in (STAPELING, SCHUURPUNTEN, KANSEN, HERKOMST))
TRIAGE_LAYERS = tuple(name for name, part in PARTS.items() if part.written_by == TRIAGE)
TABLES = {name for name, part in PARTS.items() if not part.spatial}
WRITTEN_BY = {name: part.written_by for name, part in PARTS.items()}


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
    afspraken: pd.DataFrame | None = None


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


def replaced_run(location: Path | Database) -> tuple[list[str], list[str]]:
    """What writing a run to ``location`` replaces: the provinces of the GeoPackage run there
    and the triage layers it holds (both empty where there is none, or for a schema)."""
    if isinstance(location, Database) or not Path(location).is_file():
        return [], []
    try:
        layers = {str(name) for name in pyogrio.list_layers(location)[:, 0]}
        provincies = (
            pyogrio.read_dataframe(
                location, layer=PROVINCIES.name, columns=["provincie"], read_geometry=False
            )
            if PROVINCIES.name in layers
            else pd.DataFrame({"provincie": []})
        )
    except (DataSourceError, DataLayerError):  # a damaged run: replaced, nothing to tell of it
        return [], []
    return [str(name) for name in provincies["provincie"]], [name for name in TRIAGE_LAYERS if name in layers]


def run_exists(location: Path | Database) -> bool:
    """Whether a run (its stapeling) is at ``location``, a GeoPackage or a PostGIS schema."""
    if isinstance(location, Database):
        from novex_geo.io.postgis_run import schema_tables

        return STAPELING.name in schema_tables(location)
    return Path(location).exists()


def read_run(
    gpkg: str | Path | Database, required: tuple[str, ...] = OVERLAY_LAYERS, optional: tuple[str, ...] = ()
) -> RunData:
    """Read ``required`` (an error names what is missing and the command that writes it) and
    whichever of ``optional`` exist, from a GeoPackage or a PostGIS schema."""
    gpkg = location_of(gpkg)
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


def location_of(value: str | Path | Database) -> Path | Database:
    """Where a run is written or read: a GeoPackage path or a PostGIS schema (``?schema=``)."""
    if isinstance(value, Database | Path) or not is_database_url(value):
        location = value if isinstance(value, Database) else Path(value)
    else:
        try:
            location = parse_database_url(value)
        except ValueError as exc:
            raise DatabaseError(str(exc)) from None
    if isinstance(location, Database) and location.schema is None:
        raise DatabaseError(f"{location}: add the schema to write the run into, e.g. ?schema=novex_2026")
    return location


def run_location(project: Project, given: str | Path | Database | None = None) -> Path | Database:
    """Where ``project``'s run is: ``given`` (a GeoPackage path or a ``postgresql://…?schema=``
    URL) or ``<output>/analyse.gpkg``."""
    return location_of(given) if given else project.output_dir / ANALYSIS_GPKG


def beside(gpkg: Path, name: str) -> Path:
    """The file ``name`` that belongs to a run's GeoPackage: ``name`` itself beside
    ``analyse.gpkg``, ``X.name`` beside another ``X.gpkg``, so that runs written into one folder
    (``--out``) do not overwrite each other's summary and manifest."""
    return gpkg.with_name(name if gpkg.name == ANALYSIS_GPKG else f"{gpkg.stem}.{name}")


def run_files(gpkg: Path) -> list[Path]:
    """Every file a run and its triage write at ``gpkg``: the GeoPackage, the files beside it
    (summary, manifest, QGIS project) and the triage's reports in its folder."""
    # the manifest and qgis use this module's names: imported here, not at the top
    from novex_geo.io.manifest import manifest_path
    from novex_geo.io.qgis import QGIS_SUFFIX

    beside_it = [beside(gpkg, SUMMARY_CSV), manifest_path(gpkg), gpkg.with_suffix(QGIS_SUFFIX)]
    return [gpkg, *beside_it, gpkg.parent / AREAS_CSV, gpkg.parent / TRIAGE_MD]


def check_run_target(project: Project, location: Path | Database, chosen: bool = True) -> None:
    """An :class:`OutputError` when writing a run to ``location`` would replace what is not a
    run: a file the project reads, or, at a ``chosen`` place (``--out``), a file that is no
    GeoPackage or a GeoPackage of other layers (the project's own ``analyse.gpkg`` is the run's
    to replace, damaged or not); a PostGIS schema is checked on its server
    (:func:`~novex_geo.io.postgis_run.check_run_schema`). Checked before any work, so a mistyped
    ``--out`` costs nothing."""
    if isinstance(location, Database):
        from novex_geo.io.postgis_run import check_run_schema

        check_run_schema(location, project.crs)
        return
    target = Path(location)
    inputs = {Path(path).resolve(): role for path, role in project.input_files.items()}
    for written in run_files(target):
        role = inputs.get(written.resolve())
        if role:
            raise OutputError(
                f"{written}: this is {role}; the run writes {written.name} there and would replace it: "
                "choose another --out (or output folder)"
            )
    if not chosen:
        return
    layers = geopackage_target(target, "a run is written")
    if layers and STAPELING.name not in layers:
        shown = ", ".join(sorted(layers)[:5]) + (", …" if len(layers) > 5 else "")
        raise OutputError(
            f"{target}: holds other layers ({shown}), no novex-geo run; it is left as it is: "
            "choose another --out"
        )


def _write_parts(project: Project, tables: dict[str, pd.DataFrame], gpkg: Path) -> None:
    """Each of ``tables`` into ``gpkg`` by its :data:`PARTS` name: GeoDataFrames as layers with
    their title (and the project's name), the others as tables."""
    for name, frame in tables.items():
        if isinstance(frame, gpd.GeoDataFrame):
            title = f"{PARTS[name].title}, {project.name}" if PARTS[name].title else ""
            write_layer(frame, gpkg, name, title)
        else:
            write_table(frame, gpkg, name)


def write_run(
    project: Project,
    layers: dict[str, SectorLayer],
    tables: dict[str, pd.DataFrame],
    location: Path | Database,
    styled: list[str],
) -> Path | None:
    """The run's ``tables`` (by :data:`PARTS` name; GeoDataFrames are layers) into a new
    GeoPackage that replaces ``location`` when complete, with the manifest of ``layers``' inputs,
    QGIS styles for ``styled`` and its QGIS project, and ``samenvatting.csv`` beside it (its path;
    see :func:`beside`)
    — or into the PostGIS schema, replaced in one transaction (``None``)."""
    if isinstance(location, Database):
        from novex_geo.io.postgis_run import write_run_schema

        write_run_schema(location, project, tables, layers.values())
        return None
    # qgis and the manifest use this module's names: imported here, not at the top
    from novex_geo.io.manifest import manifest_rows, write_manifest
    from novex_geo.io.qgis import source_layers, write_project_file, write_styles

    with output_lock(location.parent), ThreadPoolExecutor(1, thread_name_prefix="novex-hash") as hashing:
        # the inputs are hashed (hashlib releases the GIL) while the layers are written
        rows = hashing.submit(manifest_rows, project, layers.values())
        with atomic_path(location) as temporary:
            _write_parts(project, tables, temporary)
            write_styles(temporary, styled, project.labels)
            write_manifest(project, layers.values(), location, into=temporary, rows=rows.result())
        write_project_file(
            location, project.name, project.crs, styled, source_layers(project), project.labels
        )
        return write_csv(tables[SAMENVATTING.name], beside(location, SUMMARY_CSV))


def add_triage(
    project: Project, tables: dict[str, pd.DataFrame], location: Path | Database, styled: list[str]
) -> None:
    """Add (replace) the triage ``tables`` in the run: the GeoPackage is replaced when complete
    (``styled``: every layer ``analyse.qgs`` shows), the schema in one transaction."""
    if isinstance(location, Database):
        from novex_geo.io.postgis_run import write_triage_schema

        write_triage_schema(location, project, tables)
        return
    from novex_geo.io.qgis import source_layers, write_project_file, write_styles

    with atomic_path(location, start_from_target=True) as temporary:
        _write_parts(project, tables, temporary)
        write_styles(temporary, [SPANNINGSGEBIEDEN.name], project.labels)
    write_project_file(location, project.name, project.crs, styled, source_layers(project), project.labels)


def write_comparison(gpkg: Path, layers: dict[str, gpd.GeoDataFrame], title: str) -> None:
    """A comparison of runs (``wijzigingen.gpkg``, ``voortgang.gpkg``) with those of ``layers``
    that have rows, replacing the previous one whole (removed when none has)."""
    layers = {name: frame for name, frame in layers.items() if len(frame)}
    if not layers:
        gpkg.unlink(missing_ok=True)
        return
    with atomic_path(gpkg) as temporary:
        for name, frame in layers.items():
            write_layer(frame, temporary, name, title)


def run_date(location: Path | Database) -> str:
    """The date of the analysis, as maps and signals print it (``"02-12-2026"``): when the
    GeoPackage was written, or the schema's last ``run``."""
    if isinstance(location, Database):
        from novex_geo.io.postgis_run import last_run_time

        return last_run_time(location).strftime("%d-%m-%Y")
    return datetime.fromtimestamp(Path(location).stat().st_mtime).strftime("%d-%m-%Y")
