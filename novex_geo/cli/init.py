"""``novex-geo init``: write a commented starter project file."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.pipeline.project import run_init


@click.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="novex.toml")
@click.option("--name", default="NOVEX analyse", show_default=True, help="Project name.")
@click.option("--from-catalog", is_flag=True, help="Wire the project to layers fetched with novex-geo fetch.")
@click.option("--provincie", metavar="NAME", help="With --from-catalog: analyse only this provincie.")
@click.option(
    "--cache",
    type=click.Path(path_type=Path),
    default="layers/cache.gpkg",
    show_default=True,
    help="With --from-catalog: the GeoPackage novex-geo fetch wrote.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(path: Path, name: str, from_catalog: bool, provincie: str | None, cache: Path, force: bool):
    """Write a starter project file with the five NOVEX sectors and a conflict matrix.

    With --from-catalog the project points at the layers fetched into the cache GeoPackage,
    grouped into sectors, with the provinces (and municipalities, NOVEX-gebieden) that were
    fetched; every NOVEX sector without a fetched layer is written commented out, with where
    its data comes from (a layer to fetch, or the provincial route) and a source to fill in.

    \b
    Examples:
      novex-geo init novex.toml --name "NOVEX Utrecht"
      novex-geo fetch cbs_provincies && novex-geo fetch natura2000 --provincie Utrecht
      novex-geo init novex.toml --provincie Utrecht --from-catalog
    """
    if provincie and not from_catalog:
        raise click.UsageError("--provincie goes with --from-catalog")
    run_init(path, name, overwrite=force, cache=cache if from_catalog else None, provincie=provincie)
    click.echo(f"wrote {path}; then run: novex-geo check {path}")
