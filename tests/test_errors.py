"""One error class per kind of failure: no module makes the bare base class, every class is on
docs/errors.md, and known failures raise their class (still a NovexError)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from filelock import FileLock

import novex_geo
from novex_geo import errors
from novex_geo.errors import (
    AnnotationsError,
    CatalogError,
    ClusterError,
    DatabaseError,
    NovexError,
    OutputError,
    RunError,
    UsageError,
)

from .conftest import ROOT

PACKAGE = ROOT / "novex_geo"
ERRORS_PAGE = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
CLASSES = [
    value
    for value in vars(errors).values()
    if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == errors.__name__
]


def bare_base_errors(folder: Path) -> list[str]:
    """``file:line`` of every ``NovexError(...)`` made in the modules under ``folder``: raised or
    returned, it tells a caller no more than that something failed."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call):
                called = node.func
                name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", None)
                if name == "NovexError":
                    found.append(f"{path.relative_to(folder)}:{node.lineno}")
    return found


def test_no_module_makes_a_bare_novex_error():
    assert bare_base_errors(PACKAGE) == []


def test_a_bare_novex_error_is_found(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "planted.py").write_text(
        "from novex_geo import errors\nfrom novex_geo.errors import NovexError\n\n\n"
        "def f():\n    raise NovexError('x')\n\n\ndef g():\n    return errors.NovexError('y')\n",
        encoding="utf-8",
    )
    assert bare_base_errors(tmp_path) == ["sub/planted.py:6", "sub/planted.py:10"]


def test_every_error_class_is_documented_exported_and_a_novex_error():
    headings = set(re.findall(r"^### `(\w+)`$", ERRORS_PAGE, flags=re.MULTILINE))
    assert {cls.__name__ for cls in CLASSES} == headings
    assert sorted(cls.__name__ for cls in CLASSES) == sorted(errors.__all__)
    for cls in CLASSES:
        assert cls.__doc__, cls.__name__
        assert cls.__name__ in ERRORS_PAGE.split("## The classes")[0], f"{cls.__name__} not in the tree"
        if cls is not errors.Terminated:
            assert issubclass(cls, NovexError), cls.__name__
            assert getattr(novex_geo, cls.__name__) is cls, f"novex_geo does not re-export {cls.__name__}"


def test_errors_is_a_leaf_module():
    tree = ast.parse((PACKAGE / "errors.py").read_text(encoding="utf-8"))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name and name.startswith("novex_geo")]


def test_no_run_yet_is_a_run_error(tmp_path):
    from novex_geo.io.run import read_run

    with pytest.raises(RunError, match="no analysis yet; run novex-geo run first") as raised:
        read_run(tmp_path / "analyse.gpkg")
    assert isinstance(raised.value, NovexError)


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("", "the annotations file is empty"),
        (
            "{header}\nS1,a,misschien\n",
            "line 2, column criterium_4 must be ja, nee or onbekend, found 'misschien'",
        ),
        ("{header}\nS1,a\nS1,b\n", "id 'S1' occurs more than once (lines 2, 3)"),
        ("id,naam\nS1,a\n", "annotations lack column(s) criterium_4"),
        ("{header}\nS1,café\n", "not UTF-8 text"),
    ],
)
def test_a_malformed_annotations_file_is_an_annotations_error(tmp_path, rows, said):
    from novex_geo.io.annotations import ANNOTATION_COLUMNS, read_annotations

    path = tmp_path / "annotaties.csv"
    path.write_bytes(rows.format(header=",".join(ANNOTATION_COLUMNS)).encode("cp1252"))
    with pytest.raises(AnnotationsError, match=re.escape(said)):
        read_annotations(path)


def test_a_held_folder_lock_is_an_output_error(tmp_path):
    from novex_geo.io.files import LOCK_NAME, output_lock

    held = "another novex-geo command is writing into this folder"
    with (
        FileLock(tmp_path / LOCK_NAME, timeout=0),
        pytest.raises(OutputError, match=held),
        output_lock(tmp_path),
    ):
        pass
    with output_lock(tmp_path):
        pass  # free again once released


def test_an_output_folder_that_is_a_file_is_an_output_error(tmp_path):
    from novex_geo.io.files import ensure_folder

    (tmp_path / "uit").write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputError, match="the output folder is a file"):
        ensure_folder(tmp_path / "uit")


def test_a_malformed_catalogue_entry_and_an_unknown_key_are_catalog_errors():
    from novex_geo.fetch.catalog import _parse, get_entry

    with pytest.raises(CatalogError, match=re.escape("layers/x.toml: catalogue entry lacks")):
        _parse("x.toml", {"key": "x"})
    with pytest.raises(
        CatalogError, match=re.escape("unknown catalogue key 'natura200' (did you mean 'natura2000'?)")
    ):
        get_entry("natura200")


def test_a_run_url_without_schema_is_a_database_error():
    from novex_geo.io.run import location_of

    with pytest.raises(DatabaseError, match="add the schema to write the run into"):
        location_of("postgresql://novex@localhost/geo")


def test_a_bad_dask_wait_is_a_cluster_error(monkeypatch):
    from novex_geo import cluster

    monkeypatch.setenv(cluster.WORKER_WAIT_ENV, "lang")
    with pytest.raises(ClusterError, match="give the seconds to wait for a dask worker"):
        cluster._worker_wait()


def test_a_provincie_and_a_bbox_is_a_usage_error_and_a_value_error(tmp_path):
    from novex_geo.fetch.datasets import fetch_dataset

    with pytest.raises(UsageError, match="give a provincie or a bbox, not both") as raised:
        fetch_dataset("natura2000", tmp_path / "x.gpkg", provincie="Utrecht", bbox=(0, 0, 1, 1))
    assert isinstance(raised.value, ValueError)


def test_the_cli_shows_a_specific_error_as_one_line_and_exit_1():
    from novex_geo.cli.main import cli

    result = CliRunner().invoke(cli, ["catalog", "--sector", "geen_sector"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("Error: no sector 'geen_sector' in the catalogue; sectors: ")
