"""The map assets ship inside the package, pinned, with their licences, and a map needs none
from the network (the browser proof is in test_browser.py)."""

import json
import re
import tomllib

import folium
import pytest

from novex_geo.maps.assets import LIBRARIES, library_file, use_assets

from .conftest import ROOT

MAPS = ROOT / "novex_geo" / "maps"
NPM = ROOT / "tests" / "browser"
README = (ROOT / "docs" / "maps.md").read_text(encoding="utf-8")  # where the licences are listed


def packaged(library) -> list[str]:
    return (
        [name for name, _ in library.scripts + library.styles] + list(library.images) + [library.licence_file]
    )


@pytest.mark.parametrize("library", LIBRARIES, ids=lambda library: library.name)
def test_every_asset_and_licence_is_in_the_package(library):
    for name in packaged(library):
        assert len(library_file(library.folder, name)) > 100, name
    licence = library_file(library.folder, library.licence_file).decode("utf-8")
    assert "Copyright" in licence and ("Permission" in licence or "Redistribution" in licence)
    assert all(
        f"@{library.version}/" in url or f"/{library.version}/" in url
        for _, url in library.scripts + library.styles
    )
    assert re.search(
        rf"{re.escape(library.name)}\s*\|?\s*{re.escape(library.version)}.*{library.licence}", README
    )


def test_versions_agree_with_the_npm_pins():
    pinned = json.loads((NPM / "package.json").read_text(encoding="utf-8"))["dependencies"]
    for library in LIBRARIES:
        assert pinned[library.name] == library.version


@pytest.mark.slow  # needs the npm packages, which .ci/run installs (a fresh clone has none)
def test_files_agree_with_the_npm_packages():
    if not (NPM / "node_modules").exists():
        pytest.skip("npm packages not installed (npm ci --prefix tests/browser)")
    from tests.browser.vendor_assets import npm_path

    for library in LIBRARIES:
        for name in packaged(library):
            source = npm_path(library, name)
            if source.exists():  # Leaflet.draw's npm package has no licence file
                assert source.read_bytes() == library_file(library.folder, name), (library.name, name)


def test_package_data_declares_every_asset():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["novex_geo.maps"]
    declared = {path for pattern in patterns for path in MAPS.glob(pattern) if path.is_file()}
    shipped = {path for path in (MAPS / "lib").rglob("*") if path.is_file()}
    assert shipped and shipped <= declared


def test_inline_maps_refer_to_nothing_outside_and_cdn_maps_to_pinned_urls():
    for mode in ("inline", "cdn"):
        map_ = folium.Map(tiles=None)
        use_assets(map_.get_root(), mode)
        page = map_.get_root().render()
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
        urls = re.findall(r"url\(([^)]*)\)", page)
        if mode == "inline":
            assert sources == [] and all(url.startswith(('"data:', "#")) for url in urls), urls[:3]
            assert "L.Control.Draw" in page and "novexKaart" in page
        else:
            expected = [url for library in LIBRARIES for _, url in library.styles + library.scripts]
            assert sorted(sources) == sorted(expected)
            assert "novexKaart" in page  # novex-geo's own script is inlined in both modes
        assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
