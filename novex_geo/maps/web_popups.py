"""The popups of a kaartsessie map: a spanningsgebied, a kans, a schuurpunt, a variant.

A click on the map lists everything of these three under it in one popup (``kaart.js``); each
item's HTML comes from here. Every value from data or the project file passes
:func:`html.escape`.
"""

from __future__ import annotations

import html

import pandas as pd

from novex_geo.config import KANS, SCHUURPUNT, Project
from novex_geo.config.criteria import CRITERIA
from novex_geo.maps.labels import area_title, conflicts_text, pair_text, sector_label, sectors_text
from novex_geo.triage.areas import zone_labels
from novex_geo.triage.novex import novex_phrase
from novex_geo.units import hectares
from novex_geo.variants import situation_heading

__all__ = ["kans_popup_html", "popup_html", "schuurpunt_popup_html", "variant_popup_html"]

e = html.escape


def popup_html(project: Project, area) -> str:
    """A spanningsgebied: rank and name, id, area, sectors, conflicts and kansen, the verdicts."""
    verdicts = "".join(
        f"<tr><td>{e(c.title)}</td><td><b>{e(str(area[c.verdict]))}</b></td>"
        f"<td>{e(pair_text(project, str(area[c.reason])))}</td></tr>"
        for c in CRITERIA
    )
    conflicts = "; ".join(conflicts_text(project, area["conflicten"])) or "-"
    kansen = "; ".join(conflicts_text(project, area["kansen"])) or "-"
    novex = f"<br>{e(novex_phrase(area))}" if project.triage.novex_gebieden is not None else ""
    return (
        f"<h4>{area['rang']}. {e(area_title(project, area['naam']))}</h4>{_rank_range(area)}"
        f"<p>{e(str(area['id']))} · {hectares(area['oppervlakte_ha'])} · "
        f"{e(str(area['provincies']))}{novex}<br>"
        f"Sectoren: {e(sectors_text(project, str(area['sectoren'])))}</p>"
        f"<p>Conflicten: {e(conflicts)}</p>"
        + (f"<p>Kansen: {e(kansen)}</p>" if project.kansen else "")
        + f"<table>{verdicts}</table><p>Objecten: {e(project.labels.objects(str(area['objecten'])))}</p>"
    )


def _rank_range(area) -> str:
    """The ranks under other weightings (a run triaged before they existed has none)."""
    if "rang_min" not in area or pd.isna(area["rang_min"]):
        return ""
    span = f"{int(area['rang_min'])}–{int(area['rang_max'])}"
    return f"<p>Rang bij andere weging: {span} ({e(str(area['robuustheid']))})</p>"


def _sides(project: Project, zone) -> str:
    return "".join(
        f"<br>{e(sector_label(project, zone[f'sector_{side}']))}: {e(zone_labels(zone[f'labels_{side}'], 8))}"
        for side in ("a", "b")
    )


def _facts(zone, id_column: str) -> str:
    return (
        f"<p>{e(str(zone[id_column]))} · {hectares(zone['oppervlakte_m2'] / 1e4)} · "
        f"{e(str(zone['provincie']))} · afstand {zone['afstand_m']:g} m</p>"
    )


def kans_popup_html(project: Project, kans) -> str:
    """The pair, its toelichting and the features of both sides of one kans."""
    return (
        f"<h4>Kans: {e(pair_text(project, str(kans[KANS.pair_column])))}</h4>"
        f"<p>{e(str(kans['toelichting']))}</p>"
        + _facts(kans, KANS.id_column)
        + f"<p>Objecten:{_sides(project, kans)}</p>"
    )


def schuurpunt_popup_html(project: Project, schuurpunt) -> str:
    """The conflicting pair, id, area, distance and the features of both sides of one schuurpunt."""
    return (
        f"<h4>Schuurpunt: {e(pair_text(project, str(schuurpunt[SCHUURPUNT.pair_column])))}</h4>"
        + _facts(schuurpunt, SCHUURPUNT.id_column)
        + f"<p>Objecten:{_sides(project, schuurpunt)}</p>"
    )


def variant_popup_html(index: int, row, current, what: str, full: bool) -> str:
    """A situation of a comparison (``row``; ``current``: huidig's row) of which ``what`` was
    clicked (a schuurpunt, a polygon drawn): its numbers against huidig; ``full`` adds its
    toelichting and voor- en nadelen (on the variant's own polygons, once per click)."""
    counts = "; ".join(
        f"{kind} {int(row[f'schuurpunten_{kind}'])} ({hectares(row[f'{kind}_ha'])})"
        for kind in ("opgelost", "gekrompen", "nieuw")
        if row[f"schuurpunten_{kind}"]
    )
    toelichting = (
        f"<p>{e(str(row['toelichting']))}</p>"
        if isinstance(row["toelichting"], str) and row["toelichting"]
        else ""
    )
    lines = [
        f"<h4>{e(situation_heading(index, str(row['variant'])))}</h4>{toelichting}<p>{e(what)}</p>",
        f"<p>Conflict {hectares(row['conflict_ha'])} (huidig {hectares(current['conflict_ha'])})"
        + (f"; schuurpunten {e(counts)}" if counts else "")
        + f"; nog spanningsgebied: {e(str(row['kwalificeert']).split(':')[0])}</p>",
    ]
    if index and full:
        lines.append(f'<p class="novex-voor">+ {e(str(row["voordelen"]))}</p>')
        lines.append(f'<p class="novex-tegen">− {e(str(row["nadelen"]))}</p>')
    return "".join(lines)
