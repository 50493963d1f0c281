"""The print poster (``novex-geo map --pdf A3|A0``): one landscape vector page per provincie."""

import re

import pypdf
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.io.run import read_run
from novex_geo.maps.labels import area_title
from novex_geo.units import hectares

from .conftest import housing_and_water_project
from .test_maps_signal import assert_accessibility_metadata, pdf_fonts

PAPER_MM = {"A3": (420, 297), "A0": (1189, 841)}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("poster")
    homes = [shapely.box(1_000 + 400 * i, 1_000, 1_300 + 400 * i, 1_300) for i in range(6)]
    homes.append(shapely.box(9_600, 5_000, 10_400, 5_600))  # across the border with Fryslân
    water = [shapely.box(900, 900, 2_500, 1_400), shapely.box(9_000, 4_800, 11_000, 5_400)]
    labels = [f"Plan {i}" for i in range(6)] + ["Grensplan"]
    return housing_and_water_project(folder, homes, labels, water, ["Boezem", "Grenswater"])


def images(resources) -> int:
    """Image XObjects in a page's resources, also inside form XObjects."""
    count = 0
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Image":
            count += 1
        elif "/Resources" in xobject:
            count += images(xobject["/Resources"])
    return count


@pytest.mark.parametrize("paper", ["A3", "A0"])
def test_poster_is_one_landscape_vector_page_with_embedded_fonts(project, tmp_path, paper):
    result = CliRunner().invoke(
        cli,
        ["map", str(project.path), "--provincie", "utrecht", "--pdf", paper.lower(), "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    poster = tmp_path / f"poster_utrecht_{paper}.pdf"
    assert f"wrote {poster}" in result.output
    reader = pypdf.PdfReader(poster)
    (page,) = reader.pages
    size = tuple(round(float(side) / 72 * 25.4) for side in (page.mediabox.width, page.mediabox.height))
    assert size == PAPER_MM[paper]
    assert images(page["/Resources"]) == 0  # no raster anywhere: every shape is a vector path
    assert page.get_contents().get_data().count(b" l\n") > 100  # line segments of the map's paths
    fonts = pdf_fonts(poster)
    assert fonts and all(font["subtype"] != "/Type3" and font["truetype"] for font in fonts)
    assert reader.metadata.title == f"test — Utrecht: kaartsessie-poster ({paper})"
    assert reader.metadata.author == "test" and "schuurpunten" in reader.metadata.subject
    assert_accessibility_metadata(poster, reader.metadata.title)
    text = page.extract_text()
    for expected in (
        "Provincie Utrecht",
        "Legenda",
        "stapeling 2 sector(en)",
        "schuurpunt",
        "spanningsgebied met rang",
        "Spanningsgebieden (rang · naam · ha)",
        "Bronnen: water.gpkg",
        "Analyse van",
        " km",
    ):
        assert expected in text, expected
    ranking = re.findall(r"^\s*(\d+)\s+(.+) — ([\d.,]+ ha)$", text, flags=re.MULTILINE)
    areas = read_run(project.output_dir / "analyse.gpkg", required=("spanningsgebieden",)).spanningsgebieden
    assert len(areas) == 2
    assert ranking == [
        (str(row.rang), area_title(project, row.naam), hectares(row.oppervlakte_ha))
        for row in areas.sort_values("rang").itertuples()
    ]
    assert re.search(r"^1\n2\n", text)  # the rank labels on the map


def test_poster_paper_must_be_a3_or_a0(project, tmp_path):
    result = CliRunner().invoke(cli, ["map", str(project.path), "--pdf", "A4", "--out", str(tmp_path)])
    assert (
        result.exit_code == 2 and "'A4' is not one of" in result.output and "Traceback" not in result.output
    )


def test_the_subtitle_names_kansen_only_for_a_project_with_kansen(project):
    import dataclasses

    from novex_geo.maps.poster import poster_subject

    assert (
        poster_subject(dataclasses.replace(project, kansen=()))
        == "Stapeling, schuurpunten en spanningsgebieden"
    )
    with_kansen = dataclasses.replace(project, kansen=(object(),))
    assert poster_subject(with_kansen) == "Stapeling, schuurpunten, kansen en spanningsgebieden"


def test_ranks_of_crowded_areas_never_cover_each_other():
    """Twelve small spanningsgebieden within 600 m on an A3 map of 20 km: every rank readable,
    the best-ranked just above its area, the others at the nearest free place."""
    import geopandas as gpd
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from novex_geo.maps.poster import _ranks

    corners = [(5_000 + 150 * (i % 4), 5_000 + 120 * (i // 4)) for i in range(12)]
    areas = gpd.GeoDataFrame(
        {"rang": range(1, 13)}, geometry=[shapely.box(x, y, x + 60, y + 40) for x, y in corners], crs=28992
    )
    figure = Figure(figsize=(420 / 25.4, 297 / 25.4))
    ax = figure.add_axes((0.02, 0.02, 0.7, 0.96))
    ax.set_xlim(0, 20_000)
    ax.set_ylim(0, 14_000)
    ax.set_aspect("equal")
    _ranks(ax, areas, 1.0)
    labels = {int(text.get_text()): text for text in ax.texts}
    assert sorted(labels) == list(range(1, 13))
    extents = [Text.get_window_extent(labels[rank]) for rank in sorted(labels)]  # the text, not its leader
    covered = [(a, b) for a in range(12) for b in range(a + 1, 12) if extents[a].overlaps(extents[b])]
    assert covered == []
    assert labels[1].xyann == (0, 1.5) and labels[1].xy == (5_030, 5_040)  # above its area's top centre
