"""``novex-geo overlay`` and ``novex-geo run``: stapeling, schuurpunten and kansen per provincie."""

from __future__ import annotations

import click

from novex_geo.cli.options import echo_audit, echo_summary, project_arg, provincie_opt, scheduler_opt
from novex_geo.config import load_project
from novex_geo.errors import DatabaseError
from novex_geo.pipeline import OverlayRun, run_overlay


class RunLocation(click.ParamType):
    """A GeoPackage path or a PostGIS schema URL (``postgresql://user@host/db?schema=NAME``)."""

    name = "FILE.gpkg|postgresql://…?schema=NAME"

    def convert(self, value, param, ctx):
        from novex_geo.pipeline.analysis import location_of

        try:
            return location_of(value)
        except DatabaseError as exc:
            self.fail(str(exc), param, ctx)


def run_out_opt(help: str):
    """``--out``: where a run is written (and, for triage, read): a GeoPackage or a PostGIS schema."""
    return click.option(
        "--out", "-o", type=RunLocation(), metavar="FILE.gpkg|postgresql://…?schema=NAME", help=help
    )


min_sectoren_opt = click.option(
    "--min-sectoren",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Write only stapeling faces claimed by at least N sectors.",
)


def _report(run: OverlayRun) -> None:
    result = run.result
    kansen = f", {len(result.kansen)} kansen" if result.kans_pairs else ""
    click.echo(
        f"{len(result.stapeling)} stapeling faces, {len(result.schuurpunten)} schuurpunten{kansen} "
        f"in {result.n_tasks} tasks ({result.seconds:.1f} s)"
    )
    for retry in result.precision_retries:
        click.echo(f"precision retry: {retry}")
    echo_audit(result.controle)
    echo_summary(run.summary, "n_schuurpunten", *(["n_kansen"] if result.kans_pairs else []))
    if run.gpkg:
        click.echo(f"wrote {run.gpkg} and {run.csv}" if run.csv else f"wrote {run.gpkg}")


@click.command("overlay")
@project_arg
@provincie_opt
@min_sectoren_opt
@scheduler_opt
@run_out_opt(
    "GeoPackage, or PostGIS schema (postgresql://user@host/db?schema=NAME, replaced in one "
    "transaction), to write. Default: <output>/analyse.gpkg."
)
def overlay_command(project_file, provincies, min_sectoren, out, scheduler) -> None:
    """Compute stapeling and schuurpunten per provincie.

    \b
    Example:
      novex-geo overlay novex.toml --provincie Utrecht --min-sectoren 2
    """
    _report(run_overlay(load_project(project_file), provincies, min_sectoren, out, scheduler=scheduler))


@click.command("run")
@project_arg
@provincie_opt
@scheduler_opt
@run_out_opt(
    "Write into this PostGIS schema (postgresql://user@host/db?schema=NAME, replaced in one "
    "transaction) or GeoPackage instead of <output>/analyse.gpkg."
)
def run_command(project_file, provincies, out, scheduler) -> None:
    """Run the whole analysis into the project's output folder.

    Loads every sector, computes stapeling, schuurpunten and the summary per provincie, and
    writes analyse.gpkg and samenvatting.csv, with progress per provincie.

    \b
    Examples:
      novex-geo run novex.toml
      novex-geo run novex.toml --out "postgresql://gis@db.example.nl/novex?schema=novex_2026"
    """
    _report(run_overlay(load_project(project_file), provincies, out=out, scheduler=scheduler))
