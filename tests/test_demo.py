"""The demo: generated offline, complete, and showing what a newcomer should see."""

from pathlib import Path

import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_demo_writes_project_outputs_and_summary(demo):
    folder, output = demo
    assert (folder / "novex.toml").exists()
    assert "fictieve demodata" in (folder / "novex.toml").read_text(encoding="utf-8")
    layers = set(pyogrio.list_layers(folder / "uitvoer" / "analyse.gpkg")[:, 0])
    assert {
        "stapeling",
        "schuurpunten",
        "kansen",
        "kansparen",
        "novexgebieden",
        "herkomst",
        "samenvatting",
        "invoer",
        "provincies",
        "controle",
    } <= layers
    assert "controle: faces match the claims per provincie and sector" in output
    assert (folder / "uitvoer" / "grid_25m_stapeling.tif").exists()
    assert "open in QGIS" in output
    # the gemeenten meet along shared edges only: no overlap of 0.0 ha to warn about
    assert "overlaps between regions" not in output


def test_demo_farmland_lies_within_the_provinces(demo):
    """Voronoi parcels at the edge of their points reach out in long spikes: none is kept."""
    folder, _ = demo
    land = shapely.union_all(pyogrio.read_dataframe(folder / "data" / "provincies.gpkg").geometry.values)
    parcels = pyogrio.read_dataframe(folder / "data" / "landbouw.gpkg").geometry.values
    assert len(parcels) > 5_000
    assert shapely.covered_by(parcels, land).all()


def test_demo_raster_sector_takes_part_in_a_schuurpunt(demo):
    folder, _ = demo
    herkomst = pyogrio.read_dataframe(
        folder / "uitvoer" / "analyse.gpkg", layer="herkomst", read_geometry=False
    )
    from_raster = herkomst[herkomst["feature_id"].str.startswith("water_bodem/bodemdaling/")]
    assert len(from_raster) >= 1


def test_demo_has_a_border_crossing_hot_spot(demo):
    folder, _ = demo
    zones = pyogrio.read_dataframe(
        folder / "uitvoer" / "analyse.gpkg", layer="schuurpunten", read_geometry=False
    )
    grenspark = zones[zones["labels_a"].str.contains("Grenspark", regex=False)]
    assert set(grenspark["provincie"]) >= {"Westmark", "Oostmark"}
    assert (grenspark["conflict"] == "woningbouw×water_bodem").any()


def test_demo_triage_meets_criteria_and_carries_the_urgency(demo):
    import geopandas as gpd

    folder, output = demo
    areas = gpd.read_file(folder / "uitvoer" / "analyse.gpkg", layer="spanningsgebieden")
    assert ((areas["c1_multisectoraal"] == "ja") & (areas["c2a_spanning"] == "ja")).any()
    crossing = areas[areas["provincies"].str.contains(",")]
    assert len(crossing) >= 1 and (crossing["c2b_overstijgend"] == "ja").all()
    assert (areas["c3_prioriteit"] == "ja").any() and (areas["c3_prioriteit"] == "nee").any()
    filled = areas[areas["urgentie"] != ""]
    assert len(filled) == 1 and "Grenspark" in filled["objecten"].iloc[0]
    report = (folder / "uitvoer" / "triage.md").read_text(encoding="utf-8")
    assert filled["urgentie"].iloc[0] in report
    assert "triage:" in output


def test_demo_has_a_kans_and_a_spanningsgebied_inside_the_fictional_novex_gebied(demo):
    import geopandas as gpd

    from novex_geo.config import DEMO_MARK
    from novex_geo.demo import HOT_SPOT_NAME, NOVEX_GEBIED

    folder, _ = demo
    gebied = gpd.read_file(folder / "data" / "novex_gebieden.gpkg")
    assert gebied["naam"].tolist() == [NOVEX_GEBIED] and (gebied["bron"] == DEMO_MARK).all()
    area = gebied.geometry.iloc[0]
    gpkg = folder / "uitvoer" / "analyse.gpkg"
    kansen = gpd.read_file(gpkg, layer="kansen")
    assert set(kansen["kans"]) == {"energie×landbouw", "woningbouw×water_bodem"}
    assert kansen.within(area).any()  # a kans wholly inside the NOVEX-gebied
    areas = gpd.read_file(gpkg, layer="spanningsgebieden")
    inside = areas[areas["novex_aandeel"] == 1.0]
    assert len(inside) >= 1 and inside.within(area).all()
    assert (inside["novex_gebieden"] == f"{NOVEX_GEBIED} (100.0 %)").all()
    # the hot spot: a schuurpunt and a kans of the same pair, each with its own hectares
    hot = areas[areas["objecten"].str.contains(HOT_SPOT_NAME, regex=False)].iloc[0]
    assert hot["novex_aandeel"] == 1.0
    conflict_ha = float(hot["conflicten"].split("woningbouw×water_bodem: ")[1].split(" ha")[0])
    kans_ha = float(hot["kansen"].split("woningbouw×water_bodem: ")[1].split(" ha")[0])
    assert 0 < conflict_ha < kans_ha  # the kans reaches 250 m beyond the overlap
    report = (folder / "uitvoer" / "triage.md").read_text(encoding="utf-8")
    assert f"- NOVEX-gebied: ligt in NOVEX-gebied {NOVEX_GEBIED} (100.0 %)" in report
    assert "#### Kansen" in report and "## Kansen buiten de spanningsgebieden" in report


def test_demo_writes_the_hot_spot_signal(demo):
    import pypdf

    folder, output = demo
    pdfs = sorted((folder / "uitvoer" / "signalen").glob("*.pdf"))
    assert 1 <= len(pdfs) <= 2
    text = "\n".join(pypdf.PdfReader(pdf).pages[0].extract_text() for pdf in pdfs)
    assert "Grenspark" in text and "FICTIEVE DEMODATA" in text
    assert "Kansen: Woningbouw × Water en bodem:" in text and "NOVEX-gebied Grensregio" in text
    assert "signal:" in output


def test_demo_writes_kaartsessie_maps(demo):
    folder, _ = demo
    kaarten = folder / "uitvoer" / "kaarten"
    maps = sorted(p.name for p in kaarten.iterdir())
    assert "kaart_westmark.html" in maps and "kaart_overzicht.html" in maps and "kaart_westmark.png" in maps
    assert "fictieve demodata" in (kaarten / "kaart_westmark.html").read_text(encoding="utf-8")


def test_demo_follows_three_fictional_years_in_the_voortgangsmeter(demo):
    folder, output = demo
    assert (
        "monitor: 63 spanningsgebieden followed over 3 fictional years, 1 afspraak past their deadline, "
        "1 grew although an afspraak is afgerond"
    ) in output
    text = (folder / "jaren" / "voortgang.md").read_text(encoding="utf-8")
    assert "Cycli: 2025 → 2026 → 2027 · peildatum 01-06-2027" in text
    # the Grenspark: halved after the first table, grown again although its afspraak is afgerond
    grenspark = text[text.index("### Zandvliet, Grenspark") :].split("###")[1]
    lines = [line for line in grenspark.splitlines() if line.startswith("| 20")]
    assert [line.split(" | ")[3] for line in lines] == ["158.7", "68.7", "398.3"]
    assert "besluitvorming, afgerond, deadline 2026-06-30, overgenomen van" in lines[2]
    # the committed rendering the README links is what the demo writes
    committed = (Path(__file__).parents[1] / "maps" / "demo_voortgang.md").read_text(encoding="utf-8")
    assert committed == text


def test_demo_compares_three_oplossingsrichtingen_for_the_hot_spot(demo):
    folder, output = demo
    assert (
        "varianten: 3 oplossingsrichtingen for SG-f2cf83c3ec, conflict huidig 236.6 ha, "
        "Minder water 77.9 ha, Oost naar het noorden 158.7 ha, Combinatie 0.0 ha"
    ) in output
    text = (folder / "uitvoer" / "varianten" / "SG-f2cf83c3ec" / "vergelijking.md").read_text(
        encoding="utf-8"
    )
    assert "| kwalificeert | ja | ja | ja | nee: geen spanningsgebied meer |" in text
    assert "| behoud Woningbouw (%) | 100.0 | 100.0 | 43.3 | 43.3 |" in text
    # moving the eastern housing north meets the water there: a new schuurpunt, named
    assert "nieuw schuurpunt Woningbouw × Water en bodem, 90.0 ha (Grenspark noord × " in text
    assert "| opgave Woningbouw gehaald | ja | ja | nee | nee |" in text
    import pypdf

    two_pager = pypdf.PdfReader(folder / "uitvoer" / "varianten" / "SG-f2cf83c3ec" / "snelle_tafel.pdf")
    words = " ".join(" ".join(page.extract_text().split()) for page in two_pager.pages)
    assert len(two_pager.pages) == 2 and "C · Combinatie" in words and "Advies over het vervolg" in words


def test_the_demo_never_writes_over_a_project_but_over_an_earlier_demo(tmp_path):
    from novex_geo.demo import write_demo_project

    project = tmp_path / "mijn_project"
    project.mkdir()
    (project / "novex.toml").write_text('[project]\nname = "Mijn project"\n', encoding="utf-8")
    (project / "annotaties.csv").write_text("id;urgentie\nSG-1;hoog\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--out", str(project)])
    assert result.exit_code == 1 and "holds other files and no earlier demo" in result.output
    assert (project / "novex.toml").read_text(encoding="utf-8") == '[project]\nname = "Mijn project"\n'
    assert sorted(p.name for p in project.iterdir()) == ["annotaties.csv", "novex.toml"]
    earlier = write_demo_project(tmp_path / "demo").folder
    assert write_demo_project(earlier).project.is_file()  # an earlier demo is the demo's to replace
