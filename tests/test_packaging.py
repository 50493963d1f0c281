"""The wheel users install holds every module and data file of the package."""

import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


def _expected() -> set[str]:
    package = ROOT / "novex_geo"
    files = {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    files |= {
        f"novex_geo/layers/{path.name}"
        for path in (ROOT / "layers").iterdir()
        if path.suffix in {".toml", ".py"}
    }
    return files


@pytest.mark.slow
def test_wheel_holds_every_module_and_data_file(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    assert "would be ignored" not in built.stdout + built.stderr  # setuptools lists every package
    (wheel,) = tmp_path.glob("novex_geo-*.whl")
    inside = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("novex_geo/")}
    missing = sorted(_expected() - inside)
    assert missing == [], f"missing from the wheel: {missing}"
    assert "novex_geo/layers/cbs_provincies.toml" in inside and "novex_geo/templates/novex.toml" in inside
