"""The QGIS symbols and labels of the styles novex-geo writes (QML): fills, lines, markers, the
graduated stapeling, a buffered source drawn as its zone, and simple labels."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from matplotlib.colors import to_rgba

from novex_geo.style import STAPELING_COLOURS

__all__ = [
    "buffered",
    "fill",
    "graduated_stapeling",
    "line",
    "marker",
    "options",
    "rgba",
    "simple_labels",
    "single_symbol",
]


def rgba(colour: str, alpha: float = 1.0) -> str:
    red, green, blue, _ = (round(255 * v) for v in to_rgba(colour))
    return f"{red},{green},{blue},{round(255 * alpha)}"


def options(values: dict[str, str]) -> str:
    items = "".join(
        f'<Option type="QString" name="{k}" value={quoteattr(str(v))}/>' for k, v in values.items()
    )
    return f'<Option type="Map">{items}</Option>'


def fill(
    name: str,
    fill: str,
    outline: str,
    width: float = 0.26,
    style: str = "solid",
    outline_style: str = "solid",
    alpha: float = 1.0,
) -> str:
    """A fill symbol: ``style`` is a Qt brush ('solid', 'no', 'b_diagonal'...)."""
    layer = {
        "color": rgba(fill, alpha),
        "style": style,
        "outline_color": rgba(outline),
        "outline_style": outline_style,
        "outline_width": f"{width:g}",
        "outline_width_unit": "MM",
    }
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{options(layer)}</layer></symbol>'
    )


def line(name: str, colour: str, width: float = 0.6) -> str:
    layer = {
        "line_color": rgba(colour),
        "line_width": f"{width:g}",
        "line_width_unit": "MM",
        "line_style": "solid",
    }
    return (
        f'<symbol type="line" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleLine" enabled="1" locked="0" pass="0">{options(layer)}</layer></symbol>'
    )


def marker(name: str, colour: str) -> str:
    layer = {"color": rgba(colour), "name": "circle", "size": "2.4", "outline_color": "35,35,35,255"}
    return (
        f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0">{options(layer)}</layer></symbol>'
    )


def buffered(geometry: str, distance: float, fill: str) -> str:
    """A symbol that draws each feature as the zone the analysis takes (``buffer`` of the
    source): QGIS' geometry generator buffers it by ``distance`` in map units, the metres of the
    project's CRS, and fills the zone with ``fill``."""
    generator = {
        "SymbolType": "Fill",
        "geometryModifier": f"buffer($geometry, {distance:g})",
        "units": "MapUnit",
    }
    symbol_type = {"Line": "line", "Point": "marker"}.get(geometry, "fill")  # the layer's own kind
    return (
        f'<symbol type="{symbol_type}" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="GeometryGenerator" enabled="1" locked="0" pass="0">{options(generator)}'
        f"{fill}</layer></symbol>"
    )


def single_symbol(symbol: str) -> str:
    return (
        '<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0">'
        f"<symbols>{symbol}</symbols></renderer-v2>"
    )


def graduated_stapeling() -> str:
    ranges, symbols = [], []
    for index, (n, colour) in enumerate(STAPELING_COLOURS.items()):
        last = n == max(STAPELING_COLOURS)
        label = f"{n}+ sectoren" if last else f"{n} sector" + ("en" if n > 1 else "")
        upper = 1_000_000 if last else n + 0.5
        ranges.append(
            f'<range symbol="{index}" label="{label}" lower="{n - 0.5:g}" upper="{upper:g}" render="true"/>'
        )
        symbols.append(fill(str(index), colour, "#666666", width=0.1, alpha=0.75))
    return (
        '<renderer-v2 type="graduatedSymbol" attr="n_sectoren" graduatedMethod="GraduatedColor" '
        'symbollevels="0" forceraster="0">'
        f"<ranges>{''.join(ranges)}</ranges><symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )


def simple_labels(expression: str, colour: str, size: float, zoomed_in_beyond: int = 0) -> str:
    """Simple labels; with ``zoomed_in_beyond`` (a scale denominator) only when zoomed in further."""
    # QGIS stores the most zoomed-out scale of labels in scaleMax (an inversion it keeps for compatibility)
    visibility = f'scaleVisibility="1" scaleMin="0" scaleMax="{zoomed_in_beyond}"' if zoomed_in_beyond else ""
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(expression)} isExpression="1" fontSize="{size:g}" '
        f'fontSizeUnit="Point" textColor="{rgba(colour)}" textOpacity="1" fontFamily="Sans Serif" '
        'fontWeight="50" namedStyle="Regular">'
        '<text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
        'bufferOpacity="0.85"/></text-style>'
        '<placement placement="1" polygonPlacementFlags="2" fitInPolygonOnly="0" priority="5"/>'
        '<rendering drawLabels="1" obstacle="1" obstacleFactor="1" labelPerPart="0" maxNumLabels="2000" '
        f"{visibility}/>"
        "</settings></labeling>"
    )
