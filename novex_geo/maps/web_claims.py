"""Every claim object on a kaartsessie map, within a file-size budget.

The claims in view take at most :data:`CLAIM_BUDGET` bytes of the page: vector GeoJSON plus
PNG overlays (as ``data:`` URIs). Sectors share it: each gets what it needs at the scope's
tolerance when that fits an equal share, the rest is divided among the larger ones. A sector
over its share is simplified coarser (per sector, topology-preserving: :data:`COARSER` times
the tolerance); what still does not fit is drawn as a PNG overlay rendered from the claims in
Web Mercator at screen resolution, every touched pixel painted, so an object smaller than a
pixel still shows. The objects that stack with another sector come first as vectors (they
keep their tooltips), then the largest. Nothing is left out.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.colors import to_rgb
from PIL import Image
from rasterio.features import rasterize
from rasterio.transform import from_origin

from novex_geo.maps.web_features import (
    WEB_CRS,
    Raster,
    collection_size,
    feature_json,
    web_geometries,
)
from novex_geo.triage.areas import label_text

__all__ = ["CLAIM_BUDGET", "COARSER", "RASTER_PIXELS", "ClaimLayer", "plan_claims", "render_raster"]

CLAIM_BUDGET = 6_000_000  # bytes of claim data (vectors and raster images) per map
COARSER = (1, 2, 4)  # tolerance factors tried before a sector goes (partly) raster
RASTER_PIXELS = 4096  # the long side of a raster overlay (sharp 2 zoom levels in) ...
RASTER_MIN_PIXELS = 512  # ... halved down to this while the image alone exceeds its share
RASTER_FINEST = 2.0  # m per pixel at most this fine (a small extent)
MERCATOR = "EPSG:3857"
FILL_ALPHA, EDGE_ALPHA = 0.3, 0.6  # as the vector claims: fillOpacity 0.3 and a clear edge


@dataclass
class ClaimLayer:
    """One sector's claims in view as the page holds them: ``features`` (compact GeoJSON, the
    first ``len(features)`` objects of ``order``) and a ``raster`` with the others."""

    features: list[str]
    raster: Raster | None
    tolerance: float
    total: int

    @property
    def size(self) -> int:
        vectors = int(collection_size([len(f) for f in self.features])[-1]) if self.features else 0
        return vectors + (len(self.raster.uri) if self.raster else 0)


def _waterfill(budget: int, needs: dict[str, int]) -> dict[str, int]:
    """Shares of ``budget``: the smallest needs are met in full, the rest share what is left."""
    shares, left = {}, budget
    for index, (key, need) in enumerate(sorted(needs.items(), key=lambda item: item[1])):
        shares[key] = min(need, left // (len(needs) - index))
        left -= shares[key]
    return shares


def _priority(frame: gpd.GeoDataFrame, stacked_tree: shapely.STRtree) -> gpd.GeoDataFrame:
    """The objects that stack with another sector first, then by area, largest first."""
    geometries = np.asarray(frame.geometry.values)
    stacks = np.zeros(len(frame), dtype=bool)
    stacks[np.unique(stacked_tree.query(geometries, predicate="intersects")[0])] = True
    return frame.iloc[np.lexsort((-shapely.area(geometries), ~stacks))]


def _vectors(frame: gpd.GeoDataFrame, tolerance: float) -> list[str]:
    tips = [{"tip": html.escape(label_text(value))} for value in frame["label"]]
    return feature_json(web_geometries(frame.geometry.values, tolerance, frame.crs), tips)


def render_raster(frame: gpd.GeoDataFrame, colour: str, pixels: int = RASTER_PIXELS) -> Raster:
    """A PNG of ``frame``'s objects in Web Mercator, at most ``pixels`` on its long side: the
    fill and an edge in ``colour``; every pixel an object touches is painted."""
    geometries = np.asarray(frame.to_crs(MERCATOR).geometry.values)
    west, south, east, north = shapely.total_bounds(geometries)
    size = max((max(east - west, north - south) or 1.0) / pixels, RASTER_FINEST)
    west, north = west - size, north + size  # one pixel of margin for the edge
    width, height = int(np.ceil((east - west) / size)) + 1, int(np.ceil((north - south) / size)) + 1
    transform = from_origin(west, north, size, size)
    simple = shapely.simplify(geometries, size / 2, preserve_topology=True)
    image = rasterize(
        ((g, 1) for g in simple), (height, width), transform=transform, all_touched=True, dtype="uint8"
    )
    rasterize(((g, 2) for g in shapely.boundary(simple)), out=image, transform=transform, all_touched=True)
    rgb = [round(255 * c) for c in to_rgb(colour)]
    png = Image.frombytes("P", (width, height), image.tobytes())
    png.putpalette([0, 0, 0] + rgb + rgb)
    buffer = io.BytesIO()
    alphas = bytes([0, round(255 * FILL_ALPHA), round(255 * EDGE_ALPHA)])
    png.save(buffer, format="PNG", compress_level=6, transparency=alphas)
    corners = gpd.GeoSeries(
        shapely.points([west, west + width * size], [north - height * size, north]), crs=MERCATOR
    ).to_crs(WEB_CRS)
    bounds = [[corners.y[0], corners.x[0]], [corners.y[1], corners.x[1]]]
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Raster(uri, bounds, len(frame))


def _split(frame, features: list[str], share: int, colour: str) -> tuple[list[str], Raster]:
    """As many vectors (in ``frame``'s order) as fit beside a raster of the remaining objects:
    room is kept for an image of all objects (the remaining ones' image is rarely larger)."""
    sizes = collection_size([len(f) for f in features])
    pixels = RASTER_PIXELS
    reserve = len(render_raster(frame, colour, pixels).uri)
    while True:
        count = int(np.searchsorted(sizes, share - reserve, side="right"))
        raster = render_raster(frame.iloc[count:], colour, pixels)
        if (sizes[count - 1] if count else 0) + len(raster.uri) <= share:
            return features[:count], raster
        if count == 0:  # the image alone is too large: coarser pixels, as coarse as allowed
            if pixels <= RASTER_MIN_PIXELS:
                return [], raster
            pixels //= 2
        reserve = max(int(reserve * 1.05) + 1_000, len(raster.uri))


def _fit(
    frame: gpd.GeoDataFrame, features: list[str], tolerance: float, share: int, colour: str
) -> ClaimLayer:
    """The finest of the :data:`COARSER` tolerances that fits ``share``, else vectors beside a
    raster (the coarsest tried first: when that does not fit, the finer ones need not be)."""

    def fits(candidate: list[str]) -> bool:
        return int(collection_size([len(f) for f in candidate])[-1]) <= share

    if fits(features):
        return ClaimLayer(features, None, tolerance, len(frame))
    coarsest = _vectors(frame, tolerance * COARSER[-1])
    if not fits(coarsest):
        vectors, raster = _split(frame, coarsest, share, colour)
        return ClaimLayer(vectors, raster, tolerance * COARSER[-1], len(frame))
    for factor in COARSER[1:-1]:
        finer = _vectors(frame, tolerance * factor)
        if fits(finer):
            return ClaimLayer(finer, None, tolerance * factor, len(frame))
    return ClaimLayer(coarsest, None, tolerance * COARSER[-1], len(frame))


def plan_claims(
    frames: dict[str, gpd.GeoDataFrame],
    colours: dict[str, str],
    tolerance: float,
    stacked_tree: shapely.STRtree,
    budget: int = CLAIM_BUDGET,
) -> dict[str, ClaimLayer]:
    """Every sector's claims in view (RD frames with a ``label``) as vectors and, where they
    do not fit ``budget``, a raster; sectors without claims in view are left out."""
    ordered = {key: _priority(frame, stacked_tree) for key, frame in frames.items() if len(frame)}
    base = {key: _vectors(frame, tolerance) for key, frame in ordered.items()}
    needs = {key: int(collection_size([len(f) for f in features])[-1]) for key, features in base.items()}
    shares = _waterfill(budget, needs)
    return {
        key: _fit(frame, base[key], tolerance, shares[key], colours[key]) for key, frame in ordered.items()
    }
