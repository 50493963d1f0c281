"""QGIS opens a run styled: default styles in the GeoPackage and a project file beside it.

Every layer the run writes gets its default style in the GeoPackage table ``layer_styles``
(the convention QGIS reads when a layer is added): stapeling graduated by ``n_sectoren`` in
the colours of the web maps, schuurpunten hatched red and labelled with their conflict, kansen
hatched green and labelled with their pair, spanningsgebieden as black outlines labelled with
rank and name, provinces as dashed borders.
``analyse.qgs`` beside the GeoPackage groups the layers as the web map does — the sector
sources in their project colours, the analysis layers, and PDOK BRT-Achtergrondkaart as the
basemap — with paths relative to the project file, so the folder can be moved or mailed.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd
import pyogrio
from pyproj import CRS

from novex_geo.config import KANS, Project
from novex_geo.config.labels import SectorLabels
from novex_geo.io.qgis_symbols import (
    buffered,
    fill,
    graduated_stapeling,
    line,
    marker,
    simple_labels,
    single_symbol,
)
from novex_geo.io.run import KANSEN, PROVINCIES, SCHUURPUNTEN, SPANNINGSGEBIEDEN, STAPELING
from novex_geo.style import AREA_COLOUR, BORDER_COLOUR, KANS_COLOUR, SCHUURPUNT_COLOUR

__all__ = [
    "QGIS_SUFFIX",
    "STYLED_LAYERS",
    "SourceLayer",
    "layer_style",
    "write_project_file",
    "write_styles",
]

QGIS_SUFFIX = ".qgs"  # analyse.gpkg: analyse.qgs; a run written elsewhere (--out X.gpkg): X.qgs
QGIS_VERSION = "3.22.0"
BRT_GRIJS = (
    "type=xyz&url=https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/"
    "%7Bz%7D/%7Bx%7D/%7By%7D.png&zmax=19&zmin=0"
)
BRT_ATTRIBUTION = "Kaartgegevens © Kadaster"
GEOMETRY_COLUMN = "geom"
TITLES = {  # top of the legend (drawn last) first
    part.name: part.legend for part in (PROVINCIES, SPANNINGSGEBIEDEN, SCHUURPUNTEN, KANSEN, STAPELING)
}
STYLED_LAYERS = tuple(TITLES)


def _quoted(text: str) -> str:
    """A string literal of a QGIS expression."""
    return "'" + str(text).replace("'", "''") + "'"


def _pair_expression(field: str, labels: SectorLabels) -> str:
    """A QGIS expression that shows the pair in ``field`` (``woningbouw×water_bodem``) by its
    sectors' labels (``Woningbouw × Water en bodem``), looked up per side so that no key is
    replaced inside another's label."""
    entries = ", ".join(f"{_quoted(key)}, {_quoted(label)}" for key, label in labels.labels.items())
    return (
        f"array_to_string(array_foreach(string_to_array(\"{field}\", '×'), "
        f"coalesce(map_get(map({entries}), @element), @element)), ' × ')"
    )


def _layer_parts(layer: str, labels: SectorLabels) -> tuple[str, str]:
    """Renderer and labeling of one of the run's layers (sectors shown by their ``labels``)."""
    if layer == STAPELING.name:
        return graduated_stapeling(), ""
    if layer == SCHUURPUNTEN.name:
        symbol = fill("0", SCHUURPUNT_COLOUR, SCHUURPUNT_COLOUR, width=0.5, style="b_diagonal")
        expression = _pair_expression("conflict", labels)
        return single_symbol(symbol), simple_labels(expression, SCHUURPUNT_COLOUR, 7, zoomed_in_beyond=25_000)
    if layer == KANSEN.name:
        symbol = fill("0", KANS_COLOUR, KANS_COLOUR, width=0.5, style="f_diagonal")
        expression = _pair_expression(KANS.pair_column, labels)
        return single_symbol(symbol), simple_labels(expression, KANS_COLOUR, 7, zoomed_in_beyond=25_000)
    if layer == SPANNINGSGEBIEDEN.name:
        symbol = fill("0", "#ffffff", AREA_COLOUR, width=0.8, style="no")
        return single_symbol(symbol), simple_labels('concat("rang", \'. \', "naam")', AREA_COLOUR, 8)
    if layer == PROVINCIES.name:
        symbol = fill("0", "#ffffff", BORDER_COLOUR, width=0.7, style="no", outline_style="dash dot")
        return single_symbol(symbol), ""
    raise KeyError(layer)


def _qml(renderer: str, labeling: str) -> str:
    enabled = "1" if labeling else "0"
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling" labelsEnabled="{enabled}">'
        f"{renderer}{labeling}</qgis>\n"
    )


def layer_style(layer: str, labels: SectorLabels) -> str:
    """The QML style (QGIS' style format) of one of the run's layers."""
    return _qml(*_layer_parts(layer, labels))


def write_styles(gpkg: Path, layers: list[str], labels: SectorLabels) -> None:
    """Store the default style of each of ``layers`` in the GeoPackage table ``layer_styles``,
    replacing earlier rows for those layers and keeping the others."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    rows = pd.DataFrame(
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layers,
            "f_geometry_column": GEOMETRY_COLUMN,
            "styleName": [f"novex-geo {layer}" for layer in layers],
            "styleQML": [layer_style(name, labels) for name in layers],
            "styleSLD": "",
            "useAsDefault": True,
            "description": [f"{TITLES[layer]} (novex-geo)" for layer in layers],
            "owner": "",
            "ui": "",
            "update_time": now,
        }
    )
    existing = set(pyogrio.list_layers(gpkg)[:, 0]) if gpkg.exists() else set()
    if "layer_styles" in existing:
        kept = pyogrio.read_dataframe(gpkg, layer="layer_styles", read_geometry=False)
        rows = pd.concat([kept[~kept["f_table_name"].isin(layers)], rows], ignore_index=True)
    pyogrio.write_dataframe(rows, gpkg, layer="layer_styles", driver="GPKG")


@dataclass(frozen=True)
class SourceLayer:
    """A sector's input layer, for the Sectoren group of the project file."""

    sector: str
    label: str
    colour: str
    path: Path
    layer: str | None
    where: str | None
    kind: str  # "Polygon", "LineString", "Point" or "Raster"
    buffer: float | None = None  # metres: drawn as the analysis takes it


def source_layers(project: Project) -> list[SourceLayer]:
    """The project's file input layers with the sector's label and colour and their geometry kind
    (a PostGIS source is left out: QGIS adds it from its own database connection)."""
    found = []
    for sector in project.sectors.values():
        for source in (source for source in sector.sources if isinstance(source.path, Path)):
            kind = "Raster" if source.raster is not None else _geometry_kind(source.path, source.layer)
            found.append(
                SourceLayer(
                    sector.key,
                    f"{sector.label}: {source.name}",
                    sector.colour,
                    source.path,
                    source.layer,
                    source.where,
                    kind,
                    source.buffer,
                )
            )
    return found


def _geometry_kind(path: Path, layer: str | None) -> str:
    try:
        declared = str(pyogrio.read_info(path, layer=layer).get("geometry_type") or "")
    except Exception:  # the file's own reader reports problems; the project file just shows it unstyled
        declared = ""
    for kind in ("Point", "LineString"):
        if kind in declared:
            return kind
    return "Polygon"


def _spatialrefsys(crs: str) -> str:
    """QGIS' description of a CRS: it needs the definition, not only the authority code."""
    definition = CRS.from_user_input(crs)
    authority, code = crs.split(":")
    srid = int(code) if authority.upper() == "EPSG" else 0
    return (
        f"<spatialrefsys><wkt>{escape(definition.to_wkt())}</wkt><srid>{srid}</srid>"
        f"<authid>{escape(crs)}</authid><description>{escape(definition.name)}</description></spatialrefsys>"
    )


def _srs(crs: str) -> str:
    return f"<srs>{_spatialrefsys(crs)}</srs>"


def _relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` as the user wrote them, links not followed, so that the
    project folder can move with its data; an absolute path where there is no relative one."""
    try:
        relative = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(folder))).as_posix()
    except ValueError:  # another drive
        return Path(os.path.abspath(path)).as_posix()
    return relative if relative.startswith("../") else f"./{relative}"


def _vector_layer(
    layer_id: str, title: str, source: str, geometry: str, renderer: str, labeling: str, crs: str
):
    enabled = "1" if labeling else "0"
    return (
        f'<maplayer type="vector" geometry="{geometry}" styleCategories="AllStyleCategories" '
        f'labelsEnabled="{enabled}">'
        f"<id>{layer_id}</id><datasource>{escape(source)}</datasource><layername>{escape(title)}</layername>"
        f'{_srs(crs)}<provider encoding="UTF-8">ogr</provider>{renderer}{labeling}</maplayer>'
    )


def _tree_layer(layer_id: str, title: str, source: str, provider: str, visible: bool = True) -> str:
    checked = "Qt::Checked" if visible else "Qt::Unchecked"
    return (
        f'<layer-tree-layer id="{layer_id}" name={quoteattr(title)} source={quoteattr(source)} '
        f'providerKey="{provider}" checked="{checked}" expanded="0"/>'
    )


def _sector_layer(source: SourceLayer, folder: Path, crs: str) -> tuple[str, str, str]:
    # one file can be several sources (the same terrains bare and with a buffer): each its own id
    identity = "|".join(str(part) for part in (source.path, source.layer, source.where, source.label))
    layer_id = f"sector_{source.sector}_{uuid.uuid5(uuid.NAMESPACE_URL, identity).hex[:8]}"
    path = _relative(source.path, folder)
    if source.kind == "Raster":
        maplayer = (
            f'<maplayer type="raster"><id>{layer_id}</id><datasource>{escape(path)}</datasource>'
            f"<layername>{escape(source.label)}</layername><provider>gdal</provider></maplayer>"
        )
        return layer_id, maplayer, _tree_layer(layer_id, source.label, path, "gdal", visible=False)
    datasource = path + (f"|layername={source.layer}" if source.layer else "")
    datasource += f"|subset={source.where}" if source.where else ""
    geometry = {"LineString": "Line", "Point": "Point"}.get(source.kind, "Polygon")
    if source.buffer:
        symbol = buffered(
            geometry, source.buffer, fill("@0@0", source.colour, source.colour, width=0.3, alpha=0.35)
        )
    else:
        symbol = {
            "Line": line("0", source.colour),
            "Point": marker("0", source.colour),
        }.get(geometry, fill("0", source.colour, source.colour, width=0.3, alpha=0.35))
    maplayer = _vector_layer(layer_id, source.label, datasource, geometry, single_symbol(symbol), "", crs)
    return layer_id, maplayer, _tree_layer(layer_id, source.label, datasource, "ogr")


def write_project_file(
    gpkg: Path, title: str, crs: str, layers: list[str], sources: list[SourceLayer], labels: SectorLabels
) -> Path:
    """Write the QGIS project beside the GeoPackage (``analyse.qgs`` beside ``analyse.gpkg``):
    the run's ``layers`` styled (sectors by their ``labels``), the sector ``sources`` in their
    colours, and the PDOK basemap; returns its path."""
    folder = gpkg.parent
    maplayers, analysis, sectors, order = [], [], [], []
    for layer in [name for name in STYLED_LAYERS if name in layers]:  # top of the legend first
        layer_id = f"{layer}_novex"
        source = f"./{gpkg.name}|layername={layer}"
        parts = _layer_parts(layer, labels)
        maplayers.append(_vector_layer(layer_id, TITLES[layer], source, "Polygon", *parts, crs))
        analysis.append(_tree_layer(layer_id, TITLES[layer], source, "ogr"))
        order.append(layer_id)
    for source in sources:
        layer_id, maplayer, tree = _sector_layer(source, folder, crs)
        maplayers.append(maplayer)
        sectors.append(tree)
        order.append(layer_id)
    basemap_id = "pdok_brt_grijs"
    maplayers.append(
        f'<maplayer type="raster"><id>{basemap_id}</id><datasource>{escape(BRT_GRIJS)}</datasource>'
        f"<layername>PDOK BRT-Achtergrondkaart grijs</layername>"
        f"<attribution><title>{escape(BRT_ATTRIBUTION)}</title></attribution><provider>wms</provider></maplayer>"
    )
    order.append(basemap_id)
    tree = (
        '<layer-tree-group name="" checked="Qt::Checked" expanded="1">'
        f'<layer-tree-group name="Analyse" checked="Qt::Checked" expanded="1">{"".join(analysis)}'
        "</layer-tree-group>"
        f'<layer-tree-group name="Sectoren" checked="Qt::Checked" expanded="1">{"".join(sectors)}'
        "</layer-tree-group>"
        '<layer-tree-group name="Achtergrond" checked="Qt::Checked" expanded="1">'
        f"{_tree_layer(basemap_id, 'PDOK BRT-Achtergrondkaart grijs', BRT_GRIJS, 'wms')}</layer-tree-group>"
        "</layer-tree-group>"
    )
    text = (
        f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"{QGIS_VERSION}\" "
        f"projectname={quoteattr(title)}><title>{escape(title)}</title>"
        f"<projectCrs>{_spatialrefsys(crs)}</projectCrs>{tree}"
        f"<projectlayers>{''.join(maplayers)}</projectlayers>"
        f"<layerorder>{''.join(f'<layer id={quoteattr(i)}/>' for i in order)}</layerorder>"
        '<properties><Paths><Absolute type="bool">false</Absolute></Paths>'
        '<SpatialRefSys><ProjectionsEnabled type="int">1</ProjectionsEnabled></SpatialRefSys>'
        "</properties></qgis>\n"
    )
    from novex_geo.io.files import write_text

    return write_text(gpkg.with_suffix(QGIS_SUFFIX), text)
