"""``novex-geo grid``: stapeling on a national raster grid (heat maps at 10–25 m)."""

from __future__ import annotations

import click

from novex_geo.cli.options import Finite, echo_summary, out_opt, project_arg, provincie_opt, scheduler_opt
from novex_geo.config import load_project
from novex_geo.pipeline import run_grid


@click.command("grid")
@project_arg
@click.option(
    "--resolution",
    "-r",
    type=Finite(min=1, max=10_000),
    default=25.0,
    show_default=True,
    help="Cell size in metres (1 to 10,000).",
)
@provincie_opt
@scheduler_opt
@out_opt(help="Folder for the COGs and the summary. Default: the project's output folder.")
def grid_command(project_file, resolution, provincies, out, scheduler):
    """Rasterise every sector to a bit of a common RD grid: COGs and statistics per provincie.

    Writes grid_<res>m_sectoren.tif (sector bit-mask), grid_<res>m_stapeling.tif (n_sectoren)
    as Cloud-Optimised GeoTIFFs and grid_<res>m_samenvatting.csv.

    \b
    Example:
      novex-geo grid novex.toml --resolution 25
      novex-geo grid novex.toml -r 10 --provincie Utrecht
    """
    result = run_grid(load_project(project_file), resolution, provincies, out, scheduler=scheduler)
    bits = ", ".join(f"bit {i} = {key}" for i, key in enumerate(result.sectors))
    size = f"{result.spec.width} x {result.spec.height} cells of {resolution:g} m"
    click.echo(f"{size} in {result.seconds:.1f} s ({bits})")
    echo_summary(result.summary)
    click.echo(f"wrote {result.mask_path} and {result.count_path}")
