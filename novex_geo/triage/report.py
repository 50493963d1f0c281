"""The Markdown triage report (``triage.md``): thresholds, the ranking of every area, what the
threshold of criterion 2b does, and the details per provincie."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from novex_geo.config import Triage
from novex_geo.escape import md_escape
from novex_geo.triage.criteria import CRITERIA, CRITERION
from novex_geo.triage.evaluate import SEPARATION_SHARE, recurrence

__all__ = ["DETAILS_PER_PROVINCIE", "triage_report"]

DETAILS_PER_PROVINCIE = 25


def _header(areas: gpd.GeoDataFrame, settings: Triage, project_name: str) -> list[str]:
    return [
        f"# NOVEX triage — {md_escape(project_name)}",
        "",
        f"{len(areas)} spanningsgebieden, alle in de ranglijst hieronder, gerangschikt op score = "
        f"Σ (gewicht × conflict-ha per paar) + {settings.criteria_bonus:g} × aantal criteria 'ja'. "
        "Conflict-ha is het oppervlak waar minstens één paar botst (overlappende paren tellen één keer).",
        "",
        "Gebruikte drempels: samenvoegafstand "
        f"{settings.merge_distance:g} m; stapeling vanaf {settings.min_stapeling} sectoren; criterium 2a: "
        f"≥ {settings.min_area_ha:g} ha en (max stapeling ≥ {settings.min_max_stapeling} of conflict ≥ "
        f"{settings.min_conflict_ha:g} ha); criterium 2b: grensoverschrijdend of een paar dat met ≥ "
        f"{settings.min_conflict_ha:g} ha botst in ≥ {settings.provinces_recurring} provincies. Criteria 4 "
        "en 5 en de urgentie komen alleen uit het annotatiebestand "
        f"({md_escape(settings.annotations.name) if settings.annotations else '-'}).",
        "",
        "| rang | id | naam | provincie(s) | ha | conflict-ha | score | "
        + " | ".join(c.number for c in CRITERIA)
        + " |",
        "|---:|---|---|---|---:|---:|---:|" + "---|" * len(CRITERIA),
    ]


def _ranking_row(row) -> str:
    verdicts = " | ".join(str(row[c.verdict]) for c in CRITERIA)
    return (
        f"| {row['rang']} | {row['id']} | {md_escape(row['naam'])} | {md_escape(row['provincies'])} | "
        f"{row['oppervlakte_ha']:.1f} | {row['conflict_ha']:.1f} | {row['score']:.1f} | {verdicts} |"
    )


def _recurrence(areas: gpd.GeoDataFrame, pairs: pd.DataFrame, settings: Triage) -> list[str]:
    """Criterion 2b: the provinces per pair and how many areas each threshold makes 'ja'."""
    found = recurrence(areas, pairs, settings)
    current = settings.provinces_recurring
    lines = ["", "## Criterium 2b: terugkerende conflictparen", "",
             f"Een paar telt in een provincie mee waar het in een spanningsgebied ≥ "
             f"{settings.min_conflict_ha:g} ha beslaat; het is terugkerend in ≥ {current} provincies "
             "(`[triage] provinces_recurring`).", ""]  # fmt: skip
    if not found.provinces:
        return [*lines, f"Geen paar botst met ≥ {settings.min_conflict_ha:g} ha in een spanningsgebied."]
    lines += ["| conflictpaar | provincies | aantal | terugkerend |", "|---|---|---:|---|"]
    lines += [
        f"| {md_escape(pair)} | {md_escape(', '.join(where))} | {len(where)} | "
        f"{'ja' if len(where) >= current else 'nee'} |"
        for pair, where in found.provinces.items()
    ]
    verdict = areas[CRITERION["c2b"].verdict]
    crossing = int((areas["n_provincies"] >= 2).sum())
    yes = int((verdict == "ja").sum())
    lines += ["", f"2b is `ja` voor {yes} van {len(areas)} gebieden: {crossing} over een provinciegrens, "
                  f"{yes - crossing} door een terugkerend paar. Wat de drempel doet:", "",
              "| provinces_recurring | 2b ja |", "|---:|---:|"]  # fmt: skip
    highest = max(len(where) for where in found.provinces.values())
    effect = {t: found.verdicts(areas, t)[0].count("ja") for t in range(2, max(highest + 1, current) + 1)}
    lines += [f"| {t}{' (nu)' if t == current else ''} | {n} |" for t, n in effect.items()]
    most = "ja" if yes * 2 > len(areas) else "nee"
    share = max(yes, len(areas) - yes)
    if share >= SEPARATION_SHARE * len(areas) and len(areas) >= 5:
        warning = (
            f"**Let op**: met drempel {current} is 2b `{most}` voor {share} van {len(areas)} gebieden en "
            "onderscheidt het ze nauwelijks; de tabel toont wat een andere drempel doet."
        )
        lines += ["", warning]
    return lines


def _area(row) -> list[str]:
    lines = [
        f"### {row['rang']}. {md_escape(row['naam'])} ({row['id']})",
        "",
        f"{row['oppervlakte_ha']:.1f} ha in {md_escape(row['provincies'])}; "
        f"sectoren {md_escape(row['sectoren'])}; conflict {row['conflict_ha']:.1f} ha; max stapeling "
        f"{row['max_stapeling']}, gemiddeld {row['gem_stapeling']:.2f}; score {row['score']:.1f}.",
        "",
    ]
    for criterion in CRITERIA:
        lines.append(
            f"- {criterion.title}: **{row[criterion.verdict]}** — {md_escape(row[criterion.reason])}"
        )
    lines.append(f"- objecten: {md_escape(row['objecten']) or '-'}")
    lines.append(f"- urgentie: {md_escape(row['urgentie']) or '_nog in te vullen_'}")
    lines.append("")
    return lines


def triage_report(
    areas: gpd.GeoDataFrame,
    settings: Triage,
    project_name: str,
    pairs: pd.DataFrame,
    details: int = DETAILS_PER_PROVINCIE,
) -> str:
    """The Markdown triage report.

    Every area is in the ranking; each provincie section details its ``details`` best-ranked
    areas and says how many more there are and where they are listed. ``pairs`` is the
    conflict area per (area, pair) that criterion 2b was evaluated from.
    """
    lines = _header(areas, settings, project_name) + [_ranking_row(row) for _, row in areas.iterrows()]
    lines += _recurrence(areas, pairs, settings)
    provinces = sorted({p for value in areas["provincies"] for p in value.split(", ")})
    for provincie in provinces:
        subset = areas[areas["provincies"].str.split(", ").apply(lambda ps, p=provincie: p in ps)]
        lines += ["", f"## {md_escape(provincie)}", "", f"{len(subset)} spanningsgebieden.", ""]
        for _, row in subset.head(details).iterrows():
            lines += _area(row)
        rest = subset.iloc[details:]
        if len(rest):
            lines.append(
                f"De overige {len(rest)} spanningsgebieden van {md_escape(provincie)} (rang "
                f"{', '.join(str(r) for r in rest['rang'])}) staan alleen in de ranglijst bovenaan, in "
                "spanningsgebieden.csv en in de laag spanningsgebieden van analyse.gpkg."
            )
    return "\n".join(lines) + "\n"
