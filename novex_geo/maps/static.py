"""A static conflict map with matplotlib: claims, schuurpunten, area outline, borders, legend,
scale bar and north arrow. Used by the signal 1-pager and for slides."""

from __future__ import annotations

import math
from collections.abc import Mapping

import geopandas as gpd
import matplotlib.patches as mpatches
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from novex_geo.config import DEMO_MARK, Project

__all__ = ["draw_conflict_map", "nice_length"]

SCHUURPUNT_COLOUR = "#b10026"


def nice_length(span: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^n metres) of about a fifth of ``span``."""
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in (1, 2, 5) if step * power <= target)


def _clip(frame: gpd.GeoDataFrame, box) -> gpd.GeoDataFrame:
    if frame.empty:
        return frame
    hits = shapely.STRtree(frame.geometry.values).query(box, predicate="intersects")
    subset = frame.iloc[np.sort(hits)]
    return subset.set_geometry(shapely.clip_by_rect(subset.geometry.values, *box.bounds))


def _scale_bar(ax: Axes, extent) -> None:
    xmin, ymin, xmax, ymax = extent
    length = nice_length(xmax - xmin)
    x0, y0 = xmin + 0.04 * (xmax - xmin), ymin + 0.05 * (ymax - ymin)
    height = 0.012 * (ymax - ymin)
    for i in range(2):
        ax.add_patch(
            mpatches.Rectangle(
                (x0 + i * length / 2, y0),
                length / 2,
                height,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                lw=0.8,
                zorder=10,
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0, y0 + 1.8 * height, "0", fontsize=7, ha="center", zorder=10)
    ax.text(x0 + length, y0 + 1.8 * height, label, fontsize=7, ha="center", zorder=10)


def _north_arrow(ax: Axes) -> None:
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.85), xycoords="axes fraction", ha="center", va="center",
                fontsize=10, fontweight="bold", arrowprops={"facecolor": "black", "width": 3, "headwidth": 9},
                zorder=10)  # fmt: skip


def draw_conflict_map(
    ax: Axes,
    project: Project,
    claims: Mapping[str, gpd.GeoDataFrame],
    regions: gpd.GeoDataFrame,
    schuurpunten: gpd.GeoDataFrame | None = None,
    focus=None,
    margin: float = 0.35,
    attribution: str = "",
    areas: gpd.GeoDataFrame | None = None,
) -> tuple[float, float, float, float]:
    """Draw the conflict map on ``ax`` around ``focus`` (or all regions); returns the extent.

    Sectors are drawn in the project's colours with their labels; ``areas``
    (spanningsgebieden) are outlined as well; a demo project is marked as fictional. Claims
    are clipped to the extent first, so a national parcel layer draws quickly.
    """
    colours = {key: sector.colour for key, sector in project.sectors.items()}
    labels = {key: sector.label for key, sector in project.sectors.items()}
    mark = DEMO_MARK if project.demo else None
    xmin, ymin, xmax, ymax = (
        focus if focus is not None else shapely.union_all(regions.geometry.values)
    ).bounds
    pad = max(margin * max(xmax - xmin, ymax - ymin), 1_000.0)
    width, height = xmax - xmin + 2 * pad, ymax - ymin + 2 * pad
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    aspect = ax.bbox.height / ax.bbox.width if ax.bbox.width else 1.0
    width, height = max(width, height / aspect), max(height, width * aspect)
    extent = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    box = shapely.box(*extent)
    handles = []
    for key, frame in claims.items():
        subset = _clip(frame, box)
        colour = colours.get(key, "#888888")
        if len(subset):
            subset.plot(ax=ax, facecolor=colour, edgecolor=colour, alpha=0.35, linewidth=0.4, zorder=2)
        handles.append(
            mpatches.Patch(facecolor=colour, edgecolor=colour, alpha=0.5, label=labels.get(key, key))
        )
    if schuurpunten is not None and len(schuurpunten):
        subset = _clip(schuurpunten, box)
        if len(subset):
            subset.plot(
                ax=ax, facecolor="none", edgecolor=SCHUURPUNT_COLOUR, hatch="////", linewidth=0.6, zorder=4
            )
        handles.append(
            mpatches.Patch(facecolor="none", edgecolor=SCHUURPUNT_COLOUR, hatch="////", label="schuurpunt")
        )
    borders = _clip(regions.set_geometry(regions.boundary), box)
    if len(borders):
        borders.plot(ax=ax, color="#444444", linewidth=1.4, linestyle="-.", zorder=5)
    handles.append(Line2D([], [], color="#444444", linewidth=1.4, linestyle="-.", label="provinciegrens"))
    outlines = [focus] if focus is not None else []
    if areas is not None and len(areas):
        outlines += list(_clip(areas, box).geometry.values)
    if outlines:
        width = 2.0 if focus is not None else 1.2
        gpd.GeoSeries(outlines).boundary.plot(ax=ax, color="black", linewidth=width, zorder=6)
        handles.append(Line2D([], [], color="black", linewidth=2.0, label="spanningsgebied"))
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
    _scale_bar(ax, extent)
    _north_arrow(ax)
    if attribution:
        ax.text(0.01, 0.01, attribution, transform=ax.transAxes, fontsize=5.5, color="#333333", va="bottom",
                bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1})  # fmt: skip
    if mark:
        ax.text(0.5, 0.5, mark, transform=ax.transAxes, fontsize=28, color="#999999", alpha=0.35, rotation=25,
                ha="center", va="center", zorder=20)  # fmt: skip
    return extent
