"""Property tests: the overlay equals references computed from the input alone."""

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novex_geo.config import KANS, ConflictPair, KansPair
from novex_geo.geometry import polygonal
from novex_geo.overlay import overlay
from novex_geo.overlay.geometry import clip, union_area

from .support.helpers import (
    assert_invariants,
    assert_matches_reference,
    assert_provenance,
    claims_frame,
    regions_frame,
    shared_edges_of_equal_faces,
)

coordinate = st.integers(min_value=0, max_value=1_000_000).map(lambda mm: mm / 1_000)  # RD in mm


@st.composite
def polygon(draw):
    """A rectangle, or a random (possibly self-intersecting, then repaired) quadrilateral."""
    x, y = draw(coordinate), draw(coordinate)
    if draw(st.booleans()):
        w = draw(st.integers(min_value=1, max_value=400))
        h = draw(st.integers(min_value=1, max_value=400))
        return shapely.box(x, y, x + w, y + h)
    points = [(x, y)] + [(draw(coordinate), draw(coordinate)) for _ in range(3)]
    geom = shapely.make_valid(shapely.Polygon(points))
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 1]
    return shapely.MultiPolygon(parts) if parts else shapely.box(x, y, x + 10, y + 10)


sector_features = st.lists(polygon(), min_size=1, max_size=6)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=sector_features,
    b=sector_features,
    c=sector_features,
    split=st.integers(min_value=200, max_value=800),
    tile_size=st.sampled_from([250.0, 400.0, 2_000.0]),
    distance=st.sampled_from([0.0, 25.0, 120.0]),
)
def test_overlay_invariants_on_random_polygons(a, b, c, split, tile_size, distance):
    regions = regions_frame(
        {"West": shapely.box(0, 0, split, 1_100), "Oost": shapely.box(split, 0, 1_100, 1_100)}
    )
    claims = {"a": claims_frame("a", a), "b": claims_frame("b", b), "c": claims_frame("c", c)}
    pairs = [ConflictPair("a", "b", distance), ConflictPair("b", "c")]
    # a kans of the same pair and distance as a conflict, and one of its own
    kansen = [KansPair("a", "b", distance, toelichting="x", also_conflict=True), KansPair("a", "c", 60.0)]
    result = overlay(regions, claims, pairs, tile_size=tile_size, workers=1, kansen=kansen)
    assert_invariants(result, regions, claims, rel=1e-6)
    assert_provenance(result, claims)
    assert_provenance(result, claims, KANS)
    assert np.all(result.stapeling.geom_type == "Polygon")
    # one engine: the kansen of a pair are exactly its schuurpunten, zone for zone
    zones = result.schuurpunten[result.schuurpunten["conflict"] == "a×b"]
    same = result.kansen[result.kansen["kans"] == "a×b"]
    assert same["kans_id"].tolist() == ("kans/" + zones["schuurpunt_id"]).tolist()
    assert shapely.equals(same.geometry.values, zones.geometry.values).all()
    assert same["feature_ids_b"].tolist() == zones["feature_ids_b"].tolist()


# ------------------------------------------------------------------ lattice-aligned inputs

CELL = 250  # metres: habitat maps, raster traces and cadastral grids put edges on lines like these
FIELD = 80  # cells: a 20 km square, crossed by tile lines of every tested tile size


@st.composite
def lattice_polygon(draw):
    """A union of cell rectangles, sometimes with a rectangular hole: shared edges, touching
    corners and holes whose edges lie on the lattice (and so on tile lines)."""
    cells = st.integers(min_value=0, max_value=FIELD - 1)
    rects = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        i, j = draw(cells), draw(cells)
        w, h = draw(st.integers(1, 16)), draw(st.integers(1, 16))
        rects.append(shapely.box(i * CELL, j * CELL, (i + w) * CELL, (j + h) * CELL))
    geom = shapely.union_all(rects)
    if draw(st.booleans()):
        xmin, ymin, xmax, ymax = (round(v / CELL) for v in geom.bounds)
        if xmax - xmin >= 3 and ymax - ymin >= 3:
            i = draw(st.integers(xmin + 1, xmax - 2))
            j = draw(st.integers(ymin + 1, ymax - 2))
            hole = shapely.box(i * CELL, j * CELL, (i + 1) * CELL, (j + 1) * CELL)
            geom = shapely.difference(geom, hole)
    return geom


@st.composite
def diagonal_provinces(draw):
    """Two or three provinces split by slanted borders through lattice points."""
    edge = FIELD * CELL
    x0 = draw(st.integers(8, FIELD - 8)) * CELL
    x1 = draw(st.integers(8, FIELD - 8)) * CELL
    if x0 == x1:
        x1 += CELL
    west = shapely.Polygon([(0, 0), (x0, 0), (x1, edge), (0, edge)])
    east = shapely.Polygon([(x0, 0), (edge, 0), (edge, edge), (x1, edge)])
    regions = {"West": west, "Oost": east}
    if draw(st.booleans()):  # a third provincie in the north-east with a diagonal border
        y0 = draw(st.integers(FIELD // 2, FIELD - 4)) * CELL
        corner = shapely.Polygon([(edge, y0), (edge, edge), (edge - (edge - y0), edge)])
        regions = {"West": west, "Oost": shapely.difference(east, corner), "Noord": corner}
    return regions_frame(regions)


lattice_features = st.lists(lattice_polygon(), min_size=1, max_size=6)


@pytest.mark.slow
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=lattice_features,
    b=lattice_features,
    c=lattice_features,
    regions=diagonal_provinces(),
    tile_size=st.sampled_from([10_000.0, 7_000.0, 2_500.0]),
)
def test_lattice_inputs_equal_the_reference_per_provincie(a, b, c, regions, tile_size):
    claims = {"a": claims_frame("a", a), "b": claims_frame("b", b), "c": claims_frame("c", c)}
    result = overlay(regions, claims, [ConflictPair("a", "b")], tile_size=tile_size, workers=1)
    assert_matches_reference(result, regions, claims, rel=1e-9)
    assert shared_edges_of_equal_faces(result.stapeling) == []
    assert result.controle["verschil_relatief"].max() < 1e-9
    assert_provenance(result, claims)


@settings(max_examples=200, deadline=None)
@given(st.lists(sector_features, min_size=1, max_size=5), st.sampled_from([None, 0.001]))
def test_union_area_equals_the_area_of_the_union(sectors, grid):
    dissolved = [shapely.union_all(features, grid_size=grid) for features in sectors]
    expected = shapely.area(shapely.union_all(dissolved, grid_size=grid))
    # on a grid every operation snaps on its own: within a grid step along the boundaries
    snapping = 0.0 if grid is None else grid * shapely.length(dissolved).sum()
    assert union_area(dissolved, grid) == pytest.approx(expected, rel=1e-9, abs=1e-6 + snapping)


@settings(max_examples=200, deadline=None)
@given(sector_features, st.tuples(coordinate, coordinate), st.integers(1, 1_000))
def test_clip_keeps_exactly_the_part_inside_the_rectangle(features, corner, size):
    dissolved = polygonal(shapely.union_all(features))
    bounds = (*corner, corner[0] + size, corner[1] + size)
    clipped = clip(dissolved, bounds)
    assert shapely.is_valid(clipped)
    assert shapely.get_type_id(clipped) in (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
    exact = shapely.intersection(dissolved, shapely.box(*bounds))
    assert shapely.area(clipped) == pytest.approx(shapely.area(exact), rel=1e-9, abs=1e-9)
    assert shapely.area(shapely.symmetric_difference(clipped, exact)) <= 1e-9 * max(shapely.area(exact), 1.0)


def test_clip_keeps_polygons_inside_as_they_are_and_drops_those_only_touching():
    inside = shapely.Polygon([(1, 1), (4, 1), (4, 4), (1, 4)])
    across = shapely.box(8, 8, 12, 12)
    touching = shapely.box(10, 0, 14, 5)  # shares the rectangle's east edge only
    clipped = clip(shapely.MultiPolygon([inside, across, touching]), (0, 0, 10, 10))
    parts = shapely.get_parts(clipped)
    assert len(parts) == 2
    assert any(shapely.equals_exact(part, inside, tolerance=0) for part in parts)
    assert shapely.area(clipped) == pytest.approx(9 + 4)
