"""Signal 1-pagers: "Wat botst? Waar? Waarom urgent?" for a spanningsgebied.

One A4 portrait PDF (matplotlib only — no system libraries; see
:mod:`novex_geo.maps.signal_page`), a self-contained HTML page (the map embedded, every text
escaped, no external references, so it can be mailed) and the PNG map. Sectors and conflict
pairs are named by their labels. "Wat botst?" has a line "Kansen" with the kans pairs and
hectares in or near the area, and "Waar?" says in which NOVEX-gebied it lies, both from the
run's data. "Waarom urgent?" is taken verbatim from the annotations file; when empty the page
shows a marked field to fill in — the tool never writes urgency itself.
"""

from __future__ import annotations

import base64
import html
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely

from novex_geo import __version__
from novex_geo.config import DEMO_MARK, Project
from novex_geo.config.criteria import CRITERIA
from novex_geo.errors import UsageError
from novex_geo.io.layers import SectorLayer
from novex_geo.io.run import RunData
from novex_geo.maps.files import atomic_write, save_figure, save_pdf
from novex_geo.maps.labels import area_title, conflicts_text, pair_text, sector_label, sectors_text
from novex_geo.maps.signal_page import signal_page
from novex_geo.maps.static import Credits, conflict_map_figure
from novex_geo.triage.areas import label_text, listing, natural_key
from novex_geo.triage.novex import novex_phrase
from novex_geo.units import hectares

__all__ = ["EMPTY_URGENCY", "Signal", "SignalFiles", "build_signal", "write_signals"]

log = logging.getLogger(__name__)

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
    credits: list[str] = field(default_factory=list)
    kind: str = "Signaal NOVEX"  # what the page is, on the line under the title


@dataclass
class SignalFiles:
    pdf: Path
    html: Path
    png: Path


def build_signal(area, herkomst, project: Project, gemeenten: gpd.GeoDataFrame | None, date: str) -> Signal:
    """Collect the text of the signal for one row of the ``spanningsgebieden`` layer."""
    rows = herkomst[herkomst["feature_id"].isin(area["feature_ids"].split("; "))]
    wat = [f"Sectoren: {sectors_text(project, area['sectoren'])}"]
    wat += [f"Conflict {line}" for line in conflicts_text(project, area["conflicten"])]
    if area["kansen"] or project.kansen:
        kansen = "; ".join(conflicts_text(project, area["kansen"]))
        wat.append(f"Kansen: {kansen or 'geen in of bij dit gebied'}")
    for sector, group in rows.drop_duplicates("feature_id").groupby("sector", sort=True):
        labels = sorted({label_text(label) for label in group["label"]}, key=natural_key)
        wat.append(f"{sector_label(project, sector)}: {listing(labels, MAX_FEATURES)}")
    point = shapely.point_on_surface(area.geometry)
    places = []
    if gemeenten is not None:
        hits = shapely.STRtree(gemeenten.geometry.values).query(area.geometry, predicate="intersects")
        places = sorted(gemeenten["provincie"].iloc[hits].astype(str), key=natural_key)
    waar = [
        (f"Gemeenten: {listing(places, 8)}; " if places else "") + f"provincie(s): {area['provincies']}",
        f"Oppervlakte {hectares(area['oppervlakte_ha'])}, waarvan {hectares(area['conflict_ha'])} "
        f"conflict; max stapeling {area['max_stapeling']} sectoren, gemiddeld {area['gem_stapeling']:.2f}",
        f"RD-coördinaten (EPSG:28992) van een punt in het gebied: x = {point.x:.0f}, y = {point.y:.0f}",
    ]
    if project.triage.novex_gebieden is not None:
        waar.insert(1, f"Het gebied {novex_phrase(area)}")
    criteria = [(c.title, str(area[c.verdict]), pair_text(project, str(area[c.reason]))) for c in CRITERIA]
    footer = [
        f"Projectbestand: {project.path.name} ({project.name}); novex-geo {__version__}; "
        f"analyse van {date}. Kaart: EPSG:28992 (RD New)."
    ]
    return Signal(
        id=area["id"],
        title=area_title(project, area["naam"]),
        provincies=str(area["provincies"]),
        date=date,
        wat=wat,
        waar=waar,
        urgency=str(area.get("urgentie", "") or ""),
        criteria=criteria,
        footer=footer,
        geometry=area.geometry,
        demo=project.demo,
    )


def _html(signal: Signal, map_png: bytes) -> str:
    e = html.escape
    image = base64.b64encode(map_png).decode("ascii")
    urgency = f"<p>{e(signal.urgency)}</p>" if signal.urgency else f'<p class="leeg">{e(EMPTY_URGENCY)}</p>'
    rows = "".join(
        f"<tr><th>{e(n)}</th><td class='{e(v)}'>{e(v)}</td><td>{e(r)}</td></tr>"
        for n, v, r in signal.criteria
    )
    mark = f'<p class="demo">{e(DEMO_MARK)}</p>' if signal.demo else ""
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{e(signal.title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; color: #222; }}
h1 {{ font-size: 1.5em; margin-bottom: .2em; }} h2 {{ color: #1f3b73; font-size: 1.15em; margin-top: 1.2em; }}
.meta, footer, .bronnen {{ color: #555; font-size: .85em; }} .demo {{ color: #b10026; font-weight: bold; }}
.leeg {{ border: 2px dashed #b10026; background: #fff3f3; padding: .6em; font-style: italic; }}
img {{ width: 100%; border: 1px solid #ccc; }} table {{ border-collapse: collapse; font-size: .9em; }}
th, td {{ text-align: left; padding: .2em .5em; vertical-align: top; }}
.ja {{ color: #1a7f37; }} .nee {{ color: #b10026; }}
</style></head><body>
{mark}<h1>{e(signal.title)}</h1>
<p class="meta">{e(signal.kind)} · {e(signal.provincies)} · analyse {e(signal.date)} · {e(signal.id)}</p>
<h2>Wat botst?</h2><ul>{"".join(f"<li>{e(line)}</li>" for line in signal.wat)}</ul>
<h2>Waar?</h2><ul>{"".join(f"<li>{e(line)}</li>" for line in signal.waar)}</ul>
<img alt="Conflictkaart {e(signal.title)}" src="data:image/png;base64,{image}">
<p class="bronnen">Bronnen: {e("; ".join(signal.credits))}</p>
<h2>Waarom urgent?</h2>{urgency}
<h2>Selectiecriteria NOVEX</h2><table>{rows}</table>
<footer>{"<br>".join(e(line) for line in signal.footer)}</footer>
</body></html>
"""


def _chosen(areas: gpd.GeoDataFrame, ids: list[str] | None, top: int | None, gpkg: Path) -> gpd.GeoDataFrame:
    if ids:
        unknown = [i for i in ids if i not in set(areas["id"])]
        if unknown:
            raise UsageError(f"{gpkg}: no spanningsgebied {', '.join(unknown)} (ids are in triage.md)")
        return areas[areas["id"].isin(ids)]
    return areas.sort_values("rang").head(top or 1)


def write_signals(
    project: Project,
    run: RunData,
    layers: dict[str, SectorLayer],
    regions: gpd.GeoDataFrame,
    gemeenten: gpd.GeoDataFrame | None,
    out: Path,
    ids: list[str] | None = None,
    top: int | None = None,
    regions_credit: str | None = None,
    date: str = "",
) -> list[SignalFiles]:
    """Write the 1-pagers for ``ids`` or the ``top`` best-ranked spanningsgebieden into ``out``.

    ``run`` holds ``spanningsgebieden``, ``schuurpunten``, ``kansen`` and ``herkomst``; ``layers`` are the
    project's loaded sectors, ``regions`` its provinces and ``gemeenten`` the municipalities
    used for "Waar?" (or ``None``).
    """
    chosen = _chosen(run.spanningsgebieden, ids, top, run.path)
    claims = {key: layer.frame for key, layer in layers.items()}
    credits = Credits.of(project, layers, regions_credit)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for _, area in chosen.iterrows():
        signal = build_signal(area, run.herkomst, project, gemeenten, date)
        files = SignalFiles(out / f"{signal.id}.pdf", out / f"{signal.id}.html", out / f"{signal.id}.png")
        figure, drawing = conflict_map_figure(
            project,
            claims,
            regions,
            signal.title,
            size=(8.0, 5.0),
            dpi=170,
            schuurpunten=run.schuurpunten,
            kansen=run.kansen,
            focus=signal.geometry,
            credits=credits,
        )
        signal.credits = drawing.credits
        save_figure(figure, files.png, format="png")
        zones = (run.schuurpunten, run.kansen)
        page = signal_page(signal, project, claims, regions, zones, credits, EMPTY_URGENCY)
        save_pdf(
            page.figure,
            files.pdf,
            title=f"{signal.title} — signaal NOVEX",
            subject=f"Wat botst? Waar? Waarom urgent? Signaal {signal.id} ({signal.provincies})",
            author=project.name,
        )
        document = _html(signal, files.png.read_bytes())
        atomic_write(files.html, lambda part, d=document: part.write_text(d, encoding="utf-8"))
        log.info("signal %s: %s", signal.id, files.pdf)
        written.append(files)
    return written
