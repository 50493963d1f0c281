"""The library entry of the commands around a project: ``check``, ``init`` and ``fetch``.

With :mod:`novex_geo.pipeline` this is everything the CLI calls (an import contract keeps it
so): the commands stay thin, and a notebook finds every step in one place.
"""

from __future__ import annotations

from pathlib import Path

from novex_geo.check import CheckResult, check_project
from novex_geo.config import Project
from novex_geo.errors import UsageError
from novex_geo.fetch import (
    FetchOptions,
    FetchResult,
    RetryPolicy,
    by_sector,
    fetch_dataset,
    fetch_provinces,
    get_entry,
)
from novex_geo.fetch.datasets import DEFAULT_CACHE
from novex_geo.fetch.provinces import PDOK_GEBIEDSINDELINGEN
from novex_geo.templates import catalog_project, default_sectors, write_template

__all__ = [
    "DEFAULT_CACHE",
    "PDOK_GEBIEDSINDELINGEN",
    "FetchOptions",
    "FetchResult",
    "RetryPolicy",
    "by_sector",
    "default_sectors",
    "fetch_dataset",
    "fetch_provinces",
    "get_entry",
    "run_check",
    "run_init",
]


def run_check(project: Project) -> CheckResult:
    """What ``novex-geo check`` reports: every source read and counted, the triage layers and
    the last run's self-audit; ``.ok`` says whether the project can be analysed."""
    return check_project(project)


def run_init(
    path: Path,
    name: str = "NOVEX analyse",
    overwrite: bool = False,
    cache: Path | None = None,
    provincie: str | None = None,
) -> Path:
    """Write a starter project file at ``path``: the NOVEX template, or (with ``cache``) one
    wired to the layers ``novex-geo fetch`` stored there."""
    if not name.strip():  # the project file would be one that check refuses
        raise UsageError("--name: give the project a name (it is on every map and report)")
    text = catalog_project(cache, path, provincie) if cache is not None else None
    return write_template(path, name=name, overwrite=overwrite, text=text)
