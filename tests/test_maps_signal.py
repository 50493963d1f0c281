"""Signal 1-pagers: one A4 page, verbatim urgency, escaped and self-contained HTML."""

import re

import pandas as pd
import pypdf
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
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
