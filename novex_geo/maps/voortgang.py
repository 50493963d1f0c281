"""A small chart per spanningsgebied for the RA annex: its conflict per cycle, and the BOB phase
of its afspraken written over each bar."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from novex_geo.maps.files import save_figure
from novex_geo.maps.text_fit import shorten
from novex_geo.style import SCHUURPUNT_COLOUR

__all__ = ["draw_voortgang_chart"]

RESOLVED_COLOUR = "#999999"
TITLE_ROOM = 3.9 * 72  # points: the figure's width less its margins


def draw_voortgang_chart(history: pd.DataFrame, title: str, path: Path) -> Path:
    """A bar per cycle (``history``: the spoor's rows of the voortgang table, oldest first)
    with its conflict ha; over the bar the phase (and "opgelost" for a resolved spoor)."""
    figure = Figure(figsize=(4.2, 2.4), dpi=150, layout="constrained")
    axes = figure.add_subplot()
    hectares = history["conflict_ha"].astype(float).to_numpy()
    resolved = (history["status"] == "opgelost").to_numpy()
    positions = range(len(history))
    colours = [RESOLVED_COLOUR if done else SCHUURPUNT_COLOUR for done in resolved]
    bars = axes.bar(positions, hectares, color=colours, width=0.6)
    top = max(float(hectares.max()), 1.0) if len(hectares) else 1.0
    for bar, phase, done in zip(bars, history["fase"], resolved, strict=True):
        label = "opgelost" if done else (phase or "geen afspraak")
        axes.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7 if len(history) <= 4 else 5,
        )
    axes.set_ylim(0, top * 1.3)
    axes.set_xticks(list(positions), [str(c) for c in history["cyclus"]], fontsize=8)
    axes.set_ylabel("conflict (ha)", fontsize=8)
    axes.set_xlabel(f"cyclus · spanningsgebied {history['spoor'].iloc[0]}", fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    figure.suptitle(shorten(title, TITLE_ROOM, 9), fontsize=9, x=0.02, ha="left")
    return save_figure(figure, path, format="png")
