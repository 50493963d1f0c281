"""Parsing and validation of the project file into :mod:`novex_geo.config.model` objects.

Every mistake raises :class:`~novex_geo.errors.ConfigError` naming the file and the key, with
a hint where one helps (close matches of unknown keys and sectors).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from novex_geo.config.database import SourceKeyError, database_source, is_database_url
from novex_geo.config.model import (
    DEFAULT_ANNOTATIONS,
    DEFAULT_CRS,
    DEFAULT_TILE_SIZE,
    SECTOR_KEY,
    ConflictPair,
    Project,
    RasterRule,
    Regions,
    Sector,
    Source,
    Triage,
)
from novex_geo.errors import ConfigError

__all__ = ["load_project", "parse_project"]

RULE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE]-?\d+)?)\s*$")
PROJECT_KEYS = {"name", "crs", "regions", "output", "tile_size", "workers", "executor", "provincies", "demo"}
EXECUTORS = ("local", "dask")
REGIONS_KEYS = {"path", "layer", "name_field"}
SECTOR_KEYS = {"label", "colour", "sources"}
SOURCE_KEYS = {"path", "layer", "where", "sql", "buffer", "label_field", "crs", "name", "attribution",
               "raster"}  # fmt: skip
RASTER_KEYS = {"band", "where", "in", "simplify"}
CONFLICTS_KEYS = {"pairs", "min_area_m2"}
PAIR_KEYS = {"sectors", "distance", "weight"}
TOP_KEYS = {"project", "sectors", "conflicts", "triage"}
TRIAGE_KEYS = {"merge_distance", "min_stapeling", "min_area_ha", "min_max_stapeling", "min_conflict_ha",
               "provinces_recurring", "criteria_bonus", "annotations", "priority",
               "gemeenten"}  # fmt: skip


class _Validator:
    """Small helpers that raise :class:`ConfigError` with the file and key."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(self.path, message, key)

    def keys(self, table: Any, allowed: set[str], key: str) -> dict[str, Any]:
        if not isinstance(table, dict):
            raise self.fail(key, f"must be a table, got {type(table).__name__}")
        for name in table:
            if name not in allowed:
                hint = difflib.get_close_matches(name, allowed, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                known = ", ".join(sorted(allowed))
                raise self.fail(
                    f"{key}.{name}" if key else name,
                    f"unknown key{suggestion}; known keys: {known}",
                )
        return table

    def text(self, table: dict, name: str, key: str, default: str | None = None) -> str | None:
        value = table.get(name, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail(f"{key}.{name}", "must be a non-empty string")
        return value

    def number(
        self,
        table: dict,
        name: str,
        key: str,
        default: float | None = None,
        minimum: float | None = None,
        strict: bool = False,
    ) -> float | None:
        value = table.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{key}.{name}", f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.fail(f"{key}.{name}", f"must be a finite number, got {value!r}")
        if minimum is not None and (value < minimum or (strict and value == minimum)):
            bound = ">" if strict else ">="
            raise self.fail(f"{key}.{name}", f"must be {bound} {minimum:g}, got {value:g}")
        return float(value)

    def path_value(self, table: dict, name: str, key: str, required: bool = True) -> Path | None:
        value = self.text(table, name, key)
        if value is None:
            if required:
                raise self.fail(f"{key}.{name}", "is required")
            return None
        if is_database_url(value):
            raise self.fail(f"{key}.{name}", "must be a file; a postgresql:// URL is for sources")
        resolved = Path(value).expanduser()
        return resolved if resolved.is_absolute() else (self.path.parent / resolved).resolve()

    def crs(self, value: str, key: str) -> str:
        if not isinstance(value, str) or not re.match(r"^[A-Za-z]+:\d+$", value):
            raise self.fail(key, f"use an authority code such as 'EPSG:28992', got {value!r}")
        try:
            CRS.from_user_input(value)
        except CRSError as exc:
            raise self.fail(key, f"unknown CRS {value!r} ({exc})") from None
        return value.upper()


def _parse_raster(check: _Validator, table: Any, key: str) -> RasterRule:
    table = check.keys(table, RASTER_KEYS, key)
    band = table.get("band", 1)
    if isinstance(band, bool) or not isinstance(band, int) or band < 1:
        raise check.fail(f"{key}.band", f"must be a band number >= 1, got {band!r}")
    simplify = table.get("simplify", False)
    if not isinstance(simplify, bool):
        raise check.fail(f"{key}.simplify", "must be true or false")
    if ("where" in table) == ("in" in table):
        raise check.fail(key, 'give exactly one rule: where = ">= 0.3" or in = [3, 4, 5]')
    if "in" in table:
        classes = table["in"]
        if (
            not isinstance(classes, list)
            or not classes
            or not all(
                isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in classes
            )
        ):
            raise check.fail(f"{key}.in", "must be a non-empty list of finite class values, e.g. [3, 4, 5]")
        return RasterRule(band=band, classes=tuple(float(c) for c in classes), simplify=simplify)
    match = RULE.match(str(table["where"]))
    if not match:
        raise check.fail(
            f"{key}.where",
            f"not a rule: {table['where']!r}; use a comparison such as '>= 0.3', '< 10' or '== 4'",
        )
    return RasterRule(band=band, op=match.group(1), value=float(match.group(2)), simplify=simplify)


def _parse_source(check: _Validator, table: Any, key: str) -> Source:
    table = check.keys(table, SOURCE_KEYS, key)
    crs = check.text(table, "crs", key)
    if is_database_url(table.get("path")):
        try:
            location = database_source(table)
        except SourceKeyError as exc:
            raise check.fail(f"{key}.{exc.name}", str(exc)) from None
    elif "sql" in table:
        raise check.fail(f"{key}.sql", "is for a PostGIS source (path = 'postgresql://…'); use layer, where")
    else:
        location = check.path_value(table, "path", key)
    if "raster" in table:
        for name in ("where", "label_field", "layer"):
            if name in table:
                raise check.fail(f"{key}.{name}", "does not apply to a raster source; use raster = {...}")
    return Source(
        path=location,
        layer=check.text(table, "layer", key),
        where=check.text(table, "where", key),
        sql=check.text(table, "sql", key),
        buffer=check.number(table, "buffer", key, minimum=0, strict=True),
        label_field=check.text(table, "label_field", key),
        crs=check.crs(crs, f"{key}.crs") if crs else None,
        key=check.text(table, "name", key),
        attribution=check.text(table, "attribution", key),
        raster=_parse_raster(check, table["raster"], f"{key}.raster") if "raster" in table else None,
    )


def _parse_colour(check: _Validator, value: Any, key: str) -> str:
    from matplotlib.colors import is_color_like, to_hex

    if not isinstance(value, str) or not is_color_like(value):
        raise check.fail(key, f"not a colour: {value!r} (use e.g. '#e31a1c' or 'darkgreen')")
    return to_hex(value)


def _parse_sector(check: _Validator, sector_key: str, table: Any) -> Sector:
    key = f"sectors.{sector_key}"
    if not SECTOR_KEY.match(sector_key):
        raise check.fail(key, "sector keys are lower-case letters, digits and '_' (e.g. 'water_bodem')")
    table = check.keys(table, SECTOR_KEYS, key)
    sources = table.get("sources")
    if not isinstance(sources, list) or not sources:
        raise check.fail(f"{key}.sources", "list at least one source ([[sectors.KEY.sources]])")
    parsed = tuple(_parse_source(check, source, f"{key}.sources[{i}]") for i, source in enumerate(sources))
    names = [source.name for source in parsed]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise check.fail(
                f"{key}.sources[{i}]",
                f"two sources are both called '{name}'; give one a distinct name = '...'",
            )
    return Sector(
        key=sector_key,
        label=check.text(table, "label", key, default=sector_key.replace("_", " ").capitalize()),
        colour=_parse_colour(check, table.get("colour", "#888888"), f"{key}.colour"),
        sources=parsed,
    )


def _parse_pairs(check: _Validator, pairs: Any, sectors: dict[str, Sector]) -> tuple:
    if not isinstance(pairs, list):
        raise check.fail("conflicts.pairs", "must be a list of tables ([[conflicts.pairs]])")
    parsed: list[ConflictPair] = []
    seen: set[frozenset[str]] = set()
    for i, table in enumerate(pairs):
        key = f"conflicts.pairs[{i}]"
        table = check.keys(table, PAIR_KEYS, key)
        names = table.get("sectors")
        if not (isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)):
            raise check.fail(
                f"{key}.sectors", "must name exactly two sectors, e.g. ['woningbouw', 'defensie']"
            )
        for name in names:
            if name not in sectors:
                hint = difflib.get_close_matches(name, sectors, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise check.fail(
                    f"{key}.sectors",
                    f"unknown sector '{name}'{suggestion}; sectors in this file: " + ", ".join(sectors),
                )
        if names[0] == names[1]:
            raise check.fail(f"{key}.sectors", "a conflict pair needs two different sectors")
        if frozenset(names) in seen:
            raise check.fail(f"{key}.sectors", f"pair {names[0]} × {names[1]} is listed twice")
        seen.add(frozenset(names))
        parsed.append(
            ConflictPair(
                a=names[0],
                b=names[1],
                distance=check.number(table, "distance", key, default=0.0, minimum=0),
                weight=check.number(table, "weight", key, default=1.0, minimum=0, strict=True),
            )
        )
    return tuple(parsed)


def _choice(check: _Validator, table: dict, name: str, key: str, choices: tuple[str, ...]) -> str:
    value = table.get(name, choices[0])
    if value not in choices:
        raise check.fail(f"{key}.{name}", f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _flag(check: _Validator, table: dict, name: str, key: str) -> bool:
    value = table.get(name, False)
    if not isinstance(value, bool):
        raise check.fail(f"{key}.{name}", f"must be true or false, got {value!r}")
    return value


def _whole(check: _Validator, table: dict, name: str, key: str, default: int, minimum: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise check.fail(f"{key}.{name}", f"must be a whole number >= {minimum}, got {value!r}")
    return value


def _parse_triage(check: _Validator, table: Any) -> Triage:
    key = "triage"
    table = check.keys(table, TRIAGE_KEYS, key)
    priority = table.get("priority", [])
    if not isinstance(priority, list):
        raise check.fail(f"{key}.priority", "must be a list of sources ([[triage.priority]])")
    gemeenten = None
    if "gemeenten" in table:
        g = check.keys(table["gemeenten"], REGIONS_KEYS, f"{key}.gemeenten")
        gemeenten = Regions(
            path=check.path_value(g, "path", f"{key}.gemeenten"),
            layer=check.text(g, "layer", f"{key}.gemeenten"),
            name_field=check.text(g, "name_field", f"{key}.gemeenten", default="statnaam"),
        )
    defaults = Triage()

    def number(name: str) -> float:
        return check.number(table, name, key, default=getattr(defaults, name), minimum=0)

    def whole(name: str, minimum: int) -> int:
        return _whole(check, table, name, key, getattr(defaults, name), minimum)

    return Triage(
        merge_distance=number("merge_distance"),
        min_stapeling=whole("min_stapeling", 2),
        min_area_ha=number("min_area_ha"),
        min_max_stapeling=whole("min_max_stapeling", 1),
        min_conflict_ha=number("min_conflict_ha"),
        provinces_recurring=whole("provinces_recurring", 2),
        criteria_bonus=number("criteria_bonus"),
        annotations=check.path_value(
            {"annotations": table.get("annotations", DEFAULT_ANNOTATIONS)}, "annotations", key
        ),
        priority=tuple(
            _parse_source(check, source, f"{key}.priority[{i}]") for i, source in enumerate(priority)
        ),
        gemeenten=gemeenten,
    )


def parse_project(data: dict[str, Any], path: str | Path) -> Project:
    """Validate the parsed TOML ``data`` of the project file at ``path``.

    Parameters
    ----------
    data : the dictionary returned by :func:`tomllib.load`
    path : the project file; relative paths in ``data`` resolve against its folder

    Returns
    -------
    Project

    Raises
    ------
    ConfigError
        naming the file and the offending key.
    """
    path = Path(path).resolve()
    check = _Validator(path)
    check.keys(data, TOP_KEYS, "")
    project = check.keys(data.get("project", {}), PROJECT_KEYS, "project")
    regions_table = project.get("regions")
    if regions_table is None:
        raise check.fail(
            "project.regions",
            "is required: the provinces file, e.g. [project.regions] path = 'provincies.gpkg', "
            "name_field = 'statnaam' (novex-geo fetch provincies downloads one)",
        )
    regions_table = check.keys(regions_table, REGIONS_KEYS, "project.regions")
    regions = Regions(
        path=check.path_value(regions_table, "path", "project.regions"),
        layer=check.text(regions_table, "layer", "project.regions"),
        name_field=check.text(regions_table, "name_field", "project.regions", default="statnaam"),
    )
    sectors_table = data.get("sectors")
    if not isinstance(sectors_table, dict) or not sectors_table:
        raise check.fail("sectors", "define at least one sector, e.g. [sectors.woningbouw]")
    sectors = {key: _parse_sector(check, key, table) for key, table in sectors_table.items()}
    conflicts = check.keys(data.get("conflicts", {}), CONFLICTS_KEYS, "conflicts")
    workers = project.get("workers", 0)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise check.fail("project.workers", f"must be a whole number >= 0 (0 = all cores), got {workers!r}")
    provincies = project.get("provincies", [])
    if not isinstance(provincies, list) or not all(isinstance(n, str) and n for n in provincies):
        raise check.fail("project.provincies", "must be a list of provincie names, e.g. ['Utrecht']")
    return Project(
        path=path,
        name=check.text(project, "name", "project", default=path.stem),
        crs=check.crs(project.get("crs", DEFAULT_CRS), "project.crs"),
        regions=regions,
        output_dir=check.path_value({"output": project.get("output", "uitvoer")}, "output", "project"),
        sectors=sectors,
        conflicts=_parse_pairs(check, conflicts.get("pairs", []), sectors),
        min_area_m2=check.number(conflicts, "min_area_m2", "conflicts", default=0.0, minimum=0),
        tile_size=check.number(project, "tile_size", "project", default=DEFAULT_TILE_SIZE, minimum=100),
        workers=workers,
        executor=_choice(check, project, "executor", "project", EXECUTORS),
        provincies=tuple(provincies),
        triage=_parse_triage(check, data.get("triage", {})),
        demo=_flag(check, project, "demo", "project"),
    )


def load_project(path: str | Path) -> Project:
    """Read and validate a project file.

    Examples
    --------
    >>> project = load_project("novex.toml")  # doctest: +SKIP
    >>> sorted(project.sectors)  # doctest: +SKIP
    ['defensie', 'energie', 'landbouw', 'water_bodem', 'woningbouw']
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, "project file not found (create one with 'novex-geo init')")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"TOML syntax error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text: {exc}") from None
    return parse_project(data, path)
