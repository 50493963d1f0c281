"""Reading claim layers and regions, and downloading open data.

Everything that touches files or web services lives here; the analysis in
:mod:`novex_geo.tools` works on in-memory GeoDataFrames.
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
