"""The whole product on the fictional demo project: what ``novex-geo demo`` runs."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from novex_geo.config import Database, Project, load_project
from novex_geo.config.criteria import CRITERION, JA
from novex_geo.demo import DemoFiles, annotate_hot_spot, hot_spot_id, write_demo_project
from novex_geo.demo.variants import write_demo_variants
from novex_geo.demo.years import AFSPRAKEN, PEILDATUM, YEARS, write_demo_year
from novex_geo.errors import LayerError
from novex_geo.grid import GridResult
from novex_geo.maps.signal import SignalFiles
from novex_geo.pipeline import (
    MonitorRun,
    OverlayRun,
    TriageRun,
    run_grid,
    run_maps,
    run_monitor,
    run_overlay,
    run_signals,
    run_triage,
    run_variants,
)
from novex_geo.pipeline.variants import VariantsRun

__all__ = ["DemoRun", "run_demo"]

log = logging.getLogger(__name__)


@dataclass
class DemoRun:
    """What :func:`run_demo` wrote, and the figures ``novex-geo demo`` prints."""

    files: DemoFiles
    project: Project
    sources_checked: int
    run: OverlayRun
    triage: TriageRun
    hot_spot: str  # the id of the border hot spot, whose urgency the demo fills in
    signals: list[SignalFiles]
    maps: list[Path]
    grid: GridResult
    variants: VariantsRun  # three oplossingsrichtingen for the border hot spot
    monitor: MonitorRun  # the voortgangsmeter over three fictional years
    seconds: float

    def verdicts(self) -> dict[str, int]:
        """How many spanningsgebieden meet criteria 1 and 2a, are provincie-overstijgend
        (2b), have kansen, lie in a NOVEX-gebied."""
        areas = self.triage.areas
        ja = {key: areas[CRITERION[key].verdict] == JA for key in ("c1", "c2a", "c2b")}
        return {
            "c1_en_c2a": int((ja["c1"] & ja["c2a"]).sum()),
            "c2b": int(ja["c2b"].sum()),
            "met_kansen": int((areas["n_kansen"] > 0).sum()),
            "in_novex_gebied": int((areas["n_novex_gebieden"] > 0).sum()),
        }


def run_demo(out: Path) -> DemoRun:
    """Write the fictional demo project into ``out`` and run check, run, triage, signal,
    varianten, map and grid on it, then two later fictional years and the voortgangsmeter, as a
    newcomer would."""
    from novex_geo.pipeline.project import run_check

    started = time.perf_counter()
    files = write_demo_project(out)
    project = load_project(files.project)
    check = run_check(project)
    if not check.ok:
        raise LayerError("demo project failed its own check:\n" + check.to_text())
    run = run_overlay(project)
    first = run_triage(project, run.gpkg)
    # what an account manager does next: write the urgency of the border hot spot down
    assert project.triage.annotations is not None  # the demo project names its annotations file
    hot_spot = annotate_hot_spot(project.triage.annotations, first.areas)
    log.info(
        "%s: urgency and owner of %s filled in, as an account manager would; triage again",
        project.triage.annotations.name,
        hot_spot,
    )
    triage = run_triage(project, run.gpkg)
    top = triage.areas.iloc[0]["id"]
    ids = list(dict.fromkeys([hot_spot, top]))
    signals = run_signals(project, ids=ids, gpkg=run.gpkg, layers=run.layers)
    # oplossingsrichtingen for the hot spot, shown on the kaartsessie maps to switch between
    write_demo_variants(files, hot_spot)
    variants = run_variants(load_project(files.project), hot_spot, gpkg=run.gpkg)
    maps = run_maps(project, gpkg=run.gpkg, png=True, layers=run.layers, variants=variants.gpkg.parent)
    grid = run_grid(project, 25, layers=run.layers)
    monitor = run_years(files, triage)
    seconds = time.perf_counter() - started
    return DemoRun(
        files,
        project,
        len(check.sources),
        run,
        triage,
        hot_spot,
        signals,
        maps,
        grid,
        variants,
        monitor,
        seconds,
    )


def run_years(files: DemoFiles, first: TriageRun) -> MonitorRun:
    """Three yearly runs of the demo: ``first`` (the demo's own run) and two later years with
    changed claims. After each year's triage the tables' afspraken go into the annotations file,
    under the ids of the year they were made in, as people would type them; then the
    voortgangsmeter over the three, into ``jaren/``."""
    from novex_geo.io.annotations import set_annotation

    annotations = first.annotations
    assert annotations is not None  # the demo project names its annotations file
    hot = hot_spot_id(first.areas)  # and the best-ranked other area
    typed_under = [hot, str(first.areas.loc[first.areas["id"] != hot, "id"].iloc[0])]
    runs: list[Path | Database] = [first.gpkg]
    for year in YEARS:
        if year != YEARS[0]:
            project = load_project(write_demo_year(files, year))
            runs.append(run_triage(project, run_overlay(project).gpkg).gpkg)
        for area_id, values in zip(typed_under, AFSPRAKEN.get(year, ({}, {})), strict=True):
            if values:
                set_annotation(annotations, area_id, values)
    return run_monitor(runs, files.folder / "jaren", labels=YEARS, peildatum=PEILDATUM)
