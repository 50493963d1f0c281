"""Grid mode: stapeling on a common raster grid, for national heat maps at 10–25 m.

Each sector is one bit of a sector bit-mask on a grid aligned to RD (origin at whole
multiples of the resolution). Vector claims are burnt in with the cell-centre rule; raster
claims are resampled onto the grid (nearest for classes, bilinear for continuous values) and
their rule applied. Cells outside every provincie are 0. The grid is processed in windows
on all cores, so memory stays bounded; the results are Cloud-Optimised GeoTIFFs (tiled,
DEFLATE, overviews) and statistics per provincie: area per ``n_sectoren`` and per conflict pair
(a distance pair counts the cells of each side within ``d`` of the other side's claims).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.shutil
import shapely
from rasterio.transform import from_origin
from rasterio.windows import Window

from novex_geo.config import ConflictPair, Project
from novex_geo.executor import Executor
from novex_geo.io.files import atomic_path, ensure_folder
from novex_geo.io.layers import SectorLayer
from novex_geo.io.outputs import write_csv
from novex_geo.io.raster import rule_mask, warp_band
from novex_geo.overlay.summary import CLAIMED_HA, STAPELING_CLASSES, TOTAL, class_column
from novex_geo.units import HECTARE

__all__ = ["GridResult", "GridSpec", "grid_overlay", "grid_spec"]

log = logging.getLogger(__name__)

WINDOW_CELLS = 2048
COG_OPTIONS = {
    "COMPRESS": "DEFLATE",
    "BLOCKSIZE": 512,
    "OVERVIEW_RESAMPLING": "NEAREST",
    "NUM_THREADS": "ALL_CPUS",
}


@dataclass(frozen=True)
class GridSpec:
    """A north-up grid aligned to whole multiples of ``resolution`` in the analysis CRS."""

    resolution: float
    xmin: float
    ymax: float
    width: int
    height: int

    @property
    def transform(self):
        return from_origin(self.xmin, self.ymax, self.resolution, self.resolution)

    def windows(self, size: int = WINDOW_CELLS) -> list[Window]:
        return [
            Window(col, row, min(size, self.width - col), min(size, self.height - row))
            for row in range(0, self.height, size)
            for col in range(0, self.width, size)
        ]


def grid_spec(bounds, resolution: float) -> GridSpec:
    """The aligned grid covering ``bounds`` (snapped outward to multiples of ``resolution``)."""
    xmin = math.floor(bounds[0] / resolution) * resolution
    ymin = math.floor(bounds[1] / resolution) * resolution
    xmax = math.ceil(bounds[2] / resolution) * resolution
    ymax = math.ceil(bounds[3] / resolution) * resolution
    return GridSpec(
        resolution, xmin, ymax, round((xmax - xmin) / resolution), round((ymax - ymin) / resolution)
    )


@dataclass
class GridResult:
    """Files and statistics of :func:`grid_overlay`."""

    spec: GridSpec
    sectors: list[str]
    mask_path: Path
    count_path: Path
    summary: pd.DataFrame
    seconds: float


class _GridState:
    """Read-only inputs shared with forked workers."""

    def __init__(self, spec, regions, layers, conflicts, crs):
        self.spec = spec
        self.crs = crs
        self.sectors = list(layers)
        self.regions = list(regions.geometry.values)
        self.vector, self.rasters, self.near = {}, {}, {}
        for key, layer in layers.items():
            raster_sources = [s for s in layer.sector.sources if s.raster is not None]
            names = {s.name for s in raster_sources}
            vector = layer.frame[~layer.frame["source"].isin(names)].geometry.values
            self.vector[key] = (np.asarray(vector, dtype=object), shapely.STRtree(vector))
            self.rasters[key] = raster_sources
            every = np.asarray(layer.frame.geometry.values, dtype=object)
            self.near[key] = (every, shapely.STRtree(every))
        self.pairs = [(self.sectors.index(p.a), self.sectors.index(p.b), p.distance) for p in conflicts]


def _burn(geoms, shape, transform, window_box, value=1) -> np.ndarray:
    out = np.zeros(shape, dtype="uint8")
    clipped = shapely.clip_by_rect(geoms, *window_box)
    clipped = clipped[~shapely.is_empty(clipped)]
    if len(clipped):
        rasterio.features.rasterize(((g, value) for g in clipped), out=out, transform=transform)
    return out


def _window(state: _GridState, window: Window):
    spec = state.spec
    transform = rasterio.windows.transform(window, spec.transform)
    shape = (int(window.height), int(window.width))
    box = rasterio.windows.bounds(window, spec.transform)
    region_ids = np.zeros(shape, dtype="uint8")
    rasterio.features.rasterize(
        ((geom, i + 1) for i, geom in enumerate(state.regions)), out=region_ids, transform=transform
    )
    inside = region_ids > 0
    bits = []
    for key in state.sectors:
        geoms, tree = state.vector[key]
        claim = _burn(geoms[tree.query(shapely.box(*box))], shape, transform, box).astype(bool)
        for source in state.rasters[key]:
            with rasterio.open(source.path) as dataset:
                values = warp_band(
                    dataset,
                    source.raster.band,
                    state.crs,
                    transform,
                    shape,
                    source.raster.categorical,
                    dataset.crs or source.crs,
                )
            claim |= rule_mask(values, source.raster)
        bits.append(claim & inside)
    mask = np.zeros(shape, dtype="uint16" if len(bits) > 8 else "uint8")
    for i, claim in enumerate(bits):
        mask |= claim.astype(mask.dtype) << i
    count = np.sum(bits, axis=0, dtype="uint8") if bits else np.zeros(shape, dtype="uint8")
    n_regions = len(state.regions) + 1
    per_count = np.bincount((region_ids.astype(np.int64) * 256 + count).ravel(), minlength=n_regions * 256)
    per_pair = np.zeros((len(state.pairs), n_regions), dtype=np.int64)
    for index, (a, b, distance) in enumerate(state.pairs):
        if distance == 0:
            both = bits[a] & bits[b]
        else:
            both = (bits[a] & _near(state, b, distance, shape, transform, box)) | (
                bits[b] & _near(state, a, distance, shape, transform, box)
            )
        per_pair[index] = np.bincount(region_ids[both], minlength=n_regions)
    return window, mask, count, per_count.reshape(n_regions, 256), per_pair


def _near(state: _GridState, sector_index: int, distance: float, shape, transform, box) -> np.ndarray:
    """Cells within ``distance`` of the sector's claims, including claims outside the window."""
    geoms, tree = state.near[state.sectors[sector_index]]
    halo = shapely.box(box[0] - distance, box[1] - distance, box[2] + distance, box[3] + distance)
    nearby = geoms[tree.query(halo)]
    return _burn(shapely.buffer(nearby, distance), shape, transform, box).astype(bool)


def grid_overlay(
    project: Project,
    layers: dict[str, SectorLayer],
    regions: gpd.GeoDataFrame,
    resolution: float,
    out_dir: str | Path,
    workers: int = 0,
    window_cells: int = WINDOW_CELLS,
    executor: Executor | None = None,
) -> GridResult:
    """Rasterise every sector to one bit of a common RD-aligned grid and summarise per provincie.

    Writes ``grid_<res>m_sectoren.tif`` (bit i = i-th sector of the project file) and
    ``grid_<res>m_stapeling.tif`` (``n_sectoren``) as Cloud-Optimised GeoTIFFs to ``out_dir``.
    """
    started = time.perf_counter()
    spec = grid_spec(regions.total_bounds, resolution)
    sectors = list(layers)
    out_dir = Path(out_dir)
    ensure_folder(out_dir)
    stem = f"grid_{resolution:g}m"
    scratch = {kind: out_dir / f".{stem}_{kind}.scratch.tmp.tif" for kind in ("sectoren", "stapeling")}
    state = _GridState(spec, regions, layers, project.conflicts, project.crs)
    per_count, per_pair = _write_windows(
        project, state, scratch, executor or Executor(workers=workers), window_cells, started
    )
    paths = {}
    for kind, description in (("sectoren", "sector bit-mask"), ("stapeling", "n_sectoren")):
        tags = {
            **{f"bit_{i}": key for i, key in enumerate(sectors)},
            "resolution_m": f"{resolution:g}",
            "project": project.name,
        }
        paths[kind] = _to_cog(scratch[kind], out_dir / f"{stem}_{kind}.tif", description, tags)
    summary = _summary(regions, per_count, per_pair, project.conflicts, resolution)
    write_csv(summary, out_dir / f"{stem}_samenvatting.csv")
    seconds = time.perf_counter() - started
    log.info("grid %g m done in %.1f s: %s, %s", resolution, seconds, paths["sectoren"], paths["stapeling"])
    return GridResult(spec, sectors, paths["sectoren"], paths["stapeling"], summary, seconds)


def _write_windows(
    project: Project,
    state: _GridState,
    scratch: dict[str, Path],
    executor: Executor,
    window_cells: int,
    started: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Burn every window into the two scratch GeoTIFFs; the cell counts per provincie by
    ``n_sectoren`` and per conflict pair."""
    spec, regions = state.spec, state.regions
    mask_dtype = "uint16" if len(state.sectors) > 8 else "uint8"
    profile = {
        "driver": "GTiff",
        "width": spec.width,
        "height": spec.height,
        "count": 1,
        "crs": project.crs,
        "transform": spec.transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 2,
        "BIGTIFF": "IF_SAFER",
    }
    windows = spec.windows(window_cells)
    per_count = np.zeros((len(regions) + 1, 256), dtype=np.int64)
    per_pair = np.zeros((len(project.conflicts), len(regions) + 1), dtype=np.int64)
    log.info("grid %g m: %d x %d cells in %d windows", spec.resolution, spec.width, spec.height, len(windows))
    with (
        rasterio.open(scratch["sectoren"], "w", dtype=mask_dtype, **profile) as mask_out,
        rasterio.open(scratch["stapeling"], "w", dtype="uint8", **profile) as count_out,
    ):
        for done, (window, mask, count, counts, pairs) in enumerate(executor.map(_window, windows, state), 1):
            mask_out.write(mask, 1, window=window)
            count_out.write(count, 1, window=window)
            per_count += counts
            per_pair += pairs
            if done % max(1, len(windows) // 10) == 0 or done == len(windows):
                log.info("grid: %d/%d windows (%.1f s)", done, len(windows), time.perf_counter() - started)
    return per_count, per_pair


def _to_cog(scratch: Path, target: Path, description: str, tags: dict[str, str]) -> Path:
    """The scratch GeoTIFF, described and tagged, as a Cloud-Optimised GeoTIFF at ``target``."""
    with rasterio.open(scratch, "r+") as dataset:
        dataset.set_band_description(1, description)
        dataset.update_tags(**tags)
    with atomic_path(target) as temporary:
        rasterio.shutil.copy(scratch, temporary, driver="COG", **COG_OPTIONS)
    scratch.unlink()
    return target


def _summary(
    regions, per_count, per_pair, conflicts: tuple[ConflictPair, ...], resolution: float
) -> pd.DataFrame:
    cell_ha = resolution * resolution / HECTARE
    table = pd.DataFrame({"provincie": list(regions["provincie"])})
    counts = per_count[1:]  # row 0: outside every provincie
    table[CLAIMED_HA] = counts[:, 1:].sum(axis=1) * cell_ha
    for klasse, columns in zip(
        STAPELING_CLASSES,
        (slice(1, 2), slice(2, 3), slice(3, 4), slice(4, 5), slice(5, 256)),
        strict=True,
    ):
        table[class_column(klasse)] = counts[:, columns].sum(axis=1) * cell_ha
    for index, pair in enumerate(conflicts):
        table[f"{pair.key}_ha"] = per_pair[index, 1:] * cell_ha
    total = table.drop(columns="provincie").sum()
    table.loc[len(table)] = {"provincie": TOTAL, **total.to_dict()}
    return table
