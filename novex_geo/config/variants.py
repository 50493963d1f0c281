"""Oplossingsrichtingen in the project file: ``[opgaven]`` and ``[[varianten]]``.

::

    [opgaven]              # hectares a sector keeps in the spanningsgebied, per variant checked
    woningbouw = 150

    [[varianten]]
    naam = "Wonen noord"
    spanningsgebied = "SG-f2cf83c3ec"
    bestanden = ["varianten/wonen_noord.geojson"]
    toelichting = "De woningbouw schuift naar het noorden, weg van de waterberging"
"""

from __future__ import annotations

from typing import Any

from novex_geo.config.model import Sector, VariantSpec
from novex_geo.config.validate import Validator

__all__ = ["CURRENT", "VARIANT_KEYS", "parse_opgaven", "parse_variants"]

VARIANT_KEYS = {"naam", "spanningsgebied", "bestanden", "toelichting"}
CURRENT = "huidig"  # the current situation: the first column of every comparison


def parse_opgaven(check: Validator, table: Any, sectors: dict[str, Sector]) -> dict[str, float]:
    """``sector = hectares`` for the sectors named in ``[opgaven]``."""
    if not isinstance(table, dict):
        raise check.fail("opgaven", "must be a table of sector = hectares, e.g. woningbouw = 150")
    return {
        check.sector(name, f"opgaven.{name}", sectors): check.number(
            table, name, "opgaven", default=0.0, minimum=0, strict=True
        )
        for name in table
    }


def parse_variants(check: Validator, variants: Any) -> tuple[VariantSpec, ...]:
    """The list ``[[varianten]]``: a name unique per spanningsgebied, files that exist when used."""
    if not isinstance(variants, list):
        raise check.fail("varianten", "must be a list of tables ([[varianten]])")
    parsed: list[VariantSpec] = []
    for i, table in enumerate(variants):
        key = f"varianten[{i}]"
        table = check.keys(table, VARIANT_KEYS, key)
        name = check.text(table, "naam", key)
        area_id = check.text(table, "spanningsgebied", key)
        if name is None or area_id is None:
            missing = "naam" if name is None else "spanningsgebied"
            raise check.fail(
                f"{key}.{missing}", "is required: a variant has a name and the id of its spanningsgebied"
            )
        if name.strip().lower() == CURRENT:
            raise check.fail(f"{key}.naam", f"'{CURRENT}' is the current situation; choose another name")
        if any(v.name == name.strip() and v.area_id == area_id.strip() for v in parsed):
            raise check.fail(f"{key}.naam", f"variant '{name}' of {area_id} is listed twice")
        files = table.get("bestanden")
        if isinstance(files, str):
            files = [files]
        if not (isinstance(files, list) and files and all(isinstance(f, str) and f.strip() for f in files)):
            raise check.fail(
                f"{key}.bestanden", "must list one or more GeoJSON files, e.g. ['noord.geojson']"
            )
        paths = tuple(check.path_value({"bestanden": f}, "bestanden", key) for f in files)
        toelichting = table.get("toelichting", "")
        if not isinstance(toelichting, str):
            raise check.fail(f"{key}.toelichting", "must be text: why this direction, in a sentence")
        parsed.append(VariantSpec(name.strip(), area_id.strip(), paths, toelichting.strip()))
    return tuple(parsed)
