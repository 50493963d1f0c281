"""``novex-geo demo``: the whole product on a fictional demo project, offline."""

from __future__ import annotations

import time
from pathlib import Path

import click

from novex_geo.check import check_project
from novex_geo.cli.options import echo_audit
from novex_geo.config import DEMO_MARK, load_project
from novex_geo.demo import annotate_hot_spot, write_demo_project
from novex_geo.errors import LayerError
from novex_geo.pipeline import run_grid, run_maps, run_overlay, run_signals, run_triage
from novex_geo.triage.criteria import CRITERION
from novex_geo.units import counted


@click.command("demo")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default="demo",
    show_default=True,
    help="Folder for the demo project and its results.",
)
def demo_command(out: Path) -> None:
    """Generate a fictional demo project and run the whole analysis on it.

    Writes three fictional provinces, five sector layers and a bodemdaling GeoTIFF (marked
    "fictieve demodata"), the project file, then runs check, run, triage, signal, map and grid
    into the folder.

    \b
    Example:
      novex-geo demo --out demo
      qgis demo/uitvoer/analyse.gpkg
    """
    started = time.perf_counter()
    files = write_demo_project(out)
    project = load_project(files.project)
    check = check_project(project)
    if not check.ok:
        raise LayerError("demo project failed its own check:\n" + check.to_text())
    click.echo(f"check: {len(check.sources)} sources in {len(project.sectors)} sectors OK")
    run = run_overlay(project)
    result = run.result
    stacked = (result.stapeling["n_sectoren"] >= 2).sum()
    click.echo(
        f"run: {len(result.stapeling)} stapeling faces ({stacked} with 2+ sectors), "
        f"{len(result.schuurpunten)} schuurpunten and {len(result.kansen)} kansen "
        f"in {len(result.regions)} provinces"
    )
    echo_audit(result.controle)
    triage = run_triage(project, run.gpkg)
    # what an account manager does next: write the urgency of the border hot spot down
    hot_spot = annotate_hot_spot(project.triage.annotations, triage.areas)
    triage = run_triage(project, run.gpkg)
    areas = triage.areas
    verdict = {key: areas[CRITERION[key].verdict] == "ja" for key in ("c1", "c2a", "c2b")}
    click.echo(
        f"triage: {len(areas)} spanningsgebieden, {(verdict['c1'] & verdict['c2a']).sum()} meet criteria "
        f"1 and 2a, {verdict['c2b'].sum()} provincie-overstijgend, {(areas['n_kansen'] > 0).sum()} with "
        f"kansen, {(areas['n_novex_gebieden'] > 0).sum()} in a NOVEX-gebied; urgency filled in for {hot_spot}"
    )
    top = areas.iloc[0]["id"]
    signals = run_signals(project, ids=list(dict.fromkeys([hot_spot, top])), gpkg=run.gpkg, layers=run.layers)
    click.echo(f"signal: {counted(len(signals), '1-pager')} (PDF, HTML, PNG) in {signals[0].pdf.parent}")
    maps = run_maps(project, gpkg=run.gpkg, png=True, layers=run.layers)
    click.echo(f"map: {len([m for m in maps if m.suffix == '.html'])} kaartsessie maps in {maps[0].parent}")
    grid = run_grid(project, 25, layers=run.layers)
    click.echo(f"grid: {grid.spec.width} x {grid.spec.height} cells of 25 m → {grid.count_path.name}")
    click.echo(f"\nDemo ({DEMO_MARK}) written to {out}/ in {time.perf_counter() - started:.1f} s:")
    click.echo(f"  {files.project}  the project file (start here to see how a project is described)")
    click.echo(
        f"  {run.gpkg}  open in QGIS: layers stapeling, schuurpunten, kansen, herkomst, samenvatting, …"
    )
    click.echo(f"  {triage.report}  the ranked, explained triage (read this first)")
    click.echo(f"  {signals[0].pdf}  the signal 1-pager of the border hot spot")
    html_map = next(path for path in maps if path.suffix == ".html")
    click.echo(f"  {html_map}  an interactive kaartsessie map (open in a browser, works offline)")
    click.echo(f"  {run.csv}  the summary per provincie")
    click.echo(
        f"  {project.triage.annotations}  criteria 4-5, urgency and owner per spanningsgebied (yours to fill)"
    )
    click.echo(f"  {grid.count_path}  n_sectoren heat map (COG) at 25 m")
