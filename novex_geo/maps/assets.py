"""The JavaScript and CSS of the kaartsessie maps, shipped inside the package.

Leaflet and every plugin the maps use are vendored under ``novex_geo/maps/lib/`` at pinned
versions (the npm packages of ``tests/browser/package.json``), each with its licence file.
By default they are inlined into every map, images as ``data:`` URIs, so a map works with no
network at all and can be mailed as one file; only the basemap tiles need the network. With
``mode="cdn"`` the maps reference the same versions on public CDNs instead, which keeps each
file small when the room has internet. Folium's own CDN references (jQuery, Bootstrap, Font
Awesome, ...) are dropped: the maps do not use them.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from importlib.resources import files

from branca.element import Element, Figure

__all__ = ["ASSET_MODES", "LIBRARIES", "Library", "library_file", "use_assets"]

ASSET_MODES = ("inline", "cdn")
JSDELIVR = "https://cdn.jsdelivr.net"
CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"


@dataclass(frozen=True)
class Library:
    """One vendored library: where its files live in the package and in its npm package.

    ``scripts`` and ``styles`` are ``(file, CDN URL)`` pairs in load order; ``images`` are
    the files the styles refer to (only inlining needs them); ``npm`` is the folder inside the
    npm package that holds the files (``tests/browser/vendor_assets.py`` copies them).
    """

    name: str
    version: str
    licence: str
    licence_file: str
    npm: str
    scripts: tuple[tuple[str, str], ...]
    styles: tuple[tuple[str, str], ...] = ()
    images: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


def _measure_images() -> tuple[str, ...]:
    names = ("cancel", "check", "focus", "rulers", "start", "trash")
    return tuple(f"images/{name}{size}.png" for name in names for size in ("", "_@2X"))


LIBRARIES = (
    Library(
        "leaflet",
        "1.9.3",
        "BSD-2-Clause",
        "LICENSE",
        "dist",
        scripts=(("leaflet.js", f"{JSDELIVR}/npm/leaflet@1.9.3/dist/leaflet.js"),),
        styles=(("leaflet.css", f"{JSDELIVR}/npm/leaflet@1.9.3/dist/leaflet.css"),),
        images=("images/layers.png", "images/layers-2x.png", "images/marker-icon.png"),
    ),
    Library(
        "leaflet-draw",
        "1.0.2",
        "MIT",
        "LICENSE",
        "dist",
        scripts=(("leaflet.draw.js", f"{CDNJS}/leaflet.draw/1.0.2/leaflet.draw.js"),),
        styles=(("leaflet.draw.css", f"{CDNJS}/leaflet.draw/1.0.2/leaflet.draw.css"),),
        images=("images/spritesheet.png", "images/spritesheet-2x.png", "images/spritesheet.svg"),
    ),
    Library(
        "leaflet-groupedlayercontrol",
        "0.6.1",
        "MIT",
        "LICENSE.txt",
        "dist",
        scripts=(
            (
                "leaflet.groupedlayercontrol.min.js",
                f"{CDNJS}/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.js",
            ),
        ),
        styles=(
            (
                "leaflet.groupedlayercontrol.min.css",
                f"{CDNJS}/leaflet-groupedlayercontrol/0.6.1/leaflet.groupedlayercontrol.min.css",
            ),
        ),
    ),
    Library(
        "leaflet.fullscreen",
        "3.0.0",
        "MIT",
        "LICENSE",
        "",
        scripts=(
            ("Control.FullScreen.js", f"{JSDELIVR}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js"),
        ),
        styles=(
            ("Control.FullScreen.css", f"{JSDELIVR}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css"),
        ),
        images=("icon-fullscreen.svg",),
    ),
    Library(
        "leaflet-measure",
        "2.1.7",
        "MIT",
        "LICENSE",
        "dist",
        scripts=(
            (
                "leaflet-measure.min.js",
                f"{JSDELIVR}/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js",
            ),
        ),
        styles=(
            (
                "leaflet-measure.css",
                f"{JSDELIVR}/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css",
            ),
        ),
        images=_measure_images(),
    ),
    Library(
        "leaflet-minimap",
        "3.6.1",
        "BSD-2-Clause",
        "LICENSE.txt",
        "dist",
        scripts=(("Control.MiniMap.min.js", f"{CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.min.js"),),
        styles=(("Control.MiniMap.min.css", f"{CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.min.css"),),
        images=("images/toggle.png", "images/toggle.svg"),
    ),
)
# novex-geo's own layers (lagen.js: features, raster claims, the click popup, tooltips) and
# controls (kaart.js: layout, legend, title, sketch panel): always inlined
OWN_STYLES = ("kaart.css",)
OWN_SCRIPTS = ("lagen.js", "kaart.js")
_CSS_URL = re.compile(r"""url\((['"]?)(?!data:|#|https?:)([^'")]+)\1\)""")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)


def library_file(folder: str, name: str) -> bytes:
    """The bytes of a packaged asset, ``folder`` being a library folder or ``novex``."""
    return (files("novex_geo.maps") / "lib" / folder / name).read_bytes()


def _data_uri(folder: str, name: str) -> str:
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(library_file(folder, name)).decode('ascii')}"


def _inline_css(folder: str, name: str, images: tuple[str, ...]) -> str:
    css = library_file(folder, name).decode("utf-8")

    def replace(match: re.Match) -> str:
        image = match.group(2)
        if image not in images:  # every image a style uses is listed (tested)
            raise ValueError(f"{folder}/{name} refers to {image}, which is not packaged")
        return f'url("{_data_uri(folder, image)}")'

    return _CSS_URL.sub(replace, css)


def _tag(kind: str, text: str) -> str:
    """A ``<script>`` or ``<style>`` element whose text cannot end it early."""
    safe = re.sub(rf"</(?={kind})", r"<\\/", _SOURCE_MAP.sub("", text), flags=re.IGNORECASE)
    return f"<{kind}>\n{safe}\n</{kind}>"


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


def use_assets(figure: Figure, mode: str = "inline") -> None:
    """Replace every CDN reference folium would write into ``figure`` by the packaged assets.

    ``mode`` is ``"inline"`` (everything inside the HTML) or ``"cdn"`` (the same pinned
    versions from public CDNs). novex-geo's own script and styles are inlined in both modes.
    """
    if mode not in ASSET_MODES:
        raise ValueError(f"unknown asset mode {mode!r}; use one of {', '.join(ASSET_MODES)}")
    for element in _walk(figure):
        if hasattr(element, "default_js"):
            element.default_js, element.default_css = [], []
    tags = []
    for library in LIBRARIES:
        for name, url in library.styles:
            tags.append(
                f'<link rel="stylesheet" href="{url}"/>'
                if mode == "cdn"
                else _tag("style", _inline_css(library.folder, name, library.images))
            )
        for name, url in library.scripts:
            tags.append(
                f'<script src="{url}"></script>'
                if mode == "cdn"
                else _tag("script", library_file(library.folder, name).decode("utf-8"))
            )
    tags += [_tag("style", library_file("novex", name).decode("utf-8")) for name in OWN_STYLES]
    tags += [_tag("script", library_file("novex", name).decode("utf-8")) for name in OWN_SCRIPTS]
    for index, tag in enumerate(tags):
        figure.header.add_child(Element(tag), name=f"novex_asset_{index}")
