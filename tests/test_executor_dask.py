"""The overlay on a dask.distributed cluster: identical to the local executor, also when a worker dies."""

from __future__ import annotations

import os
import signal

import pytest
import shapely

distributed = pytest.importorskip(
    "distributed", reason="needs dask.distributed (pip install 'novex-geo[dask]')"
)

from novex_geo import load_project  # noqa: E402
from novex_geo.demo import write_demo_project  # noqa: E402
from novex_geo.executor import local_cluster  # noqa: E402
from novex_geo.overlay import engine  # noqa: E402
from novex_geo.pipeline import run_overlay  # noqa: E402


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
    from novex_geo.errors import NovexError

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
