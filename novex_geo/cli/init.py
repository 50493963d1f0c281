"""``novex-geo init``: write a commented starter project file."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.templates import write_template

COMMANDS = []


@click.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="novex.toml")
@click.option("--name", default="NOVEX analyse", show_default=True, help="Project name.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(path: Path, name: str, force: bool) -> None:
    """Write a starter project file with the five NOVEX sectors and a conflict matrix.

    \b
    Example:
      novex-geo init novex.toml --name "NOVEX Utrecht"
    """
    write_template(path, name=name, overwrite=force)
    click.echo(f"wrote {path}; edit the source paths, then run: novex-geo check {path}")


COMMANDS.append(init_command)
