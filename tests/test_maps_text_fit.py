"""Printed text fits its room on real data and on extremes: poster (A3, A0), signal page and PNG
maps never cut a word, keep rank and hectares in every list line, and nothing runs off the page
or overlaps. Checked in the PDF's own text (pypdf) and with matplotlib's renderer."""

import re
from dataclasses import replace

import geopandas as gpd
import pypdf
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg

from novex_geo import load_project
from novex_geo.io.run import read_run
from novex_geo.maps import text_fit
from novex_geo.maps.files import save_pdf
from novex_geo.maps.labels import area_title
from novex_geo.maps.poster import poster_figure
from novex_geo.maps.signal import EMPTY_URGENCY, build_signal
from novex_geo.maps.signal_page import signal_page
from novex_geo.maps.static import Credits, conflict_map_figure
from novex_geo.pipeline import load_claims, run_overlay, run_triage
from novex_geo.units import hectares

from .support.real_project import write_real_project

ELLIPSIS = text_fit.ELLIPSIS
LONG_LABEL = "Natuurnetwerk Nederland, Natura 2000, ecologische verbindingszones en aardkundige waarden."
LONG_NAME = (
    "Gemeente Schouwen-Duiveland, Zierikzee-Noord herstructurering woonwijk Malta en uitbreiding "
    "Noordhoek langs de Grachtweg"
)
LONG_PROJECT = (
    "Verkenning ruimtelijke spanningen Zuidwestelijke Delta: woningbouw, energie, water en natuur "
    "in samenhang bezien door Rijk en provincie"
)
LAYERS = ("provincies", "stapeling", "schuurpunten", "kansen", "spanningsgebieden", "herkomst")


# ---------------------------------------------------------------------------------------------
# what a reader sees: whole words, or whole words and then "…"


def whole_or_shortened(source: str, shown: str) -> bool:
    """``shown`` (lines joined) is ``source``, or its first whole words and then ``" …"``."""
    words, flat = str(source).split(), " ".join(shown.split())
    if flat == " ".join(words):
        return True
    if not flat.endswith(f" {ELLIPSIS}"):
        return False
    kept = flat[: -len(ELLIPSIS) - 1].split()
    return 0 < len(kept) < len(words) and kept == words[: len(kept)]


def on_page(source: str, text: str) -> bool:
    """``source`` in the page text in full, or its first whole words and then ``" …"``."""
    words, flat = str(source).split(), " ".join(text.split())
    return " ".join(words) in flat or any(
        f"{' '.join(words[:count])} {ELLIPSIS}" in flat for count in range(1, len(words))
    )


def cut_words(text: str, sources) -> list[str]:
    """Words of the page that are the beginning of a word of ``sources`` but no word of them
    themselves ("ecologis"): words cut without "…". Punctuation around words does not count."""

    def bare(word: str) -> str:
        return word.strip(".,;:()[]'\"")

    vocabulary = {bare(word) for source in sources for word in str(source).split()}
    return sorted(
        {
            token
            for token in map(bare, text.split())
            if len(re.findall(r"[^\W\d_]", token)) >= 3
            and not token.endswith(ELLIPSIS)
            and token not in vocabulary
            and any(word.startswith(token) for word in vocabulary)
        }
    )


def boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


def assert_laid_out(figure, frame) -> None:
    """Every text and legend lies on the page, off the map ``frame`` and off each other."""
    figure.draw_without_rendering()
    page = figure.bbox
    boxes = [text.get_window_extent() for text in figure.texts if text.get_text().strip()]
    boxes += [ax.get_legend().get_window_extent() for ax in figure.axes if ax.get_legend()]
    map_box = frame.get_window_extent()
    for index, box in enumerate(boxes):
        assert page.x0 <= box.x0 and box.x1 <= page.x1 + 0.5 and page.y0 <= box.y0 and box.y1 <= page.y1
        assert not boxes_overlap(box, map_box), box
        for other in boxes[index + 1 :]:
            assert not boxes_overlap(box, other), (box, other)


def pdf_text(path) -> str:
    (page,) = pypdf.PdfReader(path).pages
    return page.extract_text()


# ---------------------------------------------------------------------------------------------
# the real-data project (Zeeland: the longest real labels and names) and its extreme twin


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    project = load_project(write_real_project(folder, provincies=("Zeeland",)))
    run_overlay(project)
    run_triage(project)
    run = read_run(project.output_dir / "analyse.gpkg", required=LAYERS)
    return project, run, load_claims(project)


@pytest.fixture(scope="module")
def extreme(real):
    """The real project with a 120-character project name and area name and a 90-character
    sector label."""
    project, run, layers = real
    assert len(LONG_NAME) == 120 and len(LONG_PROJECT) >= 120 and len(LONG_LABEL) == 90
    sectors = dict(project.sectors)
    sectors["natuur"] = replace(sectors["natuur"], label=LONG_LABEL)
    areas = run.spanningsgebieden.copy()
    areas.loc[areas["rang"].idxmin(), "naam"] = LONG_NAME
    return replace(project, name=LONG_PROJECT, sectors=sectors), replace(run, spanningsgebieden=areas), layers


@pytest.fixture(params=[pytest.param("real", marks=pytest.mark.slow), "extreme"])
def case(request):
    return request.param, *request.getfixturevalue(request.param)


def poster_data(project, run, layers, provincie="Zeeland") -> dict:
    """What :func:`~novex_geo.maps.web.write_maps` gives the poster of one provincie; the
    zones simplified to 100 m (the map's detail is not what these tests look at, and a
    lighter PDF is read ten times faster)."""
    regions = run.provincies[run.provincies["provincie"] == provincie]
    area = shapely.union_all(regions.geometry.values)
    areas = run.spanningsgebieden
    zones = {name: getattr(run, name) for name in LAYERS[1:4]}
    return {
        "regions": regions,
        "all_regions": run.provincies,
        **{
            name: (part := frame[frame["provincie"] == provincie]).set_geometry(
                shapely.simplify(part.geometry.values, 100.0)
            )
            for name, frame in zones.items()
        },
        "spanningsgebieden": areas[shapely.intersects(area, areas.geometry.values)],
        "credits": Credits.of(project, layers).every,
    }


# ---------------------------------------------------------------------------------------------
# the poster


@pytest.mark.parametrize("paper", ["A3", "A0"])
def test_poster_list_keeps_rank_and_hectares_and_no_word_is_cut(case, paper, tmp_path):
    name, project, run, layers = case
    data = poster_data(project, run, layers)
    figure = poster_figure(project, data, "Zeeland", "01-01-2026", paper)
    assert_laid_out(figure, figure.axes[0])
    text = pdf_text(save_pdf(figure, tmp_path / "poster.pdf", title="t", subject="s", author="a"))
    lines = text.splitlines()
    areas = data["spanningsgebieden"].set_index("rang")
    start = lines.index("Spanningsgebieden (rang · naam · ha)") + 1
    shown = []
    for line in lines[start:]:
        if line.startswith(("+ ", "Bronnen:")):
            assert re.fullmatch(r"\+ (\d+) meer: zie triage\.md", line), line
            assert len(shown) + int(line.split()[1]) == len(areas)
            break
        match = re.fullmatch(r"\s*(\d+)\s+(.+) — ([\d.,]+ ha)", line)
        assert match, line  # every line has its rank and its hectares
        rank, title, area = match.groups()
        row = areas.loc[int(rank)]
        assert area == hectares(row["oppervlakte_ha"])
        assert whole_or_shortened(area_title(project, row["naam"]), title), line
        shown.append(int(rank))
    assert shown == sorted(areas.index)[: len(shown)] and len(shown) >= min(len(areas), 20)
    assert on_page(project.name, text)
    assert whole_or_shortened(project.name, figure.texts[0].get_text())
    legend = [t.get_text() for ax in figure.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert all(ELLIPSIS not in label for label in legend)
    sources = [project.name, *map(str, areas["naam"].map(lambda n: area_title(project, n))), *legend]
    assert cut_words(text, [*sources, *data["credits"]]) == []
    if name == "real":  # real words need no shortening in the title
        assert " ".join(figure.texts[0].get_text().split()) == project.name
    else:
        assert "Gemeente Schouwen-Duiveland," in text and f"{ELLIPSIS} — " in text


# ---------------------------------------------------------------------------------------------
# the signal 1-pager


def test_signal_title_legend_and_text_fit_the_page(case, tmp_path):
    name, project, run, layers = case
    area = run.spanningsgebieden.sort_values("rang").iloc[0]
    signal = build_signal(area, run.herkomst, project, None, "01-01-2026")
    claims = {key: layer.frame for key, layer in layers.items()}
    credits = Credits.of(project, layers)
    zones = (run.schuurpunten, run.kansen)
    page = signal_page(signal, project, claims, run.provincies, zones, credits, EMPTY_URGENCY)
    assert_laid_out(page.figure, page.map)
    pdf = save_pdf(page.figure, tmp_path / "signaal.pdf", title="t", subject="s", author="a")
    text = pdf_text(pdf)
    title = page.figure.texts[0].get_text()
    assert whole_or_shortened(signal.title, title) and on_page(signal.title, text)
    assert len(title.splitlines()) <= 2
    labels = [sector.label for sector in project.sectors.values()]
    labels += ["kans", "schuurpunt", "provinciegrens", "spanningsgebied"]
    legend = [text.get_text() for text in page.legend.get_texts()]
    assert all(any(whole_or_shortened(label, shown) for label in labels) for shown in legend), legend
    criteria = [part for criterion in signal.criteria for part in criterion]
    headings = ["Wat botst?", "Waar?", "Waarom urgent?", "Selectiecriteria NOVEX", "Legenda", EMPTY_URGENCY]
    sources = [signal.title, *signal.wat, *signal.waar, *criteria, *signal.footer, *labels, *headings]
    sources += credits.every
    assert cut_words(text, sources) == []
    if name == "real":  # real words are shown whole: the title and every legend label
        assert " ".join(title.split()) == signal.title
        assert all(ELLIPSIS not in shown for shown in legend)
    else:
        assert signal.title == LONG_NAME and " ".join(title.split()) == LONG_NAME
        assert LONG_LABEL in [" ".join(shown.split()) for shown in legend]


# ---------------------------------------------------------------------------------------------
# the PNG maps (map --png, the signal's PNG, the sketch's PNG): one legend, one title


def test_png_legend_labels_are_fitted_and_fit_the_legend_box(case):
    name, project, run, layers = case
    area = run.spanningsgebieden.sort_values("rang").iloc[0]
    sketch = gpd.GeoDataFrame(
        {"sector": ["natuur"]}, geometry=[area.geometry.centroid.buffer(300)], crs=project.crs
    )
    title = f"{area_title(project, area['naam'])} — {project.name}"
    figure, drawing = conflict_map_figure(
        project,
        {key: layer.frame for key, layer in layers.items()},
        run.provincies,
        title,
        size=(8.0, 5.0),
        dpi=170,
        schuurpunten=run.schuurpunten,
        kansen=run.kansen,
        focus=area.geometry,
        credits=Credits.of(project, layers),
        sketch=sketch,
    )
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    frame, legend_axes = figure.axes[:2]
    legend, box = legend_axes.get_legend(), legend_axes.get_window_extent(renderer)
    labels = [handle.get_label() for handle in drawing.handles]
    natuur = project.sectors["natuur"].label
    assert {natuur, f"schets ({natuur})"} <= set(labels)
    expected = text_fit.fit_legend(labels, box.width * 72 / figure.dpi, 8, 4, min_size=0.85 * 8)
    fitted = [text.get_text() for text in legend.get_texts()]
    assert fitted == expected.lines
    assert {text.get_fontsize() for text in legend.get_texts()} == {expected.size}
    assert expected.size == 8 if name == "real" else 6.8 <= expected.size < 8
    for label, shown, text in zip(labels, fitted, legend.get_texts(), strict=True):
        assert whole_or_shortened(label, shown) and len(shown.splitlines()) <= 4, shown
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and extent.x1 <= figure.bbox.x1, shown
    assert not boxes_overlap(legend.get_window_extent(renderer), frame.get_window_extent(renderer))
    heading = figure.texts[0]
    assert whole_or_shortened(title, heading.get_text()) and len(heading.get_text().splitlines()) <= 2
    extent = heading.get_window_extent(renderer)
    assert extent.x1 <= figure.bbox.x1 and extent.y0 >= frame.get_window_extent(renderer).y1
    if name == "real":  # real labels are wrapped, never shortened
        assert [" ".join(shown.split()) for shown in fitted] == labels
    else:
        assert " ".join(fitted[labels.index(natuur)].split()) == LONG_LABEL  # smaller, whole


# ---------------------------------------------------------------------------------------------
# the fitting itself

WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzÅé×()-,.0123456789", min_size=1, max_size=14),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(WORDS, st.floats(60, 400), st.sampled_from([6.0, 8.5, 15.0]), st.integers(1, 4))
def test_wrapped_lines_fit_and_keep_whole_words(words, room, size, max_lines):
    text = " ".join(words)
    lines = text_fit.wrap(text, room, size, max_lines=max_lines)
    assert len(lines) <= max_lines
    assert all(text_fit.text_width(line, size) <= room for line in lines)
    if not any(ELLIPSIS in line for line in lines):
        assert " ".join(lines).split() == words  # nothing lost, nothing cut
    else:  # shortened: whole words, then "…"; only a word that leaves no room for " …" is cut
        for token in " ".join(lines).split():
            if token != ELLIPSIS and ELLIPSIS in token:
                assert token.endswith(ELLIPSIS)
                cut = token[: -len(ELLIPSIS)]
                wide = [w for w in words if w.startswith(cut)]
                assert any(text_fit.text_width(f"{w} {ELLIPSIS}", size) > 0.97 * room for w in wide)


@settings(max_examples=60, deadline=None)
@given(WORDS, st.floats(20, 300), st.sampled_from([7.0, 11.0]))
def test_shortened_text_ends_after_a_whole_word(words, room, size):
    text = " ".join(words)
    short = text_fit.shorten(text, room, size)
    assert text_fit.text_width(short, size) <= room or short == ELLIPSIS
    if short != text:  # whole words and "…", or (no whole word fits) the first word's start and "…"
        assert whole_or_shortened(text, short) or (
            " " not in short and short.endswith(ELLIPSIS) and words[0].startswith(short[: -len(ELLIPSIS)])
        ), short


def test_list_line_keeps_rank_and_hectares_whatever_the_name():
    for name in [LONG_NAME, LONG_NAME.replace(" ", ""), "Kort", ""]:
        line = text_fit.fit_entry("12  ", name, " — 1,207.6 ha", 200, 7)
        assert line.startswith("12  ") and line.endswith(" — 1,207.6 ha")
        assert text_fit.text_width(line, 7) <= 200
        assert whole_or_shortened(name, line[4 : -len(" — 1,207.6 ha")]) or ELLIPSIS in line


def test_fit_wraps_then_shrinks_then_shortens():
    room = text_fit.text_width("Echte lagen: Drenthe, Zeeland,", 15, "bold") / 0.97 + 1
    two = text_fit.fit("Echte lagen: Drenthe, Zeeland, Overijssel", room, 15, 2, 12, "bold")
    assert two.lines == ["Echte lagen: Drenthe, Zeeland,", "Overijssel"] and two.size == 15
    longer = "Echte lagen: Drenthe, Zeeland, Overijssel, Fryslân en Groningen"
    shrunk = text_fit.fit(longer, room, 15, 2, 12, "bold")
    assert 12 <= shrunk.size < 15 and len(shrunk.lines) == 2 and " ".join(shrunk.lines) == longer
    short = text_fit.fit(LONG_PROJECT, room, 15, 2, 12, "bold")
    assert short.size == 12 and len(short.lines) == 2 and whole_or_shortened(LONG_PROJECT, short.text)
    assert short.lines[-1].endswith(f" {ELLIPSIS}")


def test_a_number_keeps_its_unit_on_its_line():
    text = "Energiehoofdstructuur × Natuur (NNN, Natura 2000 en ecologische verbindingen): 0.5 ha; 12 km"
    for room in range(100, 400, 7):
        lines = text_fit.wrap(text, room, 7)
        assert " ".join(lines) == text
        assert not any(line.startswith(("ha", "km")) for line in lines), lines
