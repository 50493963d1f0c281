"""The A4 page of a signal: header, "Wat botst?", "Waar?", the conflict map with its legend
beside it and its sources below it, "Waarom urgent?", the criteria and a footer.

The text blocks take the lines they need; the map gets every centimetre in between. The map
is drawn as vectors on the page (no embedded picture), all text is plain text (``$`` never
starts math) and the PDF gets TrueType fonts and document metadata (see
:func:`~novex_geo.maps.files.save_pdf`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import geopandas as gpd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

from novex_geo.config import DEMO_MARK, Project
from novex_geo.config.criteria import JA, NEE
from novex_geo.maps import text_fit
from novex_geo.maps.static import (
    Credits,
    MapDrawing,
    add_credits,
    add_legend,
    credits_height,
    draw_conflict_map,
)

__all__ = ["A4", "PageWriter", "SignalPage", "signal_page"]

A4 = (8.27, 11.69)  # inches, portrait
LEFT, RIGHT = 0.06, 0.94
NAVY = "#1f3b73"
MAP_RIGHT = 0.70  # the legend column runs from here to RIGHT
VERDICT_COLOURS = {JA: "#1a7f37", NEE: "#b10026"}


def line_height(size: float) -> float:
    """The height of one line of ``size`` pt text in figure fraction of an A4 page."""
    return size * 1.45 / 72 / A4[1]


def room(left: float, right: float = RIGHT) -> float:
    """The width in points between ``left`` and ``right`` (figure fraction of an A4 page)."""
    return (right - left) * A4[0] * 72


def wrap(lines: list[str], max_lines: int, size: float = 8.5, x: float = LEFT + 0.01) -> list[str]:
    """Lines of ``size`` pt text from ``x`` wrapped to the page's right margin; beyond
    ``max_lines`` one line says how many more."""
    wrapped = []
    for line in lines:
        wrapped += text_fit.wrap(line, room(x), size, indent="   ")
    if len(wrapped) > max_lines:
        wrapped = [*wrapped[: max_lines - 1], f"… ({len(wrapped) - max_lines + 1} regels meer in triage.md)"]
    return wrapped


class PageWriter:
    """Writes text top-down on an A4 page from ``y`` (figure fraction); without a figure it
    only measures, so that a layout can know what the text takes before it draws."""

    def __init__(self, figure: Figure | None, y: float):
        self.figure, self.y = figure, y

    def text(self, x: float, text: str, size: float, **style) -> None:
        if self.figure is not None:
            self.figure.text(x, self.y, text, fontsize=size, va="top", parse_math=False, **style)

    def step(self, size: float, lines: int = 1) -> None:
        """Move down by ``lines`` lines of ``size`` pt text."""
        self.y -= lines * line_height(size)

    def heading(self, text: str) -> None:
        self.text(LEFT, text, 11.5, fontweight="bold", color=NAVY)
        self.y -= 0.022

    def lines(self, lines: list[str], size: float = 8.5, x: float = LEFT + 0.01, **style) -> None:
        for line in lines:
            self.text(x, line, size, **style)
            self.step(size)


def _header(writer: PageWriter, signal) -> None:
    """The title (up to two lines, down to 12 pt, else shortened after a whole word) and the line
    under it, which leaves room for the demo mark."""
    title = text_fit.fit(signal.title, room(LEFT), 15, max_lines=2, min_size=12, weight="bold")
    writer.text(LEFT, title.text, title.size, fontweight="bold")
    writer.y -= (title.height + 10) / 72 / A4[1]
    mark = DEMO_MARK.upper() if signal.demo else ""
    if mark:
        writer.text(RIGHT, mark, 8.5, color="#b10026", ha="right", fontweight="bold")
    width = room(LEFT) - (text_fit.text_width(mark, 8.5, "bold") + 12 if mark else 0)
    line = f"{signal.kind} · {signal.provincies} · analyse {signal.date} · {signal.id}"
    lines = text_fit.wrap(line, width, 8.5, max_lines=2)
    writer.lines(lines, x=LEFT, color="#444444")
    writer.y -= 0.035 - line_height(8.5)


def _bottom(writer: PageWriter, signal, empty_urgency: str) -> None:
    """Waarom urgent? and the criteria."""
    writer.heading("Waarom urgent?")
    if signal.urgency:
        writer.lines(wrap([signal.urgency], 4))
    else:
        box = {"facecolor": "#fff3f3", "edgecolor": "#b10026", "linestyle": "--", "pad": 4}
        writer.lines([empty_urgency], style="italic", color="#b10026", bbox=box)
    writer.y -= 0.015
    writer.heading("Selectiecriteria NOVEX")
    for name, verdict, reason in signal.criteria:
        writer.text(LEFT + 0.01, name, 7.5, fontweight="bold")
        writer.text(0.33, verdict, 7.5, color=VERDICT_COLOURS.get(verdict, "#555555"))
        writer.lines(text_fit.wrap(reason, room(0.41), 7, max_lines=3), size=7, x=0.41)
        writer.y -= 0.003


@dataclass
class SignalPage:
    """The page and the parts a reader's eye (and a test) looks for."""

    figure: Figure
    map: Axes
    legend: Legend
    credits: Text


def signal_page(
    signal,
    project: Project,
    claims: Mapping[str, gpd.GeoDataFrame],
    regions: gpd.GeoDataFrame,
    zones: tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None],
    credits: Credits,
    empty_urgency: str,
    draw_maps: Callable[[Figure, tuple[float, float, float, float]], tuple[Axes, MapDrawing]] | None = None,
) -> SignalPage:
    """Lay out the signal (a :class:`~novex_geo.maps.signal.Signal`) on one A4 page; ``zones``
    are the run's schuurpunten and kansen. ``draw_maps`` draws something else than the
    conflict map into the map's rectangle (figure fraction) and returns its first axes and
    what it drew."""
    figure = Figure(figsize=A4)
    top = PageWriter(figure, 0.965)
    _header(top, signal)
    top.heading("Wat botst?")
    top.lines(wrap(signal.wat, 9))
    top.y -= 0.008
    top.heading("Waar?")
    top.lines(wrap(signal.waar, 4))
    footer = wrap(signal.footer, 3, size=6, x=LEFT)
    measure = PageWriter(None, 0.0)
    _bottom(measure, signal, empty_urgency)
    bottom_top = 0.065 + len(footer) * line_height(6) - measure.y
    # room for the sources of every layer; the map draws some of them
    room = credits_height(figure, RIGHT - LEFT, credits.every, 6)
    map_bottom, map_top = bottom_top + 0.018 + room, top.y - 0.01
    rect = (LEFT, map_bottom, MAP_RIGHT - LEFT, map_top - map_bottom)
    if draw_maps is None:
        ax = figure.add_axes(rect)
        schuurpunten, kansen = zones
        drawing = draw_conflict_map(
            ax, project, claims, regions, schuurpunten, focus=signal.geometry, credits=credits, kansen=kansen
        )
    else:
        ax, drawing = draw_maps(figure, rect)
    legend = add_legend(
        figure,
        (MAP_RIGHT + 0.02, map_bottom, RIGHT - MAP_RIGHT - 0.02, map_top - map_bottom),
        drawing.handles,
        7.5,
        title="Legenda",
    )
    credit_text = add_credits(figure, LEFT, map_bottom - 0.006, RIGHT - LEFT, drawing.credits, 6)
    _bottom(PageWriter(figure, bottom_top), signal, empty_urgency)
    end = PageWriter(figure, 0.05 + len(footer) * line_height(6))
    end.lines(footer, size=6, x=LEFT, color="#555555")
    return SignalPage(figure, ax, legend, credit_text)
