"""Store the pages of any protocol in a GeoPackage layer: validated, clipped, resumable, complete.

A protocol is a *page source*: given where to continue (a ``cursor``, ``None`` at the start) it
yields :class:`Page` objects, each with the cursor that continues after it. This module does the
rest, the same for every protocol:

- each page is reprojected to RD New and checked (:mod:`novex_geo.fetch.features`), clipped to
  the provincie when asked, and staged as a Parquet file in ``<out>.parts/<layer>/`` — staged by
  page number, so a page is stored once however the download is interrupted, whether or not the
  features have ids (or share them);
- after each page the table ``novex_downloads`` records the cursor and every count; a re-run of
  the same query continues from there (``bezig`` → ``klaar``);
- paging ends only by the protocol's own end signal (an empty or last page, no ``next`` link),
  never because a page was shorter than asked: servers cap pages below the requested size; the
  page count of one run is capped (``max_pages``), so an endless service cannot keep it going;
- completeness is proven, not assumed: a layer is ``klaar`` only when the features received
  equal what the service said it holds (``numberMatched``, a count request), or — where the
  service says nothing — when paging ended by the protocol's end signal. Otherwise the layer is
  written for inspection, marked ``onvolledig`` with both numbers, and the fetch fails;
- when every page is in, the layer is written in one pass with the union of the pages' columns
  (a column that is whole numbers on one page and text on another becomes text: a GeoPackage
  append maps columns by position, so pages are never appended as they come).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from novex_geo.errors import DownloadError, IncompleteDownloadError
from novex_geo.fetch.features import clip_to_area, compare_reprojection, to_rd
from novex_geo.fetch.http import HttpClient
from novex_geo.fetch.staged import edition, shared_ids, write_layer
from novex_geo.io.downloads import (
    BUSY,
    COUNTS,
    DONE,
    INCOMPLETE,
    download_record,
    save_download_record,
)

__all__ = [
    "BUSY",
    "DONE",
    "INCOMPLETE",
    "FetchResult",
    "Page",
    "Restart",
    "Session",
    "smaller_page",
    "store_pages",
]

log = logging.getLogger(__name__)
Progress = Callable[[int, int | None, str], None]


@dataclass
class Page:
    """One answer of a service.

    Attributes
    ----------
    frame : the features, in the CRS the service declared (``frame.crs``)
    cursor : where the download continues after this page; ``None`` after the last one
    matched : how many features the whole download will give, when the service says so
    url : the request that gave this page (for messages)
    n_unreadable : features the protocol could not read (no or a broken geometry)
    """

    frame: gpd.GeoDataFrame
    cursor: dict | None
    matched: int | None = None
    url: str = ""
    n_unreadable: int = 0


def smaller_page(said: str, size: int) -> int | None:
    """The page size to ask instead after a service refused ``size`` features per page with
    the message ``said`` (pygeoapi: "Limit of 500 exceeded"): the largest number below ``size``
    the message names, else half; ``None`` when the refusal is not about the page size."""
    if not said or not re.search(r"limit|count|maxfeatures|max_items|recordcount", said, re.IGNORECASE):
        return None
    below = [int(n) for n in re.findall(r"\d+", said.replace(",", "")) if 0 < int(n) < size]
    smaller = max(below) if below else size // 2
    return smaller if 0 < smaller < size else None


class Restart(Exception):
    """Raised by a page source that must start over with another plan (e.g. WFS by bbox tiles
    when the service refuses a large ``startIndex``)."""

    def __init__(self, cursor: dict, reason: str):
        super().__init__(reason)
        self.cursor = cursor


@dataclass
class Session:
    """What a page source may use: the HTTP client, a way to record state of its own in the
    ``novex_downloads`` row (e.g. a file download's progress), the progress callback, a
    folder for files of its own that lives as long as the download is unfinished, and notes
    for the user's closing report."""

    client: HttpClient
    remember: Callable[..., None] = lambda **fields: None
    progress: Progress | None = None
    record: dict = field(default_factory=dict)
    folder: Path = Path(".")
    notes: list[str] = field(default_factory=list)

    def trusts_reprojection(
        self, server_rd: gpd.GeoDataFrame, reference: gpd.GeoDataFrame, native: str
    ) -> bool:
        """Whether the server's own RD coordinates can be stored: compared with ``reference``
        (the same request in the service's CRS ``native``) reprojected here with PROJ. The
        verdict is noted and kept in the record (``crs_check``); beyond the tolerance the
        caller reprojects every page locally instead."""
        verdict = compare_reprojection(server_rd, reference)
        text = verdict.describe(native)
        if not verdict.trusted:
            text += "; every page is asked in that CRS and reprojected here instead"
            log.warning("%s: %s", self.record.get("layer"), text)
        self.notes.append(text)
        self.remember(crs_check=text)
        return verdict.trusted


PageSource = Callable[[Session, dict | None], Iterator[Page]]


@dataclass
class FetchResult:
    """What :func:`store_pages` stored; ``record`` is the final ``novex_downloads`` row."""

    layer: str
    n_features: int
    n_received: int
    n_matched: int | None
    n_clipped: int
    n_dropped_outside: int
    n_dropped_invalid: int
    n_reprojected: int
    n_shared_ids: int
    resumed: bool
    record: dict
    notes: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def staging_folder(out: Path, layer: str) -> Path:
    """Where the pages of ``layer`` wait until the download is complete."""
    return out.with_name(out.name + ".parts") / layer


def _number(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _start(out: Path, layer: str, base: dict) -> tuple[dict, dict | None, bool]:
    """The record to continue (same query, unfinished, pages staged) or a fresh one."""
    previous = download_record(out, layer)
    staging = staging_folder(out, layer)
    same = previous and all(previous.get(key) == base[key] for key in ("query", "url", "service"))
    if same and previous.get("status") == BUSY and staging.is_dir():
        # what the earlier run recorded (start time, a download's file and edition) stays
        kept = {key: value for key, value in previous.items() if isinstance(value, str) and value}
        record = {**previous, **base, **kept}
        for name in COUNTS:
            record[name] = _number(record.get(name)) or 0
        record["n_matched"] = _number(record.get("n_matched"))
        for page in staging.glob("page_*.parquet"):  # staged after the last record: stored again
            if int(page.stem.split("_")[1]) > record["n_pages"]:
                page.unlink()
        cursor = json.loads(record["cursor"]) if record.get("cursor") else None
        log.info("%s: resuming after %d pages (%d features)", layer, record["n_pages"], record["n_features"])
        return record, cursor, True
    shutil.rmtree(staging, ignore_errors=True)
    return _fresh(base), None, False


def _fresh(base: dict) -> dict:
    return {
        **base,
        "started": _now(),
        "status": BUSY,
        "cursor": "",
        "n_matched": None,
        **dict.fromkeys(COUNTS, 0),
    }


def _stage(record: dict, staging: Path, page: Page, clip) -> None:
    """Check, reproject, clip and stage one page; count everything in ``record``."""
    frame, n_reprojected, n_implausible = to_rd(page.frame, page.url or record["url"])
    record["n_received"] += len(page.frame) + page.n_unreadable
    record["n_dropped_invalid"] += n_implausible + page.n_unreadable
    record["n_reprojected"] += n_reprojected
    if clip is not None and len(frame):
        frame, counts = clip_to_area(frame, clip)
        record["n_clipped"] += counts["clipped"]
        record["n_dropped_outside"] += counts["outside"]
        record["n_repaired"] += counts["repaired"]
    record["n_pages"] += 1
    if len(frame):
        staging.mkdir(parents=True, exist_ok=True)
        target = staging / f"page_{record['n_pages']:07d}.parquet"
        frame.to_parquet(target.with_suffix(".tmp"), index=False)
        target.with_suffix(".tmp").replace(target)
        record["n_features"] += len(frame)


def _consume(session: Session, pages: PageSource, cursor, staging: Path, clip, max_pages: int, notes) -> None:
    record = session.record
    for this_run, page in enumerate(pages(session, cursor), start=1):
        _stage(record, staging, page, clip)
        matched = page.matched if page.matched is not None else record["n_matched"]
        record.update(
            cursor=json.dumps(page.cursor) if page.cursor else "", n_matched=matched, updated=_now()
        )
        session.remember()
        if session.progress:
            session.progress(record["n_received"], matched, "features")
        if page.cursor is None:
            return
        if this_run >= max_pages:
            raise DownloadError(
                f"{record['layer']}: stopped after {max_pages:,} pages (--max-pages) with "
                f"{record['n_received']:,} features received and more offered; run the same command "
                "again to continue from here, or raise --max-pages"
            )


def _finish(
    out: Path,
    layer: str,
    record: dict,
    staging: Path,
    edition_field: str | None,
    notes: list[str],
    remember: Callable[..., None],
) -> int:
    """Write the staged pages as the layer, record the outcome and clear the staging folder;
    how many features share their id. An incomplete download is an error after it is stored."""
    write_layer(out, layer, record, staging)
    shared = shared_ids(out, layer)
    if shared:
        notes.append(f"{shared:,} features share their id with another; all are stored")
    if edition_field:
        record["edition"] = edition(out, layer, record.get("edition") or "", edition_field)
    matched, received = record["n_matched"], record["n_received"]
    complete = matched is None or received == matched
    remember(
        status=DONE if complete else INCOMPLETE,
        cursor="",
        finished=_now(),
        n_shared_ids=shared,
        notes="; ".join(notes),
    )
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):  # the .parts folder goes when no other download waits in it
        staging.parent.rmdir()
    if not complete:
        raise IncompleteDownloadError(
            f"{layer}: the service says it holds {matched:,} features for this query but "
            f"{received:,} arrived before paging ended ({record['url']}); the layer in {out} is "
            f"marked '{INCOMPLETE}' and a run refuses it. Run the same fetch again; if the numbers "
            "stay apart, the service's paging or count is wrong: tell its maintainer"
        )
    return shared


def store_pages(
    out: Path,
    layer: str,
    base: dict,
    pages: PageSource,
    client: HttpClient,
    clip: shapely.Geometry | None = None,
    max_pages: int = 10_000,
    progress: Progress | None = None,
    edition_field: str | None = None,
) -> FetchResult:
    """Download every page of ``pages`` into layer ``layer`` of the GeoPackage ``out``.

    Parameters
    ----------
    base : the ``novex_downloads`` fields that describe the download (``key``, ``title``,
        ``service``, ``url``, ``query``, ``licence``, ``attribution``, ``obligations``,
        ``edition``); an unfinished download with the same ``query`` is resumed
    clip : keep only the parts of features inside this polygon (RD); cut and dropped features
        are counted
    max_pages : pages one run may fetch before it stops (resumable) with a message
    edition_field : an attribute whose values (e.g. a year) are added to the edition
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record, cursor, resumed = _start(out, layer, base)
    staging = staging_folder(out, layer)
    if clip is not None:
        shapely.prepare(clip)

    def remember(**fields) -> None:
        record.update(fields)
        save_download_record(out, record)

    notes: list[str] = []
    session = Session(client, remember, progress, record, staging, notes)
    remember()
    every_page_staged = resumed and cursor is None and record["n_pages"] > 0  # stopped while writing
    try:
        if not every_page_staged:
            _consume(session, pages, cursor, staging, clip, max_pages, notes)
    except Restart as restart:
        log.warning("%s: %s; starting over", layer, restart)
        notes.append(str(restart))
        shutil.rmtree(staging, ignore_errors=True)
        record.update({key: value for key, value in _fresh(base).items() if key != "started"})
        _consume(session, pages, restart.cursor, staging, clip, max_pages, notes)
    shared = _finish(out, layer, record, staging, edition_field, notes, remember)
    names = ("n_features", "n_received", "n_matched", "n_clipped", "n_dropped_outside", "n_dropped_invalid")
    counts = [record[name] for name in (*names, "n_reprojected")]
    return FetchResult(layer, *counts, shared, resumed, dict(record), notes)
