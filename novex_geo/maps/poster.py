"""The print poster of a provincie for the kaartsessie table (``novex-geo map --pdf A3``).

One landscape page (A3 or A0) per provincie, all vector with embedded TrueType fonts, so a
print of a metre stays sharp: the stapeling as a choropleth by number of sectors, the
schuurpunten and kansen hatched, the spanningsgebieden outlined with their rank, the neighbouring
provinces for context, scale bar and north arrow in the map frame; beside the map a title
block, the legend (only what is drawn), the ranked list of the provincie's spanningsgebieden,
the sources of the data and the date of the analysis.
"""

from __future__ import annotations

import math
from datetime import date as today
from pathlib import Path

import geopandas as gpd
import matplotlib.patches as mpatches
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from novex_geo import __version__
from novex_geo.config import DEMO_MARK, KANS, SCHUURPUNT, Project
from novex_geo.io.run import KANSEN, SCHUURPUNTEN, SPANNINGSGEBIEDEN, STAPELING
from novex_geo.maps.files import save_pdf
from novex_geo.maps.labels import area_title
from novex_geo.maps.static import (
    BORDER,
    add_credits,
    add_legend,
    clip,
    credits_height,
    draw_zones,
    finish_frame,
    map_extent,
)
from novex_geo.maps.text_fit import fit, fit_entry
from novex_geo.style import STAPELING_COLOURS
from novex_geo.units import hectares

__all__ = ["PAPER", "poster_figure", "poster_subject", "write_poster"]

PAPER = {"A3": (420.0, 297.0), "A0": (1189.0, 841.0)}  # landscape, millimetres
MAP_RECT = (0.015, 0.03, 0.70, 0.94)
PANEL_LEFT, PANEL_WIDTH = 0.735, 0.25
NEIGHBOURS = "#e6e6e6"
FIGURE_SPACE = "\u2007"  # right-aligns the ranks


def poster_subject(project: Project) -> str:
    """What the poster shows: kansen only when the project looks for them."""
    kinds = "schuurpunten, kansen" if project.kansen else "schuurpunten"
    return f"Stapeling, {kinds} en spanningsgebieden"


def _draw(ax: Axes, project: Project, data: dict, scale: float) -> list:
    """The poster map; returns the legend entries of what was drawn."""
    regions = data["regions"]
    extent = map_extent(ax, None, regions, 0.03)
    box = shapely.box(*extent)
    handles = []
    others = clip(data["all_regions"][~data["all_regions"]["provincie"].isin(regions["provincie"])], box)
    if others is not None:
        others.plot(ax=ax, facecolor=NEIGHBOURS, edgecolor="none", zorder=1)
        handles.append(mpatches.Patch(facecolor=NEIGHBOURS, label="andere provincies"))
    faces = clip(data[STAPELING.name], box)
    if faces is not None:
        classes = faces["n_sectoren"].clip(upper=5)
        for n in sorted(set(classes)):
            faces[classes == n].plot(
                ax=ax, facecolor=STAPELING_COLOURS[n], edgecolor="#777777", linewidth=0.1 * scale, zorder=2
            )
            handles.append(
                mpatches.Patch(
                    facecolor=STAPELING_COLOURS[n],
                    edgecolor="#777777",
                    label=f"stapeling {n}{'+' if n == 5 else ''} sector(en)",
                )
            )
    handles += draw_zones(ax, clip(data[KANSEN.name], box), KANS.soort, 0.4 * scale, 3)
    handles += draw_zones(ax, clip(data[SCHUURPUNTEN.name], box), SCHUURPUNT.soort, 0.4 * scale, 3)
    borders = clip(data["all_regions"].set_geometry(data["all_regions"].boundary), box)
    if borders is not None:
        borders.plot(ax=ax, zorder=4, **(BORDER | {"linewidth": BORDER["linewidth"] * scale}))
        handles.append(Line2D([], [], label="provinciegrens", **BORDER))
    areas = clip(data[SPANNINGSGEBIEDEN.name], box)
    if areas is not None:
        areas.boundary.plot(ax=ax, color="black", linewidth=1.2 * scale, zorder=5)
    finish_frame(ax, extent, project.demo)
    if areas is not None:  # last: the ranks are placed on the finished frame
        handles.append(_ranks(ax, areas, scale))
    return handles


# where a rank may stand, in points from the top of its area: just above first, then on rings
# further out (upward first), tied to the area by a thin line; the first free place is taken
RANK_PLACES = [(0.0, 1.5)] + [
    (radius * math.sin(math.radians(angle)), radius * math.cos(math.radians(angle)))
    for radius in (12, 22, 34, 48, 64)
    for angle in (0, 30, -30, 60, -60, 90, -90, 120, -120, 150, -150, 180)
]


def _boxed_extent(label: Text):
    """Where a rank's box lies on the page: its text with the box's pad and a small gap (an
    annotation's own extent spans its leader line as well)."""
    pad = 0.3 * label.get_fontsize() * label.figure.dpi / 72
    label.get_window_extent()  # moves the text to where xyann says; Text's own extent does not
    return Text.get_window_extent(label).padded(pad)


def _ranks(ax: Axes, areas, scale: float) -> Line2D:
    """Each spanningsgebied's rank just above its area (so the label never hides a small area),
    or, where a better-ranked one stands there, at the nearest free place; their legend entry."""
    ax.apply_aspect()  # the final scale of the map, so that the labels' extents are final
    tops = shapely.bounds(areas.geometry.values)[:, 3]
    centres = shapely.centroid(areas.geometry.values)
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "black", "linewidth": 0.5 * scale}
    leader = {"arrowstyle": "-", "linewidth": 0.4 * scale, "shrinkA": 0, "shrinkB": 0}
    placed: list = []
    for rank, centre, top in sorted(zip(areas["rang"], centres, tops, strict=True), key=lambda row: row[0]):
        label = ax.annotate(
            str(rank),
            xy=(centre.x, top),
            xytext=(0, 1.5 * scale),
            textcoords="offset points",
            fontsize=6.5 * scale,
            fontweight="bold",
            ha="center",
            va="bottom",
            zorder=6,
            bbox=box,
            arrowprops=leader,
        )
        extents = []
        for dx, dy in RANK_PLACES:
            label.xyann = (dx * scale, dy * scale)
            extent = _boxed_extent(label)
            covered = sum(extent.overlaps(other) for other in placed)
            extents.append((covered, extent, (dx, dy)))
            if not covered:
                break
        covered, extent, (dx, dy) = min(extents, key=lambda found: found[0])
        label.xyann = (dx * scale, dy * scale)
        placed.append(extent)
    return Line2D(
        [], [], color="black", linewidth=1.2, marker="$1$", markersize=7, label="spanningsgebied met rang"
    )


def _ranking(
    figure: Figure, project: Project, areas: gpd.GeoDataFrame | None, top: float, bottom: float, scale: float
) -> None:
    """The provincie's spanningsgebieden by rank, one line each, as many as fit between ``top``
    and ``bottom``: a long name is shortened after a whole word, rank and hectares always show."""
    size = 7.0 * scale
    line = size * 1.45 / 72 / figure.get_size_inches()[1]
    room = PANEL_WIDTH * figure.get_size_inches()[0] * 72

    def write(y: float, text: str, **style) -> None:
        figure.text(
            PANEL_LEFT, y, text, fontsize=style.pop("size", size), va="top", parse_math=False, **style
        )

    write(top, "Spanningsgebieden (rang · naam · ha)", size=size * 1.15, fontweight="bold")
    y = top - 1.6 * line
    rows = [] if areas is None else list(areas.sort_values("rang").itertuples())
    digits = max((len(str(row.rang)) for row in rows), default=1)
    for index, row in enumerate(rows):
        if y - 2 * line < bottom and index < len(rows) - 1:
            write(y, f"+ {len(rows) - index} meer: zie triage.md", style="italic")
            return
        name = area_title(project, row.naam)
        rank = f"{row.rang}".rjust(digits, FIGURE_SPACE)  # digits are as wide as a figure space
        write(y, fit_entry(f"{rank}  ", name, f" — {hectares(row.oppervlakte_ha)}", room, size))
        y -= line
    if not rows:
        write(y, "geen (triage nog niet gedraaid of geen spanning)")


def _title_block(figure: Figure, project: Project, scope: str, date: str, scale: float) -> float:
    """Title, provincie, subtitle, dates and the demo mark top-down in the panel; a long title
    wraps to two lines and shrinks to 12 pt (A3) before it is shortened. Returns the y below."""
    height = figure.get_size_inches()[1] * 72
    room = PANEL_WIDTH * figure.get_size_inches()[0] * 72
    y = 0.97
    blocks = [
        (project.name, 15, 12, 2, {"fontweight": "bold"}),
        (f"Provincie {scope}", 13, 10, 2, {}),
        (poster_subject(project), 9, 8, 2, {}),
        (f"Analyse van {date} · poster gemaakt {today.today():%d-%m-%Y}", 8, 7, 2, {"color": "#444444"}),
    ]
    if project.demo:
        blocks.append((DEMO_MARK.upper(), 9, 9, 1, {"fontweight": "bold", "color": "#b10026"}))
    for text, size, smallest, lines, style in blocks:
        weight = style.get("fontweight", "normal")
        fitted = fit(text, room, size * scale, lines, smallest * scale, weight)
        figure.text(PANEL_LEFT, y, fitted.text, fontsize=fitted.size, va="top", parse_math=False, **style)
        y -= (fitted.height + 0.6 * fitted.size) / height
    return y


def _foot(figure: Figure, project: Project, credits: list[str], scale: float) -> float:
    """The footer and the sources above it, bottom-up in the panel; returns the y above them."""
    height = figure.get_size_inches()[1] * 72
    room = PANEL_WIDTH * figure.get_size_inches()[0] * 72
    text = f"Kaart: EPSG:28992 (RD New) · {project.path.name} · novex-geo {__version__}"
    footer = fit(text, room, 6 * scale, 2, 5 * scale)
    figure.text(
        PANEL_LEFT, 0.035, footer.text, fontsize=footer.size, va="bottom", color="#555555", parse_math=False
    )
    top = (
        0.035
        + (footer.height + 5 * scale) / height
        + credits_height(figure, PANEL_WIDTH, credits, 6.5 * scale)
    )
    add_credits(figure, PANEL_LEFT, top, PANEL_WIDTH, credits, 6.5 * scale)
    return top


def poster_figure(project: Project, data: dict, scope: str, date: str, paper: str) -> Figure:
    """The poster of one provincie; ``data`` as :func:`~novex_geo.maps.web.write_maps` builds it."""
    width_mm, height_mm = PAPER[paper]
    figure = Figure(figsize=(width_mm / 25.4, height_mm / 25.4))
    scale = width_mm / PAPER["A3"][0]
    ax = figure.add_axes(MAP_RECT)
    handles = _draw(ax, project, data, scale)
    legend_top = _title_block(figure, project, scope, date, scale) - 0.01
    legend = add_legend(
        figure, (PANEL_LEFT, 0.5, PANEL_WIDTH, legend_top - 0.5), handles, 8 * scale, title="Legenda"
    )
    figure.draw_without_rendering()  # the legend's height decides where the ranking starts
    legend_bottom = figure.transFigure.inverted().transform(legend.get_window_extent())[0][1]
    credits_top = _foot(figure, project, data["credits"], scale)
    _ranking(figure, project, data[SPANNINGSGEBIEDEN.name], legend_bottom - 0.03, credits_top + 0.02, scale)
    return figure


def write_poster(project: Project, data: dict, scope: str, date: str, paper: str, path: Path) -> Path:
    """Write the poster PDF of one provincie to ``path`` (in Dutch, with its title and XMP
    metadata: :func:`~novex_geo.maps.files.save_pdf`)."""
    figure = poster_figure(project, data, scope, date, paper)
    return save_pdf(
        figure,
        path,
        title=f"{project.name} — {scope}: kaartsessie-poster ({paper})",
        subject=f"NOVEX: {poster_subject(project).lower()}",
        author=project.name,
    )
