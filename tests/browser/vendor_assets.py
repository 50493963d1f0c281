"""Copy the map assets from the npm packages (``npm ci --prefix tests/browser``) into the package.

The versions are pinned twice, in ``package.json`` and in :data:`novex_geo.maps.assets.LIBRARIES`;
``tests/test_maps_assets.py`` checks that both agree and that the packaged files are the npm
files byte for byte. Run after changing a version:

    npm ci --prefix tests/browser && python tests/browser/vendor_assets.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from novex_geo.maps.assets import LIBRARIES

HERE = Path(__file__).parent
PACKAGE_LIB = HERE.parents[1] / "novex_geo" / "maps" / "lib"


def npm_path(library, name: str) -> Path:
    """Where the npm package holds a file of ``library``; the licence is at the package root."""
    root = HERE / "node_modules" / library.name
    return root / name if name == library.licence_file else root / library.npm / name


def vendored_files(library) -> list[str]:
    return (
        [name for name, _ in library.scripts + library.styles] + list(library.images) + [library.licence_file]
    )


def main() -> None:
    pinned = json.loads((HERE / "package.json").read_text(encoding="utf-8"))["dependencies"]
    for library in LIBRARIES:
        if pinned.get(library.name) != library.version:
            raise SystemExit(
                f"{library.name}: package.json pins {pinned.get(library.name)}, "
                f"novex_geo.maps.assets {library.version}"
            )
        target = PACKAGE_LIB / library.folder
        for name in vendored_files(library):
            source = npm_path(library, name)
            if not source.exists():
                print(f"{library.name}: {name} is not in the npm package; keep the packaged copy")
                continue
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / name)
        print(f"{library.folder}: {len(vendored_files(library))} files")


if __name__ == "__main__":
    main()
