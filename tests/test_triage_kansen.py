"""Kansen and NOVEX-gebieden in the triage, the report, the map popups, the signals and diff:
known answers on hand-built squares."""

import html
import re

import geopandas as gpd
import pandas as pd
import pyogrio
import pypdf
import pytest
import shapely

from novex_geo import load_project
from novex_geo.config import ConflictPair, KansPair, Triage
from novex_geo.config.criteria import VERDICT_COLUMNS
from novex_geo.maps.signal import build_signal
from novex_geo.maps.web_layers import kans_popup_html, popup_html
from novex_geo.overlay import overlay
from novex_geo.pipeline import run_diff, run_overlay, run_signals, run_triage
from novex_geo.triage import evaluate_criteria, spanningsgebieden, triage_report
from novex_geo.triage.kansen import kansen_near_areas
from novex_geo.triage.novex import novex_phrase, novex_shares

from .conftest import RD, write_layer, write_project
from .support.helpers import claims_frame, regions_frame

DEFAULTS = Triage()
TWO = regions_frame(
    {"West": shapely.box(0, 0, 10_000, 10_000), "Oost": shapely.box(10_000, 0, 20_000, 10_000)}
)


def triage(claims, conflicts, kansen, settings=DEFAULTS):
    result = overlay(TWO, claims, conflicts, workers=1, kansen=kansen)
    areas, pairs = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, conflicts, settings
    )
    near = kansen_near_areas(areas, result.kansen, result.herkomst, settings.merge_distance)
    return evaluate_criteria(areas, pairs, settings, kansen=near), pairs, near, result


# a 1 ha schuurpunt; a kans 200 m east of it (within merge_distance 250) and one 500 m east
CLAIMS = {
    "woningbouw": claims_frame("woningbouw", [shapely.box(1_000, 1_000, 1_100, 1_100)], ["Plan"]),
    "water": claims_frame("water", [shapely.box(1_000, 1_000, 1_100, 1_100)], ["Plas"]),
    "energie": claims_frame(
        "energie",
        [shapely.box(1_300, 1_000, 1_400, 1_100), shapely.box(1_600, 1_000, 1_700, 1_100)],
        ["Station Noord", "Station Zuid"],
    ),
    "landbouw": claims_frame(
        "landbouw",
        [shapely.box(1_300, 1_000, 1_500, 1_100), shapely.box(1_600, 1_000, 1_800, 1_100)],
        ["Akker", "Weide"],
    ),
}
CONFLICTS = [ConflictPair("woningbouw", "water")]
KANSEN = [KansPair("energie", "landbouw", weight=2, toelichting="zon op <b>akkers</b> *nu*")]


def test_an_area_carries_the_kansen_in_or_within_merge_distance_and_the_rest_are_outside():
    areas, _, near, result = triage(CLAIMS, CONFLICTS, KANSEN)
    assert sorted(result.kansen["kans_id"]) == [
        "kans/energie×landbouw/West/0001",
        "kans/energie×landbouw/West/0002",
    ]
    (area,) = areas.itertuples()
    assert (area.kansen, area.n_kansen, area.kans_ids) == (
        "energie×landbouw: 1.0 ha",
        1,
        "kans/energie×landbouw/West/0001",
    )
    assert area.kans_ha == pytest.approx(1.0) and area.gewogen_kans_ha == pytest.approx(2.0)
    (pair,) = near.per_area.itertuples()
    assert (pair.id, pair.kans, pair.gewicht, pair.n_kansen) == (area.id, "energie×landbouw", 2.0, 1)
    assert pair.oppervlakte_ha == pytest.approx(1.0)
    assert pair.objecten == "energie: Station Noord | landbouw: Akker"
    assert near.outside["kans_id"].tolist() == ["kans/energie×landbouw/West/0002"]
    # 300 m is too far for a merge distance of 250 m, not for one of 600 m
    wide = triage(CLAIMS, CONFLICTS, KANSEN, Triage(merge_distance=600))[0]
    assert wide["n_kansen"].tolist() == [2] and wide["kans_ha"].tolist() == pytest.approx([2.0])


def test_kansen_change_no_criterion_and_count_in_the_score_only_with_kans_weight():
    without = triage(CLAIMS, CONFLICTS, [])[0]
    default = triage(CLAIMS, CONFLICTS, KANSEN)[0]
    weighted, pairs, near, _ = triage(CLAIMS, CONFLICTS, KANSEN, Triage(kans_weight=3))
    for areas in (default, weighted):
        assert areas[["id", "naam", "oppervlakte_ha", *VERDICT_COLUMNS]].equals(
            without[["id", "naam", "oppervlakte_ha", *VERDICT_COLUMNS]]
        )
    assert default["score"].tolist() == without["score"].tolist()
    assert weighted["score"].iloc[0] == pytest.approx(without["score"].iloc[0] + 3 * 2 * 1.0)
    quiet = triage_report(default, Triage(), "p", pairs, kansen=near)
    assert "Kansen tellen niet mee in de score (`[triage] kans_weight` = 0)" in quiet
    loud = triage_report(weighted, Triage(kans_weight=3), "p", pairs, kansen=near)
    assert "+ 3 × Σ (gewicht × kans-ha per kanspaar)" in loud and "kans_weight` = 3" in loud
    assert "Kansen" not in triage_report(without, Triage(), "p", pairs)  # a project without kansen


def test_report_has_a_kansen_section_per_area_and_the_largest_outside_escaped():
    areas, pairs, near, _ = triage(CLAIMS, CONFLICTS, KANSEN)
    report = triage_report(areas, Triage(), "p", pairs, kansen=near)
    section = report[report.index("#### Kansen") :]
    assert (
        r"- energie×landbouw (zon op &lt;b&gt;akkers&lt;/b&gt; \*nu\*): 1.0 ha in 1 kans(en) — "
        "energie: Station Noord / landbouw: Akker" in section
    )
    outside = report[report.index("## Kansen buiten de spanningsgebieden") :]
    assert "1 kansen liggen niet in of binnen 250 m van een spanningsgebied (1.0 ha)." in outside
    assert (
        r"| energie×landbouw | zon op &lt;b&gt;akkers&lt;/b&gt; \*nu\* | West | 1.0 | Station Zuid × Weide |"
        in outside
    )
    assert "<b>" not in report


# ------------------------------------------------------------------ NOVEX-gebieden

SQUARE = shapely.box(2_000, 2_000, 3_000, 3_000)  # 100 ha
SMALL = shapely.box(6_000, 6_000, 6_100, 6_100)
GEBIEDEN = gpd.GeoDataFrame(
    {"provincie": ["A", "B", "C", "D", "E"]},
    geometry=[
        shapely.box(2_000, 2_000, 2_250, 3_000),  # a quarter of SQUARE
        shapely.box(1_500, 1_500, 2_600, 2_200),  # 600 m x 200 m of SQUARE, overlapping A on 250 x 200
        shapely.box(9_000, 9_000, 9_500, 9_500),  # far away
        shapely.box(5_000, 5_000, 7_000, 7_000),  # all of SMALL
        shapely.box(3_000, 2_000, 3_500, 3_000),  # touches SQUARE along its east edge only
    ],
    crs=RD,
)


def test_novex_shares_are_exact_on_hand_built_squares():
    claims = {
        "woningbouw": claims_frame("woningbouw", [SQUARE, SMALL]),
        "water": claims_frame("water", [SQUARE, SMALL]),
    }
    result = overlay(TWO, claims, CONFLICTS, workers=1)
    areas, pairs = spanningsgebieden(
        result.stapeling, result.schuurpunten, result.herkomst, CONFLICTS, Triage()
    )
    shares = novex_shares(areas, GEBIEDEN)
    square, small = (areas.loc[areas.geometry.area == area, "id"].iloc[0] for area in (1_000_000, 10_000))
    table = shares.table.set_index(["id", "novex_gebied"])
    assert sorted(table.index) == sorted([(square, "A"), (square, "B"), (small, "D")])
    assert table.loc[(square, "A"), "aandeel"] == pytest.approx(0.25, rel=1e-12)
    assert table.loc[(square, "B"), "aandeel"] == pytest.approx(0.12, rel=1e-12)
    assert table.loc[(square, "B"), "oppervlakte_ha"] == pytest.approx(12.0, rel=1e-12)
    assert table.loc[(small, "D"), "aandeel"] == 1.0
    assert shares.inside[square] == pytest.approx(0.32, rel=1e-12)  # A and B overlap on 5 %: counted once
    unconfigured = evaluate_criteria(areas, pairs, DEFAULTS)
    areas = evaluate_criteria(areas, pairs, DEFAULTS, novex=shares).set_index("id")
    assert areas.loc[square, "novex_gebieden"] == "A (25.0 %); B (12.0 %)"
    assert areas.loc[square, "n_novex_gebieden"] == 2
    assert novex_phrase(areas.loc[square]) == "ligt deels in NOVEX-gebieden A (25.0 %); B (12.0 %)"
    assert novex_phrase(areas.loc[small]) == "ligt in NOVEX-gebied D (100.0 %)"
    assert unconfigured["novex_gebieden"].tolist() == ["", ""]
    assert unconfigured["novex_aandeel"].tolist() == [0.0, 0.0]
    assert novex_phrase(unconfigured.iloc[0]) == "ligt in geen NOVEX-gebied"


# ------------------------------------------------------------------ a conflict and a kans, everywhere

TOELICHTING = "waterberging op <b>landbouwgrond</b>"


def both_project(folder, landbouw=None):
    """An area where woningbouw × water_bodem collides on 1 ha and water_bodem × landbouw is a
    kans of 3 ha (with the default ``landbouw``); the area lies for a quarter in NOVEX-gebied
    "Rivierzone"."""
    landbouw = landbouw or [shapely.box(1_100, 1_000, 1_400, 1_200)]
    write_layer(folder / "regions.gpkg", [shapely.box(0, 0, 10_000, 10_000)], naam=["Utrecht"])
    write_layer(folder / "wonen.gpkg", [shapely.box(1_000, 1_000, 1_100, 1_200)], naam=["Plan Oost"])
    write_layer(folder / "water.gpkg", [shapely.box(1_000, 1_000, 1_400, 1_100)], naam=["Boezem"])
    write_layer(
        folder / "landbouw.gpkg", list(landbouw), gewas=[f"grasland {i}" for i in range(len(landbouw))]
    )
    write_layer(folder / "novex.gpkg", [shapely.box(1_075, 0, 3_000, 3_000)], gebied=["Rivierzone"])
    body = f"""
        [sectors.woningbouw]
        label = "Woningbouw"
        [[sectors.woningbouw.sources]]
        path = "wonen.gpkg"
        label_field = "naam"
        [sectors.water_bodem]
        label = "Water en bodem"
        [[sectors.water_bodem.sources]]
        path = "water.gpkg"
        label_field = "naam"
        [sectors.landbouw]
        label = "Landbouw"
        [[sectors.landbouw.sources]]
        path = "landbouw.gpkg"
        label_field = "gewas"
        [[conflicts.pairs]]
        sectors = ["woningbouw", "water_bodem"]
        [[kansen.pairs]]
        sectors = ["water_bodem", "landbouw"]
        toelichting = "{TOELICHTING}"
        [triage]
        min_area_ha = 0.5
        annotations = "annotaties.csv"
        [triage.novex_gebieden]
        path = "novex.gpkg"
        name_field = "gebied"
        """
    project = load_project(write_project(folder, body, regions=folder / "regions.gpkg"))
    run_overlay(project)
    return project, run_triage(project)


def test_one_area_with_a_conflict_and_a_kans_shows_both_everywhere(tmp_path):
    project, triaged = both_project(tmp_path)
    gpkg = tmp_path / "uit" / "analyse.gpkg"
    zones = gpd.read_file(gpkg, layer="schuurpunten")
    kansen = gpd.read_file(gpkg, layer="kansen")
    assert zones[["conflict", "oppervlakte_m2"]].values.tolist() == [["woningbouw×water_bodem", 10_000.0]]
    assert kansen[["kans", "toelichting", "oppervlakte_m2"]].values.tolist() == [
        ["water_bodem×landbouw", TOELICHTING, 30_000.0]
    ]
    herkomst = pyogrio.read_dataframe(gpkg, layer="herkomst", read_geometry=False)
    assert herkomst.groupby("soort")["feature_id"].agg(sorted).to_dict() == {
        "kans": ["landbouw/landbouw/1", "water_bodem/water/1"],
        "schuurpunt": ["water_bodem/water/1", "woningbouw/wonen/1"],
    }
    (area,) = [row for _, row in triaged.areas.iterrows()]
    assert (area["conflicten"], area["kansen"]) == (
        "woningbouw×water_bodem: 1.0 ha",
        "water_bodem×landbouw: 3.0 ha",
    )
    assert area["novex_gebieden"] == "Rivierzone (25.0 %)" and area["novex_aandeel"] == pytest.approx(0.25)
    stored = pyogrio.read_dataframe(gpkg, layer="kansparen", read_geometry=False)
    assert stored[["id", "kans", "toelichting", "n_kansen"]].values.tolist() == [
        [area["id"], "water_bodem×landbouw", TOELICHTING, 1]
    ]
    assert pyogrio.read_dataframe(gpkg, layer="novexgebieden", read_geometry=False)["aandeel"].tolist() == [
        0.25
    ]
    csv = pd.read_csv(tmp_path / "uit" / "spanningsgebieden.csv")
    assert csv.loc[0, "kansen"] == "water_bodem×landbouw: 3.0 ha"

    report = triaged.report.read_text(encoding="utf-8")
    # sectors by their labels in the report, never their keys
    assert "2 conflictpaar/-paren" not in report and "Woningbouw × Water en bodem: 1.0 ha" in report
    assert "woningbouw×water_bodem" not in report and "water_bodem×landbouw" not in report
    assert (
        "- Water en bodem × Landbouw (waterberging op &lt;b&gt;landbouwgrond&lt;/b&gt;): 3.0 ha in 1 kans(en)"
        in report
    )
    assert "- NOVEX-gebied: ligt deels in NOVEX-gebied Rivierzone (25.0 %)" in report

    popup = popup_html(project, area)
    assert "<p>Conflicten: Woningbouw × Water en bodem: 1.0 ha</p>" in popup
    assert "<p>Kansen: Water en bodem × Landbouw: 3.0 ha</p>" in popup
    assert "ligt deels in NOVEX-gebied Rivierzone (25.0 %)" in popup
    assert re.search(r"<p>Rang bij andere weging: \d+–\d+ \((robuust|afhankelijk van weging)\)</p>", popup)
    objects = popup.split("<p>Objecten: ")[1]  # the features by their sector's label, never its key
    assert "Water en bodem: Boezem" in objects and "water_bodem:" not in objects
    kans_popup = kans_popup_html(project, kansen.iloc[0])
    assert "<h4>Kans: Water en bodem × Landbouw</h4>" in kans_popup
    assert f"<p>{html.escape(TOELICHTING)}</p>" in kans_popup and "<b>landbouwgrond" not in kans_popup
    assert "Water en bodem: Boezem" in kans_popup and "Landbouw: grasland 0" in kans_popup

    signal = build_signal(area, herkomst, project, None, "01-01-2026")
    assert "Conflict Woningbouw × Water en bodem: 1.0 ha" in signal.wat
    assert "Kansen: Water en bodem × Landbouw: 3.0 ha" in signal.wat
    assert "Het gebied ligt deels in NOVEX-gebied Rivierzone (25.0 %)" in signal.waar
    (files,) = run_signals(project, ids=[area["id"]])
    text = pypdf.PdfReader(files.pdf).pages[0].extract_text()
    assert (
        "Kansen: Water en bodem × Landbouw: 3.0 ha" in text and "Woningbouw × Water en bodem: 1.0 ha" in text
    )
    page = files.html.read_text(encoding="utf-8")
    assert "<li>Kansen: Water en bodem × Landbouw: 3.0 ha</li>" in page


def strips(*xs):
    """Landbouw parcels 50 m wide that cross the boezem at x: each a kans of 0.5 ha."""
    return [shapely.box(x, 950, x + 50, 1_150) for x in xs]


def test_diff_reports_new_and_lost_kansen(tmp_path):
    old, new = tmp_path / "oud", tmp_path / "nieuw"
    old.mkdir()
    new.mkdir()
    both_project(old, strips(1_150, 1_300))
    both_project(new, strips(1_150, 1_220))  # a year later: the parcel at 1300 is gone, one at 1220 is new
    result = run_diff(old / "uit" / "analyse.gpkg", new / "uit" / "analyse.gpkg", tmp_path)
    kansen = result.kansen
    assert kansen[["status", "labels_b"]].values.tolist() == [
        ["nieuw", "grasland 1"],
        ["verdwenen", "grasland 1"],
    ]
    assert kansen["oppervlakte_ha"].tolist() == pytest.approx([0.5, 0.5])
    assert shapely.equals(kansen.geometry.iloc[0], shapely.box(1_220, 1_000, 1_270, 1_100))
    assert "kansen: 1 nieuw, 1 verdwenen" in result.summary_line
    markdown = result.markdown.read_text(encoding="utf-8")
    assert "## Kansen nieuw (1)" in markdown and "## Kansen verdwenen (1)" in markdown
    assert (
        "| water_bodem×landbouw | waterberging op &lt;b&gt;landbouwgrond&lt;/b&gt; | Utrecht | 0.5 |"
        in markdown
    )
    assert sorted(pyogrio.list_layers(result.gpkg)[:, 0]) == ["kansen", "wijzigingen"]
    # a run made before kansen existed has no kansen layer: areas are compared, kansen are not
    older = tmp_path / "ouder.gpkg"
    areas = gpd.read_file(old / "uit" / "analyse.gpkg", layer="spanningsgebieden")
    areas[["id", "naam", "oppervlakte_ha", "geometry"]].to_file(older, layer="spanningsgebieden")
    result = run_diff(older, new / "uit" / "analyse.gpkg", tmp_path / "ouder")
    assert result.kansen is None and "kansen niet vergeleken" in result.summary_line
    assert "Niet vergeleken" in result.markdown.read_text(encoding="utf-8")


def test_a_novex_layer_without_its_name_field_is_one_clear_message(tmp_path):
    from click.testing import CliRunner

    from novex_geo.cli.main import cli

    project, _ = both_project(tmp_path)
    text = project.path.read_text(encoding="utf-8").replace('name_field = "gebied"', 'name_field = "naam"')
    project.path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["triage", str(project.path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "novex.gpkg" in result.output and "field 'naam': field not in layer; fields: gebied" in result.output
    )
