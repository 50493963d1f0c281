"""How features reach a kaartsessie page: compact GeoJSON inside the page's script, drawn by
``novexLayer`` and ``novexRaster`` (``lib/novex/kaart.js``).

Each feature carries only its geometry (simplified, in WGS84, 6 decimals) and the properties
novex-geo puts there: an HTML-escaped ``tip`` and ``popup``, a fill colour. The JSON is written
so that it cannot end the script element (``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.template import Template

__all__ = [
    "WEB_CRS",
    "Features",
    "Raster",
    "RasterOverlay",
    "collection",
    "feature_json",
    "safe_json",
    "web_frame",
    "web_geometries",
]

WEB_CRS = "EPSG:4326"
DECIMALS = 6  # about 0.1 m
_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"}
_COLLECTION = ('{"type":"FeatureCollection","features":[', "]}")


def safe_json(value) -> str:
    """Compact JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for character, escape in _UNSAFE.items():
        text = text.replace(character, escape)
    return text


def web_geometries(geometries, tolerance: float, crs) -> np.ndarray:
    """Simplify in ``crs`` (RD) to ``tolerance`` metres, preserving topology (no object
    vanishes or crosses itself), reproject to WGS84 and round to 6 decimals, coordinate by
    coordinate: an object smaller than that keeps its (repeated) point, nothing is emptied."""
    geometries = np.asarray(geometries)
    simple = shapely.simplify(geometries, tolerance, preserve_topology=True) if tolerance else geometries
    web = np.asarray(gpd.GeoSeries(simple, crs=crs).to_crs(WEB_CRS).values)
    return shapely.set_precision(web, 10.0**-DECIMALS, mode="pointwise")


def web_frame(frame: gpd.GeoDataFrame, tolerance: float) -> gpd.GeoDataFrame:
    """``frame`` with :func:`web_geometries`, without rows that have no geometry at all."""
    web = frame.set_geometry(web_geometries(frame.geometry.values, tolerance, frame.crs), crs=WEB_CRS)
    return web[~web.geometry.is_empty & web.geometry.notna()]


def feature_json(geometries: np.ndarray, properties: list[dict]) -> list[str]:
    """One compact GeoJSON Feature per geometry (WGS84) with its properties."""
    shapes = shapely.to_geojson(np.asarray(geometries))
    return [
        f'{{"type":"Feature","properties":{safe_json(props)},"geometry":{shape}}}'
        for props, shape in zip(properties, shapes, strict=True)
    ]


def collection(features: list[str]) -> str:
    """A FeatureCollection of :func:`feature_json` features; its length is what the page holds."""
    return _COLLECTION[0] + ",".join(features) + _COLLECTION[1]


def collection_size(sizes: np.ndarray) -> np.ndarray:
    """The length of a collection of the first 1, 2, ... features whose lengths are ``sizes``."""
    return len("".join(_COLLECTION)) + np.cumsum(np.asarray(sizes) + 1) - 1


class Features(MacroElement):
    """A GeoJSON layer in its parent group: ``options`` say how kaart.js draws it (``style``,
    ``pick`` for the layers whose features a click lists, ``sector`` for claims)."""

    _template = Template(
        "{% macro script(this, kwargs) %}\n"
        "var {{ this.get_name() }} = novexLayer({{ this._parent.get_name() }}, {{ this.options }},\n"
        "{{ this.data }});\n"
        "{% endmacro %}"
    )

    def __init__(self, features: list[str], options: dict):
        super().__init__()
        self._name = "NovexFeatures"
        self.data, self.options = collection(features), safe_json(options)


class Raster:
    """A PNG (``data:`` URI) covering ``bounds`` ([[south, west], [north, east]]) in Web
    Mercator, showing ``count`` objects."""

    def __init__(self, uri: str, bounds: list, count: int):
        self.uri, self.bounds, self.count = uri, bounds, count


class RasterOverlay(MacroElement):
    """A :class:`Raster` in its parent group, in the pane under every vector layer."""

    _template = Template(
        "{% macro script(this, kwargs) %}\n"
        "var {{ this.get_name() }} = novexRaster({{ this.map }}, {{ this._parent.get_name() }}, "
        "{{ this.options }});\n"
        "{% endmacro %}"
    )

    def __init__(self, map_name: str, raster: Raster, sector: str):
        super().__init__()
        self._name = "NovexRaster"
        self.map = map_name
        self.options = safe_json(
            {"url": raster.uri, "bounds": raster.bounds, "count": raster.count, "sector": sector}
        )
