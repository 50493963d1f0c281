"""Checks of single values in the project file; each failure is a
:class:`~novex_geo.errors.ConfigError` naming the file and the key."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, overload

from pyproj import CRS
from pyproj.exceptions import CRSError

from novex_geo.config.database import is_database_url
from novex_geo.config.model import Regions
from novex_geo.errors import ConfigError

__all__ = ["REGIONS_KEYS", "Validator"]

REGIONS_KEYS = {"path", "layer", "name_field"}
# larger is a typo, not a plan: the Netherlands are 300 km across, and weights rank a few pairs
MAX_DISTANCE_M = 100_000.0
MAX_WEIGHT = 1_000.0


class Validator:
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

    def sector(self, name: Any, key: str, sectors: Collection[str]) -> str:
        """``name`` if it is one of the ``sectors``' keys; else the error lists them."""
        if isinstance(name, str) and name in sectors:
            return name
        hint = difflib.get_close_matches(name, list(sectors), n=1) if isinstance(name, str) else []
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        known = ", ".join(sectors)
        raise self.fail(key, f"unknown sector '{name}'{suggestion}; sectors in this file: {known}")

    @overload
    def text(self, table: dict, name: str, key: str, default: str) -> str: ...
    @overload
    def text(self, table: dict, name: str, key: str, default: None = None) -> str | None: ...
    def text(self, table: dict, name: str, key: str, default: str | None = None) -> str | None:
        value = table.get(name, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail(f"{key}.{name}", "must be a non-empty string")
        return value

    @overload
    def number(
        self,
        table: dict,
        name: str,
        key: str,
        default: float,
        minimum: float | None = None,
        strict: bool = False,
        maximum: float | None = None,
    ) -> float: ...
    @overload
    def number(
        self,
        table: dict,
        name: str,
        key: str,
        default: None = None,
        minimum: float | None = None,
        strict: bool = False,
        maximum: float | None = None,
    ) -> float | None: ...
    def number(
        self,
        table: dict,
        name: str,
        key: str,
        default: float | None = None,
        minimum: float | None = None,
        strict: bool = False,
        maximum: float | None = None,
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
        if maximum is not None and value > maximum:
            raise self.fail(f"{key}.{name}", f"must be <= {maximum:g}, got {value:g}")
        return float(value)

    @overload
    def path_value(self, table: dict, name: str, key: str, required: Literal[True] = True) -> Path: ...
    @overload
    def path_value(self, table: dict, name: str, key: str, required: bool) -> Path | None: ...
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

    def analysis_crs(self, value: str, key: str) -> str:
        """A CRS to measure in: projected, in metres (areas in m², buffers and distances in m)."""
        value = self.crs(value, key)
        definition = CRS.from_user_input(value)
        unit = definition.axis_info[0].unit_name if definition.axis_info else ""
        if not definition.is_projected or unit not in ("metre", "meter"):
            raise self.fail(
                key,
                f"{value} ({definition.name}) is not a projected CRS in metres: areas, buffers and "
                "distances would be in its units; use EPSG:28992 (RD New)",
            )
        return value

    def choice(self, table: dict, name: str, key: str, choices: tuple[str, ...]) -> str:
        value = table.get(name, choices[0])
        if value not in choices:
            raise self.fail(f"{key}.{name}", f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    def flag(self, table: dict, name: str, key: str) -> bool:
        value = table.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(f"{key}.{name}", f"must be true or false, got {value!r}")
        return value

    def regions(self, table: Any, key: str, name_field: str) -> Regions:
        """A regions file: ``path``, ``layer`` and ``name_field`` (default ``name_field``)."""
        table = self.keys(table, REGIONS_KEYS, key)
        return Regions(
            path=self.path_value(table, "path", key),
            layer=self.text(table, "layer", key),
            name_field=self.text(table, "name_field", key, default=name_field),
        )
