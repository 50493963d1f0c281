"""The choices of the map commands (paper sizes, how maps carry their scripts), from the
renderers: imported by those commands only, so that the others do not load the map stack."""

from novex_geo.maps.assets import ASSET_MODES
from novex_geo.maps.poster import PAPER

__all__ = ["ASSET_MODES", "PAPER"]
