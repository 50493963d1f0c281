"""Deterministic synthetic claim layers for benchmarks, tests and the demo.

The shapes imitate real NOVEX claim data: a tessellation of parcel-like polygons (BRP
gewaspercelen form a coverage), compact housing locations, irregular water/bodem zones,
high-voltage lines that become corridors with a ``buffer`` and military terrains. Every
function takes a :class:`numpy.random.Generator`, so a seed gives identical data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = [
    "MIXED",
    "PROFILES",
    "blobs",
    "national_claims",
    "parcels",
    "points_in",
    "polylines",
    "rectangles",
    "smooth_field",
]


def points_in(area, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points (x, y) inside the polygon ``area``."""
    shapely.prepare(area)
    xmin, ymin, xmax, ymax = area.bounds
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        batch = rng.uniform((xmin, ymin), (xmax, ymax), size=(max(2 * (n - count), 64), 2))
        batch = batch[shapely.contains_xy(area, batch[:, 0], batch[:, 1])]
        found.append(batch)
        count += len(batch)
    return np.concatenate(found)[:n]


def smooth_field(xy: np.ndarray, rng: np.random.Generator, wavelengths=(6e3, 14e3, 30e3)) -> np.ndarray:
    """A smooth random field (sum of plane waves) evaluated at ``xy``; clusters selections."""
    value = np.zeros(len(xy))
    for wavelength in wavelengths:
        for _ in range(3):
            angle = rng.uniform(0, np.pi)
            direction = np.array([np.cos(angle), np.sin(angle)])
            value += np.sin(xy @ direction * 2 * np.pi / wavelength + rng.uniform(0, 2 * np.pi))
    return value


def parcels(area, n: int, rng: np.random.Generator, fraction: float = 0.6, mixed: float = 0.0) -> np.ndarray:
    """About ``n`` parcel polygons tessellating ~``fraction`` of ``area`` as a coverage.

    Voronoi cells of random points: neighbouring cells share exact vertices, so the result
    is a valid polygonal coverage like BRP gewaspercelen. Cells are selected in clusters by a
    smooth field — with ``mixed`` > 0 less cleanly, as farmland lies between yards, nature and
    water — and cells on the outer hull (unbounded Voronoi cells) are left out.
    """
    points = points_in(area, int(n / fraction), rng)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), ordered=True))
    score = smooth_field(points, rng)
    if mixed:
        score = score + rng.normal(0, mixed, len(score))
    keep = score >= np.quantile(score, 1 - fraction)
    areas = shapely.area(cells)
    keep &= areas < 4 * np.median(areas)
    return cells[keep]


def rectangles(centres: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Randomly rotated rectangles (aspect 1–2.5) with their longest side ``sizes``."""
    aspect = rng.uniform(1.0, 2.5, len(centres))
    half_w, half_h = sizes / 2, sizes / aspect / 2
    angle = rng.uniform(0, np.pi, len(centres))
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
    local = corners[None, :, :] * np.stack([half_w, half_h], axis=1)[:, None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = local[..., 0] * cos - local[..., 1] * sin + centres[:, 0:1]
    y = local[..., 0] * sin + local[..., 1] * cos + centres[:, 1:2]
    return shapely.polygons(np.stack([x, y], axis=2))


def blobs(centres: np.ndarray, sizes: np.ndarray, rng: np.random.Generator, vertices: int = 28) -> np.ndarray:
    """Irregular star-shaped polygons about ``sizes`` across (zones, terrains)."""
    theta = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    wobble = np.zeros((len(centres), vertices))
    for harmonic in (2, 3, 5):
        phase = rng.uniform(0, 2 * np.pi, (len(centres), 1))
        wobble += rng.uniform(0.05, 0.15, (len(centres), 1)) * np.sin(harmonic * theta + phase)
    radius = sizes[:, None] / 2 * (1 + wobble)
    x = centres[:, 0:1] + radius * np.cos(theta)
    y = centres[:, 1:2] + radius * np.sin(theta)
    return shapely.polygons(np.stack([x, y], axis=2))


def polylines(starts: np.ndarray, lengths: np.ndarray, rng: np.random.Generator, legs: int = 5) -> np.ndarray:
    """Gently bending lines (like high-voltage connections) of about ``lengths`` metres."""
    heading = rng.uniform(0, 2 * np.pi, len(starts))
    turns = np.cumsum(rng.normal(0, 0.35, (len(starts), legs)), axis=1) + heading[:, None]
    step = (lengths / legs)[:, None]
    x = starts[:, 0:1] + np.concatenate(
        [np.zeros((len(starts), 1)), np.cumsum(step * np.cos(turns), axis=1)], axis=1
    )
    y = starts[:, 1:2] + np.concatenate(
        [np.zeros((len(starts), 1)), np.cumsum(step * np.sin(turns), axis=1)], axis=1
    )
    return shapely.linestrings(np.stack([x, y], axis=2))


def _frame(geoms, prefix: str, crs: str, **columns) -> gpd.GeoDataFrame:
    names = [f"{prefix} {i + 1}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"naam": names, **columns}, geometry=geoms, crs=crs)


PROFILES = ("easy", "dense")
MIXED = 4.0  # how much the dense profile mixes farmland with other land, against the smooth field
FARMLAND = 0.42  # the dense profile's share of parcels in the land: below the share where they all connect


CROPS = ["grasland", "maïs", "aardappelen", "tarwe"]


def _housing_plans(cities: np.ndarray, n: int, larger: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` housing plans around the towns (50–600 m, times ``larger``); one in twenty is a
    revised version lying partly on top of an earlier plan of the sector."""
    homes_at = cities[rng.integers(0, len(cities), n)] + rng.normal(0, 2500, (n, 2))
    woningbouw = rectangles(homes_at, rng.uniform(50, 600, len(homes_at)) * larger, rng)
    revised = rng.choice(len(woningbouw), len(woningbouw) // 20, replace=False)
    woningbouw[revised] = shapely.union(
        woningbouw[revised], shapely.transform(woningbouw[revised], lambda xy: xy + (60.0, 40.0))
    )
    return woningbouw


def national_claims(
    provinces: gpd.GeoDataFrame, scale: float = 1.0, seed: int = 2026, profile: str = "easy"
) -> dict[str, gpd.GeoDataFrame]:
    """The synthetic national claim set of the benchmark, on the real ``provinces``.

    At ``scale = 1``: ~420,000 landbouw parcels tessellating ~60 % of the land (a coverage),
    3,000 woningbouw locations (50–600 m; they overlap each other), 800 water/bodem zones
    (0.3–3 km; overlapping), 150 high-voltage lines (to be buffered) and 400 station points,
    120 defensie terrains (0.5–4 km). Smaller ``scale`` shrinks every count, for tests.

    The ``"easy"`` profile's farmland lies in large clusters, so a zone over many parcels is one
    face. The ``"dense"`` profile mixes farmland with the land between (``MIXED``) as real BRP
    parcels lie between yards, nature and water, and puts the other claims around the towns on
    the farmland, where they meet each other: a zone then splits into many faces, with many
    schuurpunten, and the landbouw-only face of a provincie is one face with many holes.

    Returns
    -------
    dict of layer name → GeoDataFrame with a ``naam`` column, in the CRS of ``provinces``.
    """
    rng = np.random.default_rng(seed)
    crs = provinces.crs
    land = shapely.union_all(provinces.geometry.values)

    def count(n: int) -> int:
        return max(round(n * scale), 2)

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    landbouw = None
    if profile == "dense":  # the parcels first, so that the other claims can lie on the farmland
        landbouw = parcels(land, count(420_000), rng, fraction=FARMLAND, mixed=MIXED)
        sample = landbouw[:: max(len(landbouw) // 5_000, 1)]
        land = shapely.intersection(land, shapely.union_all(shapely.buffer(sample, 2_000, quad_segs=2)))
    cities = points_in(land, count(80), rng)
    larger = 1.0 if profile == "easy" else 2.0  # dense: plans the size of a new neighbourhood
    woningbouw = _housing_plans(cities, count(3000), larger, rng)

    def places(n: int, spread: float) -> np.ndarray:
        """``n`` points anywhere on the land, or (dense) around the towns, where claims meet."""
        if profile == "easy":
            return points_in(land, n, rng)
        return cities[rng.integers(0, len(cities), n)] + rng.normal(0, spread, (n, 2))

    water_at = places(count(800), 4_000)
    water = blobs(water_at, rng.uniform(300, 3000, len(water_at)), rng)
    lines = polylines(places(count(150), 6_000), rng.uniform(8_000, 40_000, count(150)), rng)
    stations = shapely.points(places(count(400), 3_000))
    defensie = blobs(places(count(120), 6_000), rng.uniform(500, 4000, count(120)), rng)
    if landbouw is None:
        landbouw = parcels(land, count(420_000), rng)
    return {
        "landbouw": _frame(landbouw, "perceel", crs, gewas=rng.choice(CROPS, len(landbouw))),
        "woningbouw": _frame(woningbouw, "woningbouwlocatie", crs),
        "water_bodem": _frame(water, "waterzone", crs),
        "hoogspanning": _frame(lines, "verbinding", crs),
        "stations": _frame(stations, "station", crs),
        "defensie": _frame(defensie, "defensieterrein", crs),
    }
