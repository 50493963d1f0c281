"""``novex-geo signal``: the "Wat botst? Waar? Waarom urgent?" 1-pager for a spanningsgebied."""

from __future__ import annotations

import click

from novex_geo.cli.options import out_opt, project_arg
from novex_geo.config import load_project
from novex_geo.pipeline import run_signals


@click.command("signal")
@project_arg
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--top", type=click.IntRange(min=1), help="The N best-ranked spanningsgebieden.")
@out_opt(help="Folder for the PDF, HTML and PNG files. Default: <output>/signalen.")
def signal_command(project_file, ids, top, out):
    """Write signal 1-pagers (PDF, self-contained HTML, PNG map) for spanningsgebieden.

    Give ids from triage.md, or --top N. "Waarom urgent?" comes verbatim from the
    annotations file; when empty the page shows a field to fill in.

    \b
    Example:
      novex-geo signal novex.toml SG-f2cf83c3ec
      novex-geo signal novex.toml --top 10 --out signalen/
    """
    if ids and top:
        raise click.UsageError("give ids or --top, not both")
    written = run_signals(load_project(project_file), list(ids), top, out)
    for files in written:
        click.echo(f"wrote {files.pdf}, {files.html} and {files.png}")
    if not written:
        click.echo("no signals written: triage found no spanningsgebieden (see triage.md)")
