"""Signal 1-pagers: one A4 page, verbatim urgency, escaped and self-contained HTML."""

import re

import pandas as pd
import pypdf
import pytest
import shapely
from click.testing import CliRunner

from novex_geo import load_project
from novex_geo.cli.main import cli
from novex_geo.maps.labels import area_title
from novex_geo.maps.signal import EMPTY_URGENCY
from novex_geo.pipeline import run_signals, run_triage

from .conftest import housing_and_water_project

HOSTILE = ["<img src=x onerror=alert(1)>", "`rm -rf`", "${alert(1)}"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signal")
    # 45 housing plans inside one water zone: one spanningsgebied with 46 features involved
    plans = [
        shapely.box(
            1_000 + 120 * (i % 9), 1_000 + 120 * (i // 9), 1_080 + 120 * (i % 9), 1_080 + 120 * (i // 9)
        )
        for i in range(45)
    ]
    plans.append(shapely.box(9_800, 6_000, 10_300, 6_400))  # a second area, across the border
    labels = [f"plan {i:02d} " + HOSTILE[i % 3] for i in range(45)] + ["Grensplan Fryslân"]
    water = [shapely.box(900, 900, 2_200, 1_700), shapely.box(9_700, 5_900, 10_400, 6_500)]
    project = housing_and_water_project(folder, plans, labels, water, ["Boezem", "Grenswater"])
    areas = run_triage(project).areas
    notes = pd.read_csv(folder / "annotaties.csv", dtype=str, keep_default_na=False)
    crossing = areas.loc[areas["n_provincies"] == 2, "id"].iloc[0]
    notes.loc[notes["id"] == crossing, "urgentie"] = "Raadsbesluit <b>12 maart</b> over het Grensplan; ë"
    notes.to_csv(folder / "annotaties.csv", index=False)
    run_triage(project)
    return project, areas


def pdf_text(path):
    reader = pypdf.PdfReader(path)
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_every_signal_is_one_a4_page_even_with_46_features(project):
    project, areas = project
    files = run_signals(project, top=2)
    busy = areas.sort_values("n_objecten").iloc[-1]
    assert busy["n_objecten"] >= 40
    for item in files:
        pages, text = pdf_text(item.pdf)
        assert pages == 1
        box = pypdf.PdfReader(item.pdf).pages[0].mediabox
        assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
        assert "Wat botst?" in text and "Waar?" in text and "Waarom urgent?" in text
    busy_text = pdf_text(files[[f.pdf.stem for f in files].index(busy["id"])].pdf)[1]
    assert re.search(r"\+ \d+ meer", busy_text)


def test_urgency_is_verbatim_or_a_visibly_empty_field(project):
    project, areas = project
    files = {f.pdf.stem: f for f in run_signals(project, top=2)}
    crossing = areas.loc[areas["n_provincies"] == 2, "id"].iloc[0]
    other = next(i for i in files if i != crossing)
    crossing_pdf = pdf_text(files[crossing].pdf)[1]
    assert "Raadsbesluit <b>12 maart</b> over het Grensplan; ë" in crossing_pdf
    assert "Fryslân" in crossing_pdf
    other_html = files[other].html.read_text(encoding="utf-8")
    assert EMPTY_URGENCY.replace("[", "").split(":")[0].strip() in other_html
    assert "Raadsbesluit" not in other_html and "Raadsbesluit" not in pdf_text(files[other].pdf)[1]
    assert 'class="leeg"' in other_html
    crossing_html = files[crossing].html.read_text(encoding="utf-8")
    assert "Raadsbesluit &lt;b&gt;12 maart&lt;/b&gt;" in crossing_html


def test_html_escapes_hostile_labels_and_is_self_contained(project):
    project, areas = project
    busy = areas.sort_values("n_objecten").iloc[-1]["id"]
    (files,) = run_signals(project, ids=[busy])
    page = files.html.read_text(encoding="utf-8")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "${alert(1)}" in page and "`rm -rf`" in page  # inert as text, outside any script
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", page)
    assert "@import" not in page and "url(" not in page
    assert page.count("data:image/png;base64,") == 1


def test_signal_cli_errors(project):
    project, _ = project
    result = CliRunner().invoke(cli, ["signal", str(project.path), "SG-bestaatniet"])
    assert result.exit_code == 1 and "no spanningsgebied SG-bestaatniet" in result.output
    assert "Traceback" not in result.output


def pdf_fonts(path) -> list[dict]:
    """Every font of the first page: subtype and whether its program is embedded as TrueType."""
    fonts = []
    for font in pypdf.PdfReader(path).pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant.get("/FontDescriptor")
        fonts.append(
            {
                "subtype": font["/Subtype"],
                "truetype": descriptor is not None and "/FontFile2" in descriptor.get_object(),
            }
        )
    return fonts


def assert_accessibility_metadata(path, title: str) -> None:
    """Dutch, the title in the viewer's title bar and in XMP, read strictly; no claim of
    tagging, since matplotlib's content is not tagged (see novex_geo/maps/pdf_access.py)."""
    reader = pypdf.PdfReader(path, strict=True)
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "nl-NL"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == pypdf.generic.BooleanObject(True)
    xmp = reader.xmp_metadata
    assert xmp.dc_title == {"x-default": title} and xmp.dc_language == ["nl-NL"]
    assert xmp.dc_creator == [reader.metadata.author]
    assert "/MarkInfo" not in catalog and "/StructTreeRoot" not in catalog
    assert len(reader.pages) == 1 and reader.pages[0].extract_text()


def test_pdf_has_truetype_fonts_metadata_and_labels_not_keys(project):
    project, areas = project
    crossing = areas.loc[areas["n_provincies"] == 2, "id"].iloc[0]
    (files,) = run_signals(project, ids=[crossing])
    fonts = pdf_fonts(files.pdf)
    assert fonts and all(font["subtype"] != "/Type3" and font["truetype"] for font in fonts)
    name = areas.set_index("id").loc[crossing, "naam"]
    title = area_title(project, name)
    assert "water_bodem" not in title and "woningbouw" not in title
    metadata = pypdf.PdfReader(files.pdf).metadata
    assert metadata.title == f"{title} — signaal NOVEX"
    assert metadata.author == project.name and "Signaal " + crossing in metadata.subject
    assert_accessibility_metadata(files.pdf, metadata.title)
    _, text = pdf_text(files.pdf)
    assert title in " ".join(text.split())  # the title may wrap
    assert "water_bodem" not in text and "woningbouw×" not in text
    assert "Sectoren: Water en bodem, Woningbouw" in text
    assert "Conflict Woningbouw × Water en bodem:" in text


def test_dollar_signs_and_odd_labels_are_plain_text(tmp_path):
    labels = [
        "Kosten $5 tot $8 mln",
        r"$\frac{1}{0}$ formule",
        "$$",
        "a_b^c {x} 100%",
        "🏠 huis",
        "back\\slash",
    ]
    homes = [shapely.box(1_000 + 300 * i, 1_000, 1_200 + 300 * i, 1_200) for i in range(len(labels))]
    project = housing_and_water_project(
        tmp_path, homes, labels, [shapely.box(900, 900, 3_000, 1_300)], ["Plas $1$"]
    )
    (files,) = run_signals(project, top=1)
    _, text = pdf_text(files.pdf)
    for label in ["Kosten $5 tot $8 mln", r"$\frac{1}{0}$ formule", "Plas $1$"]:
        assert label in text


def test_numbers_used_as_labels_print_as_typed_and_sort_by_value(tmp_path):
    homes = [shapely.box(1_000 + 300 * i, 1_000, 1_200 + 300 * i, 1_200) for i in range(3)]
    project = housing_and_water_project(
        tmp_path, homes, [100.0, 13.0, 9.0], [shapely.box(900, 900, 2_000, 1_300)], ["Plas"]
    )
    (files,) = run_signals(project, top=1)
    _, text = pdf_text(files.pdf)
    assert "Woningbouw: 9, 13, 100" in text and "13.0" not in text
    report = (tmp_path / "uit" / "triage.md").read_text(encoding="utf-8")
    assert re.search(r"(?i)woningbouw: 9, 13, 100", report)  # by key or by label


@pytest.fixture(scope="module")
def demo_with_attributions(tmp_path_factory):
    """The demo with an attribution on every source, as fetched layers bring."""
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    # the closing summary points at the HTML map, not at its PNG snapshot
    assert re.search(r"kaart_\w+\.html  an interactive kaartsessie map", result.output)
    path = folder / "novex.toml"
    lines, attributions = [], {}
    for line in path.read_text(encoding="utf-8").splitlines():
        lines.append(line)
        sector = re.fullmatch(r"\[\[sectors\.(\w+)\.sources\]\]", line.strip())
        if sector:
            text = f"© Bron {len(attributions) + 1} ({sector.group(1)})"
            attributions[text] = sector.group(1)
            lines.append(f'attribution = "{text}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_project(path), attributions


def boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.slow
def test_every_demo_signal_keeps_legend_off_the_area_and_credits_the_sources(demo_with_attributions):
    from matplotlib.transforms import Bbox

    from novex_geo.io.regions import load_regions
    from novex_geo.io.run import read_run
    from novex_geo.maps.signal import build_signal
    from novex_geo.maps.signal_page import signal_page
    from novex_geo.maps.static import Credits
    from novex_geo.pipeline import load_claims

    project, attributions = demo_with_attributions
    layers = ("spanningsgebieden", "schuurpunten", "kansen", "herkomst")
    run = read_run(project.output_dir / "analyse.gpkg", required=layers)
    layers = load_claims(project)
    claims = {key: layer.frame for key, layer in layers.items()}
    regions = load_regions(project.regions, project.crs)
    credits = Credits.of(project, layers)
    assert len(run.spanningsgebieden) >= 50
    assert {r.attribution for layer in layers.values() for r in layer.reports} == set(attributions)
    for _, area in run.spanningsgebieden.iterrows():
        signal = build_signal(area, run.herkomst, project, None, "01-01-2026")
        zones = (run.schuurpunten, run.kansen)
        page = signal_page(signal, project, claims, regions, zones, credits, EMPTY_URGENCY)
        page.figure.draw_without_rendering()
        frame = page.map.get_window_extent()
        legend = page.legend.get_window_extent()
        xmin, ymin, xmax, ymax = area.geometry.bounds
        shown = Bbox.intersection(Bbox(page.map.transData.transform([[xmin, ymin], [xmax, ymax]])), frame)
        assert shown is not None and not boxes_overlap(legend, shown), area["id"]
        assert not boxes_overlap(legend, frame)
        credit_box = page.credits.get_window_extent()
        assert not boxes_overlap(credit_box, frame) and not boxes_overlap(credit_box, legend)
        assert credit_box.x1 <= page.figure.bbox.x1 and credit_box.y0 >= 0
        x0, x1 = page.map.get_xlim()
        y0, y1 = page.map.get_ylim()
        view = shapely.box(x0, y0, x1, y1)
        credit_line = page.credits.get_text().replace("\n", " ")
        assert "NOVEX demo" not in credit_line
        for layer in layers.values():
            in_view = layer.frame[layer.frame.intersects(view)]
            for report in layer.reports:
                drawn = (in_view["source"] == report.source).any()
                assert (report.attribution in credit_line) == drawn, (area["id"], report.attribution)
