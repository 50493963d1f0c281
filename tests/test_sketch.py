"""Sketch evaluation: known-answer conflicts of a sketched housing location."""

import json

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo import load_project
from novex_geo.cli.main import cli
from novex_geo.pipeline import run_sketch

from .conftest import sectors_toml, write_layer, write_project


@pytest.fixture
def project(tmp_path):
    write_layer(tmp_path / "water.gpkg", [shapely.box(1_100, 1_000, 1_300, 1_100)], naam=["Boezem"])
    write_layer(tmp_path / "defensie.gpkg", [shapely.box(1_500, 1_000, 1_700, 1_100)], naam=["Schietbaan"])
    write_layer(tmp_path / "wonen.gpkg", [shapely.box(8_000, 8_000, 8_100, 8_100)], naam=["Bestaand plan"])
    path = write_project(
        tmp_path,
        sectors_toml(woningbouw="wonen.gpkg", water_bodem="water.gpkg", defensie="defensie.gpkg")
        + """
        [[conflicts.pairs]]
        sectors = ["woningbouw", "water_bodem"]
        [[conflicts.pairs]]
        sectors = ["woningbouw", "defensie"]
        distance = 500
        """,
    )
    return load_project(path)


def write_sketch(path, geoms, **properties):
    frame = gpd.GeoDataFrame(properties, geometry=geoms, crs="EPSG:28992").to_crs("EPSG:4326")
    path.write_text(frame.to_json(), encoding="utf-8")
    return path


@pytest.fixture
def new_quarter(tmp_path):
    """A sketched housing location 300 m from the terrain, half of it on the water zone."""
    return write_sketch(
        tmp_path / "schets.geojson",
        [shapely.box(1_000, 1_000, 1_200, 1_100)],
        sector=["woningbouw"],
        naam=["Nieuwe wijk"],
    )


def test_sketch_reports_known_conflicts_exactly(project, new_quarter):
    sketch = new_quarter
    result = run_sketch(project, sketch).result
    change = result.pair_change.set_index("conflict")["verschil_ha"]
    # 100 x 100 m overlap with the water zone
    assert change["woningbouw×water_bodem"] == pytest.approx(1.0, rel=1e-4)
    # 300 m from the terrain, distance 500: all of the sketch (2 ha) and all of the terrain (2 ha)
    assert change["woningbouw×defensie"] == pytest.approx(4.0, rel=1e-4)
    under = result.stapeling_under_sketch.set_index("sectoren")["ha"]
    assert under["water_bodem+woningbouw"] == pytest.approx(1.0, rel=1e-4)
    assert under["woningbouw"] == pytest.approx(1.0, rel=1e-4)
    labels = " ".join(result.new_schuurpunten["labels_a"]) + " ".join(result.new_schuurpunten["labels_b"])
    assert "Nieuwe wijk" in labels and "Boezem" in labels and "Schietbaan" in labels
    assert "Bestaand plan" not in labels
    assert result.new_areas  # a new spanningsgebied appears


def test_a_new_spanningsgebied_is_named_after_its_gemeente_as_in_triage(tmp_path, project, new_quarter):
    write_layer(tmp_path / "gemeenten.gpkg", [shapely.box(0, 0, 5_000, 5_000)], naam=["Zandvliet"])
    text = project.path.read_text(encoding="utf-8")
    project.path.write_text(
        text + '\n[triage]\n[triage.gemeenten]\npath = "gemeenten.gpkg"\nname_field = "naam"\n',
        encoding="utf-8",
    )
    result = run_sketch(load_project(project.path), new_quarter).result
    assert result.new_areas and all(area.startswith("Zandvliet") for area in result.new_areas), (
        result.new_areas
    )


def test_a_sketch_outside_the_regions_stops_and_one_without_a_name_is_named(tmp_path, project):
    # x and y swapped: a place in the Atlantic, which would change nothing, silently
    swapped = tmp_path / "omgedraaid.geojson"
    box = shapely.box(52.0, 5.0, 52.01, 5.01)
    swapped.write_text(
        gpd.GeoDataFrame({"sector": ["woningbouw"]}, geometry=[box], crs="EPSG:4326").to_json(),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["sketch", str(project.path), str(swapped)])
    assert result.exit_code == 1 and "the sketch lies outside the project's regions" in result.output
    assert "are x and y swapped" in result.output and "Traceback" not in result.output
    nameless = write_sketch(
        tmp_path / "naamloos.geojson",
        [shapely.box(1_000, 1_000, 1_200, 1_100)],
        sector=["woningbouw"],
        naam=[None],
    )
    result = run_sketch(project, nameless).result
    assert "schets 1" in " ".join(result.new_schuurpunten["labels_a"])


def test_an_unknown_sector_option_stops_even_when_every_feature_has_one(project, new_quarter):
    result = CliRunner().invoke(cli, ["sketch", str(project.path), str(new_quarter), "--sector", "wonen"])
    assert (
        result.exit_code == 1
        and "--sector wonen: no sector of the project; use one of woningbouw" in result.output
    )


def test_sketch_without_conflict_and_cli(tmp_path, project):
    sketch = write_sketch(tmp_path / "leeg.geojson", [shapely.box(5_000, 5_000, 5_100, 5_100)], naam=["Veld"])
    result = CliRunner().invoke(cli, ["sketch", str(project.path), str(sketch), "--sector", "woningbouw"])
    assert result.exit_code == 0, result.output
    assert "Geen: de schets botst" in result.output
    assert (tmp_path / "leeg_beoordeling.md").exists() and (
        tmp_path / "leeg_beoordeling.png"
    ).stat().st_size > 10_000


def test_sketch_mistakes(tmp_path, project):
    unknown = write_sketch(tmp_path / "a.geojson", [shapely.box(0, 0, 10, 10)], sector=["wonen"])
    result = CliRunner().invoke(cli, ["sketch", str(project.path), str(unknown)])
    assert result.exit_code == 1 and "unknown sector(s) wonen" in result.output
    points = tmp_path / "p.geojson"
    points.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"sector": "woningbouw"},
                        "geometry": {"type": "Point", "coordinates": [5, 52]},
                    }
                ],
            }
        )
    )
    result = CliRunner().invoke(cli, ["sketch", str(project.path), str(points)])
    assert result.exit_code == 1 and "must be polygons" in result.output and "Traceback" not in result.output


def _feature(properties: dict) -> dict:
    box = [[5.0, 52.0], [5.001, 52.0], [5.001, 52.001], [5.0, 52.001], [5.0, 52.0]]
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [box]},
    }


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        # a removal spelled otherwise was evaluated as a new claim
        ({"sector": "woningbouw", "actie": "remove"}, "unknown actie 'remove'; use toevoegen or verwijderen"),
        (
            {"sector": "woningbouw", "actie": "Verwijderen"},
            "the sketch cuts claims away (actie = verwijderen)",
        ),
        # a list where one sector belongs ended in "unhashable type"
        ({"sector": ["woningbouw"]}, "unknown sector(s) ['woningbouw']"),
    ],
)
def test_sketch_actie_and_sector_are_what_the_map_exports(tmp_path, project, properties, message):
    sketch = tmp_path / "s.geojson"
    sketch.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature(properties)]}))
    result = CliRunner().invoke(cli, ["sketch", str(project.path), str(sketch)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "this is a bug" not in result.output


def test_sketch_map_draws_the_other_side_of_each_schuurpunt(project, new_quarter):
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgb

    from novex_geo.io.regions import load_regions
    from novex_geo.maps.sketch import sketch_figure
    from novex_geo.sketch import sketch_report

    result = run_sketch(project, new_quarter).result
    report = sketch_report(result, new_quarter)
    named = {label for label in ("Boezem", "Schietbaan") if label in report}
    assert named == {"Boezem", "Schietbaan"}
    assert set(result.other_claims["label"]) == named  # the counterparts, not the sketch itself
    figure, drawing = sketch_figure(project, result, load_regions(project.regions, project.crs), "titel")
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3] / 255
    ax = figure.axes[0]
    sketched = shapely.union_all(result.sketch.geometry).buffer(10)
    for _, claim in result.other_claims.iterrows():
        inside = claim.geometry.difference(sketched).buffer(-10)
        xmin, ymin, xmax, ymax = inside.bounds
        points = [
            shapely.Point(xmin + (xmax - xmin) * i / 6, ymin + (ymax - ymin) * j / 6)
            for i in range(1, 6)
            for j in range(1, 6)
        ]
        screen = ax.transData.transform([(p.x, p.y) for p in points if inside.contains(p)])
        colours = [pixels[round(figure.bbox.height - y), round(x)] for x, y in screen]
        # the claim's fill (alpha 0.35 on white) under the hatching of its schuurpunt
        expected = 0.35 * np.array(to_rgb(project.sectors[claim["sector"]].colour)) + 0.65
        assert len(colours) >= 5, claim["label"]
        assert np.abs(np.median(colours, axis=0) - expected).max() < 0.08, claim["label"]
    labels = [handle.get_label() for handle in drawing.handles]
    assert "spanningsgebied" not in labels and "schets (Woningbouw)" in labels
    assert {project.sectors[key].label for key in ("water_bodem", "defensie")} <= set(labels)


def test_sketch_report_names_each_feature_once_and_the_title_says_it_once(tmp_path, project):
    # a sketch over ten water parcels with one and the same label
    write_layer(
        tmp_path / "water.gpkg",
        [shapely.box(1_000 + 100 * i, 1_000, 1_090 + 100 * i, 1_100) for i in range(10)],
        naam=["Boezem"] * 10,
    )
    sketch = write_sketch(
        tmp_path / "schets.geojson",
        [shapely.box(950, 950, 2_050, 1_150)],
        sector=["woningbouw"],
        naam=["Nieuwe wijk"],
    )
    result = CliRunner().invoke(cli, ["sketch", str(project.path), str(sketch)])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "schets_beoordeling.md").read_text(encoding="utf-8")
    assert "in 10 schuurpunten" in report
    # each pair names the sketch once, and the new spanningsgebied is named after it
    assert report.count("Boezem") == 1 and report.count("Nieuwe wijk") == 3
    assert "1 geschetst vlak (Woningbouw)" in report and "woningbouw" not in report
    assert report.startswith("# Beoordeling van schets.geojson")
    assert "wrote" in result.output and "Schets schets" not in result.output


def test_unreadable_misplaced_or_sectorless_sketches_stop_with_one_line(tmp_path, project):
    broken = tmp_path / "kapot.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    in_rd = tmp_path / "rd.geojson"
    in_rd.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[150000, 470000], [151000, 470000], [151000, 471000], [150000, 470000]]
                            ],
                        },
                    }
                ],
            }
        )
    )
    no_sector = write_sketch(tmp_path / "leeg.geojson", [shapely.box(0, 0, 10, 10)], naam=["Veld"])
    for path, message in [
        (broken, "cannot open as a vector file"),
        (in_rd, "are not longitude/latitude"),
        (no_sector, "1 of 1 features have no 'sector' property; give --sector"),
    ]:
        result = CliRunner().invoke(cli, ["sketch", str(project.path), str(path)])
        assert result.exit_code == 1 and message in result.output and str(path) in result.output
        assert "Traceback" not in result.output and "nan" not in result.output
