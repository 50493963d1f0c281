"""Parsing and validation of the project file into :mod:`novex_geo.config.model` objects.

Every mistake raises :class:`~novex_geo.errors.ConfigError` naming the file and the key, with
a hint where one helps (close matches of unknown keys and sectors).
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

from novex_geo.config.database import Database, SourceKeyError, database_source, is_database_url
from novex_geo.config.model import (
    DEFAULT_ANNOTATIONS,
    DEFAULT_CRS,
    DEFAULT_TILE_SIZE,
    SECTOR_KEY,
    Project,
    RasterRule,
    Sector,
    Source,
    Triage,
)
from novex_geo.config.pairs import CONFLICTS_KEYS, KANSEN_KEYS, parse_conflicts, parse_kansen
from novex_geo.config.validate import MAX_DISTANCE_M, Validator
from novex_geo.config.variants import parse_opgaven, parse_variants
from novex_geo.errors import ConfigError

__all__ = ["load_project", "parse_project"]

RULE = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE]-?\d+)?)\s*$")
PROJECT_KEYS = {"name", "crs", "regions", "output", "tile_size", "workers", "executor", "provincies", "demo"}
EXECUTORS = ("local", "dask")
SECTOR_KEYS = {"label", "colour", "sources"}
SOURCE_KEYS = {
    "path",
    "layer",
    "where",
    "sql",
    "buffer",
    "label_field",
    "crs",
    "name",
    "attribution",
    "raster",
    "allow_incomplete",
}
RASTER_KEYS = {"band", "where", "in", "simplify"}
TOP_KEYS = {"project", "sectors", "conflicts", "kansen", "triage", "opgaven", "varianten"}
TRIAGE_KEYS = {
    "merge_distance",
    "min_stapeling",
    "min_area_ha",
    "min_max_stapeling",
    "min_conflict_ha",
    "provinces_recurring",
    "criteria_bonus",
    "kans_weight",
    "annotations",
    "priority",
    "gemeenten",
    "novex_gebieden",
    "robust_draws",
    "robust_weight_range",
    "robust_threshold_share",
    "robust_top",
}


def _parse_raster(check: Validator, table: Any, key: str) -> RasterRule:
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


def _parse_source(check: Validator, table: Any, key: str) -> Source:
    table = check.keys(table, SOURCE_KEYS, key)
    crs = check.text(table, "crs", key)
    location: Path | Database
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
        buffer=check.number(table, "buffer", key, minimum=0, strict=True, maximum=MAX_DISTANCE_M),
        label_field=check.text(table, "label_field", key),
        crs=check.crs(crs, f"{key}.crs") if crs else None,
        key=check.text(table, "name", key),
        attribution=check.text(table, "attribution", key),
        raster=_parse_raster(check, table["raster"], f"{key}.raster") if "raster" in table else None,
        allow_incomplete=check.flag(table, "allow_incomplete", key),
    )


def _parse_colour(check: Validator, value: Any, key: str) -> str:
    from matplotlib.colors import is_color_like, to_hex

    if not isinstance(value, str) or not is_color_like(value):
        raise check.fail(key, f"not a colour: {value!r} (use e.g. '#e31a1c' or 'darkgreen')")
    return to_hex(value)


def _parse_sector(check: Validator, sector_key: str, table: Any) -> Sector:
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


def _whole(check: Validator, table: dict, name: str, key: str, default: int, minimum: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise check.fail(f"{key}.{name}", f"must be a whole number >= {minimum}, got {value!r}")
    return value


def _weight_range(
    check: Validator, table: dict, key: str, default: tuple[float, float]
) -> tuple[float, float]:
    """``robust_weight_range``: the factors a weight is varied between, ``[low, high]`` with
    0 < low ≤ 1 ≤ high (``[1, 1]``: weights not varied)."""
    value = table.get("robust_weight_range", list(default))
    numbers = isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    )
    if not numbers or len(value) != 2 or not 0 < value[0] <= 1 <= value[1] or not math.isfinite(value[1]):
        raise check.fail(
            f"{key}.robust_weight_range", f"must be [low, high] with 0 < low <= 1 <= high, got {value!r}"
        )
    return float(value[0]), float(value[1])


def _share(check: Validator, table: dict, key: str, default: float) -> float:
    """``robust_threshold_share``: how far thresholds are varied, a share in [0, 1)."""
    share = check.number(table, "robust_threshold_share", key, default=default, minimum=0)
    if share >= 1:
        raise check.fail(f"{key}.robust_threshold_share", f"must be below 1 (a share), got {share:g}")
    return share


def _parse_triage(check: Validator, table: Any) -> Triage:
    key = "triage"
    table = check.keys(table, TRIAGE_KEYS, key)
    priority = table.get("priority", [])
    if not isinstance(priority, list):
        raise check.fail(f"{key}.priority", "must be a list of sources ([[triage.priority]])")
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
        kans_weight=number("kans_weight"),
        robust_draws=whole("robust_draws", 0),
        robust_weight_range=_weight_range(check, table, key, defaults.robust_weight_range),
        robust_threshold_share=_share(check, table, key, defaults.robust_threshold_share),
        robust_top=whole("robust_top", 1),
        annotations=check.path_value(
            {"annotations": table.get("annotations", DEFAULT_ANNOTATIONS)}, "annotations", key
        ),
        priority=tuple(
            _parse_source(check, source, f"{key}.priority[{i}]") for i, source in enumerate(priority)
        ),
        gemeenten=check.regions(table["gemeenten"], f"{key}.gemeenten", "statnaam")
        if "gemeenten" in table
        else None,
        novex_gebieden=check.regions(table["novex_gebieden"], f"{key}.novex_gebieden", "naam")
        if "novex_gebieden" in table
        else None,
    )


def _execution(check: Validator, project: dict[str, Any]) -> dict[str, Any]:
    """How and where the analysis runs: tiles, workers, executor, the provinces to run."""
    workers = project.get("workers", 0)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise check.fail("project.workers", f"must be a whole number >= 0 (0 = all cores), got {workers!r}")
    provincies = project.get("provincies", [])
    if not isinstance(provincies, list) or not all(isinstance(n, str) and n for n in provincies):
        raise check.fail("project.provincies", "must be a list of provincie names, e.g. ['Utrecht']")
    return {
        "tile_size": check.number(
            project, "tile_size", "project", default=DEFAULT_TILE_SIZE, minimum=100, maximum=MAX_DISTANCE_M
        ),
        "workers": workers,
        "executor": check.choice(project, "executor", "project", EXECUTORS),
        "provincies": tuple(provincies),
    }


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
    check = Validator(path)
    check.keys(data, TOP_KEYS, "")
    project = check.keys(data.get("project", {}), PROJECT_KEYS, "project")
    regions_table = project.get("regions")
    if regions_table is None:
        raise check.fail(
            "project.regions",
            "is required: the provinces file, e.g. [project.regions] path = 'provincies.gpkg', "
            "name_field = 'statnaam' (novex-geo fetch provincies downloads one)",
        )
    regions = check.regions(regions_table, "project.regions", "statnaam")
    sectors_table = data.get("sectors")
    if not isinstance(sectors_table, dict) or not sectors_table:
        raise check.fail("sectors", "define at least one sector, e.g. [sectors.woningbouw]")
    sectors = {key: _parse_sector(check, key, table) for key, table in sectors_table.items()}
    conflicts = check.keys(data.get("conflicts", {}), CONFLICTS_KEYS, "conflicts")
    conflict_pairs = parse_conflicts(check, conflicts.get("pairs", []), sectors)
    kansen = check.keys(data.get("kansen", {}), KANSEN_KEYS, "kansen")
    return Project(
        path=path,
        name=check.text(project, "name", "project", default=path.stem),
        crs=check.analysis_crs(project.get("crs", DEFAULT_CRS), "project.crs"),
        regions=regions,
        output_dir=check.path_value({"output": project.get("output", "uitvoer")}, "output", "project"),
        sectors=sectors,
        conflicts=conflict_pairs,
        min_area_m2=check.number(conflicts, "min_area_m2", "conflicts", default=0.0, minimum=0),
        kansen=parse_kansen(check, kansen.get("pairs", []), sectors, conflict_pairs),
        kansen_min_area_m2=check.number(kansen, "min_area_m2", "kansen", default=0.0, minimum=0),
        **_execution(check, project),
        triage=_parse_triage(check, data.get("triage", {})),
        demo=check.flag(project, "demo", "project"),
        opgaven=parse_opgaven(check, data.get("opgaven", {}), sectors),
        varianten=parse_variants(check, data.get("varianten", [])),
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
        # utf-8-sig: Notepad saves UTF-8 with a byte-order mark, which TOML itself refuses
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"TOML syntax error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text: {exc}") from None
    return parse_project(data, path)
