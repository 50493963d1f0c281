"""Plausibility of input data that would otherwise give silently wrong results.

Coordinates that do not fit the CRS a file declares (lon/lat degrees labelled RD, RD metres
labelled lon/lat) would reproject to nonsense or to nothing, and coordinates with x and y swapped
(latitude written first) to the wrong side of the world — each claim then meets no provincie and
the result is silently empty; regions that overlap would count
claimed area twice. Wrong coordinates are refused with a message that names the file and the
size of the problem. Overlapping regions are measured: slivers — what two boundary files
generalised apart leave between neighbours — go to one of the two regions and are reported in
one line (how many, how much, the worst); larger overlaps are an error for the regions an
analysis counts per, and only reported for layers that merely name places (gemeenten).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from novex_geo.errors import LayerError
from novex_geo.escape import NOT_PLAIN, plain_text
from novex_geo.units import HECTARE, counted, hectares

__all__ = ["NETHERLANDS_RD", "check_coordinates_fit", "plain_names", "resolve_overlaps"]

# an overlap is a sliver when it is at most this share of the smaller region and this large
SLIVER_SHARE = 0.001
SLIVER_MAX_M2 = 250_000.0


DEGREES = (-180.0, -90.0, 180.0, 90.0)
# RD New metres around the Netherlands and its North Sea waters (EEZ, up to about 55.8° N), with
# a margin: where data that swapped x and y would lie with them swapped back
NETHERLANDS_RD = (-100_000.0, 250_000.0, 350_000.0, 900_000.0)


@lru_cache(maxsize=32)
def _plausible_box(crs_text: str) -> tuple[float, float, float, float] | None:
    """Where data in ``crs`` can plausibly lie, in its own coordinates: the CRS's area of use
    widened by its own size on every side (``None`` when the CRS has no area of use)."""
    crs = CRS.from_user_input(crs_text)
    area = crs.area_of_use
    if area is None:
        return None
    if crs.is_geographic:
        return DEGREES
    to_crs = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)
    xmin, ymin, xmax, ymax = to_crs.transform_bounds(
        area.west, area.south, area.east, area.north, densify_pts=21
    )
    if not np.all(np.isfinite((xmin, ymin, xmax, ymax))):
        return None
    width, height = xmax - xmin, ymax - ymin
    return (xmin - width, ymin - height, xmax + width, ymax + height)


@lru_cache(maxsize=32)
def _netherlands(crs_text: str) -> tuple[float, float, float, float] | None:
    """:data:`NETHERLANDS_RD` in the coordinates of ``crs`` (x first), ``None`` when it has none."""
    to_crs = Transformer.from_crs(CRS.from_epsg(28992), CRS.from_user_input(crs_text), always_xy=True)
    box = to_crs.transform_bounds(*NETHERLANDS_RD, densify_pts=21)
    return box if np.all(np.isfinite(box)) else None


def _outside(bounds: np.ndarray, box) -> np.ndarray:
    xmin, ymin, xmax, ymax = bounds.T
    return (xmax < box[0]) | (xmin > box[2]) | (ymax < box[1]) | (ymin > box[3])


def check_coordinates_fit(geoms: np.ndarray, crs, path: str | Path, layer: str | None = None) -> int:
    """Raise when the coordinates cannot be in the declared CRS; return how many features lie
    or reach implausibly far from the CRS's area of use (a vertex typed wrong; for the caller
    to report).

    Refused: a geographic CRS with coordinates beyond ±180/±90 (RD metres labelled EPSG:4326),
    a projected CRS whose every feature lies within ±180/±90 far from where the CRS is used
    (lon/lat degrees labelled EPSG:28992), and a projected CRS whose every feature lies more
    than the CRS's own extent away from its area of use (another CRS's metres); and, in any CRS,
    features that all lie outside the Netherlands but would all meet it with x and y exchanged
    (latitude written as x).
    """
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(present) or crs is None:
        return 0
    crs = CRS.from_user_input(crs)
    box = _plausible_box(crs.to_wkt())
    if box is None:
        return 0
    bounds = np.asarray(shapely.bounds(present))
    far = _outside(bounds, box)
    if crs.is_geographic:
        wrong = far.all()
        hint = "these look like projected metres (e.g. RD) labelled as lon/lat degrees"
    else:
        degrees = ~_outside(bounds, DEGREES) & (bounds[:, 2] - bounds[:, 0] <= 360)
        wrong = far.all() or (degrees.all() and _far_from_use(bounds, crs))
        hint = (
            "these look like lon/lat degrees labelled as projected metres"
            if degrees.all()
            else "these look like coordinates of another CRS"
        )
    found = shapely.total_bounds(present)
    if not wrong and _swapped_axes(bounds, crs):
        raise LayerError(
            "the coordinates have x and y swapped: none of the features lies in the Netherlands "
            f"(x {found[0]:.6g} – {found[2]:.6g}, y {found[1]:.6g} – {found[3]:.6g} in {crs.to_string()}), "
            "but all would with x and y exchanged"
            + (" (latitude was written as x; x must be the longitude)" if crs.is_geographic else "")
            + ". Swap them (QGIS: 'Swap X and Y coordinates') and save the file again",
            path,
            layer,
        )
    if wrong:
        raise LayerError(
            f"the coordinates do not fit the declared CRS {crs.to_string()}: all {len(present)} features "
            f"lie outside the area where this CRS is valid (coordinates span {found[0]:.6g}, "
            f"{found[1]:.6g} – {found[2]:.6g}, {found[3]:.6g}); {hint}. Fix the file's CRS, or set "
            "crs = '...' on the source if the file has none",
            path,
            layer,
        )
    xmin, ymin, xmax, ymax = bounds.T
    return int(((xmin < box[0]) | (ymin < box[1]) | (xmax > box[2]) | (ymax > box[3])).sum())


def _swapped_axes(bounds: np.ndarray, crs: CRS) -> bool:
    """Whether every feature lies outside the Netherlands, and every one would meet it with its
    x and y exchanged."""
    box = _netherlands(crs.to_wkt())
    return box is not None and bool(
        _outside(bounds, box).all() and not _outside(bounds[:, [1, 0, 3, 2]], box).any()
    )


def _far_from_use(bounds: np.ndarray, crs: CRS) -> bool:
    """Whether every feature lies outside the CRS's (official) area of use."""
    area = crs.area_of_use
    to_crs = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)
    box = to_crs.transform_bounds(area.west, area.south, area.east, area.north, densify_pts=21)
    return bool(_outside(bounds, box).all())


def plain_names(names: pd.Series) -> tuple[pd.Series, str | None]:
    """Names read from data (provinces, gemeenten, NOVEX-gebieden, labels) without control
    characters (:func:`~novex_geo.escape.plain_text`: an escape sequence in a name would set a
    terminal's title or clear its screen), and a line saying how many had them (``None``: none)."""
    changed = names.str.contains(NOT_PLAIN).to_numpy(dtype=bool)  # 4× faster than cleaning all
    if not changed.any():
        return names, None
    cleaned = names.copy()
    cleaned[changed] = names[changed].map(plain_text)
    example, count = repr(names[changed].iloc[0])[:60], counted(int(changed.sum()), "name")
    return cleaned, f"{count} with control characters (e.g. {example}): taken out"


def resolve_overlaps(
    names: np.ndarray, geoms: np.ndarray, path: str | Path, layer: str | None = None, naming: bool = False
) -> tuple[np.ndarray, str | None]:
    """Regions without overlaps, and one line saying what was overlapping (``None``: nothing).

    Each overlap goes to the region that comes first by name, so no spot lies in two regions.
    Overlaps larger than a sliver (``SLIVER_SHARE`` of the smaller region, at most
    ``SLIVER_MAX_M2``) are an error, because an analysis would count claimed area there twice
    or arbitrarily — unless the regions only name places (``naming``): then they are resolved
    the same way and reported.
    """
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    inner = shapely.relate_pattern(geoms[left], geoms[right], "2********")
    left, right = left[inner], right[inner]
    if not len(left):
        return geoms, None
    shared = shapely.intersection(geoms[left], geoms[right])
    areas = shapely.area(shared)
    real = areas > 0  # interiors that meet by floating-point rounding only share no area
    left, right, shared, areas = left[real], right[real], shared[real], areas[real]
    if not len(left):
        return geoms, None
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    sliver = areas <= np.minimum(SLIVER_SHARE * smaller, SLIVER_MAX_M2)
    worst = np.argsort(-areas)[:3]
    listed = ", ".join(f"{names[left[k]]} / {names[right[k]]} {hectares(areas[k] / HECTARE)}" for k in worst)
    total = hectares(areas.sum() / HECTARE)
    summary = f"{counted(len(areas), 'overlap')} between regions ({total} in total; largest: {listed})"
    if not naming and not sliver.all():
        raise LayerError(
            f"regions overlap by more than slivers, so claimed area there would be counted twice: "
            f"{summary}; fix the boundaries (each spot belongs to one region)",
            path,
            layer,
        )
    first_by_name = np.where(names[left] <= names[right], left, right)
    later = np.where(first_by_name == left, right, left)
    result = geoms.copy()
    for region in np.unique(later):
        result[region] = shapely.difference(result[region], shapely.union_all(shared[later == region]))
    return result, f"{summary}: each given to one of its regions"
