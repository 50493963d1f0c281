"""The whole chain on real public Dutch layers: check → run → triage → signal → map → poster →
sketch → QGIS, on the real-data project (``tests/support/real_project.py``: Drenthe, Zeeland and
Overijssel, seven sectors) with gemeenten as statistics publishes them — each simplified on
its own, so that neighbours overlap — which only name places and must never stop anything."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli

from .support.real_project import REAL_DATA, SECTORS, write_real_project

pytestmark = pytest.mark.slow


def invoke(*args):
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    folder = tmp_path_factory.mktemp("echte-lagen")
    project = write_real_project(folder)
    gemeenten = gpd.read_file(REAL_DATA / "cbs_gemeenten_2022.gpkg")
    drawn_apart = gemeenten.assign(geometry=gemeenten.buffer(40).simplify(60))
    drawn_apart.to_file(folder / "gemeenten.gpkg", engine="pyogrio")
    text = project.read_text(encoding="utf-8")
    project.write_text(
        text.replace(
            str((REAL_DATA / "cbs_gemeenten_2022.gpkg").as_posix()), (folder / "gemeenten.gpkg").as_posix()
        ),
        encoding="utf-8",
    )
    outputs = {"check": invoke("check", project)}
    for command in (["run"], ["triage"], ["signal", "--top", "3"], ["map", "--png", "--pdf", "a3"]):
        outputs[command[0]] = invoke(command[0], project, *command[1:])
    sketch = folder / "schets.geojson"
    natura = gpd.read_file(REAL_DATA / "natura2000_drenthe.gpkg")
    heart = natura[natura["naamN2K"] == "Drentsche Aa-gebied"].geometry.iloc[0].point_on_surface()
    gpd.GeoDataFrame(
        {"sector": ["woningbouw"], "naam": ["Nieuwe wijk Drentsche Aa"]},
        geometry=[heart.buffer(400)],
        crs="EPSG:28992",
    ).to_crs("EPSG:4326").to_file(sketch, driver="GeoJSON", engine="pyogrio")
    outputs["sketch"] = invoke("sketch", project, sketch)
    return folder, project, outputs


def test_check_reports_overlapping_gemeenten_in_one_line_and_says_ok(chain):
    _, _, outputs = chain
    text = outputs["check"].output
    assert "OK: the project can be analysed." in text
    overlap = [line for line in text.splitlines() if "overlaps between regions" in line]
    assert len(overlap) == 1 and len(overlap[0]) < 400 and "gemeenten.gpkg" in overlap[0]


def test_triage_names_areas_by_place_and_object_never_by_id_or_number(chain):
    folder, _, _ = chain
    areas = gpd.read_file(folder / "uitvoer" / "analyse.gpkg", layer="spanningsgebieden")
    assert {"Drenthe", "Zeeland"} <= set(areas["provincies"])  # two provinces at the table
    for provincie, names in areas.groupby("provincies")["naam"]:
        assert names.is_unique, (provincie, names[names.duplicated()].tolist())
    nnn = gpd.read_file(REAL_DATA / "nnn_drenthe_realisatie_verbeteren_zuid.gpkg")
    raw_values = {str(v) for column in ("OBJECTID", "PRIORITEIT", "gml_id") for v in nnn[column]}
    raw_values |= {f"{float(v):g}" for v in nnn["OBJECTID"]}
    for name in areas["naam"]:
        place, *objects = re.sub(r" \([^()]*\)$", "", name).split(", ")
        assert re.search(r"[^\W\d_]{3,}", place), name
        for part in objects:  # the named object: a word, never an id, a year or a bare number
            assert re.search(r"[^\W\d_]{3,}", part) and part not in raw_values, name
            assert not re.fullmatch(r"[\d\s.,:/-]+", part), name
    assert "Drentsche Aa-gebied" in " ".join(areas["naam"]) or "Drenthe" in set(areas["provincies"])
    keys = [key for key in SECTORS if "_" in key]
    assert not any(key in botsing for botsing in areas["botsing"] for key in keys)


def test_reports_show_sector_labels_not_keys(chain):
    folder, _, _ = chain
    report = (folder / "uitvoer" / "triage.md").read_text(encoding="utf-8")
    sketch = (folder / "schets_beoordeling.md").read_text(encoding="utf-8")
    for key in ("agrarisch_natuur", "water_bodem"):
        assert key not in report and key not in sketch, key
    assert "Agrarisch natuurbeheer (weide- en akkervogelgebieden)" in report
    assert "1 geschetst vlak (Woningbouw)" in sketch


def test_every_product_is_written(chain):
    folder, _, outputs = chain
    out = folder / "uitvoer"
    assert len(list((out / "signalen").glob("*.pdf"))) == 3
    for provincie in ("drenthe", "zeeland"):
        for name in (f"kaart_{provincie}.html", f"kaart_{provincie}.png", f"poster_{provincie}_A3.pdf"):
            assert (out / "kaarten" / name).stat().st_size > 10_000, name
    assert (folder / "schets_beoordeling.png").stat().st_size > 10_000
    assert "1 LineString" not in outputs["run"].output  # the ecological corridors are MultiLineStrings


def test_qgis_project_is_relative_and_lists_what_the_run_holds(chain):
    folder, _, _ = chain
    root = ET.parse(folder / "uitvoer" / "analyse.qgs").getroot()
    sources = [element.text or "" for element in root.iter("datasource")]
    assert "./analyse.gpkg|layername=spanningsgebieden" in sources
    assert not any(str(folder) in source for source in sources)
    manifest = json.loads((folder / "uitvoer" / "manifest.json").read_text(encoding="utf-8"))
    assert {row["sector"] for row in manifest["invoer"] if row["rol"] == "sector"} == set(SECTORS)
    faces = gpd.read_file(folder / "uitvoer" / "analyse.gpkg", layer="stapeling")
    assert shapely.area(faces.geometry.values).sum() > 0
