"""Features apart: a dense sector's features that meet no other claim skip the overlay, exactly."""

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novex_geo.config import ConflictPair
from novex_geo.overlay import apart, overlay
from novex_geo.overlay.geometry import straight_runs
from novex_geo.overlay.tasks import OverlayTask, TaskClaims, TaskSpec

from .support.helpers import (
    assert_invariants,
    assert_matches_reference,
    assert_provenance,
    claims_frame,
    regions_frame,
    shared_edges_of_equal_faces,
)

PARCEL = 100.0


def parcels(columns: int, rows: int, x0: float = 0.0, y0: float = 0.0) -> list:
    """A coverage of square parcels, ``columns`` × ``rows`` of 100 m."""
    return [
        shapely.box(x0 + i * PARCEL, y0 + j * PARCEL, x0 + (i + 1) * PARCEL, y0 + (j + 1) * PARCEL)
        for j in range(rows)
        for i in range(columns)
    ]


def overlaid_whole(monkeypatch, *args, **kwargs):
    """The overlay with every feature overlaid (the route before features apart existed)."""
    with monkeypatch.context() as patch:
        patch.setattr(apart, "APART_MIN_FEATURES", 10**9)
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


def test_split_keeps_apart_exactly_the_parcels_that_meet_no_other_claim():
    grid = np.array(parcels(20, 20), dtype=object)  # 400 parcels, more than APART_MIN_FEATURES
    house = shapely.box(520, 520, 770, 770)  # within parcels of columns and rows 5, 6 and 7
    touching = shapely.box(1500, 1500, 1700, 1600)  # beyond the tile, its edges on parcel edges
    claims = (
        TaskClaims("landbouw", 1, grid, np.arange(400), 0.0),
        TaskClaims("woningbouw", 2, np.array([house, touching], dtype=object), np.arange(2), 0.0),
    )
    tile = shapely.box(0, 0, 1000, 1000)
    task = OverlayTask(TaskSpec("P", "0_0", (0.0, 0.0, 1000.0, 1000.0)), tile, True, claims, (), 2)
    split = apart.split_apart(task, tile)
    overlaid = dict((claim.key, claim) for claim in split.overlaid)
    # 9 parcels under the house; 12 within or touching the second claim (sides and corners count)
    near = sorted(overlaid["landbouw"].rows.tolist())
    under_house = [j * 20 + i for j in (5, 6, 7) for i in (5, 6, 7)]
    around_second = [j * 20 + i for j in range(14, 17) for i in range(14, 18)]
    assert near == sorted(under_house + around_second)
    assert len(overlaid["woningbouw"].geoms) == 2  # a sector with few features is overlaid whole
    # the parcels apart inside the tile (the tile holds 100 of them) stay, those beyond are dropped
    assert len(split.apart["landbouw"]) == 100 - 9
    assert split.divided == {"landbouw"}


def test_faces_with_parcels_apart_equal_the_whole_overlay(monkeypatch):
    regions = regions_frame({"West": shapely.box(0, 0, 1050, 2000), "Oost": shapely.box(1050, 0, 3000, 2000)})
    claims = {
        "landbouw": claims_frame("landbouw", parcels(20, 20)),
        "woningbouw": claims_frame(
            "woningbouw", [shapely.box(520, 520, 770, 770), shapely.box(950, 50, 1150, 150)]
        ),
    }
    pairs = [ConflictPair("woningbouw", "landbouw")]
    result = overlay(regions, claims, pairs, tile_size=1000.0, workers=1)
    assert_matches_reference(result, regions, claims, rel=1e-12)
    assert shared_edges_of_equal_faces(result.stapeling) == []
    faces = (
        result.stapeling.set_index(["provincie", "sectoren"])["oppervlakte_m2"].groupby(level=[0, 1]).sum()
    )
    assert faces["West", "landbouw"] == pytest.approx(1050 * 2000 - 250**2 - 100 * 100)
    assert faces["West", "landbouw+woningbouw"] == pytest.approx(250**2 + 100 * 100)
    assert faces["Oost", "landbouw"] == pytest.approx(950 * 2000 - 100 * 100)
    # one landbouw face per provincie, though four tiles cut it: merged across the tile lines
    assert (result.stapeling["sectoren"] == "landbouw").sum() == 2
    assert result.coverage_fallbacks == 0
    assert_same_faces(
        result, overlaid_whole(monkeypatch, regions, claims, pairs, tile_size=1000.0, workers=1)
    )
    assert_provenance(result, claims)


def test_overlapping_parcels_apart_are_merged_by_a_union_and_reported(monkeypatch):
    grid = parcels(20, 20)
    grid.append(shapely.box(150, 150, 350, 250))  # overlaps four parcels, far from any other claim
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


def test_straight_runs_drop_vertices_along_the_tile_edge_only():
    bounds = (0.0, 0.0, 100.0, 100.0)
    on_edge = shapely.Polygon([(0, 0), (5, 0), (10, 0), (10, 10), (0, 10)])  # (5, 0) on the edge
    inside = shapely.Polygon([(20, 20), (25, 20), (30, 20), (30, 30), (20, 30)])
    edge_face, inner_face = straight_runs(np.array([on_edge, inside], dtype=object), bounds)
    assert shapely.get_num_coordinates(edge_face) == 5 and edge_face.area == on_edge.area
    assert shapely.equals(edge_face, on_edge)
    assert inner_face is inside  # a face away from the tile's edge is left as it was


# ------------------------------------------------------------------ property test

CELL = 125.0


@st.composite
def parcel_coverage(draw):
    """A block of lattice parcels with gaps, sometimes one overlapping its neighbours."""
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
def test_features_apart_change_nothing(farmland, houses, water, border, tile_size, distance):
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
        patch.setattr(apart, "APART_MIN_FEATURES", 1)  # every sector with features apart
        split = overlay(regions, claims, pairs, tile_size=tile_size, workers=1)
        patch.setattr(apart, "APART_MIN_FEATURES", 10**9)
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
