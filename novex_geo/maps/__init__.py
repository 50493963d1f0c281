"""Renderers: kaartsessie web maps, static conflict maps, signal 1-pagers, sketch maps and
print posters.

They draw what the analysis computed; they never compute it. Every text from data or the
project file is escaped (HTML) or drawn as plain text (matplotlib), every file is written
atomically, and the web maps carry their JavaScript inside (:mod:`novex_geo.maps.assets`).
"""

from novex_geo.maps.static import draw_conflict_map

__all__ = ["draw_conflict_map"]
