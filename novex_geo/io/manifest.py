"""The run manifest: what went into a run, so that a result can be traced and repeated a year later.

``run`` records per input — the regions file and every source — the file, its SHA-256, the
number of features read, and, when the layer came from ``novex-geo fetch`` (its row in
``novex_downloads``), the fetch date, service and download URL, the type or collection, the
downloaded file's SHA-256, the features the service said it holds and those received, whether
the catalogue entry was overridden, edition, licence and its obligations; plus the
novex-geo version and the SHA-256 of the project file. It is written as table ``manifest`` in the
run's GeoPackage and as JSON beside it (``manifest.json`` beside ``analyse.gpkg``), and
:func:`compare_manifests` says which inputs changed between two runs.

Every input is hashed in every run, each file once: a file rewritten with the same size and
modification time (a tool that restores the time, a copy that keeps it) is still a changed file,
and no cheap check can tell that it is not. Hashing a national parcel file takes seconds, little
beside the run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from novex_geo.config import Project
from novex_geo.io.downloads import download_record
from novex_geo.io.files import write_text
from novex_geo.io.layers import SectorLayer, SourceReport
from novex_geo.io.outputs import write_table
from novex_geo.io.run import beside

__all__ = [
    "COLUMNS",
    "MANIFEST_TABLE",
    "compare_manifests",
    "manifest_path",
    "manifest_rows",
    "manifest_table",
    "read_manifest",
    "write_manifest",
]


MANIFEST_TABLE = "manifest"
COLUMNS = [
    "rol",
    "sector",
    "bron",
    "bestand",
    "laag",
    "sha256",
    "n_features",
    "opgehaald",
    "service_url",
    "download_url",
    "bron_naam",
    "download_sha256",
    "n_verwacht",
    "n_ontvangen",
    "bron_overschreven",
    "editie",
    "licentie",
    "verplichtingen",
    "attributie",
    "download_status",
    "novex_geo_versie",
    "aangemaakt",
]
INTEGERS = ("n_features", "n_verwacht", "n_ontvangen")
COMPARED = {
    "sha256": "inhoud",
    "n_features": "features",
    "editie": "editie",
    "licentie": "licentie",
    "service_url": "service",
    "bestand": "bestand",
    "laag": "laag",
}
SIDECARS = {".shp": (".shx", ".dbf", ".prj", ".cpg")}
FETCHED = {
    "opgehaald": "finished",
    "service_url": "url",
    "download_url": "file_url",
    "bron_naam": "source_name",
    "download_sha256": "file_sha256",
    "n_verwacht": "n_matched",
    "n_ontvangen": "n_received",
    "bron_overschreven": "overridden",
    "editie": "edition",
    "licentie": "licence",
    "verplichtingen": "obligations",
    "download_status": "status",
}


def manifest_path(gpkg: Path) -> Path:
    """``manifest.json`` beside ``analyse.gpkg``; ``X.manifest.json`` beside another ``X.gpkg``."""
    return beside(Path(gpkg), "manifest.json")


def _files(path: Path) -> list[Path]:
    """The files that hold a layer: a Shapefile with its sidecars, else the file itself."""
    extra = [path.with_suffix(suffix) for suffix in SIDECARS.get(path.suffix.lower(), ())]
    return [path, *(candidate for candidate in extra if candidate.exists())]


def _sha256(path: Path, hashed: dict[str, str]) -> str:
    """SHA-256 of the file(s) of ``path``, read whole; ``hashed`` holds those of this run, so a
    file that several sources read is read once."""
    parts = _files(path)
    if not all(part.is_file() for part in parts):
        return ""
    key = str(path.resolve())
    if key not in hashed:
        digest = hashlib.sha256()
        for part in parts:
            with open(part, "rb") as handle:
                while block := handle.read(2**20):
                    digest.update(block)
        hashed[key] = digest.hexdigest()
    return hashed[key]


def _fetch_details(path: Path, layer: str | None) -> dict:
    """The manifest columns from the ``novex_downloads`` row of a fetched layer ({} otherwise)."""
    if path.suffix.lower() != ".gpkg" or not path.is_file():
        return {}
    record = download_record(path, layer or path.stem)
    if not record:
        return {}
    details = {column: record.get(field) for column, field in FETCHED.items()}
    details["download_url"] = details["download_url"] or details["service_url"]  # paged services: no file
    return {key: "" if value is None or pd.isna(value) else value for key, value in details.items()}


def _count(path: Path, layer: str | None) -> int | None:
    try:
        return int(pyogrio.read_info(path, layer=layer)["features"])
    except (DataSourceError, DataLayerError):
        return None


def _build(project: Project, reports: list[SourceReport]) -> list[dict]:
    from novex_geo import __version__

    regions, hashed = project.regions, {}
    rows = [
        {
            "rol": "project",
            "bestand": str(project.path),
            "sha256": _sha256(Path(project.path), hashed),
            "novex_geo_versie": __version__,
            "aangemaakt": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        {
            "rol": "regio",
            "bron": "provincies",
            "bestand": str(regions.path),
            "laag": regions.layer or "",
            "sha256": _sha256(Path(regions.path), hashed),
            "n_features": _count(regions.path, regions.layer),
            **_fetch_details(Path(regions.path), regions.layer),
        },
    ]
    for report in reports:
        path = Path(report.path)  # a database's URL is no file: no hash, no fetch details
        rows.append(
            {
                "rol": "sector",
                "sector": report.sector,
                "bron": report.source,
                "bestand": report.path,
                "laag": report.layer or report.sql or "",
                "sha256": _sha256(path, hashed),
                "n_features": report.n_loaded if report.raster else report.n_read,
                "attributie": report.attribution or "",
                **_fetch_details(path, report.layer),
            }
        )
    return [{column: row.get(column, "") for column in COLUMNS} for row in rows]


def _as_table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=COLUMNS)
    for column in INTEGERS:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("Int64")
    return table


def manifest_table(project: Project, layers: Iterable[SectorLayer]) -> pd.DataFrame:
    """The manifest of a run as a table (every file hashed): the project, its regions and the
    sources of ``layers``."""
    return _as_table(manifest_rows(project, layers))


def manifest_rows(project: Project, layers: Iterable[SectorLayer]) -> list[dict]:
    """The rows of the manifest of a run: the project, its regions and the sources of ``layers``,
    every file hashed (a run computes them while it writes its layers)."""
    return _build(project, [report for layer in layers for report in layer.reports])


def write_manifest(
    project: Project,
    layers: Iterable[SectorLayer],
    gpkg: Path,
    into: Path | None = None,
    rows: list[dict] | None = None,
) -> Path:
    """Record the inputs of a run (the project, its regions and the sources of ``layers``, or
    their :func:`manifest_rows` when given) in table ``manifest`` of ``gpkg`` (or of ``into``, the
    GeoPackage being written to replace it) and in the JSON beside ``gpkg``.

    Returns the path of the JSON file (written beside it and renamed: complete or absent).
    """
    rows = rows if rows is not None else manifest_rows(project, layers)
    write_table(_as_table(rows), Path(into or gpkg), MANIFEST_TABLE)
    head, inputs = rows[0], rows[1:]
    document = {
        "novex_geo_versie": head["novex_geo_versie"],
        "aangemaakt": head["aangemaakt"],
        "project": {"bestand": head["bestand"], "sha256": head["sha256"]},
        "invoer": [
            {key: value for key, value in row.items() if key not in ("novex_geo_versie", "aangemaakt")}
            for row in inputs
        ],
    }
    return write_text(
        manifest_path(gpkg), json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    )


def read_manifest(gpkg: Path) -> pd.DataFrame | None:
    """The ``manifest`` table of a run's GeoPackage; ``None`` for a run from before manifests."""
    gpkg = Path(gpkg)
    try:
        if MANIFEST_TABLE not in pyogrio.list_layers(gpkg)[:, 0]:
            return None
    except (DataSourceError, DataLayerError):
        return None
    table = pyogrio.read_dataframe(gpkg, layer=MANIFEST_TABLE, read_geometry=False).astype(object)
    return table.where(table.notna(), "")


def _shown(column: str, value) -> str:
    if column == "sha256":
        return str(value)[:12] or "-"
    if column == "n_features" and value != "":
        return f"{int(value):,}"
    return repr(value) if isinstance(value, str) else str(value)


def _input_change(name: str, before: dict | None, after: dict | None) -> str | None:
    if before is None or after is None:
        row, state = (after, "nieuw") if before is None else (before, "vervallen")
        return f"{state}: {name} ({row['bestand']}, {_shown('n_features', row['n_features'])} features)"
    # the same content elsewhere (last year's project folder copied) is the same input
    moved_only = before["sha256"] != "" and before["sha256"] == after["sha256"]
    changes = [
        f"{label} {_shown(column, before[column])} → {_shown(column, after[column])}"
        for column, label in COMPARED.items()
        if _shown(column, before[column]) != _shown(column, after[column])
        and not (column == "bestand" and moved_only)
    ]
    return f"gewijzigd: {name}: {', '.join(changes)}" if changes else None


def compare_manifests(old_gpkg: Path, new_gpkg: Path) -> list[str]:
    """One line per input that changed between two runs (and for the project file and version)."""
    tables = read_manifest(old_gpkg), read_manifest(new_gpkg)
    missing = [str(path) for path, table in zip((old_gpkg, new_gpkg), tables, strict=True) if table is None]
    if missing:
        return [f"geen manifest in {', '.join(missing)} (een run van vóór het manifest): niet te vergelijken"]
    old, new = (table[table["rol"] == "project"].iloc[0] for table in tables)
    lines = []
    if old["sha256"] != new["sha256"]:
        hashes = f"{_shown('sha256', old['sha256'])} → {_shown('sha256', new['sha256'])}"
        lines.append(f"projectbestand gewijzigd ({hashes})")
    if old["novex_geo_versie"] != new["novex_geo_versie"]:
        lines.append(f"novex-geo {old['novex_geo_versie']} → {new['novex_geo_versie']}")
    inputs = (table[table["rol"] != "project"].to_dict("records") for table in tables)
    before, after = ({(row["rol"], row["sector"], row["bron"]): row for row in rows} for rows in inputs)
    for key in [*before, *(key for key in after if key not in before)]:
        change = _input_change("/".join(part for part in key[1:] if part), before.get(key), after.get(key))
        if change:
            lines.append(change)
    return lines or ["invoer ongewijzigd (zelfde bestanden, inhoud en edities)"]
