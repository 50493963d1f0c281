"""The catalogue of open national layers that ``novex-geo fetch`` knows, and where none exists.

Each dataset is one TOML file in the repository's ``layers/`` folder (installed as the package
``novex_geo.layers``). Every entry names its sector, provider, protocol (``service``), licence,
attribution, where its names come from (``names_from``) and what of it the documentation
confirms (``verified``: any of ``url``, ``names``, ``fields``, ``licence``). Entries with
``service = "provincial"`` or ``"manual"`` have nothing to download: they say where the data
comes from instead (``route``), so that ``catalog`` and ``init --from-catalog`` can point there.
"""

from __future__ import annotations

import difflib
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from novex_geo.errors import CatalogError

__all__ = ["FETCHABLE", "CatalogEntry", "by_sector", "get_entry", "load_catalog"]

REQUIRED = (
    "key",
    "title",
    "sector",
    "provider",
    "service",
    "licence",
    "attribution",
    "verified",
    "names_from",
    "note",
)
OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "url": str,
    "collection": str,
    "typename": str,
    "layer_search": str,
    "file": str,
    "layer": str,
    "label_field": str,
    "params": dict,
    "filter": dict,
    "hosts": list,
    "edition": str,
    "edition_field": str,
    "format": str,
    "max_start_index": int,
    "page_size": int,
    "buffer": (int, float),
    "where": str,
    "raster_where": str,
    "route": str,
    "role": str,
}
FETCHABLE = {"ogcapi-features", "wfs", "arcgis-featureserver", "atom", "download"}
SERVICES = FETCHABLE | {"provincial", "manual"}
NEEDS = {
    "ogcapi-features": ("url", "collection"),
    "wfs": ("url",),
    "arcgis-featureserver": ("url",),
    "atom": (),
    "download": ("url",),
    "provincial": ("route",),
    "manual": ("route",),
}
VERIFIABLE = ("url", "names", "fields", "licence")
ROLES = {"regions", "gemeenten", "priority"}
# licences that ask more of a user than a credit line; said when fetched and kept with the data
OBLIGATIONS = {
    "by-sa": "share-alike: data derived from it may only be shared under the same licence (CC BY-SA)",
    "odbl": "share-alike: a derived database may only be shared under the ODbL",
    "unconfirmed": "licence not confirmed: check the terms of use before publishing derived data",
}


@dataclass(frozen=True)
class CatalogEntry:
    """One open dataset (or the route to one where no national service exists)."""

    key: str
    title: str
    sector: str
    provider: str
    service: str
    licence: str
    attribution: str
    verified: tuple[str, ...]
    names_from: str
    note: str
    url: str = ""
    collection: str = ""
    typename: str = ""
    layer_search: str = ""
    file: str = ""
    layer: str = ""
    label_field: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    filter: dict[str, Any] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()
    edition: str = ""
    edition_field: str = ""
    format: str = "geojson"
    max_start_index: int = 0
    page_size: int = 1000
    buffer: float = 0.0
    where: str = ""
    raster_where: str = ""
    route: str = ""
    role: str = ""

    @property
    def fetchable(self) -> bool:
        return self.service in FETCHABLE

    @property
    def not_fetchable_because(self) -> str:
        """Why ``novex-geo fetch`` cannot get an entry that is not :attr:`fetchable`:
        ``"no national layer"`` (the data exists per provincie) or ``"download by hand"``."""
        return "no national layer" if self.service == "provincial" else "download by hand"

    @property
    def items_url(self) -> str:
        """The OGC API items endpoint of the collection."""
        return f"{self.url.rstrip('/')}/collections/{self.collection}/items"

    @property
    def service_url(self) -> str:
        """The URL requests go to (OGC API: the items endpoint)."""
        return self.items_url if self.service == "ogcapi-features" else self.url

    @property
    def names(self) -> str:
        """What the service calls the data: collection, type name, layer or file."""
        if self.file:
            return f"file matching {self.file!r}" + (f", layer {self.layer}" if self.layer else "")
        if self.layer_search and not self.typename:
            return f"the layer matching '{self.layer_search}'"
        return self.collection or self.typename or self.layer

    @property
    def obligations(self) -> str:
        """What the licence asks beyond attribution ('' for CC0 / CC BY)."""
        licence = self.licence.lower()
        return "; ".join(text for token, text in OBLIGATIONS.items() if token in licence)

    @property
    def unverified(self) -> list[str]:
        return [item for item in VERIFIABLE if item not in self.verified]


def _parse(name: str, data: dict[str, Any]) -> CatalogEntry:
    where = f"layers/{name}"
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise CatalogError(f"{where}: catalogue entry lacks {', '.join(missing)}")
    unknown = set(data) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise CatalogError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    for key, kind in OPTIONAL.items():
        if key in data and (not isinstance(data[key], kind) or isinstance(data[key], bool)):
            raise CatalogError(f"{where}: {key} has the wrong type ({type(data[key]).__name__})")
    service = data["service"]
    if service not in SERVICES:
        raise CatalogError(f"{where}: service must be one of {', '.join(sorted(SERVICES))}")
    lacking = [key for key in NEEDS[service] if not data.get(key)]
    if service == "wfs" and not (data.get("typename") or data.get("layer_search")):
        lacking.append("typename (or layer_search)")
    if lacking:
        raise CatalogError(f"{where}: a '{service}' entry needs {', '.join(lacking)}")
    verified = data["verified"]
    if not isinstance(verified, list) or set(verified) - set(VERIFIABLE):
        raise CatalogError(f"{where}: verified must list what is confirmed, from: {', '.join(VERIFIABLE)}")
    if data.get("role", "") not in ROLES | {""}:
        raise CatalogError(f"{where}: role must be one of {', '.join(sorted(ROLES))}")
    url = urllib.parse.urlsplit(data.get("url", ""))
    if data.get("url") and (url.scheme not in ("https", "http") or not url.netloc):
        raise CatalogError(
            f"{where}: url must be an http(s) URL (intranet services too), got {data['url']!r}"
        )
    return CatalogEntry(**{**data, "verified": tuple(verified), "hosts": tuple(data.get("hosts", ()))})


def load_catalog() -> dict[str, CatalogEntry]:
    """All catalogue entries by key, sorted by key."""
    entries = {}
    for resource in sorted(files("novex_geo.layers").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".toml"):
            try:
                data = tomllib.loads(resource.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise CatalogError(f"layers/{resource.name}: {exc}") from None
            entry = _parse(resource.name, data)
            entries[entry.key] = entry
    return entries


def by_sector(order: list[str] | tuple[str, ...] = ()) -> dict[str, list[CatalogEntry]]:
    """Entries grouped by sector: the sectors of ``order`` first (also when they have no entry),
    then the others alphabetically."""
    grouped: dict[str, list[CatalogEntry]] = {sector: [] for sector in order}
    for entry in sorted(load_catalog().values(), key=lambda e: (not e.fetchable, e.key)):
        grouped.setdefault(entry.sector, []).append(entry)
    rest = sorted(set(grouped) - set(order))
    return {sector: grouped[sector] for sector in [*order, *rest]}


def get_entry(key: str) -> CatalogEntry:
    """The entry ``key``; an unknown key is an error that lists the close matches."""
    catalog = load_catalog()
    if key not in catalog:
        hint = difflib.get_close_matches(key, catalog, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise CatalogError(
            f"unknown catalogue key '{key}'{suggestion}; known: {', '.join(catalog)} "
            "(novex-geo catalog lists them)"
        )
    return catalog[key]
