"""The layers of a kaartsessie map: claims, stapeling, schuurpunten, kansen, spanningsgebieden,
borders.

Only an escaped tooltip (``tip``), an escaped popup where there is one, a fill colour and the
geometry of each feature reach the page (:mod:`novex_geo.maps.web_features`): kaart.js puts
tooltips and popups into the page as HTML, so every value from data or the project file
passes :func:`html.escape` here. Schuurpunten, kansen and spanningsgebieden carry ``pick``:
a click anywhere lists those under it, whichever layer lies on top.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
from matplotlib.colors import to_hex

from novex_geo.config import KANS, Project
from novex_geo.maps.labels import area_title, pair_text, sector_label, sectors_text
from novex_geo.maps.web_claims import ClaimLayer
from novex_geo.maps.web_features import WEB_CRS, Features, RasterOverlay, feature_json, web_frame
from novex_geo.maps.web_popups import kans_popup_html, popup_html, schuurpunt_popup_html, variant_popup_html
from novex_geo.style import KANS_COLOUR, SCHUURPUNT_COLOUR, STAPELING_COLOURS, VARIANT_COLOUR
from novex_geo.triage.areas import zone_labels
from novex_geo.units import hectares

__all__ = [
    "KANS_CLASS",
    "WEB_CRS",
    "add_borders",
    "add_claims",
    "add_kansen",
    "add_schuurpunten",
    "add_spanningsgebieden",
    "add_stapeling",
    "add_variant",
    "kans_popup_html",
    "layer_names",
    "popup_html",
    "schuurpunt_popup_html",
    "web_colour",
    "web_frame",
]

KANS_CLASS = "novex-kans"  # kaart.css fills paths of this class with the hatch pattern kaart.js defines


def web_colour(colour: str) -> str:
    """A project colour (any matplotlib colour, e.g. ``tab:blue``) as CSS hex."""
    return to_hex(colour)


def _add(web: gpd.GeoDataFrame, group: folium.FeatureGroup, options: dict, properties: list[dict]) -> None:
    Features(feature_json(web.geometry.values, properties), options).add_to(group)


def layer_names(project: Project) -> dict[str, str]:
    """HTML-escaped layer names, one per sector even where two sectors share a label."""
    counts = {}
    for sector in project.sectors.values():
        counts[sector.label] = counts.get(sector.label, 0) + 1
    return {
        key: html.escape(s.label if counts[s.label] == 1 else f"{s.label} ({key})")
        for key, s in project.sectors.items()
    }


def add_claims(
    project: Project, key: str, claims: ClaimLayer, group: folium.FeatureGroup, map_name: str
) -> None:
    """A sector's claims: the vectors (with tooltips) and, where the budget ran out, the raster."""
    colour = web_colour(project.sectors[key].colour)
    if claims.raster is not None:
        RasterOverlay(map_name, claims.raster, key).add_to(group)
    style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.3}
    Features(claims.features, {"style": style, "sector": key}).add_to(group)


def add_stapeling(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    properties = [
        {
            "tip": html.escape(f"{sectors_text(project, str(s))}: {n} sector(en), {hectares(a / 1e4)}"),
            "fill": STAPELING_COLOURS[min(int(n), 5)],
        }
        for s, n, a in zip(web["sectoren"], web["n_sectoren"], web["oppervlakte_m2"], strict=True)
    ]
    _add(web, group, {"style": {"color": "#666666", "weight": 0.3, "fillOpacity": 0.7}}, properties)


def add_schuurpunten(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    properties = [
        {
            "tip": html.escape(
                f"Schuurpunt {pair_text(project, row['conflict'])}: {hectares(row['oppervlakte_m2'] / 1e4)}"
                f" — {zone_labels(row['labels_a'])} × {zone_labels(row['labels_b'])}"
            ),
            "popup": schuurpunt_popup_html(project, row),
        }
        for _, row in web.iterrows()
    ]
    style = {
        "color": SCHUURPUNT_COLOUR,
        "weight": 2,
        "dashArray": "5 4",
        "fillColor": SCHUURPUNT_COLOUR,
        "fillOpacity": 0.15,
    }
    _add(web, group, {"style": style, "pick": "schuurpunt"}, properties)


def add_kansen(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    properties = [
        {
            "tip": html.escape(
                f"Kans {pair_text(project, row[KANS.pair_column])}: {hectares(row['oppervlakte_m2'] / 1e4)}"
                f" — {row['toelichting']}"
            ),
            "popup": kans_popup_html(project, row),
        }
        for _, row in web.iterrows()
    ]
    # the fill is the hatch pattern (kaart.css), in the kansen's green
    style = {"color": KANS_COLOUR, "weight": 2, "fillOpacity": 0.9, "className": KANS_CLASS}
    _add(web, group, {"style": style, "pick": "kans"}, properties)


def add_spanningsgebieden(project: Project, web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    properties = [
        {
            "tip": html.escape(f"{row['rang']}. {area_title(project, row['naam'])}"),
            "popup": popup_html(project, row),
        }
        for _, row in web.iterrows()
    ]
    style = {"color": "black", "weight": 3, "fillOpacity": 0.05}
    _add(web, group, {"style": style, "pick": "spanningsgebied"}, properties)


def add_borders(web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    style = {"color": "#333333", "weight": 2.5, "dashArray": "8 4 2 4", "fill": False}
    _add(web, group, {"style": style}, [{"tip": html.escape(str(p))} for p in web["provincie"]])


def add_variant(project: Project, index: int, situation, current, tolerance: float, group) -> None:
    """One situation of a comparison (:class:`~novex_geo.io.variants.Situation`; ``current``:
    huidig's row): its schuurpunten, and a variant's polygons (additions dashed in their
    sector's colour, cuts dotted black); a click shows the situation's numbers."""
    from novex_geo.variants import REMOVE, situation_heading

    name = situation_heading(index, str(situation.row["variant"]))
    zones = web_frame(situation.schuurpunten, tolerance)
    properties = []
    for _, zone in zones.iterrows():
        what = f"Schuurpunt {pair_text(project, zone['conflict'])}: {hectares(zone['oppervlakte_m2'] / 1e4)}"
        properties.append(
            {
                "tip": html.escape(f"{name}: {what}"),
                # huidig has no polygons of its own: its schuurpunten tell all
                "popup": variant_popup_html(index, situation.row, current, what, situation.changes is None),
            }
        )
    style = {
        "color": VARIANT_COLOUR,
        "weight": 2.5,
        "dashArray": "4 3",
        "fillColor": VARIANT_COLOUR,
        "fillOpacity": 0.25,
    }
    _add(zones, group, {"style": style, "pick": "variant"}, properties)
    if situation.changes is None or situation.changes.empty:
        return
    drawn = web_frame(situation.changes, tolerance)
    properties = []
    for _, polygon in drawn.iterrows():
        what = (
            f"{polygon['actie']} {sector_label(project, polygon['sector'])} {polygon['label'] or ''}".strip()
        )
        cut = polygon["actie"] == REMOVE
        colour = "#222222" if cut else web_colour(project.sectors[polygon["sector"]].colour)
        properties.append(
            {
                "tip": html.escape(f"{name}: {what}"),
                "popup": variant_popup_html(index, situation.row, current, what, True),
                "fill": colour,
                "line": colour,
                "dash": "2 5" if cut else "8 4",
            }
        )
    style = {"weight": 3, "fillOpacity": 0.12}
    _add(drawn, group, {"style": style, "pick": "variant"}, properties)
