"""The layers of a kaartsessie map: claims, stapeling, schuurpunten, kansen, spanningsgebieden,
borders.

Only an escaped tooltip (``tip``), an escaped popup where there is one, and the geometry of
each feature reach the page: folium puts both into the page as HTML, so every value from data
or the project file passes :func:`html.escape` here.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import shapely
from matplotlib.colors import to_hex

from novex_geo.config import KANS, Project
from novex_geo.maps.labels import area_title, conflicts_text, pair_text, sector_label, sectors_text
from novex_geo.style import KANS_COLOUR, SCHUURPUNT_COLOUR, STAPELING_COLOURS
from novex_geo.triage.areas import label_text, zone_labels
from novex_geo.triage.criteria import CRITERIA
from novex_geo.triage.novex import novex_phrase
from novex_geo.units import hectares

__all__ = [
    "KANS_CLASS", "WEB_CRS", "add_borders", "add_claims", "add_kansen", "add_schuurpunten",
    "add_spanningsgebieden", "add_stapeling", "kans_popup_html", "layer_names", "popup_html", "web_colour",
    "web_frame",
]  # fmt: skip

WEB_CRS = "EPSG:4326"
KANS_CLASS = "novex-kans"  # kaart.css fills paths of this class with the hatch pattern kaart.js defines


def web_colour(colour: str) -> str:
    """A project colour (any matplotlib colour, e.g. ``tab:blue``) as CSS hex."""
    return to_hex(colour)


def web_frame(frame: gpd.GeoDataFrame, tolerance: float) -> gpd.GeoDataFrame:
    """Simplify in RD to ``tolerance`` metres, reproject to WGS84 and round to 6 decimals."""
    if frame.empty:
        return frame.to_crs(WEB_CRS)
    simple = frame.set_geometry(shapely.simplify(frame.geometry.values, tolerance, preserve_topology=True))
    web = simple.to_crs(WEB_CRS)
    web = web.set_geometry(shapely.set_precision(web.geometry.values, 1e-6))
    return web[~web.geometry.is_empty]


def popup_html(project: Project, area) -> str:
    e = html.escape
    verdicts = "".join(
        f"<tr><td>{e(c.title)}</td><td><b>{e(str(area[c.verdict]))}</b></td>"
        f"<td>{e(pair_text(project, str(area[c.reason])))}</td></tr>"
        for c in CRITERIA
    )
    conflicts = "; ".join(conflicts_text(project, area["conflicten"])) or "-"
    kansen = "; ".join(conflicts_text(project, area["kansen"])) or "-"
    novex = f"<br>{e(novex_phrase(area))}" if project.triage.novex_gebieden is not None else ""
    return (
        f"<h4>{area['rang']}. {e(area_title(project, area['naam']))}</h4>"
        f"<p>{e(str(area['id']))} · {hectares(area['oppervlakte_ha'])} · "
        f"{e(str(area['provincies']))}{novex}<br>"
        f"Sectoren: {e(sectors_text(project, str(area['sectoren'])))}</p>"
        f"<p>Conflicten: {e(conflicts)}</p>"
        + (f"<p>Kansen: {e(kansen)}</p>" if project.kansen else "")
        + f"<table>{verdicts}</table><p>Objecten: {e(str(area['objecten']))}</p>"
    )


def kans_popup_html(project: Project, kans) -> str:
    """The pair, its toelichting and the features of both sides of one kans."""
    e = html.escape
    sides = "".join(
        f"<br>{e(sector_label(project, kans[f'sector_{side}']))}: {e(zone_labels(kans[f'labels_{side}'], 8))}"
        for side in ("a", "b")
    )
    return (
        f"<h4>Kans: {e(pair_text(project, str(kans[KANS.pair_column])))}</h4>"
        f"<p>{e(str(kans['toelichting']))}</p>"
        f"<p>{e(str(kans[KANS.id_column]))} · {kans['oppervlakte_m2'] / 1e4:.2f} ha · "
        f"{e(str(kans['provincie']))} · afstand {kans['afstand_m']:g} m</p><p>Objecten:{sides}</p>"
    )


def _geojson(web: gpd.GeoDataFrame, group: folium.FeatureGroup, style, tips: list[str], popups=None) -> None:
    """Only the escaped ``tip`` (and ``popup``) and the geometry reach the page."""
    columns = {"tip": tips} | ({"popup": popups} if popups is not None else {})
    frame = gpd.GeoDataFrame(columns, geometry=web.geometry.values, crs=WEB_CRS)
    popup = folium.GeoJsonPopup(["popup"], labels=False, max_width=480) if popups is not None else None
    folium.GeoJson(
        frame,
        style_function=style,
        control=False,
        popup=popup,
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(group)


def layer_names(project: Project) -> dict[str, str]:
    """HTML-escaped layer names, one per sector even where two sectors share a label."""
    counts = {}
    for sector in project.sectors.values():
        counts[sector.label] = counts.get(sector.label, 0) + 1
    return {
        key: html.escape(s.label if counts[s.label] == 1 else f"{s.label} ({key})")
        for key, s in project.sectors.items()
    }


def add_claims(project: Project, key: str, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    colour = web_colour(project.sectors[key].colour)
    style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.3}
    _geojson(web, group, lambda _: style, [html.escape(label_text(v)) for v in web["label"]])


def add_stapeling(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    tips = [
        html.escape(f"{sectors_text(project, str(s))}: {n} sector(en), {a / 1e4:.2f} ha")
        for s, n, a in zip(web["sectoren"], web["n_sectoren"], web["oppervlakte_m2"], strict=True)
    ]
    colours = [STAPELING_COLOURS[min(int(n), 5)] for n in web["n_sectoren"]]
    web = web.assign(colour=colours)

    def style(feature):
        return {
            "fillColor": feature["properties"]["colour"],
            "color": "#666666",
            "weight": 0.3,
            "fillOpacity": 0.7,
        }

    frame = gpd.GeoDataFrame({"tip": tips, "colour": colours}, geometry=web.geometry.values, crs=WEB_CRS)
    folium.GeoJson(
        frame, style_function=style, control=False, tooltip=folium.GeoJsonTooltip(["tip"], labels=False)
    ).add_to(group)


def add_schuurpunten(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    tips = [
        html.escape(f"{pair_text(project, c)}: {a / 1e4:.2f} ha — {zone_labels(la)} × {zone_labels(lb)}")
        for c, a, la, lb in zip(
            web["conflict"], web["oppervlakte_m2"], web["labels_a"], web["labels_b"], strict=True
        )
    ]
    style = {
        "color": SCHUURPUNT_COLOUR,
        "weight": 2,
        "dashArray": "5 4",
        "fillColor": SCHUURPUNT_COLOUR,
        "fillOpacity": 0.15,
    }
    _geojson(web, group, lambda _: style, tips)


def add_kansen(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    tips = [
        html.escape(f"Kans {pair_text(project, p)}: {a / 1e4:.2f} ha — {t}")
        for p, a, t in zip(web[KANS.pair_column], web["oppervlakte_m2"], web["toelichting"], strict=True)
    ]
    popups = [kans_popup_html(project, row) for _, row in web.iterrows()]
    # the fill is the hatch pattern (kaart.css), in the kansen's green
    style = {"color": KANS_COLOUR, "weight": 2, "fillOpacity": 0.9, "className": KANS_CLASS}
    _geojson(web, group, lambda _: style, tips, popups)


def add_spanningsgebieden(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    popups = [popup_html(project, row) for _, row in web.iterrows()]
    tips = [
        html.escape(f"{r}. {area_title(project, n)}") for r, n in zip(web["rang"], web["naam"], strict=True)
    ]
    style = {"color": "black", "weight": 3, "fillOpacity": 0.05}
    _geojson(web, group, lambda _: style, tips, popups)


def add_borders(web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    style = {"color": "#333333", "weight": 2.5, "dashArray": "8 4 2 4"}
    _geojson(web, group, lambda _: style, [html.escape(str(p)) for p in web["provincie"]])
