"""Reading and writing files and PostGIS: claim layers, rasters, regions, a run, its outputs.

The analysis (:mod:`novex_geo.overlay`, :mod:`novex_geo.triage`, :mod:`novex_geo.grid`) works on
in-memory GeoDataFrames that this package reads and writes. Downloading open data is
:mod:`novex_geo.fetch`, which writes GeoPackages that this package reads, and which it never
imports.
"""

from novex_geo.io.layers import (
    SectorLayer,
    SourceReport,
    load_sector,
    load_sectors,
    read_source,
    read_vector,
)

__all__ = [
    "SectorLayer",
    "SourceReport",
    "load_sector",
    "load_sectors",
    "read_source",
    "read_vector",
]
