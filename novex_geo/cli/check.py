"""``novex-geo check``: what will be analysed, and what is wrong, before any overlay."""

from __future__ import annotations

import json

import click

from novex_geo.cli.options import json_opt, project_arg
from novex_geo.config import load_project
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
    result = run_check(load_project(project_file))
    click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if as_json else result.to_text())
    if not result.ok:
        raise click.exceptions.Exit(1)
