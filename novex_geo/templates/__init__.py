"""Starter files that ``novex-geo init`` writes."""

from __future__ import annotations

import os
import tomllib
from importlib.resources import files
from pathlib import Path

from novex_geo.errors import NovexError

__all__ = ["catalog_project", "default_sectors", "project_template", "write_template"]


def project_template(name: str = "NOVEX analyse") -> str:
    """The commented starter ``novex.toml`` with the five default NOVEX sectors."""
    text = files(__name__).joinpath("novex.toml").read_text(encoding="utf-8")
    return text.replace("{name}", name.replace("\\", "\\\\").replace('"', '\\"'))


def write_template(
    path: str | Path, name: str = "NOVEX analyse", overwrite: bool = False, text: str | None = None
) -> Path:
    """Write ``text`` (default :func:`project_template`) to ``path``; never overwrite unasked."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise NovexError(f"{path}: already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(project_template(name) if text is None else text, encoding="utf-8")
    return path


def default_sectors() -> tuple[dict, list[dict]]:
    """The sector tables and conflict pairs of the starter template (labels, colours)."""
    data = tomllib.loads(project_template())
    return data["sectors"], data["conflicts"]["pairs"]


EXTRA_SECTORS = {"natuur": {"label": "Natuur", "colour": "#006d2c"}}


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def catalog_project(cache: str | Path, target: str | Path, provincie: str | None = None) -> str:
    """A starter project wired to the layers ``novex-geo fetch`` stored in ``cache``.

    Sectors come from the catalogue entries' usual sector; the provinces from the fetched
    ``cbs_provincies`` (or ``kadaster_provincies``) layer. Sectors of the NOVEX template
    without a fetched layer are listed as comments to fill in.
    """
    from novex_geo.fetch.catalog import load_catalog
    from novex_geo.io.downloads import download_records

    cache, target = Path(cache), Path(target)
    records = download_records(cache) if cache.exists() else None
    if records is None or records.empty:
        raise NovexError(
            f"{cache}: no fetched layers; run e.g. 'novex-geo fetch cbs_provincies' and "
            f"'novex-geo fetch natura2000 --provincie {provincie or 'Utrecht'}' first"
        )
    catalog = load_catalog()
    relative = Path(os.path.relpath(cache.resolve(), target.resolve().parent)).as_posix()
    sectors, pairs = default_sectors()
    styles = {**EXTRA_SECTORS, **sectors}
    by_sector: dict[str, list] = {}
    regions = None
    for record in records.to_dict("records"):
        entry = catalog.get(record["key"])
        if entry is None:
            continue
        if entry.sector == "regio":
            if entry.key in ("cbs_provincies", "kadaster_provincies") and regions is None:
                regions = (record["layer"], entry.label_field)
            continue
        by_sector.setdefault(entry.sector, []).append((record, entry))
    name = f"NOVEX {provincie}" if provincie else "NOVEX analyse"
    lines = [
        f"# Starter project wired to the layers fetched into {relative}.",
        "# Check it with:  novex-geo check <this file>",
        "[project]",
        f"name = {_toml_string(name)}",
        'crs = "EPSG:28992"',
        'output = "uitvoer"',
        f"provincies = [{_toml_string(provincie)}]" if provincie else "provincies = []",
        "",
        "[project.regions]",
    ]
    if regions:
        lines += [
            f"path = {_toml_string(relative)}",
            f"layer = {_toml_string(regions[0])}",
            f"name_field = {_toml_string(regions[1])}",
        ]
    else:
        lines += [
            "# fetch the provinces first:  novex-geo fetch cbs_provincies",
            f"path = {_toml_string(relative)}",
            'layer = "cbs_provincies"',
            'name_field = "statnaam"',
        ]
    for sector, items in by_sector.items():
        style = styles.get(sector, {"label": sector.replace("_", " ").capitalize(), "colour": "#888888"})
        lines += [
            "",
            f"[sectors.{sector}]",
            f"label = {_toml_string(style['label'])}",
            f"colour = {_toml_string(style['colour'])}",
        ]
        for record, entry in items:
            lines += [
                f"[[sectors.{sector}.sources]]",
                f"# {entry.title}: {entry.licence}",
                f"path = {_toml_string(relative)}",
                f"layer = {_toml_string(record['layer'])}",
                f"label_field = {_toml_string(entry.label_field)}",
            ]
    missing = [key for key in sectors if key not in by_sector]
    if missing:
        lines += [
            "",
            "# Sectors of the NOVEX template without a fetched layer; add your own files:",
        ]
        for key in missing:
            lines += [
                f"# [sectors.{key}]",
                f"# label = {_toml_string(sectors[key]['label'])}",
                f"# colour = {_toml_string(sectors[key]['colour'])}",
                f"# [[sectors.{key}.sources]]",
                f'# path = "data/{key}.gpkg"',
            ]
    present = set(by_sector)
    chosen = [pair for pair in pairs if set(pair["sectors"]) <= present]
    lines += ["", "[conflicts]", "min_area_m2 = 100"]
    for pair in chosen:
        lines += [
            "",
            "[[conflicts.pairs]]",
            "sectors = [" + ", ".join(map(_toml_string, pair["sectors"])) + "]",
        ]
        lines += [f"{key} = {pair[key]}" for key in ("distance", "weight") if key in pair]
    if not chosen:
        lines += ["# add [[conflicts.pairs]] once two conflicting sectors have layers"]
    return "\n".join(lines) + "\n"
