import json
import threading
import time

import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli

from .conftest import write_layer, write_project


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def good_project(tmp_path):
    write_layer(
        tmp_path / "wonen.gpkg",
        [shapely.box(0, 0, 100, 100), shapely.box(50_000, 0, 50_100, 100)],
        naam=["a", "buiten"],
    )
    write_layer(tmp_path / "lijn.gpkg", [shapely.LineString([(0, 0), (1000, 0)])], naam=["380kV"])
    return write_project(
        tmp_path,
        """
        [sectors.woningbouw]
        [[sectors.woningbouw.sources]]
        path = "wonen.gpkg"
        label_field = "naam"
        [sectors.energie]
        [[sectors.energie.sources]]
        path = "lijn.gpkg"
        buffer = 50
        """,
    )


def test_every_command_has_help_with_example():
    for args in (["init"], ["check"], ["fetch"], ["fetch", "provincies"]):
        result = run(*args, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output or args == ["fetch"]


def test_version():
    assert "novex-geo, version" in run("--version").output


def test_check_ok_reports_counts(tmp_path):
    result = run("check", good_project(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2 features read (2 Polygon)" in result.output
    assert "1 LineString feature buffered" in result.output
    assert "1 features outside all regions" in result.output
    assert "OK: the project can be analysed." in result.output


def test_run_writes_the_self_audit_and_check_shows_it(tmp_path):
    import pyogrio

    project = good_project(tmp_path)
    result = run("run", project)
    assert result.exit_code == 0, result.output
    assert "controle: faces match the claims per provincie and sector; largest difference" in result.output
    controle = pyogrio.read_dataframe(
        tmp_path / "uit" / "analyse.gpkg", layer="controle", read_geometry=False
    )
    west = controle[(controle["provincie"] == "West") & (controle["sector"] == "woningbouw")].iloc[0]
    assert west["verwacht_m2"] == west["vlakken_m2"] == 10_000.0
    assert set(controle["sector"]) == {"woningbouw", "energie", "alle sectoren"}
    assert set(controle["provincie"]) == {"West", "Oost", "Totaal"}
    checked = run("check", project)
    assert "last run: analyse.gpkg controle: faces match the claims" in checked.output


def test_runs_written_into_one_folder_keep_their_own_files(tmp_path):
    """``--out a.gpkg`` and ``--out b.gpkg`` side by side: each its own QGIS project, summary
    and manifest, the QGIS project naming its own GeoPackage."""
    project = good_project(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in ("a", "b"):
        result = run("overlay", project, "--out", runs / f"{name}.gpkg")
        assert result.exit_code == 0, result.output
        assert f"wrote {runs / name}.gpkg and {runs / name}.samenvatting.csv" in result.output
    expected = {f"{name}{suffix}" for name in "ab" for suffix in (".gpkg", ".qgs", ".samenvatting.csv")}
    written = {path.name for path in runs.iterdir() if not path.name.startswith(".")}  # not the lock
    assert written == expected | {"a.manifest.json", "b.manifest.json"}
    assert "./a.gpkg|layername=" in (runs / "a.qgs").read_text(encoding="utf-8")
    assert "b.gpkg" not in (runs / "a.qgs").read_text(encoding="utf-8")
    # the project's own run keeps its usual names
    assert run("run", project).exit_code == 0
    assert {"analyse.gpkg", "analyse.qgs", "samenvatting.csv", "manifest.json"} <= {
        path.name for path in (tmp_path / "uit").iterdir()
    }


def test_out_never_replaces_an_input_or_a_foreign_file(tmp_path):
    """A mistyped --out stops before any work with one message, and the file stays as it was."""
    import pyogrio

    project = good_project(tmp_path)
    text = project.read_bytes()
    source = tmp_path / "wonen.gpkg"
    layers_before = pyogrio.list_layers(source).tolist()
    foreign = write_layer(tmp_path / "eigen.gpkg", [shapely.box(0, 0, 1, 1)], naam=["x"])
    (tmp_path / "raster.tif").write_bytes(b"II*\x00")
    cases = {
        project: "this is the project file",
        source: "this is a source of woningbouw",
        tmp_path / "raster.tif": "give a file name ending in .gpkg",
        foreign: "holds other layers (eigen), no novex-geo run",
        # a PostGIS schema nobody answers for: found before loading, not after the whole overlay
        "postgresql://novex@127.0.0.1:1/novex?schema=run_2026": "cannot connect",
    }
    for command in ("run", "overlay"):
        for target, message in cases.items():
            result = run(command, project, "--out", target)
            assert result.exit_code != 0 and message in result.output, (command, target, result.output)
            assert "stapeling faces" not in result.output  # refused before the work
    assert project.read_bytes() == text and pyogrio.list_layers(source).tolist() == layers_before
    assert (tmp_path / "raster.tif").read_bytes() == b"II*\x00"
    assert pyogrio.list_layers(foreign)[:, 0].tolist() == ["eigen"]
    # a run replaces a run
    again = tmp_path / "vorige.gpkg"
    assert run("run", project, "--out", again).exit_code == 0
    assert run("run", project, "--out", again).exit_code == 0


def test_a_run_never_writes_its_summary_over_a_source_beside_it(tmp_path):
    ring = "0 0, 100 0, 100 100, 0 100, 0 0"
    source = tmp_path / "samenvatting.csv"  # a source that bears the name of the run's summary
    source.write_text(f'naam,wkt\n"plan","POLYGON (({ring}))"\n', encoding="utf-8")
    project = write_project(
        tmp_path,
        """
        [sectors.woningbouw]
        [[sectors.woningbouw.sources]]
        path = "samenvatting.csv"
        crs = "EPSG:28992"
        label_field = "naam"
        """,
    )
    text = source.read_text(encoding="utf-8")
    result = run("run", project, "--out", tmp_path / "analyse.gpkg")
    assert result.exit_code != 0, result.output
    assert (
        "samenvatting.csv: this is a source of woningbouw; the run writes samenvatting.csv there"
        in result.output
    )
    assert source.read_text(encoding="utf-8") == text and not (tmp_path / "analyse.gpkg").exists()


def test_a_run_of_fewer_provinces_says_what_it_replaces(tmp_path):
    """A partial run over a triaged full run is no silent loss: it names the provinces left out
    and the triage that goes with the old run; a run over a run of the same provinces warns not."""
    project = good_project(tmp_path)
    assert run("run", project).exit_code == 0
    again = run("run", project)
    assert again.exit_code == 0 and "without" not in again.output and "triage in it" not in again.output
    assert run("triage", project).exit_code == 0
    partial = run("run", project, "--provincie", "West")
    assert partial.exit_code == 0
    assert (
        "holds a run of 2 provinces; this run of 1 replaces it, without Oost (--out keeps both)"
        in partial.output
    )
    assert "the triage in it (spanningsgebieden, conflictparen" in partial.output


def test_an_unknown_provincie_stops_map_and_grid_before_the_layers_are_loaded(tmp_path):
    project = good_project(tmp_path)
    assert run("run", project).exit_code == 0
    for command in (["map", project], ["grid", project, "-r", "25"]):
        result = run(*command, "--provincie", "Utrecht")
        assert result.exit_code != 0 and "unknown provincie 'Utrecht'; known: Oost, West" in result.output
        assert "loaded" not in result.output, command


def test_claims_away_from_the_provinces_are_said_by_the_run(tmp_path):
    project = good_project(tmp_path)  # one housing plan at x = 50 km, beyond both provinces
    result = run("run", project)
    assert (
        "woningbouw: 1 of 2 features lie away from the provinces analysed: not in the analysis"
        in result.output
    )
    write_layer(tmp_path / "lijn.gpkg", [shapely.LineString([(90_000, 0), (91_000, 0)])], naam=["ver"])
    result = run("run", project)
    assert result.exit_code == 0
    assert (
        "energie: none of its 1 features lies in the provinces analysed; its pairs find nothing"
        in result.output
    )
    said = "warning: energie: none of its 1 features lies in the regions; its pairs find nothing"
    assert said in run("check", project).output


def test_check_finds_unknown_provinces_in_the_project_file_and_names_match_however_typed(tmp_path):
    from novex_geo.config import Regions
    from novex_geo.io.regions import load_regions, select_regions

    project = good_project(tmp_path)
    text = project.read_text(encoding="utf-8").replace(
        'output = "uit"', 'output = "uit"\nprovincies = ["Utrecht"]'
    )
    project.write_text(text, encoding="utf-8")
    checked = run("check", project)
    assert checked.exit_code != 0 and "project.provincies: unknown provincie 'Utrecht'" in checked.output
    # "Fryslân" stored with a combining accent (NFD) is the "Fryslân" a user types (NFC)
    decomposed = "Frysla\u0302n"
    write_layer(tmp_path / "fr.gpkg", [shapely.box(0, 0, 1_000, 1_000)], naam=[decomposed])
    regions = load_regions(Regions(tmp_path / "fr.gpkg", name_field="naam"), "EPSG:28992")
    assert len(select_regions(regions, ["Fryslân"])) == 1 and len(select_regions(regions, ["fryslân"])) == 1


def test_a_pipe_as_a_source_and_init_without_a_name_stop_with_one_line(tmp_path):
    import os

    project = good_project(tmp_path)
    (tmp_path / "lijn.gpkg").unlink()
    os.mkfifo(tmp_path / "lijn.gpkg")  # opening a pipe waits for a writer: never, without a bound
    # should the check open it after all, a writer comes after 10 s: the test fails, not hangs
    threading.Thread(
        target=lambda: time.sleep(10) or open(tmp_path / "lijn.gpkg", "wb").close(), daemon=True
    ).start()
    result = run("check", project)
    assert result.exit_code != 0 and "not a file or folder (a pipe or device)" in result.output
    result = run("init", tmp_path / "nieuw.toml", "--name", " ")
    assert result.exit_code != 0 and "--name: give the project a name" in result.output
    assert not (tmp_path / "nieuw.toml").exists()


def test_a_dropped_schuurpunt_is_reported_once(tmp_path):
    project = good_project(tmp_path)
    pair = '[conflicts]\nmin_area_m2 = 1e12\n[[conflicts.pairs]]\nsectors = ["woningbouw", "energie"]\n'
    project.write_text(project.read_text(encoding="utf-8") + pair, encoding="utf-8")
    result = run("run", project)
    assert result.exit_code == 0, result.output
    assert sum("m² dropped" in line for line in result.output.splitlines()) == 1, result.output


def test_check_reports_the_pairs_and_those_that_are_both(tmp_path):
    path = good_project(tmp_path)
    path.write_text(
        path.read_text()
        + """
        [[conflicts.pairs]]
        sectors = ["woningbouw", "energie"]
        distance = 100
        [[kansen.pairs]]
        sectors = ["energie", "woningbouw"]
        toelichting = "zon op daken"
        also_conflict = true
        """.replace("        ", "")
    )
    result = run("check", path)
    assert result.exit_code == 0, result.output
    assert "conflict: woningbouw × energie (within 100 m, weight 1)" in result.output
    assert "kans: energie × woningbouw (overlap, weight 1): zon op daken" in result.output
    assert "both a conflict and a kans (also_conflict = true): energie × woningbouw" in result.output
    data = json.loads(run("check", path, "--json").output)
    assert data["pairs"][-1] == "both a conflict and a kans (also_conflict = true): energie × woningbouw"
    ran = run("run", path)
    assert ran.exit_code == 0, ran.output
    assert "1 schuurpunten, 1 kansen in" in ran.output and "n_kansen" in ran.output
    path.write_text(path.read_text().replace("also_conflict = true\n", ""))
    refused = run("check", path)
    assert refused.exit_code == 1 and refused.output.count("Error:") == 1
    assert "kansen.pairs[0].sectors: energie × woningbouw is also a conflict pair" in refused.output


def test_check_json(tmp_path):
    result = run("check", good_project(tmp_path), "--json")
    data = json.loads(result.output)
    assert data["ok"] is True
    assert data["regions"] == ["Oost", "West"]
    assert [s["n_outside_regions"] for s in data["sources"]] == [1, 0]
    broken = tmp_path / "kapot.toml"
    broken.write_text("[project\n")
    failed = CliRunner().invoke(cli, ["check", str(broken), "--json"])
    assert failed.exit_code == 1
    report = json.loads(failed.stdout)
    assert (report["project"], report["ok"]) == (str(broken), False)
    assert report["problems"] == [
        f"{broken}: TOML syntax error: Expected ']' at the end of a table declaration (at line 1, column 9)"
    ]


def test_check_lists_all_problems_and_fails(tmp_path):
    path = good_project(tmp_path)
    text = (
        path.read_text()
        .replace('path = "lijn.gpkg"', 'path = "ontbreekt.gpkg"')
        .replace('label_field = "naam"', 'label_field = "nam"')
        .replace('output = "uit"', 'output = "wonen.gpkg/uit"')
    )
    variant = '[[varianten]]\nnaam = "A"\nspanningsgebied = "SG-1"\nbestanden = ["schets_a.geojson"]\n'
    path.write_text(text + variant)
    result = run("check", path)
    assert result.exit_code == 1
    assert "4 problem(s)" in result.output
    assert "ontbreekt.gpkg: file not found" in result.output
    assert "field 'nam'" in result.output
    assert f"varianten 'A': file not found: {tmp_path / 'schets_a.geojson'}" in result.output
    assert (
        f"output: {tmp_path / 'wonen.gpkg' / 'uit'} cannot be a folder: {tmp_path / 'wonen.gpkg'} is a file"
        in (result.output)
    )


def test_user_mistakes_exit_nonzero_with_one_message(tmp_path):
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[project\n")
    bad_gpkg = tmp_path / "tekst.gpkg"
    bad_gpkg.write_text("geen GeoPackage")
    for args, fragment in [
        (["check", tmp_path / "missing.toml"], "project file not found"),
        (["check", bad_toml], "TOML syntax error"),
        (["grid", bad_toml, "-r", "nan"], "'nan' is not a finite number"),
        (["grid", bad_toml, "-r", "inf"], "inf is not in the range 1<=x<=10000"),
        (["diff", "a.gpkg", "b.gpkg", "--tolerance", "-5"], "-5.0 is not in the range x>=0"),
        (["diff", "a.gpkg", "b.gpkg", "--tolerance", "nan"], "'nan' is not a finite number"),
        (["fetch", "natura2000", "--timeout", "inf"], "inf is not in the range 0.1<=x<=3600"),
        (["fetch", "natura2000", "--out", bad_toml], "fetched layers are kept in a GeoPackage"),
        (["fetch", "natura2000", "--out", bad_gpkg], "exists and is no GeoPackage; it is left as it is"),
        (
            ["fetch", "natura2000", "--provincie", "Utrecht", "--regions", tmp_path / "nope.gpkg"],
            "nope.gpkg: file not found (--regions)",
        ),
    ]:
        result = run(*args)
        assert result.exit_code != 0
        assert fragment in result.output
        assert result.output.count("Error:") == 1


def test_init_writes_template_and_refuses_overwrite(tmp_path):
    target = tmp_path / "novex.toml"
    assert run("init", target, "--name", "NOVEX Fryslân").exit_code == 0
    assert 'name = "NOVEX Fryslân"' in target.read_text(encoding="utf-8")
    again = run("init", target)
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_init_keeps_any_name_and_a_byte_order_mark_is_no_syntax_error(tmp_path):
    from novex_geo import load_project

    target = tmp_path / "novex.toml"
    name = 'Noord "west"\\2026\nronde\t2\x7f'
    assert run("init", target, "--name", name).exit_code == 0
    assert load_project(target).name == name
    bom = tmp_path / "notepad.toml"  # Notepad saves UTF-8 with a byte-order mark
    bom.write_bytes(b"\xef\xbb\xbf" + good_project(tmp_path).read_bytes())
    assert load_project(bom).name == "test"


def test_min_sectoren_says_how_many_faces_it_leaves_out(tmp_path):
    import pyogrio

    project = good_project(tmp_path)
    out = tmp_path / "twee.gpkg"
    result = run("overlay", project, "--min-sectoren", "2", "--out", out)
    assert result.exit_code == 0, result.output
    written = len(pyogrio.read_dataframe(out, layer="stapeling", read_geometry=False))
    assert f"{3 - written} of 3 stapeling faces have fewer than 2 sectors (--min-sectoren)" in result.output
    many = run("overlay", project, "--min-sectoren", "9", "--out", out)
    assert "3 of 3 stapeling faces" in many.output and "the project has only 2 sectors" in many.output


def test_quiet_prints_only_errors(tmp_path):
    project = good_project(tmp_path)
    result = CliRunner().invoke(cli, ["-q", "run", str(project)])
    assert result.exit_code == 0 and result.output == ""
    failed = CliRunner().invoke(cli, ["-q", "check", str(tmp_path / "missing.toml")])
    assert failed.exit_code == 1 and "project file not found" in failed.output


def test_an_unexpected_error_is_one_line_without_v_and_a_traceback_with_it(tmp_path, monkeypatch):
    import novex_geo.cli.overlay

    def broken(*args, **kwargs):
        raise TypeError("something the tests made up")

    monkeypatch.setattr(novex_geo.cli.overlay, "run_overlay", broken)
    project = good_project(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(project)])
    assert result.exit_code == 1
    assert "unexpected TypeError: something the tests made up" in result.output and "-v" in result.output
    assert "Traceback" not in result.output
    verbose = CliRunner().invoke(cli, ["-v", "run", str(project)])
    assert isinstance(verbose.exception, TypeError)
