"""``novex-geo fetch`` and ``novex-geo catalog``: open PDOK data in two commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from novex_geo.cli.options import out_opt
from novex_geo.errors import NovexError
from novex_geo.fetch import RetryPolicy, fetch_dataset, fetch_provinces, get_entry, load_catalog
from novex_geo.fetch.datasets import DEFAULT_CACHE
from novex_geo.fetch.provinces import PDOK_GEBIEDSINDELINGEN


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or values[0] >= values[2] or values[1] >= values[3]:
        raise click.BadParameter("give xmin,ymin,xmax,ymax in RD metres, e.g. 120000,440000,150000,470000")
    return values


@click.command("fetch")
@click.argument("key")
@click.option(
    "--provincie",
    metavar="NAME",
    help="Only features in this provincie (bbox request, then clipped).",
)
@click.option("--bbox", metavar="X1,Y1,X2,Y2", help="Only features in this RD bounding box.")
@out_opt(str(DEFAULT_CACHE), "GeoPackage to write; the layer is named after KEY.")
@click.option(
    "--regions",
    "regions_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Provinces file for --provincie (default: layer cbs_provincies of --out).",
)
@click.option("--year", type=int, default=None, help="CBS jaarcode for CBS boundaries (default 2025).")
@click.option("--page-size", default=1000, show_default=True, help="Features per request.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for an answer.")
@click.option("--retries", default=4, show_default=True, help="Attempts per page (429/5xx/timeouts).")
@click.option("--base-url", default=None, help="Another OGC API root for this collection (mirrors, tests).")
def fetch_command(key, provincie, bbox, out, regions_path, year, page_size, timeout, retries, base_url):
    """Download catalogue dataset KEY into a GeoPackage, in EPSG:28992.

    Pages through the OGC API with a progress bar, retries 429/5xx and timeouts with backoff,
    and resumes an interrupted download without duplicates. The layer carries its source URL,
    query, time, licence and feature count in table novex_downloads. KEY 'provincies' writes
    the CBS provinces to a file of their own for [project.regions].

    \b
    Examples:
      novex-geo catalog
      novex-geo fetch cbs_provincies
      novex-geo fetch natura2000 --provincie Utrecht
      novex-geo fetch brp_gewaspercelen --bbox 120000,440000,150000,470000
      novex-geo fetch provincies --year 2025 --out data/provincies.gpkg
    """
    policy = RetryPolicy(attempts=max(retries, 1), timeout=timeout)
    if key == "provincies":
        target = out if out != DEFAULT_CACHE else Path("data/provincies.gpkg")
        provinces = fetch_provinces(
            target, year=year or 2025, base_url=base_url or PDOK_GEBIEDSINDELINGEN, policy=policy
        )
        click.echo(f"wrote {len(provinces)} provinces to {target} (layer 'provincies')")
        return
    if provincie and bbox:
        raise click.UsageError("give --provincie or --bbox, not both")
    entry = get_entry(key)
    if not entry.verified:
        click.echo(f"note: the catalogue entry '{key}' is not verified: {entry.note}", err=True)
    with click.progressbar(length=0, label=f"{key}", show_pos=True, file=sys.stderr) as bar:

        def progress(done: int, matched: int | None) -> None:
            bar.length = matched or max(done, 1)
            bar.update(done - bar.pos)

        result, entry = fetch_dataset(
            key, out, provincie, _bbox(bbox), regions_path, year, base_url, page_size, policy, progress
        )
    resumed = " (resumed)" if result.resumed else ""
    click.echo(f"wrote {result.n_features} features to {out}, layer '{result.layer}'{resumed}")
    if provincie:
        click.echo(
            f"clipped to {provincie}: {result.n_clipped} features cut at the border, "
            f"{result.n_dropped_outside} outside dropped"
        )
    click.echo(f"licence: {entry.licence}; attribution: {entry.attribution}")


@click.command("catalog")
@click.option("--sector", help="Only entries for this sector (e.g. landbouw, natuur, regio).")
def catalog_command(sector):
    """List the open datasets novex-geo can fetch.

    \b
    Example:
      novex-geo catalog --sector landbouw
    """
    entries = [e for e in load_catalog().values() if sector is None or e.sector == sector]
    if not entries:
        raise NovexError(f"no catalogue entries for sector '{sector}'")
    for entry in entries:
        mark = "" if entry.verified else "  [not verified]"
        click.echo(f"{entry.key:<30} {entry.sector:<12} {entry.title}{mark}")
        click.echo(f"{'':<30} {entry.items_url}")
        click.echo(f"{'':<30} {entry.licence} — {entry.attribution}")
