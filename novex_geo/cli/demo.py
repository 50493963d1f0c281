"""``novex-geo demo``: the whole product on a fictional demo project, offline."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.cli.options import echo_audit
from novex_geo.config import DEMO_MARK
from novex_geo.pipeline.demo import run_demo
from novex_geo.units import counted, hectares


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
    "fictieve demodata"), the project file, then runs check, run, triage, signal, varianten, map
    and grid into the folder, and the voortgangsmeter over three fictional yearly runs (jaren/).

    \b
    Example:
      novex-geo demo --out demo
      qgis demo/uitvoer/analyse.gpkg
    """
    demo = run_demo(out)
    project, result, areas = demo.project, demo.run.result, demo.triage.areas
    click.echo(f"check: {demo.sources_checked} sources in {len(project.sectors)} sectors OK")
    stacked = (result.stapeling["n_sectoren"] >= 2).sum()
    click.echo(
        f"run: {len(result.stapeling)} stapeling faces ({stacked} with 2+ sectors), "
        f"{len(result.schuurpunten)} schuurpunten and {len(result.kansen)} kansen "
        f"in {len(result.regions)} provinces"
    )
    echo_audit(result.controle)
    found = demo.verdicts()
    click.echo(
        f"triage: {len(areas)} spanningsgebieden, {found['c1_en_c2a']} meet criteria 1 and 2a, "
        f"{found['c2b']} provincie-overstijgend, {found['met_kansen']} with kansen, "
        f"{found['in_novex_gebied']} in a NOVEX-gebied; urgency filled in for {demo.hot_spot}"
    )
    signals, maps, grid = demo.signals, demo.maps, demo.grid
    click.echo(f"signal: {counted(len(signals), '1-pager')} (PDF, HTML, PNG) in {signals[0].pdf.parent}")
    click.echo(f"map: {len([m for m in maps if m.suffix == '.html'])} kaartsessie maps in {maps[0].parent}")
    click.echo(f"grid: {grid.spec.width} x {grid.spec.height} cells of 25 m → {grid.count_path.name}")
    table = demo.variants.table
    click.echo(
        f"varianten: {len(table) - 1} oplossingsrichtingen for {demo.hot_spot}, conflict "
        + ", ".join(f"{row.variant} {hectares(row.conflict_ha)}" for row in table.itertuples())
    )
    progress = demo.monitor.result
    click.echo(
        f"monitor: {counted(len(progress.sporen), 'spanningsgebied', 'spanningsgebieden')} followed over "
        f"{len(progress.cycles)} fictional years, {counted(len(progress.overdue), 'afspraak', 'afspraken')} "
        f"past their deadline, {len(progress.grew_although_done)} grew although an afspraak is afgerond"
    )
    _echo_files(demo, out)


def _echo_files(demo, out: Path) -> None:
    """Where the newcomer looks first, in the order to look."""
    project, signals, maps, grid = demo.project, demo.signals, demo.maps, demo.grid
    click.echo(f"\nDemo ({DEMO_MARK}) written to {out}/ in {demo.seconds:.1f} s:")
    click.echo(f"  {demo.files.project}  the project file (start here to see how a project is described)")
    click.echo(
        f"  {demo.run.gpkg}  open in QGIS: layers stapeling, schuurpunten, kansen, herkomst, samenvatting, …"
    )
    click.echo(f"  {demo.triage.report}  the ranked, explained triage (read this first)")
    click.echo(f"  {signals[0].pdf}  the signal 1-pager of the border hot spot")
    html_map = next(path for path in maps if path.suffix == ".html")
    click.echo(f"  {html_map}  an interactive kaartsessie map (open in a browser, works offline)")
    click.echo(f"  {demo.run.csv}  the summary per provincie")
    click.echo(
        f"  {project.triage.annotations}  criteria 4-5, urgency, owner and afspraken per spanningsgebied "
        "(yours to fill)"
    )
    click.echo(f"  {grid.count_path}  n_sectoren heat map (COG) at 25 m")
    click.echo(f"  {demo.variants.markdown}  three oplossingsrichtingen for the border hot spot, compared")
    click.echo(f"  {demo.variants.pdf}  the snelle-tafel 2-pager: probleemdefinitie and richtingen")
    click.echo(f"  {demo.monitor.markdown}  the voortgangsmeter over three fictional years")
