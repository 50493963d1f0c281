"""QGIS opens a run styled: default styles in the GeoPackage, a project file, checked in real QGIS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pyogrio
import pytest
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.config import SectorLabels
from novex_geo.io.qgis import STYLED_LAYERS, layer_style
from novex_geo.style import KANS_COLOUR, STAPELING_COLOURS

from .conftest import ROOT

QGIS_PYTHON = shutil.which("python3", path="/usr/bin") or "python3"  # Debian's, where python3-qgis lives


def _has_qgis() -> bool:
    probe = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-qgis")
    result = CliRunner().invoke(cli, ["demo", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder / "uitvoer"


@pytest.mark.slow
def test_every_layer_has_a_well_formed_default_style(demo):
    styles = pyogrio.read_dataframe(demo / "analyse.gpkg", layer="layer_styles", read_geometry=False)
    assert set(styles["f_table_name"]) == set(STYLED_LAYERS)
    assert styles["useAsDefault"].all()
    for layer in STYLED_LAYERS:
        root = ET.fromstring(layer_style(layer, SectorLabels({})).split("\n", 1)[1])
        assert root.find("renderer-v2") is not None
    stapeling = ET.fromstring(layer_style("stapeling", SectorLabels({})).split("\n", 1)[1])
    colours = [layer.find("Option/Option[@name='color']").get("value") for layer in stapeling.iter("layer")]
    assert len(colours) == len(STAPELING_COLOURS)


DEMO_LABELS = {"Woningbouw", "Water en bodem", "Energiehoofdstructuur", "Defensie", "Landbouw", "Natuur"}


def test_project_file_paths_stay_relative_through_linked_folders(tmp_path):
    """A project folder whose data folder is a link: the project file keeps the path as the user
    wrote it (./data/…), not the link's target (../../…), so the folder can move with its data."""
    from novex_geo.io.qgis import SourceLayer, write_project_file

    elsewhere = tmp_path / "schijf" / "gedeeld" / "lagen"
    elsewhere.mkdir(parents=True)
    (elsewhere / "wonen.gpkg").write_bytes(b"")
    project = tmp_path / "project"
    (project / "uitvoer").mkdir(parents=True)
    (project / "data").symlink_to(elsewhere, target_is_directory=True)
    source = SourceLayer(
        "woningbouw", "Woningbouw", "#e31a1c", project / "data" / "wonen.gpkg", None, None, "Polygon"
    )
    qgs = write_project_file(
        project / "uitvoer" / "analyse.gpkg", "t", "EPSG:28992", [], [source], SectorLabels({})
    )
    sources = [element.text for element in ET.parse(qgs).getroot().iter("datasource")]
    assert "../data/wonen.gpkg" in sources


@pytest.mark.slow
def test_project_file_uses_relative_paths_and_groups(demo):
    root = ET.parse(demo / "analyse.qgs").getroot()
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert groups == ["Analyse", "Sectoren", "Achtergrond"]
    sources = [element.text for element in root.iter("datasource")]
    assert "./analyse.gpkg|layername=stapeling" in sources and "./analyse.gpkg|layername=kansen" in sources
    assert not any(str(demo) in (source or "") for source in sources)  # the folder can be moved
    assert any("service.pdok.nl/brt/achtergrondkaart" in (source or "") for source in sources)
    # defensie bare and defensie+500m read one file: two layers, two ids
    ids = [element.text for element in root.iter("id")]
    assert len(ids) == len(set(ids)) and sum(i.startswith("sector_defensie_") for i in ids) == 2


@pytest.mark.slow  # the demo run (and real QGIS): out of the quick default run, in CI
def test_real_qgis_opens_styled_layers_and_renders_the_project(demo, tmp_path):
    if not _has_qgis():
        if os.environ.get("CI"):
            pytest.fail("CI must test with real QGIS: apt-get install python3-qgis")
        pytest.skip("needs QGIS' Python bindings (Debian: apt-get install python3-qgis)")
    png = tmp_path / "qgis.png"
    script = ROOT / "tests" / "support" / "qgis_check.py"
    output = subprocess.run(
        [QGIS_PYTHON, str(script), str(demo / "analyse.gpkg"), str(demo / "analyse.qgs"), str(png)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert output.returncode == 0, output.stderr[-2000:]
    report = json.loads(output.stdout.strip().splitlines()[-1])
    layers = report["layers"]
    assert (
        layers["stapeling"]["renderer"] == "graduatedSymbol"
        and layers["stapeling"]["attribute"] == "n_sectoren"
    )
    assert layers["stapeling"]["colours"] == list(STAPELING_COLOURS.values())
    assert (
        layers["schuurpunten"]["style"] == "b_diagonal"
        and layers["schuurpunten"]["outline_color"] == "#b10026"
    )
    assert layers["kansen"]["style"] == "f_diagonal" and layers["kansen"]["outline_color"] == KANS_COLOUR
    for name in ("schuurpunten", "kansen"):  # labels on the map name sectors by label, not by key
        sample = layers[name]["label_sample"]
        assert layers[name]["label_error"] == "" and " × " in sample and "_" not in sample, sample
        assert all(part in DEMO_LABELS for part in sample.split(" × ")), sample
    assert layers["spanningsgebieden"]["style"] == "no" and layers["spanningsgebieden"]["labels"]
    for name, layer in layers.items():
        assert layer["valid"] and layer["features"] > 0, name
        assert layer["missing_fields"] == [] and layer.get("label_fields_missing", []) == [], name
    project = report["project"]
    assert project["read"] and project["crs"] == "EPSG:28992"
    assert project["groups"] == ["Analyse", "Sectoren", "Achtergrond"]
    assert project["layers"]["Achtergrond"] == ["PDOK BRT-Achtergrondkaart grijs"]
    assert {"Woningbouw: woningbouw", "Landbouw: landbouw"} <= set(project["layers"]["Sectoren"])
    assert all(layer["valid"] for layer in project["styled"].values())
    styled = project["styled"]  # a buffered source is drawn as the zone the analysis takes
    assert styled["Defensie: defensie"]["symbol_layer"] == "SimpleFill"
    assert styled["Defensie: defensie+500m"]["geometry_expression"] == "buffer($geometry, 500)"
    assert styled["Energiehoofdstructuur: hoogspanning+50m"]["geometry_expression"] == "buffer($geometry, 50)"
    assert report["render"]["distinct_colours"] > 50 and 0.2 < report["render"]["non_white_share"] < 0.99
    assert png.stat().st_size > 50_000


def test_a_project_without_kansen_has_no_empty_kansen_layer_in_qgis(tmp_path):
    import shapely

    from novex_geo import load_project
    from novex_geo.pipeline import run_overlay

    from .conftest import sectors_toml, write_layer, write_project

    write_layer(tmp_path / "wonen.gpkg", [shapely.box(1_000, 1_000, 3_000, 3_000)], naam=["Wijk"])
    write_layer(tmp_path / "water.gpkg", [shapely.box(2_000, 2_000, 4_000, 4_000)], naam=["Plas"])
    body = sectors_toml(wonen="wonen.gpkg", water="water.gpkg")
    body += '[[conflicts.pairs]]\nsectors = ["wonen", "water"]\n'
    run = run_overlay(load_project(write_project(tmp_path, body)))
    info = pyogrio.read_info(run.gpkg, layer="kansen")
    assert info["features"] == 0 and info["geometry_type"] == "MultiPolygon"  # not "Unknown"
    sources = [
        element.text or ""
        for element in ET.parse(run.gpkg.with_name("analyse.qgs")).getroot().iter("datasource")
    ]
    assert not any("layername=kansen" in source for source in sources)
    styled = pyogrio.read_dataframe(run.gpkg, layer="layer_styles", read_geometry=False)["f_table_name"]
    assert "kansen" not in set(styled)
