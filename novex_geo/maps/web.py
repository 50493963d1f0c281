"""Kaartsessie maps: one self-describing Folium (Leaflet) HTML map per provincie.

Layers: each sector in its configured colour, stapeling as a choropleth by ``n_sectoren``,
schuurpunten, spanningsgebieden with popups and tooltips, provincial borders; PDOK
BRT-Achtergrondkaart (grijs by default, standaard, pastel), PDOK Luchtfoto and OpenStreetMap
as basemaps; grouped layer control, legend, scale bar, fullscreen, measure tool, minimap and
the Draw tool for sketches (exported as GeoJSON with the ``sector`` the user picks).

Folium does not escape attribute values: every value that reaches a popup, tooltip, legend
or title passes :func:`html.escape` here first. Geometry is simplified to the display scale
and coordinates are rounded to 6 decimals; parcels of a sector that take part in no
stapeling ≥ 2 are left out (the legend says so).
"""

from __future__ import annotations

import html
import logging
import unicodedata
from datetime import datetime
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement, Template
from folium import plugins

from novex_geo.config import DEMO_MARK, Project
from novex_geo.io.layers import SectorLayer
from novex_geo.io.regions import select_regions
from novex_geo.io.run import RunData
from novex_geo.triage.criteria import CRITERIA

__all__ = ["BASEMAPS", "STAPELING_COLOURS", "build_map", "write_maps"]

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
STAPELING_COLOURS = {1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#bd0026"}
WEB_CRS = "EPSG:4326"


def _web(frame: gpd.GeoDataFrame, tolerance: float) -> gpd.GeoDataFrame:
    """Simplify in RD to ``tolerance`` metres, reproject to WGS84 and round to 6 decimals."""
    if frame.empty:
        return frame.to_crs(WEB_CRS)
    simple = frame.set_geometry(shapely.simplify(frame.geometry.values, tolerance, preserve_topology=True))
    web = simple.to_crs(WEB_CRS)
    rounded = shapely.set_precision(web.geometry.values, 1e-6)
    web = web.set_geometry(rounded)
    return web[~web.geometry.is_empty]


def _escape_columns(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    out = frame[[*columns, "geometry"]].copy()
    for column in columns:
        out[column] = out[column].map(lambda v: html.escape(str(v)))
    return out


def _popup_html(area) -> str:
    e = html.escape
    verdicts = "".join(
        f"<tr><td>{e(c.title)}</td><td><b>{e(str(area[c.verdict]))}</b></td><td>{e(str(area[c.reason]))}</td></tr>"
        for c in CRITERIA
    )
    return (
        f"<h4>{e(str(area['naam']))}</h4><p>{e(str(area['id']))} · {area['oppervlakte_ha']:.1f} ha · "
        f"sectoren: {e(str(area['sectoren']).replace('+', ', '))}</p>"
        f"<p>Conflicten: {e(str(area['conflicten']))}</p><table>{verdicts}</table>"
        f"<p>Objecten: {e(str(area['objecten']))}</p>"
    )


def _legend(project: Project, notes: list[str]) -> MacroElement:
    e = html.escape
    rows = "".join(
        f'<div><span style="background:{sector.colour};opacity:.6"></span>{e(sector.label)}</div>'
        for sector in project.sectors.values()
    )
    classes = "".join(
        f'<div><span style="background:{colour}"></span>stapeling {n}{"+" if n == 5 else ""}</div>'
        for n, colour in STAPELING_COLOURS.items()
    )
    extra = "".join(f"<p>{e(note)}</p>" for note in notes)
    template = Template(f"""
{{% macro html(this, kwargs) %}}
<div class="novex-legend" style="position:fixed;bottom:30px;left:10px;z-index:9999;background:white;
 padding:8px;border:1px solid #999;font:12px sans-serif;max-width:260px">
<b>Sectoren</b>{rows}<b>Stapeling (aantal sectoren)</b>{classes}
<div><span style="border:2px dashed #b10026"></span>schuurpunt</div>
<div><span style="border:3px solid black"></span>spanningsgebied</div>{extra}
</div>
<style>.novex-legend span{{display:inline-block;width:14px;height:10px;margin-right:5px}}</style>
{{% endmacro %}}""")
    legend = MacroElement()
    legend._template = template
    return legend


def _title(project: Project, scope: str, date: str, sources: list[str]) -> Element:
    e = html.escape
    mark = f'<div style="color:#b10026;font-weight:bold">{e(DEMO_MARK)}</div>' if project.demo else ""
    return Element(
        f'<div class="novex-title" style="position:fixed;top:10px;left:60px;z-index:9999;background:white;'
        f'padding:6px 10px;border:1px solid #999;font:13px sans-serif;max-width:480px">'
        f"<b>{e(project.name)} — {e(scope)}</b><br>Analyse van {e(date)}<br>"
        f'<span style="font-size:11px">Bronnen: {e("; ".join(sources))}</span>{mark}</div>'
    )


def _sketch_tools(map_: folium.Map, project: Project) -> None:
    options = "".join(
        f'<option value="{html.escape(key)}">{html.escape(sector.label)}</option>'
        for key, sector in project.sectors.items()
    )
    map_.get_root().html.add_child(Element(
        '<div style="position:fixed;top:118px;left:60px;z-index:9999;background:white;padding:4px 8px;'
        'border:1px solid #999;font:12px sans-serif">Schets als sector: '
        f'<select id="novex-sector">{options}</select></div>'
    ))  # fmt: skip
    plugins.Draw(
        export=True,
        filename="schets.geojson",
        position="topleft",
        draw_options={"polyline": False, "circle": False, "circlemarker": False, "marker": False},
    ).add_to(map_)
    tag = MacroElement()
    # rendered after the map's own script, so the map variable exists
    tag._template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.on('draw:created', function (event) {"
        " var layer = event.layer; layer.feature = layer.feature || {type: 'Feature', properties: {}};"
        " layer.feature.properties.sector = document.getElementById('novex-sector').value; });"
        "{% endmacro %}"
    )
    tag.add_to(map_)


def _metric_scale(map_: folium.Map) -> None:
    scale = MacroElement()
    scale._template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )
    scale.add_to(map_)


def _stapeling_style(feature) -> dict:
    colour = STAPELING_COLOURS[min(feature["properties"]["n_sectoren"], 5)]
    return {"fillColor": colour, "color": "#666666", "weight": 0.3, "fillOpacity": 0.7}


def _add_stapeling(web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    tips = [
        f"{html.escape(str(s))}: {n} sector(en), {a / 1e4:.2f} ha"
        for s, n, a in zip(web["sectoren"], web["n_sectoren"], web["oppervlakte_m2"], strict=True)
    ]
    web = web.assign(tip=tips)[["n_sectoren", "tip", "geometry"]]
    tooltip = folium.GeoJsonTooltip(["tip"], labels=False)
    folium.GeoJson(web, style_function=_stapeling_style, tooltip=tooltip).add_to(group)


def _add_schuurpunten(web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    tips = [
        html.escape(f"{c}: {a / 1e4:.2f} ha — {la} × {lb}")
        for c, a, la, lb in zip(
            web["conflict"], web["oppervlakte_m2"], web["labels_a"], web["labels_b"], strict=True
        )
    ]
    web = web.assign(tip=tips)[["tip", "geometry"]]
    style = {"color": "#b10026", "weight": 2, "dashArray": "5 4", "fillColor": "#b10026", "fillOpacity": 0.15}
    tooltip = folium.GeoJsonTooltip(["tip"], labels=False)
    folium.GeoJson(web, style_function=lambda _: style, tooltip=tooltip).add_to(group)


def _add_spanningsgebieden(web: gpd.GeoDataFrame, group: folium.FeatureGroup) -> None:
    popups = [_popup_html(row) for _, row in web.iterrows()]
    web = web.assign(popup=popups, tip=[html.escape(str(n)) for n in web["naam"]])[
        ["popup", "tip", "geometry"]
    ]
    folium.GeoJson(
        web,
        style_function=lambda _: {"color": "black", "weight": 3, "fillOpacity": 0.05},
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        popup=folium.GeoJsonPopup(["popup"], labels=False, max_width=480),
    ).add_to(group)


def build_map(project: Project, data: dict, scope: str, date: str, tolerance: float) -> folium.Map:
    """The Folium map for one scope (a provincie or all); ``data`` holds RD GeoDataFrames."""
    regions = data["regions"]
    bounds = regions.to_crs(WEB_CRS).total_bounds
    map_ = folium.Map(tiles=None, control_scale=False, prefer_canvas=False)
    for index, (name, (url, attribution)) in enumerate(BASEMAPS.items()):
        folium.TileLayer(url, name=name, attr=attribution, overlay=False, control=True, show=index == 0,
                         max_zoom=19).add_to(map_)  # fmt: skip
    groups: dict[str, list] = {"Sectoren": [], "Analyse": []}
    for key, frame in data["claims"].items():
        sector = project.sectors[key]
        group = folium.FeatureGroup(name=html.escape(sector.label), show=True)
        web = _escape_columns(_web(frame, tolerance), ["label"])
        folium.GeoJson(
            web, name=sector.label,
            style_function=lambda _, colour=sector.colour: {"color": colour, "weight": 1, "fillColor": colour,
                                                             "fillOpacity": 0.3},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(group)  # fmt: skip
        group.add_to(map_)
        groups["Sectoren"].append(group)
    for name, add in (("Stapeling", _add_stapeling), ("Schuurpunten", _add_schuurpunten),
                      ("Spanningsgebieden", _add_spanningsgebieden)):  # fmt: skip
        frame = data[name.lower()]
        if frame is None or frame.empty:
            continue
        group = folium.FeatureGroup(name=name, show=name != "Stapeling")
        add(_web(frame, tolerance), group)
        group.add_to(map_)
        groups["Analyse"].append(group)
    borders = folium.FeatureGroup(name="Provinciegrenzen", show=True)
    folium.GeoJson(_web(regions.set_geometry(regions.boundary)[["provincie", "geometry"]], tolerance),
                   style_function=lambda _: {"color": "#333333", "weight": 2.5, "dashArray": "8 4 2 4"},
                   tooltip=folium.GeoJsonTooltip(["provincie"], labels=False)).add_to(borders)  # fmt: skip
    borders.add_to(map_)
    groups["Analyse"].append(borders)
    plugins.GroupedLayerControl(groups, exclusive_groups=False, collapsed=False).add_to(map_)
    folium.LayerControl(collapsed=True).add_to(map_)
    _metric_scale(map_)
    plugins.Fullscreen().add_to(map_)
    plugins.MeasureControl(primary_length_unit="meters", primary_area_unit="hectares").add_to(map_)
    plugins.MiniMap(toggle_display=True).add_to(map_)
    _sketch_tools(map_, project)
    _legend(project, data["notes"]).add_to(map_)
    map_.get_root().html.add_child(_title(project, scope, date, data["sources"]))
    map_.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return map_


def _in_provinces(frame: gpd.GeoDataFrame | None, names: set[str]) -> gpd.GeoDataFrame | None:
    return None if frame is None else frame[frame["provincie"].isin(names)]


def write_maps(
    project: Project,
    run: RunData,
    layers: dict[str, SectorLayer],
    out: Path,
    provincies: list[str] | None = None,
    national: bool = True,
    png: bool = False,
) -> list[Path]:
    """Write one HTML map per provincie (and a national overview) into ``out``.

    ``run`` holds the layers ``provincies``, ``stapeling``, ``schuurpunten`` and (when triage
    ran) ``spanningsgebieden``; ``layers`` are the project's loaded sectors. With ``png`` each
    map also gets a static PNG snapshot (matplotlib: the same claims, schuurpunten,
    spanningsgebieden and borders, with legend, scale bar and north arrow).
    """
    regions_all, stapeling, schuurpunten = run.provincies, run.stapeling, run.schuurpunten
    areas = run.spanningsgebieden
    sources = sorted({r.attribution or Path(r.path).name for layer in layers.values() for r in layer.reports})
    date = datetime.fromtimestamp(run.path.stat().st_mtime).strftime("%d-%m-%Y")
    stacked = stapeling[stapeling["n_sectoren"] >= 2]
    stacked_tree = shapely.STRtree(stacked.geometry.values)
    out.mkdir(parents=True, exist_ok=True)
    scopes = [
        (name, select_regions(regions_all, [name]), 5.0)
        for name in (provincies or list(regions_all["provincie"]))
    ]
    if national and not provincies:
        scopes.append(("overzicht", regions_all, 50.0))
    written = []
    for scope, regions, tolerance in scopes:
        area = shapely.union_all(regions.geometry.values)
        shapely.prepare(area)
        claims, notes = {}, []
        for key, layer in layers.items():
            frame = layer.frame[shapely.intersects(area, layer.frame.geometry.values)]
            if len(frame) > 2_000:
                # a parcel layer: only what stacks with another sector is shown
                involved = np.unique(stacked_tree.query(frame.geometry.values, predicate="intersects")[0])
                shown, total = (f"{n:,}".replace(",", ".") for n in (len(involved), len(frame)))
                notes.append(f"{project.sectors[key].label}: {shown} van {total} objecten "
                             "getoond (alleen waar ze met een andere sector stapelen)")  # fmt: skip
                frame = frame.iloc[involved]
            claims[key] = frame
        names = set(regions["provincie"])
        in_scope_areas = None if areas is None else areas[shapely.intersects(area, areas.geometry.values)]
        data = {
            "regions": regions,
            "claims": claims,
            "stapeling": _in_provinces(stapeling, names),
            "schuurpunten": _in_provinces(schuurpunten, names),
            "spanningsgebieden": in_scope_areas,
            "notes": notes,
            "sources": sources,
        }
        map_ = build_map(project, data, scope, date, tolerance)
        slug = (
            unicodedata.normalize("NFKD", scope.lower()).encode("ascii", "ignore").decode().replace(" ", "_")
        )
        path = out / f"kaart_{slug}.html"
        map_.save(str(path))
        if png:
            written.append(_snapshot(project, data, scope, date, path.with_suffix(".png")))
        log.info("map %s: %s (%.1f MB)", scope, path, path.stat().st_size / 1e6)
        written.append(path)
    return written


def _snapshot(project: Project, data: dict, scope: str, date: str, path: Path) -> Path:
    """The static PNG of one map scope (for slides and reports)."""
    from matplotlib.figure import Figure

    from novex_geo.maps.static import draw_conflict_map

    figure = Figure(figsize=(10, 8), dpi=120)
    ax = figure.subplots()
    draw_conflict_map(
        ax, project, data["claims"], data["regions"], data["schuurpunten"], margin=0.02,
        attribution="; ".join(data["sources"]), areas=data["spanningsgebieden"],
    )  # fmt: skip
    ax.set_title(f"{project.name} — {scope} (analyse {date})", fontsize=11)
    figure.savefig(path, bbox_inches="tight")
    return path
