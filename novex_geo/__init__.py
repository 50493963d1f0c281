"""novex-geo: overlay sector claims per provincie for the Dutch NOVEX programme.

The library API works without the CLI::

    import novex_geo as ng
    project = ng.load_project("novex.toml")
    sectors = ng.load_sectors(project)
"""

from novex_geo.errors import (
    AnnotationsError,
    AuditError,
    CatalogError,
    ClusterError,
    ConfigError,
    DatabaseError,
    DownloadError,
    IncompleteDownloadError,
    LayerError,
    NovexError,
    OutputError,
    RunError,
    UsageError,
)

__version__ = "0.1.0"

# the loaders pull in geopandas; they are imported on first use, so that a worker process
# that only needs the engine starts quickly
_LAZY = {
    "load_project": "novex_geo.config",
    "load_sectors": "novex_geo.io.layers",
    "load_regions": "novex_geo.io.regions",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'novex_geo' has no attribute {name!r}")


__all__ = [
    "AnnotationsError",
    "AuditError",
    "CatalogError",
    "ClusterError",
    "ConfigError",
    "DatabaseError",
    "DownloadError",
    "IncompleteDownloadError",
    "LayerError",
    "NovexError",
    "OutputError",
    "RunError",
    "UsageError",
    "__version__",
    "load_project",
    "load_regions",
    "load_sectors",
]
