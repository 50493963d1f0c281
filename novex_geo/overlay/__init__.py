"""The exact overlay: stapeling, schuurpunten, provenance and the self-audit, per provincie."""

from novex_geo.overlay.engine import OverlayResult, overlay
from novex_geo.overlay.summary import summarise

__all__ = ["OverlayResult", "overlay", "summarise"]
