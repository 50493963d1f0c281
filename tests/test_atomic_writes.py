"""A run killed at any moment while writing leaves the previous complete output or the new one."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from .conftest import sectors_toml, write_layer, write_project
from .support.helpers import in_rd

LAYERS = {"stapeling", "schuurpunten", "provincies", "herkomst", "samenvatting", "controle", "invoer"}


def _project(tmp_path):
    rng = np.random.default_rng(3)
    corners = rng.uniform(0, 19_000, (1_500, 2))
    homes = [shapely.box(x, y, x + 300, y + 200) for x, y in corners]
    water = [shapely.box(x + 100, y - 50, x + 500, y + 150) for x, y in corners[::2]]
    write_layer(tmp_path / "wonen.gpkg", in_rd(homes), naam=[f"w{i}" for i in range(len(homes))])
    write_layer(tmp_path / "water.gpkg", in_rd(water), naam=[f"p{i}" for i in range(len(water))])
    regions = write_layer(
        tmp_path / "regions.gpkg",
        in_rd([shapely.box(0, 0, 10_000, 20_000), shapely.box(10_000, 0, 20_000, 20_000)]),
        naam=["West", "Oost"],
    )
    return write_project(
        tmp_path,
        sectors_toml(woningbouw="wonen.gpkg", water_bodem="water.gpkg")
        + """
        [[conflicts.pairs]]
        sectors = ["woningbouw", "water_bodem"]
        """,
        regions=regions,
    )


def _writing(folder) -> bool:
    return any(".tmp" in p.name for p in folder.iterdir())


def _complete(gpkg) -> bool:
    try:
        layers = set(pyogrio.list_layers(gpkg)[:, 0])
        return (
            layers >= LAYERS and len(pyogrio.read_dataframe(gpkg, layer="stapeling", read_geometry=False)) > 0
        )
    except Exception:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_kill_while_writing_keeps_a_complete_output(tmp_path):
    project = _project(tmp_path)
    command = [sys.executable, "-m", "novex_geo.cli.main", "run", str(project)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=120)
    gpkg = tmp_path / "uit" / "analyse.gpkg"
    reference = pyogrio.read_dataframe(gpkg, layer="stapeling", read_geometry=False)["vlak_id"].tolist()
    rng = np.random.default_rng(11)
    interrupted_writes = 0
    for delay in rng.uniform(0.0, 0.05, 10):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline and not _writing(gpkg.parent):
            time.sleep(0.002)
        time.sleep(delay)  # somewhere inside the write
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        interrupted_writes += _writing(gpkg.parent)
        assert _complete(gpkg), f"broken output after a kill {delay:.3f} s into writing"
        stapeling = pyogrio.read_dataframe(gpkg, layer="stapeling", read_geometry=False)
        assert stapeling["vlak_id"].tolist() == reference
    assert interrupted_writes >= 1  # some kills did land while the GeoPackage was being written
    # the next run is not blocked by the killed ones and leaves no temporary files behind
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=120)
    assert not [p.name for p in gpkg.parent.iterdir() if ".tmp" in p.name]


_RECORD_WRITER = """
import sys
from novex_geo.io.downloads import save_download_record
path, n = sys.argv[1], int(sys.argv[2])
for page in range(1, n + 1):
    record = {"layer": "nnn", "status": "bezig", "n_pages": page, "cursor": str(page)}
    if page > n // 2:  # a column the table does not have yet
        record["n_matched"] = 10_832
    save_download_record(path, record)
    save_download_record(path, {"layer": "provincies", "status": "klaar", "n_pages": page})
"""


def test_a_fetch_record_is_read_whole_while_it_is_saved_page_after_page(tmp_path):
    """GDAL rewrote the whole table on every save: a reader in between found no table (the
    kill-and-resume test against MapServer met it), or no GeoPackage at all."""
    from novex_geo.io.downloads import download_record, save_download_record

    path = tmp_path / "fetch.gpkg"
    save_download_record(path, {"layer": "nnn", "status": "bezig", "n_pages": 0, "cursor": ""})
    writer = subprocess.Popen([sys.executable, "-c", _RECORD_WRITER, str(path), "150"])
    pages_seen = []
    try:
        while writer.poll() is None:
            record = download_record(path, "nnn")
            assert record is not None
            pages_seen.append(record["n_pages"])
    finally:
        writer.wait(60)
    assert writer.returncode == 0
    assert len(pages_seen) > 20 and pages_seen == sorted(pages_seen)
    final = download_record(path, "nnn")
    assert (final["n_pages"], final["cursor"], final["n_matched"]) == (150, "150", 10_832)
    assert download_record(path, "provincies")["n_pages"] == 150


def test_a_fetch_record_is_read_after_a_save_whose_pages_already_reached_the_file(tmp_path):
    """A save larger than SQLite's page cache writes pages into the file before it commits; GDAL,
    opening the file then, failed ('attempt to write a readonly database', met once in CI) and
    the record looked absent. The reader waits for the save and reads the committed row."""
    import sqlite3
    import threading

    from novex_geo.io.downloads import DOWNLOADS_TABLE, download_record, save_download_record

    path = tmp_path / "fetch.gpkg"
    save_download_record(path, {"layer": "nnn", "status": "bezig", "n_pages": 7, "cursor": "7"})
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA cache_size = 1")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(f"DROP TABLE {DOWNLOADS_TABLE}")
    writer.execute("CREATE TABLE filler (x BLOB)")
    writer.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(4_000),) for _ in range(300)])
    assert path.stat().st_size > 1_000_000  # the uncommitted pages are in the file
    finish = threading.Timer(0.3, lambda: writer.execute("ROLLBACK"))
    finish.start()
    try:
        started = time.monotonic()
        record = download_record(path, "nnn")
        waited = time.monotonic() - started
    finally:
        finish.join()
        writer.close()
    assert (record["n_pages"], record["cursor"]) == (7, "7")
    assert 0.2 < waited < 10


def test_fetch_records_keep_their_types_and_what_a_row_lacks(tmp_path):
    """Read back with SQLite: counts stay integers, a value a row lacks stays missing (a
    missing yes/no is no 'yes'), and a folder name with URI characters is no query string."""
    from novex_geo.io.downloads import download_record, download_records, save_download_record

    path = tmp_path / "map #1?mode=ro" / "fetch.gpkg"
    path.parent.mkdir()
    save_download_record(path, {"layer": "natura2000", "status": "klaar", "n_pages": 3, "key": "n2k"})
    save_download_record(
        path, {"layer": "nnn", "status": "bezig", "n_pages": 1, "n_matched": 10_832, "x": True}
    )
    records = download_records(path)
    assert records["layer"].tolist() == ["natura2000", "nnn"]
    assert str(records["n_pages"].dtype) == "Int64" and str(records["n_matched"].dtype) == "Int64"
    first, second = download_record(path, "natura2000"), download_record(path, "nnn")
    assert (first["n_pages"], first["key"], first["x"]) == (3, "n2k", None)
    assert pd.isna(first["n_matched"])
    assert (second["n_matched"], second["x"]) == (10_832, True) and pd.isna(second["key"])
    assert download_record(path, "elders") is None
    assert download_records(tmp_path / "absent.gpkg").empty
    (tmp_path / "tekst.gpkg").write_text("geen GeoPackage")
    assert download_records(tmp_path / "tekst.gpkg").empty
