"""Property tests: the overlay invariants hold for random polygon sets."""

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novex_geo.config import ConflictPair
from novex_geo.tools.engine import overlay

from .test_overlay import assert_invariants, assert_provenance, claims_frame, regions_frame

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
    result = overlay(regions, claims, pairs, tile_size=tile_size, workers=1)
    assert_invariants(result, regions, claims, rel=1e-6)
    assert_provenance(result, claims)
    assert np.all(result.stapeling.geom_type == "Polygon")
