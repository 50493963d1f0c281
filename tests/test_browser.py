"""Real-browser tests of the kaartsessie maps: headless Chromium (Debian package) via Playwright.

Every network request is blocked: the maps carry Leaflet and its plugins inside the HTML, so
they must work with no network at all; only basemap tiles are asked for (and fail). Clicks
are real mouse clicks at screen positions, so a control that covers another one, or a popup,
makes the test click the wrong thing.
"""

import itertools
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from novex_geo import load_project
from novex_geo.cli.main import cli
from novex_geo.pipeline import run_maps, run_overlay, run_triage
from novex_geo.style import KANS_COLOUR

from .conftest import ROOT, write_layer, write_project
from .support.real_project import write_real_project

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
KINDS = ("schuurpunt", "kans", "spanningsgebied")
SELECTORS = {  # the paths of each kind: schuurpunten dashed red, kansen hatched, areas black
    "schuurpunt": 'path.leaflet-interactive[stroke="#b10026"]',
    "kans": "path.novex-kans",
    "spanningsgebied": 'path.leaflet-interactive[stroke="black"]',
}
LAYERS = {"schuurpunt": "Schuurpunten", "kans": "Kansen", "spanningsgebied": "Spanningsgebieden"}
MAP = "Object.values(window).find((v) => v instanceof L.Map)"  # the page's Leaflet map
TILE_HOSTS = ("service.pdok.nl", "tile.openstreetmap.org")
SIZES = [(1366, 768), (1920, 1080)]
HOSTILE = "<img src=x onerror=alert(1)> `whoami` ${alert(2)}"
SCRIPT = "\"'><svg onload=alert(3)></script><script>alert(4)</script>"

pytestmark = [
    pytest.mark.slow,  # a real browser: out of the quick default run, in CI
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class Opened:
    """A map in a page whose every network request is refused and recorded."""

    def __init__(self, browser, path: Path, size=(1400, 900)):
        self.requests, self.errors, self.dialogs = [], [], []
        self.context = browser.new_context(
            viewport={"width": size[0], "height": size[1]}, accept_downloads=True
        )
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector(".leaflet-interactive")
        self.page.wait_for_timeout(400)  # fitting the map to the free area
        self.view = self.page.evaluate(f"() => {{ const m = {MAP}; return [m.getCenter(), m.getZoom()]; }}")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            return route.continue_()
        self.requests.append(url)
        return route.abort()

    def rects(self, selector: str) -> list[dict]:
        return self.page.evaluate(
            """(selector) => Array.from(document.querySelectorAll(selector))
                .filter((e) => e.offsetWidth > 0 && e.offsetHeight > 0)
                .map((e) => { const r = e.getBoundingClientRect();
                              return {name: e.className, left: r.left, top: r.top,
                                      right: r.right, bottom: r.bottom}; })""",
            selector,
        )

    def centre(self, selector: str) -> tuple[float, float]:
        (box,) = self.rects(selector)
        return (box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2

    def point_on(self, selector: str) -> tuple[float, float]:
        """A screen point where the first element of ``selector`` itself is hit by a click."""
        return tuple(
            self.page.evaluate(
                """(selector) => {
                for (const element of document.querySelectorAll(selector)) {
                    const r = element.getBoundingClientRect();
                    for (let i = 1; i < 10; i++) for (let j = 1; j < 10; j++) {
                        const x = r.left + r.width * i / 10, y = r.top + r.height * j / 10;
                        if (document.elementFromPoint(x, y) === element) return [x, y];
                    }
                }
                return null;
            }""",
                selector,
            )
        )

    def point_under(self, selector: str, index: int) -> tuple[float, float] | None:
        """A screen point in the free part of the map (between the control columns) that lies on
        the ``index``-th element of ``selector``, whatever lies on top of it: the one nearest
        the element's centre."""
        self.wait_until_still()
        return self.page.evaluate(
            """([selector, index]) => {
            const element = document.querySelectorAll(selector)[index];
            const r = element.getBoundingClientRect();
            const left = Math.max(...Array.from(document.querySelectorAll('.leaflet-left .leaflet-control'))
                .map((c) => c.getBoundingClientRect().right)) + 12;
            const right = Math.min(...Array.from(document.querySelectorAll('.leaflet-right .leaflet-control'))
                .map((c) => c.getBoundingClientRect().left)) - 12;
            let best = null, distance = Infinity;
            for (let i = 1; i < 12; i++) for (let j = 1; j < 12; j++) {
                const x = r.left + r.width * i / 12, y = r.top + r.height * j / 12;
                if (x < left || x > right || y < 12 || y > window.innerHeight - 12) continue;
                if (!document.elementsFromPoint(x, y).includes(element)) continue;
                const d = Math.hypot(x - (r.left + r.right) / 2, y - (r.top + r.bottom) / 2);
                if (d < distance) { best = [x, y]; distance = d; }
            }
            return best;
        }""",
            [selector, index],
        )

    def point_in_view(self, selector: str, index: int) -> tuple[float, float] | None:
        """Like :meth:`point_under`, but an element outside the free part of the map (under a
        control, past the window's edge: how far depends on the window and its fonts) is first
        panned to the middle of the free part, as a user would drag it there."""
        point = self.point_under(selector, index)
        if point is None:
            self.page.evaluate(
                f"""([selector, index]) => {{
                const r = document.querySelectorAll(selector)[index].getBoundingClientRect();
                const edges = (side, edge) => Array.from(
                    document.querySelectorAll(`.leaflet-${{side}} .leaflet-control`),
                ).map((c) => c.getBoundingClientRect()[edge]);
                const left = Math.max(...edges('left', 'right')), right = Math.min(...edges('right', 'left'));
                const dx = (r.left + r.right - left - right) / 2;
                const dy = (r.top + r.bottom - window.innerHeight) / 2;
                {MAP}.panBy([dx, dy], {{animate: false}});
            }}""",
                [selector, index],
            )
            point = self.point_under(selector, index)
        return point

    def popup_at(self, point) -> dict[str, int]:
        """Click ``point`` with the mouse: the kinds of item in the popup that opens, counted
        (an empty dict: no popup); the popup's text is kept, the popup closed."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        self.lost_clicks = []
        for _attempt in range(2):
            self.wait_until_still()
            self.page.mouse.click(*point)
            try:  # generous: CI runs other tests beside the browser on two cores
                self.page.wait_for_selector(".leaflet-popup .novex-pick", timeout=8_000)
                break
            except PlaywrightTimeout:
                # what lay under the mouse, so that a failure says more than "no popup"
                self.lost_clicks.append(
                    self.page.evaluate(
                        f"""([x, y]) => {{
                    const m = {MAP};
                    return {{under: document.elementsFromPoint(x, y).slice(0, 4)
                                 .map((e) => e.tagName + '.' + (e.className.baseVal ?? e.className)),
                             zoom: m.getZoom(), centre: m.getCenter(), popups: m._popup ? 1 : 0}};
                }}""",
                        list(point),
                    )
                )
        else:
            return {}
        kinds = {kind: self.page.locator(f".leaflet-popup .novex-pick-{kind}").count() for kind in KINDS}
        self.last_popup = self.page.locator(".leaflet-popup-content").inner_text()
        self.page.evaluate(f"() => {{ {MAP}.closePopup(); }}")
        self.page.wait_for_selector(".leaflet-popup", state="detached", timeout=2_000)
        return {kind: n for kind, n in kinds.items() if n}

    def wait_until_still(self) -> None:
        """Until the map neither pans (a popup pans itself into the free area) nor zooms."""
        self.page.wait_for_function(
            f"() => {{ const m = {MAP}, a = m._panAnim; return !(a && a._inProgress || m._animatingZoom); }}",
            timeout=8_000,
        )

    def reset_view(self) -> None:
        """Back to the view the map opened with."""
        self.page.evaluate(f"([c, z]) => {{ {MAP}.setView(c, z, {{animate: false}}); }}", self.view)

    def toggle(self, layer: str) -> None:
        box = self.page.locator(".novex-layers label", has_text=layer).locator("input").bounding_box()
        self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def close(self):
        self.context.close()


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["-q", "demo", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def demo_map(demo) -> Path:
    return demo / "uitvoer" / "kaarten" / "kaart_westmark.html"


def test_demo_map_works_with_every_request_blocked(browser, demo_map):
    opened = Opened(browser, demo_map)
    page = opened.page
    assert opened.errors == [] and opened.dialogs == []
    assert {url.split("/")[2] for url in opened.requests} <= set(TILE_HOSTS)  # nothing but tiles asked for
    assert page.locator('path.leaflet-interactive[stroke="#e31a1c"]').count() > 10  # woningbouw claims
    assert page.locator('path.leaflet-interactive[stroke="#33a02c"]').count() > 10  # landbouw claims
    layers = page.locator(".leaflet-control-layers")
    assert (
        layers.is_visible()
        and "Woningbouw" in layers.inner_text()
        and "PDOK BRT grijs" in layers.inner_text()
    )
    legend = page.locator(".novex-legend")
    assert legend.is_visible() and "spanningsgebied" in legend.inner_text()
    assert page.locator(".leaflet-draw-draw-polygon").is_visible()
    assert page.locator(".novex-export").is_visible()
    notice = page.locator(".novex-notice")
    assert notice.is_visible() and "Achtergrondkaart niet beschikbaar" in notice.inner_text()
    assert "fictieve demodata" in page.locator(".novex-title").inner_text()
    # the layer panel folds away with a click and comes back
    page.mouse.click(*opened.centre(".novex-layers .novex-toggle"))
    assert not page.locator(".novex-layers .leaflet-control-layers-list").is_visible()
    page.mouse.click(*opened.centre(".novex-layers .novex-toggle"))
    assert page.locator(".novex-layers .leaflet-control-layers-list").is_visible()
    stapeling = 'path.leaflet-interactive[fill="#fecc5c"]'  # class 2 of the choropleth, off at first
    assert page.locator(stapeling).count() == 0
    box = page.locator(".novex-layers label", has_text="Stapeling").locator("input").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.locator(stapeling).count() > 10
    x, y = opened.point_on('path.leaflet-interactive[stroke="black"]')  # areas stay above the stapeling
    assert (
        page.evaluate("([x, y]) => document.elementFromPoint(x, y).getAttribute('stroke')", [x, y]) == "black"
    )
    # the kansen: green and hatched (an SVG pattern in the kansen's colour), in panel and legend
    assert page.locator("path.novex-kans").count() >= 3
    fill = page.evaluate("() => getComputedStyle(document.querySelector('path.novex-kans')).fill")
    assert fill == 'url("#novex-kans-hatch")'
    assert page.locator("#novex-kans-hatch rect").get_attribute("fill") == KANS_COLOUR
    assert page.locator("path.novex-kans").first.get_attribute("stroke") == KANS_COLOUR
    assert "Kansen" in layers.inner_text() and "kans" in legend.inner_text()
    target = ROOT / "maps" / "demo_westmark.png" if os.environ.get("NOVEX_UPDATE_SCREENSHOT") else None
    if target is not None:
        page.screenshot(path=str(target))
    opened.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_controls_leave_each_other_and_popups_free(browser, demo_map, size):
    opened = Opened(browser, demo_map, size)
    page = opened.page
    controls = opened.rects(".leaflet-control")
    assert len(controls) >= 8
    for index, control in enumerate(controls):
        assert control["left"] >= 0 and control["top"] >= 0, control
        assert control["right"] <= size[0] and control["bottom"] <= size[1], control
        for other in controls[index + 1 :]:
            assert not overlaps(control, other), (control["name"], other["name"])
    page.mouse.click(*opened.point_on('path.leaflet-interactive[stroke="black"]'))  # a spanningsgebied
    page.wait_for_selector(".leaflet-popup-content")
    page.wait_for_timeout(600)  # the map pans the popup into the free area
    (popup,) = opened.rects(".leaflet-popup-content-wrapper")
    assert (
        popup["left"] >= 0 and popup["top"] >= 0 and popup["right"] <= size[0] and popup["bottom"] <= size[1]
    )
    assert "Sectoren:" in page.locator(".leaflet-popup-content").inner_text()
    for control in opened.rects(".leaflet-control"):
        assert not overlaps(popup, control), control["name"]
    covered = page.evaluate(
        """(r) => { const hidden = [];
            for (let i = 1; i < 8; i++) for (let j = 1; j < 8; j++) {
                const x = r.left + (r.right - r.left) * i / 8, y = r.top + (r.bottom - r.top) * j / 8;
                if (!document.elementFromPoint(x, y).closest('.leaflet-popup')) hidden.push([x, y]);
            }
            return hidden; }""",
        popup,
    )
    assert covered == []
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


def test_a_click_on_a_kans_shows_its_pair_toelichting_and_features(browser, demo_map):
    opened = Opened(browser, demo_map)
    page = opened.page
    page.mouse.click(*opened.point_under(SELECTORS["kans"], 0))
    page.wait_for_selector(".leaflet-popup .novex-pick-kans")
    text = page.locator(".leaflet-popup .novex-pick-kans").first.inner_text()
    assert text.startswith("Kans: ") and "kans/" in text and "Objecten:" in text
    assert "dubbel ruimtegebruik" in text or "klimaatadaptief bouwen" in text
    assert ("Energiehoofdstructuur:" in text and "Landbouw:" in text) or (
        "Woningbouw:" in text and "Water en bodem:" in text
    )
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


def test_every_schuurpunt_opens_its_popup_with_spanningsgebieden_on(browser, demo_map):
    """The spanningsgebieden lie around the schuurpunten; a click on a schuurpunt must still
    open its popup, listing the spanningsgebied under it too."""
    opened = Opened(browser, demo_map, (1024, 768))  # a beamer at the session table
    assert (
        opened.page.locator(".novex-layers label", has_text="Spanningsgebieden").locator("input").is_checked()
    )
    clicked, with_area = 0, 0
    count = opened.page.locator(SELECTORS["schuurpunt"]).count()
    for index in range(count):
        point = opened.point_in_view(SELECTORS["schuurpunt"], index)
        assert point is not None, index
        kinds = opened.popup_at(point)
        assert kinds.get("schuurpunt"), (index, point, kinds)
        clicked += 1
        if kinds.get("spanningsgebied"):
            with_area += 1
            heading = opened.last_popup.splitlines()[0]
            assert re.fullmatch(
                r"Hier liggen \d+ schuurpunt(en)?(, \d+ kans(en)?)? en \d+ spanningsgebied(en)?", heading
            )
            assert "Schuurpunt: " in opened.last_popup and "Sectoren:" in opened.last_popup
        opened.reset_view()
    assert count >= 15 and clicked == count and with_area >= 10, (count, clicked, with_area)
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


def test_kansen_schuurpunten_and_areas_clickable_in_every_layer_combination(browser, demo_map):
    opened = Opened(browser, demo_map)
    on = set(KINDS)
    for combination in [c for n in (3, 2, 1) for c in itertools.combinations(KINDS, n)]:
        for kind in KINDS:  # switch layers to this combination with mouse clicks in the panel
            if (kind in combination) != (kind in on):
                opened.toggle(LAYERS[kind])
                on ^= {kind}
        for kind in combination:
            point = next(
                p
                for i in range(opened.page.locator(SELECTORS[kind]).count())
                if (p := opened.point_under(SELECTORS[kind], i)) is not None
            )
            kinds = opened.popup_at(point)
            assert kinds.get(kind) and set(kinds) <= set(combination), (combination, kind, kinds)
    # an area alone (no schuurpunt or kans under the click): its own popup, no heading
    point = opened.point_on(SELECTORS["spanningsgebied"])
    assert opened.popup_at(point) == {"spanningsgebied": 1}
    assert not opened.last_popup.startswith("Hier liggen") and "Sectoren:" in opened.last_popup
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_word_broken_in_an_area_popup(browser, demo_map, size):
    opened = Opened(browser, demo_map, size)
    page = opened.page
    page.mouse.click(*opened.point_on(SELECTORS["spanningsgebied"]))
    page.wait_for_selector(".leaflet-popup table")
    page.wait_for_timeout(400)
    broken = page.evaluate(
        """() => Array.from(document.querySelectorAll('.leaflet-popup-content td b'))
            .filter((b) => b.getClientRects().length > 1).map((b) => b.textContent)"""
    )
    verdicts = page.locator(".leaflet-popup-content td b").all_inner_texts()
    assert "onbekend" in verdicts and broken == []
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


def test_draw_and_measure_tools_speak_dutch(browser, demo_map):
    opened = Opened(browser, demo_map)
    page = opened.page
    titles = {
        ".leaflet-draw-draw-polygon": "Teken een vlak",
        ".leaflet-draw-draw-rectangle": "Teken een rechthoek",
        ".leaflet-draw-edit-edit": "Geen schetsen om te bewerken",
        ".leaflet-draw-edit-remove": "Geen schetsen om te verwijderen",
        ".leaflet-control-zoom-in": "Inzoomen",
        ".leaflet-control-zoom-out": "Uitzoomen",
    }
    for selector, title in titles.items():
        assert page.locator(selector).get_attribute("title") == title, selector
    page.mouse.click(*opened.centre(".leaflet-draw-draw-polygon"))
    assert page.locator(".leaflet-draw-actions-top a").all_inner_texts()[-1] == "Annuleren"
    x, y = opened.rects(".novex-sketch")[0]["right"] + 150, 400
    page.mouse.move(x, y)
    page.mouse.move(x + 5, y + 5)
    assert page.locator(".leaflet-draw-tooltip").inner_text() == "Klik om een vlak te beginnen."
    page.mouse.click(x, y)
    page.mouse.move(x + 60, y + 10)
    assert "Klik om het vlak verder te tekenen." in page.locator(".leaflet-draw-tooltip").inner_text()
    assert "Laatste punt verwijderen" in page.locator(".leaflet-draw-actions-top").inner_text()
    page.mouse.click(*opened.centre(".leaflet-draw-actions a[title='Tekenen annuleren']"))
    assert "Meet afstanden en oppervlakten" in page.locator(".leaflet-control-measure").inner_html()
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


def test_tooltips_turn_away_from_the_legend_and_the_layer_panel(browser, demo_map):
    """A tooltip whose usual place (beside the mouse, centred on it) runs under a control turns
    to where no control covers it."""
    opened = Opened(browser, demo_map, (1366, 768))
    page = opened.page
    legend, layers = opened.rects(".novex-legend")[0], opened.rects(".novex-layers")[0]
    targets = [
        ((legend["left"] + legend["right"]) / 2, legend["top"] - 6),  # just above the legend
        ((layers["left"] + layers["right"]) / 2, layers["bottom"] + 6),  # just below the layer panel
    ]
    selector = 'path.leaflet-interactive[stroke="#33a02c"]'  # a landbouw parcel: its label as tooltip
    for target in targets:
        x, y = opened.point_on(selector)
        page.evaluate(
            f"([dx, dy]) => {{ {MAP}.panBy([dx, dy], {{animate: false}}); }}",
            [x - target[0], y - target[1]],
        )
        assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", list(target)) == "path"
        page.mouse.move(target[0] + 1, target[1])
        page.mouse.move(*target)
        page.wait_for_selector(".leaflet-tooltip")
        (tooltip,) = opened.rects(".leaflet-tooltip")
        for control in opened.rects(".leaflet-control"):
            assert not overlaps(tooltip, control), (target, control["name"])
        page.mouse.move(5, 5)
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_draw_pick_a_sector_and_export_with_the_mouse(browser, demo_map, size):
    opened = Opened(browser, demo_map, size)
    page = opened.page
    page.mouse.click(*opened.centre(".leaflet-draw-draw-polygon"))
    free = page.evaluate(
        "() => { const r = document.querySelector('.novex-sketch').getBoundingClientRect(); return r.right; }"
    )
    x0, y0 = free + 120, size[1] / 2
    corners = [(x0, y0), (x0 + 90, y0), (x0 + 90, y0 + 70), (x0, y0 + 70)]
    for x, y in corners:
        page.mouse.click(x, y)
        page.wait_for_timeout(150)
    page.mouse.click(*corners[0])  # closing the ring finishes the polygon
    page.wait_for_timeout(200)
    page.select_option("#novex-sector", "water_bodem")  # picked after drawing: the new polygon takes it
    x, y = opened.centre(".novex-export")
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).className", [x, y]) == "novex-export"
    with page.expect_download() as download:
        page.mouse.click(x, y)
    assert download.value.suggested_filename == "schets.geojson"
    sketch = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    (feature,) = sketch["features"]
    assert feature["properties"]["sector"] == "water_bodem"
    assert feature["geometry"]["type"] == "Polygon" and len(feature["geometry"]["coordinates"][0]) == 5
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


def test_draw_two_named_variants_with_toevoegen_and_verwijderen_and_export_them_in_one_file(
    browser, demo_map
):
    """A kaartsessie draws oplossingsrichtingen: each polygon takes the sector, actie and variant
    name picked (before or right after drawing); one export holds them all for novex-geo varianten."""
    opened = Opened(browser, demo_map, (1366, 768))
    page = opened.page
    free = page.evaluate(
        "() => { const r = document.querySelector('.novex-sketch').getBoundingClientRect(); return r.right; }"
    )

    def rectangle(x0: float, y0: float) -> None:
        page.mouse.click(*opened.centre(".leaflet-draw-draw-rectangle"))
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x0 + 60, y0 + 50, steps=5)
        page.mouse.up()
        page.wait_for_timeout(200)

    page.select_option("#novex-sector", "woningbouw")
    page.fill("#novex-variant", "Noord")
    rectangle(free + 120, 300)  # toevoegen, the default
    rectangle(free + 220, 300)
    page.select_option("#novex-actie", "verwijderen")  # after drawing: the last polygon takes it
    page.fill("#novex-variant", "Minder <b>water</b>")
    page.select_option("#novex-sector", "water_bodem")
    with page.expect_download() as download:
        page.mouse.click(*opened.centre(".novex-export"))
    sketch = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    properties = [feature["properties"] for feature in sketch["features"]]
    assert properties == [
        {"sector": "woningbouw", "actie": "toevoegen", "variant": "Noord"},
        {"sector": "water_bodem", "actie": "verwijderen", "variant": "Minder <b>water</b>"},
    ]
    assert (
        page.locator(".novex-status").inner_text()
        == "2 vlak(ken) in 2 variant(en) opgeslagen als schets.geojson"
    )
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


def test_the_map_moves_only_when_asked_and_follows_a_dragged_overview(browser, demo_map):
    """Two quick moves (a popup panning into view, then a pan) once made the overview map move
    the main map back a moment later, by itself: a click then hit what had moved under it."""
    opened = Opened(browser, demo_map, (1366, 768))
    moves = opened.page.evaluate(
        f"""() => new Promise((done) => {{
        const m = {MAP}, centre = m.getCenter(), zoom = m.getZoom(), log = [];
        m.once('moveend', () => {{
            m.on('movestart moveend', (event) => log.push(event.type));
            m.setView(centre, zoom, {{animate: false}});
            setTimeout(() => done({{log, at: m.latLngToContainerPoint(centre), zoom: m.getZoom()}}), 1500);
        }});
        m.panBy([60, 40]);
    }})"""
    )
    assert moves["log"] == ["movestart", "moveend"] and moves["zoom"] == opened.view[1], moves
    assert (moves["at"]["x"], moves["at"]["y"]) == (683, 384), moves
    before = opened.page.evaluate(f"() => {MAP}.getCenter()")
    box = opened.page.locator(".leaflet-control-minimap").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    opened.page.mouse.move(x, y)
    opened.page.mouse.down()
    opened.page.mouse.move(x - 20, y - 10, steps=5)
    opened.page.mouse.up()
    opened.wait_until_still()
    opened.page.wait_for_timeout(600)  # the overview's own pan, then the main map's
    after = opened.page.evaluate(f"() => {MAP}.getCenter()")
    # dragging the overview west-north by 20 × 10 px moves the main map's centre east and south
    assert after["lng"] > before["lng"] and after["lat"] < before["lat"], (before, after)
    assert opened.errors == []
    opened.close()


@pytest.fixture(scope="module")
def real_map(tmp_path_factory) -> Path:
    """The kaartsessie map of Zeeland in the real-data project: 88 schuurpunten, 564 kansen and
    52 spanningsgebieden that lie over and around each other."""
    folder = tmp_path_factory.mktemp("echte-lagen")
    project = load_project(write_real_project(folder, provincies=("Zeeland",)))
    run_overlay(project)
    run_triage(project)
    (path,) = run_maps(project)
    return path


def test_real_map_schuurpunten_kansen_and_areas_all_open_their_popup(browser, real_map):
    opened = Opened(browser, real_map, (1366, 768))
    picks = {kind: [] for kind in KINDS}
    for kind in KINDS:
        count, index = opened.page.locator(SELECTORS[kind]).count(), 0
        while len(picks[kind]) < 12 and index < count:
            point = opened.point_in_view(SELECTORS[kind], index)
            index += 1
            if point is not None:
                kinds = opened.popup_at(point)
                assert kinds.get(kind), (kind, index, point, kinds, opened.lost_clicks)
                picks[kind].append(kinds)
                opened.reset_view()  # a popup pans the map to fit, a long one (eight kansen) far
    counts = {kind: len(found) for kind, found in picks.items()}
    assert counts == {"schuurpunt": 12, "kans": 12, "spanningsgebied": 12}, counts
    assert sum("spanningsgebied" in kinds for kinds in picks["schuurpunt"]) >= 9  # both under the click
    assert opened.errors == [] and opened.dialogs == []
    opened.close()


@pytest.fixture(scope="module")
def hostile_maps(tmp_path_factory):
    """Every text field from data or the project file holds script: project name, region,
    sector label, source (layer) name, attribution and file name, feature labels, gemeente,
    annotations."""
    folder = tmp_path_factory.mktemp("vijandig")
    payload = HOSTILE + SCRIPT
    write_layer(
        folder / "regions.gpkg",
        [shapely.box(0, 0, 10_000, 10_000), shapely.box(10_000, 0, 20_000, 10_000)],
        naam=[payload, "Fryslân"],
    )
    write_layer(folder / "gemeenten.gpkg", [shapely.box(0, 0, 20_000, 10_000)], naam=[payload])
    write_layer(
        folder / "wonen.gpkg",
        [shapely.box(1_000, 1_000, 1_400, 1_300), shapely.box(9_800, 500, 10_300, 900)],
        naam=[payload, "Grensplan " + SCRIPT],
    )
    water = folder / "water<svg onload=alert(5)>.gpkg"  # no attribution: the file name is the credit
    write_layer(
        water,
        [shapely.box(900, 900, 1_700, 1_200), shapely.box(9_500, 0, 10_500, 800)],
        naam=["Boezem " + HOSTILE, "Grenswater"],
    )
    body = f"""
        [sectors.woningbouw]
        label = {json.dumps(payload)}
        colour = "#e31a1c"
        [[sectors.woningbouw.sources]]
        path = "wonen.gpkg"
        name = {json.dumps(payload)}
        label_field = "naam"
        attribution = {json.dumps("© " + payload)}
        [sectors.water_bodem]
        label = "Water en bodem"
        colour = "#1f78b4"
        [[sectors.water_bodem.sources]]
        path = {json.dumps(water.name)}
        label_field = "naam"
        [[conflicts.pairs]]
        sectors = ["woningbouw", "water_bodem"]
        [[kansen.pairs]]
        sectors = ["water_bodem", "woningbouw"]
        distance = 150
        toelichting = {json.dumps(payload)}
        also_conflict = true
        [triage]
        min_area_ha = 1
        annotations = "annotaties.csv"
        [triage.gemeenten]
        path = "gemeenten.gpkg"
        name_field = "naam"
        [triage.novex_gebieden]
        path = "gemeenten.gpkg"
        name_field = "naam"
        """
    path = write_project(folder, body, regions=folder / "regions.gpkg")
    path.write_text(
        path.read_text(encoding="utf-8").replace('name = "test"', f"name = {json.dumps(payload)}"),
        encoding="utf-8",
    )
    project = load_project(path)
    run_overlay(project)
    run_triage(project)
    notes = pd.read_csv(folder / "annotaties.csv", dtype=str, keep_default_na=False)
    notes[["criterium_4", "reden_4", "urgentie"]] = ["ja", payload, payload]
    notes.to_csv(folder / "annotaties.csv", index=False)
    run_triage(project)
    return run_maps(project, out=folder / "kaarten")


def test_script_in_every_text_field_stays_text(browser, hostile_maps):
    assert len(hostile_maps) == 3  # two provinces and the overview, each its own file
    for path in hostile_maps:
        opened = Opened(browser, path)
        page = opened.page
        for selector in ("path.leaflet-interactive", 'path.leaflet-interactive[stroke="#333333"]'):
            for index in range(page.locator(selector).count()):
                page.locator(selector).nth(index).dispatch_event("mouseover")  # every tooltip
        page.mouse.click(*opened.point_under(SELECTORS["spanningsgebied"], 0))  # under kans and schuurpunt
        page.wait_for_selector(".leaflet-popup .novex-pick-spanningsgebied")
        page.wait_for_timeout(300)
        assert page.locator(".leaflet-popup .novex-pick-schuurpunt").count() >= 1
        area = page.locator(".leaflet-popup .novex-pick-spanningsgebied").inner_text()
        # one area with a conflict and a kans of the same pair: each with its own line and hectares
        payload = HOSTILE + SCRIPT
        conflict = re.search(rf"Conflicten: {re.escape(payload)} × Water en bodem: ([\d.]+) ha", area)
        kans = re.search(rf"Kansen: Water en bodem × {re.escape(payload)}: ([\d.]+) ha", area)
        assert conflict and kans and float(conflict.group(1)) < float(kans.group(1)), area
        assert f"ligt in NOVEX-gebied {payload} (100.0 %)" in area
        text = page.locator("body").inner_text()
        assert "<img src=x onerror=alert(1)>" in text and "<svg onload=alert(3)>" in text  # shown, as text
        page.mouse.click(*opened.centre(".leaflet-popup-close-button"))
        page.wait_for_selector(".leaflet-popup", state="detached")
        page.mouse.click(*opened.point_on("path.novex-kans"))
        page.wait_for_selector(".leaflet-popup .novex-pick-kans")
        kans = page.locator(".leaflet-popup .novex-pick-kans").inner_text()
        assert kans.startswith("Kans: Water en bodem × ") and HOSTILE + SCRIPT in kans
        assert "<svg onload=alert(5)>" in page.locator(".novex-sources").get_attribute("title")
        assert page.locator('img[src="x"], svg[onload], [onerror], [onload]').count() == 0
        injected = page.evaluate(
            "() => Array.from(document.scripts).filter((s) => /^\\s*alert\\(/.test(s.text) || s.src)"
        )
        assert injected == []  # the payload's </script><script>alert(4)</script> made no script element
        assert opened.dialogs == [] and opened.errors == []
        opened.close()
