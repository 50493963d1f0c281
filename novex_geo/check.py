"""Validate a project before any overlay runs: what will be analysed, and what is wrong."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from novex_geo.config import Project, SectorPair
from novex_geo.errors import LayerError
from novex_geo.executor import worker_count
from novex_geo.io.layers import SourceReport, read_source
from novex_geo.io.raster import RASTER_CELLS
from novex_geo.io.regions import NAMING, OVERLAPPING, load_regions, select_regions
from novex_geo.io.run import ANALYSIS_GPKG, read_controle

__all__ = ["CheckResult", "SourceCheck", "check_project"]


@dataclass
class SourceCheck:
    """The load report of one source, plus how many features fall outside every region."""

    report: SourceReport
    n_outside_regions: int = 0
    error: str | None = None


@dataclass
class CheckResult:
    """Outcome of :func:`check_project`."""

    project: str
    crs: str
    regions: list[str] = field(default_factory=list)
    sources: list[SourceCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    last_audit: str | None = None
    pairs: list[str] = field(default_factory=list)  # the conflict matrix and the kansen, one line each

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "crs": self.crs,
            "ok": self.ok,
            "regions": self.regions,
            "sources": [
                {
                    **asdict(item.report),
                    "n_outside_regions": item.n_outside_regions,
                    "error": item.error,
                }
                for item in self.sources
            ],
            "problems": self.problems,
            "warnings": self.warnings,
            "last_audit": self.last_audit,
            "pairs": self.pairs,
        }

    def to_text(self) -> str:
        lines = [f"Project {self.project} — analysis CRS {self.crs}"]
        lines.append(f"Regions: {len(self.regions)} ({', '.join(self.regions)})")
        sector = None
        for item in self.sources:
            report = item.report
            if report.sector != sector:
                sector = report.sector
                lines.append(f"\n[{sector}]")
            lines.append(f"  {report.source}  ({report.path}{':' + report.layer if report.layer else ''})")
            if item.error:
                lines.append(f"    ERROR {item.error}")
                continue
            if set(report.geometry_types) == {RASTER_CELLS}:
                read = f"{report.n_read:,} raster cells read"
            else:
                types = ", ".join(f"{n:,} {t}" for t, n in sorted(report.geometry_types.items())) or "-"
                read = f"{report.n_read:,} features read ({types})"
            lines.append(f"    {read}; {report.n_loaded:,} claims loaded")
            lines.append(f"    CRS {report.source_crs} → {report.target_crs}")
            if report.attribution:
                lines.append(f"    attribution: {report.attribution}")
            lines.extend(f"    {change}" for change in report.changes)
            if item.n_outside_regions:
                lines.append(f"    {item.n_outside_regions} features outside all regions")
            if report.bounds:
                xmin, ymin, xmax, ymax = report.bounds
                lines.append(f"    extent {xmin:.0f}, {ymin:.0f} – {xmax:.0f}, {ymax:.0f}")
            lines.extend(f"    warning: {warning}" for warning in report.warnings)
        if self.pairs:
            lines.append("")
            lines.extend(self.pairs)
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
        if self.last_audit:
            lines.append(f"last run: {self.last_audit}")
        if self.problems:
            lines.append(f"\n{len(self.problems)} problem(s):")
            lines.extend(f"  - {problem}" for problem in self.problems)
        else:
            lines.append("\nOK: the project can be analysed.")
        return "\n".join(lines)


def count_outside(regions: np.ndarray, geoms: np.ndarray) -> int:
    """How many of ``geoms`` meet no region.

    Most claims have a vertex inside a region, which a point-in-polygon test settles quickly;
    only the others are tested exactly, against the regions their bounding box meets.
    """
    coordinates, owner = shapely.get_coordinates(geoms, return_index=True)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    first = np.flatnonzero(np.diff(owner, prepend=-1))  # owners come in order: a new one starts here
    x[owner[first]], y[owner[first]] = coordinates[first, 0], coordinates[first, 1]
    inside = np.zeros(len(geoms), dtype=bool)
    for region in regions:
        shapely.prepare(region)
        todo = np.flatnonzero(~inside & ~np.isnan(x))
        inside[todo] |= shapely.contains_xy(region, x[todo], y[todo])
    rest = np.flatnonzero(~inside)
    if rest.size:
        geom_i, region_j = shapely.STRtree(regions).query(geoms[rest])
        hit = shapely.intersects(regions[region_j], geoms[rest][geom_i])
        inside[rest[np.unique(geom_i[hit])]] = True
    return int((~inside).sum())


def _read_checked(source, sector: str, crs: str):
    """A source loaded, or the error that says why it cannot be."""
    try:
        return read_source(source, sector, crs)
    except LayerError as exc:
        return exc


def check_project(project: Project) -> CheckResult:
    """Load every source and the regions and report what would be analysed.

    Unlike :func:`~novex_geo.io.layers.load_sectors`, this collects every problem instead of
    stopping at the first, so one ``novex-geo check`` lists all that needs fixing. Sources are
    read side by side in threads (reading and GEOS release the interpreter lock).
    """
    result = CheckResult(project=project.name, crs=project.crs)
    jobs = [(sector.key, source) for sector in project.sectors.values() for source in sector.sources]
    with ThreadPoolExecutor(max_workers=worker_count(0, len(jobs) + 1)) as pool:
        regions_job = pool.submit(load_regions, project.regions, project.crs)
        loaded = [pool.submit(_read_checked, source, key, project.crs) for key, source in jobs]
        region_geoms = None
        try:
            regions = regions_job.result()
            result.regions = list(regions["provincie"])
            result.warnings += regions.attrs.get("notes", [])
            region_geoms = np.asarray(regions.geometry.values, dtype=object)
        except LayerError as exc:
            result.problems.append(f"regions: {exc}")
        if region_geoms is not None:
            try:
                select_regions(regions, project.provincies)
            except LayerError as exc:
                result.problems.append(f"project.provincies: {exc}")
        _check_triage_layers(project, result)
        claims = {key: 0 for key, _ in jobs}
        away = dict.fromkeys(claims, 0)
        for (key, source), job in zip(jobs, loaded, strict=True):
            outcome = job.result()
            if isinstance(outcome, LayerError):
                report = SourceReport(key, source.name, str(source.path), source.layer)
                result.sources.append(SourceCheck(report, error=str(outcome)))
                result.problems.append(f"{key}: {outcome}")
                claims[key] = -1
                continue
            frame, report = outcome
            outside = 0
            if region_geoms is not None and len(frame):
                outside = count_outside(region_geoms, np.asarray(frame.geometry.values, dtype=object))
            result.sources.append(SourceCheck(report, n_outside_regions=outside))
            claims[key] += report.n_loaded if claims[key] >= 0 else 0
            away[key] += outside
            result.warnings += [f"{key} {source.name}: {warning}" for warning in report.warnings]
    result.problems += [f"{key}: every layer of this sector is empty" for key, n in claims.items() if n == 0]
    result.warnings += [
        f"{key}: none of its {n} features lies in the regions; its pairs find nothing"
        for key, n in claims.items()
        if n > 0 and away[key] == n
    ]
    result.problems += _missing_files_and_folders(project)
    result.last_audit = _last_audit(project.output_dir / ANALYSIS_GPKG)
    result.pairs = _pair_lines(project)
    return result


def _missing_files_and_folders(project: Project) -> list[str]:
    """The variants' files that are not there, and an output folder that cannot be one (a file
    in its path): found now rather than after a run's work."""
    problems = [
        f"varianten '{variant.name}': file not found: {path}"
        for variant in project.varianten
        for path in variant.files
        if not path.is_file()
    ]
    blocking = next((p for p in (project.output_dir, *project.output_dir.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        problems.append(f"output: {project.output_dir} cannot be a folder: {blocking} is a file")
    return problems


def _check_triage_layers(project: Project, result: CheckResult) -> None:
    """The layers triage reads besides the run: gemeenten and NOVEX-gebieden (which only name
    places, so their overlaps are reported, not refused) and the priority layers."""
    settings = project.triage
    named = [
        ("triage.gemeenten", settings.gemeenten, NAMING),
        ("triage.novex_gebieden", settings.novex_gebieden, OVERLAPPING),
    ]
    for key, regions, kind in named:
        if regions is None:
            continue
        try:
            result.warnings += load_regions(regions, project.crs, kind).attrs.get("notes", [])
        except LayerError as exc:
            result.problems.append(f"{key}: {exc}")
    for number, source in enumerate(settings.priority):
        outcome = _read_checked(source, "prioriteit", project.crs)
        if isinstance(outcome, LayerError):
            result.problems.append(f"triage.priority[{number}]: {outcome}")
        else:  # an empty priority layer makes criterion 3 'nee' everywhere: worth saying
            result.warnings += [f"triage.priority[{number}]: {warning}" for warning in outcome[1].warnings]


def _pair(pair: SectorPair) -> str:
    distance = f"within {pair.distance:g} m" if pair.distance else "overlap"
    return f"{pair.a} × {pair.b} ({distance}, weight {pair.weight:g})"


def _pair_lines(project: Project) -> list[str]:
    """The conflict matrix and the kansen, and the pairs that are both (``also_conflict``)."""
    lines = [f"conflict: {_pair(pair)}" for pair in project.conflicts]
    lines += [f"kans: {_pair(pair)}: {pair.toelichting}" for pair in project.kansen]
    lines += [
        f"both a conflict and a kans (also_conflict = true): {pair.a} × {pair.b}"
        for pair in project.kansen
        if pair.also_conflict
    ]
    return lines


def _last_audit(gpkg: Path) -> str | None:
    """The self-audit of the last run in the project's output folder, in one line."""
    from novex_geo.overlay.audit import describe

    controle = read_controle(gpkg)
    return None if controle is None else f"{gpkg.name} {describe(controle)}"
