"""The cartographic conventions every output shares: web maps, static maps, signals and the
QGIS styles in the GeoPackage use the same colours, so a layer looks the same everywhere."""

from __future__ import annotations

__all__ = [
    "AREA_COLOUR",
    "BORDER_COLOUR",
    "KANS_COLOUR",
    "SCHUURPUNT_COLOUR",
    "STAPELING_COLOURS",
    "VARIANT_COLOUR",
    "stapeling_colour",
]

# n_sectoren 1, 2, 3, 4 and 5 or more (ColorBrewer YlOrRd, readable over the grey basemap)
STAPELING_COLOURS = {1: "#ffffb2", 2: "#fecc5c", 3: "#fd8d3c", 4: "#f03b20", 5: "#bd0026"}
SCHUURPUNT_COLOUR = "#b10026"
# kansen: green and hatched everywhere, so an opportunity never reads as a conflict
KANS_COLOUR = "#00a651"
VARIANT_COLOUR = "#7a0177"  # a variant's schuurpunten on the kaartsessie map, apart from the run's
AREA_COLOUR = "#000000"
BORDER_COLOUR = "#444444"


def stapeling_colour(n_sectoren: int) -> str:
    """The colour of a face claimed by ``n_sectoren`` sectors."""
    return STAPELING_COLOURS[min(max(int(n_sectoren), 1), max(STAPELING_COLOURS))]
