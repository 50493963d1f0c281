"""The engine's executor: the same tasks on forked or spawned workers give identical results."""

import multiprocessing

import pytest
import shapely

from novex_geo.config import ConflictPair
from novex_geo.executor import START_METHOD_ENV, parallel_map, start_method, worker_count
from novex_geo.overlay import overlay

from .helpers import claims_frame, regions_frame

REGIONS = regions_frame(
    {"West": shapely.box(0, 0, 10_000, 10_000), "Oost": shapely.box(10_000, 0, 20_000, 10_000)}
)


def _claims():
    homes = [
        shapely.box(x, y, x + 900, y + 700) for x in range(0, 20_000, 1_300) for y in range(0, 10_000, 1_700)
    ]
    water = [
        shapely.box(x + 400, y + 300, x + 1_400, y + 900)
        for x in range(0, 20_000, 2_600)
        for y in range(0, 10_000, 1_700)
    ]
    return {
        "woningbouw": claims_frame("woningbouw", homes),
        "water_bodem": claims_frame("water_bodem", water),
    }


def _square(shared, item):
    return shared * item * item


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_parallel_map_hands_the_shared_state_to_each_worker(monkeypatch, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    monkeypatch.setenv(START_METHOD_ENV, method)
    assert start_method() == method
    assert list(parallel_map(_square, range(10), shared=3, workers=2)) == [3 * i * i for i in range(10)]


def test_forced_spawn_gives_the_same_result_as_fork(monkeypatch):
    if "spawn" not in multiprocessing.get_all_start_methods():
        pytest.skip("no spawn start method on this platform")
    claims, pairs = _claims(), [ConflictPair("woningbouw", "water_bodem", 150)]
    results = {}
    for method in ("fork", "spawn"):
        monkeypatch.setenv(START_METHOD_ENV, method)
        results[method] = overlay(REGIONS, claims, pairs, tile_size=2_500, workers=2)
    fork, spawn = results["fork"], results["spawn"]
    assert len(fork.stapeling) > 50 and len(fork.schuurpunten) > 20
    for frame in ("stapeling", "schuurpunten"):
        left, right = getattr(fork, frame), getattr(spawn, frame)
        assert left.drop(columns="geometry").equals(right.drop(columns="geometry"))
        assert shapely.equals_exact(left.geometry.values, right.geometry.values, tolerance=0).all()
    assert fork.herkomst.equals(spawn.herkomst)
    assert fork.controle.equals(spawn.controle)


def test_worker_count():
    assert worker_count(3, 2) == 2
    assert worker_count(1, 100) == 1
    assert worker_count(0, 100) >= 1
