"""Errors that describe a user mistake, one class per kind of failure.

Every error a user can cause by a wrong project file, a wrong input layer or an environment
that refuses is a :class:`NovexError`; its subclass says which kind it is, so that a library
user can catch one kind and let the others through. The CLI turns any of them into one clear
message and exit code 1. Each error names the file and, where it applies, the layer and field.
The hierarchy, with what to do about each, is in ``docs/errors.md``.

No class also derives from :class:`OSError` (or its ``ConnectionError``), natural as that would
be for :class:`OutputError`, :class:`DatabaseError` and :class:`ClusterError`: the writers and
the HTTP layer catch ``OSError`` to re-word or retry what the system refused, and would then
re-word or retry these finished messages too.
"""

from __future__ import annotations

from pathlib import Path

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
    "Terminated",
    "UsageError",
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


class RunError(NovexError):
    """A run's results cannot be read: no run at the location yet, a layer or table that the
    command needs is missing (written by a later command, or by an older novex-geo), or the
    GeoPackage or PostGIS schema is not readable."""


class AnnotationsError(NovexError):
    """The annotations file (``triage.annotations``) cannot be used: empty, not UTF-8, not a
    CSV, lacking a column, a line with too many cells, an id twice, a verdict other than
    ``ja``/``nee``/``onbekend``, or an annotation set for an id or column it does not have."""


class OutputError(NovexError):
    """Outputs cannot be written where asked: the output folder is a file, read-only or on a
    full disk; another novex-geo command holds its lock (or the PostGIS schema's); the file
    exists and ``--force`` was not given; the PostGIS schema was not written by novex-geo or
    writing it failed. Earlier outputs are left as they were."""


class CatalogError(NovexError):
    """The layer catalogue cannot give what was asked: a catalogue entry (``layers/*.toml``)
    is malformed, a key or sector is unknown, or the entry has nothing to download or no
    address of its own."""


class DatabaseError(NovexError):
    """PostGIS cannot be used for a run: psycopg is not installed, the ``postgresql://`` URL is
    not valid or lacks ``?schema=``, or the database does not know the project's CRS."""


class ClusterError(NovexError):
    """The workers cannot run the tasks: a local worker process was killed (out of memory?);
    or the dask executor: dask.distributed is not installed, the scheduler address or
    ``NOVEX_GEO_DASK_WAIT`` is not valid, the scheduler cannot be reached or is not a dask
    scheduler, no workers joined, or the cluster failed mid-run."""


class UsageError(NovexError, ValueError):
    """Arguments that do not fit together or do not fit what they are applied to: a provincie
    and a bbox both, an option the catalogue entry has no use for, sector pairs that name
    sectors without claims, spanningsgebied ids that the run does not have."""


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (``SIGTERM``, as ``kill`` and service managers do).

    Raised in the main thread by the command line's signal handler and unwound as Ctrl-C is:
    worker processes are stopped, half-written files removed, earlier outputs left as they were.
    """
