"""Known answers for merging across tile lines: only pieces that share a stretch of a tile line
merge, in connected components, and the result does not depend on the tiles."""

import numpy as np
import pandas as pd
import pytest
import shapely

from novex_geo.config import ConflictPair
from novex_geo.overlay import geometry as overlay_geometry
from novex_geo.overlay import overlay
from novex_geo.overlay.geometry import union_coverage
from novex_geo.overlay.merge import components, merge_across_tiles, tile_line_pairs

from .support.helpers import claims_frame, regions_frame, shared_edges_of_equal_faces

REGION = regions_frame({"Utrecht": shapely.box(0, 0, 10_000, 10_000)})
TILES = [
    shapely.box(0, 0, 1_000, 1_000),
    shapely.box(1_000, 0, 2_000, 1_000),
    shapely.box(2_000, 0, 3_000, 1_000),
]


def _bounds(*tiles):
    return np.array([tile.bounds for tile in tiles], dtype=float)


def test_components_of_chains_cycles_and_loners():
    # 0-1-2 a chain, 3-4-5-3 a cycle, 6 alone; numbered by smallest node
    i, j = np.array([2, 1, 4, 5, 3]), np.array([1, 0, 3, 4, 5])
    assert components(7, i, j).tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert components(3, np.array([], int), np.array([], int)).tolist() == [0, 1, 2]
    # a long chain given back to front still ends in one component
    n = 1_000
    assert set(components(n, np.arange(n - 1)[::-1], np.arange(1, n)[::-1]).tolist()) == {0}


def test_pieces_sharing_a_stretch_of_a_tile_line_pair_up_points_do_not():
    pieces = np.array(
        [
            shapely.box(500, 0, 1_000, 500),  # tile 0, on x = 1000 from y 0 to 500
            shapely.box(1_000, 200, 1_500, 700),  # tile 1: shares y 200-500 with piece 0
            shapely.box(1_000, 500, 1_200, 1_000),  # tile 1: meets piece 0 at (1000, 500) only
            shapely.box(1_000, 0, 1_300, 200),  # tile 1: shares y 0-200, but another key
        ]
    )
    bounds = _bounds(TILES[0], TILES[1], TILES[1], TILES[1])
    i, j = tile_line_pairs(pieces, bounds, np.array([0, 0, 0, 1]))
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(1, 0)]


def test_diagonal_tiles_meeting_in_a_corner_do_not_merge():
    pieces = np.array([shapely.box(500, 500, 1_000, 1_000), shapely.box(1_000, 1_000, 1_500, 1_500)])
    bounds = _bounds(shapely.box(0, 0, 1_000, 1_000), shapely.box(1_000, 1_000, 2_000, 2_000))
    merged = merge_across_tiles(pieces, bounds, np.zeros(2, int), union_coverage)
    assert len(merged.parts) == 2
    assert merged.links.tolist() == [[0, 0], [1, 1]]


@pytest.mark.parametrize("batch", [128, 2])
def test_only_the_rows_geos_refuses_take_the_slow_union(monkeypatch, batch):
    # row 2: the right piece has a vertex on the shared edge that the left one lacks, as when two
    # tiles node a tile line apart; GEOS then refuses the whole table, not just that row
    rows = [[shapely.box(x, 0, x + 1, 1), shapely.box(x + 1, 0, x + 2, 1)] for x in range(0, 50, 10)]
    rows[2][1] = shapely.Polygon([(21, 0), (22, 0), (22, 1), (21, 1), (21, 0.5)])
    table = np.array(rows, dtype=object)
    slow = []
    union_all = shapely.union_all

    def counted(geoms, *args, **kwargs):
        slow.append(len(geoms))
        return union_all(geoms, *args, **kwargs)

    monkeypatch.setattr(shapely, "union_all", counted)
    monkeypatch.setattr(overlay_geometry, "COVERAGE_BATCH", batch)
    merged = union_coverage(table)
    assert slow == [1]
    assert [round(part.area, 9) for part in merged] == [2.0] * 5
    assert all(
        shapely.equals(part, shapely.box(x, 0, x + 2, 1))
        for part, x in zip(merged, range(0, 50, 10), strict=True)
    )


def test_a_component_chaining_across_three_tiles_is_one_part():
    pieces = np.array(
        [
            shapely.box(500, 0, 1_000, 100),
            shapely.box(1_000, 0, 2_000, 100),
            shapely.box(2_000, 0, 2_400, 100),
            shapely.box(2_500, 500, 2_600, 600),
        ]
    )
    bounds = _bounds(TILES[0], TILES[1], TILES[2], TILES[2])
    merged = merge_across_tiles(pieces, bounds, np.zeros(4, int), union_coverage)
    assert len(merged.parts) == 2
    assert shapely.equals(merged.parts[0], shapely.box(500, 0, 2_400, 100))
    assert merged.source.tolist() == [0, 3]
    assert merged.links.tolist() == [[0, 0], [1, 0], [2, 0], [3, 1]]


def _faces(result):
    faces = result.stapeling.sort_values("vlak_id").reset_index(drop=True)
    return faces[["vlak_id", "sectoren", "oppervlakte_m2"]], faces.geometry.to_numpy()


U_SHAPE = [
    shapely.box(100, 100, 2_900, 400),
    shapely.box(100, 400, 400, 1_900),
    shapely.box(2_600, 400, 2_900, 1_900),
]
# two squares meeting in (1500, 1250): on the tile line x = 1500 of 500 m tiles, a tile corner of 250 m ones
TOUCHING = [shapely.box(1_000, 1_000, 1_500, 1_250), shapely.box(1_500, 1_250, 1_800, 1_600)]


@pytest.mark.parametrize("tile_size", [1_000, 700, 500, 250])
def test_small_tiles_give_the_faces_and_schuurpunten_of_one_big_tile(tile_size):
    claims = {
        "a": claims_frame("a", [*U_SHAPE, *TOUCHING]),
        "b": claims_frame("b", [shapely.box(300, 300, 2_700, 600), shapely.box(2_000, 2_000, 2_300, 2_300)]),
    }
    pairs = [ConflictPair("a", "b"), ConflictPair("a", "b", 150)]
    one, tiled = (overlay(REGION, claims, pairs, tile_size=size, workers=1) for size in (10_000, tile_size))
    (one_table, one_geoms), (tiled_table, tiled_geoms) = _faces(one), _faces(tiled)
    assert one_table[["vlak_id", "sectoren"]].equals(tiled_table[["vlak_id", "sectoren"]])
    assert np.allclose(one_table["oppervlakte_m2"], tiled_table["oppervlakte_m2"], rtol=1e-9)
    assert np.all(shapely.area(shapely.symmetric_difference(one_geoms, tiled_geoms)) < 1e-6)
    # the U and the two squares meeting in a point: three faces
    assert (tiled.stapeling["sectoren"] == "a").sum() == 3
    assert shared_edges_of_equal_faces(tiled.stapeling) == []
    columns = ["schuurpunt_id", "feature_ids_a", "feature_ids_b", "n_features_a", "n_features_b"]
    assert one.schuurpunten[columns].equals(tiled.schuurpunten[columns])
    assert np.allclose(one.schuurpunten["oppervlakte_m2"], tiled.schuurpunten["oppervlakte_m2"], rtol=1e-9)
    assert one.herkomst.equals(tiled.herkomst)


def test_faces_are_merged_in_groups_of_whole_provinces_of_about_equal_size():
    from novex_geo.overlay.assembly import _balanced

    provincie = pd.Series(["Utrecht"] * 5 + ["Zeeland"] * 3 + ["Drenthe"] * 2 + ["Limburg"] * 1)
    groups = _balanced(provincie, 2)
    # the largest first, each to the lighter group
    names = [sorted(set(provincie[rows])) for rows in groups]
    assert names == [["Limburg", "Utrecht"], ["Drenthe", "Zeeland"]]
    assert [int(rows.sum()) for rows in groups] == [6, 5]
    assert len(_balanced(provincie, 8)) == 4
