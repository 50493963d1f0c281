"""Kaartsessie maps without a browser: escaping, basemaps, parcels left out, PNG snapshot."""

import numpy as np
import pytest
import shapely
from matplotlib.image import imread

from novex_geo import load_project
from novex_geo.maps.web import BASEMAPS
from novex_geo.pipeline import run_maps, run_overlay, run_triage

from .conftest import write_layer, write_project

HOSTILE = "<img src=x onerror=alert(1)> `whoami` ${alert(1)}"


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("maps")
    write_layer(folder / "regions.gpkg", [shapely.box(0, 0, 10_000, 10_000)], naam=["Fryslân"])
    parcels = [
        shapely.box(x, y, x + 100, y + 100) for x in range(0, 5_000, 100) for y in range(0, 5_000, 100)
    ]
    write_layer(folder / "percelen.gpkg", parcels, gewas=["grasland"] * len(parcels))
    write_layer(folder / "wonen.gpkg", [shapely.box(1_000, 1_000, 1_300, 1_200)], naam=[HOSTILE])
    path = write_project(
        folder,
        """
        [sectors.woningbouw]
        [[sectors.woningbouw.sources]]
        path = "wonen.gpkg"
        label_field = "naam"
        [sectors.landbouw]
        [[sectors.landbouw.sources]]
        path = "percelen.gpkg"
        label_field = "gewas"
        [[conflicts.pairs]]
        sectors = ["woningbouw", "landbouw"]
        [triage]
        min_area_ha = 1
        """,
        regions=folder / "regions.gpkg",
    )
    project = load_project(path)
    run_overlay(project)
    run_triage(project)
    return run_maps(project, out=folder / "kaarten", png=True)


def test_files_per_provincie_and_overview(maps):
    names = sorted(path.name for path in maps)
    assert names == ["kaart_fryslan.html", "kaart_fryslan.png", "kaart_overzicht.html", "kaart_overzicht.png"]


def test_hostile_labels_are_escaped_in_the_page(maps):
    page = next(p for p in maps if p.name == "kaart_fryslan.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page
    # escaped once by novex-geo (&lt;) and then JSON-encoded by folium (& as \u0026)
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page


def test_basemaps_grey_default_with_attribution(maps):
    page = next(p for p in maps if p.name == "kaart_fryslan.html").read_text(encoding="utf-8")
    assert next(iter(BASEMAPS)) == "PDOK BRT grijs"
    assert "achtergrondkaart/wmts/v2_0/grijs/EPSG:3857" in page and "Luchtfoto" in page
    assert "Kaartgegevens" in page and "Kadaster" in page
    for control in (
        "L.control.scale",
        "L.control.fullscreen",
        "L.Control.Measure",
        "L.Control.MiniMap",
        "L.Control.Draw",
        "L.control.groupedLayers",
    ):
        assert control in page, control


def test_parcels_not_in_a_stack_are_left_out_and_the_legend_says_so(maps):
    page = next(p for p in maps if p.name == "kaart_fryslan.html").read_text(encoding="utf-8")
    # 2,500 parcels; the housing location (300 x 200 m) stacks on 3 x 2 of them... plus touching neighbours
    assert "van 2.500 objecten getoond" in page
    assert page.count('"gewas"') == 0  # only label/feature data, not raw columns


def test_png_snapshot_is_not_blank(maps):
    png = next(p for p in maps if p.name == "kaart_fryslan.png")
    assert png.stat().st_size > 20_000
    pixels = imread(png)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 500
    assert np.std(pixels[..., :3]) > 0.05
