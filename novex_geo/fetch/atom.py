"""Atom feeds and direct downloads: a GeoPackage, GML or zip file, streamed to disk and read.

PDOK publishes some datasets only as files behind an (INSPIRE) Atom feed: the NOVEX-gebieden as a
GeoPackage, the Natuurnetwerk Nederland as one GML of about 185 MB. The feed is read (and one
level of dataset feeds below it), the file link chosen by the entry's ``file`` pattern (the newest
by ``updated`` when several match), and the file streamed to disk with HTTP ``Range`` resume — an
interrupted download continues where it stopped, in this run or the next. Its SHA-256 and size
are recorded; a zip is unpacked (only the vector file and its sidecar files, under their own
names); the layer is read in batches in the file's CRS with the RD bbox, and stored like the
pages of a service.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import Transformer

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.catalog import CatalogEntry
from novex_geo.fetch.features import properties_frame
from novex_geo.fetch.http import HttpClient, xml_root
from novex_geo.fetch.store import Page, Session

__all__ = ["atom_source", "sha256"]

log = logging.getLogger(__name__)

ATOM = "{http://www.w3.org/2005/Atom}"
VECTOR_SUFFIXES = (".gpkg", ".gml", ".geojson", ".json", ".shp", ".fgb")
SIDECARS = (".dbf", ".shx", ".prj", ".cpg", ".xsd", ".gfs")
DEFAULT_FILE = r"\.(gpkg|gml|zip|geojson|json|fgb)$"
BATCH = 10_000
# what a zip may unpack to: vector data compresses about 5-20 times; a bomb compresses thousands of
# times. Declared sizes are checked first, and zipfile never writes more than a member declares
MAX_RATIO = 100
MAX_UNPACKED = 20 * 2**30
MAX_FEEDS = 20
FEED_RELS = {"alternate", "section"}  # links to the dataset feeds of a service feed (INSPIRE)
FILE_RELS = {"alternate", "section", "enclosure"}


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def _file_name(url: str) -> str:
    """The last part of the path of ``url``, decoded."""
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])


def _safe(name: str) -> str:
    """A file name that stays in its folder and means the same on every system."""
    return re.sub(r"[^\w.-]", "_", Path(name).name) or "download"


def _links(root, base: str) -> list[dict]:
    """Every link of a feed with the ``updated`` date of the entry that holds it."""
    found = []
    for holder in [root, *root.iter(f"{ATOM}entry")]:
        updated = holder.findtext(f"{ATOM}updated") or ""
        for link in holder.findall(f"{ATOM}link"):
            href = link.get("href")
            if href:
                found.append(
                    {
                        "href": urllib.parse.urljoin(base, href),
                        "type": link.get("type", ""),
                        "rel": link.get("rel", "alternate"),
                        "length": link.get("length"),
                        "updated": updated,
                    }
                )
    return found


def _matches(rule: re.Pattern, name: str) -> bool:
    """A file name matches the entry's pattern also when it comes zipped (``nnn.gml.zip``)."""
    return bool(rule.search(name) or (name.lower().endswith(".zip") and rule.search(name[:-4])))


def _choose(client: HttpClient, feed: str, pattern: str) -> dict:
    """The file link matching ``pattern`` in ``feed`` or in the dataset feeds it links to.

    Only links that lead to data are followed: ``alternate``/``section`` links to feeds and
    ``alternate``/``section``/``enclosure`` links to files. Metadata (``describedby``), licences,
    ``related`` pages and the feed's own ``self`` link are no part of the download, wherever they
    point.
    """
    rule = re.compile(pattern or DEFAULT_FILE, re.IGNORECASE)
    queue, seen, candidates = [feed], set(), []
    while queue and not candidates and len(seen) < MAX_FEEDS:
        url = queue.pop(0)
        seen.add(url)
        response = client.get(url, accept="application/atom+xml, application/xml", max_bytes=32 * 2**20)
        links = _links(xml_root(response), response.url)
        for link in links:
            name = _file_name(link["href"])
            if "atom" in link["type"] or (name.endswith(".xml") and not link["type"]):
                if link["rel"] in FEED_RELS and link["href"] not in seen and url == feed:
                    queue.append(link["href"])
            elif link["rel"] in FILE_RELS and _matches(rule, name):
                candidates.append({**link, "name": name})
    if not candidates:
        raise DownloadError(f"{feed}: no download in the feed matches {rule.pattern!r}")
    chosen = max(candidates, key=lambda link: (link["updated"], link["name"]))
    if len(candidates) > 1:
        log.info("%s: %d files match; took the newest: %s", feed, len(candidates), chosen["name"])
    client.hosts.check(chosen["href"], "download link")
    return chosen


def _download(session: Session, url: str, folder: Path, max_requests: int) -> Path:
    """``url`` streamed into ``folder`` (resumed from an earlier partial file); its path."""
    target = folder / _safe(_file_name(url))
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.touch()
    with open(part, "r+b") as handle:

        def write(chunk: bytes, position: int) -> None:
            try:
                handle.seek(position)
                handle.write(chunk)
                handle.truncate()
            except OSError as exc:  # a full disk is not a network failure worth a retry
                raise DownloadError(f"{part}: cannot write the download ({exc.strerror or exc})") from None

        def offset() -> int:
            handle.flush()
            return handle.seek(0, 2)

        def started(headers, position: int, total: int | None) -> None:
            validator = headers.get("ETag") or headers.get("Last-Modified") or ""
            session.remember(file_validator=validator, file_total=total)

        def progressed(position: int) -> None:
            if session.progress:
                session.progress(position, session.record.get("file_total"), "bytes")

        def validator() -> str | None:
            return session.record.get("file_validator") or None

        session.client.download(url, write, offset, validator, max_requests, started, progressed)
    part.replace(target)
    return target


def _unpack(path: Path, pattern: str) -> Path:
    """The vector file in ``path``: the file itself, or the one matching member of a zip.

    A zip that would unpack to more than ``MAX_RATIO`` times its own size, or to more than
    ``MAX_UNPACKED``, is refused; the archive and whatever was unpacked are removed, so that a
    bomb leaves nothing behind and the next run downloads afresh.
    """
    if not zipfile.is_zipfile(path):
        return path
    folder = path.with_name(path.name + ".unpacked")
    try:
        with zipfile.ZipFile(path) as archive:
            wanted, vector = _members(archive, path.name, pattern)
            declared = sum(m.file_size for m in wanted)
            limit = min(MAX_RATIO * path.stat().st_size, MAX_UNPACKED)
            if declared > limit:
                raise DownloadError(
                    f"{path.name}: {path.stat().st_size / 2**20:,.1f} MiB that unpack to "
                    f"{declared / 2**20:,.0f} MiB (more than {MAX_RATIO}× the archive or "
                    f"{MAX_UNPACKED / 2**30:.0f} GiB); refused as a zip bomb"
                )
            folder.mkdir(exist_ok=True)
            for member in wanted:  # under its own base name: a path in the zip never leaves the folder
                target = folder / _safe(member.filename)
                with archive.open(member) as source, open(target, "wb") as sink:
                    while block := source.read(2**20):
                        sink.write(block)
    except (DownloadError, OSError, zipfile.BadZipFile) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        path.unlink(missing_ok=True)
        if isinstance(exc, DownloadError):
            raise
        raise DownloadError(f"{path.name}: cannot unpack the download ({exc}); removed it") from None
    return folder / _safe(vector.filename)


def _members(
    archive: zipfile.ZipFile, name: str, pattern: str
) -> tuple[list[zipfile.ZipInfo], zipfile.ZipInfo]:
    """The members to unpack (the vector file and its sidecars) and the vector file itself."""
    members = [m for m in archive.infolist() if m.filename.lower().endswith(VECTOR_SUFFIXES)]
    if pattern and len(members) > 1:
        members = [m for m in members if re.search(pattern, m.filename, re.IGNORECASE)]
    if len(members) != 1:
        names = ", ".join(m.filename for m in members[:10]) or "none"
        raise DownloadError(f"{name}: expected one vector file in the zip, found {names}")
    stem = members[0].filename.rsplit(".", 1)[0]
    wanted = [m for m in archive.infolist() if m.filename.rsplit(".", 1)[0] == stem and not m.is_dir()]
    return wanted, members[0]


def _layer(path: Path, wanted: str) -> tuple[str, str]:
    """The layer to read and its CRS."""
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (DataSourceError, DataLayerError) as exc:
        raise DownloadError(
            f"{path.name}: the downloaded file is not a readable vector file ({exc})"
        ) from None
    if wanted and wanted not in layers:
        raise DownloadError(f"{path.name}: no layer '{wanted}'; layers: {', '.join(layers)}")
    if not wanted and len(layers) != 1:
        raise DownloadError(f"{path.name}: layers {', '.join(layers)}; choose one with --collection LAYER")
    layer = wanted or layers[0]
    crs = pyogrio.read_info(path, layer=layer).get("crs")
    if not crs:
        raise DownloadError(f"{path.name}, layer '{layer}': the file does not say in which CRS it is")
    return layer, crs


def _batch_page(batch, meta: dict, crs: str, following: dict | None, total, url: str) -> Page:
    table = batch.to_pandas()
    # a geometry GDAL cannot hand over becomes missing, and is then counted and dropped
    geoms = gpd.GeoSeries.from_wkb(table.pop(meta["geometry_name"] or "wkb_geometry"), on_invalid="ignore")
    fid = meta["fid_column"] or "OGC_FID"
    ids = table.pop(fid).astype(str) if fid in table.columns else [""] * len(table)
    return Page(properties_frame(table, ids, geoms.values, crs), following, total, url)


def atom_source(entry: CatalogEntry, url: str, bbox, max_requests: int):
    """The query (for resuming) and the page source of an Atom feed or direct download.

    The cursor is ``{"file_url", "path", "layer", "batch"}`` once the file is in; before that,
    the partial file in the staging folder and the ``file_*`` fields of the record carry the
    state.
    """
    query = {"url": url, "file": entry.file, "layer": entry.layer, "bbox": list(bbox) if bbox else None}

    def prepare(session: Session) -> dict:
        link = _choose(session.client, url, entry.file) if entry.service == "atom" else {"href": url}
        path = _download(session, link["href"], session.folder / "download", max_requests)
        size = path.stat().st_size
        if link.get("length") and str(size) != link["length"]:
            path.unlink()  # a wrong file; the next run downloads it again
            raise DownloadError(f"{link['href']}: {size:,} bytes received, the feed says {link['length']}")
        digest = sha256(path)
        label = ", ".join(part for part in (link.get("name"), link.get("updated")) if part)
        session.remember(
            file_url=link["href"],
            file_sha256=digest,
            file_bytes=size,
            edition="; ".join(part for part in (entry.edition, label) if part),
        )
        vector = _unpack(path, entry.file)
        layer, _ = _layer(vector, entry.layer)
        return {"file_url": link["href"], "path": str(vector), "layer": layer, "batch": 0}

    def pages(session: Session, cursor: dict | None) -> Iterator[Page]:
        cursor = cursor or prepare(session)
        path, layer = Path(cursor["path"]), cursor["layer"]
        crs = _layer(path, layer)[1]
        area = (
            Transformer.from_crs(DEFAULT_CRS, crs, always_xy=True).transform_bounds(*bbox) if bbox else None
        )
        count = None if area else pyogrio.read_info(path, layer=layer).get("features")
        total = count if count and count > 0 else None
        pending = None  # a batch is yielded once the next one is known: only the last has no cursor
        try:
            with pyogrio.open_arrow(
                path, layer=layer, bbox=area, batch_size=BATCH, return_fids=True, use_pyarrow=True
            ) as (meta, reader):
                for number, batch in enumerate(reader):
                    if number < cursor["batch"]:  # stored in an earlier run
                        continue
                    if pending is not None:
                        yield _batch_page(
                            pending, meta, crs, {**cursor, "batch": number}, total, cursor["file_url"]
                        )
                    pending = batch
        except (DataSourceError, DataLayerError, pa.ArrowException) as exc:
            raise DownloadError(
                f"{path.name}, layer '{layer}': cannot read the downloaded file ({exc})"
            ) from None
        if pending is None:
            yield Page(properties_frame(pd.DataFrame(), [], [], crs), None, total, cursor["file_url"])
        else:
            yield _batch_page(pending, meta, crs, None, total, cursor["file_url"])

    return query, pages
