"""``novex-geo map``: interactive kaartsessie maps (Folium) per provincie."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.cli.options import load_project_arg, out_opt, project_arg, provincie_opt
from novex_geo.maps.web import write_maps

COMMANDS = []


@click.command("map")
@project_arg
@provincie_opt
@out_opt("maps", "Folder for the HTML maps.")
def map_command(project_file, provincies, out: Path):
    """Write one interactive HTML map per provincie plus a national overview.

    Sector layers, stapeling, schuurpunten and spanningsgebieden (with popups) over PDOK
    basemaps, with layer control, legend, scale bar, fullscreen, measure tool, minimap and a
    sketch tool whose drawings export as GeoJSON for novex-geo sketch.

    \b
    Example:
      novex-geo map novex.toml --provincie Utrecht --out maps/
    """
    project = load_project_arg(project_file)
    for path in write_maps(project, list(provincies or project.provincies) or None, out):
        click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


COMMANDS.append(map_command)
