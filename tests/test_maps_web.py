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
HOUSING = """
    [sectors.woningbouw]
    [[sectors.woningbouw.sources]]
    path = "wonen.gpkg"
    label_field = "naam"
    """


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
        HOUSING
        + """
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


def test_file_names_are_unique_safe_and_stable():
    from novex_geo.maps.files import OVERVIEW, file_names

    names = ["Fryslân", "Fryslan", "Overzicht", "🌊🌊", "🌲", "Noord/Zuid", "../../etc", "CON"]
    stems = file_names(names)
    assert len(set(stems.values())) == len(names) and OVERVIEW not in stems.values()
    assert all(
        stem and all(c.isascii() and (c.isalnum() or c == "_") for c in stem) for stem in stems.values()
    )
    assert stems["Fryslan"] == "fryslan" and stems["Fryslân"].startswith("fryslan_")
    assert stems["Overzicht"].startswith("overzicht_") and stems["Noord/Zuid"] == "noord_zuid"
    assert file_names(reversed(names)) == stems  # the same names always get the same files


def test_regions_whose_names_collide_each_get_a_map(tmp_path):
    names = ["Fryslân", "Fryslan", "Overzicht", "🌊🌊", "Noord/Zuid"]
    boxes = [shapely.box(10_000 * i, 0, 10_000 * (i + 1), 10_000) for i in range(len(names))]
    write_layer(tmp_path / "regions.gpkg", boxes, naam=names)
    write_layer(
        tmp_path / "wonen.gpkg",
        [shapely.box(1_000 + 10_000 * i, 1_000, 2_000 + 10_000 * i, 2_000) for i in range(len(names))],
        naam=names,
    )
    path = write_project(tmp_path, HOUSING, regions=tmp_path / "regions.gpkg")
    project = load_project(path)
    run_overlay(project)
    written = run_maps(project, out=tmp_path / "kaarten")
    assert len(written) == len(names) + 1 == len({p.name for p in written})
    assert {p.parent for p in written} == {tmp_path / "kaarten"}
    titles = sorted(p.read_text(encoding="utf-8").split("<title>")[1].split("</title>")[0] for p in written)
    assert titles == sorted(f"test — {name}" for name in [*names, "alle provincies"])


def test_cdn_maps_are_small_and_inline_maps_carry_their_libraries(maps, tmp_path):
    inline = next(p for p in maps if p.name == "kaart_fryslan.html")
    project = load_project(inline.parents[1] / "novex.toml")
    (cdn,) = run_maps(project, ["Fryslân"], tmp_path, assets="cdn")
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in cdn.read_text(
        "utf-8"
    )
    assert "<script src=" not in inline.read_text(encoding="utf-8")
    assert inline.stat().st_size - cdn.stat().st_size > 300_000


def test_png_legend_and_credits_stand_outside_the_map(maps):
    from novex_geo.maps.static import Credits, conflict_map_figure
    from novex_geo.pipeline import _sectors

    project = load_project(next(iter(maps)).parents[1] / "novex.toml")
    layers = _sectors(project)
    regions = run_overlay(project, write=False).result.regions
    figure, drawing = conflict_map_figure(
        project,
        {k: v.frame for k, v in layers.items()},
        regions,
        "titel",
        credits=Credits.of(project, layers),
    )
    figure.draw_without_rendering()
    frame, legend = (ax.get_window_extent() for ax in figure.axes[:2])
    (credits,) = [text for text in figure.texts if text.get_gid() == "credits"]
    box = credits.get_window_extent()
    assert legend.x0 >= frame.x1 and box.y1 <= frame.y0 and box.x1 <= figure.bbox.x1
    assert [h.get_label() for h in drawing.handles] == ["Woningbouw", "Landbouw", "provinciegrens"]
    assert (
        credits.get_text().replace("\n", " ")
        == "Bronnen: percelen.gpkg; wonen.gpkg; provinciegrenzen: regions.gpkg"
    )
