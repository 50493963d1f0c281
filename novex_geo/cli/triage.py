"""``novex-geo triage``, ``diff`` and ``monitor``: the explained NOVEX agenda, the changes
between two runs and the voortgangsmeter over the yearly cycle."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.cli.options import Finite, out_opt, project_arg
from novex_geo.cli.overlay import run_out_opt
from novex_geo.config import load_project
from novex_geo.pipeline import run_diff, run_monitor, run_triage
from novex_geo.units import counted, hectares


@click.command("triage")
@project_arg
@click.option(
    "--gpkg",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Analysis GeoPackage to read. Default: <output>/analyse.gpkg (run first if missing).",
)
@run_out_opt(
    "The run to triage and write into: a GeoPackage (as --gpkg) or a PostGIS schema "
    "(postgresql://user@host/db?schema=NAME; triage.md and the CSV go to <output>)."
)
def triage_command(project_file, gpkg, out):
    """Merge schuurpunten into spanningsgebieden and check them against the NOVEX criteria.

    Writes layer spanningsgebieden, spanningsgebieden.csv and triage.md (ranked, with a reason
    per criterion), and adds new ids to the annotations file (criteria 4 and 5, urgency,
    owner) without overwriting what is filled in.

    \b
    Examples:
      novex-geo run novex.toml && novex-geo triage novex.toml
      novex-geo triage novex.toml --out "postgresql://gis@db.example.nl/novex?schema=novex_2026"
    """
    if gpkg and out:
        raise click.UsageError("give --gpkg or --out, not both")
    run = run_triage(load_project(project_file), out or gpkg)
    areas = run.areas
    click.echo(
        f"{counted(len(areas), 'spanningsgebied', 'spanningsgebieden')}" + ("; top 5:" if len(areas) else "")
    )
    for row in areas.head(5).itertuples():
        click.echo(
            f"  {row.rang}. {row.naam} ({row.id}, {hectares(row.oppervlakte_ha)}, score {row.score:.1f})"
        )
    click.echo(f"wrote {run.report}, {run.csv} and layer spanningsgebieden in {run.gpkg}")
    if run.annotations:
        click.echo(f"annotations: {run.annotations} ({run.annotations_added} new ids added)")


@click.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@out_opt(None, "Folder for wijzigingen.md and wijzigingen.gpkg. Default: beside NEW.")
@click.option(
    "--tolerance",
    type=Finite(min=0),
    default=5.0,
    show_default=True,
    help="Area change (%) below which an area is unchanged.",
)
def diff_command(old, new, out, tolerance):
    """Compare the spanningsgebieden of two runs: new, resolved, grown, shrunk, verdicts changed.

    \b
    Example:
      novex-geo diff uitvoer/analyse.gpkg jaren/2026/analyse.gpkg
    """
    result = run_diff(old, new, out, tolerance)
    click.echo(result.summary_line)
    for line in result.inputs:
        click.echo(f"invoer: {line}")
    click.echo(f"wrote {result.markdown} and {result.gpkg}")


@click.command("monitor")
@click.argument("runs", nargs=-1, required=True)
@out_opt(None, "Folder for voortgang.md, .csv, .gpkg and the charts. Default: beside the last run.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    help="Name of each run in the order given (default: its folder, file or schema name).",
)
@click.option(
    "--annotations",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Annotations file whose afspraken count for runs triaged before runs kept them.",
)
@click.option(
    "--peildatum",
    type=click.DateTime(formats=["%Y-%m-%d", "%d-%m-%Y"]),
    help="Date against which deadlines are checked. Default: today.",
)
@click.option(
    "--charts", default=10, show_default=True, help="Charts: the N best-ranked areas, all with afspraken."
)
def monitor_command(runs, out, labels, annotations, peildatum, charts):
    """Follow spanningsgebieden and their afspraken over yearly runs (oldest first): the voortgangsmeter.

    Links the areas of each run to the next (new, continued, merged, split, resolved), with per
    cycle conflict ha, rank, criteria and the afspraken (BOB phase, status, deadline) that each
    run's triage kept; lists afspraken past their deadline and conflicts that grew although an
    afspraak is afgerond.

    \b
    Examples:
      novex-geo monitor uitvoer/analyse.gpkg jaren/2026/analyse.gpkg jaren/2027/analyse.gpkg --out voortgang
      novex-geo monitor "postgresql://gis@db/ra?schema=ra_2026" "postgresql://gis@db/ra?schema=ra_2027" \\
        --out voortgang
    """
    done = run_monitor(runs, out, labels, annotations, peildatum and peildatum.date(), charts)
    sporen = done.result.sporen
    active = int((sporen["status"] == "actief").sum())
    click.echo(
        f"{counted(len(sporen), 'spanningsgebied', 'spanningsgebieden')} followed over "
        f"{len(done.result.cycles)} runs: {active} active, {len(sporen) - active} resolved; "
        f"{counted(len(done.result.overdue), 'afspraak', 'afspraken')} past their deadline; "
        f"{len(done.result.grew_although_done)} grew although an afspraak is afgerond"
    )
    click.echo(f"wrote {done.markdown}, {done.csv}, {done.gpkg} and {len(done.charts)} charts")
