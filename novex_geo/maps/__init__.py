"""Renderers: kaartsessie web maps, static conflict maps, signal 1-pagers and sketch maps.

They draw what the analysis computed; they never compute it.
"""

from novex_geo.maps.static import draw_conflict_map

__all__ = ["draw_conflict_map"]
