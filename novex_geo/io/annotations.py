"""The user-maintained annotations file: human verdicts for criteria 4 and 5, urgency, owner.

The tool never computes criteria 4 (niet via regulier traject) and 5 (haalbaar) nor the
urgency: people fill them in per spanningsgebied id. ``novex-geo triage`` adds rows for new
spanningsgebieden and never overwrites what is filled in.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from novex_geo.errors import NovexError

__all__ = ["ANNOTATION_COLUMNS", "VERDICTS", "read_annotations", "update_annotations"]

ANNOTATION_COLUMNS = [
    "id",
    "naam",
    "criterium_4",
    "reden_4",
    "criterium_5",
    "reden_5",
    "urgentie",
    "eigenaar",
]
VERDICTS = {"ja", "nee", "onbekend", ""}


def read_annotations(path: Path | None) -> pd.DataFrame:
    """The annotations keyed by id (empty frame when the file does not exist yet)."""
    if path is None or not path.exists():
        return pd.DataFrame(columns=ANNOTATION_COLUMNS).set_index("id")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise NovexError(f"{path}: cannot read the annotations CSV ({exc})") from None
    missing = [c for c in ANNOTATION_COLUMNS if c not in table.columns]
    if missing:
        raise NovexError(f"{path}: annotations lack column(s) {', '.join(missing)}")
    for column in ("criterium_4", "criterium_5"):
        bad = table.loc[~table[column].str.strip().str.lower().isin(VERDICTS), column]
        if len(bad):
            raise NovexError(f"{path}: column {column} must be ja, nee or onbekend, found {bad.iloc[0]!r}")
    return table.set_index("id")


def update_annotations(path: Path, areas: pd.DataFrame) -> int:
    """Add a row for every spanningsgebied id not yet in the file; return how many were added.

    Existing rows (also of areas that no longer exist) are kept exactly as they are.
    """
    existing = read_annotations(path)
    new = areas.loc[~areas["id"].isin(existing.index), ["id", "naam"]]
    rows = existing.reset_index()
    added = pd.DataFrame({"id": new["id"], "naam": new["naam"]}).reindex(
        columns=ANNOTATION_COLUMNS, fill_value=""
    )
    table = pd.concat([rows, added], ignore_index=True)[ANNOTATION_COLUMNS]
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8", quoting=csv.QUOTE_MINIMAL)
    return len(added)
