"""Download an OGC API Features collection into a GeoPackage: streamed, resumable, documented.

Pages are appended to the layer one by one (memory stays flat). The download's state lives in
the GeoPackage table ``novex_downloads`` (source URL, query, times, licence, attribution, the
``next`` link and counts), so an interrupted download continues where it stopped; features
already stored are recognised by their OGC feature id (column ``ogc_id``) and never duplicated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.catalog import CatalogEntry
from novex_geo.fetch.ogcapi import DEFAULT_RETRY, RetryPolicy, crs_uri, iter_pages
from novex_geo.io.downloads import DOWNLOADS_TABLE, download_record, download_records

__all__ = ["FetchResult", "fetch_collection"]

log = logging.getLogger(__name__)

DONE, BUSY = "klaar", "bezig"


@dataclass
class FetchResult:
    """What :func:`fetch_collection` stored."""

    layer: str
    n_features: int
    n_new: int
    n_matched: int | None
    n_clipped: int
    n_dropped_outside: int
    resumed: bool


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _save_record(path: Path, record: dict) -> None:
    records = download_records(path)
    if not records.empty:
        records = records[records["layer"] != record["layer"]]
    table = pd.concat([records, pd.DataFrame([record])], ignore_index=True)
    pyogrio.write_dataframe(table, path, layer=DOWNLOADS_TABLE, driver="GPKG")


def _stored_ids(path: Path, layer: str) -> set[str]:
    if not path.exists() or layer not in pyogrio.list_layers(path)[:, 0]:
        return set()
    return set(pyogrio.read_dataframe(path, layer=layer, columns=["ogc_id"], read_geometry=False)["ogc_id"])


def _page_frame(features: list[dict], crs: str) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame.from_features(features, crs=crs)
    frame.insert(0, "ogc_id", [str(feature.get("id", "")) for feature in features])
    return frame


def fetch_collection(
    entry: CatalogEntry,
    out: str | Path,
    layer: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    clip: shapely.Geometry | None = None,
    crs: str = DEFAULT_CRS,
    page_size: int = 1000,
    policy: RetryPolicy = DEFAULT_RETRY,
    progress: Callable[[int, int | None], None] | None = None,
) -> FetchResult:
    """Download ``entry`` into layer ``layer`` (default: the entry key) of GeoPackage ``out``.

    Parameters
    ----------
    bbox : (xmin, ymin, xmax, ymax) in ``crs``; sent as ``bbox`` with ``bbox-crs``
    clip : keep only the parts of features inside this polygon (e.g. a provincie); clipped and
        dropped features are counted
    progress : called after each page with (features stored, numberMatched or None)

    Re-running after an interruption continues from the stored ``next`` link; a finished
    download is fetched again from the start (replacing the layer).
    """
    out = Path(out)
    layer = layer or entry.key
    query = {"f": "json", "crs": crs_uri(crs), "limit": page_size, **entry.params}
    if bbox is not None:
        query["bbox"] = ",".join(f"{value:.3f}" for value in bbox)
        query["bbox-crs"] = crs_uri(crs)
    record = download_record(out, layer)
    resumed = bool(
        record and record["status"] == BUSY and record.get("query") == json.dumps(query, sort_keys=True)
    )
    if resumed:
        seen = _stored_ids(out, layer)
        log.info("%s: resuming after %d stored features", layer, len(seen))
        start_url, start_params = record["next_url"], None
        counts = {"clipped": int(record["n_clipped"]), "dropped": int(record["n_dropped_outside"])}
    else:
        seen = set()
        start_url, start_params = entry.items_url, query
        counts = {"clipped": 0, "dropped": 0}
        record = {
            "layer": layer,
            "key": entry.key,
            "title": entry.title,
            "url": entry.items_url,
            "query": json.dumps(query, sort_keys=True),
            "started": _now(),
            "licence": entry.licence,
            "attribution": entry.attribution,
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    if clip is not None:
        shapely.prepare(clip)
    # a fresh download overwrites the layer with its first page; a resumed one appends
    n_new, matched, wrote_any = 0, record.get("n_matched"), resumed
    for page in iter_pages(start_url, start_params, policy):
        matched = page.get("numberMatched", matched)
        features = [f for f in page.get("features", []) if str(f.get("id", "")) not in seen]
        if features:
            frame = _page_frame(features, crs)
            if clip is not None:
                frame, clipped, dropped = _clip(frame, clip)
                counts["clipped"] += clipped
                counts["dropped"] += dropped
            if len(frame):
                pyogrio.write_dataframe(
                    frame, out, layer=layer, driver="GPKG", append=wrote_any, promote_to_multi=True
                )
                wrote_any = True
            seen.update(str(f.get("id", "")) for f in features)
            n_new += len(features)
        next_url = next((link["href"] for link in page.get("links", []) if link.get("rel") == "next"), None)
        record.update(
            status=BUSY if next_url and page.get("features") else DONE,
            next_url=next_url or "",
            n_features=len(seen),
            n_matched=matched,
            n_clipped=counts["clipped"],
            n_dropped_outside=counts["dropped"],
            updated=_now(),
        )
        _save_record(out, record)
        if progress:
            progress(len(seen), matched)
    if not seen:
        raise DownloadError(f"{entry.items_url}: no features for this query ({json.dumps(query)})")
    record.update(status=DONE, finished=_now())
    _save_record(out, record)
    return FetchResult(layer, len(seen), n_new, matched, counts["clipped"], counts["dropped"], resumed)


def _clip(frame: gpd.GeoDataFrame, area) -> tuple[gpd.GeoDataFrame, int, int]:
    geoms = frame.geometry.values
    inside = shapely.contains(area, geoms)
    touching = ~inside & shapely.intersects(area, geoms)
    clipped = geoms.copy()
    clipped[touching] = shapely.intersection(np.asarray(geoms[touching]), area)
    keep = inside | touching
    frame = frame.set_geometry(clipped)[keep]
    return frame, int(touching.sum()), int((~keep).sum())
