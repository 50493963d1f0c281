"""Kaartsessie maps without a browser: escaping, basemaps, every claim within the file-size
budget (on the real-data project too), PNG snapshot."""

import base64
import io
import json
import re
from dataclasses import dataclass
from functools import partial

import geopandas as gpd
import numpy as np
import pytest
import shapely
from matplotlib.image import imread
from PIL import Image

from novex_geo import load_project
from novex_geo.io.run import read_run
from novex_geo.maps.web import BASEMAPS, CLAIM_BUDGET, write_maps
from novex_geo.maps.web_claims import plan_claims
from novex_geo.maps.web_text import DRAW_TEXT
from novex_geo.pipeline import load_claims, run_maps, run_overlay, run_triage

from .conftest import housing_and_water_project, write_layer, write_project
from .support.real_project import write_real_project

RUN_LAYERS = ("provincies", "stapeling", "schuurpunten", "kansen")

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


def test_every_parcel_is_on_the_map_and_no_raw_column(maps):
    page = next(p for p in maps if p.name == "kaart_fryslan.html").read_text(encoding="utf-8")
    claims = page_claims(page)
    assert len(claims["landbouw"].features) == 2_500 and claims["landbouw"].raster is None
    assert "objecten getoond" not in page and "als beeld" not in page  # nothing left out, nothing to say
    assert page.count('"gewas"') == 0  # only label/feature data, not raw columns


def test_claims_over_the_budget_go_as_an_image_and_none_is_lost(maps, tmp_path):
    project = load_project(maps[0].parents[1] / "novex.toml")
    run = read_run(project.output_dir / "analyse.gpkg", required=RUN_LAYERS, optional=("spanningsgebieden",))
    layers = load_claims(project)
    budget = 150_000  # the 2,500 parcels need about 0.4 MB as vectors
    (path,) = write_maps(
        project, run, layers, tmp_path, ["Fryslân"], national=False, budget=budget, date="02-12-2026"
    )
    page = path.read_text(encoding="utf-8")
    claims = page_claims(page)
    parcels = claims["landbouw"]
    assert parcels.raster is not None and 0 < len(parcels.features) < 2_500
    assert len(parcels.features) + parcels.raster["count"] == 2_500
    assert claim_bytes(claims) <= budget
    area = run.provincies.geometry.iloc[0]
    assert_every_claim_shown(layers, area, claims, tolerance=4 * 5.0)
    # the parcels under the housing location (they stack) stay vectors, with their tooltips
    housing = layers["woningbouw"].frame.geometry.iloc[0]
    stacked = layers["landbouw"].frame[layers["landbouw"].frame.intersects(housing)]
    assert vector_cover(claims["landbouw"].features, stacked, 0.5).all()
    assert "Landbouw: alle 2.500 objecten getoond" in page and "als beeld" in page
    assert claims["woningbouw"].raster is None and len(claims["woningbouw"].features) == 1


def test_a_sector_over_its_share_is_drawn_coarser_before_any_image():
    circles = shapely.buffer(shapely.points(np.arange(50) * 2_000.0, np.zeros(50)), 500, quad_segs=64)
    frame = gpd.GeoDataFrame(
        {"label": [f"cirkel {i}" for i in range(50)]}, geometry=circles, crs="EPSG:28992"
    )
    nothing_stacks = shapely.STRtree(np.array([shapely.Point(-1e6, -1e6)]))
    plan = partial(plan_claims, {"natuur": frame}, {"natuur": "green"}, 1.0, nothing_stacks)
    fine = plan(budget=10**9)["natuur"]
    coarse = plan(budget=fine.size * 3 // 4)["natuur"]
    assert fine.tolerance == 1.0 and coarse.tolerance in (2.0, 4.0) and coarse.raster is None
    assert len(coarse.features) == 50 and coarse.size <= fine.size * 3 // 4
    squeezed = plan(budget=fine.size // 10)["natuur"]  # even 4 m is too much: part goes as an image
    assert squeezed.raster is not None and len(squeezed.features) + squeezed.raster.count == 50
    assert squeezed.size <= fine.size // 10


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
    from novex_geo.pipeline import load_claims

    project = load_project(next(iter(maps)).parents[1] / "novex.toml")
    layers = load_claims(project)
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


# --- what a page holds: parsed from its script, as a browser would get it -----------------


@dataclass
class PageClaims:
    features: list  # GeoJSON features (WGS84)
    raster: dict | None  # url, bounds, count, sector
    size: int  # characters of the page these claims take


def page_layers(page: str) -> list[tuple[dict, dict, int]]:
    """Every ``novexLayer(group, options, data)`` call: (options, FeatureCollection, size)."""
    decoder, found = json.JSONDecoder(), []
    for call in re.finditer(r"novexLayer\(\w+, ", page):
        options, end = decoder.raw_decode(page, call.end())
        assert page[end : end + 2] == ",\n"
        data, stop = decoder.raw_decode(page, end + 2)
        found.append((options, data, stop - end - 2))
    return found


def page_claims(page: str) -> dict[str, PageClaims]:
    """The claims of every sector in a page: its features and the raster of the rest."""
    claims = {
        options["sector"]: PageClaims(data["features"], None, size)
        for options, data, size in page_layers(page)
        if "sector" in options
    }
    decoder = json.JSONDecoder()
    for call in re.finditer(r"novexRaster\(\w+, \w+, ", page):
        options = decoder.raw_decode(page, call.end())[0]
        claims[options["sector"]].raster = options
        claims[options["sector"]].size += len(options["url"])
    return claims


def claim_bytes(claims: dict[str, PageClaims]) -> int:
    return sum(claim.size for claim in claims.values())


def vector_cover(features: list, frame: gpd.GeoDataFrame, reach: float) -> np.ndarray:
    """Which objects of ``frame`` (RD) have their representative point within ``reach`` m of
    a drawn feature."""
    if not features:
        return np.zeros(len(frame), dtype=bool)
    drawn = gpd.GeoSeries([shapely.geometry.shape(f["geometry"]) for f in features], crs="EPSG:4326")
    tree = shapely.STRtree(drawn.to_crs(frame.crs).values)
    points = frame.representative_point().values
    covered = np.zeros(len(frame), dtype=bool)
    covered[tree.query(points, predicate="dwithin", distance=reach)[0]] = True
    return covered


def raster_cover(raster: dict, frame: gpd.GeoDataFrame) -> np.ndarray:
    """Which objects of ``frame`` have a painted pixel at (or next to) their representative point."""
    image = Image.open(io.BytesIO(base64.b64decode(raster["url"].split(",", 1)[1]))).convert("RGBA")
    alpha = np.asarray(image)[..., 3]
    (south, west), (north, east) = raster["bounds"]
    corners = gpd.GeoSeries(shapely.points([west, east], [south, north]), crs="EPSG:4326").to_crs(3857)
    points = frame.representative_point().to_crs(3857)
    height, width = alpha.shape
    column = ((points.x - corners.x[0]) / (corners.x[1] - corners.x[0]) * width).astype(int).values
    row = ((corners.y[1] - points.y) / (corners.y[1] - corners.y[0]) * height).astype(int).values
    painted = np.zeros(len(frame), dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r, c = np.clip(row + dr, 0, height - 1), np.clip(column + dc, 0, width - 1)
            painted |= alpha[r, c] > 0
    return painted


def assert_every_claim_shown(layers, area, claims: dict[str, PageClaims], tolerance: float) -> None:
    """Every claim object in view is in the page: counted (vectors plus the raster's count) and
    seen (its representative point on a vector or on a painted pixel)."""
    for key, layer in layers.items():
        frame = layer.frame[layer.frame.intersects(area)]
        if frame.empty:
            assert key not in claims
            continue
        claim = claims[key]
        raster_count = claim.raster["count"] if claim.raster else 0
        assert len(claim.features) + raster_count == len(frame), key
        shown = vector_cover(claim.features, frame, 2 * tolerance + 1)
        if claim.raster:
            shown |= raster_cover(claim.raster, frame)
        assert shown.all(), (key, frame[~shown]["label"].tolist()[:5])


# --- the real-data project: Drenthe (5,659 NNN objects), Zeeland, Overijssel ----------------


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    folder = tmp_path_factory.mktemp("echte-lagen")
    project = load_project(write_real_project(folder))
    run_overlay(project)
    run_triage(project)
    run = read_run(project.output_dir / "analyse.gpkg", required=RUN_LAYERS, optional=("spanningsgebieden",))
    layers = load_claims(project)
    maps = run_maps(project, layers=layers)
    return project, run, layers, maps


@pytest.mark.slow
def test_real_maps_hold_every_claim_object_within_the_budget(real):
    _, run, layers, maps = real
    assert sorted(p.name for p in maps) == [
        "kaart_drenthe.html",
        "kaart_overijssel.html",
        "kaart_zeeland.html",
    ]
    for path in maps:
        page = path.read_text(encoding="utf-8")
        provincie = re.search(r"<title>.* — (\w+)</title>", page).group(1)
        area = run.provincies[run.provincies["provincie"] == provincie].geometry.iloc[0]
        claims = page_claims(page)
        assert_every_claim_shown(layers, area, claims, tolerance=5.0)
        assert claim_bytes(claims) <= CLAIM_BUDGET, path.name
        assert path.stat().st_size < 8_000_000, path.name
        assert "objecten getoond" not in page
    drenthe = page_claims(maps[0].read_text(encoding="utf-8"))
    assert len(drenthe["natuur"].features) == 5_659  # the NNN, Natura 2000 and corridors: all of them


@pytest.mark.slow
def test_real_map_over_a_small_budget_shows_every_claim_as_vectors_or_image(real, tmp_path):
    project, run, layers, _ = real
    budget = 700_000  # Drenthe's claims need about 1.8 MB as vectors
    (path,) = write_maps(
        project, run, layers, tmp_path, ["Drenthe"], national=False, budget=budget, date="02-12-2026"
    )
    page = path.read_text(encoding="utf-8")
    claims = page_claims(page)
    assert claims["natuur"].raster is not None and claims["natuur"].raster["count"] > 0
    assert claim_bytes(claims) <= budget
    area = run.provincies[run.provincies["provincie"] == "Drenthe"].geometry.iloc[0]
    assert_every_claim_shown(layers, area, claims, tolerance=4 * 5.0)
    assert "als beeld" in page


def test_draw_tool_texts_are_dutch(maps):
    page = next(p for p in maps if p.name == "kaart_fryslan.html").read_text(encoding="utf-8")
    config = json.loads(re.search(r"novexKaart\(\w+, (\{.*?\}),\n", page).group(1))
    draw = config["draw"]
    assert draw == DRAW_TEXT and draw["draw"]["toolbar"]["buttons"]["polygon"] == "Teken een vlak"
    assert draw["draw"]["handlers"]["polygon"]["tooltip"]["start"] == "Klik om een vlak te beginnen."


def test_a_provincie_map_shows_a_cross_border_spanningsgebied_whole(tmp_path):
    """The map of Utrecht shows the schuurpunten of Fryslân that lie in the spanningsgebied
    across their border (its other half), and no other schuurpunt of Fryslân."""
    project = housing_and_water_project(
        tmp_path,
        [shapely.box(9_500, 500, 10_500, 1_000), shapely.box(18_000, 8_000, 18_200, 8_200)],
        ["Grenspark", "Ver weg"],
        [shapely.box(9_000, 0, 11_000, 800), shapely.box(18_100, 8_000, 18_300, 8_200)],
        ["Boezem", "Plas"],
    )
    run_maps(project, provincies=["Utrecht"], out=tmp_path / "kaarten")
    page = (tmp_path / "kaarten" / "kaart_utrecht.html").read_text(encoding="utf-8")
    run = read_run(project.output_dir / "analyse.gpkg", required=("schuurpunten", "spanningsgebieden"))
    border = run.spanningsgebieden[run.spanningsgebieden["n_provincies"] == 2].geometry.iloc[0]
    other = run.schuurpunten[run.schuurpunten["provincie"] == "Fryslân"]
    assert len(other) == 2
    for zone_id, geom in zip(other["schuurpunt_id"], other.geometry, strict=True):
        assert (zone_id in page) == geom.intersects(border), zone_id
