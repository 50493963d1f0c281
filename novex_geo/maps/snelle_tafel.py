"""The snelle-tafel 2-pager: page 1 *probleemdefinitie (gedeeld beeld)*, page 2
*oplossingsrichtingen*; an A4 PDF of exactly two pages and a self-contained HTML page.

Page 1 is the signal page of the spanningsgebied (what collides, where, why urgent, the
criteria). Page 2 holds the maps of ``huidig`` and every variant on one scale (the same
extent, side by side), the comparison table (the variants lettered A, B, …; their full names
head the maps and the voor- en nadelen), the voor- en nadelen derived from the numbers and an
*advies over het vervolg* box for the table to fill in. Text takes the room it needs, set
smaller when it must; the maps get the rest, so that more variants or longer names shrink the
maps, never the page count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib.patches as mpatches
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from novex_geo import __version__
from novex_geo.config import DEMO_MARK, Project
from novex_geo.config.criteria import JA
from novex_geo.maps import text_fit
from novex_geo.maps.files import atomic_write, save_figure, save_pdf
from novex_geo.maps.signal import EMPTY_URGENCY, Signal
from novex_geo.maps.signal_page import A4, LEFT, RIGHT, PageWriter, room, signal_page
from novex_geo.maps.snelle_tafel_html import EMPTY_ADVICE, png_bytes, two_pager_html
from novex_geo.maps.static import (
    Credits,
    MapDrawing,
    add_credits,
    add_legend,
    conflict_map_figure,
    credits_height,
    draw_conflict_map,
    plain,
)
from novex_geo.variants import VariantFigures, comparison_rows, situation_heading

__all__ = ["EMPTY_ADVICE", "TwoPagerFiles", "write_two_pager"]

KIND = "Snelle tafel · probleemdefinitie (gedeeld beeld)"
CUT = {"facecolor": "none", "edgecolor": "black", "hatch": "xxx", "linestyle": ":"}
MIN_MAP_INCHES = 1.25  # a small map smaller than this says nothing: the text is set smaller first
TEXT_SIZES = (7.5, 7.0, 6.5, 6.0)
FOOTER_Y = 0.03


@dataclass
class TwoPagerFiles:
    pdf: Path
    html: Path
    pages: list[Path]  # each page as PNG, for a README or a mail


def _header(page: PageWriter, signal: Signal, n_variants: int) -> None:
    title = text_fit.fit(f"Oplossingsrichtingen · {signal.title}", room(LEFT), 14, 2, 11, "bold")
    page.text(LEFT, title.text, title.size, fontweight="bold")
    page.y -= (title.height + 8) / 72 / A4[1]
    meta = (
        f"Snelle tafel · {signal.provincies} · {n_variants} richtingen naast huidig · analyse {signal.date}"
    )
    if signal.demo:
        meta += f" · {DEMO_MARK.upper()}"
    for line in text_fit.wrap(meta, room(LEFT), 8.5, max_lines=2):
        page.text(LEFT, line, 8.5, color="#444444")
        page.step(8.5)
    page.y -= 0.008


def _cell_size(rows: list[tuple[str, list[str]]], room_pt: float, size: float) -> float:
    """The largest size up to ``size`` (down to 4.5 pt) at which every cell fits its column: with
    many variants the numbers get smaller, never run into each other."""
    widest = max(text_fit.text_width(cell, 1.0) for _, cells in rows for cell in cells)
    return max(4.5, min(size, math.floor(room_pt / max(widest, 1e-9) * 4) / 4))


def _table(page: PageWriter, rows: list[tuple[str, list[str]]], names: list[str], size: float) -> None:
    """The comparison: a column per situation, headed by its letter and name (up to 3 lines;
    the full name heads its map and its voor- en nadelen)."""
    first = 0.30 if len(names) <= 6 else 0.22
    width = (RIGHT - first) / len(names)
    size = _cell_size(rows, room(0, width) - 6, size)
    heads = [
        text_fit.wrap(situation_heading(i, n), room(0, width) - 4, size, "bold", 3)
        for i, n in enumerate(names)
    ]
    for i, head in enumerate(heads):
        x = first + (i + 1) * width - 0.004
        page.text(x, "\n".join(head), size, fontweight="bold", ha="right", linespacing=1.2)
    page.step(size, max(len(h) for h in heads))
    if page.figure is not None:
        page.figure.add_artist(Line2D([LEFT, RIGHT], [page.y + 0.002] * 2, color="#999999", linewidth=0.6))
    for measure, cells in rows:
        lines = text_fit.wrap(measure, room(LEFT, first) - 4, size, max_lines=2)
        page.text(LEFT, "\n".join(lines), size, linespacing=1.2)
        for i, cell in enumerate(cells):
            colour = "#1a7f37" if cell == JA else "#333333"
            page.text(first + (i + 1) * width - 0.004, cell, size, ha="right", color=colour)
        page.step(size, len(lines))
    page.y -= 0.008


def _clauses(page: PageWriter, figures: list[VariantFigures], table: pd.DataFrame, size: float) -> None:
    """Per variant its name, toelichting, voordelen and nadelen, wrapped to the page."""
    for i in range(1, len(table)):
        row = table.iloc[i]
        heading = situation_heading(i, row["variant"])
        for line in text_fit.wrap(heading, room(LEFT), size + 0.5, "bold", break_words=True):
            page.text(LEFT, line, size + 0.5, fontweight="bold")
            page.step(size + 0.5)
        parts = [("", row["toelichting"], "#444444")] if row["toelichting"] else []
        parts += [("+ ", row["voordelen"], "#1a7f37"), ("− ", row["nadelen"], "#b10026")]
        for sign, text, colour in parts:
            for line in text_fit.wrap(sign + str(text), room(LEFT + 0.012), size, indent="   "):
                page.text(LEFT + 0.012, line, size, color=colour)
                page.step(size)
        page.y -= 0.004


def _advice(page: PageWriter) -> None:
    page.heading("Advies over het vervolg")
    box = {"facecolor": "#fff3f3", "edgecolor": "#b10026", "linestyle": "--", "pad": 6}
    lines = text_fit.wrap(EMPTY_ADVICE, room(LEFT + 0.01) - 12, 8)
    page.text(LEFT + 0.01, "\n".join(lines + ["", ""]), 8, style="italic", color="#b10026", bbox=box)
    page.step(8, len(lines) + 2)
    page.y -= 0.012


def _variant_map(ax: Axes, project: Project, figure: VariantFigures, regions, area, margin: float, credits):
    """One situation on ``ax``: its claims, schuurpunten and kansen; a variant's additions
    dashed in their sector's colour, the parts cut away crossed out."""
    variant = figure.variant
    added = variant.add if variant is not None and len(variant.add) else None
    drawing = draw_conflict_map(
        ax,
        project,
        figure.claims,
        regions,
        figure.result.schuurpunten,
        focus=area,
        margin=margin,
        credits=credits,
        kansen=figure.result.kansen,
        sketch=added,
        sketch_label="toegevoegd",
    )
    if variant is not None and len(variant.cut):
        variant.cut.plot(ax=ax, linewidth=1.0, zorder=8, **CUT)
        drawing.handles.append(mpatches.Patch(label="weggehaald", **CUT))
        ax.set_xlabel("")  # geopandas names the CRS axes again
        ax.set_ylabel("")
    return drawing


def _margin(area, figures: list[VariantFigures]) -> float:
    """The margin around the area that shows every change on every map (one scale for all)."""
    xmin, ymin, xmax, ymax = area.bounds
    span = max(xmax - xmin, ymax - ymin, 1.0)
    changed = [f.variant.changes for f in figures if f.variant is not None and len(f.variant.changes)]
    if not changed:
        return 0.35
    cx0, cy0, cx1, cy1 = gpd.GeoSeries(np.concatenate(changed)).total_bounds
    reach = max(xmin - cx0, ymin - cy0, cx1 - xmax, cy1 - ymax, 0.0)
    return max(0.35, (reach + 0.05 * span) / span)


@dataclass
class _Layout:
    size: float  # pt, of the table and the voor- en nadelen
    columns: int
    rows: int
    cell: float  # height of one map with its heading (figure fraction); 0: the maps are on page 1
    legend: float


def _below_maps(page: PageWriter, figures, table, rows, size: float) -> None:
    """Everything under the maps: the comparison, the voor- en nadelen, the advice box."""
    page.heading("Vergelijking")
    note = "ha in de omgeving van het gebied: het gebied en elke wijziging, plus de grootste paarafstand"
    page.text(LEFT, note, size - 0.5, color="#555555", style="italic")
    page.step(size - 0.5)
    page.y -= 0.004
    _table(page, rows, list(table["variant"]), size)
    page.heading("Voor- en nadelen")
    _clauses(page, figures, table, size)
    _advice(page)


def _grid_shape(n: int) -> tuple[int, int]:
    columns = 2 if n <= 4 else 3
    return columns, math.ceil(n / columns)


def _layout(project, signal, figures, table, rows, credit_room: float) -> tuple[float, _Layout]:
    """The largest text size at which the maps on page 2 keep :data:`MIN_MAP_INCHES`; when no
    size does, the maps go to page 1 (instead of its one map) and the text keeps page 2."""
    columns, grid_rows = _grid_shape(len(figures))
    added = {sector for f in figures if f.variant is not None for sector in f.variant.add["sector"]}
    legend = math.ceil((len(project.sectors) + 6 + len(added)) / 4) * 6.5 * 1.45 / 72 / A4[1] + 0.006
    top = PageWriter(None, 0.965)
    _header(top, signal, len(figures) - 1)
    for size in TEXT_SIZES:
        below = PageWriter(None, 0.0)
        _below_maps(below, figures, table, rows, size)
        free = top.y + below.y - FOOTER_Y - 0.012 - legend - credit_room - 0.012
        cell = free / grid_rows
        if cell * A4[1] - 0.35 >= MIN_MAP_INCHES:
            return top.y, _Layout(size, columns, grid_rows, cell, legend)
    for size in TEXT_SIZES:  # the text alone on page 2
        below = PageWriter(None, 0.0)
        _below_maps(below, figures, table, rows, size)
        if top.y + below.y >= FOOTER_Y + 0.01 or size == TEXT_SIZES[-1]:
            break
    return top.y, _Layout(size, columns, grid_rows, 0.0, legend)


def _map_grid(
    figure: Figure, rect, columns: int, project, figures, regions, area, credits
) -> tuple[Axes, MapDrawing]:
    """Every situation's map in ``rect`` (figure fraction), ``columns`` side by side, each under
    its heading, all on one scale; the legend entries and credits of all of them."""
    left, bottom, width, height = rect
    rows = math.ceil(len(figures) / columns)
    cell_width, cell = width / columns, height / rows
    margin = _margin(area, figures)
    handles: dict[str, object] = {}
    drawn: list[str] = []
    axes = []
    for i, situation in enumerate(figures):
        row, column = divmod(i, columns)
        x, top = left + column * cell_width, bottom + height - row * cell
        heading = text_fit.fit(
            situation_heading(i, situation.name), room(0, cell_width) - 6, 8, 2, 6.5, "bold"
        )
        style = {"fontsize": heading.size, "va": "top", "fontweight": "bold", "parse_math": False}
        figure.text(x + 0.003, top, heading.text, **style)
        under = (heading.height + 4) / 72 / A4[1]
        ax = figure.add_axes((x + 0.003, top - cell + 0.008, cell_width - 0.01, cell - under - 0.012))
        drawing = _variant_map(ax, project, situation, regions, area, margin, credits)
        for handle in drawing.handles:
            handles.setdefault(handle.get_label(), handle)
        drawn += drawing.credits
        axes.append(ax)
    return axes[0], MapDrawing(area.bounds, list(handles.values()), list(dict.fromkeys(drawn)))


def _page_two(
    project, signal, figures, table, regions, area, credits: Credits, layout: _Layout, maps_top: float
) -> Figure:
    """Page 2: the maps (unless they went to page 1), the comparison, voor- en nadelen, advice."""
    rows = comparison_rows(table, project)
    figure = Figure(figsize=A4)
    page = PageWriter(figure, 0.965)
    _header(page, signal, len(figures) - 1)
    if layout.cell:
        height = layout.rows * layout.cell
        rect = (LEFT, maps_top - height, RIGHT - LEFT, height)
        _, drawing = _map_grid(figure, rect, layout.columns, project, figures, regions, area, credits)
        page.y = maps_top - height - 0.004
        rect = (LEFT, page.y - layout.legend, RIGHT - LEFT, layout.legend)
        add_legend(figure, rect, drawing.handles, 6.5, max_lines=1, columns=4)
        page.y -= layout.legend + 0.004
        add_credits(figure, LEFT, page.y, RIGHT - LEFT, drawing.credits, 5.5)
        page.y -= credits_height(figure, RIGHT - LEFT, credits.every, 5.5) + 0.012
    _below_maps(page, figures, table, rows, layout.size)
    footer = (
        f"Projectbestand: {project.path.name} ({project.name}); novex-geo {__version__}; elke richting "
        "doorgerekend met dezelfde analyse als de run, op de omgeving van het gebied. Kaarten: EPSG:28992."
    )
    # within the margins whatever the project's name: at most two lines, the rest shortened
    lines = text_fit.wrap(plain(footer), room(LEFT), 5.5, max_lines=2)
    figure.text(LEFT, FOOTER_Y, "\n".join(lines), fontsize=5.5, color="#555555", va="top")
    return figure


def _html_pictures(project, signal, figures, regions) -> tuple[list[bytes], bytes]:
    """The HTML page's PNGs: each situation's map and their legend; the overview map."""
    area = signal.geometry
    margin = _margin(area, figures)
    maps = []
    handles: dict[str, object] = {}
    for situation in figures:
        small = Figure(figsize=(4.2, 3.4))
        ax = small.add_axes((0.01, 0.01, 0.98, 0.98))
        for handle in _variant_map(ax, project, situation, regions, area, margin, None).handles:
            handles.setdefault(handle.get_label(), handle)
        maps.append(png_bytes(small, 100))
    legend = Figure(figsize=(8.0, 0.12 + 0.19 * math.ceil(len(handles) / 4)))
    add_legend(legend, (0.01, 0.02, 0.98, 0.96), list(handles.values()), 8, max_lines=1, columns=4)
    maps.append(png_bytes(legend, 100))
    current = figures[0].result
    overview, _ = conflict_map_figure(
        project,
        figures[0].claims,
        regions,
        signal.title,
        (8.0, 5.0),
        110,
        schuurpunten=current.schuurpunten,
        focus=area,
        kansen=current.kansen,
    )
    return maps, png_bytes(overview, 110)


def write_two_pager(
    project: Project,
    signal: Signal,
    figures: list[VariantFigures],
    table: pd.DataFrame,
    regions: gpd.GeoDataFrame,
    credits: Credits,
    folder: Path,
) -> TwoPagerFiles:
    """``snelle_tafel.pdf`` (two A4 pages), ``snelle_tafel.html`` and a PNG per page into
    ``folder``; ``signal`` is the spanningsgebied's signal content, ``figures`` and ``table``
    the comparison of :func:`~novex_geo.variants.compare_variants`."""
    signal.kind = KIND
    area = signal.geometry
    claims = figures[0].claims
    zones = (figures[0].result.schuurpunten, figures[0].result.kansen)
    credit_room = credits_height(Figure(figsize=A4), RIGHT - LEFT, credits.every, 5.5)
    maps_top, layout = _layout(project, signal, figures, table, comparison_rows(table, project), credit_room)
    grid = None
    if not layout.cell:  # crowded: the maps of every situation instead of page 1's one map

        def grid(figure, rect):
            columns = _grid_shape(len(figures))[0] if len(figures) > 4 else 2
            return _map_grid(figure, rect, columns, project, figures, regions, area, credits)

    first = signal_page(signal, project, claims, regions, zones, credits, EMPTY_URGENCY, grid)
    second = _page_two(project, signal, figures, table, regions, area, credits, layout, maps_top)
    files = TwoPagerFiles(folder / "snelle_tafel.pdf", folder / "snelle_tafel.html", [])
    save_pdf(
        [first.figure, second],
        files.pdf,
        title=f"{signal.title} — snelle tafel",
        subject=f"Probleemdefinitie en oplossingsrichtingen, {signal.id} ({signal.provincies})",
        author=project.name,
    )
    for number, page in enumerate((first.figure, second), start=1):
        files.pages.append(save_figure(page, folder / f"snelle_tafel_{number}.png", format="png", dpi=110))
    maps, overview = _html_pictures(project, signal, figures, regions)
    document = two_pager_html(signal, table, comparison_rows(table, project), maps, overview)
    atomic_write(files.html, lambda part: part.write_text(document, encoding="utf-8"))
    return files
