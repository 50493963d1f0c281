"""Validate a project before any overlay runs: what will be analysed, and what is wrong."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from novex_geo.config import Project
from novex_geo.errors import LayerError
from novex_geo.io.layers import SourceReport, read_source
from novex_geo.io.regions import load_regions
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
            types = ", ".join(f"{n} {t}" for t, n in sorted(report.geometry_types.items())) or "-"
            lines.append(f"    {report.n_read} features read ({types}); {report.n_loaded} claims loaded")
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


def check_project(project: Project) -> CheckResult:
    """Load every source and the regions and report what would be analysed.

    Unlike :func:`~novex_geo.io.layers.load_sectors`, this collects every problem instead of
    stopping at the first, so one ``novex-geo check`` lists all that needs fixing.
    """
    result = CheckResult(project=project.name, crs=project.crs)
    region_tree = None
    try:
        regions = load_regions(project.regions, project.crs)
        result.regions = list(regions["provincie"])
        region_tree = shapely.STRtree(regions.geometry.values)
    except LayerError as exc:
        result.problems.append(f"regions: {exc}")
    for sector in project.sectors.values():
        loaded = 0
        for source in sector.sources:
            try:
                frame, report = read_source(source, sector.key, project.crs)
            except LayerError as exc:
                report = SourceReport(sector.key, source.name, str(source.path), source.layer)
                result.sources.append(SourceCheck(report, error=str(exc)))
                result.problems.append(f"{sector.key}: {exc}")
                continue
            outside = 0
            if region_tree is not None and len(frame):
                hits = region_tree.query(frame.geometry.values, predicate="intersects")[0]
                outside = int(len(frame) - np.unique(hits).size)
            result.sources.append(SourceCheck(report, n_outside_regions=outside))
            loaded += report.n_loaded
            for warning in report.warnings:
                result.warnings.append(f"{sector.key} {source.name}: {warning}")
        if loaded == 0 and not any(item.error for item in result.sources if item.report.sector == sector.key):
            result.problems.append(f"{sector.key}: every layer of this sector is empty")
    result.last_audit = _last_audit(project.output_dir / ANALYSIS_GPKG)
    return result


def _last_audit(gpkg: Path) -> str | None:
    """The self-audit of the last run in the project's output folder, in one line."""
    from novex_geo.overlay.audit import describe

    controle = read_controle(gpkg)
    return None if controle is None else f"{gpkg.name} {describe(controle)}"
