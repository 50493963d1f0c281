"""The overlay on a dask.distributed cluster: identical to the local executor, also when a worker dies."""

from __future__ import annotations

import logging
import os
import re
import signal
import time

import pytest
import shapely

distributed = pytest.importorskip(
    "distributed", reason="needs dask.distributed (pip install 'novex-geo[dask]')"
)

from novex_geo import load_project  # noqa: E402
from novex_geo.cluster import WORKER_WAIT_ENV, local_cluster  # noqa: E402
from novex_geo.demo import write_demo_project  # noqa: E402
from novex_geo.errors import NovexError  # noqa: E402
from novex_geo.overlay import engine  # noqa: E402
from novex_geo.pipeline import run_overlay  # noqa: E402

pytestmark = pytest.mark.slow  # local dask clusters: out of the quick default run, in CI


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return load_project(write_demo_project(tmp_path_factory.mktemp("demo-dask")).project)


@pytest.fixture(scope="module")
def local(project):
    return run_overlay(project, write=False).result


@pytest.fixture
def cluster():
    with local_cluster(2) as c:
        yield c


def assert_identical(left, right):
    for name in ("stapeling", "schuurpunten"):
        a, b = getattr(left, name), getattr(right, name)
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all(), name
    assert left.herkomst.equals(right.herkomst)
    assert left.controle.equals(right.controle)


def test_overlay_on_a_local_cluster_is_identical(project, local, cluster):
    distributed_run = run_overlay(project, write=False, scheduler=cluster.scheduler_address).result
    assert len(local.stapeling) > 100 and len(local.schuurpunten) > 20
    assert_identical(local, distributed_run)


def test_crowded_tiles_on_a_local_cluster_are_identical(project, cluster, monkeypatch):
    from novex_geo.overlay import tasks

    monkeypatch.setattr(tasks, "CROWDED_TILE_FEATURES", 0)  # every tile split
    split = run_overlay(project, write=False).result
    assert split.n_tasks > 2 * len(split.regions)
    assert_identical(split, run_overlay(project, write=False, scheduler=cluster.scheduler_address).result)


def test_a_worker_that_dies_mid_run_changes_nothing(project, local, cluster, monkeypatch):
    killed = []
    real_add = engine._Collector.add

    def add_and_kill_a_worker(self, result):
        real_add(self, result)
        if sum(self.done.values()) == 3 and not killed:
            with distributed.Client(cluster.scheduler_address) as client:
                address, pid = sorted(client.run(os.getpid).items())[0]
            os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker; dask reschedules its tasks
            killed.append(address)

    monkeypatch.setattr(engine._Collector, "add", add_and_kill_a_worker)
    distributed_run = run_overlay(project, write=False, scheduler=cluster.scheduler_address).result
    assert killed
    assert_identical(local, distributed_run)


def test_an_unreachable_scheduler_is_one_clear_error(project):
    with pytest.raises(NovexError, match=r"cannot reach the dask scheduler at tcp://127\.0\.0\.1:9"):
        run_overlay(project, write=False, scheduler="tcp://127.0.0.1:9")


def test_grid_windows_on_a_local_cluster_are_identical(project, cluster, tmp_path):
    from novex_geo.pipeline import run_grid

    local = run_grid(project, 50, out=tmp_path / "lokaal")
    remote = run_grid(project, 50, out=tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert local.summary.equals(remote.summary)
    import rasterio

    with rasterio.open(local.count_path) as a, rasterio.open(remote.count_path) as b:
        assert (a.read(1) == b.read(1)).all()


def invoke_run(project, *options):
    from click.testing import CliRunner

    from novex_geo.cli.main import cli

    result = CliRunner().invoke(cli, ["run", str(project.path), *options])
    assert "Traceback" not in result.output and "unexpected" not in result.output, result.output
    return result


@pytest.fixture
def web_server():
    """An HTTP server: what a wrong port often reaches (dask would read its answer as a frame length)."""
    import http.server
    import threading

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("tcp://", "'tcp://' is not a dask scheduler address (missing port number"),
        ("tcp://10.0.0.5:poort", "'tcp://10.0.0.5:poort' is not a dask scheduler address"),
        ("http://10.0.0.5:8786", "'http://10.0.0.5:8786' is not a dask scheduler address"),
        ("10.0.0.5", "'10.0.0.5' is not a dask scheduler address (missing port number"),
        ("web", "is not a dask scheduler: what answers there does not speak dask (a web server?)"),
        ("tcp://127.0.0.1:9", "cannot reach the dask scheduler at tcp://127.0.0.1:9"),
    ],
)
def test_a_wrong_scheduler_address_stops_before_any_layer_is_loaded(
    project, web_server, address, said, caplog
):
    started = time.monotonic()
    result = invoke_run(project, "--scheduler", web_server if address == "web" else address)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and said in lines[0], result.output  # no "loaded …"
    assert time.monotonic() - started < 15
    caplog.set_level(logging.INFO)
    with pytest.raises(NovexError, match=re.escape(said.split(" (")[0])):  # the library says the same
        run_overlay(project, write=False, scheduler=web_server if address == "web" else address)
    assert not any(record.getMessage().startswith("loaded") for record in caplog.records)  # before loading


def test_a_scheduler_without_workers_is_one_clear_error_after_a_bounded_wait(project, monkeypatch):
    monkeypatch.setenv(WORKER_WAIT_ENV, "1.5")
    with local_cluster(0) as empty:
        started = time.monotonic()
        result = invoke_run(project, "--scheduler", empty.scheduler_address)
        said = f"the dask scheduler at {empty.scheduler_address} has no workers: none joined within 1.5 s"
        assert result.exit_code == 1 and said in result.output and "loaded" not in result.output, (
            result.output
        )
        assert time.monotonic() - started < 15
        monkeypatch.setenv(WORKER_WAIT_ENV, "altijd")
        result = invoke_run(project, "--scheduler", empty.scheduler_address)
        assert result.exit_code == 1 and f"{WORKER_WAIT_ENV}='altijd': give the seconds" in result.output


def test_the_log_names_the_workers_there_are(project, cluster, caplog):
    with caplog.at_level(logging.INFO, logger="novex_geo"):
        run_overlay(project, write=False, scheduler=cluster.scheduler_address)
    line = next(record.getMessage() for record in caplog.records if record.getMessage().startswith("dask:"))
    assert " on 2 workers (" in line, line


class Pause(float):
    """Shared state that a batch takes a part of (as the overlay's catalogue): seconds per item."""

    def part(self, batch):
        return self


def _slow(shared, item):
    time.sleep(shared)
    return item


@pytest.mark.parametrize(
    ("shared", "said"),
    [
        (Pause(0.3), r"has no workers: none joined within 1 s"),  # parts travel with their tasks
        # scattered to every worker once; under load the poll may find the workers gone first
        (0.3, r"the dask cluster failed mid-run \(FutureCancelledError: |has no workers: none joined"),
    ],
)
def test_workers_that_all_leave_mid_run_end_in_one_clear_error(monkeypatch, shared, said):
    from novex_geo import cluster

    monkeypatch.setattr(cluster, "RESULT_POLL_S", 0.2)  # a result this slow: are there still workers?
    monkeypatch.setenv(WORKER_WAIT_ENV, "1")
    with local_cluster(1) as small:
        results = cluster.dask_map(_slow, range(40), shared, small.scheduler_address)
        assert next(results) == 0
        small.scale(0)
        with pytest.raises(NovexError, match=said):
            list(results)
