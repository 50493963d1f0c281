"""The Markdown triage report (``triage.md``): thresholds, ranking, and a section per provincie."""

from __future__ import annotations

import geopandas as gpd

from novex_geo.config import Triage
from novex_geo.escape import md_escape
from novex_geo.triage.criteria import CRITERIA

__all__ = ["triage_report"]


def _header(areas: gpd.GeoDataFrame, settings: Triage, project_name: str) -> list[str]:
    return [
        f"# NOVEX triage — {md_escape(project_name)}",
        "",
        f"{len(areas)} spanningsgebieden, gerangschikt op score = Σ (gewicht × conflict-ha) + "
        f"{settings.criteria_bonus:g} × aantal criteria 'ja'.",
        "",
        "Gebruikte drempels: samenvoegafstand "
        f"{settings.merge_distance:g} m; stapeling vanaf {settings.min_stapeling} sectoren; criterium 2a: "
        f"≥ {settings.min_area_ha:g} ha en (max stapeling ≥ {settings.min_max_stapeling} of conflict ≥ "
        f"{settings.min_conflict_ha:g} ha); criterium 2b: grensoverschrijdend of paar in ≥ "
        f"{settings.provinces_recurring} provincies. Criteria 4 en 5 en de urgentie komen alleen uit "
        f"het annotatiebestand ({settings.annotations.name if settings.annotations else '-'}).",
        "",
        "| rang | id | naam | ha | score | " + " | ".join(c.number for c in CRITERIA) + " |",
        "|---:|---|---|---:|---:|" + "---|" * len(CRITERIA),
    ]


def _area(row) -> list[str]:
    lines = [
        f"### {row['rang']}. {md_escape(row['naam'])} ({row['id']})",
        "",
        f"{row['oppervlakte_ha']:.1f} ha in {md_escape(row['provincies'])}; "
        f"sectoren {md_escape(row['sectoren'])}; max stapeling {row['max_stapeling']}, "
        f"gemiddeld {row['gem_stapeling']:.2f}; score {row['score']:.1f}.",
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


def triage_report(areas: gpd.GeoDataFrame, settings: Triage, project_name: str, top: int = 25) -> str:
    """The Markdown triage report: thresholds, ranking, and a section per provincie."""
    lines = _header(areas, settings, project_name)
    for _, row in areas.head(top).iterrows():
        verdicts = " | ".join(str(row[c.verdict]) for c in CRITERIA)
        lines.append(
            f"| {row['rang']} | {row['id']} | {md_escape(row['naam'])} | {row['oppervlakte_ha']:.1f} | "
            f"{row['score']:.1f} | {verdicts} |"
        )
    provinces = sorted({p for value in areas["provincies"] for p in value.split(", ")})
    for provincie in provinces:
        subset = areas[areas["provincies"].str.split(", ").apply(lambda ps, p=provincie: p in ps)]
        lines += ["", f"## {md_escape(provincie)}", "", f"{len(subset)} spanningsgebieden.", ""]
        for _, row in subset.head(top).iterrows():
            lines += _area(row)
    return "\n".join(lines) + "\n"
