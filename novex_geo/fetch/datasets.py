"""``novex-geo fetch KEY``: a catalogue dataset, or the provinces, into a GeoPackage."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from novex_geo.config import Regions
from novex_geo.errors import NovexError
from novex_geo.fetch.catalog import get_entry
from novex_geo.fetch.download import FetchResult, fetch_collection
from novex_geo.fetch.ogcapi import DEFAULT_RETRY, RetryPolicy
from novex_geo.io.regions import load_regions, select_regions

__all__ = ["DEFAULT_CACHE", "PROVINCES_LAYER", "fetch_dataset"]

DEFAULT_CACHE = Path("layers/cache.gpkg")
PROVINCES_LAYER = "cbs_provincies"  # where --provincie looks for its boundary by default


def _provincie_area(name: str, out: Path, regions_path: Path | None):
    regions_file = regions_path or out
    if not Path(regions_file).exists():
        raise NovexError(
            f"{regions_file}: no provinces to find '{name}' in; run "
            f"'novex-geo fetch {PROVINCES_LAYER} --out {out}' first or give --regions FILE"
        )
    layer = None if regions_path else PROVINCES_LAYER
    regions = load_regions(Regions(Path(regions_file), "statnaam", layer))
    return select_regions(regions, [name]).geometry.iloc[0]


def fetch_dataset(
    key: str,
    out: Path = DEFAULT_CACHE,
    provincie: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    regions_path: Path | None = None,
    year: int | None = None,
    base_url: str | None = None,
    page_size: int = 1000,
    policy: RetryPolicy = DEFAULT_RETRY,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[FetchResult, object]:
    """Download catalogue entry ``key`` into layer ``key`` of the GeoPackage ``out``.

    With ``provincie`` only that provincie's features are kept (a bbox request, then clipped
    to the boundary from ``regions_path`` or the fetched provinces layer of ``out``).

    Returns
    -------
    the fetch result and the catalogue entry used
    """
    if provincie and bbox:
        raise NovexError("give a provincie or a bbox, not both")
    entry = get_entry(key)
    if base_url:
        entry = dataclasses.replace(entry, url=base_url)
    if year is not None:
        if "jaarcode" not in entry.params:
            raise NovexError(f"--year applies to CBS boundaries only, not to '{key}'")
        entry = dataclasses.replace(entry, params={**entry.params, "jaarcode": year})
    area = _provincie_area(provincie, Path(out), regions_path) if provincie else None
    box = area.bounds if area is not None else bbox
    result = fetch_collection(
        entry, out, bbox=box, clip=area, page_size=page_size, policy=policy, progress=progress
    )
    return result, entry
