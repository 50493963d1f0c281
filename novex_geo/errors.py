"""Errors that describe a user mistake.

Every error a user can cause by a wrong project file or a wrong input layer is a
:class:`NovexError`. The CLI turns it into one clear message and a non-zero exit; library
users can catch it. Each error names the file and, where it applies, the layer and field.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuditError",
    "ConfigError",
    "DownloadError",
    "IncompleteDownloadError",
    "LayerError",
    "NovexError",
    "Terminated",
]


class NovexError(Exception):
    """Base class for mistakes in the project file, the input data or the environment."""


def _where(path: str | Path | None, layer: str | None = None, field: str | None = None) -> str:
    parts = []
    if path is not None:
        parts.append(str(path))
    if layer:
        parts.append(f"layer '{layer}'")
    if field:
        parts.append(f"field '{field}'")
    return ", ".join(parts)


class ConfigError(NovexError):
    """The project file (``novex.toml``) is missing, unreadable or inconsistent.

    Parameters
    ----------
    path : path of the project file
    key : dotted key inside the file, e.g. ``sectors.energie.sources[0].buffer``
    message : what is wrong and how to fix it
    """

    def __init__(self, path: str | Path, message: str, key: str | None = None):
        self.path = Path(path)
        self.key = key
        location = f"{path}: {key}" if key else str(path)
        super().__init__(f"{location}: {message}")


class LayerError(NovexError):
    """An input layer cannot be used (missing file or layer, no CRS, unknown field...)."""

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        layer: str | None = None,
        field: str | None = None,
    ):
        self.path = path
        self.layer = layer
        self.field = field
        where = _where(path, layer, field)
        super().__init__(f"{where}: {message}" if where else message)


class DownloadError(NovexError):
    """A download from a web service (PDOK) failed after bounded retries."""


class IncompleteDownloadError(DownloadError):
    """Fewer (or more) features arrived than the service says it holds: the layer is stored,
    marked ``onvolledig``, and a run refuses it unless told to accept it."""


class AuditError(NovexError):
    """The engine's self-audit found faces whose area disagrees with the claims.

    The run stops instead of writing wrong areas; the message names the provincie, the tile
    and the sector.
    """


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (``SIGTERM``, as ``kill`` and service managers do).

    Raised in the main thread by the command line's signal handler and unwound as Ctrl-C is:
    worker processes are stopped, half-written files removed, earlier outputs left as they were.
    """
