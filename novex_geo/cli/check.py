"""``novex-geo check``: what will be analysed, and what is wrong, before any overlay."""

from __future__ import annotations

import json

import click

from novex_geo.cli.options import json_opt, project_arg
from novex_geo.config import load_project
from novex_geo.errors import NovexError
from novex_geo.pipeline.project import run_check


@click.command("check")
@project_arg
@json_opt
def check_command(project_file, as_json: bool) -> None:
    """Validate the project file and every layer it names.

    Reports per sector and source: features, geometry types, CRS, repaired and buffered
    features, features outside all provinces, empty layers and extent. Exits 1 when the
    project cannot be analysed.

    \b
    Example:
      novex-geo check novex.toml
      novex-geo check novex.toml --json > check.json
    """
    try:
        project = load_project(project_file)
    except NovexError as exc:
        if not as_json:
            raise
        # a script reading check.json learns why, instead of finding it empty
        problem = {"project": str(project_file), "ok": False, "problems": [str(exc)]}
        click.echo(json.dumps(problem, indent=2, ensure_ascii=False))
        raise click.exceptions.Exit(1) from None
    result = run_check(project)
    click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if as_json else result.to_text())
    if not result.ok:
        raise click.exceptions.Exit(1)
