"""Maps, signals, sketches and the comparison of two runs: the products made from a run."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from novex_geo.config import Database, Project
from novex_geo.errors import LayerError, UsageError
from novex_geo.io.files import ensure_folder, output_lock, write_text
from novex_geo.io.layers import SectorLayer, load_sectors, read_vector
from novex_geo.io.outputs import write_csv
from novex_geo.io.regions import regions_credit, select_regions
from novex_geo.io.run import (
    AFSPRAKEN,
    ANALYSIS_GPKG,
    CHANGES_GPKG,
    CHANGES_MD,
    HERKOMST,
    KANSEN,
    MAPS_FOLDER,
    PROGRESS_CHARTS,
    PROGRESS_CSV,
    PROGRESS_GPKG,
    PROGRESS_MD,
    PROVINCIES,
    SCHUURPUNTEN,
    SIGNALS_FOLDER,
    SPANNINGSGEBIEDEN,
    STAPELING,
    location_of,
    read_run,
    run_date,
    run_location,
    write_comparison,
)
from novex_geo.pipeline.analysis import (
    check_within_regions,
    load_claims,
    load_gemeenten,
    load_priority,
    load_regions_logged,
)
from novex_geo.units import counted

if TYPE_CHECKING:  # triage, grid, sketch and the renderers are imported when a command needs them
    from novex_geo.maps.signal import SignalFiles
    from novex_geo.sketch import SketchResult
    from novex_geo.triage.diff import DiffResult
    from novex_geo.triage.monitor import Voortgang

__all__ = ["MonitorRun", "SketchRun", "run_diff", "run_maps", "run_monitor", "run_signals", "run_sketch"]


def run_maps(
    project: Project,
    provincies: Sequence[str] = (),
    out: Path | None = None,
    png: bool = False,
    gpkg: Path | str | Database | None = None,
    layers: dict[str, SectorLayer] | None = None,
    poster: str | None = None,
    assets: str = "inline",
    variants: Path | None = None,
) -> list[Path]:
    """Kaartsessie maps from a run's GeoPackage into ``out`` (default ``<output>/kaarten``);
    with ``poster`` (``"A3"``/``"A0"``) a print poster per provincie too; with ``variants`` (a
    folder ``novex-geo varianten`` wrote) its situations as layers to switch between."""
    from novex_geo.io.variants import read_variants
    from novex_geo.maps.web import write_maps

    situations = read_variants(variants) if variants is not None else None

    run = read_run(
        run_location(project, gpkg),
        required=(PROVINCIES.name, STAPELING.name, SCHUURPUNTEN.name, KANSEN.name),
        optional=(SPANNINGSGEBIEDEN.name,),
    )
    names = list(provincies or project.provincies) or None
    if names:
        select_regions(run.provincies, names)  # an unknown provincie stops before the loading
    layers = layers if layers is not None else load_claims(project)
    out = Path(out) if out else project.output_dir / MAPS_FOLDER
    with output_lock(out):
        credit, date = regions_credit(project.regions), run_date(run.path)
        return write_maps(
            project,
            run,
            layers,
            out,
            names,
            png=png,
            poster=poster,
            assets=assets,
            regions_credit=credit,
            date=date,
            situations=situations,
        )


def run_signals(
    project: Project,
    ids: list[str] | None = None,
    top: int | None = None,
    out: Path | None = None,
    gpkg: Path | str | Database | None = None,
    layers: dict[str, SectorLayer] | None = None,
) -> list[SignalFiles]:
    """Signal 1-pagers for ``ids`` or the ``top`` best-ranked spanningsgebieden (default
    ``<output>/signalen``)."""
    from novex_geo.maps.signal import write_signals

    run = read_run(
        run_location(project, gpkg),
        required=(SPANNINGSGEBIEDEN.name, SCHUURPUNTEN.name, KANSEN.name, HERKOMST.name),
    )
    layers = layers if layers is not None else load_claims(project)
    regions = load_regions_logged(project.regions, project.crs)
    gemeenten = load_gemeenten(project)
    out = Path(out) if out else project.output_dir / SIGNALS_FOLDER
    with output_lock(out):
        credit, date = regions_credit(project.regions), run_date(run.path)
        return write_signals(project, run, layers, regions, gemeenten, out, ids, top, credit, date)


@dataclass
class SketchRun:
    """What :func:`run_sketch` evaluated and wrote."""

    result: SketchResult
    report: Path
    picture: Path


def run_sketch(
    project: Project, sketch_file: Path, sector: str | None = None, out: Path | None = None
) -> SketchRun:
    """Evaluate a sketch against the claims around it (read with bbox reads); write
    ``<sketch>_beoordeling.md`` and ``.png`` (default beside the sketch)."""
    from novex_geo.maps.sketch import draw_sketch_map
    from novex_geo.sketch import (
        REMOVE,
        evaluate_sketch,
        sketch_actions,
        sketch_frame,
        sketch_report,
        surroundings,
    )

    sketch_file = Path(sketch_file)
    if not sketch_file.exists():
        raise LayerError("sketch file not found", sketch_file)
    drawn = read_vector(sketch_file)
    if (sketch_actions(drawn, sketch_file) == REMOVE).any():
        raise LayerError(
            "the sketch cuts claims away (actie = verwijderen): that is a variant; compare it with "
            f"'novex-geo varianten {project.path.name} ID {sketch_file.name}'",
            sketch_file,
            field="actie",
        )
    sketch = sketch_frame(drawn, project, sector, sketch_file)
    regions = load_regions_logged(project.regions, project.crs)
    check_within_regions(sketch.geometry.values, regions, sketch_file, "the sketch")
    area = surroundings(project, sketch)
    layers = load_sectors(project, area)
    priority = load_priority(project, area)
    result = evaluate_sketch(project, sketch, regions, layers, priority, load_gemeenten(project))
    folder = ensure_folder(Path(out) if out else sketch_file.parent)
    text = sketch_report(result, sketch_file, project.labels)
    report = write_text(folder / f"{sketch_file.stem}_beoordeling.md", text)
    caused = counted(len(result.new_schuurpunten), "nieuw schuurpunt", "nieuwe schuurpunten")
    title = f"{sketch_file.name}: {caused}"
    picture_path = folder / f"{sketch_file.stem}_beoordeling.png"
    picture = draw_sketch_map(project, result, regions, title, picture_path, regions_credit(project.regions))
    return SketchRun(result, report, picture)


def run_diff(old: Path, new: Path, out: Path | None = None, tolerance: float = 5.0) -> DiffResult:
    """Changes in spanningsgebieden and kansen between two runs, and in their inputs: writes
    ``wijzigingen.md`` and ``wijzigingen.gpkg`` (default: beside ``new``)."""
    from novex_geo.io.manifest import compare_manifests
    from novex_geo.triage.diff import DiffResult, changes_report, compare_areas, compare_kansen

    old, new = Path(old), Path(new)
    runs = [
        read_run(path, required=(SPANNINGSGEBIEDEN.name,), optional=(KANSEN.name,)) for path in (old, new)
    ]
    table = compare_areas(runs[0].spanningsgebieden, runs[1].spanningsgebieden, tolerance)
    both = runs[0].kansen is not None and runs[1].kansen is not None
    kansen = compare_kansen(runs[0].kansen, runs[1].kansen) if both else None
    folder = ensure_folder(Path(out) if out else new.parent)
    result = DiffResult(
        table, folder / CHANGES_MD, folder / CHANGES_GPKG, compare_manifests(old, new), kansen
    )
    changed = {"wijzigingen": table, **({} if kansen is None else {KANSEN.name: kansen})}
    write_comparison(result.gpkg, changed, f"Wijzigingen {old.name} → {new.name}")
    write_text(result.markdown, changes_report(result, str(old), str(new), tolerance))
    return result


@dataclass
class MonitorRun:
    """What :func:`run_monitor` found and wrote."""

    result: Voortgang
    markdown: Path
    csv: Path
    gpkg: Path
    charts: list[Path]


def _cycle_label(location: Path | Database) -> str:
    """A run's name in the voortgangsmeter: its schema, its GeoPackage's name, or for the
    default ``analyse.gpkg`` its folder's name (``2026/analyse.gpkg`` is ``2026``)."""
    if isinstance(location, Database):
        return str(location.schema)
    return location.parent.name if location.name == ANALYSIS_GPKG else location.stem


def run_monitor(
    runs: Sequence[str | Path | Database],
    out: Path | None = None,
    labels: Sequence[str] = (),
    annotations: Path | None = None,
    peildatum: date | None = None,
    charts: int = 10,
) -> MonitorRun:
    """The voortgangsmeter over ``runs`` (GeoPackages or PostGIS schemas, oldest first, each
    triaged): ``voortgang.md``, ``voortgang.csv``, ``voortgang.gpkg`` and a chart per
    spanningsgebied with afspraken or among the ``charts`` best ranked, into ``out`` (default:
    beside the last run). A run triaged before afspraken were kept takes those of
    ``annotations``; deadlines are checked against ``peildatum`` (default today)."""
    from novex_geo.io.annotations import AFSPRAKEN_TABLE, read_afspraken
    from novex_geo.triage.monitor import Cycle, follow_areas, voortgang_report

    locations = [location_of(run) for run in runs]
    labels = list(labels) or [_cycle_label(location) for location in locations]
    if len(locations) < 2 or len(labels) != len(locations) or len(set(labels)) < len(labels):
        raise UsageError(
            f"monitor needs two or more runs, oldest first, each with its own name; got runs "
            f"{', '.join(map(str, locations))} named {', '.join(labels)} (give --label per run)"
        )
    last = locations[-1]
    if out is None and isinstance(last, Database):
        raise UsageError("the last run is a PostGIS schema: give --out, the folder for voortgang.md")
    current = read_afspraken(annotations)
    cycles = []
    for location, label in zip(locations, labels, strict=True):
        run = read_run(location, required=(SPANNINGSGEBIEDEN.name,), optional=(AFSPRAKEN.name,))
        kept = run.afspraken if run.afspraken is not None else current
        kept = kept.reindex(columns=AFSPRAKEN_TABLE).fillna("").astype(str)
        cycles.append(Cycle(label, run.spanningsgebieden, kept))
    result = follow_areas(cycles, peildatum or date.today())
    folder = ensure_folder(Path(out) if out else Path(str(last)).parent)
    with output_lock(folder):
        drawn = _progress_charts(result, folder, charts)
        relative = {spoor: path.relative_to(folder).as_posix() for spoor, path in drawn.items()}
        markdown = write_text(folder / PROGRESS_MD, voortgang_report(result, relative))
        csv = write_csv(result.table, folder / PROGRESS_CSV)
        gpkg = folder / PROGRESS_GPKG
        write_comparison(gpkg, {"voortgang": result.sporen}, f"Voortgang {' → '.join(labels)}")
    return MonitorRun(result, markdown, csv, gpkg, list(drawn.values()))


def _progress_charts(result: Voortgang, folder: Path, best: int) -> dict[str, Path]:
    """A chart per active spoor with afspraken or among the ``best`` ranked."""
    from novex_geo.maps.voortgang import draw_voortgang_chart

    sporen = result.sporen[result.sporen["status"] == "actief"]
    chosen = sporen[(sporen["n_afspraken"] > 0) | (sporen["rang"] <= best)]
    charts = ensure_folder(folder / PROGRESS_CHARTS)
    drawn = {}
    for spoor in chosen.itertuples():
        history = result.table[result.table["spoor"] == spoor.spoor]
        name = re.sub(r"[^A-Za-z0-9_-]", "_", spoor.spoor)
        drawn[spoor.spoor] = draw_voortgang_chart(history, spoor.naam, charts / f"{name}.png")
    return drawn
