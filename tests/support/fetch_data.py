"""Test data and one call for the fetch tests: RD parcels, a provinces cache, fetch against a server."""

from __future__ import annotations

import dataclasses
import signal
import time
from contextlib import contextmanager

import geopandas as gpd
import pyogrio
import shapely

from novex_geo.fetch import FetchOptions, RetryPolicy, fetch_dataset, get_entry

__all__ = ["FAST", "bounded", "fetch", "patch_entry", "provinces_cache", "square_features", "stored"]

FAST = RetryPolicy(retries=2, timeout=5.0, backoff=0.01)


def square_features(n: int, size: float = 50.0, origin=(120_000.0, 440_000.0), columns: int = 200):
    """``n`` RD squares on a grid, like parcels, with PDOK-style string ids."""
    features = []
    for i in range(n):
        x, y = origin[0] + (i % columns) * 100, origin[1] + (i // columns) * 100
        features.append(
            {
                "type": "Feature",
                "id": f"perceel.{i}",
                "properties": {"gewas": "grasland" if i % 2 else "maïs", "nummer": i},
                "geometry": shapely.geometry.mapping(shapely.box(x, y, x + size, y + size)),
            }
        )
    return features


def provinces_cache(path):
    """Two provinces split at x = 125,025 in layer ``cbs_provincies`` of ``path``."""
    frame = gpd.GeoDataFrame(
        {"statnaam": ["Westmark", "Oostmark"], "statcode": ["PV91", "PV92"]},
        geometry=[
            shapely.box(120_000, 440_000, 125_025, 445_000),
            shapely.box(125_025, 440_000, 140_000, 445_000),
        ],
        crs="EPSG:28992",
    )
    frame.to_file(path, layer="cbs_provincies", engine="pyogrio")


def fetch(key, server, out, policy=FAST, progress=None, provincie=None, bbox=None, **options):
    """``fetch_dataset`` of catalogue entry ``key`` against the local ``server``."""
    options = FetchOptions(policy=policy, base_url=server.url + options.pop("path", ""), **options)
    return fetch_dataset(key, out, provincie=provincie, bbox=bbox, options=options, progress=progress)[0]


def patch_entry(monkeypatch, key, **changes):
    """Make catalogue entry ``key`` read as if its TOML had ``changes`` (for this test only)."""
    entry = dataclasses.replace(get_entry(key), **changes)
    original = get_entry
    monkeypatch.setattr(
        "novex_geo.fetch.datasets.get_entry", lambda name: entry if name == key else original(name)
    )
    return entry


def stored(path, layer):
    """The stored layer, attributes only."""
    return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)


class Overrun(AssertionError):
    pass


@contextmanager
def bounded(seconds: float):
    """Fail when the block takes ``seconds`` or more; a hang is interrupted (SIGALRM) instead of
    blocking the test run."""

    def interrupt(signum, frame):
        raise Overrun(f"still running after {seconds} s")

    armed = hasattr(signal, "setitimer")
    if armed:
        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s, bound {seconds} s"
