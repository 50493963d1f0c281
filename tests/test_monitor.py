"""The voortgangsmeter (``novex-geo monitor``) and the afspraken in the annotations file."""

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.errors import AnnotationsError
from novex_geo.io.annotations import (
    AFSPRAAK_COLUMNS,
    AFSPRAKEN_TABLE,
    ANNOTATION_COLUMNS,
    read_afspraken,
    read_annotations,
)
from novex_geo.triage.monitor import Cycle, follow_areas

HEADER = ",".join([*ANNOTATION_COLUMNS, *AFSPRAAK_COLUMNS])
EMPTY_AREA_WIDE = ",,,,,"  # criterium_4, reden_4, criterium_5, reden_5, urgentie


def areas(*rows) -> gpd.GeoDataFrame:
    """Spanningsgebieden as triage writes them: (id, box, conflict ha, rank)."""
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "naam": [f"Gebied {r[0]}" for r in rows],
            "conflict_ha": [r[2] for r in rows],
            "score": [10.0 - r[3] for r in rows],
            "rang": [r[3] for r in rows],
            "c1": ["ja"] * len(rows),
        },
        geometry=[shapely.box(*r[1]) for r in rows],
        crs="EPSG:28992",
    )


def afspraken(*rows) -> pd.DataFrame:
    """(id, afspraak, fase, status, deadline) rows as read_afspraken gives them."""
    return pd.DataFrame(
        columns=AFSPRAKEN_TABLE,
        data=[
            {"id": r[0], "regel": "2", "afspraak": r[1], "eigenaar": "provincie", "bob_fase": r[2]}
            | {"tafel": "DO NOVEX", "status": r[3], "deadline": r[4], "besluit": ""}
            for r in rows
        ],
    )


NONE = afspraken()


def test_a_continued_area_keeps_its_afspraken_with_a_line_per_cycle_and_a_split_carries_them_to_both():
    cycles = [
        Cycle(
            "2025",
            areas(("A", (0, 0, 1000, 1000), 50.0, 1)),
            afspraken(("A", "Gebiedsproces", "beeldvorming", "open", "2026-03-01")),
        ),
        # the id changed with the geometry; people keep the id they typed
        Cycle(
            "2026",
            areas(("A2", (0, 0, 1000, 1100), 40.0, 1)),
            afspraken(("A", "Gebiedsproces", "oordeelsvorming", "loopt", "2026-03-01")),
        ),
        # split in two: both parts carry the afspraak, marked
        Cycle(
            "2027",
            areas(("B1", (0, 0, 400, 1100), 30.0, 1), ("B2", (600, 0, 1000, 1100), 45.0, 2)),
            afspraken(("A", "Gebiedsproces", "besluitvorming", "afgerond", "2026-03-01")),
        ),
    ]
    result = follow_areas(cycles, date(2027, 6, 1))
    assert list(result.sporen["spoor"]) == ["B1", "B2"]
    for part in ("B1", "B2"):
        history = result.table[result.table["spoor"] == part]
        assert list(history["cyclus"]) == ["2025", "2026", "2027"]
        assert list(history["status"]) == ["eerste cyclus", "voortgezet", "gesplitst"]
        assert list(history["fase"]) == ["beeldvorming", "oordeelsvorming", "besluitvorming"]
        assert list(history["n_afspraken"]) == [1, 1, 1]
        assert "overgenomen van A (gesplitst)" in history["afspraken"].iloc[2]
    assert list(result.table.loc[result.table["spoor"] == "B2", "conflict_ha"]) == [50.0, 40.0, 45.0]
    # B2 grew from 40 to 45 ha while its afspraak is afgerond; B1 shrank
    assert list(result.grew_although_done["spoor"]) == ["B2"]
    assert result.overdue.empty  # afgerond, not overdue although the deadline passed


def test_an_afspraak_past_its_deadline_is_listed_also_on_a_resolved_area():
    cycles = [
        Cycle("2025", areas(("A", (0, 0, 1000, 1000), 50.0, 1), ("Z", (5000, 0, 6000, 1000), 20.0, 2)), NONE),
        Cycle(
            "2026",
            areas(("A", (0, 0, 1000, 1000), 50.0, 1)),
            afspraken(
                ("A", "Kaartsessie", "beeldvorming", "open", "2027-01-01"),
                ("Z", "Sluiten", "", "loopt", "2026-01-31"),
            ),
        ),
    ]
    result = follow_areas(cycles, date(2026, 6, 1))
    assert list(result.overdue["afspraak"]) == ["Sluiten"]  # Kaartsessie's deadline is still ahead
    resolved = result.sporen[result.sporen["spoor"] == "Z"].iloc[0]
    assert resolved["status"] == "opgelost in 2026" and resolved["n_over_deadline"] == 1
    last = result.table[result.table["spoor"] == "Z"].iloc[-1]
    assert last["status"] == "opgelost" and last["conflict_ha"] == 0.0 and "Sluiten" in last["afspraken"]


def test_merged_and_new_areas():
    cycles = [
        Cycle("1", areas(("A", (0, 0, 100, 100), 1.0, 1), ("B", (200, 0, 300, 100), 2.0, 2)), NONE),
        Cycle("2", areas(("C", (0, 0, 300, 100), 3.0, 1), ("N", (900, 900, 950, 950), 0.5, 2)), NONE),
    ]
    table = follow_areas(cycles, date(2026, 1, 1)).table
    assert table.loc[table["spoor"] == "C", "ids"].tolist() == ["B; A", "C"]  # largest conflict first
    assert table.loc[table["spoor"] == "C", "conflict_ha"].tolist() == [3.0, 3.0]
    assert table.loc[table["spoor"] == "C", "status"].tolist()[-1] == "samengevoegd"
    assert table.loc[table["spoor"] == "N", "status"].tolist() == ["nieuw"]


def test_a_cycle_without_spanningsgebieden_is_followed_like_any_other():
    # a first year that found none, then one with two areas, then none again
    cycles = [
        Cycle("1", areas(), NONE),
        Cycle("2", areas(("A", (0, 0, 100, 100), 1.0, 1), ("B", (200, 0, 300, 100), 2.0, 2)), NONE),
        Cycle("3", areas(), NONE),
    ]
    table = follow_areas(cycles, date(2026, 1, 1)).table
    assert sorted(table.loc[table["status"] == "nieuw", "spoor"]) == ["A", "B"]
    assert table.groupby("spoor")["status"].last().to_dict() == {"A": "opgelost", "B": "opgelost"}


def annotations_file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "annotaties.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_more_afspraken_per_id_are_read_as_rows_and_the_criteria_from_the_first_row(tmp_path):
    path = annotations_file(
        tmp_path,
        "SG-1,Gebied,ja,niet regulier,,,hoog,provincie,Kaartsessie,Beeldvorming,DO NOVEX,30-06-2027,open,",
        "SG-1,Gebied,,,,,,Rijk,Snelle tafel,oordeelsvorming,snelle tafel,2027-09-01,loopt,",
        "SG-2,Ander,,,,,,,,,,,,",
    )
    assert read_annotations(path).loc["SG-1", "criterium_4"] == "ja"
    rows = read_afspraken(path)
    assert rows[["id", "afspraak", "bob_fase", "deadline", "regel"]].values.tolist() == [
        ["SG-1", "Kaartsessie", "beeldvorming", "2027-06-30", 2],
        ["SG-1", "Snelle tafel", "oordeelsvorming", "2027-09-01", 3],
    ]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("SG-1,G,,,,,,,Kaartsessie,besluit,,,,", "line 2, column bob_fase must be beeldvorming"),
        ("SG-1,G,,,,,,,Kaartsessie,,,1 juli,,", "line 2, column deadline must be a date"),
        ("SG-1,G,,,,,,,Kaartsessie,,,2027-02-30,,", "line 2, column deadline must be a date"),
        ("SG-1,G,,,,,,,Kaartsessie,,,,klaar,", "line 2, column status must be open / loopt"),
    ],
)
def test_bad_afspraak_values_name_line_and_column(tmp_path, line, said):
    with pytest.raises(AnnotationsError, match=said):
        read_annotations(annotations_file(tmp_path, line))


def test_a_repeated_id_needs_an_afspraak_and_leaves_the_criteria_to_its_first_row(tmp_path):
    bare = annotations_file(
        tmp_path, "SG-1,G" + EMPTY_AREA_WIDE + ",,,,,,,", "SG-1,G" + EMPTY_AREA_WIDE + ",,,,,,,"
    )
    with pytest.raises(AnnotationsError, match=r"id 'SG-1' occurs more than once \(lines 2, 3\)"):
        read_annotations(bare)
    twice = annotations_file(tmp_path, "SG-1,G,ja,,,,,,Een,,,,,", "SG-1,G,nee,,,,,,Twee,,,,,")
    with pytest.raises(AnnotationsError, match=r"line 3, column criterium_4: .* first row \(line 2\)"):
        read_annotations(twice)


def write_run(path: Path, frame: gpd.GeoDataFrame, kept: pd.DataFrame | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_file(path, layer="spanningsgebieden", engine="pyogrio")
    if kept is not None:
        pyogrio.write_dataframe(kept, path, layer="afspraken", driver="GPKG")
    return path


def test_monitor_command_writes_the_voortgangsmeter_and_a_chart(tmp_path):
    old = write_run(tmp_path / "2025" / "analyse.gpkg", areas(("A", (0, 0, 1000, 1000), 50.0, 1)), None)
    kept = afspraken(("A", "=cmd|' /C calc'!A0", "oordeelsvorming", "open", "2026-01-01"))
    new = write_run(tmp_path / "2026" / "analyse.gpkg", areas(("A2", (0, 0, 1000, 900), 45.0, 1)), kept)
    result = CliRunner().invoke(
        cli, ["monitor", str(old), str(new), "--out", str(tmp_path / "v"), "--peildatum", "2026-06-01"]
    )
    assert result.exit_code == 0, result.output
    assert "1 spanningsgebied followed over 2 runs: 1 active, 0 resolved; 1 afspraak past" in result.output
    text = (tmp_path / "v" / "voortgang.md").read_text(encoding="utf-8")
    assert "Cycli: 2025 → 2026" in text and "![Voortgang van Gebied A2](voortgang/A2.png)" in text
    assert (tmp_path / "v" / "voortgang" / "A2.png").read_bytes()[:4] == b"\x89PNG"
    csv = (tmp_path / "v" / "voortgang.csv").read_text(encoding="utf-8")
    assert "'=cmd" in csv  # a formula in an afspraak stays text in a spreadsheet
    header, first = csv.splitlines()[:2]
    assert dict(zip(header.split(","), first.split(","), strict=False))["rang"] == "1"  # not "1.00"
    layer = gpd.read_file(tmp_path / "v" / "voortgang.gpkg", layer="voortgang")
    assert layer[["spoor", "n_over_deadline"]].values.tolist() == [["A2", 1]]
    same = CliRunner().invoke(cli, ["monitor", str(old), str(old)])
    assert same.exit_code != 0 and "each with its own name" in same.output


def test_what_people_typed_stays_text_in_the_voortgangsmeter():
    from novex_geo.triage.monitor import voortgang_report

    hostile = "<script>alert(1)</script> | **vet**\n[link](http://x)"
    cycles = [
        Cycle("<b>2025</b>", areas(("A", (0, 0, 1000, 1000), 5.0, 1)), NONE),
        Cycle("2026", areas(("B", (0, 0, 1000, 1000), 6.0, 1)), afspraken(("A", hostile, "", "open", ""))),
    ]
    text = voortgang_report(follow_areas(cycles, date(2026, 6, 1)), {})
    assert "<script>" not in text and "<b>" not in text and "[link](" not in text
    assert "&lt;script&gt;" in text and "&lt;b&gt;2025" in text
    line = next(line for line in text.splitlines() if line.startswith("| 2026"))
    assert line.count(" | ") == 7  # the pipe in the afspraak breaks no table cell


def test_a_small_area_never_reads_as_nothing_in_the_voortgangsmeter():
    from novex_geo.triage.monitor import voortgang_report

    cycles = [
        Cycle("2025", areas(("A", (0, 0, 1000, 1000), 0.05, 1), ("Z", (5000, 0, 6000, 1000), 2.0, 2)), NONE),
        Cycle("2026", areas(("A2", (0, 0, 1000, 1000), 0.04, 1)), NONE),
    ]
    text = voortgang_report(follow_areas(cycles, date(2026, 6, 1)), {})
    assert (
        "| 2025 | A | eerste cyclus | 0.05 | 1 |" in text and "| 2026 | A2 | voortgezet | 0.04 | 1 |" in text
    )
    resolved = next(line for line in text.splitlines() if line.startswith("| 2026") and "opgelost" in line)
    assert resolved.split(" | ")[4] == ""  # a resolved line has no rank (and no crash over it)
