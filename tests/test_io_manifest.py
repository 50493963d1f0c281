"""The run manifest: every run records its inputs (file, SHA-256, features, fetch details, licence
obligations, version, project hash) in table `manifest` and `manifest.json`; `diff` names the
inputs that changed between two runs."""

import dataclasses
import hashlib
import json
import os
import shutil

import geopandas as gpd
import shapely
from click.testing import CliRunner

from novex_geo import __version__, load_project
from novex_geo.cli.main import cli
from novex_geo.fetch import get_entry
from novex_geo.io.downloads import download_record
from novex_geo.io.manifest import COLUMNS, compare_manifests, read_manifest
from novex_geo.pipeline import run_overlay, run_triage

from .conftest import housing_and_water_project, write_layer, write_project
from .support.fetch_data import bounded, square_features
from .support.ogc_server import OGCServer


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def two_sector_project(folder):
    homes = [shapely.box(1_000, 1_000, 3_000, 3_000), shapely.box(11_000, 1_000, 12_000, 2_000)]
    water = [shapely.box(2_000, 2_000, 5_000, 5_000)]
    return housing_and_water_project(folder, homes, ["Wijk A", "Wijk B"], water, ["Polder"])


def test_every_run_writes_the_manifest_table_and_json(tmp_path):
    project = two_sector_project(tmp_path)
    gpkg = tmp_path / "uit" / "analyse.gpkg"
    table = read_manifest(gpkg)
    assert list(table.columns) == COLUMNS
    head = table[table["rol"] == "project"].iloc[0]
    assert head["bestand"] == str(project.path) and head["sha256"] == sha256(project.path)
    assert head["novex_geo_versie"] == __version__ and head["aangemaakt"].startswith("20")
    regio = table[table["rol"] == "regio"].iloc[0]
    assert regio["sha256"] == sha256(tmp_path / "regions.gpkg") and regio["n_features"] == 2
    sources = table[table["rol"] == "sector"].set_index("sector")
    assert sources.loc["woningbouw", "sha256"] == sha256(tmp_path / "wonen.gpkg")
    assert sources.loc["woningbouw", "n_features"] == 2 and sources.loc["water_bodem", "n_features"] == 1
    assert sources.loc["water_bodem", "opgehaald"] == "" and sources.loc["water_bodem", "licentie"] == ""
    document = json.loads((tmp_path / "uit" / "manifest.json").read_text(encoding="utf-8"))
    assert document["project"] == {"bestand": str(project.path), "sha256": sha256(project.path)}
    assert [row["sha256"] for row in document["invoer"]] == list(table["sha256"][1:])
    assert not list((tmp_path / "uit").glob(".*.tmp"))


def test_a_fetched_layer_brings_its_fetch_date_service_edition_licence_and_obligations(tmp_path, monkeypatch):
    cache = tmp_path / "cache.gpkg"
    share_alike = dataclasses.replace(get_entry("natura2000"), licence="CC BY-SA 4.0")
    monkeypatch.setattr("novex_geo.fetch.datasets.get_entry", lambda key: share_alike)
    with OGCServer({"natura2000": square_features(40, size=80)}) as server, bounded(30):
        args = ["fetch", "natura2000", "--out", str(cache), "--base-url", server.url]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (
        "licence obligations: share-alike: data derived from it may only be shared under the same"
        in result.output
    )
    record = download_record(cache, "natura2000")
    assert record["obligations"].startswith("share-alike")
    write_layer(
        tmp_path / "regions.gpkg", [shapely.box(110_000, 430_000, 150_000, 460_000)], naam=["Westmark"]
    )
    body = f"""
        [sectors.natuur]
        [[sectors.natuur.sources]]
        path = "{cache.as_posix()}"
        layer = "natura2000"
        """
    run_overlay(load_project(write_project(tmp_path, body, regions=tmp_path / "regions.gpkg")))
    row = read_manifest(tmp_path / "uit" / "analyse.gpkg").query("rol == 'sector'").iloc[0]
    assert row["licentie"].startswith("CC BY-SA 4.0 (catalogue entry 'natura2000'; not verified for")
    assert row["verplichtingen"] == record["obligations"] and row["bron_overschreven"] == "--base-url"
    assert (row["n_verwacht"], row["n_ontvangen"], row["bron_naam"]) == (40, 40, "natura2000")
    assert row["download_url"] == row["service_url"]  # a paged service: no file of its own
    assert (
        row["opgehaald"] == record["finished"]
        and row["service_url"] == f"{server.url}/collections/natura2000/items"
    )
    assert row["download_status"] == "klaar" and row["n_features"] == 40
    assert row["attributie"].startswith(
        "Natura 2000 © RVO / Ministerie van LVVN, via PDOK (niet geverifieerd"
    )
    assert row["sha256"] == sha256(cache)


def test_diff_names_the_inputs_that_changed(tmp_path):
    project = two_sector_project(tmp_path)
    old = tmp_path / "vorig-jaar.gpkg"
    shutil.copy(tmp_path / "uit" / "analyse.gpkg", old)
    water_before = sha256(tmp_path / "water.gpkg")[:12]
    more_water = [shapely.box(2_000, 2_000, 5_000, 5_000), shapely.box(6_000, 6_000, 7_000, 7_000)]
    write_layer(tmp_path / "water.gpkg", more_water, naam=["Polder", "Plas"])
    run_overlay(project)
    run_triage(project)
    new = tmp_path / "uit" / "analyse.gpkg"
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--out", str(tmp_path / "diff")])
    assert result.exit_code == 0, result.output
    changed = [line for line in result.output.splitlines() if line.startswith("invoer: ")]
    water_after = sha256(tmp_path / "water.gpkg")[:12]
    line = f"gewijzigd: water_bodem/water: inhoud {water_before} → {water_after}, features 1 → 2"
    assert changed == [f"invoer: {line}"]  # the regions, the housing and the project file did not change
    markdown = (tmp_path / "diff" / "wijzigingen.md").read_text(encoding="utf-8")
    assert f"## Invoer\n\n- {line}\n" in markdown


def test_unchanged_inputs_and_a_run_from_before_manifests(tmp_path):
    two_sector_project(tmp_path)
    gpkg = tmp_path / "uit" / "analyse.gpkg"
    assert compare_manifests(gpkg, gpkg) == ["invoer ongewijzigd (zelfde bestanden, inhoud en edities)"]
    old = tmp_path / "oud.gpkg"
    areas = gpd.read_file(gpkg, layer="spanningsgebieden")
    areas.to_file(old, layer="spanningsgebieden", engine="pyogrio")
    assert compare_manifests(old, gpkg) == [
        f"geen manifest in {old} (een run van vóór het manifest): niet te vergelijken"
    ]


def test_a_file_changed_with_its_size_and_time_kept_is_hashed_again(tmp_path):
    """A cheap check (size, modification time) cannot tell that a file is unchanged: the manifest
    records what the file holds now, and diff names it."""
    project = two_sector_project(tmp_path)
    old = tmp_path / "vorig.gpkg"
    shutil.copy(tmp_path / "uit" / "analyse.gpkg", old)
    water = tmp_path / "water.gpkg"
    before, stat = sha256(water), water.stat()
    write_layer(water, [shapely.box(2_000, 2_000, 5_000, 5_500)], naam=["Plas"])  # SQLite: same pages
    os.utime(water, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old modification time
    assert (water.stat().st_size, water.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    run_overlay(project)
    new = tmp_path / "uit" / "analyse.gpkg"
    recorded = read_manifest(new).query("bron == 'water'")["sha256"].iloc[0]
    assert recorded == sha256(water) != before
    assert compare_manifests(old, new) == [
        f"gewijzigd: water_bodem/water: inhoud {before[:12]} → {recorded[:12]}"
    ]
    stored = json.loads((tmp_path / "uit" / "manifest.json").read_text(encoding="utf-8"))
    assert next(row for row in stored["invoer"] if row["bron"] == "water")["sha256"] == recorded


def test_a_copied_project_folder_has_the_same_inputs(tmp_path):
    """Last year's folder copied to start this year's: every path differs, no content does."""
    (tmp_path / "2025").mkdir()
    last_year = two_sector_project(tmp_path / "2025")
    shutil.copytree(tmp_path / "2025", tmp_path / "2026")
    project = load_project(tmp_path / "2026" / last_year.path.name)
    run_overlay(project)
    old, new = (tmp_path / year / "uit" / "analyse.gpkg" for year in ("2025", "2026"))
    files = [set(read_manifest(run).query("rol == 'sector'")["bestand"]) for run in (old, new)]
    assert len(files[0]) == 2 and files[0].isdisjoint(files[1])
    assert compare_manifests(old, new) == ["invoer ongewijzigd (zelfde bestanden, inhoud en edities)"]
    write_layer(tmp_path / "2026" / "water.gpkg", [shapely.box(2_000, 2_000, 5_000, 6_000)], naam=["Polder"])
    run_overlay(project)
    (line,) = compare_manifests(old, new)
    assert line.startswith("gewijzigd: water_bodem/water: inhoud ") and "bestand" in line
