"""Maps: static conflict maps (matplotlib) for slides and signal 1-pagers."""

from novex_geo.maps.static import draw_conflict_map

__all__ = ["draw_conflict_map"]
