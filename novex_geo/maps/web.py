"""Kaartsessie maps: one self-contained Folium (Leaflet) HTML map per provincie and an overview.

Layers: each sector in its configured colour, stapeling as a choropleth by ``n_sectoren``,
spanningsgebieden, kansen (green, hatched) and schuurpunten, each with tooltips, provincial
borders; PDOK BRT-Achtergrondkaart (grijs by default, standaard, pastel), PDOK Luchtfoto and
OpenStreetMap. A click on the map opens one popup listing every schuurpunt, kans and
spanningsgebied under it (of the layers switched on), whichever lies on top
(``lib/novex/lagen.js``). The controls (title block, foldable layer panel and legend, sketch
panel with the Draw tool and its Export button, measure tool, fullscreen, scale bar, an
overview map of the province outlines) are laid out by ``lib/novex/kaart.js`` so that none
covers another, popups open in the free part of the map and tooltips turn away from controls
(see :mod:`novex_geo.maps.assets` for the offline assets).

Tooltips, popups and layer names are HTML in the page: every value from data or the project
file in them passes :func:`html.escape` here; title, legend and sketch panel get their text as
JSON and put it into the page as text. Geometry is simplified to the display scale and
coordinates are rounded to 6 decimals. Every claim object in view is on the map, within
:data:`~novex_geo.maps.web_claims.CLAIM_BUDGET` (see :mod:`novex_geo.maps.web_claims`:
coarser per sector, then an image; the legend says so).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.template import Template

from novex_geo.config import DEMO_MARK, Project
from novex_geo.io.layers import SectorLayer
from novex_geo.io.regions import select_regions
from novex_geo.io.run import KANSEN, SCHUURPUNTEN, SPANNINGSGEBIEDEN, STAPELING, RunData
from novex_geo.maps.assets import use_assets
from novex_geo.maps.files import OVERVIEW, atomic_write, file_names, save_figure
from novex_geo.maps.poster import write_poster
from novex_geo.maps.static import Credits, conflict_map_figure
from novex_geo.maps.web_claims import CLAIM_BUDGET, ClaimLayer, plan_claims
from novex_geo.maps.web_layers import (
    KANS_CLASS,
    WEB_CRS,
    add_borders,
    add_claims,
    add_kansen,
    add_schuurpunten,
    add_spanningsgebieden,
    add_stapeling,
    add_variant,
    layer_names,
    web_colour,
    web_frame,
)
from novex_geo.maps.web_text import SKETCH_FILE, UI, VARIANTS_GROUP
from novex_geo.style import KANS_COLOUR, SCHUURPUNT_COLOUR, STAPELING_COLOURS, VARIANT_COLOUR
from novex_geo.variants import situation_heading

__all__ = ["BASEMAPS", "CLAIM_BUDGET", "SKETCH_FILE", "build_map", "write_maps"]

log = logging.getLogger(__name__)

PDOK_ATTRIBUTION = 'Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a>'
BRT = "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/{style}/EPSG:3857/{{z}}/{{x}}/{{y}}.png"
LUCHTFOTO = "https://service.pdok.nl/hwh/luchtfotorgb/wmts/v1_0/Actueel_orthoHR/EPSG:3857/{z}/{x}/{y}.jpeg"
BASEMAPS = {
    "PDOK BRT grijs": (BRT.format(style="grijs"), PDOK_ATTRIBUTION),
    "PDOK BRT standaard": (BRT.format(style="standaard"), PDOK_ATTRIBUTION),
    "PDOK BRT pastel": (BRT.format(style="pastel"), PDOK_ATTRIBUTION),
    "PDOK Luchtfoto": (
        LUCHTFOTO,
        'Luchtfoto &copy; <a href="https://www.beeldmateriaal.nl">Beeldmateriaal NL</a>',
    ),
    "OpenStreetMap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-bijdragers',
    ),
}


class _Kaart(MacroElement):
    """Calls ``novexKaart`` (lib/novex/kaart.js) after every layer exists; ``stack`` lists the
    overlays from bottom to top, the order they keep when switched off and on."""

    _template = Template(
        "{% macro script(this, kwargs) %}\n"
        "novexKaart({{ this._parent.get_name() }}, {{ this.config|tojson }},\n  { "
        "{% for name, layer in this.basemaps %}{{ name|tojson }}: {{ layer }}, {% endfor %} },\n  { "
        "{% for group, items in this.overlays.items() %}{{ group|tojson }}: { "
        "{% for name, layer in items %}{{ name|tojson }}: {{ layer }}, {% endfor %} }, {% endfor %} },\n  "
        "[{% for layer in this.stack %}{{ layer }}, {% endfor %}]);\n"
        "{% endmacro %}"
    )

    def __init__(self, config: dict, basemaps: list, overlays: dict, stack: list[str]):
        super().__init__()
        self._name = "NovexKaart"
        self.config, self.basemaps, self.overlays, self.stack = config, basemaps, overlays, stack


def _config(project: Project, data: dict, scope: str, date: str) -> dict:
    """Everything kaart.js shows as text: it enters the page as text, never as HTML."""
    sectors = [
        {"key": key, "label": project.sectors[key].label, "colour": web_colour(project.sectors[key].colour)}
        for key in project.sectors
    ]
    drawn = [s | {"kind": "fill"} for s in sectors if len(data["claims"].get(s["key"], ()))]
    stapeling = data[STAPELING.name]
    classes = sorted({min(int(n), 5) for n in stapeling["n_sectoren"]}) if stapeling is not None else []
    analysis = [
        {"label": label, "colour": colour, "kind": kind}
        for label, colour, kind, frame in (
            ("schuurpunt", SCHUURPUNT_COLOUR, "dashed", data[SCHUURPUNTEN.name]),
            ("kans", KANS_COLOUR, "hatched", data[KANSEN.name]),
            ("spanningsgebied", "#000000", "outline", data[SPANNINGSGEBIEDEN.name]),
            ("provinciegrens", "#333333", "border", data["regions"]),
            ("schuurpunt in een variant", VARIANT_COLOUR, "dashed", data.get("varianten")),
        )
        if frame is not None and len(frame)
    ]
    legend = [
        {"heading": "Sectoren", "entries": drawn},
        {
            "heading": "Stapeling (aantal sectoren)",
            "entries": [
                {"label": f"{n}{'+' if n == 5 else ''}", "colour": STAPELING_COLOURS[n], "kind": "class"}
                for n in classes
            ],
        },
        {"heading": "Analyse", "entries": analysis},
    ]
    west, south, east, north = data["regions"].to_crs(WEB_CRS).total_bounds
    return UI | {
        "title": {
            "heading": f"{project.name} — {scope}",
            "date": f"Analyse van {date}",
            "sources": "Bronnen: " + "; ".join(data["credits"]),
            "demo": DEMO_MARK if project.demo else None,
        },
        "legend": [section for section in legend if section["entries"]],
        "notes": data["notes"],
        "sectors": sectors,
        "hatch": {"className": KANS_CLASS, "colour": KANS_COLOUR},
        "overview": data["overview"],
        "bounds": [[south, west], [north, east]],
    }


def build_map(
    project: Project, data: dict, scope: str, date: str, tolerance: float, assets: str = "inline"
) -> folium.Map:
    """The Folium map for one scope (a provincie or all); ``data`` holds RD GeoDataFrames and
    ``claim_layers``, the sectors' claims as :func:`~novex_geo.maps.web_claims.plan_claims` fitted them."""
    map_ = folium.Map(tiles=None, control_scale=False, zoom_control=True, prefer_canvas=False)
    basemaps = []
    for index, (name, (url, attribution)) in enumerate(BASEMAPS.items()):
        layer = folium.TileLayer(
            url, name=name, attr=attribution, overlay=False, control=False, show=index == 0, max_zoom=19
        ).add_to(map_)
        basemaps.append((html.escape(name), layer.get_name()))
    overlays: dict[str, list] = {"Sectoren": [], "Analyse": []}
    names = layer_names(project)
    for key, claims in data["claim_layers"].items():
        group = folium.FeatureGroup(name=names[key], control=False).add_to(map_)
        add_claims(project, key, claims, group, map_.get_name())
        overlays["Sectoren"].append((names[key], group.get_name()))
    # borders under the analysis layers; the smaller analysis objects above the larger ones, so
    # that each shows its tooltip (a click lists all of them, whichever lies on top)
    borders = folium.FeatureGroup(name="Provinciegrenzen", control=False).add_to(map_)
    add_borders(web_frame(data["regions"].set_geometry(data["regions"].boundary), tolerance), borders)
    for name, add in (
        ("Stapeling", add_stapeling),
        ("Spanningsgebieden", add_spanningsgebieden),
        ("Kansen", add_kansen),
        ("Schuurpunten", add_schuurpunten),
    ):
        frame = data[name.lower()]
        if frame is None or frame.empty:
            continue
        group = folium.FeatureGroup(name=name, control=False, show=name != "Stapeling").add_to(map_)
        add(project, web_frame(frame, tolerance), group)
        overlays["Analyse"].append((name, group.get_name()))
    stack = [layer for _, layer in overlays["Sectoren"]] + [borders.get_name()]
    stack += [layer for _, layer in overlays["Analyse"]]
    overlays["Analyse"].append(("Provinciegrenzen", borders.get_name()))
    situations = data.get("varianten") or []
    if situations:
        overlays[VARIANTS_GROUP] = []
        for index, situation in enumerate(situations):
            name = html.escape(situation_heading(index, str(situation.row["variant"])))
            group = folium.FeatureGroup(name=name, control=False, show=False).add_to(map_)
            add_variant(project, index, situation, situations[0].row, tolerance, group)
            overlays[VARIANTS_GROUP].append((name, group.get_name()))
            stack.append(group.get_name())
    _Kaart(_config(project, data, scope, date), basemaps, overlays, stack).add_to(map_)
    map_.get_root().title = html.escape(f"{project.name} — {scope}")
    use_assets(map_.get_root(), assets)
    return map_


def _in_view(frame: gpd.GeoDataFrame | None, area) -> gpd.GeoDataFrame | None:
    return None if frame is None else frame[shapely.intersects(area, frame.geometry.values)]


def _variants_in_view(situations: list | None, regions: gpd.GeoDataFrame) -> list:
    """The comparison when any of its schuurpunten or changes lies in the map's regions."""
    if not situations:
        return []
    shapes = [s.schuurpunten.geometry for s in situations] + [
        s.changes.geometry for s in situations if s.changes is not None
    ]
    area = shapely.union_all(regions.geometry.values)
    return situations if any(shapely.intersects(area, g.values).any() for g in shapes) else []


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _claim_notes(project: Project, plan: dict[str, ClaimLayer], tolerance: float) -> list[str]:
    """What the legend says about claims drawn coarser or as an image to keep the file small."""
    notes = []
    for key, claims in plan.items():
        label = project.sectors[key].label
        if claims.raster is not None:
            notes.append(
                f"{label}: alle {_count(claims.total)} objecten getoond, {_count(claims.raster.count)} "
                f"daarvan als beeld (zonder tooltip) om de kaart klein te houden"
            )
        elif claims.tolerance > tolerance:
            notes.append(f"{label}: vereenvoudigd tot {claims.tolerance:g} m om de kaart klein te houden")
    return notes


def _scopes(regions: gpd.GeoDataFrame, provincies: list[str] | None, national: bool) -> list[tuple]:
    """(name, regions, simplification tolerance in m, file-name stem) per map."""
    stems = file_names(regions["provincie"])
    scopes = []
    for name in provincies or list(regions["provincie"]):
        selected = select_regions(regions, [name])
        canonical = str(selected["provincie"].iloc[0])
        scopes.append((canonical, selected, 5.0, stems[canonical]))
    if national and not provincies:
        scopes.append(("alle provincies", regions, 50.0, OVERVIEW))
    return scopes


def _scope_data(
    project: Project, run: RunData, layers: dict[str, SectorLayer], regions, tolerance: float, shared: dict
) -> dict:
    """The layers of one map: every claim in view, fitted to the budget, and the analysis."""
    area = shapely.union_all(regions.geometry.values)
    shapely.prepare(area)
    claims = {key: _in_view(layer.frame, area) for key, layer in layers.items()}
    colours = {key: project.sectors[key].colour for key in layers}
    plan = plan_claims(claims, colours, tolerance, shared["stacked"], shared["budget"])
    names = set(regions["provincie"])
    areas = _in_view(run.spanningsgebieden, area)
    return {
        "regions": regions,
        "all_regions": run.provincies,
        "claims": claims,
        "claim_layers": plan,
        "notes": _claim_notes(project, plan, tolerance),
        "overview": shared["overview"],
        STAPELING.name: run.stapeling[run.stapeling["provincie"].isin(names)],
        SCHUURPUNTEN.name: _here_or_in(run.schuurpunten, names, areas),
        KANSEN.name: _here_or_in(run.kansen, names, areas),
        "spanningsgebieden": areas,
    }


def _here_or_in(zones: gpd.GeoDataFrame, names: set[str], areas: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The zones of the map's provinces, and those of a neighbouring provincie that lie in a
    spanningsgebied on the map: a cross-border spanningsgebied is shown whole, both halves."""
    own = zones["provincie"].isin(names).to_numpy(copy=True)
    if areas is None or areas.empty or own.all():
        return zones[own]
    others = np.flatnonzero(~own)
    geoms, shapes = zones.geometry.values[others], areas.geometry.values
    zone, area = shapely.STRtree(shapes).query(geoms, predicate="intersects")
    inside = ~shapely.touches(geoms[zone], shapes[area])  # only touching its edge: not in it
    own[others[zone[inside]]] = True
    return zones[own]


def _static_map(
    project: Project, data: dict, claims, regions, title: str, credits: Credits, path: Path
) -> Path:
    """The map of one scope as a PNG: legend and credits beside and below it."""
    figure, _ = conflict_map_figure(
        project,
        claims,
        regions,
        title,
        margin=0.06,
        credits=credits,
        schuurpunten=data[SCHUURPUNTEN.name],
        kansen=data[KANSEN.name],
        areas=data[SPANNINGSGEBIEDEN.name],
    )
    return save_figure(figure, path, format="png")


def write_maps(
    project: Project,
    run: RunData,
    layers: dict[str, SectorLayer],
    out: Path,
    provincies: list[str] | None = None,
    national: bool = True,
    png: bool = False,
    poster: str | None = None,
    assets: str = "inline",
    budget: int | None = None,
    regions_credit: str | None = None,
    date: str = "",
    situations: list | None = None,
) -> list[Path]:
    """Write one HTML map per provincie (and a national overview) into ``out``.

    ``run`` holds the layers ``provincies``, ``stapeling``, ``schuurpunten``, ``kansen`` and
    (when triage ran) ``spanningsgebieden``; ``layers`` are the project's loaded sectors. File names are
    unique per region name (:func:`~novex_geo.maps.files.file_names`). With ``png`` each map
    also gets a static PNG (legend and credits beside and below the map); with ``poster``
    (``"A3"`` or ``"A0"``) each provincie gets a print poster (:func:`~novex_geo.maps.poster.write_poster`).
    ``assets``: see :func:`~novex_geo.maps.assets.use_assets`; ``budget``: the bytes the claims
    may take per map (default :data:`~novex_geo.maps.web_claims.CLAIM_BUDGET`); ``date``: of
    the analysis (:func:`~novex_geo.io.run.run_date`); ``situations``: a comparison of
    variants (:func:`~novex_geo.io.variants.read_variants`), shown as layers to switch between
    on the maps it lies in.
    """
    credits = Credits.of(project, layers, regions_credit)
    shared = {
        "stacked": shapely.STRtree(run.stapeling[run.stapeling["n_sectoren"] >= 2].geometry.values),
        "overview": json.loads(web_frame(run.provincies[["geometry"]], 250.0).to_json()),
        "budget": CLAIM_BUDGET if budget is None else budget,
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    scopes = _scopes(run.provincies, provincies, national)
    if situations and not any(_variants_in_view(situations, regions) for _, regions, _, _ in scopes):
        log.warning("the variants lie in none of these maps' provinces: no map shows them")
    for number, (scope, regions, tolerance, stem) in enumerate(scopes, start=1):
        data = _scope_data(project, run, layers, regions, tolerance, shared)
        data["varianten"] = _variants_in_view(situations, regions)
        data["credits"] = credits.of_drawn(data["claims"].values())
        page = build_map(project, data, scope, date, tolerance, assets).get_root().render()
        path = atomic_write(
            out / f"kaart_{stem}.html", lambda part, text=page: part.write_text(text, "utf-8")
        )
        log.info("[%d/%d] map %s done", number, len(scopes), scope)  # the command lists the files
        written.append(path)
        if png:
            title = f"{project.name} — {scope} (analyse {date})"
            written.append(
                _static_map(project, data, data["claims"], regions, title, credits, path.with_suffix(".png"))
            )
        if poster and stem != OVERVIEW:
            written.append(
                write_poster(project, data, scope, date, poster, out / f"poster_{stem}_{poster}.pdf")
            )
    return written
