"""The user-maintained annotations file: human verdicts for criteria 4 and 5, urgency, owner,
and the afspraken made about each spanningsgebied.

The tool never computes criteria 4 (niet via regulier traject) and 5 (haalbaar) nor the
urgency: people fill them in per spanningsgebied id. Afspraken (``afspraak``, ``eigenaar``,
``bob_fase``, ``tafel``, ``deadline``, ``status``, ``besluit``) may take more rows per id, one
per afspraak; the criteria and the urgency are read from an id's first row.

``novex-geo triage`` appends rows for new spanningsgebieden and keeps what people typed exactly
as it is: their extra columns, column order, whitespace and delimiter (a ``;``-separated file
from a Dutch Excel stays one). Ids match with surrounding whitespace ignored.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from novex_geo.config.afspraken import AFSPRAAK_COLUMNS, AFSPRAKEN_TABLE, BOB_FASEN, STATUSES
from novex_geo.config.criteria import JUDGED
from novex_geo.config.criteria import VERDICTS as CRITERIA_VERDICTS
from novex_geo.errors import AnnotationsError
from novex_geo.escape import csv_cell
from novex_geo.io.files import atomic_path

__all__ = [
    "AFSPRAAK_COLUMNS",
    "AFSPRAKEN_TABLE",
    "ANNOTATION_COLUMNS",
    "VERDICTS",
    "read_afspraken",
    "read_annotations",
    "set_annotation",
    "update_annotations",
]

ANNOTATION_COLUMNS = [
    "id",
    "naam",
    *(column for c in JUDGED for column in c.annotation_columns),
    "urgentie",
    "eigenaar",
]
VERDICTS = {*CRITERIA_VERDICTS, ""}
# what an id's first row holds for the whole area; a second row (another afspraak) leaves them empty
AREA_WIDE = [column for c in JUDGED for column in c.annotation_columns] + ["urgentie"]
DELIMITERS = (",", ";", "\t")
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y")


def _decode(path: Path) -> tuple[str, bool]:
    raw = path.read_bytes()
    if not raw.strip():
        raise AnnotationsError(
            f"{path}: the annotations file is empty; delete it and novex-geo triage writes a new one "
            f"with the columns {', '.join(ANNOTATION_COLUMNS)}"
        )
    try:
        return raw.decode("utf-8-sig"), raw.startswith(codecs.BOM_UTF8)
    except UnicodeDecodeError:
        raise AnnotationsError(f"{path}: not UTF-8 text; save the annotations as 'CSV UTF-8'") from None


def _parse(path: Path, text: str) -> tuple[list[str], list[list[str]], str]:
    """Header, rows and delimiter of the annotations text, every cell as typed."""
    first_line = text.splitlines()[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise AnnotationsError(f"{path}: cannot read the annotations CSV ({exc})") from None
    header = [name.strip() for name in rows[0]]
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    return header, [row + [""] * (len(header) - len(row)) for row in body], delimiter


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], str]:
    return _parse(path, _decode(path)[0])


def _table(path: Path, header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    missing = [c for c in ANNOTATION_COLUMNS if c not in header]
    if missing:
        raise AnnotationsError(
            f"{path}: annotations lack column(s) {', '.join(missing)}; found {', '.join(header)}"
        )
    long = [i + 2 for i, row in enumerate(rows) if len(row) > len(header)]
    if long:
        raise AnnotationsError(f"{path}: line {long[0]} has more cells than the header has columns")
    table = pd.DataFrame(rows, columns=header, dtype=str)
    table["id"] = table["id"].str.strip()
    for column in (criterion.annotation_columns[0] for criterion in JUDGED):
        _check_words(path, table, column, VERDICTS, "ja, nee or onbekend")
    if "afspraak" in table.columns:
        _check_afspraken(path, table)
    _check_repeated_ids(path, table)
    return table


def _lines(index) -> str:
    return ", ".join(str(i + 2) for i in index)


def _check_words(path: Path, table: pd.DataFrame, column: str, allowed, said: str) -> None:
    if column not in table.columns:
        return
    bad = table.loc[~table[column].str.strip().str.lower().isin(allowed), column]
    if len(bad):
        raise AnnotationsError(
            f"{path}: line {bad.index[0] + 2}, column {column} must be {said}, found {bad.iloc[0]!r}"
        )


def _check_afspraken(path: Path, table: pd.DataFrame) -> None:
    _check_words(path, table, "bob_fase", {*BOB_FASEN, ""}, " / ".join(BOB_FASEN) + " or empty")
    _check_words(path, table, "status", {*STATUSES, ""}, " / ".join(STATUSES) + " or empty")
    if "deadline" in table.columns:
        for index, text in table["deadline"].str.strip().items():
            if text and _date(text) is None:
                raise AnnotationsError(
                    f"{path}: line {index + 2}, column deadline must be a date like 2027-06-30 "
                    f"or 30-06-2027, found {text!r}"
                )


def _date(text: str) -> date | None:
    for form in DATE_FORMATS:
        with contextlib.suppress(ValueError):
            return datetime.strptime(text, form).date()
    return None


def _check_repeated_ids(path: Path, table: pd.DataFrame) -> None:
    """More rows per id only for more afspraken; what holds for the area stays on its first row."""
    repeated = table["id"].duplicated(keep=False)
    if not repeated.any():
        return
    with_afspraak = table["afspraak"].str.strip() != "" if "afspraak" in table.columns else False
    bare = table.loc[repeated & ~with_afspraak, "id"]
    if len(bare):
        lines = _lines(table.index[table["id"] == bare.iloc[0]])
        raise AnnotationsError(
            f"{path}: id {bare.iloc[0]!r} occurs more than once (lines {lines}); keep one row per "
            "id, or one row per afspraak with its afspraak column filled in"
        )
    later = table.index[table["id"].duplicated(keep="first")]
    for column in AREA_WIDE:
        filled = table.loc[later, column].str.strip() != ""
        if filled.any():
            line = filled.index[filled.to_numpy()][0]
            first = table.index[table["id"] == table.at[line, "id"]][0]
            raise AnnotationsError(
                f"{path}: line {line + 2}, column {column}: a further afspraak row of id "
                f"{table.at[line, 'id']!r} leaves {column} empty; fill it in on the id's first row "
                f"(line {first + 2})"
            )


def read_annotations(path: Path | None) -> pd.DataFrame:
    """The annotations keyed by id (empty frame when the file does not exist yet)."""
    if path is None or not path.exists():
        return pd.DataFrame(columns=ANNOTATION_COLUMNS).set_index("id")
    if not path.is_file():
        raise AnnotationsError(f"{path}: the annotations path is not a file")
    header, rows, _ = _read_rows(path)
    return _table(path, header, rows).drop_duplicates("id").set_index("id")


def read_afspraken(path: Path | None) -> pd.DataFrame:
    """One row per afspraak (rows whose ``afspraak`` is filled in): id, the file's line
    (``regel``), the afspraak's columns; deadlines as ISO dates, phases and statuses in lower
    case. Empty when the file does not exist or has no afspraak column."""
    empty = pd.DataFrame(columns=AFSPRAKEN_TABLE)
    if path is None or not path.exists():
        return empty
    header, rows, _ = _read_rows(path)
    table = _table(path, header, rows)
    if "afspraak" not in table.columns:
        return empty
    table = table[table["afspraak"].str.strip() != ""].copy()
    for column in AFSPRAKEN_TABLE[2:]:
        table[column] = table[column].str.strip() if column in table.columns else ""
    for column in ("bob_fase", "status"):
        table[column] = table[column].str.lower()
    table["deadline"] = [day.isoformat() if (day := _date(text)) else "" for text in table["deadline"]]
    table["regel"] = table.index + 2
    return table[AFSPRAKEN_TABLE].reset_index(drop=True)


def _write(path: Path, header: list[str], rows: list[list[str]], delimiter: str) -> None:
    with atomic_path(path) as temporary, temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)


def _line(cells: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="").writerow(cells)
    return buffer.getvalue()


def update_annotations(path: Path, areas: pd.DataFrame) -> int:
    """Append a row for every spanningsgebied id not yet in the file; return how many.

    The file's existing text is kept byte for byte (also rows of areas that no longer exist);
    new rows follow in the file's own delimiter and line endings.
    """
    if path.exists():
        text, bom = _decode(path)
        header, rows, delimiter = _parse(path, text)
        known = set(_table(path, header, rows)["id"])
    else:
        header, delimiter, known, bom = [*ANNOTATION_COLUMNS, *AFSPRAAK_COLUMNS], ",", set(), False
        text = _line(header, delimiter) + "\n"
    new = areas.loc[~areas["id"].isin(known), ["id", "naam"]]
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(("\n", "\r")):
        text += newline
    for area_id, name in zip(new["id"], new["naam"], strict=True):
        row = dict.fromkeys(header, "") | {"id": area_id, "naam": csv_cell(str(name))}
        text += _line([row[column] for column in header], delimiter) + newline
    with atomic_path(path) as temporary:
        temporary.write_bytes(text.encode("utf-8-sig" if bom else "utf-8"))
    return len(new)


def set_annotation(path: Path, area_id: str, values: dict[str, str]) -> None:
    """Fill in ``values`` (column → text) for ``area_id``, keeping everything else as typed."""
    header, rows, delimiter = _read_rows(path)
    table = _table(path, header, rows)
    unknown = [column for column in values if column not in header]
    if unknown:
        raise AnnotationsError(f"{path}: no column(s) {', '.join(unknown)}")
    matches = table.index[table["id"] == area_id]
    if not len(matches):
        raise AnnotationsError(f"{path}: no row with id {area_id!r}")
    for column, value in values.items():
        rows[matches[0]][header.index(column)] = value
    _write(path, header, rows, delimiter)
