"""The exact overlay: stapeling, schuurpunten, provenance and the self-audit, per provincie."""

__all__ = ["OverlayResult", "overlay", "summarise"]

# the engine's entry points pull in geopandas; worker processes only need the per-tile
# modules, so these are imported on first use
_LAZY = {
    "OverlayResult": "novex_geo.overlay.engine",
    "overlay": "novex_geo.overlay.engine",
    "summarise": "novex_geo.overlay.summary",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'novex_geo.overlay' has no attribute {name!r}")
