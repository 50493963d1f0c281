"""Claims apart: parts of a sector's claims that meet no other claim skip the overlay, exactly."""

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novex_geo.config import ConflictPair
from novex_geo.overlay import apart, overlay

from .support.helpers import (
    assert_invariants,
    assert_matches_reference,
    assert_provenance,
    claims_frame,
    regions_frame,
    shared_edges_of_equal_faces,
)

PARCEL = 100.0


def parcels(columns: int, rows: int, width: float = PARCEL) -> list:
    """Square parcels on a 100 m pitch, ``columns`` × ``rows``: a coverage when ``width`` is
    100 m, parcels apart (between ditches, as BRP parcels lie) when it is less."""
    return [
        shapely.box(i * PARCEL, j * PARCEL, i * PARCEL + width, j * PARCEL + width)
        for j in range(rows)
        for i in range(columns)
    ]


def overlaid_whole(monkeypatch, *args, **kwargs):
    """The overlay with every feature overlaid (the route before features apart existed)."""
    with monkeypatch.context() as patch:
        patch.setattr(apart, "APART_MIN_PARTS", 10**9)
        return overlay(*args, **kwargs)


def assert_same_faces(one, other):
    """The same faces: count, sector sets, areas and shapes (sorted alike)."""
    assert len(one.stapeling) == len(other.stapeling)
    a = one.stapeling.sort_values(["provincie", "sectoren", "oppervlakte_m2"]).reset_index(drop=True)
    b = other.stapeling.sort_values(["provincie", "sectoren", "oppervlakte_m2"]).reset_index(drop=True)
    assert (a["sectoren"] == b["sectoren"]).all()
    np.testing.assert_allclose(a["oppervlakte_m2"], b["oppervlakte_m2"], rtol=1e-9, atol=1e-6)
    moved = shapely.area(shapely.symmetric_difference(a.geometry.values, b.geometry.values))
    assert moved.max() <= 1e-6


def test_parts_apart_are_exactly_those_that_meet_no_other_claim():
    farmland = shapely.MultiPolygon(parcels(10, 10, width=90.0))  # 100 parcels apart in the tile
    house = shapely.box(520, 520, 770, 770)  # over the parcels of columns and rows 5, 6 and 7
    touching = shapely.box(0, 990, 90, 1000)  # touches the parcel in column 0, row 9
    tiles = {"landbouw": farmland, "woningbouw": shapely.MultiPolygon([house, touching])}
    tile = (0.0, 0.0, 1000.0, 1000.0)
    found = apart.set_apart(tiles, shapely.box(*tile), tile, interior=True)
    assert len(found.faces["landbouw"]) == 100 - 9 - 1
    assert len(shapely.get_parts(found.overlaid["landbouw"])) == 10
    assert found.overlaid["woningbouw"] is tiles["woningbouw"]  # few parts: overlaid whole
    assert "woningbouw" not in found.faces
    # the provincie ends at x = 450, through the parcels of column 4: those meet its edge, the
    # parcels east of it lie outside, those west of it are faces of their own
    region = shapely.box(0, 0, 450, 1000)
    found = apart.set_apart({"landbouw": farmland}, region, tile, interior=False)
    assert len(found.faces["landbouw"]) == 40
    assert shapely.get_parts(found.overlaid["landbouw"]).size == 10
    assert sum(shapely.area(found.faces["landbouw"])) == pytest.approx(40 * 90 * 90)


def test_a_part_that_rounding_would_break_is_overlaid(monkeypatch):
    monkeypatch.setattr(apart, "APART_MIN_PARTS", 1)
    # a notch from the top whose tip stops 4 nm above the bottom edge: valid, but on the 10 nm
    # noding grid the notch closes into a spike that touches the bottom edge
    notched = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (5.000000001, 10), (5, 0.000000004), (4.999999999, 10), (0, 10)]
    )
    assert notched.is_valid
    assert not shapely.set_precision(notched, 1e-8, mode="pointwise").is_valid
    plain = shapely.box(20, 0, 30, 10)
    tile = (0.0, 0.0, 100.0, 100.0)
    found = apart.set_apart({"a": shapely.MultiPolygon([notched, plain])}, shapely.box(*tile), tile, True)
    assert len(found.faces["a"]) == 1 and shapely.equals(found.faces["a"][0], plain)
    assert shapely.equals(found.overlaid["a"], shapely.MultiPolygon([notched]))


def test_parcels_apart_are_faces_of_their_own_and_equal_the_whole_overlay(monkeypatch):
    regions = regions_frame({"West": shapely.box(0, 0, 1050, 2000), "Oost": shapely.box(1050, 0, 3000, 2000)})
    claims = {
        "landbouw": claims_frame("landbouw", parcels(20, 20, width=90.0)),  # 100 per tile
        "woningbouw": claims_frame(
            "woningbouw", [shapely.box(520, 520, 770, 770), shapely.box(950, 50, 1150, 150)]
        ),
    }
    pairs = [ConflictPair("woningbouw", "landbouw")]
    result = overlay(regions, claims, pairs, tile_size=1000.0, workers=1)
    assert_matches_reference(result, regions, claims, rel=1e-12)
    faces = result.stapeling.groupby(["provincie", "sectoren"])["oppervlakte_m2"]
    area, count = faces.sum(), faces.size()
    # West: 10 columns of 90 m parcels and 50 m of the 11th; the first house covers 230 × 230 m
    # of parcels, the second 90 × 90 m on each side of the border
    assert area["West", "landbouw+woningbouw"] == pytest.approx(230**2 + 90**2)
    assert area["West", "landbouw"] == pytest.approx(200 * 8_100 + 20 * 50 * 90 - 230**2 - 90**2)
    assert area["Oost", "landbouw+woningbouw"] == pytest.approx(90**2)
    assert area["Oost", "landbouw"] == pytest.approx(180 * 8_100 + 20 * 40 * 90 - 90**2)
    # every parcel a face (those of column 10 cut by the border), but the one under the house
    assert count.xs("landbouw", level=1).sum() == 400 + 20 - 1
    assert count.xs("landbouw+woningbouw", level=1).sum() == 9 + 8
    assert result.coverage_fallbacks == 0
    assert_same_faces(
        result, overlaid_whole(monkeypatch, regions, claims, pairs, tile_size=1000.0, workers=1)
    )
    assert_provenance(result, claims)


def test_a_coverage_apart_in_its_tiles_is_merged_across_the_tile_lines(monkeypatch):
    monkeypatch.setattr(apart, "APART_MIN_PARTS", 1)  # each tile's parcels dissolve into one part
    regions = regions_frame({"West": shapely.box(0, 0, 1050, 2000), "Oost": shapely.box(1050, 0, 3000, 2000)})
    claims = {
        "landbouw": claims_frame("landbouw", parcels(20, 20)),
        "woningbouw": claims_frame("woningbouw", [shapely.box(520, 520, 770, 770)]),
    }
    result = overlay(regions, claims, [], tile_size=1000.0, workers=1)
    assert_matches_reference(result, regions, claims, rel=1e-12)
    assert shared_edges_of_equal_faces(result.stapeling) == []
    # one landbouw face per provincie, though four tiles cut it
    assert (result.stapeling["sectoren"] == "landbouw").sum() == 2
    assert_same_faces(result, overlaid_whole(monkeypatch, regions, claims, [], tile_size=1000.0, workers=1))


def test_overlapping_parcels_are_dissolved_by_a_union_then_set_apart(monkeypatch):
    grid = parcels(20, 20, width=90.0)
    grid.append(shapely.box(150, 150, 350, 240))  # overlaps parcels, far from any other claim
    regions = regions_frame({"P": shapely.box(0, 0, 2000, 2000)})
    claims = {
        "landbouw": claims_frame("landbouw", grid),
        "woningbouw": claims_frame("woningbouw", [shapely.box(1220, 1220, 1470, 1470)]),
    }
    result = overlay(regions, claims, [], tile_size=1000.0, workers=1)
    assert_matches_reference(result, regions, claims, rel=1e-12)
    assert result.controle["verschil_relatief"].max() < 1e-12
    assert result.coverage_fallbacks >= 1
    assert_same_faces(result, overlaid_whole(monkeypatch, regions, claims, [], tile_size=1000.0, workers=1))


# ------------------------------------------------------------------ property test

CELL = 125.0


@st.composite
def parcel_coverage(draw):
    """A block of lattice parcels with gaps (connected parts of every size), sometimes one
    overlapping its neighbours."""
    columns, rows = draw(st.integers(4, 14)), draw(st.integers(4, 14))
    x0, y0 = draw(st.integers(0, 6)) * CELL, draw(st.integers(0, 6)) * CELL
    gaps = draw(st.sets(st.integers(0, columns * rows - 1), max_size=columns * rows // 4))
    cells = [
        shapely.box(x0 + i * CELL, y0 + j * CELL, x0 + (i + 1) * CELL, y0 + (j + 1) * CELL)
        for j in range(rows)
        for i in range(columns)
        if j * columns + i not in gaps
    ]
    if draw(st.booleans()):
        i, j = draw(st.integers(0, columns - 1)), draw(st.integers(0, rows - 1))
        cells.append(
            shapely.box(x0 + (i + 0.5) * CELL, y0 + j * CELL, x0 + (i + 1.5) * CELL, y0 + (j + 1) * CELL)
        )
    return cells or [shapely.box(0, 0, CELL, CELL)]


@st.composite
def claim(draw):
    """A rectangle on a 1 m grid or a slanted quadrilateral."""
    coordinate = st.integers(0, 2_400).map(float)
    x, y = draw(coordinate), draw(coordinate)
    if draw(st.booleans()):
        return shapely.box(x, y, x + draw(st.integers(5, 600)), y + draw(st.integers(5, 600)))
    quad = shapely.Polygon(
        [
            (x, y),
            (x + draw(st.integers(50, 500)), y + draw(st.integers(-80, 80))),
            (x + draw(st.integers(50, 500)), y + draw(st.integers(50, 500))),
            (x + draw(st.integers(-80, 80)), y + draw(st.integers(50, 500))),
        ]
    )
    return shapely.make_valid(quad) if not quad.is_valid else quad


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    farmland=parcel_coverage(),
    houses=st.lists(claim(), min_size=1, max_size=4),
    water=st.lists(claim(), min_size=0, max_size=3),
    border=st.integers(300, 2_300),
    tile_size=st.sampled_from([500.0, 750.0, 2_000.0]),
    distance=st.sampled_from([0.0, 40.0]),
)
def test_parts_apart_change_nothing(farmland, houses, water, border, tile_size, distance):
    regions = regions_frame(
        {
            "West": shapely.Polygon([(0, 0), (border, 0), (border + 200, 2_500), (0, 2_500)]),
            "Oost": shapely.Polygon([(border, 0), (2_500, 0), (2_500, 2_500), (border + 200, 2_500)]),
        }
    )
    claims = {
        "landbouw": claims_frame("landbouw", farmland),
        "woningbouw": claims_frame("woningbouw", houses),
    }
    if water:
        claims["water_bodem"] = claims_frame("water_bodem", water)
    pairs = [ConflictPair("woningbouw", "landbouw", distance)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(apart, "APART_MIN_PARTS", 1)  # every sector with parts apart
        split = overlay(regions, claims, pairs, tile_size=tile_size, workers=1)
        patch.setattr(apart, "APART_MIN_PARTS", 10**9)
        whole = overlay(regions, claims, pairs, tile_size=tile_size, workers=1)
    assert_invariants(split, regions, claims, rel=1e-9)
    assert shared_edges_of_equal_faces(split.stapeling) == []
    assert_same_faces(split, whole)
    assert_provenance(split, claims)
    assert len(split.schuurpunten) == len(whole.schuurpunten)
    areas = [
        np.sort(result.schuurpunten["oppervlakte_m2"].to_numpy(dtype=float)) for result in (split, whole)
    ]
    np.testing.assert_allclose(*areas, rtol=1e-9)
