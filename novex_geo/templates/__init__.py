"""Starter files that ``novex-geo init`` writes."""

from __future__ import annotations

import json
import os
import tomllib
from importlib.resources import files
from pathlib import Path

from novex_geo.errors import LayerError, OutputError

__all__ = ["catalog_project", "default_sectors", "project_template", "write_template"]


def project_template(name: str = "NOVEX analyse") -> str:
    """The commented starter ``novex.toml`` with the five default NOVEX sectors."""
    text = files(__name__).joinpath("novex.toml").read_text(encoding="utf-8")
    return text.replace('"{name}"', _toml_string(name))


def write_template(
    path: str | Path, name: str = "NOVEX analyse", overwrite: bool = False, text: str | None = None
) -> Path:
    """Write ``text`` (default :func:`project_template`) to ``path``; never overwrite unasked.

    The file appears complete or not at all (written beside it, then renamed).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_text(project_template(name) if text is None else text, encoding="utf-8")
    partial.replace(path)
    return path


def default_sectors() -> tuple[dict, list[dict], list[dict]]:
    """The sector tables (labels, colours), conflict pairs and kans pairs of the starter template."""
    data = tomllib.loads(project_template())
    return data["sectors"], data["conflicts"]["pairs"], data["kansen"]["pairs"]


EXTRA_SECTORS = {"natuur": {"label": "Natuur", "colour": "#006d2c"}}


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string: JSON's escapes are TOML's, but for DEL, which TOML
    wants escaped too (a name typed with a newline made the file unreadable)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _fields(cache: Path, layer: str) -> list[str]:
    import pyogrio

    return [str(name) for name in pyogrio.read_info(cache, layer=layer)["fields"]]


def _source_lines(table: str, relative: str, cache: Path, entry, layer: str) -> list[str]:
    """One ``[[table]]`` source for a fetched layer; a label field the layer lacks stays a comment."""
    lines = [f"[[{table}]]", f"# {entry.title} (licence: {entry.licence})"]
    lines += [f"path = {_toml_string(relative)}", f"layer = {_toml_string(layer)}"]
    if entry.label_field:
        fields = _fields(cache, layer)
        if entry.label_field in fields:
            lines.append(f"label_field = {_toml_string(entry.label_field)}")
        else:
            lines.append(
                f"# label_field: '{entry.label_field}' is not in the layer; fields: {', '.join(fields)}"
            )
    if entry.buffer:
        lines.append(
            f"buffer = {entry.buffer:g}  # the layer holds lines: a zone of this width (m) on each side"
        )
    if entry.where:
        lines.append(
            f"# where = {_toml_string(entry.where)}  # to claim only part of the layer (novex-geo catalog)"
        )
    return lines


def _also(entry) -> str:
    """A comment on another catalogue entry for a sector that already has a layer."""
    if entry.fetchable:
        return f"# also in the catalogue: {entry.title} (novex-geo fetch {entry.key})"
    return f"# also: {entry.title}: {entry.not_fetchable_because} (novex-geo catalog --sector {entry.sector})"


def _fill_in_lines(key: str, style: dict, entries: list, fetch_hint: str) -> list[str]:
    """A sector without a fetched layer, commented out, with where its data can come from."""
    lines = ["", f"# {style['label']} ({key}): no layer fetched yet. Where the data comes from:"]
    for entry in entries:
        if entry.fetchable:
            lines.append(f"#   national layer: novex-geo fetch {entry.key}{fetch_hint}, then run init again")
        else:
            lines.append(f"#   {entry.not_fetchable_because}: {entry.route}")
    if not entries:
        lines.append("#   the catalogue has no layer for this sector: add your own file")
    source = f'# [[sectors.{key}.sources]]\n# path = "data/{key}.gpkg"   # <- fill in your file'
    raster = next((entry.raster_where for entry in entries if entry.raster_where), "")
    if raster:
        source += (
            f"\n# raster = {{ where = {_toml_string(raster)} }}   # for a raster such as {entries[0].title}"
        )
    return [
        *lines,
        f"# [sectors.{key}]",
        f"# label = {_toml_string(style['label'])}",
        f"# colour = {_toml_string(style['colour'])}",
        source,
    ]


def catalog_project(cache: str | Path, target: str | Path, provincie: str | None = None) -> str:
    """A starter project wired to the layers ``novex-geo fetch`` stored in ``cache``.

    Sectors come from the catalogue entries' usual sector; the provinces, municipalities and
    priority areas (NOVEX-gebieden) from the entries with that role. Every sector of the NOVEX
    template appears: wired to its fetched layers, or commented out with where its data can
    come from (a national layer still to fetch, or the provincial route where none exists).
    """
    from novex_geo.fetch.catalog import by_sector, load_catalog
    from novex_geo.io.downloads import download_records

    cache, target = Path(cache), Path(target)
    records = download_records(cache) if cache.exists() else None
    if records is None or records.empty:
        raise LayerError(
            f"{cache}: no fetched layers; run e.g. 'novex-geo fetch cbs_provincies' and "
            f"'novex-geo fetch natura2000 --provincie {provincie or 'Utrecht'}' first"
        )
    catalog = load_catalog()
    relative = Path(os.path.relpath(cache.resolve(), target.resolve().parent)).as_posix()
    sectors, pairs, kansen = default_sectors()
    styles = {**EXTRA_SECTORS, **sectors}
    fetched, unfinished = _fetched(records, catalog)
    lines = _project_lines(relative, provincie, fetched.get("regions"), catalog["cbs_provincies"])
    wired = [key for key in [*sectors, *EXTRA_SECTORS] if key in fetched]
    if not wired:  # a project without a sector is no project: check would only refuse it
        raise LayerError(
            f"{cache}: no layer of a sector fetched yet; run e.g. "
            f"'novex-geo fetch natura2000 --provincie {provincie or 'Utrecht'}' first, or write the "
            "commented template with 'novex-geo init' (without --from-catalog)"
        )
    catalogue = by_sector(list(sectors))
    for key in wired:
        style = styles[key]
        lines += [
            "",
            f"[sectors.{key}]",
            f"label = {_toml_string(style['label'])}",
            f"colour = {_toml_string(style['colour'])}",
        ]
        for entry, layer in fetched[key]:
            lines += _source_lines(f"sectors.{key}.sources", relative, cache, entry, layer)
        taken = {entry.key for entry, _ in fetched[key]}
        lines += [_also(entry) for entry in catalogue.get(key, []) if entry.key not in taken]
    hint = f" --provincie {provincie}" if provincie else ""
    for key in sectors:
        if key not in fetched:
            lines += _fill_in_lines(key, sectors[key], catalogue.get(key, []), hint)
    if unfinished:
        lines += ["", f"# unfinished downloads (run the same novex-geo fetch again): {', '.join(unfinished)}"]
    lines += _triage_lines(fetched, relative, cache)
    lines += _conflict_lines(pairs, set(wired))
    return "\n".join(lines + _kansen_lines(kansen, set(wired))) + "\n"


def _project_lines(relative: str, provincie: str | None, regions: list | None, provinces_entry) -> list[str]:
    """``[project]`` and its regions: the fetched provinces (else where to fetch them)."""
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
    if not regions:
        lines.append("# fetch the provinces first:  novex-geo fetch cbs_provincies")
    entry, layer = regions[0] if regions else (provinces_entry, "cbs_provincies")
    return [
        *lines,
        f"path = {_toml_string(relative)}",
        f"layer = {_toml_string(layer)}",
        f"name_field = {_toml_string(entry.label_field)}",
    ]


def _fetched(records, catalog: dict) -> tuple[dict[str, list], list[str]]:
    """The finished downloads as ``(entry, layer)`` per sector or role, and the unfinished keys."""
    fetched: dict[str, list] = {}
    unfinished = []
    for record in records.to_dict("records"):
        entry = catalog.get(record["key"])
        if entry is None:
            continue
        if record.get("status") != "klaar":
            unfinished.append(entry.key)
            continue
        fetched.setdefault(entry.role or entry.sector, []).append((entry, record["layer"]))
    return fetched, unfinished


def _conflict_lines(pairs: list[dict], wired: set[str]) -> list[str]:
    """``[conflicts]`` with the template's pairs whose sectors both have layers."""
    chosen = [pair for pair in pairs if set(pair["sectors"]) <= wired]
    lines = ["", "[conflicts]", "min_area_m2 = 100"]
    for pair in chosen:
        lines += [
            "",
            "[[conflicts.pairs]]",
            "sectors = [" + ", ".join(map(_toml_string, pair["sectors"])) + "]",
        ]
        lines += [f"{key} = {pair[key]}" for key in ("distance", "weight") if key in pair]
    if not chosen:
        lines += ["# add [[conflicts.pairs]] once two conflicting sectors have layers"]
    return lines


def _kansen_lines(kansen: list[dict], wired: set[str]) -> list[str]:
    """The template's kansen whose sectors have layers; a kans that is also a conflict
    (``also_conflict``) has its conflict pair among the chosen ones, which have the same sectors."""
    chosen = [pair for pair in kansen if set(pair["sectors"]) <= wired]
    if not chosen:
        return [
            "",
            "# add [[kansen.pairs]] (sectors, toelichting) once two sectors whose meeting is a kans "
            "have layers",
        ]
    lines = ["", "[kansen]", "min_area_m2 = 100"]
    for pair in chosen:
        lines += [
            "",
            "[[kansen.pairs]]",
            "sectors = [" + ", ".join(map(_toml_string, pair["sectors"])) + "]",
            f"toelichting = {_toml_string(pair['toelichting'])}",
        ]
        lines += ["also_conflict = true"] if pair.get("also_conflict") else []
    return lines


def _triage_lines(fetched: dict, relative: str, cache: Path) -> list[str]:
    """``[triage]`` with the fetched municipalities and priority areas (NOVEX-gebieden), if any."""
    if not fetched.get("gemeenten") and not fetched.get("priority"):
        return []
    lines = ["", "[triage]"]
    for entry, layer in fetched.get("priority", []):
        lines += ["", f"# criterion 3 (prioriteit): {entry.title}"]
        lines += _source_lines("triage.priority", relative, cache, entry, layer)
    for entry, layer in fetched.get("gemeenten", [])[:1]:
        lines += ["", "[triage.gemeenten]", f"path = {_toml_string(relative)}"]
        lines += [f"layer = {_toml_string(layer)}", f"name_field = {_toml_string(entry.label_field)}"]
    return lines
