"""Spanningsgebieden, criteria, annotations and diff: known answers."""

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo import load_project
from novex_geo.cli.main import cli
from novex_geo.config import ConflictPair, Triage
from novex_geo.overlay import overlay
from novex_geo.pipeline import run_overlay, run_triage
from novex_geo.triage import evaluate_criteria, spanningsgebieden, triage_report
from novex_geo.triage.diff import compare_areas
from novex_geo.units import hectares

from .conftest import housing_and_water_project, sectors_toml, write_layer, write_project
from .support.helpers import claims_frame, regions_frame

TWO = regions_frame(
    {"West": shapely.box(0, 0, 10_000, 10_000), "Oost": shapely.box(10_000, 0, 20_000, 10_000)}
)


DEFAULTS = Triage()


def areas_for(claims, pairs, settings=DEFAULTS, regions=TWO):
    result = overlay(regions, claims, pairs, workers=1)
    areas, conflict_pairs = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, pairs, settings
    )
    return evaluate_criteria(areas, conflict_pairs, settings)


@pytest.mark.parametrize(("distance", "expected"), [(250, 1), (150, 2)])
def test_schuurpunten_200m_apart_merge_only_within_merge_distance(distance, expected):
    # two 100 x 100 m overlaps of woningbouw and water: x 1100-1200 and x 1400-1500, 200 m apart
    claims = {
        "woningbouw": claims_frame(
            "woningbouw", [shapely.box(1_000, 1_000, 1_200, 1_100), shapely.box(1_400, 1_000, 1_600, 1_100)]
        ),
        "water": claims_frame(
            "water", [shapely.box(1_100, 1_000, 1_200, 1_100), shapely.box(1_400, 1_000, 1_500, 1_100)]
        ),
    }
    areas = areas_for(claims, [ConflictPair("woningbouw", "water")], Triage(merge_distance=distance))
    assert len(areas) == expected
    assert areas["n_schuurpunten"].sum() == 2
    assert areas["conflict_ha"].sum() == pytest.approx(2.0)


def test_the_two_sides_of_a_conflict_at_a_distance_are_linked_as_one_conflict():
    # a plan 300 m west of a terrain with a 1,000 m safety distance: the plan's strip and the
    # terrain's strip lie 300 m apart, beyond merge_distance 100, so they are two areas; a
    # second plan far away overlaps water only and is linked to nothing
    claims = {
        "woningbouw": claims_frame(
            "woningbouw",
            [shapely.box(1_000, 1_000, 1_200, 1_200), shapely.box(8_000, 8_000, 8_200, 8_200)],
            ["Plan", "Ver plan"],
        ),
        "defensie": claims_frame("defensie", [shapely.box(1_500, 1_000, 1_700, 1_200)], ["Terrein"]),
        "water": claims_frame("water", [shapely.box(8_100, 8_000, 8_300, 8_200)], ["Plas"]),
    }
    pairs = [ConflictPair("woningbouw", "defensie", distance=1_000), ConflictPair("woningbouw", "water")]
    settings = Triage(merge_distance=100)
    result = overlay(TWO, claims, pairs, workers=1)
    areas, per_pair = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, pairs, settings
    )
    areas = evaluate_criteria(areas, per_pair, settings)
    plan, terrain, far = (
        areas[areas.contains(shapely.Point(x, y))].iloc[0]
        for x, y in ((1_100, 1_100), (1_600, 1_100), (8_150, 8_100))
    )
    assert plan["oppervlakte_ha"] == pytest.approx(4.0) and terrain["oppervlakte_ha"] == pytest.approx(4.0)
    assert (plan["samenhang"], terrain["samenhang"], far["samenhang"]) == (terrain["id"], plan["id"], "")
    report = triage_report(areas, settings, "test", per_pair)
    ranks = sorted((plan["rang"], terrain["rang"]))
    assert (
        f"Samenhang: rang {ranks[0]} en {ranks[1]} liggen elk aan een kant van hetzelfde conflict" in report
    )
    assert (
        f"- samenhang: dezelfde objecten botsen op afstand ook in rang {terrain['rang']} ({terrain['id']})"
        in report
    )


def test_area_straddling_two_provinces_is_provincie_overstijgend():
    claims = {
        "woningbouw": claims_frame("woningbouw", [shapely.box(9_500, 500, 10_500, 1_000)], ["Grenspark"]),
        "water": claims_frame("water", [shapely.box(9_000, 0, 11_000, 800)]),
    }
    areas = areas_for(claims, [ConflictPair("woningbouw", "water")])
    (area,) = areas.itertuples()
    assert area.provincies == "Oost, West"
    assert area.c2b_overstijgend == "ja"
    assert area.c2b_reden == "ligt over de grens van Oost en West"
    assert "Grenspark" in area.objecten
    assert area.oppervlakte_ha == pytest.approx(30.0)


def test_stack_without_conflict_pair_is_not_multisectoraal():
    claims = {key: claims_frame(key, [shapely.box(0, 0, 1_000, 1_000)]) for key in ("a", "b", "c")}
    areas = areas_for(claims, [])
    (area,) = areas.itertuples()
    assert area.max_stapeling == 3
    assert area.c1_multisectoraal == "nee"
    assert "geen paar uit de conflictmatrix" in area.c1_reden
    # and with a pair it is
    assert areas_for(claims, [ConflictPair("a", "c")])["c1_multisectoraal"].tolist() == ["ja"]


def test_reasons_are_generated_from_the_data():
    claims = {
        "woningbouw": claims_frame(
            "woningbouw", [shapely.box(0, 0, 1_000, 1_000), shapely.box(5_000, 5_000, 5_100, 5_100)]
        ),
        "water": claims_frame(
            "water", [shapely.box(500, 0, 2_000, 1_000), shapely.box(5_000, 5_000, 5_300, 5_300)]
        ),
    }
    areas = areas_for(claims, [ConflictPair("woningbouw", "water", weight=2)])
    assert len(areas) == 2
    big, small = areas.iloc[0], areas.iloc[1]
    assert big["c2a_spanning"] == "ja" and small["c2a_spanning"] == "nee"
    assert big["c2a_reden"] != small["c2a_reden"]
    assert big["c1_reden"] != small["c1_reden"]
    assert "50.0 ha" in big["c2a_reden"] and "1.0 ha" in small["c2a_reden"]
    assert big["score"] == pytest.approx(2 * 50 + 10 * 2)  # weight × ha + bonus × (criteria 1 and 2a)


def project_files(tmp_path, homes):
    write_layer(tmp_path / "wonen.gpkg", homes, naam=[f"Plan {i}" for i in range(len(homes))])
    write_layer(
        tmp_path / "water.gpkg",
        [shapely.box(0, 0, 4_000, 1_000), shapely.box(15_000, 0, 16_000, 1_000)],
        naam=["Polder", "Uiterwaard"],
    )
    write_layer(tmp_path / "prioriteit.gpkg", [shapely.box(0, 0, 3_000, 3_000)], naam=["NOVEX-gebied <Zuid>"])
    return write_project(
        tmp_path,
        sectors_toml(woningbouw="wonen.gpkg", water="water.gpkg")
        + """
        [[conflicts.pairs]]
        sectors = ["woningbouw", "water"]
        [triage]
        annotations = "annotaties.csv"
        [[triage.priority]]
        path = "prioriteit.gpkg"
        label_field = "naam"
        """,
    )


HOMES = [
    shapely.box(500, 500, 900, 900),
    shapely.box(2_500, 0, 3_500, 500),
    shapely.box(15_200, 200, 15_600, 600),
]


def test_a_priority_layer_that_selects_nothing_is_said_by_check_and_triage(tmp_path):
    """Criterion 3 'nee' everywhere because a where matches nothing: no longer silent."""
    path = project_files(tmp_path, HOMES)
    text = path.read_text(encoding="utf-8").replace(
        'path = "prioriteit.gpkg"\n', 'path = "prioriteit.gpkg"\nwhere = "naam = \'Noord\'"\n'
    )
    path.write_text(text, encoding="utf-8")
    said = "prioriteit: layer is empty after where \"naam = 'Noord'\""
    checked = CliRunner().invoke(cli, ["check", str(path)])
    assert "triage.priority[0]: layer is empty after where" in checked.output, checked.output
    triaged = CliRunner().invoke(cli, ["triage", str(path)])
    assert triaged.exit_code == 0 and said in triaged.output, triaged.output


def test_annotations_drive_criteria_4_and_5_and_survive_reruns(tmp_path):
    project = load_project(project_files(tmp_path, HOMES))
    run_overlay(project)
    first = run_triage(project)
    assert set(first.areas["c4_regulier"]) == {"onbekend"} and set(first.areas["c5_haalbaar"]) == {"onbekend"}
    assert (first.areas["urgentie"] == "").all()
    notes = pd.read_csv(tmp_path / "annotaties.csv", dtype=str, keep_default_na=False)
    assert len(notes) == 3
    target = first.areas.iloc[0]["id"]
    notes.loc[notes["id"] == target, ["criterium_4", "reden_4", "urgentie", "eigenaar"]] = [
        "ja",
        "raakt drie departementen",
        "Besluit over de woningbouwlocatie in maart 2027",
        "A. de Vries",
    ]
    notes.to_csv(tmp_path / "annotaties.csv", index=False)
    second = run_triage(project)
    row = second.areas.set_index("id").loc[target]
    assert (row["c4_regulier"], row["c4_reden"], row["c5_haalbaar"]) == (
        "ja",
        "raakt drie departementen",
        "onbekend",
    )
    assert row["urgentie"] == "Besluit over de woningbouwlocatie in maart 2027"
    kept = pd.read_csv(tmp_path / "annotaties.csv", dtype=str, keep_default_na=False).set_index("id")
    assert kept.loc[target, "eigenaar"] == "A. de Vries" and len(kept) == 3
    report = second.report.read_text(encoding="utf-8")
    assert "Besluit over de woningbouwlocatie in maart 2027" in report
    assert "NOVEX-gebied &lt;Zuid&gt;" in report and "<Zuid>" not in report
    assert "_nog in te vullen_" in report


def test_ids_are_stable_and_local(tmp_path):
    project = load_project(project_files(tmp_path, HOMES))
    run_overlay(project)
    ids = run_triage(project).areas.set_index("naam")["id"]
    assert run_triage(project).areas.set_index("naam")["id"].equals(ids)
    moved = [*HOMES[:2], shapely.box(15_400, 200, 15_800, 600)]  # move the far-away plan only
    (tmp_path / "wonen.gpkg").unlink()
    project = load_project(project_files(tmp_path, moved))
    run_overlay(project)
    again = run_triage(project).areas
    untouched = ids[ids.index.str.startswith("West")]
    assert set(untouched) <= set(again["id"])
    assert len(set(ids) - set(again["id"])) == 1


def test_diff_reports_new_resolved_grown(tmp_path):
    old_folder, new_folder = tmp_path / "oud", tmp_path / "nieuw"
    for folder in (old_folder, new_folder):
        folder.mkdir()
    old = load_project(project_files(old_folder, HOMES))
    run_overlay(old)
    run_triage(old)
    # a year later: the far plan is dropped, the second plan grew, a new plan at the polder's west end
    new_homes = [
        shapely.box(500, 500, 900, 900),
        shapely.box(2_500, 0, 3_900, 700),
        shapely.box(15_000, 3_000, 15_100, 3_100),
    ]
    new_homes.append(shapely.box(1_500, 0, 1_600, 100))
    new = load_project(project_files(new_folder, new_homes))
    run_overlay(new)
    run_triage(new)
    result = CliRunner().invoke(
        cli,
        [
            "diff",
            str(old_folder / "uit" / "analyse.gpkg"),
            str(new_folder / "uit" / "analyse.gpkg"),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = compare_areas(
        gpd.read_file(old_folder / "uit" / "analyse.gpkg", layer="spanningsgebieden"),
        gpd.read_file(new_folder / "uit" / "analyse.gpkg", layer="spanningsgebieden"),
    )
    assert rows["status"].value_counts().to_dict() == {
        "nieuw": 1,
        "opgelost": 1,
        "gegroeid": 1,
        "ongewijzigd": 1,
    }
    grown = rows[rows["status"] == "gegroeid"].iloc[0]
    assert grown["oppervlakte_oud_ha"] == pytest.approx(50.0) and grown[
        "oppervlakte_nieuw_ha"
    ] == pytest.approx(98.0)
    assert "1 nieuw, 1 opgelost, 1 gegroeid, 0 gekrompen, 1 ongewijzigd" in result.output
    markdown = (tmp_path / "wijzigingen.md").read_text(encoding="utf-8")
    assert "## opgelost (1)" in markdown
    # the report is Dutch throughout, and says what "ongewijzigd" means
    assert "; 0 met gewijzigde criteria" in markdown and "(ongewijzigd: oppervlakte binnen ±5 %)" in markdown


def test_triage_of_a_run_made_with_another_project_file_stops(tmp_path):
    """A sector renamed after the run: its pair's schuurpunten would weigh nothing, silently."""
    project = housing_and_water_project(
        tmp_path,
        [shapely.box(1_000, 1_000, 1_400, 1_400)],
        ["Plan"],
        [shapely.box(1_200, 1_000, 1_600, 1_400)],
        ["Plas"],
    )
    text = project.path.read_text(encoding="utf-8").replace("water_bodem", "water")
    project.path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["triage", str(project.path)])
    assert result.exit_code != 0 and "was run with another project file" in result.output, result.output
    assert (
        "woningbouw×water_bodem are not in the conflicts of novex.toml; run novex-geo run again"
        in result.output
    )


def test_conflict_hectares_count_ground_where_pairs_overlap_once():
    # a 100 x 100 m plan inside both a water zone and a military terrain: two pairs, one hectare
    claims = {
        "woningbouw": claims_frame("woningbouw", [shapely.box(1_000, 1_000, 1_100, 1_100)], ["Plan"]),
        "water": claims_frame("water", [shapely.box(900, 900, 1_200, 1_200)], ["Plas"]),
        "defensie": claims_frame("defensie", [shapely.box(950, 950, 1_150, 1_150)], ["Terrein"]),
    }
    pairs = [ConflictPair("woningbouw", "water"), ConflictPair("woningbouw", "defensie", weight=3)]
    result = overlay(TWO, claims, pairs, workers=1)
    areas, per_pair = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, pairs, DEFAULTS
    )
    (area,) = areas.itertuples()
    assert per_pair.set_index("conflict")["oppervlakte_ha"].to_dict() == pytest.approx(
        {"woningbouw×water": 1.0, "woningbouw×defensie": 1.0}
    )
    assert area.conflict_ha == pytest.approx(1.0) and area.conflict_ha <= area.oppervlakte_ha + 1e-9
    assert area.gewogen_conflict_ha == pytest.approx(1.0 + 3.0)  # the score still weighs every pair


def test_names_tell_areas_apart_by_their_own_named_object_else_a_direction():
    plans = [shapely.box(1_000 + 1_000 * i, 1_000, 1_200 + 1_000 * i, 1_200) for i in range(4)]
    claims = {
        "woningbouw": claims_frame("woningbouw", plans, ["Plan Noord", "Plan Zuid", "Plan 9", "Plan 10"]),
        "water": claims_frame("water", [shapely.box(0, 900, 6_000, 1_300)], ["Rivier"]),
    }
    areas = areas_for(claims, [ConflictPair("woningbouw", "water")])
    assert sorted(areas["naam"]) == sorted(
        f"West, {plan}" for plan in ["Plan Noord", "Plan Zuid", "Plan 9", "Plan 10"]
    )
    assert set(areas["botsing"]) == {"woningbouw × water"}  # by label; the test sectors have none
    # without objects of their own (one shared feature on both sides): a direction, never a number
    stacked = [shapely.box(1_000, 1_000 + 1_000 * i, 1_200, 1_200 + 1_000 * i) for i in range(3)]
    shared = {
        "woningbouw": claims_frame("woningbouw", [shapely.union_all(stacked)], ["Wijk"]),
        "water": claims_frame("water", [shapely.box(900, 0, 1_300, 4_000)], ["Sloot"]),
    }
    names = areas_for(shared, [ConflictPair("woningbouw", "water")]).sort_values("naam")["naam"].tolist()
    assert names == ["West-Centrum, Sloot", "West-Noord, Sloot", "West-Zuid, Sloot"]


@pytest.mark.parametrize(
    ("label", "named"),
    [
        ("Drentsche Aa-gebied", True),
        ("Kloosterzande Zoutedijk II", True),
        ("'s-Gravenstraat 45", True),
        ("Plan 9", True),
        ("2050", False),
        ("4", False),
        ("nnn.60", False),
        ("NL2000002", False),
        ("id2b60d03d-5961-4321-8f5c-93e65abf5674", False),
        ("waterwingebied", False),
        ("hoog", False),
        ("Voorbeschermingsregels gemeente Borsele", False),
        ("SG-cac7f78203", False),
    ],
)
def test_only_real_names_name_an_area(label, named):
    from novex_geo.triage.names import is_name

    assert is_name(label) is named


def test_criterion_2b_counts_pairs_that_collide_materially_and_the_report_shows_the_threshold():
    boxes = {f"P{i}": shapely.box(10_000 * i, 0, 10_000 * (i + 1), 10_000) for i in range(4)}
    regions = regions_frame(boxes)
    # a 4 ha collision in P0, P1 and P2, and a 0.04 ha corner in P3
    plans = [shapely.box(10_000 * i + 1_000, 1_000, 10_000 * i + 1_200, 1_200) for i in range(3)]
    plans.append(shapely.box(31_000, 1_000, 31_020, 1_020))
    water = [shapely.box(10_000 * i + 1_000, 1_000, 10_000 * i + 1_200, 1_200) for i in range(3)]
    water.append(shapely.box(31_000, 1_000, 31_020, 1_020))
    claims = {"woningbouw": claims_frame("woningbouw", plans), "water": claims_frame("water", water)}
    pairs = [ConflictPair("woningbouw", "water")]
    result = overlay(regions, claims, pairs, workers=1)
    settings = Triage(provinces_recurring=3, min_conflict_ha=1.0)
    areas, per_pair = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, pairs, settings
    )
    areas = evaluate_criteria(areas, per_pair, settings).set_index("provincies")
    assert areas.loc[["P0", "P1", "P2"], "c2b_overstijgend"].tolist() == ["ja"] * 3
    assert areas.loc["P3", "c2b_overstijgend"] == "nee"  # a corner is not part of the recurring opgave
    assert "3 provincies (P0, P1, P2); drempel 3" in areas.loc["P0", "c2b_reden"]
    report = triage_report(areas.reset_index(), settings, "test", per_pair)
    assert "| woningbouw×water | P0, P1, P2 | 3 | ja |" in report
    assert "| 3 (nu) | 3 |" in report and "| 4 | 0 |" in report


def test_report_lists_every_area_and_says_where_the_rest_are_and_shows_names_literally():
    plans = [
        shapely.box(
            500 + 600 * (i % 15), 500 + 1_500 * (i // 15), 600 + 600 * (i % 15), 600 + 1_500 * (i // 15)
        )
        for i in range(30)
    ]  # 500 m apart: 30 areas
    labels = ["[klik](javascript:x) **vet** <b>`code`</b> & _nadruk_ $x^2$"] + [
        f"Plan {i}" for i in range(1, 30)
    ]
    claims = {
        "woningbouw": claims_frame("woningbouw", plans, labels),
        "water": claims_frame("water", [shapely.box(0, 0, 9_800, 2_600)], ["Plas"]),
    }
    pairs = [ConflictPair("woningbouw", "water")]
    result = overlay(TWO, claims, pairs, workers=1)
    areas, per_pair = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, pairs, DEFAULTS
    )
    areas = evaluate_criteria(areas, per_pair, DEFAULTS)
    report = triage_report(areas, DEFAULTS, "Project *x*", per_pair)
    ranking = [line for line in report.splitlines() if re.match(r"^\| \d+ \| SG-", line)]
    assert len(ranking) == len(areas) == 30
    assert (
        "De overige 5 spanningsgebieden van West (rang 26, 27, 28, 29, 30) staan alleen in de ranglijst"
        in report
    )
    assert (
        r"\[klik\](javascript:x) \*\*vet\*\* &lt;b&gt;\`code\`&lt;/b&gt; &amp; \_nadruk\_ \$x^2\$" in report
    )
    assert "# NOVEX triage — Project \\*x\\*" in report
    assert "<b>" not in report and "[klik](" not in report


@pytest.mark.parametrize(
    ("ha", "text"),
    [
        (158.66, "158.7 ha"),
        (1234.5, "1,234.5 ha"),
        (0.1, "0.1 ha"),
        (0.094, "0.09 ha"),
        (0.04, "0.04 ha"),
        (0.0, "0.0 ha"),
    ],
)
def test_small_areas_never_print_as_zero_hectares(ha, text):
    assert hectares(ha) == text


def test_sliver_faces_of_almost_coinciding_boundaries_make_no_spanningsgebied():
    # three sectors whose edges at x = 2,000 differ by 1 cm: a 1 cm × 1 km face where all three meet
    claims = {
        "woningbouw": claims_frame("woningbouw", [shapely.box(1_000, 1_000, 2_000.01, 2_000)]),
        "water": claims_frame("water", [shapely.box(2_000, 1_000, 3_000, 2_000)]),
        "landbouw": claims_frame("landbouw", [shapely.box(1_999.995, 1_000, 2_500, 2_000)]),
    }
    result = overlay(TWO, claims, [], workers=1)
    triple = result.stapeling[result.stapeling["n_sectoren"] == 3]
    assert len(triple) == 1 and triple.area.iloc[0] == pytest.approx(10.0)  # 1 cm × 1 km
    settings = Triage(min_stapeling=3)
    kept, _ = spanningsgebieden(result.stapeling, result.schuurpunten, result.herkomst, [], settings)
    dropped, _ = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, [], settings, 100.0
    )
    assert len(kept) == 1 and len(dropped) == 0


def test_a_project_where_nothing_collides_triages_to_no_areas_and_every_command_says_so(tmp_path):
    old_folder, new_folder = tmp_path / "oud", tmp_path / "nieuw"
    old_folder.mkdir(), new_folder.mkdir()
    old = load_project(project_files(old_folder, HOMES))
    run_overlay(old), run_triage(old)
    project = load_project(project_files(new_folder, [shapely.box(8_000, 8_000, 8_400, 8_400)]))
    run_overlay(project)
    runner = CliRunner()
    result = runner.invoke(cli, ["triage", str(new_folder / "novex.toml")])
    assert result.exit_code == 0, result.output
    assert "0 spanningsgebieden\n" in result.output and "top 5" not in result.output
    report = (new_folder / "uit" / "triage.md").read_text(encoding="utf-8")
    assert "Geen spanningsgebieden: geen schuurpunten en geen stapeling vanaf 3 sectoren" in report
    assert "| rang |" not in report
    assert len(gpd.read_file(new_folder / "uit" / "analyse.gpkg", layer="spanningsgebieden")) == 0
    result = runner.invoke(cli, ["signal", str(new_folder / "novex.toml"), "--top", "3"])
    assert result.exit_code == 0 and "no signals written: triage found no spanningsgebieden" in result.output
    result = runner.invoke(cli, ["map", str(new_folder / "novex.toml")])
    assert result.exit_code == 0, result.output
    old_run, new_run = (folder / "uit" / "analyse.gpkg" for folder in (old_folder, new_folder))
    result = runner.invoke(cli, ["diff", str(old_run), str(new_run), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 nieuw, 3 opgelost, 0 gegroeid, 0 gekrompen, 0 ongewijzigd" in result.output
