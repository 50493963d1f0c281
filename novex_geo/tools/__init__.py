"""Analysis tools: the exact overlay engine (stapeling, schuurpunten) and its summaries."""

from novex_geo.tools.engine import OverlayResult, overlay
from novex_geo.tools.summary import summarise

__all__ = ["OverlayResult", "overlay", "summarise"]
