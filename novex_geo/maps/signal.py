"""Signal 1-pagers: "Wat botst? Waar? Waarom urgent?" for a spanningsgebied.

One A4 portrait PDF (matplotlib only — no system libraries), a self-contained HTML page (the
map embedded, every text escaped, no external references, so it can be mailed) and the PNG
map. "Waarom urgent?" is taken verbatim from the annotations file; when empty the page shows
a marked field to fill in — the tool never writes urgency itself.
"""

from __future__ import annotations

import base64
import html
import logging
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import shapely
from matplotlib.figure import Figure
from matplotlib.image import imread

from novex_geo import __version__
from novex_geo.config import DEMO_MARK, Project
from novex_geo.errors import NovexError
from novex_geo.io.layers import SectorLayer
from novex_geo.io.run import RunData
from novex_geo.maps.static import draw_conflict_map
from novex_geo.triage.criteria import CRITERIA

__all__ = ["Signal", "SignalFiles", "build_signal", "write_signals"]

log = logging.getLogger(__name__)

A4 = (8.27, 11.69)
MAX_FEATURES = 6
EMPTY_URGENCY = "[ in te vullen door de accountmanager: welk besluit komt eraan, en wanneer? ]"


@dataclass
class Signal:
    """The content of one signal, as plain text (escaped only when rendered to HTML)."""

    id: str
    title: str
    provincies: str
    date: str
    wat: list[str]
    waar: list[str]
    urgency: str
    criteria: list[tuple[str, str, str]]
    footer: list[str]
    geometry: object
    demo: bool


@dataclass
class SignalFiles:
    pdf: Path
    html: Path
    png: Path


def _more(values: list[str], limit: int = MAX_FEATURES) -> str:
    values = [v for v in dict.fromkeys(values) if v]
    shown = ", ".join(values[:limit])
    return shown + (f" + {len(values) - limit} meer" if len(values) > limit else "")


def build_signal(area, herkomst, project: Project, gemeenten: gpd.GeoDataFrame | None, date: str,
                 attributions: list[str]) -> Signal:  # fmt: skip
    """Collect the text of the signal for one row of the ``spanningsgebieden`` layer."""
    rows = herkomst[herkomst["feature_id"].isin(area["feature_ids"].split("; "))]
    wat = [f"Sectoren: {area['sectoren'].replace('+', ', ')}"]
    wat += [f"Conflict {item}" for item in area["conflicten"].split("; ") if item]
    for sector, group in rows.drop_duplicates("feature_id").groupby("sector", sort=True):
        label = project.sectors[sector].label if sector in project.sectors else sector
        wat.append(f"{label}: {_more(sorted(group['label'].astype(str)))}")
    point = shapely.point_on_surface(area.geometry)
    places = []
    if gemeenten is not None:
        hits = shapely.STRtree(gemeenten.geometry.values).query(area.geometry, predicate="intersects")
        places = sorted(gemeenten["provincie"].iloc[hits].astype(str))
    waar = [
        (f"Gemeenten: {_more(places, 8)}; " if places else "") + f"provincie(s): {area['provincies']}",
        f"Oppervlakte {area['oppervlakte_ha']:.1f} ha; max stapeling {area['max_stapeling']} sectoren, "
        f"gemiddeld {area['gem_stapeling']:.2f}",
        f"RD-coördinaten (EPSG:28992) van een punt in het gebied: x = {point.x:.0f}, y = {point.y:.0f}",
    ]
    criteria = [(c.title, str(area[c.verdict]), str(area[c.reason])) for c in CRITERIA]
    footer = [
        f"Bronnen: {'; '.join(attributions) if attributions else 'zie invoer-tabel van de analyse'}",
        f"Projectbestand: {project.path.name} ({project.name}); novex-geo {__version__}; "
        f"analyse van {date}. Kaart: EPSG:28992.",
    ]
    return Signal(
        id=area["id"], title=str(area["naam"]), provincies=str(area["provincies"]), date=date,
        wat=wat, waar=waar, urgency=str(area.get("urgentie", "") or ""), criteria=criteria,
        footer=footer, geometry=area.geometry, demo=project.demo,
    )  # fmt: skip


def _wrap(lines: list[str], width: int, max_lines: int) -> list[str]:
    wrapped = []
    for line in lines:
        wrapped += textwrap.wrap(line, width, subsequent_indent="   ") or [""]
    if len(wrapped) > max_lines:
        wrapped = [*wrapped[: max_lines - 1], f"… ({len(wrapped) - max_lines + 1} regels meer in triage.md)"]
    return wrapped


def _pdf(signal: Signal, path: Path, map_png: Path) -> None:
    figure = Figure(figsize=A4)
    text = figure.text
    top = 0.965
    text(
        0.06,
        top,
        textwrap.shorten(signal.title, 62, placeholder=" …"),
        fontsize=15,
        fontweight="bold",
        va="top",
    )
    text(0.06, top - 0.03, f"Signaal NOVEX · {signal.provincies} · analyse {signal.date} · {signal.id}",
         fontsize=8.5, color="#444444", va="top")  # fmt: skip
    if signal.demo:
        text(
            0.94,
            top - 0.03,
            DEMO_MARK.upper(),
            fontsize=8.5,
            color="#b10026",
            ha="right",
            va="top",
            fontweight="bold",
        )
    y = top - 0.065

    def block(heading: str, lines: list[str], max_lines: int, size: float = 8.5) -> None:
        nonlocal y
        text(0.06, y, heading, fontsize=11.5, fontweight="bold", va="top", color="#1f3b73")
        y -= 0.022
        for line in _wrap(lines, 105, max_lines):
            text(0.07, y, line, fontsize=size, va="top")
            y -= 0.0145
        y -= 0.008

    block("Wat botst?", signal.wat, 9)
    block("Waar?", signal.waar, 4)
    image = imread(map_png)
    height = 0.36
    ax = figure.add_axes((0.06, y - height, 0.88, height))
    ax.imshow(image)
    ax.set_axis_off()
    y -= height + 0.015
    text(0.06, y, "Waarom urgent?", fontsize=11.5, fontweight="bold", va="top", color="#1f3b73")
    y -= 0.022
    if signal.urgency:
        for line in _wrap([signal.urgency], 105, 4):
            text(0.07, y, line, fontsize=8.5, va="top")
            y -= 0.0145
    else:
        text(0.07, y, EMPTY_URGENCY, fontsize=8.5, va="top", style="italic", color="#b10026",
             bbox={"facecolor": "#fff3f3", "edgecolor": "#b10026", "linestyle": "--", "pad": 4})  # fmt: skip
        y -= 0.0145
    y -= 0.015
    text(0.06, y, "Selectiecriteria NOVEX", fontsize=11.5, fontweight="bold", va="top", color="#1f3b73")
    y -= 0.022
    for name, verdict, reason in signal.criteria:
        text(0.07, y, name, fontsize=7.5, va="top", fontweight="bold")
        text(
            0.33,
            y,
            verdict,
            fontsize=7.5,
            va="top",
            color={"ja": "#1a7f37", "nee": "#b10026"}.get(verdict, "#555"),
        )
        for line in textwrap.wrap(reason, 88, max_lines=2, placeholder=" …"):
            text(0.41, y, line, fontsize=7, va="top")
            y -= 0.0125
        y -= 0.003
    for i, line in enumerate(_wrap(signal.footer, 150, 4)):
        text(0.06, 0.045 - i * 0.011, line, fontsize=6, color="#555555", va="top")
    figure.savefig(path, format="pdf")


def _html(signal: Signal, path: Path, map_png: Path) -> None:
    e = html.escape
    image = base64.b64encode(map_png.read_bytes()).decode("ascii")
    urgency = (f"<p>{e(signal.urgency)}</p>" if signal.urgency
               else f'<p class="leeg">{e(EMPTY_URGENCY)}</p>')  # fmt: skip
    rows = "".join(
        f"<tr><th>{e(n)}</th><td class='{e(v)}'>{e(v)}</td><td>{e(r)}</td></tr>"
        for n, v, r in signal.criteria
    )
    mark = f'<p class="demo">{e(DEMO_MARK)}</p>' if signal.demo else ""
    page = f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{e(signal.title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; color: #222; }}
h1 {{ font-size: 1.5em; margin-bottom: .2em; }} h2 {{ color: #1f3b73; font-size: 1.15em; margin-top: 1.2em; }}
.meta, footer {{ color: #555; font-size: .85em; }} .demo {{ color: #b10026; font-weight: bold; }}
.leeg {{ border: 2px dashed #b10026; background: #fff3f3; padding: .6em; font-style: italic; }}
img {{ width: 100%; border: 1px solid #ccc; }} table {{ border-collapse: collapse; font-size: .9em; }}
th, td {{ text-align: left; padding: .2em .5em; vertical-align: top; }}
.ja {{ color: #1a7f37; }} .nee {{ color: #b10026; }}
</style></head><body>
{mark}<h1>{e(signal.title)}</h1>
<p class="meta">Signaal NOVEX · {e(signal.provincies)} · analyse {e(signal.date)} · {e(signal.id)}</p>
<h2>Wat botst?</h2><ul>{"".join(f"<li>{e(line)}</li>" for line in signal.wat)}</ul>
<h2>Waar?</h2><ul>{"".join(f"<li>{e(line)}</li>" for line in signal.waar)}</ul>
<img alt="Conflictkaart {e(signal.title)}" src="data:image/png;base64,{image}">
<h2>Waarom urgent?</h2>{urgency}
<h2>Selectiecriteria NOVEX</h2><table>{rows}</table>
<footer>{"<br>".join(e(line) for line in signal.footer)}</footer>
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def write_signals(project: Project, run: RunData, layers: dict[str, SectorLayer], regions: gpd.GeoDataFrame,
                  gemeenten: gpd.GeoDataFrame | None, out: Path, ids: list[str] | None = None,
                  top: int | None = None) -> list[SignalFiles]:  # fmt: skip
    """Write the 1-pagers for ``ids`` or the ``top`` best-ranked spanningsgebieden into ``out``.

    ``run`` holds ``spanningsgebieden``, ``schuurpunten`` and ``herkomst``; ``layers`` are the
    project's loaded sectors, ``regions`` its provinces and ``gemeenten`` the municipalities
    used for "Waar?" (or ``None``).
    """
    areas = run.spanningsgebieden
    if ids:
        unknown = [i for i in ids if i not in set(areas["id"])]
        if unknown:
            raise NovexError(f"{run.path}: no spanningsgebied {', '.join(unknown)} (ids are in triage.md)")
        chosen = areas[areas["id"].isin(ids)]
    else:
        chosen = areas.sort_values("rang").head(top or 1)
    claims = {key: layer.frame for key, layer in layers.items()}
    attributions = sorted(
        {
            report.attribution or f"{project.sectors[key].label}: {Path(report.path).name}"
            for key, layer in layers.items()
            for report in layer.reports
        }
        | {f"provincies: {project.regions.path.name}"}
    )
    attribution = "; ".join(a for a in attributions if "©" in a) or f"Data: {project.name}"
    date = datetime.fromtimestamp(run.path.stat().st_mtime).strftime("%d-%m-%Y")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for _, area in chosen.iterrows():
        signal = build_signal(area, run.herkomst, project, gemeenten, date, attributions)
        files = SignalFiles(out / f"{signal.id}.pdf", out / f"{signal.id}.html", out / f"{signal.id}.png")
        figure = Figure(figsize=(7.3, 4.3), dpi=170)
        draw_conflict_map(
            figure.subplots(), project, claims, regions, run.schuurpunten, focus=signal.geometry,
            attribution=attribution,
        )  # fmt: skip
        figure.savefig(files.png, bbox_inches="tight", pad_inches=0.05)
        _pdf(signal, files.pdf, files.png)
        _html(signal, files.html, files.png)
        log.info("signal %s: %s", signal.id, files.pdf)
        written.append(files)
    return written
