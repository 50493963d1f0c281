"""``novex-geo fetch`` and ``novex-geo catalog``: open national data in two commands."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from novex_geo.cli.options import Finite, out_opt
from novex_geo.errors import CatalogError
from novex_geo.pipeline.project import (
    DEFAULT_CACHE,
    PDOK_GEBIEDSINDELINGEN,
    FetchOptions,
    RetryPolicy,
    by_sector,
    default_sectors,
    fetch_dataset,
    fetch_provinces,
    get_entry,
)


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not values[0] < values[2] or not values[1] < values[3]:
        raise click.BadParameter("give xmin,ymin,xmax,ymax in RD metres, e.g. 120000,440000,150000,470000")
    return values


def _filters(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(
                f"{pair!r}: give NAME=VALUE, e.g. category=Grasland", param_hint="--filter"
            )
        found[name.strip()] = value
    return found


class _Bars:
    """One progress bar per unit (features, then bytes of a file download)."""

    def __init__(self, label: str):
        self.label, self.unit = label, None
        self.stack = contextlib.ExitStack()

    def __call__(self, done: int, total: int | None, unit: str) -> None:
        if unit != self.unit:
            self.close()
            self.unit = unit
            bar = click.progressbar(length=0, label=f"{self.label} ({unit})", show_pos=True, file=sys.stderr)
            self.bar = self.stack.enter_context(bar)
        self.bar.length = total or max(done, 1)
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        self.stack.close()


def _report(result, entry, out, provincie) -> None:
    resumed = " (resumed)" if result.resumed else ""
    click.echo(f"wrote {result.n_features:,} features to {out}, layer '{result.layer}'{resumed}")
    said = (
        f"the service holds {result.n_matched:,}"
        if result.n_matched is not None
        else "the service gave no count"
    )
    click.echo(f"complete: {result.n_received:,} features received; {said}")
    if provincie:
        click.echo(
            f"clipped to {provincie}: {result.n_clipped:,} features cut at the border, "
            f"{result.n_dropped_outside:,} outside dropped"
        )
    if result.n_reprojected:
        click.echo(
            f"{result.n_reprojected:,} features reprojected to EPSG:28992 from the CRS the service used"
        )
    if result.n_dropped_invalid:
        click.echo(
            f"{result.n_dropped_invalid:,} features dropped: no readable geometry or coordinates outside the "
            "Netherlands (counted in novex_downloads)"
        )
    for note in result.notes:
        click.echo(f"note: {note}")
    edition = result.record.get("edition")
    if edition:
        click.echo(f"edition: {edition}")
    record = result.record
    click.echo(f"licence: {record['licence']}; attribution: {record['attribution']}")
    if record.get("obligations"):
        click.echo(f"licence obligations: {record['obligations']} (recorded with the layer)")


@click.command("fetch")
@click.argument("key")
@click.option(
    "--provincie", metavar="NAME", help="Only features in this provincie (bbox request, then clipped)."
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
@click.option(
    "--page-size", type=click.IntRange(1), default=None, help="Features per request [default: the entry's]."
)
@click.option(
    "--timeout",
    type=Finite(min=0.1, max=3600),
    default=60.0,
    show_default=True,
    help="Seconds one request may take in total (connecting, headers, body).",
)
@click.option(
    "--retries",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Retries per request after the first attempt (429/5xx/timeouts/dropped connections).",
)
@click.option(
    "--max-pages",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Pages (or file requests) one run may fetch; a re-run continues where it stopped.",
)
@click.option("--collection", default=None, help="Another collection, WFS type name or layer in the file.")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Only features with this value (OGC API, WFS).",
)
@click.option(
    "--base-url", default=None, help="Another address for the service (mirrors, tests, a feed to fill in)."
)
def fetch_command(
    key,
    provincie,
    bbox,
    out,
    regions_path,
    year,
    page_size,
    timeout,
    retries,
    max_pages,
    collection,
    filters,
    base_url,
):
    """Download catalogue dataset KEY into a GeoPackage, in EPSG:28992.

    Speaks OGC API Features, WFS 2.0, ArcGIS FeatureServer and Atom/direct downloads: pages
    with a progress bar, retries failures with backoff, gives every request a total deadline,
    and resumes an interrupted download without duplicates. The layer carries its source,
    query, time, licence, edition and counts in table novex_downloads. KEY 'provincies' writes
    the CBS provinces to a file of their own for [project.regions].

    \b
    Examples:
      novex-geo catalog
      novex-geo fetch cbs_provincies
      novex-geo fetch natura2000 --provincie Utrecht
      novex-geo fetch brp_gewaspercelen_wfs --bbox 120000,440000,150000,470000
      novex-geo fetch netcapaciteit_afname --provincie Utrecht --timeout 120
      novex-geo fetch provincies --year 2025 --out data/provincies.gpkg
    """
    policy = RetryPolicy(retries=retries, timeout=timeout)
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
    if entry.fetchable and entry.unverified:
        click.echo(f"note: '{key}' not verified ({', '.join(entry.unverified)}): {entry.note}", err=True)
    options = FetchOptions(page_size, policy, max_pages, base_url, collection, _filters(filters), year)
    bars = _Bars(key)
    try:
        result, entry = fetch_dataset(key, out, provincie, _bbox(bbox), regions_path, options, bars)
    finally:
        bars.close()
    _report(result, entry, out, provincie)


@click.command("catalog")
@click.option("--sector", help="Only this sector (e.g. landbouw, natuur, regio).")
def catalog_command(sector):
    """List the open datasets novex-geo can fetch, per sector, and where no national layer exists.

    \b
    Example:
      novex-geo catalog --sector landbouw
    """
    grouped = by_sector(list(default_sectors()[0]))
    if sector is not None and sector not in grouped:
        raise CatalogError(f"no sector '{sector}' in the catalogue; sectors: {', '.join(grouped)}")
    for key, entries in grouped.items():
        if sector is not None and key != sector:
            continue
        click.echo(key)
        if not entries:
            click.echo("  no national layer in the catalogue: add your own files")
        for entry in entries:
            if not entry.fetchable:
                click.echo(f"  {entry.not_fetchable_because}: {entry.title} ({entry.key}) — {entry.route}")
                continue
            checked = f"verified: {', '.join(entry.verified)}" if entry.verified else "not verified"
            click.echo(f"  {entry.key:<28} {entry.title} [{entry.service}; {checked}]")
            names = f" · {entry.names}" if entry.names else ""
            click.echo(f"  {'':<28} {entry.service_url or '(address unknown: give --base-url)'}{names}")
            click.echo(f"  {'':<28} {entry.licence} — {entry.attribution}")
