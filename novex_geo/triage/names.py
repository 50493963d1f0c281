"""Names of spanningsgebieden that people at the table recognise.

A name is the gemeente that holds most of the area (the provincie when no gemeenten are
configured) and the most prominent *named* object in it: the claim feature with a real name —
a Natura 2000 area, a housing plan, a groundwater zone — that takes part in the largest share of
the area's schuurpunten. What real layers put in a label field is often no name at all: an id
(``nnn.60``, ``id2b60d03d-…``), a year or a code (``2050``, ``4``), or a category — written
without a capital (``waterwingebied``, ``leefgebied weidevogel``), equal to a sector's label
(``Glastuinbouw``), or carried by many features; those never name an area, nor does a label
that names a rule rather than a place (``Voorbeschermingsregels gemeente Borsele``).

Names that would repeat within a provincie get the direction from the centre of their place
(``Emmen-Zuid``, ``Emmen-Centrum``), then another object of their own, and as a last resort
their size; never a number of their own.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.units import hectares

__all__ = ["CATEGORY_FEATURES", "area_names", "is_name"]

CATEGORY_FEATURES = 5  # a label carried by more features than this is a category, not a name
MAX_OBJECT_CHARS = 40
CENTRE_SHARE = 0.2  # within this share of the place's radius from its centre: "Centrum"
DIRECTIONS = ("Oost", "Noordoost", "Noord", "Noordwest", "West", "Zuidwest", "Zuid", "Zuidoost")
RULE_WORDS = ("gemeente", "provincie", "regels", "verordening", "beleid")
_WORD = re.compile(r"[^\W\d_]{3,}")
_ID = re.compile(r"[\w-]*[._:]\d+|[A-Z]{1,3}-?\d+")
_TOKEN = re.compile(r"[\w-]+")


def is_name(label: str) -> bool:
    """Whether ``label`` can name a place: it has a word of three letters or more and a capital,
    and is no id, number, year, code or rule."""
    text = str(label).strip()
    if not _WORD.search(text) or _ID.fullmatch(text) or text == text.lower():
        return False
    for token in _TOKEN.findall(text):  # ids: long tokens that mix letters and digits
        if len(token) >= 8 and re.search(r"\d", token) and re.search(r"[^\W\d_]", token):
            return False
    folded = text.casefold()
    return not any(word in folded for word in RULE_WORDS)


@dataclass
class Places:
    """Per area the name of its place and that place's centre and radius (m)."""

    names: list[str]
    centres: np.ndarray
    radii: np.ndarray


def _places(areas: gpd.GeoDataFrame, gemeenten: gpd.GeoDataFrame | None) -> Places:
    """The gemeente with the largest share of each area, else its provincie(s)."""
    geoms = np.asarray(areas.geometry.values, dtype=object)
    names = areas["provincies"].str.replace(", ", "/").tolist()
    own = shapely.point_on_surface(geoms)
    centres = np.column_stack([shapely.get_x(own), shapely.get_y(own)])
    radii = np.full(len(areas), np.nan)
    if gemeenten is not None and len(gemeenten):
        places = np.asarray(gemeenten.geometry.values, dtype=object)
        area_i, gem_j = shapely.STRtree(places).query(geoms, predicate="intersects")
        overlap = shapely.area(shapely.intersection(geoms[area_i], places[gem_j]))
        best = pd.DataFrame({"a": area_i, "g": gem_j, "m2": overlap}).sort_values("m2").groupby("a").tail(1)
        chosen = places[best["g"].to_numpy()]
        for a, g in zip(best["a"], best["g"], strict=True):
            names[a] = str(gemeenten["provincie"].iloc[g])
        centre = shapely.centroid(chosen)
        centres[best["a"].to_numpy()] = np.column_stack([shapely.get_x(centre), shapely.get_y(centre)])
        radii[best["a"].to_numpy()] = np.sqrt(shapely.area(chosen) / math.pi)
    return Places(names, centres, radii)


def _objects(features: list, place_names: list[str], categories: set[str]) -> list[list[str]]:
    """Per area its named objects, most prominent first (see the module docstring)."""
    carriers = {(sector, label, feature) for found in features for sector, label, _, feature in found}
    per_label = Counter((sector, label) for sector, label, _ in carriers)
    result = []
    for found, place in zip(features, place_names, strict=True):
        weight: dict[str, float] = {}
        for sector, label, m2, _ in found:
            folded = label.casefold()
            usable = is_name(label) and per_label[(sector, label)] <= CATEGORY_FEATURES
            if usable and folded not in categories and place.casefold() not in folded:
                weight[label] = weight.get(label, 0.0) + m2
        ranked = sorted(weight, key=lambda label: (-weight[label], label))
        result.append([_short(label) for label in ranked])
    return result


def _short(label: str) -> str:
    """A label cut at a word boundary with "…" when it is too long for a name."""
    if len(label) <= MAX_OBJECT_CHARS:
        return label
    cut = label[: MAX_OBJECT_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:-(")
    return f"{cut} …"


def _direction(point: np.ndarray, centre: np.ndarray, radius: float) -> str:
    dx, dy = point - centre
    if math.hypot(dx, dy) <= CENTRE_SHARE * radius:
        return "Centrum"
    return DIRECTIONS[round(math.atan2(dy, dx) / (math.pi / 4)) % 8]


def _nearest_other(areas: gpd.GeoDataFrame, gemeenten: gpd.GeoDataFrame | None, own: list[str]) -> list[str]:
    """Per area the gemeente nearest to it other than its own ('' without gemeenten)."""
    if gemeenten is None or len(gemeenten) < 2:
        return [""] * len(areas)
    places = np.asarray(gemeenten.geometry.values, dtype=object)
    tree = shapely.STRtree(places)
    found = []
    for geom, name in zip(areas.geometry.values, own, strict=True):
        candidates = tree.query(geom, predicate="dwithin", distance=25_000)
        others = [j for j in candidates if str(gemeenten["provincie"].iloc[j]) != name]
        nearest = min(others, key=lambda j: shapely.distance(geom, places[j])) if others else None
        found.append("" if nearest is None else str(gemeenten["provincie"].iloc[nearest]))
    return found


def _name(place: str, objects: list[str], skip: int = 0) -> str:
    return f"{place}, {objects[skip]}" if len(objects) > skip else place


def _repeats(names: list[str], provinces: list[str]) -> list[list[int]]:
    """Groups of areas whose names repeat within a provincie."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (name, provincie) in enumerate(zip(names, provinces, strict=True)):
        groups.setdefault((name, provincie), []).append(i)
    return [group for group in groups.values() if len(group) > 1]


def area_names(
    areas: gpd.GeoDataFrame,
    features: list,
    gemeenten: gpd.GeoDataFrame | None,
    sector_labels: dict[str, str] | None = None,
) -> list[str]:
    """The name of every area (see the module docstring). ``features`` holds per area its
    ``(sector, label, m², feature id)`` from the schuurpunten; ``sector_labels`` the sectors'
    labels by key (a feature labelled like its sector is a category)."""
    places = _places(areas, gemeenten)
    categories = {text.casefold() for item in (sector_labels or {}).items() for text in item}
    objects = _objects(features, places.names, categories)
    names = [_name(place, found) for place, found in zip(places.names, objects, strict=True)]
    provinces = areas["provincies"].tolist()
    inside = shapely.point_on_surface(np.asarray(areas.geometry.values, dtype=object))
    points = np.column_stack([shapely.get_x(inside), shapely.get_y(inside)])
    for group in _repeats(names, provinces):  # the direction from the centre of the place
        middle = points[group].mean(axis=0)  # without gemeenten: of the group itself
        spread = np.hypot(*(points[group] - middle).T).max()
        for i in group:
            known = np.isfinite(places.radii[i])
            centre, radius = (places.centres[i], places.radii[i]) if known else (middle, spread)
            towards = _direction(points[i], centre, radius)
            names[i] = _name(f"{places.names[i]}-{towards}", objects[i])
    for group in _repeats(names, provinces):  # another object of their own
        for i in group:
            own = [label for label in objects[i] if all(label not in names[j] for j in group if j != i)]
            if own:
                names[i] = f"{names[i].split(', ', 1)[0]}, {own[0]}"
    for group in _repeats(names, provinces):  # the nearest other gemeente, where they differ
        neighbours = _nearest_other(areas.iloc[group], gemeenten, [places.names[i] for i in group])
        _qualify(names, group, [f"bij {neighbour}" if neighbour else "" for neighbour in neighbours])
    for group in _repeats(names, provinces):  # where in the group: its western, eastern… part
        middle = points[group].mean(axis=0)
        _qualify(names, group, [_direction(points[i], middle, 0.0).lower() for i in group])
    for group in _repeats(names, provinces):  # their size, as a last resort
        _qualify(names, group, [hectares(areas["oppervlakte_ha"].iloc[i]) for i in group])
    return names


def _qualify(names: list[str], group: list[int], qualifiers: list[str]) -> None:
    """Add to each name of ``group`` its qualifier, ``Hulst-Zuid (west)``, where the qualifiers
    tell the areas apart (one that others share is left out)."""
    counts = Counter(qualifiers)
    for i, qualifier in zip(group, qualifiers, strict=True):
        if qualifier and counts[qualifier] == 1:
            names[i] = f"{names[i]} ({qualifier})"
