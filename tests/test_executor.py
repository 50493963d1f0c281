"""The engine's executor: the same tasks on forked or spawned workers give identical results, and
a run stopped during the compute ends cleanly."""

import contextlib
import itertools
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import shapely

from novex_geo.config import ConflictPair
from novex_geo.errors import ClusterError
from novex_geo.executor import START_METHOD_ENV, parallel_map, start_method, worker_count
from novex_geo.overlay import overlay, tasks

from .support.helpers import claims_frame, regions_frame

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


def _killed_at_five(shared, item):
    if item == 5:  # as the system's out-of-memory killer would
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return item


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_killed_worker_ends_the_run_with_an_error_not_a_wait_for_ever(monkeypatch, method):
    monkeypatch.setenv(START_METHOD_ENV, method)
    started = time.monotonic()
    with pytest.raises(ClusterError, match="a worker process ended before its task did"):
        list(parallel_map(_killed_at_five, range(40), None, workers=2))
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_parallel_map_hands_the_shared_state_to_each_worker(monkeypatch, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    monkeypatch.setenv(START_METHOD_ENV, method)
    assert start_method() == method
    assert list(parallel_map(_square, range(10), shared=3, workers=2)) == [3 * i * i for i in range(10)]


@pytest.mark.parametrize("crowded", [False, True])
def test_forced_spawn_gives_the_same_result_as_fork(monkeypatch, crowded):
    if "spawn" not in multiprocessing.get_all_start_methods():
        pytest.skip("no spawn start method on this platform")
    if crowded:  # every tile split: quarters for the faces, the whole tile for zones at a distance
        monkeypatch.setattr(tasks, "CROWDED_TILE_FEATURES", 0)
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


def _live_processes(group: int) -> list[str]:
    """The processes of process group ``group`` that still run (not zombies awaiting their reaper)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                live.append(stat.parent.name)
    return live


TERM, INT = signal.SIGTERM, signal.SIGINT


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "signals", "code", "said"),
    [
        ("fork", [TERM], 143, "Error: stopped (SIGTERM)"),  # kill PID, a service manager
        ("spawn", [TERM], 143, "Error: stopped (SIGTERM)"),
        ("fork", [INT], 1, "Aborted!"),  # Ctrl-C in a terminal: the whole process group
        ("fork", [None, INT, TERM], 143, "Error: stopped (SIGTERM)"),  # in the background: no Ctrl-C
    ],
)
def test_a_run_stopped_during_compute_ends_cleanly(tmp_path, method, signals, code, said):
    """One line, no traceback from any worker, no process left, the earlier output unchanged; a run
    started in the background (Ctrl-C ignored) goes on after a Ctrl-C, its workers too."""
    from novex_geo.demo import write_demo_project

    if method not in multiprocessing.get_all_start_methods() or not Path("/proc/self/stat").exists():
        pytest.skip(f"needs the {method} start method and /proc")
    project = write_demo_project(tmp_path).project
    text = re.sub(r"(?m)^tile_size = .*$", "tile_size = 250", project.read_text(encoding="utf-8"))
    project.write_text(text, encoding="utf-8")  # many small tiles: a compute of some seconds
    earlier = tmp_path / "uitvoer" / "analyse.gpkg"
    earlier.parent.mkdir()
    earlier.write_bytes(b"the run of last year")
    run = subprocess.Popen(
        [sys.executable, "-m", "novex_geo.cli.main", "run", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, START_METHOD_ENV: method},
        preexec_fn=lambda: signal.signal(INT, signal.SIG_IGN if signals[0] is None else signal.SIG_DFL),
    )
    log = [line for line in itertools.takewhile(lambda line: not line.startswith("loaded"), run.stderr)]
    time.sleep(2)  # the tiles are being computed
    assert run.poll() is None, "".join(log)
    for signum in signals[1:] if signals[0] is None else signals:
        (os.kill if signum == TERM else os.killpg)(run.pid, signum)
        if signals[0] is None and signum == INT:
            time.sleep(1)
            assert run.poll() is None  # ignored: the run goes on
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stderr
    assert said in stderr.strip().splitlines()[-1], stderr
    for word in ("Traceback", "Error", "Interrupt"):
        assert stderr.count(word) == (1 if word in said else 0), stderr
    deadline = time.monotonic() + 10
    while _live_processes(run.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _live_processes(run.pid)
    assert earlier.read_bytes() == b"the run of last year"
    assert sorted(path.name for path in earlier.parent.iterdir()) == ["analyse.gpkg"]
