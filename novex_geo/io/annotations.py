"""The user-maintained annotations file: human verdicts for criteria 4 and 5, urgency, owner.

The tool never computes criteria 4 (niet via regulier traject) and 5 (haalbaar) nor the
urgency: people fill them in per spanningsgebied id. ``novex-geo triage`` appends rows for
new spanningsgebieden and keeps what people typed exactly as it is: their extra columns,
column order, whitespace and delimiter (a ``;``-separated file from a Dutch Excel stays one).
Ids match with surrounding whitespace ignored.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from novex_geo.config.criteria import JUDGED
from novex_geo.config.criteria import VERDICTS as CRITERIA_VERDICTS
from novex_geo.errors import AnnotationsError
from novex_geo.escape import csv_cell
from novex_geo.io.files import atomic_path

__all__ = ["ANNOTATION_COLUMNS", "VERDICTS", "read_annotations", "set_annotation", "update_annotations"]

ANNOTATION_COLUMNS = [
    "id",
    "naam",
    *(column for c in JUDGED for column in c.annotation_columns),
    "urgentie",
    "eigenaar",
]
VERDICTS = {*CRITERIA_VERDICTS, ""}
DELIMITERS = (",", ";", "\t")


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
    duplicated = table.loc[table["id"].duplicated(keep=False), "id"]
    if len(duplicated):
        lines = [str(i + 2) for i in duplicated.index]
        raise AnnotationsError(
            f"{path}: id {duplicated.iloc[0]!r} occurs more than once (lines {', '.join(lines)}); "
            "keep one row per id"
        )
    for column in (criterion.annotation_columns[0] for criterion in JUDGED):
        bad = table.loc[~table[column].str.strip().str.lower().isin(VERDICTS), column]
        if len(bad):
            raise AnnotationsError(
                f"{path}: line {bad.index[0] + 2}, column {column} must be ja, nee or onbekend, "
                f"found {bad.iloc[0]!r}"
            )
    return table


def read_annotations(path: Path | None) -> pd.DataFrame:
    """The annotations keyed by id (empty frame when the file does not exist yet)."""
    if path is None or not path.exists():
        return pd.DataFrame(columns=ANNOTATION_COLUMNS).set_index("id")
    if not path.is_file():
        raise AnnotationsError(f"{path}: the annotations path is not a file")
    header, rows, _ = _read_rows(path)
    return _table(path, header, rows).set_index("id")


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
        header, delimiter, known, bom = list(ANNOTATION_COLUMNS), ",", set(), False
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
