"""Raster claims: a band and a rule (``>= 0.3`` or classes ``[3, 4, 5]``) become claim cells.

For the exact vector engine the claimed cells are turned into polygons with
``rasterio.features.shapes`` (optionally simplified by at most one cell); the grid mode
resamples the band onto its own grid. Nodata cells are never claims.
"""

from __future__ import annotations

import operator
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
import shapely
from rasterio.crs import CRS as RasterCRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError

from novex_geo.config import RasterRule, Source
from novex_geo.errors import LayerError

__all__ = ["RASTER_CELLS", "read_raster_source", "rule_mask", "warp_band", "write_geotiff"]

RASTER_CELLS = "Raster cells"  # what a raster source reads, in its report's geometry types

OPERATORS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


def rule_mask(values: np.ndarray, rule: RasterRule) -> np.ndarray:
    """Boolean claim mask of ``values`` (float, NaN = nodata) under ``rule``."""
    with np.errstate(invalid="ignore"):
        hit = np.isin(values, rule.classes) if rule.classes else OPERATORS[rule.op](values, rule.value)
    return hit & ~np.isnan(values)


def _open(source: Source):
    path = Path(source.path)
    if not path.exists():
        raise LayerError("file not found", path)
    try:
        dataset = rasterio.open(path)
    except RasterioIOError as exc:
        raise LayerError(f"cannot open as a raster ({exc})", path) from None
    band = source.raster.band
    if band > dataset.count:
        dataset.close()
        raise LayerError(f"raster has {dataset.count} band(s); band {band} does not exist", path)
    if dataset.crs is None and source.crs is None:
        dataset.close()
        raise LayerError("raster has no CRS; fix the file or set crs = 'EPSG:28992' on this source", path)
    return dataset


def _band_as_float(dataset, band: int, window=None) -> np.ndarray:
    try:
        values = dataset.read(band, window=window, masked=True).astype("float64")
    except RasterioIOError as exc:  # a damaged file: its header reads, its cells do not
        raise LayerError(f"cannot read band {band} ({exc.__cause__ or exc})", dataset.name) from None
    return values.filled(np.nan)


def warp_band(
    dataset, band: int, dst_crs: str, dst_transform, dst_shape, categorical: bool, src_crs=None
) -> np.ndarray:
    """The band resampled onto a target grid (NaN where nodata or outside the raster).

    Class rasters use nearest neighbour; continuous rasters bilinear interpolation.
    """
    destination = np.full(dst_shape, np.nan, dtype="float64")
    rasterio.warp.reproject(
        source=_band_as_float(dataset, band),
        destination=destination,
        src_transform=dataset.transform,
        src_crs=src_crs or dataset.crs,
        src_nodata=np.nan,
        dst_transform=dst_transform,
        dst_crs=RasterCRS.from_user_input(dst_crs),
        dst_nodata=np.nan,
        resampling=Resampling.nearest if categorical else Resampling.bilinear,
    )
    return destination


def read_raster_source(source: Source, sector: str, crs: str, report) -> gpd.GeoDataFrame:
    """Claim polygons of a raster source in ``crs``; fills the raster counts of ``report``."""
    rule = source.raster
    with _open(source) as dataset:
        src_crs = dataset.crs or RasterCRS.from_user_input(source.crs)
        report.source_crs = src_crs.to_string()
        target = RasterCRS.from_user_input(crs)
        report.n_read = dataset.width * dataset.height
        report.geometry_types = {RASTER_CELLS: report.n_read}
        if src_crs == target:
            values = _band_as_float(dataset, rule.band)
            transform = dataset.transform
        else:
            transform, width, height = rasterio.warp.calculate_default_transform(
                src_crs, target, dataset.width, dataset.height, *dataset.bounds
            )
            values = warp_band(dataset, rule.band, crs, transform, (height, width), rule.categorical, src_crs)
            report.n_reprojected = report.n_read
    claimed = rule_mask(values, rule)
    cell = abs(transform.a)
    shapes = rasterio.features.shapes(
        claimed.astype("uint8"), mask=claimed, transform=transform, connectivity=4
    )
    polygons = np.array([shapely.geometry.shape(geom) for geom, _ in shapes], dtype=object)
    if rule.simplify and len(polygons):
        polygons = shapely.make_valid(
            shapely.simplify(polygons, cell), method="structure", keep_collapsed=False
        )
    report.raster = (
        f"{int(claimed.sum()):,} of {values.size:,} cells ({rule.describe()}, "
        f"{int(np.isnan(values).sum()):,} nodata) → {len(polygons)} polygons"
        + (f", simplified by {cell:g} m" if rule.simplify else "")
    )
    names = [f"{sector}/{source.name}/{i + 1}" for i in range(len(polygons))]
    return gpd.GeoDataFrame(
        {
            "feature_id": names,
            "sector": sector,
            "source": source.name,
            "label": [f"{source.name}: {rule.describe()} (gebied {i + 1})" for i in range(len(polygons))],
        },
        geometry=polygons,
        crs=crs,
    )


def write_geotiff(
    path: str | Path,
    values: np.ndarray,
    transform,
    description: str = "",
    crs: str | None = "EPSG:28992",
    nodata: float = -9999.0,
) -> Path:
    """Write one float32 band as a tiled, compressed GeoTIFF (``crs=None`` writes no CRS)."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
        tiled=True,
        compress="deflate",
    ) as dataset:
        dataset.write(values.astype("float32"), 1)
        if description:
            dataset.set_band_description(1, description)
    return Path(path)
