"""A corpus of bad and hostile inputs: each ends in one clear message and a non-zero exit (or a
counted, reported repair), never a traceback, and loses no data silently."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import subprocess
import textwrap

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.config import Source
from novex_geo.io.layers import read_source

from .conftest import sectors_toml, write_layer, write_project
from .support.helpers import in_rd

SECTOR = """
[sectors.woningbouw]
[[sectors.woningbouw.sources]]
path = "{path}"
{extra}
"""


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert "unexpected" not in result.output, result.output  # the catch-all handler: a bug
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def project_with_source(tmp_path, name: str, extra: str = ""):
    return write_project(tmp_path, SECTOR.format(path=name, extra=extra))


def good_layer(tmp_path, name="wonen.gpkg", **columns):
    columns = columns or {"naam": ["Wijk A", "Wijk B"]}
    return write_layer(
        tmp_path / name, in_rd([shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)]), **columns
    )


def broken_sources(tmp_path):
    """(file name, how to make it, expected message fragment)."""
    folder = tmp_path
    (folder / "leeg.gpkg").write_bytes(b"")
    (folder / "ruis.gpkg").write_bytes(bytes(range(256)) * 40)
    with sqlite3.connect(folder / "sqlite.gpkg") as db:
        db.execute("create table t (a integer)")
    (folder / "map.gpkg").mkdir()
    return [
        ("leeg.gpkg", "empty"),
        ("ruis.gpkg", "cannot open"),
        ("sqlite.gpkg", "cannot open"),
        ("map.gpkg", "folder"),
    ]


@pytest.mark.parametrize("command", ["check", "run"])
def test_unreadable_geopackages(tmp_path, command):
    for name, fragment in broken_sources(tmp_path):
        project = project_with_source(tmp_path, name)
        result = invoke(command, project)
        assert result.exit_code != 0, (name, result.output)
        assert name in result.output and fragment in result.output.lower(), (name, result.output)


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ("naam = 'x' AND AND", "not valid"),
        ("naam = 'unterminated", "not valid"),
        (
            "bestaat_niet = 1",
            "field 'bestaat_niet': the where filter 'bestaat_niet = 1' uses an unknown field",
        ),
        ("naam = 'O''Brien' OR naam = 'Wijk A'", None),  # a quoted quote is fine
    ],
)
def test_where_filters(tmp_path, where, fragment):
    good_layer(tmp_path)
    project = project_with_source(tmp_path, "wonen.gpkg", f'where = "{where}"')
    result = invoke("run", project)
    if fragment is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code != 0
    assert "wonen.gpkg" in result.output and fragment in result.output, result.output
    assert result.output.count("Error:") == 1


def test_output_folder_is_a_file(tmp_path):
    good_layer(tmp_path)
    (tmp_path / "uit").write_text("not a folder")
    result = invoke("run", project_with_source(tmp_path, "wonen.gpkg"))
    assert result.exit_code != 0
    assert "uit" in result.output and "is a file" in result.output


def project_with_regions(tmp_path, boxes, names):
    """A one-sector project whose regions file holds ``boxes`` named ``names``."""
    good_layer(tmp_path)
    write_layer(tmp_path / "regions.gpkg", boxes, naam=names)
    return write_project(
        tmp_path, SECTOR.format(path="wonen.gpkg", extra=""), regions=tmp_path / "regions.gpkg"
    )


def test_null_region_name(tmp_path):
    boxes = [shapely.box(0, 0, 10_000, 10_000), shapely.box(10_000, 0, 20_000, 10_000)]
    project = project_with_regions(tmp_path, boxes, ["West", None])
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code != 0
        assert "regions.gpkg" in result.output and "naam" in result.output and "empty" in result.output


def test_wgs84_coordinates_labelled_rd(tmp_path):
    write_layer(tmp_path / "wonen.gpkg", [shapely.box(5.1, 52.0, 5.2, 52.1)], naam=["a"], crs="EPSG:28992")
    project = project_with_source(tmp_path, "wonen.gpkg")
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code != 0, result.output
        assert "wonen.gpkg" in result.output and "EPSG:28992" in result.output
        assert "outside the area where this CRS is valid" in result.output


def test_rd_coordinates_labelled_wgs84(tmp_path):
    write_layer(
        tmp_path / "wonen.gpkg",
        [shapely.box(150_000, 450_000, 151_000, 451_000)],
        naam=["a"],
        crs="EPSG:4326",
    )
    project = project_with_source(tmp_path, "wonen.gpkg")
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code != 0, result.output
        assert "wonen.gpkg" in result.output and "EPSG:4326" in result.output


def test_overlapping_regions_are_refused(tmp_path):
    boxes = [shapely.box(0, 0, 10_000, 10_000), shapely.box(9_000, 0, 20_000, 10_000)]
    project = project_with_regions(tmp_path, boxes, ["West", "Oost"])
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code != 0
        assert "West / Oost 1,000.0 ha" in result.output and "overlap by more than slivers" in result.output


def test_sliver_overlaps_between_regions_go_to_one_region_and_are_reported_in_one_line(tmp_path):
    # the eastern boundary drawn 2 m into the west: a 2 m × 10 km sliver of 2 ha (0.02 % of a region)
    boxes = [shapely.box(0, 0, 10_000, 10_000), shapely.box(9_998, 0, 20_000, 10_000)]
    project = project_with_regions(tmp_path, boxes, ["West", "Oost"])
    result = invoke("check", project)
    assert result.exit_code == 0, result.output
    assert "1 overlap between regions (2.0 ha in total; largest: West / Oost 2.0 ha): each given to one" in (
        result.output
    )
    from novex_geo import load_project
    from novex_geo.io.regions import load_regions

    regions = load_regions(load_project(project).regions)
    assert regions.area.sum() == pytest.approx(200_000_000)  # no spot in two regions
    area = regions.set_index("provincie").area
    assert (area["Oost"], area["West"]) == (pytest.approx(100_020_000), pytest.approx(99_980_000))  # by name


def test_gemeenten_that_overlap_only_name_places_and_never_stop_triage(tmp_path):
    """Gemeenten as published for statistics: each simplified on its own, so neighbours overlap
    by slivers and more (a real file overlapped 888 times); triage names areas with them anyway."""
    from .support.real_project import REAL_DATA

    real = gpd.read_file(REAL_DATA / "cbs_gemeenten_2022.gpkg")
    drawn_apart = real.assign(geometry=real.buffer(40).simplify(60))  # overlaps of up to ~30 ha
    drawn_apart.to_file(tmp_path / "gemeenten.gpkg", engine="pyogrio")
    provinces = gpd.read_file(REAL_DATA / "kadaster_provinciegebied.gpkg")
    drenthe = provinces[provinces["naam"] == "Drenthe"]
    boxes = [drenthe.geometry.iloc[0]]
    project = project_with_regions(tmp_path, boxes, ["Drenthe"])
    text = project.read_text(encoding="utf-8")
    project.write_text(
        text + f'\n[triage]\n[triage.gemeenten]\npath = "{(tmp_path / "gemeenten.gpkg").as_posix()}"\n'
        'name_field = "statnaam"\n',
        encoding="utf-8",
    )
    check = invoke("check", project)
    assert check.exit_code == 0, check.output
    line = next(line for line in check.output.splitlines() if "overlaps between regions" in line)
    assert len(line) < 400 and "gemeenten.gpkg" in line
    from novex_geo import load_project
    from novex_geo.io.regions import NAMING, load_regions

    gemeenten = np.asarray(load_regions(load_project(project).triage.gemeenten, kind=NAMING).geometry.values)
    left, right = shapely.STRtree(gemeenten).query(gemeenten, predicate="intersects")
    shared = shapely.area(shapely.intersection(gemeenten[left[left < right]], gemeenten[right[left < right]]))
    assert shared.max() < 1.0  # m²: no spot named by two gemeenten any more


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (
            b"id,naam,criterium_4,reden_4,criterium_5,reden_5,urgentie,eigenaar\n"
            b"SG-1,a,,,,,,\nSG-1 ,b,,,,,,\n",
            "more than once",
        ),
        (b"id,naam\nSG-1,a\n", "lack column"),
        (
            b"id,naam,criterium_4,reden_4,criterium_5,reden_5,urgentie,eigenaar\nSG-1,a,misschien,,,,,\n",
            "must be ja",
        ),
        (b"\xff\xfe\x00", "UTF-8"),
    ],
)
def test_bad_annotation_files(tmp_path, content, fragment):
    from .conftest import housing_and_water_project

    project = housing_and_water_project(
        tmp_path, [shapely.box(0, 0, 1_000, 1_000)], ["Wijk"], [shapely.box(500, 0, 1_500, 1_000)], ["Water"]
    )
    project.triage.annotations.write_bytes(content)
    result = invoke("triage", project.path)
    assert result.exit_code != 0
    assert "annotaties.csv" in result.output and fragment in result.output, result.output
    assert project.triage.annotations.read_bytes() == content  # what the user typed is untouched


def test_annotations_keep_what_users_typed(tmp_path):
    from novex_geo.pipeline import run_triage

    from .conftest import housing_and_water_project

    project = housing_and_water_project(
        tmp_path,
        [shapely.box(0, 0, 1_000, 1_000), shapely.box(5_000, 0, 6_000, 1_000)],
        ["Wijk", "Dorp"],
        [shapely.box(500, 0, 1_500, 1_000), shapely.box(5_500, 0, 6_500, 1_000)],
        ["Water", "Plas"],
    )
    path = project.triage.annotations
    lines = path.read_text(encoding="utf-8").splitlines()
    first_id = lines[1].split(",")[0]
    # a Dutch Excel file: ';', an extra column, a trailing space in the id, a formula
    header = "id;naam;criterium_4;reden_4;criterium_5;reden_5;urgentie;eigenaar;mijn notitie"
    typed = f'{first_id} ;Eigen naam;ja;  past niet in regulier  ;;;=HYPERLINK("http://x");Team A;bellen!'
    path.write_text(header + "\n" + typed + "\n", encoding="utf-8")
    run = run_triage(project)
    text = path.read_text(encoding="utf-8").splitlines()
    assert text[0] == header and text[1] == typed  # kept byte for byte
    assert len(text) == 3 and text[2].count(";") == 8  # the other area appended in the same dialect
    row = run.areas.set_index("id").loc[first_id]
    assert row["c4_regulier"] == "ja" and row["urgentie"] == '=HYPERLINK("http://x")'
    csv = (run.csv).read_text(encoding="utf-8")
    assert "'=HYPERLINK" in csv and ",=HYPERLINK" not in csv  # neutralised in the CSV the tool writes
    assert (
        pyogrio.read_dataframe(run.gpkg, layer="spanningsgebieden", read_geometry=False)["urgentie"]
        .str.startswith("=HYPERLINK")
        .any()
    )  # the GeoPackage keeps the value as typed


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
@pytest.mark.parametrize("key", ["buffer", "tile_size", "distance", "weight", "min_area_m2"])
def test_non_finite_numbers(tmp_path, key, value):
    good_layer(tmp_path)
    body = {
        "buffer": SECTOR.format(path="wonen.gpkg", extra=f"buffer = {value}"),
        "tile_size": SECTOR.format(path="wonen.gpkg", extra=""),
        "distance": SECTOR.format(path="wonen.gpkg", extra="")
        + SECTOR.replace("woningbouw", "defensie").format(path="wonen.gpkg", extra="")
        + f'[[conflicts.pairs]]\nsectors = ["woningbouw", "defensie"]\ndistance = {value}\n',
        "weight": SECTOR.format(path="wonen.gpkg", extra="")
        + SECTOR.replace("woningbouw", "defensie").format(path="wonen.gpkg", extra="")
        + f'[[conflicts.pairs]]\nsectors = ["woningbouw", "defensie"]\nweight = {value}\n',
        "min_area_m2": SECTOR.format(path="wonen.gpkg", extra="") + f"[conflicts]\nmin_area_m2 = {value}\n",
    }[key]
    project = write_project(tmp_path, body)
    if key == "tile_size":
        project.write_text(
            project.read_text(encoding="utf-8").replace(
                'output = "uit"', f'output = "uit"\ntile_size = {value}'
            ),
            encoding="utf-8",
        )
    result = invoke("run", project)
    assert result.exit_code != 0
    assert key in result.output and "finite" in result.output, result.output


def test_a_second_run_on_the_same_folder_stops(tmp_path):
    from novex_geo.io.files import output_lock

    good_layer(tmp_path)
    project = project_with_source(tmp_path, "wonen.gpkg")
    assert invoke("run", project).exit_code == 0
    before = (tmp_path / "uit" / "analyse.gpkg").read_bytes()
    import multiprocessing

    holder_ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.get_context("fork").Process(
        target=_hold_lock, args=(tmp_path / "uit", holder_ready, release)
    )
    holder.start()
    try:
        assert holder_ready.wait(10)
        result = invoke("run", project)
        assert result.exit_code != 0 and "another novex-geo command is writing" in result.output
        assert (tmp_path / "uit" / "analyse.gpkg").read_bytes() == before
    finally:
        release.set()
        holder.join(10)
    with output_lock(tmp_path / "uit"):
        pass  # released when the holder ended


def _hold_lock(folder, ready, release):
    from novex_geo.io.files import output_lock

    with output_lock(folder):
        ready.set()
        release.wait(10)


def test_inf_coordinates_in_a_claim_layer_are_counted_and_dropped(tmp_path):
    """A regression of the second round ("output array is read-only")."""
    wrong = shapely.Polygon([(0, 0), (np.inf, 0), (0, 10)])
    write_layer(tmp_path / "wonen.gpkg", [shapely.box(0, 0, 100, 100), wrong], naam=["a", "b"])
    project = project_with_source(tmp_path, "wonen.gpkg")
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code == 0, result.output
        assert "1 feature dropped: coordinates that are not finite numbers (inf, NaN)" in result.output
        assert "empty geometry" not in result.output  # counted once, for what it is
    from novex_geo import load_project
    from novex_geo.io.layers import read_source

    frame, report = read_source(
        load_project(project).sectors["woningbouw"].sources[0], "woningbouw", "EPSG:28992"
    )
    assert (report.n_read, report.n_dropped_coordinates, report.n_dropped_empty, len(frame)) == (2, 1, 0, 1)


@pytest.mark.parametrize(
    ("crs", "box", "hint"),
    [
        ("EPSG:4326", shapely.box(52.0, 5.1, 52.1, 5.2), "x must be the longitude"),  # Utrecht as lat/lon
        ("EPSG:28992", shapely.box(455_000, 150_000, 456_000, 151_000), "exchanged"),  # RD as y, x
    ],
)
def test_swapped_axes_are_refused_by_check_and_run(tmp_path, crs, box, hint):
    """Swapped, the layer lies off Somalia (or in Poland): it would meet no provincie, area 0."""
    write_layer(tmp_path / "wonen.gpkg", [box], naam=["a"], crs=crs)
    project = project_with_source(tmp_path, "wonen.gpkg")
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code != 0, result.output
        assert "wonen.gpkg: the coordinates have x and y swapped" in result.output, result.output
        assert hint in result.output and "Swap X and Y coordinates" in result.output


@contextlib.contextmanager
def small_disk(folder, options: str):
    """``folder`` as a tmpfs of its own (``options``: its size, ``ro``): a real full or read-only
    disk. Mounting needs root; elsewhere the test skips."""
    folder.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("mounting a small tmpfs (a real full or read-only disk) needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder) -> None:
    """Write a file into ``folder`` until its disk is full."""
    with open(folder / "vol.bin", "wb", buffering=0) as handle:
        for size in (2**20, 2**12, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(bytes(size))


@pytest.mark.slow  # and mounts a tmpfs: root, as in CI
def test_a_read_only_output_folder_is_one_clear_error(tmp_path):
    good_layer(tmp_path)
    project = project_with_source(tmp_path, "wonen.gpkg")
    with small_disk(tmp_path / "uit", "ro,size=1m"):
        for command in ("run", "triage"):
            result = invoke(command, project)
            assert result.exit_code == 1, result.output
            assert (
                f"{tmp_path / 'uit'}: cannot write into this folder (Read-only file system)" in result.output
            )


@pytest.mark.slow  # and mounts a tmpfs: root, as in CI
def test_a_full_disk_is_one_clear_error_and_the_previous_output_stays(tmp_path):
    from .conftest import housing_and_water_project

    with small_disk(tmp_path / "uit", "size=24m") as folder:
        homes, water = [shapely.box(0, 0, 1_000, 1_000)], [shapely.box(500, 0, 1_500, 1_000)]
        project = housing_and_water_project(tmp_path, homes, ["Wijk"], water, ["Water"]).path
        assert invoke("map", project).exit_code == 0
        before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
        fill(folder)
        for command, target in (("run", "analyse.gpkg"), ("triage", "analyse.gpkg"), ("map", "kaart_")):
            result = invoke(command, project)
            assert result.exit_code == 1, (command, result.output)
            assert "the disk is full (" in result.output and target in result.output, (command, result.output)
            assert result.output.count("Error:") == 1
        (folder / "vol.bin").unlink()
        assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == before


def curve_polygon_wkb(x: float, y: float, r: float) -> bytes:
    """A CurvePolygon (WKB type 10): a circle of radius ``r`` as one CircularString ring."""
    import struct

    points = [(x - r, y), (x + r, y), (x - r, y)]
    ring = struct.pack("<BII", 1, 8, len(points)) + b"".join(struct.pack("<dd", *p) for p in points)
    return struct.pack("<BII", 1, 10, 1) + ring


def test_curved_geometries_are_linearised_and_counted(tmp_path):
    from pyogrio.raw import write

    wkb = np.array([curve_polygon_wkb(500, 500, 100), shapely.box(2_000, 0, 2_100, 100).wkb], dtype=object)
    names = [np.array(["Rond", "Vierkant"], dtype=object)]
    write(
        tmp_path / "bogen.gpkg",
        wkb,
        field_data=names,
        fields=["naam"],
        geometry_type="Unknown",
        crs="EPSG:28992",
        driver="GPKG",
    )
    project = project_with_source(tmp_path, "bogen.gpkg", 'label_field = "naam"')
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code == 0, result.output
        assert (
            "1 curved geometry linearised: arcs as 32 straight segments per quarter circle" in result.output
        )
    faces = gpd.read_file(tmp_path / "uit" / "analyse.gpkg", layer="stapeling").area
    assert sorted(faces) == [10_000, pytest.approx(np.pi * 100**2, rel=5e-4)]  # as buffers are made


@pytest.mark.parametrize(
    ("cpg", "said"),
    [
        ("ISO-8859-1", "text read as ISO-8859-1 (its .cpg)"),
        ("1252", "text read as CP1252 (its .cpg)"),
        (None, "no .cpg says how its text is encoded: read as CP1252 (detected: not UTF-8)"),
        ("UTF-8", "its .cpg says 'UTF-8', but the text is not UTF-8: read as CP1252 (detected)"),
        ("onzin", "its .cpg says 'onzin', but that is not an encoding: read as CP1252 (detected)"),
    ],
)
def test_a_latin1_shapefile_is_read_as_its_cpg_says_or_as_detected(tmp_path, cpg, said):
    frame = gpd.GeoDataFrame(
        {"naam": ["Fryslân", "Súdwest-Fryslân"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)],
        crs="EPSG:28992",
    )
    pyogrio.write_dataframe(frame, tmp_path / "wonen.shp", encoding="ISO-8859-1")
    assert b"Frysl\xe2n" in (tmp_path / "wonen.dbf").read_bytes()
    (tmp_path / "wonen.cpg").unlink()
    if cpg is not None:
        (tmp_path / "wonen.cpg").write_text(cpg, encoding="ascii")
    project = project_with_source(tmp_path, "wonen.shp", 'label_field = "naam"')
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code == 0, result.output
        assert said in result.output
    from novex_geo import load_project
    from novex_geo.io.layers import read_source

    claims, _ = read_source(
        load_project(project).sectors["woningbouw"].sources[0], "woningbouw", "EPSG:28992"
    )
    assert list(claims["label"]) == ["Fryslân", "Súdwest-Fryslân"]


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ('[triage.novex_gebieden]\npath = "bestaat_niet.gpkg"', "bestaat_niet.gpkg: file not found"),
        (
            '[triage.novex_gebieden]\npath = "gebieden.gpkg"\nname_field = "titel"',
            "gebieden.gpkg, layer 'gebieden', field 'titel': field not in layer; fields: naam",
        ),
        (
            '[triage.novex_gebieden]\npath = "gebieden.gpkg"\nlayer = "andere"',
            "gebieden.gpkg, layer 'andere': layer not found; layers in this file: gebieden",
        ),
        ('[triage.gemeenten]\npath = "gebieden.gpkg"', "field 'statnaam': field not in layer"),
        ('[[triage.priority]]\npath = "gebieden.gpkg"\nlabel_field = "titel"', "field 'titel'"),
        ('[[triage.priority]]\npath = "gebieden.gpkg"\nwhere = "prio = 1"', "field 'prio'"),
    ],
)
def test_check_and_run_refuse_a_missing_triage_layer_or_field(tmp_path, table, fragment):
    good_layer(tmp_path)
    write_layer(
        tmp_path / "gebieden.gpkg", [shapely.box(0, 0, 5_000, 5_000)], layer="gebieden", naam=["Gebied"]
    )
    project = write_project(
        tmp_path, SECTOR.format(path="wonen.gpkg", extra="") + "[triage]\n" + table + "\n"
    )
    key = table.strip("[]").split("]")[0].strip("[]")
    check = invoke("check", project)
    assert check.exit_code == 1 and fragment in check.output, check.output
    assert f"- {key}" in check.output
    run = invoke("run", project)
    lines = run.output.strip().splitlines()
    assert run.exit_code == 1 and lines == [lines[0]] and lines[0].startswith(f"Error: {key}"), run.output
    assert fragment in lines[0]
    assert not (tmp_path / "uit" / "analyse.gpkg").exists()  # stopped before the overlay


def test_control_characters_in_names_never_reach_the_terminal_or_triage_md(tmp_path):
    """A window title set (OSC 0), the screen cleared (CSI 2J), text reversed (U+202E)."""
    title, clear = "\x1b]0;gehackt\x07", "\x1b[2J\x1b[H"
    regions = [shapely.box(0, 0, 10_000, 10_000), shapely.box(10_000, 0, 20_000, 10_000)]
    write_layer(tmp_path / "regions.gpkg", regions, naam=[f"West{title}", f"Oost{clear}\u202e"])
    write_layer(tmp_path / "wonen.gpkg", [shapely.box(0, 0, 2_000, 2_000)], naam=[f"Wijk{clear}"])
    write_layer(tmp_path / "water.gpkg", [shapely.box(1_000, 0, 3_000, 2_000)], naam=["Polder\x9b"])
    write_layer(tmp_path / "gebieden.gpkg", [shapely.box(0, 0, 5_000, 5_000)], naam=[f"Gebied{title}"])
    body = sectors_toml(woningbouw="wonen.gpkg", water_bodem="water.gpkg") + textwrap.dedent(
        """
        [[conflicts.pairs]]
        sectors = ["woningbouw", "water_bodem"]
        [triage]
        min_area_ha = 1
        [triage.novex_gebieden]
        path = "gebieden.gpkg"
        """
    )
    project = write_project(tmp_path, body, regions=tmp_path / "regions.gpkg")
    outputs = [invoke(*command, project) for command in (["check"], ["run"], ["triage"], ["map"])]
    assert [result.exit_code for result in outputs] == [0, 0, 0, 0], [r.output for r in outputs]
    for result in outputs:
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", result.output), repr(result.output)
    assert "West\ufffd]0;gehackt\ufffd" in outputs[0].output  # visible that something was taken out
    assert "2 names with control characters (e.g. 'West\\x1b]0;gehackt\\x07'): taken out" in outputs[1].output
    assert "field 'naam': 1 name with control characters" in outputs[1].output  # the labels
    report = (tmp_path / "uit" / "triage.md").read_text(encoding="utf-8")
    assert "Gebied" in report and not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", report)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("wonen.csv", b'naam,wkt\n"Frysl\xe2n","POLYGON((0 0,100 0,100 100,0 100,0 0))"\n'),
        (
            "wonen.geojson",
            b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            b'{"naam": "Frysl\xe2n"}, "geometry": {"type": "Polygon", "coordinates": '
            b"[[[0, 0], [100, 0], [100, 100], [0, 0]]]}}]}",
        ),
    ],
)
def test_text_that_is_not_utf8_is_refused_where_it_is_read(tmp_path, name, content):
    """Arrow takes the bytes as they come and fails later wherever the text is used ("unexpected
    ArrowException: Wrapping Frysl�n failed"); GeoJSON is UTF-8 by definition."""
    (tmp_path / name).write_bytes(content)
    project = project_with_source(tmp_path, name, 'label_field = "naam"\ncrs = "EPSG:28992"')
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code == 1, result.output
        assert f"{name}, layer 'wonen': cannot read (its text is not UTF-8 (" in result.output, result.output


def test_a_damaged_geotiff_is_one_clear_error(tmp_path):
    """Its header reads, its cells do not (a copy that broke off, a bad sector)."""
    import rasterio
    from rasterio.transform import from_origin

    cells = np.random.default_rng(1).random((512, 512)).astype("float32")
    profile = {
        "driver": "GTiff",
        "width": 512,
        "height": 512,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:28992",
        "transform": from_origin(0, 10_000, 20, 20),
        "tiled": True,
        "compress": "deflate",
    }
    with rasterio.open(tmp_path / "bodemdaling.tif", "w", **profile) as raster:
        raster.write(cells, 1)
    data = bytearray((tmp_path / "bodemdaling.tif").read_bytes())
    for at in range(len(data) // 5, len(data) * 4 // 5, 997):  # the tiles, not the header
        data[at] ^= 0x5A
    (tmp_path / "bodemdaling.tif").write_bytes(bytes(data))
    project = project_with_source(
        tmp_path, "bodemdaling.tif", '[sectors.woningbouw.sources.raster]\nwhere = ">= 0.5"'
    )
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code == 1, result.output
        assert "bodemdaling.tif: cannot read band 1 (" in result.output, result.output


def test_a_geometry_that_cannot_be_decoded_is_counted_and_dropped(tmp_path):
    """A damaged GeoPackage blob: shapely's "ParseException" ended as 'unexpected GEOSException'."""
    boxes = [shapely.box(1_000, 1_000, 2_000, 2_000), shapely.box(3_000, 1_000, 4_000, 2_000)]
    write_layer(tmp_path / "wonen.gpkg", boxes, naam=["a", "b"])
    data = bytearray((tmp_path / "wonen.gpkg").read_bytes())
    at = data.find(boxes[0].wkb[:21])
    assert at > 0
    data[at + 5 : at + 9] = b"\xff\xff\xff\x7f"  # the first feature: 2 billion rings
    (tmp_path / "wonen.gpkg").write_bytes(bytes(data))
    project = project_with_source(tmp_path, "wonen.gpkg")
    for command in ("check", "run"):
        result = invoke(command, project)
        assert result.exit_code == 0, result.output
        assert "1 feature dropped: a geometry that cannot be decoded (a damaged file?)" in result.output
        assert "empty geometry" not in result.output  # counted once, for what it is


def test_a_vertex_typed_wrong_is_said(tmp_path):
    """One x of 1,490,000 instead of 149,000: a wedge of claims far beyond the Netherlands."""
    good = shapely.box(146_000, 452_000, 149_000, 455_000)
    wedge = shapely.Polygon(
        [(146_000, 452_000), (1_490_000, 452_000), (149_000, 455_000), (146_000, 455_000)]
    )
    write_layer(tmp_path / "terrein.gpkg", [good, wedge], naam=["goed", "typfout"])
    _, report = read_source(Source(tmp_path / "terrein.gpkg", label_field="naam"), "defensie", "EPSG:28992")
    said = "1 features lie or reach outside the area where EPSG:28992 is valid: check their coordinates"
    assert said in report.warnings
    write_layer(tmp_path / "goed.gpkg", [good], naam=["goed"])
    assert not read_source(Source(tmp_path / "goed.gpkg"), "defensie", "EPSG:28992")[1].warnings


def test_a_ring_that_is_not_closed_is_closed_and_counted(tmp_path):
    """GeoJSON written by hand: shapely's "Points of LinearRing do not form a closed linestring"
    ended as 'unexpected GEOSException'."""
    ring = [[5.0, 52.0], [5.02, 52.0], [5.02, 52.02], [5.0, 52.02]]  # the first point not repeated
    feature = {
        "type": "Feature",
        "properties": {"naam": "open"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    path = tmp_path / "open.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    frame, report = read_source(Source(path, label_field="naam"), "woningbouw", "EPSG:28992")
    assert len(frame) == 1 and frame.geometry.iloc[0].is_valid
    closed = shapely.Polygon([*ring, ring[0]])
    expected = gpd.GeoSeries([closed], crs="EPSG:4326").to_crs("EPSG:28992").area.iloc[0]
    assert frame.area.iloc[0] == pytest.approx(expected, rel=1e-9)
    assert "1 feature with a ring that was not closed: closed" in report.warnings


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (MemoryError(), "out of memory: analyse fewer provinces at a time (--provincie)"),
        (ConnectionResetError(104, "Connection reset by peer"), "the system refused: [Errno 104] Connection"),
    ],
)
def test_the_machine_failing_is_not_called_a_bug(tmp_path, monkeypatch, error, said):
    """Out of memory, a connection dropped where no step said so itself: one line, not 'unexpected'."""
    import novex_geo.cli.overlay

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(novex_geo.cli.overlay, "run_overlay", failing)
    good_layer(tmp_path)
    result = invoke("run", project_with_source(tmp_path, "wonen.gpkg"))
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith(f"Error: {said}"), result.output


def test_a_run_geopackage_damaged_after_the_run_is_one_clear_error(tmp_path):
    """A layer that is listed but no longer reads (a tool renamed its geometry column)."""
    good_layer(tmp_path)
    regions = write_layer(
        tmp_path / "regio.gpkg", in_rd([shapely.box(-1_000, -1_000, 1_000, 1_000)]), naam=["West"]
    )
    project = write_project(tmp_path, SECTOR.format(path="wonen.gpkg", extra=""), regions=regions)
    assert invoke("run", project).exit_code == 0
    with sqlite3.connect(tmp_path / "uit" / "analyse.gpkg") as db:
        db.execute("ALTER TABLE stapeling RENAME COLUMN geom TO vorm")
    result = invoke("triage", project)
    assert result.exit_code == 1, result.output
    assert "analyse.gpkg, layer stapeling: cannot be read (" in result.output, result.output
