"""What a worker receives: requests with the provincie part of their tile, and parts of the
catalogue that hold exactly the features their batch selects, identical after pickling."""

import pickle

import numpy as np
import shapely

from novex_geo.config import ConflictPair
from novex_geo.overlay.tasks import Catalogue, TaskSpec, Work, plan_tasks

from .support.helpers import claims_frame, regions_frame

# an L-shaped provincie over four 1 km tiles: two lie inside it, one in part, one only touches it
PROVINCIE = shapely.union(shapely.box(0, 0, 2_000, 1_000), shapely.box(0, 1_000, 500, 2_000))
REGIONS = regions_frame({"Utrecht": PROVINCIE})


def _catalogue():
    claims = {
        "a": claims_frame("a", [shapely.box(100, 100, 300, 300), shapely.box(1_200, 100, 1_400, 300)]),
        # within 50 m of the tile x ≥ 1 km only: the halo of the conflict pair reaches it there
        "b": claims_frame("b", [shapely.box(960, 400, 980, 600), shapely.box(100, 1_500, 300, 1_700)]),
    }
    return Catalogue(REGIONS, claims, [ConflictPair("a", "b", 50.0)])


def test_requests_carry_the_provincie_part_and_the_rows_within_the_halo():
    catalogue = _catalogue()
    requests = {r.spec.tile: r for r in catalogue.requests(plan_tasks(REGIONS, 1_000))}
    assert sorted(requests) == ["0_0", "0_1", "1_0", "1_1"]
    assert requests["0_0"].interior and requests["1_0"].interior
    assert not requests["0_1"].interior and not requests["1_1"].interior
    assert requests["1_1"].region.is_empty
    assert shapely.equals(requests["0_1"].region, shapely.box(0, 1_000, 500, 2_000))
    assert requests["0_1"].region.area == 500_000.0
    assert requests["0_0"].region.area == requests["1_0"].region.area == 1_000_000.0
    rows = {tile: [list(found) for found in request.rows] for tile, request in requests.items()}
    assert rows == {"0_0": [[0], [0]], "1_0": [[1], [0]], "0_1": [[], [1]], "1_1": [[], []]}


def test_a_part_holds_exactly_what_its_batch_selects_and_pickles_to_the_same_tasks():
    catalogue = _catalogue()
    requests = catalogue.requests(plan_tasks(REGIONS, 1_000))
    batch = [r for r in requests if r.spec.tile in ("0_0", "0_1")]
    part = pickle.loads(pickle.dumps(catalogue.part(batch)))
    assert {key: list(rows) for key, rows in part.rows.items()} == {"a": [0], "b": [0, 1]}
    assert len(part.geoms["a"]) == 1 and len(part.geoms["b"]) == 2
    for request in batch:
        here, there = catalogue.task(request), part.task(request)
        assert there.interior == here.interior and shapely.equals_exact(there.region, here.region, 0)
        assert [c.key for c in there.claims] == [c.key for c in here.claims]
        for mine, theirs in zip(here.claims, there.claims, strict=True):
            np.testing.assert_array_equal(theirs.rows, mine.rows)
            assert shapely.to_wkb(theirs.geoms).tolist() == shapely.to_wkb(mine.geoms).tolist()
    # the whole catalogue pickles too (a spawned worker's one copy), without indexes or provinces
    whole = pickle.loads(pickle.dumps(catalogue))
    assert whole.trees is None and whole.regions == {}
    assert shapely.to_wkb(whole.geoms["b"]).tolist() == shapely.to_wkb(catalogue.geoms["b"]).tolist()


def _crowded_catalogue():
    # sector c: 12 small parcels in tile 0_0, one in tile 1_0
    parcels = [shapely.box(50 + 80 * i, 700, 100 + 80 * i, 750) for i in range(12)]
    claims = {
        "a": claims_frame("a", [shapely.box(100, 100, 300, 300), shapely.box(1_200, 100, 1_400, 300)]),
        "b": claims_frame("b", [shapely.box(960, 400, 980, 600), shapely.box(100, 1_500, 300, 1_700)]),
        "c": claims_frame("c", [*parcels, shapely.box(1_500, 500, 1_600, 600)]),
    }
    return Catalogue(REGIONS, claims, [ConflictPair("a", "b", 50.0), ConflictPair("a", "c")])


def test_a_crowded_tile_has_its_faces_worked_out_in_quarters_and_its_zones_at_a_distance_whole(
    monkeypatch,
):
    from novex_geo.overlay import tasks

    catalogue = _crowded_catalogue()
    specs = plan_tasks(REGIONS, 1_000)
    counts = dict(zip([s.tile for s in specs], catalogue.features_per_tile(specs).tolist(), strict=True))
    # b's first box ends 20 m short of tile 1_0: the halo counts only in the requests
    assert counts == {"0_0": 14, "1_0": 2, "0_1": 1, "1_1": 0}
    monkeypatch.setattr(tasks, "CROWDED_TILE_FEATURES", 10)
    split = [(s.tile, s.bounds, s.work) for s in catalogue.split_crowded(specs)]
    assert split[0] == ("0_0", (0.0, 0.0, 1_000.0, 1_000.0), Work.AT_DISTANCE)
    assert split[1:5] == [
        (tile, bounds, Work.FACES)
        for tile, bounds in [
            ("0_0", (0.0, 0.0, 500.0, 500.0)),
            ("0_0.5", (0.0, 500.0, 500.0, 1_000.0)),
            ("0.5_0", (500.0, 0.0, 1_000.0, 500.0)),
            ("0.5_0.5", (500.0, 500.0, 1_000.0, 1_000.0)),
        ]
    ]
    assert [(tile, work) for tile, _, work in split[5:]] == [(s.tile, Work.WHOLE) for s in specs[1:]]
    # without pairs at a distance, a crowded tile is its quarters only
    alone = Catalogue(REGIONS, {"c": claims_frame("c", [shapely.box(0, 0, 10, 10)] * 12)}, [])
    assert [s.work for s in alone.split_crowded(specs[:1])] == [Work.FACES] * 4


def test_the_work_decides_which_features_a_request_carries():
    catalogue = _crowded_catalogue()
    bounds = (1_000.0, 0.0, 2_000.0, 1_000.0)
    specs = [TaskSpec("Utrecht", "1_0", bounds, work) for work in Work]
    requests = catalogue.requests(specs)
    rows = {r.spec.work: [list(found) for found in r.rows] for r in requests}
    # b's first box lies within the pair's 50 m of the tile: only work with zones at a distance
    # needs it; c is in no pair at a distance
    assert rows == {
        Work.WHOLE: [[1], [0], [12]],
        Work.FACES: [[1], [], [12]],
        Work.AT_DISTANCE: [[1], [0], []],
    }
    halos = {r.spec.work: [c.halo for c in catalogue.task(r).claims] for r in requests}
    assert halos == {Work.WHOLE: [50.0, 50.0, 0.0], Work.FACES: [0.0, 0.0], Work.AT_DISTANCE: [50.0, 50.0]}
