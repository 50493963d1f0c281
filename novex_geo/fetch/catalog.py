"""The catalogue of open national layers (PDOK) that ``novex-geo fetch`` knows.

Each dataset is one TOML file in the repository's ``layers/`` folder (installed as the
package ``novex_geo.layers``): key, title, usual sector, provider, service type, base URL,
collection, label field, extra query parameters, licence, attribution and a note. ``verified``
says whether the collection name and fields were checked against the service documentation.
"""

from __future__ import annotations

import difflib
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from novex_geo.errors import NovexError

__all__ = ["CatalogEntry", "get_entry", "load_catalog"]

REQUIRED = ("key", "title", "sector", "provider", "service", "url", "collection", "label_field",
            "licence", "attribution", "verified", "note")  # fmt: skip
SERVICES = {"ogcapi-features"}


@dataclass(frozen=True)
class CatalogEntry:
    """One open dataset."""

    key: str
    title: str
    sector: str
    provider: str
    service: str
    url: str
    collection: str
    label_field: str
    licence: str
    attribution: str
    verified: bool
    note: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def items_url(self) -> str:
        return f"{self.url.rstrip('/')}/collections/{self.collection}/items"


def _parse(name: str, data: dict[str, Any]) -> CatalogEntry:
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise NovexError(f"layers/{name}: catalogue entry lacks {', '.join(missing)}")
    unknown = set(data) - set(REQUIRED) - {"params"}
    if unknown:
        raise NovexError(f"layers/{name}: unknown keys {', '.join(sorted(unknown))}")
    if data["service"] not in SERVICES:
        raise NovexError(f"layers/{name}: service must be one of {', '.join(sorted(SERVICES))}")
    url = urllib.parse.urlsplit(data["url"])
    if url.scheme != "https" or not url.netloc:
        raise NovexError(f"layers/{name}: url must be an https URL, got {data['url']!r}")
    return CatalogEntry(**data)


def load_catalog() -> dict[str, CatalogEntry]:
    """All catalogue entries by key, sorted by key."""
    entries = {}
    for resource in sorted(files("novex_geo.layers").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".toml"):
            entry = _parse(resource.name, tomllib.loads(resource.read_text(encoding="utf-8")))
            entries[entry.key] = entry
    return entries


def get_entry(key: str) -> CatalogEntry:
    """The entry ``key``; an unknown key is an error that lists the close matches."""
    catalog = load_catalog()
    if key not in catalog:
        hint = difflib.get_close_matches(key, catalog, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise NovexError(
            f"unknown catalogue key '{key}'{suggestion}; known: {', '.join(catalog)} "
            "(novex-geo catalog lists them)"
        )
    return catalog[key]
