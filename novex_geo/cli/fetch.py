"""``novex-geo fetch``: download open PDOK data."""

from __future__ import annotations

from pathlib import Path

import click

from novex_geo.cli.options import out_opt
from novex_geo.io.ogcapi import RetryPolicy
from novex_geo.regions import PDOK_GEBIEDSINDELINGEN, fetch_provinces

COMMANDS = []


@click.group("fetch")
def fetch_group() -> None:
    """Download open data from PDOK into a GeoPackage."""


@fetch_group.command("provincies")
@click.option("--year", default=2025, show_default=True, help="CBS jaarcode of the boundaries.")
@out_opt("data/provincies.gpkg", "GeoPackage to write (layer 'provincies').")
@click.option("--base-url", default=PDOK_GEBIEDSINDELINGEN, show_default=True, help="OGC API root.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for an answer.")
@click.option("--retries", default=4, show_default=True, help="Attempts per page.")
def fetch_provincies(year: int, out: Path, base_url: str, timeout: float, retries: int) -> None:
    """Download CBS provincie_gegeneraliseerd in EPSG:28992.

    \b
    Example:
      novex-geo fetch provincies --year 2025 --out data/provincies.gpkg
    Use it in the project file as:
      [project.regions]
      path = "data/provincies.gpkg"
      name_field = "statnaam"
    """
    policy = RetryPolicy(attempts=max(retries, 1), timeout=timeout)
    provinces = fetch_provinces(out, year=year, base_url=base_url, policy=policy)
    click.echo(f"wrote {len(provinces)} provinces to {out} (layer 'provincies')")


COMMANDS.append(fetch_group)
