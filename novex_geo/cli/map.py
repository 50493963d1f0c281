"""``novex-geo map``: interactive kaartsessie maps (Folium) per provincie."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.cli.options import out_opt, project_arg, provincie_opt
from novex_geo.config import load_project
from novex_geo.pipeline import run_maps, run_sketch, run_variants
from novex_geo.pipeline.map_choices import ASSET_MODES, PAPER


@click.command("map")
@project_arg
@provincie_opt
@out_opt(help="Folder for the HTML maps. Default: <output>/kaarten.")
@click.option("--png", is_flag=True, help="Also write a static PNG snapshot of each map.")
@click.option(
    "--pdf",
    "paper",
    type=click.Choice(sorted(PAPER), case_sensitive=False),
    help="Also write a print poster (vector PDF, landscape) per provincie on this paper size.",
)
@click.option(
    "--assets",
    type=click.Choice(ASSET_MODES),
    default="inline",
    show_default=True,
    help="inline: Leaflet and plugins inside each map, works offline; cdn: loaded from public CDNs.",
)
@click.option(
    "--varianten",
    "variants",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder 'novex-geo varianten' wrote (uitvoer/varianten/ID): show huidig and each variant "
    "as layers to switch between, their numbers in the popup.",
)
def map_command(
    project_file, provincies, out: Path, png: bool, paper: str | None, assets: str, variants: Path | None
):
    """Write one interactive HTML map per provincie plus a national overview.

    Sector layers, stapeling, schuurpunten and spanningsgebieden (with popups) over PDOK
    basemaps, with layer panel, legend, scale bar, fullscreen, measure tool, overview map and
    a sketch tool: polygons per sector, toevoegen or verwijderen, named variants, exported in
    one GeoJSON for novex-geo sketch or novex-geo varianten. --varianten shows a comparison's
    variants as layers to switch between. The maps work without network (only the basemap
    needs it). --pdf A3 adds a print poster per provincie.

    \b
    Example:
      novex-geo map novex.toml --provincie Utrecht --png
      novex-geo map novex.toml --pdf A0
      novex-geo map novex.toml --varianten uitvoer/varianten/SG-f2cf83c3ec
    """
    project = load_project(project_file)
    written = run_maps(project, provincies, out, png=png, poster=paper, assets=assets, variants=variants)
    for path in written:
        click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@click.command("sketch")
@project_arg
@click.argument("sketch_file", metavar="SKETCH.geojson", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sector", help="Sector for sketched features without a 'sector' property.")
@out_opt(None, "Folder for the report and map. Default: beside the sketch.")
def sketch_command(project_file, sketch_file: Path, sector, out):
    """Evaluate a sketch (GeoJSON from the map's Draw tool) against the existing claims.

    Reports the schuurpunten and stapeling the sketched features would create, with the
    features involved and the criteria that would flip, as Markdown plus a small map.

    \b
    Example:
      novex-geo sketch novex.toml schets.geojson --sector woningbouw
    """
    run = run_sketch(load_project(project_file), sketch_file, sector, out)
    click.echo(run.report.read_text(encoding="utf-8"))
    click.echo(f"wrote {run.report} and {run.picture} ({run.result.seconds:.1f} s)")


@click.command("varianten")
@project_arg
@click.argument("area_id", metavar="ID")
@click.argument(
    "variant_files",
    metavar="[VARIANT.geojson...]",
    nargs=-1,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--gpkg",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run whose spanningsgebied ID is compared. Default: <output>/analyse.gpkg.",
)
@out_opt(
    None,
    "Folder for vergelijking.csv/.md, varianten.gpkg and the 2-pager snelle_tafel.pdf/.html. "
    "Default: <output>/varianten/ID.",
)
def variants_command(project_file, area_id, variant_files, gpkg, out):
    """Compare oplossingsrichtingen for one spanningsgebied: the current claims and each variant.

    A variant is a GeoJSON (as the map's Draw tool exports it) whose polygons carry a sector
    and an actie: toevoegen (a new claim) or verwijderen (that sector's claims inside the polygon
    are cut away); both in one file move a claim. Without files, the project file's [[varianten]]
    of spanningsgebied ID are compared. Per variant: conflict ha per pair, schuurpunten
    opgelost, gekrompen and nieuw (also outside the area, via a pair's distance), kansen,
    stapeling, what each sector keeps of its claim in the area, and whether the area still
    qualifies, and whether each [opgaven] is still met; exactly as a full run on the edited
    layers, computed on the surroundings only. The snelle-tafel 2-pager (A4 PDF and HTML) puts
    the probleemdefinitie and the richtingen with their voor- en nadelen side by side.

    \b
    Example:
      novex-geo varianten novex.toml SG-f2cf83c3ec varianten/oost_naar_het_noorden.geojson \\
        varianten/minder_water.geojson
      novex-geo varianten novex.toml SG-f2cf83c3ec
    """
    run = run_variants(load_project(project_file), area_id, list(variant_files), gpkg, out)
    click.echo(run.markdown.read_text(encoding="utf-8"))
    click.echo(f"wrote {run.markdown}, {run.csv}, {run.gpkg} and the 2-pager {run.pdf} ({run.seconds:.1f} s)")
