"""The package layout stays readable: import contracts, module and function sizes, one home
for each schema, no import-time side effects."""

import ast
import json
import re
import subprocess
import sys

import pytest
import shapely

from .conftest import ROOT, sectors_toml, write_layer, write_project

PACKAGE = ROOT / "novex_geo"
MODULES = sorted(PACKAGE.rglob("*.py"))


def test_import_contracts_hold():
    pytest.importorskip("importlinter")
    # in a process of its own: import-linter reconfigures logging for the whole interpreter
    checked = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout[-3000:]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_400_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_no_function_over_60_lines():
    long = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            functions = (ast.FunctionDef, ast.AsyncFunctionDef)
            if isinstance(node, functions) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert long == []


def test_every_run_layer_and_output_name_is_spelled_in_one_place():
    """The run format's names are string literals in io/run.py only; everyone else uses its
    constants. Not checked: "provincies", "spanningsgebieden" and "afspraken" (also columns and
    plain words),
    the zone kinds' "schuurpunten" and "kansen" (config.model.ZoneKind owns them), grid mode's
    "stapeling" raster, and the manifest's JSON key "invoer" (its list of inputs)."""
    from novex_geo.io.run import AREAS_CSV, PARTS, SIGNALS_FOLDER, TRIAGE_MD

    names = {*PARTS, "analyse.gpkg", "samenvatting.csv", AREAS_CSV, TRIAGE_MD, "kaarten", SIGNALS_FOLDER}
    names -= {"provincies", "spanningsgebieden", "afspraken", "kansen", "schuurpunten"}
    allowed = {"io/run.py": names, "grid.py": {"stapeling"}, "io/manifest.py": {"invoer"}}
    spelled = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value}"
        for path in MODULES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and node.value in names
        and node.value not in allowed.get(str(path.relative_to(PACKAGE)), set())
    ]
    assert spelled == []


def test_every_criteria_column_is_named_in_one_place():
    names = re.compile(
        r"\bc(?:1|2a|2b|3|4|5)_(?:multisectoraal|spanning|overstijgend|prioriteit|regulier|haalbaar|reden)\b"
    )
    homes = {
        name: [p.name for p in MODULES if name in p.read_text(encoding="utf-8")]
        for name in {m for p in MODULES for m in names.findall(p.read_text(encoding="utf-8"))}
    }
    assert len(homes) == 12
    assert all(files == ["criteria.py"] for files in homes.values()), homes


def test_no_import_time_backend_switch_and_no_demo_name_test():
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            text = ast.unparse(node)
            assert "matplotlib.use" not in text, path
        assert "DEMO_MARK in" not in path.read_text(encoding="utf-8"), path


def test_the_formatter_formats_everything():
    """No ``fmt: skip``/``fmt: off``: ruff format (run by .ci/run) decides the layout everywhere."""
    marked = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in MODULES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"#\s*fmt:\s*(skip|off)", line)
    ]
    assert marked == []


MAP_STACK = ("novex_geo.maps", "folium", "branca", "matplotlib.pyplot", "matplotlib.figure")
LOADED_BY = """
import json, sys
from click.testing import CliRunner
from novex_geo.cli.main import cli
result = CliRunner().invoke(cli, sys.argv[1:])
stack = {stack!r}
print(json.dumps({{"exit": result.exit_code, "output": result.output,
                  "loaded": sorted(m for m in sys.modules if m.startswith(stack))}}))
"""


@pytest.mark.parametrize("command", ["run", "check", "triage"])
def test_the_analysis_commands_do_not_load_the_map_stack(tmp_path, command):
    """The renderers cost a third of a second to import: a run, a check and a triage load none
    of them."""
    write_layer(tmp_path / "wonen.gpkg", [shapely.box(1_000, 1_000, 3_000, 3_000)], naam=["Wijk"])
    write_layer(tmp_path / "water.gpkg", [shapely.box(2_000, 2_000, 4_000, 4_000)], naam=["Berging"])
    body = sectors_toml(woningbouw="wonen.gpkg", water_bodem="water.gpkg")
    project = write_project(tmp_path, body + '[[conflicts.pairs]]\nsectors = ["woningbouw", "water_bodem"]\n')
    if command == "triage":
        run = [sys.executable, "-m", "novex_geo.cli.main", "run", str(project)]
        subprocess.run(run, check=True, capture_output=True, timeout=120)
    script = LOADED_BY.format(stack=MAP_STACK)
    found = subprocess.run(
        [sys.executable, "-c", script, command, str(project)], capture_output=True, text=True, timeout=120
    )
    report = json.loads(found.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0, report["output"]
    assert report["loaded"] == []
