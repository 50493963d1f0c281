"""``novex-geo map``: interactive kaartsessie maps (Folium) per provincie."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.cli.options import out_opt, project_arg, provincie_opt
from novex_geo.config import load_project
from novex_geo.maps.web import write_maps


@click.command("map")
@project_arg
@provincie_opt
@out_opt("maps", "Folder for the HTML maps.")
@click.option("--png", is_flag=True, help="Also write a static PNG snapshot of each map.")
def map_command(project_file, provincies, out: Path, png: bool):
    """Write one interactive HTML map per provincie plus a national overview.

    Sector layers, stapeling, schuurpunten and spanningsgebieden (with popups) over PDOK
    basemaps, with layer control, legend, scale bar, fullscreen, measure tool, minimap and a
    sketch tool whose drawings export as GeoJSON for novex-geo sketch.

    \b
    Example:
      novex-geo map novex.toml --provincie Utrecht --out maps/ --png
    """
    project = load_project(project_file)
    for path in write_maps(project, list(provincies or project.provincies) or None, out, png=png):
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from novex_geo.maps.static import draw_conflict_map
    from novex_geo.regions import load_regions
    from novex_geo.tools.sketch import evaluate_sketch, sketch_report

    project = load_project(project_file)
    result = evaluate_sketch(project, sketch_file, sector)
    folder = Path(out) if out else sketch_file.parent
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / f"{sketch_file.stem}_beoordeling.md"
    report.write_text(sketch_report(result, sketch_file), encoding="utf-8")
    figure, ax = plt.subplots(figsize=(7, 5), dpi=130)
    claims = {key: result.sketch[result.sketch["sector"] == key] for key in project.sectors}
    colours = {key: sector.colour for key, sector in project.sectors.items()}
    labels = {key: sector.label for key, sector in project.sectors.items()}
    regions = load_regions(project.regions, project.crs)
    focus = result.sketch.geometry.union_all()
    draw_conflict_map(ax, claims, colours, labels, regions, result.new_schuurpunten, focus=focus)
    ax.set_title(
        f"Schets {sketch_file.stem}: {len(result.new_schuurpunten)} nieuwe schuurpunten", fontsize=10
    )
    picture = folder / f"{sketch_file.stem}_beoordeling.png"
    figure.savefig(picture, bbox_inches="tight")
    plt.close(figure)
    click.echo(report.read_text(encoding="utf-8"))
    click.echo(f"wrote {report} and {picture} ({result.seconds:.1f} s)")
