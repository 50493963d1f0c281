"""Real-browser tests of the kaartsessie maps: headless Chromium (Debian package) via Playwright.

The maps load Leaflet and its plugins from CDNs; there is no internet here, so every CDN
request is answered from the npm packages in ``tests/browser/node_modules`` (``npm ci --prefix
tests/browser``). Basemap tiles are not served: tile failures are network noise, not errors.
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import shapely

from novex_geo import load_project
from novex_geo.pipeline import run_maps

from .conftest import ROOT, housing_and_water_project

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ASSETS = Path(__file__).parent / "browser" / "node_modules"
CDNJS = {  # cdnjs library → npm package (and folder) holding the same files
    "Leaflet.awesome-markers": "drmonty-leaflet-awesome-markers",
    "leaflet-groupedlayercontrol": "leaflet-groupedlayercontrol/dist",
    "leaflet-minimap": "leaflet-minimap/dist",
    "leaflet.draw": "leaflet-draw/dist",
}
HOSTILE = "<img src=x onerror=alert(1)> `whoami` ${alert(1)}"

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
    ),
    pytest.mark.skipif(not ASSETS.exists(), reason="needs the map assets: npm ci --prefix tests/browser"),
]


def local_asset(url: str) -> Path | None:
    """The local copy of a CDN asset, trying the non-minified name when the package lacks it."""
    parts = urlsplit(url)
    path = parts.path
    if parts.netloc == "cdn.jsdelivr.net" and path.startswith("/npm/"):
        package, _, rest = path[len("/npm/") :].partition("/")
        if package.startswith("@"):
            scope_name, _, rest = rest.partition("/")
            package = f"{package}/{scope_name}"
        candidate = ASSETS / package.rsplit("@", 1)[0] / rest
    elif parts.netloc == "cdn.jsdelivr.net" and path.startswith("/gh/ljagis/leaflet-measure"):
        candidate = ASSETS / "leaflet-measure" / path.split("/", 4)[-1]
    elif parts.netloc == "cdnjs.cloudflare.com":
        library, file = path.split("/")[3], "/".join(path.split("/")[5:])
        folder = CDNJS.get(library)
        if folder is None:
            return None
        candidate = ASSETS / folder / file
        if not candidate.exists():
            candidate = next((ASSETS / folder).rglob(Path(file).name), candidate)
    elif parts.netloc == "code.jquery.com":
        candidate = ASSETS / "jquery" / "dist" / path.lstrip("/").replace("jquery-3.7.1", "jquery")
    else:
        return None
    for option in (
        candidate,
        candidate.with_name(candidate.name.replace(".min.", ".")),
        candidate.with_name(candidate.name.replace(".js", ".min.js").replace(".css", ".min.css")),
    ):
        if option.is_file():
            return option
    return None


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


def open_map(browser, path: Path):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    missing, errors, dialogs = [], [], []

    def route(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            return route.continue_()
        asset = local_asset(url)
        if asset is not None:
            return route.fulfill(path=str(asset))
        if url.endswith((".css", ".js")):
            missing.append(url)
            return route.fulfill(
                status=200, body="", content_type="text/css" if url.endswith(".css") else "text/javascript"
            )
        return route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-interactive")
    return page, errors, dialogs, missing


@pytest.fixture(scope="module")
def hostile_map(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kaart")
    homes = [shapely.box(1_000 + 300 * i, 1_000, 1_200 + 300 * i, 1_200) for i in range(5)]
    water = [shapely.box(900, 900, 1_700, 1_300), shapely.box(9_000, 5_000, 11_000, 6_000)]
    labels = [HOSTILE] + [f"Plan {i}" for i in range(1, 5)]
    project = housing_and_water_project(folder, homes, labels, water, ["Boezem", "Grenswater"])
    (utrecht,) = run_maps(project, ["Utrecht"], folder / "maps")
    return utrecht


def paths(page, colour: str) -> int:
    return page.locator(f'path.leaflet-interactive[stroke="{colour}"]').count()


def test_map_draws_layers_without_errors_and_layer_control_hides_them(browser, hostile_map):
    page, errors, dialogs, missing = open_map(browser, hostile_map)
    assert errors == [] and dialogs == []
    assert not [url for url in missing if url.endswith(".js")], missing  # only unused CSS is stubbed
    assert paths(page, "#e31a1c") == 5  # five housing plans
    assert paths(page, "#1f78b4") == 2  # both water zones touch Utrecht
    page.locator("label:visible", has_text="Woningbouw").locator("input").first.click()
    assert paths(page, "#e31a1c") == 0
    assert paths(page, "#1f78b4") == 2
    page.locator("label:visible", has_text="Woningbouw").locator("input").first.click()
    assert paths(page, "#e31a1c") == 5


def test_spanningsgebied_popup_names_sectors_and_hostile_text_stays_text(browser, hostile_map):
    page, errors, dialogs, _ = open_map(browser, hostile_map)
    area = page.locator('path.leaflet-interactive[stroke="black"]').first
    box = area.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "water_bodem, woningbouw" in text
    assert HOSTILE in text  # shown literally, not interpreted
    assert popup.locator("img").count() == 0
    # the plan with the hostile name is the first housing feature; open its tooltip
    page.locator('path.leaflet-interactive[stroke="#e31a1c"]').first.dispatch_event("mouseover")
    tooltip = page.locator(".leaflet-tooltip").last
    tooltip.wait_for()
    assert tooltip.inner_text().strip() == HOSTILE
    assert tooltip.locator("img").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == [] and errors == []


def test_demo_map_screenshot(browser, tmp_path):
    from click.testing import CliRunner

    from novex_geo.cli.main import cli

    demo = tmp_path / "demo"
    assert CliRunner().invoke(cli, ["-q", "demo", "--out", str(demo)]).exit_code == 0
    project = load_project(demo / "novex.toml")
    (path,) = run_maps(project, ["Westmark"], demo / "maps")
    page, errors, dialogs, _ = open_map(browser, path)
    assert errors == [] and dialogs == []
    page.locator("label:visible", has_text="Stapeling").locator("input").first.click()
    page.wait_for_timeout(300)
    target = (
        ROOT / "maps" / "demo_westmark.png"
        if os.environ.get("NOVEX_UPDATE_SCREENSHOT")
        else tmp_path / "shot.png"
    )
    page.screenshot(path=str(target))
    assert target.stat().st_size > 50_000
    assert re.search(r"fictieve demodata", page.content())


def test_sketch_export_carries_the_picked_sector(browser, hostile_map):
    page, errors, _, _ = open_map(browser, hostile_map)
    page.select_option("#novex-sector", "water_bodem")
    exported = page.evaluate(
        """() => {
            const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
            const drawn = window[Object.keys(window).find((k) => k.startsWith("drawnItems"))];
            const layer = L.polygon([[48.1, 3.32], [48.1, 3.33], [48.11, 3.33]]);
            map.fire("draw:created", {layer: layer, layerType: "polygon"});
            return drawn.toGeoJSON();
        }"""
    )
    assert errors == []
    (feature,) = exported["features"]
    assert feature["properties"]["sector"] == "water_bodem"
    assert feature["geometry"]["type"] == "Polygon"
