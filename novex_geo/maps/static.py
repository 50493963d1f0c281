"""Static conflict maps with matplotlib, for slides, signals, sketches and posters.

The map frame holds only the map (claims, stapeling, schuurpunten, kansen, outlines, borders, scale bar
and north arrow in its corners); the legend and the credit line sit outside it, so they never
cover what the map is about. The legend lists only what was drawn and the credit line names
the sources of what was drawn: each source's ``attribution`` (from the project file or
``novex-geo fetch``), else its file. All text is plain text: ``$`` never starts math.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import matplotlib
import matplotlib.patches as mpatches
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text

from novex_geo.config import DEMO_MARK, KANS, SCHUURPUNT, Project
from novex_geo.geometry import polygonal
from novex_geo.io.layers import SectorLayer
from novex_geo.maps.text_fit import fit, fit_legend, wrap
from novex_geo.style import BORDER_COLOUR, KANS_COLOUR, SCHUURPUNT_COLOUR

__all__ = [
    "ZONE_STYLES",
    "Credits",
    "MapDrawing",
    "add_credits",
    "add_legend",
    "clip",
    "conflict_map_figure",
    "credits_height",
    "draw_conflict_map",
    "draw_zones",
    "finish_frame",
    "map_extent",
    "nice_length",
    "plain",
]

BORDER = {"color": BORDER_COLOUR, "linewidth": 1.4, "linestyle": "-."}
DISSOLVED_CLAIMS = 5_000  # a sector with at most this many features in view is drawn as one shape
# schuurpunten and kansen: hatched in opposite directions, in red and in green
ZONE_STYLES = {
    SCHUURPUNT.soort: {"edgecolor": SCHUURPUNT_COLOUR, "hatch": "////"},
    KANS.soort: {"edgecolor": KANS_COLOUR, "hatch": "\\\\\\\\"},
}


def plain(text: object) -> str:
    """``text`` for a matplotlib artist that parses math itself (legend entries): ``$`` is a dollar."""
    return str(text).replace("$", r"\$")


def nice_length(span: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^n metres) of about a fifth of ``span``."""
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in (1, 2, 5) if step * power <= target)


@dataclass
class Credits:
    """The credit of every source: ``(sector, source name) → text``, and of the regions file."""

    sources: dict[tuple[str, str], str]
    regions: str

    @classmethod
    def of(cls, project: Project, layers: Mapping[str, SectorLayer], regions: str | None = None) -> Credits:
        """The credits of a project's loaded sources and of its regions file: ``regions``
        (:func:`~novex_geo.io.regions.regions_credit`), else the file's name."""
        sources = {
            (report.sector, report.source): report.attribution or Path(report.path).name
            for layer in layers.values()
            for report in layer.reports
        }
        return cls(sources, regions or f"provinciegrenzen: {project.regions.path.name}")

    @property
    def every(self) -> list[str]:
        """Every credit, each once: what a layout reserves room for."""
        return list(dict.fromkeys([*sorted(self.sources.values()), self.regions]))

    def of_drawn(self, frames) -> list[str]:
        """The credits of the sources with features in ``frames`` (each with ``sector`` and
        ``source`` columns), then the regions', each once."""
        drawn = {
            self.sources.get(key, key[1])
            for frame in frames
            if frame is not None and len(frame) and "source" in frame.columns
            for key in zip(frame["sector"], frame["source"], strict=True)
        }
        return [*sorted(drawn), self.regions]


@dataclass
class MapDrawing:
    """What :func:`draw_conflict_map` drew: the extent, a legend entry per kind of thing
    drawn, and the credits of the sources drawn."""

    extent: tuple[float, float, float, float]
    handles: list = field(default_factory=list)
    credits: list[str] = field(default_factory=list)


def clip(frame: gpd.GeoDataFrame | None, box) -> gpd.GeoDataFrame | None:
    """The features of ``frame`` inside the rectangle ``box``, cut to it (``None`` when none)."""
    if frame is None or frame.empty:
        return None
    hits = shapely.STRtree(frame.geometry.values).query(box, predicate="intersects")
    if not len(hits):
        return None
    subset = frame.iloc[np.sort(hits)]
    return subset.set_geometry(shapely.clip_by_rect(subset.geometry.values, *box.bounds))


def _as_drawn(claims: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """A sector's features as drawn: as they are (parcel edges stay), or as one shape where they
    overlap (a terrain and its zone), so that the overlap is not darker than the legend says."""
    if len(claims) > DISSOLVED_CLAIMS:
        return claims.geometry
    merged = polygonal(shapely.union_all(claims.geometry.values))
    if merged.area >= float(claims.area.sum()) * (1 - 1e-9):
        return claims.geometry
    return gpd.GeoSeries([merged], crs=claims.crs)


def map_extent(ax: Axes, focus, regions: gpd.GeoDataFrame, margin: float) -> tuple[float, ...]:
    """The focus (or all regions) with a margin, widened to the shape of ``ax``."""
    xmin, ymin, xmax, ymax = (
        focus if focus is not None else shapely.union_all(regions.geometry.values)
    ).bounds
    pad = max(margin * max(xmax - xmin, ymax - ymin), 1_000.0)
    width, height = xmax - xmin + 2 * pad, ymax - ymin + 2 * pad
    bbox = ax.get_position()
    figure_width, figure_height = ax.figure.get_size_inches()
    aspect = (bbox.height * figure_height) / (bbox.width * figure_width)
    width, height = max(width, height / aspect), max(height, width * aspect)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def draw_zones(ax: Axes, zones: gpd.GeoDataFrame | None, soort: str, linewidth: float, zorder: int) -> list:
    """Draw schuurpunten or kansen (``soort``) hatched; returns the legend entry, if any was drawn."""
    if zones is None or zones.empty:
        return []
    style = ZONE_STYLES[soort]
    zones.plot(ax=ax, facecolor="none", linewidth=linewidth, zorder=zorder, **style)
    return [mpatches.Patch(facecolor="none", label=soort, **style)]


def _scale_bar(ax: Axes, extent, size: float) -> None:
    xmin, ymin, xmax, ymax = extent
    length = nice_length(xmax - xmin)
    x0, y0 = xmin + 0.04 * (xmax - xmin), ymin + 0.04 * (ymax - ymin)
    height = 0.012 * (ymax - ymin)
    # a white ground under bar and labels keeps them legible over claims and borders
    ax.add_patch(
        mpatches.Rectangle(
            (x0 - 0.02 * length - 0.01 * (xmax - xmin), y0 - 0.6 * height),
            1.1 * length + 0.03 * (xmax - xmin),
            4.6 * height,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=9,
        )
    )
    for i in range(2):
        ax.add_patch(
            mpatches.Rectangle(
                (x0 + i * length / 2, y0),
                length / 2,
                height,
                zorder=10,
                lw=0.8,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0, y0 + 1.8 * height, "0", fontsize=size, ha="center", zorder=10)
    ax.text(x0 + length, y0 + 1.8 * height, label, fontsize=size, ha="center", zorder=10)


def _north_arrow(ax: Axes, size: float) -> None:
    ax.annotate(
        "N",
        xy=(0.96, 0.95),
        xytext=(0.96, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=size,
        fontweight="bold",
        zorder=10,
        arrowprops={"facecolor": "black", "width": size / 3, "headwidth": size},
    )


def _draw_sketch(ax: Axes, project: Project, sketched: gpd.GeoDataFrame | None, word: str) -> list:
    """The sketch dashed and dotted in its sector's colour; a legend entry per sector ("``word``
    (sector)")."""
    handles = []
    for key, part in [] if sketched is None else sketched.groupby("sector"):
        style = {
            "facecolor": "none",
            "edgecolor": project.sectors[key].colour,
            "hatch": "..",
            "linestyle": "--",
        }
        part.plot(ax=ax, linewidth=2.0, zorder=7, **style)
        handles.append(mpatches.Patch(label=plain(f"{word} ({project.sectors[key].label})"), **style))
    return handles


def draw_conflict_map(
    ax: Axes,
    project: Project,
    claims: Mapping[str, gpd.GeoDataFrame],
    regions: gpd.GeoDataFrame,
    schuurpunten: gpd.GeoDataFrame | None = None,
    focus=None,
    margin: float = 0.35,
    areas: gpd.GeoDataFrame | None = None,
    credits: Credits | None = None,
    focus_label: str = "spanningsgebied",
    sketch: gpd.GeoDataFrame | None = None,
    kansen: gpd.GeoDataFrame | None = None,
    sketch_label: str = "schets",
) -> MapDrawing:
    """Draw the conflict map on ``ax`` around ``focus`` (or all regions), without legend.

    Sectors are drawn in the project's colours, ``schuurpunten`` hatched red, ``kansen``
    hatched green, ``areas``
    (spanningsgebieden) and the ``focus`` outlined (the legend calls the focus
    ``focus_label``), the ``sketch`` dashed in its sector's colour; a demo project is marked
    as fictional. Claims are clipped to the extent first, so a national parcel layer draws
    quickly. Returns the legend entries and credits of what was drawn.
    """
    extent = map_extent(ax, focus, regions, margin)
    box = shapely.box(*extent)
    drawing = MapDrawing(extent)
    clipped = {key: subset for key, frame in claims.items() if (subset := clip(frame, box)) is not None}
    # the widest sector at the bottom, so that it does not veil the smaller claims
    for key in sorted(clipped, key=lambda key: -float(clipped[key].area.sum())):
        colour = project.sectors[key].colour
        _as_drawn(clipped[key]).plot(
            ax=ax, facecolor=colour, edgecolor=colour, alpha=0.35, linewidth=0.4, zorder=2
        )
    for key in clipped:  # the legend in the project's order
        sector = project.sectors[key]
        colours = {"facecolor": sector.colour, "edgecolor": sector.colour}
        drawing.handles.append(mpatches.Patch(alpha=0.5, label=plain(sector.label), **colours))
    drawn_claims = list(clipped.values())
    drawing.handles += draw_zones(ax, clip(kansen, box), KANS.soort, 0.6, 3)
    drawing.handles += draw_zones(ax, clip(schuurpunten, box), SCHUURPUNT.soort, 0.6, 4)
    drawing.handles += _draw_sketch(ax, project, clip(sketch, box), sketch_label)
    borders = clip(regions.set_geometry(regions.boundary), box)
    if borders is not None:
        borders.plot(ax=ax, zorder=5, **BORDER)
        drawing.handles.append(Line2D([], [], label="provinciegrens", **BORDER))
    outlined = clip(areas, box)
    if outlined is not None:
        outlined.boundary.plot(ax=ax, color="black", linewidth=1.2, zorder=6)
        drawing.handles.append(Line2D([], [], color="black", linewidth=1.2, label="spanningsgebied"))
    if focus is not None and focus_label:
        gpd.GeoSeries([focus]).boundary.plot(ax=ax, color="black", linewidth=2.0, zorder=6)
        drawing.handles.append(Line2D([], [], color="black", linewidth=2.0, label=plain(focus_label)))
    finish_frame(ax, extent, project.demo)
    if credits is not None:
        drawing.credits = credits.of_drawn(drawn_claims)
    return drawing


def finish_frame(ax: Axes, extent, demo: bool) -> None:
    """Fix the map to ``extent`` without ticks; scale bar, north arrow and the demo mark in
    sizes that grow with the page."""
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")  # geopandas names the CRS axes; a map needs no axis titles
    ax.set_ylabel("")
    size = 7 * ax.figure.get_size_inches()[0] / 10
    _scale_bar(ax, extent, max(size, 6))
    _north_arrow(ax, max(1.4 * size, 8))
    if demo:
        ax.text(
            0.5,
            0.5,
            DEMO_MARK,
            transform=ax.transAxes,
            fontsize=2.8 * ax.figure.get_size_inches()[0],
            color="#999999",
            alpha=0.35,
            rotation=25,
            ha="center",
            va="center",
            zorder=20,
        )


def add_legend(
    figure: Figure,
    rect: tuple[float, float, float, float],
    handles,
    fontsize: float,
    title: str | None = None,
    max_lines: int = 4,
    columns: int = 1,
) -> Legend:
    """The legend in its own axes at ``rect`` (figure fraction), top-left aligned, in
    ``columns`` columns; the labels wrapped to a column's width in at most ``max_lines`` lines,
    in ``fontsize`` or down to 85 % of it (:func:`~novex_geo.maps.text_fit.fit_legend`); the
    handles' own labels untouched."""
    ax = figure.add_axes(rect)
    ax.set_axis_off()
    labels = [handle.get_label().replace(r"\$", "$") for handle in handles]
    spacing = matplotlib.rcParams["legend.columnspacing"] * fontsize if columns > 1 else 0.0
    width = rect[2] * figure.get_size_inches()[0] * 72 / columns - spacing
    fitted = fit_legend(labels, width, fontsize, max_lines, min_size=0.85 * fontsize)
    legend = ax.legend(
        handles=handles,
        labels=fitted.lines,
        loc="upper left",
        bbox_to_anchor=(0, 1),
        borderaxespad=0,
        fontsize=fitted.size,
        title=title,
        title_fontsize=fontsize * 1.1,
        frameon=False,
        alignment="left",
        ncols=columns,
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
    return legend


def _credit_lines(figure: Figure, width: float, credits: list[str], fontsize: float) -> list[str]:
    room = width * figure.get_size_inches()[0] * 72
    return wrap("Bronnen: " + "; ".join(dict.fromkeys(credits)), room, fontsize)


def credits_height(figure: Figure, width: float, credits: list[str], fontsize: float) -> float:
    """The height (figure fraction) that :func:`add_credits` takes for ``credits``."""
    lines = len(_credit_lines(figure, width, credits, fontsize))
    return lines * fontsize * 1.25 / 72 / figure.get_size_inches()[1]


def add_credits(
    figure: Figure, x: float, top: float, width: float, credits: list[str], fontsize: float
) -> Text:
    """The credit line ("Bronnen: …") at ``(x, top)``, wrapped to ``width`` (figure fraction)."""
    text = "\n".join(_credit_lines(figure, width, credits, fontsize))
    style = {"color": "#333333", "va": "top", "parse_math": False, "gid": "credits", "linespacing": 1.1}
    return figure.text(x, top, text, fontsize=fontsize, **style)


def conflict_map_figure(
    project: Project,
    claims: Mapping[str, gpd.GeoDataFrame],
    regions: gpd.GeoDataFrame,
    title: str,
    size: tuple[float, float] = (10.0, 7.0),
    dpi: int = 130,
    **options,
) -> tuple[Figure, MapDrawing]:
    """A figure with the title (in up to two lines, shrunk to 9 pt at most, else shortened), the
    map, the legend beside it and the credit line below it.

    ``options`` are passed to :func:`draw_conflict_map`.
    """
    figure = Figure(figsize=size, dpi=dpi)
    heading = fit(title, 0.98 * size[0] * 72, 11, max_lines=2, min_size=9, weight="bold")
    figure.text(
        0.01, 0.985, heading.text, fontsize=heading.size, va="top", parse_math=False, fontweight="bold"
    )
    credits = options.get("credits")
    bottom = 0.015 + (credits_height(figure, 0.98, credits.every, 6.5) + 0.015 if credits else 0.0)
    height = 0.985 - (heading.height + 14) / (size[1] * 72) - bottom
    ax = figure.add_axes((0.01, bottom, 0.74, height))
    drawing = draw_conflict_map(ax, project, claims, regions, **options)
    add_legend(figure, (0.77, bottom, 0.22, height), drawing.handles, fontsize=8)
    if drawing.credits:
        add_credits(figure, 0.01, bottom - 0.012, 0.98, drawing.credits, fontsize=6.5)
    return figure, drawing
