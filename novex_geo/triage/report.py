"""The Markdown triage report (``triage.md``): thresholds, the ranking of every area, what the
threshold of criterion 2b does, the largest kansen outside the spanningsgebieden, and the
details per provincie (with each area's kansen and NOVEX-gebieden)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from novex_geo.config import KANS, SectorLabels, Triage
from novex_geo.config.criteria import CRITERIA, CRITERION, JA
from novex_geo.escape import md_escape
from novex_geo.triage.areas import zone_labels
from novex_geo.triage.evaluate import provinces_of, recurrence, separation
from novex_geo.triage.kansen import AreaKansen
from novex_geo.triage.novex import novex_phrase
from novex_geo.triage.robust import ROBUST, SETTLED
from novex_geo.units import HECTARE, counted, ha_number, hectares

__all__ = ["DETAILS_PER_PROVINCIE", "KANSEN_OUTSIDE", "triage_report"]

DETAILS_PER_PROVINCIE = 25
SAME_CONFLICTS_LISTED = 10  # pairs of areas of one conflict named under the ranking
KANSEN_OUTSIDE = 25  # the national list of kansen outside the spanningsgebieden shows this many


def _score(settings: Triage, kansen: AreaKansen | None) -> str:
    """How the score is made, and whether kansen count in it."""
    formula = "Σ (gewicht × conflict-ha per paar)"
    if settings.kans_weight:
        formula += f" + {settings.kans_weight:g} × Σ (gewicht × kans-ha per kanspaar)"
    formula += f" + {settings.criteria_bonus:g} × aantal criteria 'ja'"
    if kansen is None:
        return formula + "."
    counted = (
        f"Kansen tellen mee met `[triage] kans_weight` = {settings.kans_weight:g}"
        if settings.kans_weight
        else "Kansen tellen niet mee in de score (`[triage] kans_weight` = 0)"
    )
    return f"{formula}. {counted}; ze veranderen geen criterium."


def _header(areas: gpd.GeoDataFrame, settings: Triage, project_name: str, kansen) -> list[str]:
    if areas.empty:
        nothing = (
            "Geen spanningsgebieden: geen schuurpunten en geen stapeling vanaf "
            f"{settings.min_stapeling} sectoren (`[triage] min_stapeling`)."
        )
        return [f"# NOVEX triage — {md_escape(project_name)}", "", nothing]
    return [
        f"# NOVEX triage — {md_escape(project_name)}",
        "",
        f"{counted(len(areas), 'spanningsgebied', 'spanningsgebieden')}, alle in de ranglijst hieronder, "
        f"gerangschikt op score = "
        f"{_score(settings, kansen)} "
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
        "| rang | id | naam | wat botst | provincie(s) | ha | conflict-ha | score | rang bij andere weging | "
        + " | ".join(c.number for c in CRITERIA)
        + " |",
        "|---:|---|---|---|---|---:|---:|---:|---|" + "---|" * len(CRITERIA),
    ]


def _ranking_row(row) -> str:
    verdicts = " | ".join(str(row[c.verdict]) for c in CRITERIA)
    return (
        f"| {row['rang']} | {row['id']} | {md_escape(row['naam'])} | {md_escape(row['botsing'])} | "
        f"{md_escape(row['provincies'])} | {ha_number(row['oppervlakte_ha'])} | "
        f"{ha_number(row['conflict_ha'])} | {row['score']:.1f} | {_rank_range(row)} | {verdicts} |"
    )


def _same_conflicts(areas: gpd.GeoDataFrame, ranks: dict) -> list[str]:
    """Under the ranking: the areas that are two sides of one conflict at a distance, which the
    ranking counts twice."""
    pairs = sorted(
        {
            tuple(sorted((ranks[area], ranks[other])))
            for area, linked in zip(areas["id"], areas["samenhang"], strict=True)
            for other in linked.split("; ")
            if other
        }
    )
    if not pairs:
        return []
    shown = "; ".join(f"{a} en {b}" for a, b in pairs[:SAME_CONFLICTS_LISTED])
    unshown = len(pairs) - SAME_CONFLICTS_LISTED
    more = f" en {unshown} paren meer" if unshown > 0 else ""
    return [
        "",
        f"Samenhang: rang {shown}{more} liggen elk aan een kant van hetzelfde conflict op afstand "
        "(dezelfde objecten botsen; kolom samenhang). De ranglijst telt zo'n conflict in beide.",
    ]


def _rank_range(row) -> str:
    """``3–5`` for a robust area, ``3–12 ⚠`` for one whose place depends on the weighting."""
    span = f"{row['rang_min']}–{row['rang_max']}" if row["rang_min"] != row["rang_max"] else f"{row['rang']}"
    return span if row["robuustheid"] == ROBUST else f"{span} ⚠"


def _robustness(areas: gpd.GeoDataFrame, settings: Triage, labels: SectorLabels) -> list[str]:
    """How robust the ranking is: the draws, which top areas depend on the weighting, and on what."""
    if areas.empty:
        return []
    low, high = settings.robust_weight_range
    top = areas[areas["rang"] <= settings.robust_top]
    shaky = top[top["robuustheid"] != ROBUST]
    lines = [
        "",
        "## Hoe robuust is de ranglijst?",
        "",
        f"De rang van elk gebied in {settings.robust_draws} trekkingen met andere gewichten (elk paar, de "
        f"kansen en elk criterium ×{low:g} tot ×{high:g}) en drempels van 2a en 2b "
        f"(±{100 * settings.robust_threshold_share:g} %): de kolom 'rang bij andere weging'. "
        f"⚠ = afhankelijk van weging: in minder dan {100 * SETTLED:g} % en meer dan "
        f"{100 * (1 - SETTLED):g} % van de trekkingen in de top {settings.robust_top} "
        "(`[triage] robust_draws`, `robust_weight_range`, `robust_threshold_share`, `robust_top`).",
        "",
    ]
    if shaky.empty:
        return [
            *lines,
            f"Alle {len(top)} gebieden van de top {settings.robust_top} staan er bij elke redelijke weging.",
        ]
    lines += [f"In de top {settings.robust_top} hangen {len(shaky)} van {len(top)} af van de weging:", ""]
    for _, row in shaky.iterrows():
        lines.append(
            f"- {row['rang']}. {md_escape(row['naam'])}: rang {row['rang_min']}–{row['rang_max']}, in "
            f"{100 * row['kans_top']:.0f} % van de trekkingen in de top; het gevoeligst voor "
            f"{md_escape(labels.pairs(row['gevoelig_voor']))}"
        )
    moving = shaky["gevoelig_voor"].value_counts()
    lines += ["", f"Wat de top het meest verschuift: {md_escape(labels.pairs(moving.index[0]))}."]
    return lines


def _recurrence(
    areas: gpd.GeoDataFrame, pairs: pd.DataFrame, settings: Triage, labels: SectorLabels
) -> list[str]:
    """Criterion 2b: the provinces per pair and how many areas each threshold makes 'ja'."""
    found = recurrence(areas, pairs, settings)
    current = settings.provinces_recurring
    lines = [
        "",
        "## Criterium 2b: terugkerende conflictparen",
        "",
        f"Een paar telt in een provincie mee waar het in een spanningsgebied ≥ "
        f"{settings.min_conflict_ha:g} ha beslaat; het is terugkerend in ≥ {current} provincies "
        "(`[triage] provinces_recurring`).",
        "",
    ]
    if not found.provinces:
        return [*lines, f"Geen paar botst met ≥ {settings.min_conflict_ha:g} ha in een spanningsgebied."]
    lines += ["| conflictpaar | provincies | aantal | terugkerend |", "|---|---|---:|---|"]
    lines += [
        f"| {md_escape(labels.pairs(pair))} | {md_escape(', '.join(where))} | {len(where)} | "
        f"{'ja' if len(where) >= current else 'nee'} |"
        for pair, where in found.provinces.items()
    ]
    verdict = areas[CRITERION["c2b"].verdict]
    crossing = int((areas["n_provincies"] >= 2).sum())
    yes = int((verdict == JA).sum())
    lines += [
        "",
        f"2b is `ja` voor {yes} van {len(areas)} gebieden: {crossing} over een provinciegrens, "
        f"{yes - crossing} door een terugkerend paar. Wat de drempel doet:",
        "",
        "| provinces_recurring | 2b ja |",
        "|---:|---:|",
    ]
    highest = max(len(where) for where in found.provinces.values())
    effect = {t: found.verdicts(areas, t)[0].count(JA) for t in range(2, max(highest + 1, current) + 1)}
    lines += [f"| {t}{' (nu)' if t == current else ''} | {n} |" for t, n in effect.items()]
    uniform = separation(areas, settings)
    if uniform is not None:
        verdict, share = uniform
        warning = (
            f"**Let op**: met drempel {current} is 2b `{verdict}` voor {share} van {len(areas)} gebieden en "
            "onderscheidt het ze nauwelijks; de tabel toont wat een andere drempel doet."
        )
        lines += ["", warning]
    elif len(provinces := provinces_of(areas)) < current:
        lines += [
            "",
            f"Met {len(provinces)} provincie(s) in de analyse kan geen paar in ≥ {current} "
            "provincies terugkeren: 2b is hier alleen `ja` over een provinciegrens.",
        ]
    return lines


def _kansen_outside(kansen: AreaKansen, labels: SectorLabels) -> list[str]:
    """The largest kansen that lie in or near no spanningsgebied, nationally."""
    outside = kansen.outside
    lines = [
        "",
        "## Kansen buiten de spanningsgebieden",
        "",
        f"{len(outside)} kansen liggen niet in of binnen {kansen.merge_distance:g} m van een "
        f"spanningsgebied ({hectares(outside['oppervlakte_m2'].sum() / HECTARE)}).",
    ]
    if outside.empty:
        return lines
    lines += ["De grootste:", "", "| kans | toelichting | provincie | ha | objecten |"]
    lines.append("|---|---|---|---:|---|")
    for row in outside.head(KANSEN_OUTSIDE).itertuples():
        objects = f"{zone_labels(row.labels_a)} × {zone_labels(row.labels_b)}"
        lines.append(
            f"| {md_escape(labels.pairs(getattr(row, KANS.pair_column)))} | {md_escape(row.toelichting)} | "
            f"{md_escape(row.provincie)} | {ha_number(row.oppervlakte_m2 / HECTARE)} | {md_escape(objects)} |"
        )
    if len(outside) > KANSEN_OUTSIDE:
        lines += ["", f"De overige {len(outside) - KANSEN_OUTSIDE} staan in de laag kansen van analyse.gpkg."]
    return lines


def _area_kansen(row, kansen: AreaKansen, labels: SectorLabels) -> list[str]:
    """The area's section "Kansen": per kans pair its toelichting, hectares and features."""
    found = kansen.per_area[kansen.per_area["id"] == row["id"]]
    lines = ["#### Kansen", ""]
    if found.empty:
        return [*lines, f"Geen kansen in of binnen {kansen.merge_distance:g} m van dit gebied.", ""]
    lines += [f"In of binnen {kansen.merge_distance:g} m van dit gebied:", ""]
    for pair in found.itertuples():
        lines.append(
            f"- {md_escape(labels.pairs(getattr(pair, KANS.pair_column)))} ({md_escape(pair.toelichting)}): "
            f"{hectares(pair.oppervlakte_ha)} in {pair.n_kansen} kans(en) — "
            f"{md_escape(labels.objects(pair.objecten)) or '-'}"
        )
    return [*lines, ""]


def _area(row, kansen: AreaKansen | None, novex: bool, labels: SectorLabels, ranks: dict) -> list[str]:
    lines = [
        f"### {row['rang']}. {md_escape(row['naam'])} ({row['id']})",
        "",
        f"Wat botst: {md_escape(row['botsing'])}.",
        "",
        f"{hectares(row['oppervlakte_ha'])} in {md_escape(row['provincies'])}; "
        f"sectoren {md_escape(labels.sectors(row['sectoren']))}; conflict {hectares(row['conflict_ha'])}; "
        "max stapeling "
        f"{row['max_stapeling']}, gemiddeld {row['gem_stapeling']:.2f}; score {row['score']:.1f}.",
        "",
    ]
    for criterion in CRITERIA:
        lines.append(
            f"- {criterion.title}: **{row[criterion.verdict]}** — {md_escape(row[criterion.reason])}"
        )
    lines.append(f"- objecten: {md_escape(labels.objects(row['objecten'])) or '-'}")
    if row["samenhang"]:
        others = ", ".join(f"rang {ranks[other]} ({other})" for other in row["samenhang"].split("; "))
        lines.append(f"- samenhang: dezelfde objecten botsen op afstand ook in {others}")
    if novex:
        lines.append(f"- NOVEX-gebied: {md_escape(novex_phrase(row))}")
    lines.append(f"- urgentie: {md_escape(row['urgentie']) or '_nog in te vullen_'}")
    lines.append("")
    return lines + (_area_kansen(row, kansen, labels) if kansen is not None else [])


def triage_report(
    areas: gpd.GeoDataFrame,
    settings: Triage,
    project_name: str,
    pairs: pd.DataFrame,
    details: int = DETAILS_PER_PROVINCIE,
    kansen: AreaKansen | None = None,
    labels: SectorLabels | None = None,
) -> str:
    """The Markdown triage report.

    Every area is in the ranking; each provincie section details its ``details`` best-ranked
    areas and says how many more there are and where they are listed. ``pairs`` is the
    conflict area per (area, pair) that criterion 2b was evaluated from; ``kansen`` (from
    :func:`~novex_geo.triage.kansen.kansen_near_areas`, ``None`` when the project has no
    kansen) adds each area's kansen and the largest kansen outside the areas. Each area says
    in which NOVEX-gebied it lies when ``[triage.novex_gebieden]`` is set. Sectors appear by
    their ``labels``.
    """
    labels = labels or SectorLabels({})
    lines = _header(areas, settings, project_name, kansen)
    lines += [_ranking_row(row) for _, row in areas.iterrows()]
    ranks = dict(zip(areas["id"], areas["rang"], strict=True))
    lines += _same_conflicts(areas, ranks)
    lines += _robustness(areas, settings, labels)
    lines += _recurrence(areas, pairs, settings, labels)
    if kansen is not None:
        lines += _kansen_outside(kansen, labels)
    novex = settings.novex_gebieden is not None
    provinces = sorted({p for value in areas["provincies"] for p in value.split(", ")})
    for provincie in provinces:
        subset = areas[areas["provincies"].str.split(", ").apply(lambda ps, p=provincie: p in ps)]
        lines += ["", f"## {md_escape(provincie)}", "", f"{len(subset)} spanningsgebieden.", ""]
        for _, row in subset.head(details).iterrows():
            lines += _area(row, kansen, novex, labels, ranks)
        rest = subset.iloc[details:]
        if len(rest):
            lines.append(
                f"De overige {len(rest)} spanningsgebieden van {md_escape(provincie)} (rang "
                f"{', '.join(str(r) for r in rest['rang'])}) staan alleen in de ranglijst bovenaan, in "
                "spanningsgebieden.csv en in de laag spanningsgebieden van analyse.gpkg."
            )
    return "\n".join(lines) + "\n"
