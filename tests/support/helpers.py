"""Test helpers for the overlay: frames from geometries, and references computed without the engine."""

from __future__ import annotations

import functools
import itertools
import statistics
from math import comb

import geopandas as gpd
import numpy as np
import pytest
import shapely

from novex_geo.config import SCHUURPUNT, ZONE_ID
from novex_geo.overlay.geometry import NODING_GRID

RD = "EPSG:28992"


def claims_frame(key, geoms, labels=None):
    geoms = list(geoms)
    return gpd.GeoDataFrame(
        {
            "feature_id": [f"{key}/{i}" for i in range(len(geoms))],
            "label": labels or [f"{key} {i}" for i in range(len(geoms))],
        },
        geometry=geoms,
        crs=RD,
    )


def regions_frame(boxes: dict):
    return gpd.GeoDataFrame({"provincie": list(boxes)}, geometry=list(boxes.values()), crs=RD)


def reference_sector_areas(regions, claims) -> dict[tuple[str, str], float]:
    """(provincie, sector) → area of the sector's claims (shapely union) within the provincie."""
    areas = {}
    for provincie, region in zip(regions["provincie"], regions.geometry.values, strict=True):
        for key, frame in claims.items():
            union = shapely.union_all(frame.geometry.values)
            areas[provincie, key] = shapely.intersection(union, region).area
    return areas


def reference_stapeling(regions, claims) -> dict[tuple[str, int], float]:
    """(provincie, n) → area claimed by exactly n distinct sectors, by inclusion–exclusion.

    S_j sums the area of the intersection of every j sectors' unions within the provincie;
    the area in exactly n sectors is sum over j >= n of (-1)^(j-n) C(j, n) S_j. Only shapely
    intersections, nothing of the engine.
    """
    keys = list(claims)
    unions = {key: shapely.union_all(frame.geometry.values) for key, frame in claims.items()}
    result = {}
    for provincie, region in zip(regions["provincie"], regions.geometry.values, strict=True):
        sums = {}
        for j in range(1, len(keys) + 1):
            total = 0.0
            for subset in itertools.combinations(keys, j):
                geom = region
                for key in subset:
                    geom = shapely.intersection(geom, unions[key])
                total += geom.area
            sums[j] = total
        for n in range(1, len(keys) + 1):
            result[provincie, n] = sum(
                (-1) ** (j - n) * comb(j, n) * sums[j] for j in range(n, len(keys) + 1)
            )
    return result


def shared_edges_of_equal_faces(stapeling) -> list[tuple[str, str]]:
    """Pairs of faces with the same provincie and sector set that share a boundary of length > 0."""
    geoms = stapeling.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    same = (stapeling["provincie"].to_numpy()[left] == stapeling["provincie"].to_numpy()[right]) & (
        stapeling["sectoren"].to_numpy()[left] == stapeling["sectoren"].to_numpy()[right]
    )
    left, right = left[same], right[same]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right]))
    )
    ids = stapeling["vlak_id"].to_numpy()
    return [(ids[i], ids[j]) for i, j in zip(left[shared > 0], right[shared > 0], strict=True)]


def assert_invariants(result, regions, claims, rel=1e-6):
    """Faces do not overlap and add up to the union (per sector and in all), to ``rel`` —
    or, for tiny test geometries, to what snapping the noded boundaries to the engine's
    noding grid can move: half a grid cell along every boundary metre."""
    faces = result.stapeling
    geoms = faces.geometry.values
    snap = NODING_GRID * float(shapely.length(geoms).sum()) + 1e-6
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    distinct = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[distinct]], geoms[right[distinct]])).sum()
    assert overlap <= max(rel * faces["oppervlakte_m2"].sum(), snap)
    land = shapely.union_all(regions.geometry.values)
    dissolved = {
        key: shapely.intersection(shapely.union_all(frame.geometry.values), land)
        for key, frame in claims.items()
    }
    # GEOS unions can lose or add area on pathological slivers, and which method fails depends
    # on the input (seen with GEOS 3.14.1 in property tests), so the reference is the median
    # of four independent computations of the union
    parts = list(dissolved.values())
    every = np.concatenate([np.asarray(frame.geometry.values, dtype=object) for frame in claims.values()])
    union_area = statistics.median(
        [
            functools.reduce(shapely.union, parts).area,
            functools.reduce(shapely.union, parts[::-1]).area,
            shapely.union_all(parts).area,
            shapely.intersection(shapely.union_all(every), land).area,
        ]
    )
    assert faces["oppervlakte_m2"].sum() == pytest.approx(union_area, rel=rel, abs=snap)
    for key, geom in dissolved.items():
        assert faces.loc[faces[key] == 1, "oppervlakte_m2"].sum() == pytest.approx(
            geom.area, rel=rel, abs=snap
        )
    assert (faces["n_sectoren"] == faces[list(claims)].sum(axis=1)).all()


def assert_provenance(result, claims, kind=SCHUURPUNT):
    """Every listed feature lies within the pair's distance of a listed feature of the other side,
    for the zones of ``kind`` (schuurpunten or kansen); ``herkomst`` lists exactly those features."""
    geoms = {
        key: dict(zip(frame["feature_id"], frame.geometry.values, strict=True))
        for key, frame in claims.items()
    }
    zones = getattr(result, kind.layer)
    herkomst = result.herkomst[result.herkomst["soort"] == kind.soort]
    assert set(herkomst[ZONE_ID]) == set(zones[kind.id_column])
    for zone in zones.itertuples():
        ids_a, ids_b = zone.feature_ids_a.split("; "), zone.feature_ids_b.split("; ")
        zone_id = getattr(zone, kind.id_column)
        assert ids_a != [""] and ids_b != [""], zone_id
        rows = herkomst[herkomst[ZONE_ID] == zone_id]
        assert sorted(rows.loc[rows["kant"] == "a", "feature_id"]) == sorted(ids_a), zone_id
        assert sorted(rows.loc[rows["kant"] == "b", "feature_id"]) == sorted(ids_b), zone_id
        side_a = [geoms[zone.sector_a][i] for i in ids_a]
        side_b = [geoms[zone.sector_b][i] for i in ids_b]
        tolerance = zone.afstand_m + 1e-6
        for feature in side_a:
            assert min(shapely.distance(feature, other) for other in side_b) <= tolerance
        for feature in side_b:
            assert min(shapely.distance(feature, other) for other in side_a) <= tolerance


def assert_matches_reference(result, regions, claims, rel=1e-9, abs_m2=0.0):
    """Per provincie and sector, and per provincie and n_sectoren, the faces equal the references."""
    faces = result.stapeling
    for (provincie, key), area in reference_sector_areas(regions, claims).items():
        got = faces.loc[(faces["provincie"] == provincie) & (faces[key] == 1), "oppervlakte_m2"].sum()
        assert got == _approx(area, rel, abs_m2), (provincie, key, got, area)
    for (provincie, n), area in reference_stapeling(regions, claims).items():
        got = faces.loc[
            (faces["provincie"] == provincie) & (faces["n_sectoren"] == n), "oppervlakte_m2"
        ].sum()
        assert got == _approx(area, rel, abs_m2), (provincie, n, got, area)
    assert (faces["n_sectoren"] == faces[list(claims)].sum(axis=1)).all()
    assert np.all(faces.geom_type == "Polygon")


def _approx(value, rel, abs_m2):
    return pytest.approx(value, rel=rel, abs=abs_m2 + 1e-6)


def write_raster(path, values, transform, crs="EPSG:28992"):
    from novex_geo.io.raster import write_geotiff

    return write_geotiff(path, values, transform, crs=crs)


def gradient(rows=50, cols=100):
    """Bodemdaling in m rising from west to east: column c holds (c + 0.5) / cols."""
    return np.tile((np.arange(cols) + 0.5) / cols, (rows, 1))


RD_PLACE = (150_000.0, 450_000.0)  # a spot near Amersfoort, where RD coordinates are plausible


def in_rd(geoms):
    """Small test shapes drawn around (0, 0), moved to where RD coordinates lie in the Netherlands."""
    return list(shapely.transform(np.asarray(geoms, dtype=object), lambda xy: xy + RD_PLACE))
