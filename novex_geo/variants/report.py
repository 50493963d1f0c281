"""The comparison of oplossingsrichtingen in words: voor- en nadelen derived from the numbers,
and ``vergelijking.md`` (the measures as rows, ``huidig`` and each variant as columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from novex_geo.config import Project
from novex_geo.config.criteria import JA
from novex_geo.escape import md_escape
from novex_geo.units import counted, ha_number, hectares

__all__ = [
    "TEXT_COLUMNS",
    "comparison_report",
    "comparison_rows",
    "measure_name",
    "pros_and_cons",
    "situation_heading",
    "situation_letter",
]

TEXT_COLUMNS = ("variant", "toelichting", "nieuw_tussen", "voordelen", "nadelen")
SEPARATOR = "; "
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHANGE_HA = 0.05  # a change smaller than this (ha) is not worth a line at the table
LOST_SHARE = 99.5  # % of a claim a sector keeps below which giving up land is a nadeel


def _schuurpunten(n: int) -> str:
    return counted(n, "schuurpunt", "schuurpunten")


def pros_and_cons(table: pd.DataFrame, i: int, created: pd.DataFrame, project: Project) -> tuple[str, str]:
    """The voordelen and nadelen of the variant in row ``i`` against ``huidig`` (row 0), as
    short clauses joined by "; "; ``created`` holds the variant's new schuurpunten."""
    if i == 0:
        return "", ""
    row, now = table.iloc[i], table.iloc[0]
    labels = project.labels
    pros: list[str] = []
    cons: list[str] = []
    if row["schuurpunten_opgelost"]:
        pros.append(f"lost {_schuurpunten(row['schuurpunten_opgelost'])} op ({hectares(row['opgelost_ha'])})")
    if row["schuurpunten_gekrompen"]:
        n = _schuurpunten(row["schuurpunten_gekrompen"])
        pros.append(f"verkleint {n} met {hectares(row['gekrompen_ha'])}")
    for pair, zones in created.groupby("conflict", sort=False):
        names = " × ".join(labels.label(key) for key in str(pair).split("×"))
        new = "nieuw schuurpunt" if len(zones) == 1 else f"{len(zones)} nieuwe schuurpunten"
        cons.append(f"{new} {names}, {hectares(zones['ha'].sum())} ({SEPARATOR.join(zones['tussen'])})")
    change = row["conflict_ha"] - now["conflict_ha"]
    if abs(change) >= CHANGE_HA:
        share = f", {100 * change / now['conflict_ha']:+.0f} %" if now["conflict_ha"] > 0 else ""
        words = f"conflict {ha_number(now['conflict_ha'])} → {hectares(row['conflict_ha'])}{share}"
        (pros if change < 0 else cons).append(words)
    gained = row["kansen_ha"] - now["kansen_ha"]
    if abs(gained) >= CHANGE_HA:
        (pros if gained > 0 else cons).append(f"kansen {gained:+.1f} ha")
    for sector in project.sectors:
        kept = row.get(f"behoud_{sector}_pct", np.nan)
        lost = now.get(f"claim_{sector}_ha", 0.0) - row.get(f"claim_{sector}_ha", 0.0)
        if not np.isnan(kept) and kept < LOST_SHARE and lost >= CHANGE_HA:
            elsewhere = _elsewhere(row, sector)
            moved = f"; {hectares(elsewhere)} elders erbij" if elsewhere else ""
            cons.append(f"{labels.label(sector)} levert {hectares(lost)} in (houdt {kept:.0f} %{moved})")
    for sector, target in project.opgaven.items():
        claimed = f"{ha_number(row[f'claim_{sector}_ha'])} van {hectares(target)}"
        met = row[f"opgave_{sector}_gehaald"] == JA
        verdict = "gehaald" if met else "niet gehaald"
        where = " in het gebied" if _elsewhere(row, sector) else ""
        (pros if met else cons).append(f"opgave {labels.label(sector)}{where} {verdict} ({claimed})")
    if now["kwalificeert"] == JA and row["kwalificeert"] != JA:
        pros.append("daarna geen spanningsgebied meer (criteria 1 en 2a)")
    elif row["kwalificeert"] == JA:
        cons.append("blijft een spanningsgebied")
    return SEPARATOR.join(pros) or "-", SEPARATOR.join(cons) or "-"


def _elsewhere(row: pd.Series, sector: str) -> float:
    """The hectares a variant adds to a sector outside the area (0 below :data:`CHANGE_HA`),
    said beside what the area loses: a claim that moves is not a claim given up."""
    elsewhere = float(row.get(f"elders_{sector}_ha", 0.0))
    return elsewhere if elsewhere >= CHANGE_HA else 0.0


MEASURES = (
    ("claim_", "_ha", "claim {} (ha)"),
    ("behoud_", "_pct", "behoud {} (%)"),
    ("conflict_", "_ha", "conflict {} (ha)"),
    ("kans_", "_ha", "kans {} (ha)"),
    ("elders_", "_ha", "{} elders erbij (ha)"),
    ("opgave_", "_ha", "opgave {} (ha)"),
    ("opgave_", "_gehaald", "opgave {} gehaald"),
)


def measure_name(column: str, labels) -> str:
    """A column's name as a table's row heading: sector keys (and pairs of them) as labels."""
    for prefix, suffix, words in MEASURES:
        if column.startswith(prefix) and column.endswith(suffix) and len(column) > len(prefix + suffix):
            keys = column[len(prefix) : -len(suffix)].split("×")
            return words.format(" × ".join(labels.label(key) if labels else key for key in keys))
    return column.replace("_", " ")


def _cell(value) -> str:
    if isinstance(value, float):
        return "-" if np.isnan(value) else f"{value:,.1f}".replace(",", " ")
    return md_escape(value) or "-"


def comparison_report(table: pd.DataFrame, area_id: str, name: str, labels) -> str:
    """``vergelijking.md``: the measures as rows, ``huidig`` and each variant as columns; then
    each variant's toelichting, voordelen and nadelen."""
    variants = [md_escape(v) for v in table["variant"]]
    lines = [
        f"# Oplossingsrichtingen voor {md_escape(name)} ({md_escape(area_id)})",
        "",
        "| | " + " | ".join(variants) + " |",
        "|---|" + "---:|" * len(variants),
    ]
    for column in table.columns:
        if column in TEXT_COLUMNS:
            continue
        if column.startswith(("claim_", "behoud_")) and not table[column].fillna(0).any():
            continue  # a sector with no claim in the area, in no variant
        cells = [_cell(value) for value in table[column]]
        lines.append(f"| {md_escape(measure_name(column, labels))} | " + " | ".join(cells) + " |")
    for row in table.iloc[1:].itertuples():
        lines += ["", f"## {md_escape(row.variant)}", ""]
        if row.toelichting:
            lines += [md_escape(row.toelichting), ""]
        lines += [f"- **voordelen**: {md_escape(row.voordelen)}", f"- **nadelen**: {md_escape(row.nadelen)}"]
    return "\n".join(lines) + "\n"


def situation_letter(i: int) -> str:
    """The letter of situation ``i``: ``huidig`` is 0, the variants are A, B, …"""
    return LETTERS[i - 1] if i <= len(LETTERS) else str(i)


def situation_heading(i: int, name: str) -> str:
    """ "huidig", "A · name", "B · name", …: how the maps, the table and the text name a situation."""
    return name if i == 0 else f"{situation_letter(i)} · {name}"


def comparison_rows(table: pd.DataFrame, project: Project) -> list[tuple[str, list[str]]]:
    """The comparison as (measure, cell per situation): the measures a snelle tafel reads
    first, in words and hectares, as the 2-pager's table shows them."""
    labels = project.labels
    rows = [("conflict (ha)", [ha_number(v) for v in table["conflict_ha"]])]
    for column in table.columns:
        if column.startswith("conflict_") and column.endswith("_ha") and column != "conflict_ha":
            rows.append((measure_name(column, labels), [ha_number(v) for v in table[column]]))
    for kind in ("opgelost", "gekrompen", "nieuw"):
        counts, ha = table[f"schuurpunten_{kind}"], table[f"{kind}_ha"]
        cells = [f"{n} ({ha_number(h)} ha)" if n else "-" for n, h in zip(counts, ha, strict=True)]
        rows.append((f"schuurpunten {kind}", cells))
    if (table["kansen_ha"] > 0).any():
        rows.append(("kansen (ha)", [ha_number(v) for v in table["kansen_ha"]]))
    for sector in project.sectors:
        kept = table.get(f"behoud_{sector}_pct")
        claimed = table.get(f"claim_{sector}_ha")
        if kept is None or claimed is None or not claimed.iloc[0] > 0:
            continue  # no claim of this sector in the area now: nothing to keep
        cells = [f"{ha_number(h)} ({k:.0f} %)" for h, k in zip(claimed, kept.fillna(0), strict=True)]
        rows.append((f"{labels.label(sector)} in gebied (ha, behoud)", cells))
        elsewhere = table.get(f"elders_{sector}_ha")
        if elsewhere is not None and (elsewhere >= CHANGE_HA).any():
            rows.append((f"{labels.label(sector)} elders erbij (ha)", [ha_number(v) for v in elsewhere]))
    for sector in project.opgaven:
        rows.append(
            (measure_name(f"opgave_{sector}_gehaald", labels), list(table[f"opgave_{sector}_gehaald"]))
        )
    rows.append(("nog spanningsgebied", [str(v).split(":")[0] for v in table["kwalificeert"]]))
    return rows
