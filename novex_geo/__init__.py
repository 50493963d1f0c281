"""novex-geo: overlay sector claims per provincie for the Dutch NOVEX programme.

The library API works without the CLI::

    import novex_geo as ng
    project = ng.load_project("novex.toml")
    sectors = ng.load_sectors(project)
"""

from novex_geo.config import load_project
from novex_geo.errors import ConfigError, DownloadError, LayerError, NovexError
from novex_geo.io.layers import load_sectors
from novex_geo.io.regions import load_regions

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DownloadError",
    "LayerError",
    "NovexError",
    "__version__",
    "load_project",
    "load_regions",
    "load_sectors",
]
