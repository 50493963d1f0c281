"""The NOVEX criteria per spanningsgebied, each ``ja`` / ``nee`` / ``onbekend`` with a reason.

1 multi-sectoraal: at least one pair of the conflict matrix collides in the area;
2a specifiek gebied met spanning: area ≥ ``min_area_ha`` and (max stapeling ≥
``min_max_stapeling`` or conflict area ≥ ``min_conflict_ha``);
2b provincie-overstijgend: the area touches ≥ 2 provinces, or one of its conflict pairs occurs
in spanningsgebieden in ≥ ``provinces_recurring`` provinces;
3 prioriteit: the area intersects a configured priority layer;
4 niet via regulier traject and 5 haalbaar: only from the annotations file.

Score: ``Σ (pair weight × conflict ha) + criteria_bonus × (number of criteria 'ja')``.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import Triage
from novex_geo.triage.areas import listing
from novex_geo.triage.criteria import CRITERIA, CRITERION, VERDICT_COLUMNS

__all__ = ["evaluate_criteria"]


def _names(areas: gpd.GeoDataFrame, pairs: pd.DataFrame, gemeenten: gpd.GeoDataFrame | None) -> list[str]:
    """Place (gemeente with the largest share, else provincie) and the sectors most involved."""
    places = areas["provincies"].str.replace(", ", "/").tolist()
    if gemeenten is not None and len(gemeenten):
        area_i, gem_j = shapely.STRtree(gemeenten.geometry.values).query(
            areas.geometry.values, predicate="intersects"
        )
        overlap = shapely.area(
            shapely.intersection(areas.geometry.values[area_i], gemeenten.geometry.values[gem_j])
        )
        best = pd.DataFrame({"a": area_i, "g": gem_j, "m2": overlap}).sort_values("m2").groupby("a").tail(1)
        for a, g in zip(best["a"], best["g"], strict=True):
            places[a] = str(gemeenten["provincie"].iloc[g])
    by_area = {key: group for key, group in pairs.groupby("id", sort=False)}
    names = []
    for place, area, sectors in zip(places, areas["id"], areas["sectoren"], strict=True):
        involved = []
        if area in by_area:
            for a, b in zip(by_area[area]["sector_a"], by_area[area]["sector_b"], strict=True):
                involved += [a, b]
        involved += sectors.split("+")
        names.append(f"{place}: {' × '.join(list(dict.fromkeys(involved))[:3])}")
    return names


def _multisectoral(areas: gpd.GeoDataFrame) -> None:
    c1 = CRITERION["c1"]
    ok = areas["n_conflictparen"] > 0
    areas[c1.verdict] = np.where(ok, "ja", "nee")
    areas[c1.reason] = [
        f"{n} conflictpaar/-paren botsen: {conflicts}" if hit else
        f"{sectors.replace('+', ', ')} stapelen (max {mx}), maar geen paar uit de conflictmatrix botst"
        for hit, n, conflicts, sectors, mx in zip(ok, areas["n_conflictparen"], areas["conflicten"],
                                                  areas["sectoren"], areas["max_stapeling"], strict=True)
    ]  # fmt: skip


def _tension(areas: gpd.GeoDataFrame, settings: Triage) -> None:
    c2a = CRITERION["c2a"]
    big = areas["oppervlakte_ha"] >= settings.min_area_ha
    intense = (areas["max_stapeling"] >= settings.min_max_stapeling) | (
        areas["conflict_ha"] >= settings.min_conflict_ha
    )
    areas[c2a.verdict] = np.where(big & intense, "ja", "nee")
    areas[c2a.reason] = [
        f"{ha:.1f} ha (drempel {settings.min_area_ha:g}), max stapeling {mx} (drempel "
        f"{settings.min_max_stapeling}), conflictoppervlak {cha:.1f} ha "
        f"(drempel {settings.min_conflict_ha:g})"
        for ha, mx, cha in zip(
            areas["oppervlakte_ha"], areas["max_stapeling"], areas["conflict_ha"], strict=True
        )
    ]


def _cross_border(areas: gpd.GeoDataFrame, pairs: pd.DataFrame, settings: Triage) -> None:
    c2b = CRITERION["c2b"]
    provinces_of = dict(zip(areas["id"], areas["provincies"].str.split(", "), strict=True))
    pairs_in: dict[str, set[str]] = {}
    for area, conflict in zip(pairs["id"], pairs["conflict"], strict=True):
        pairs_in.setdefault(conflict, set()).update(provinces_of[area])
    conflicts_of = pairs.groupby("id", sort=False)["conflict"].agg(list).to_dict()
    verdicts, reasons = [], []
    for area, provincies, n in zip(areas["id"], areas["provincies"], areas["n_provincies"], strict=True):
        found = conflicts_of.get(area, [])
        recurring = {
            p: sorted(pairs_in[p]) for p in found if len(pairs_in[p]) >= settings.provinces_recurring
        }
        if n >= 2:
            verdicts.append("ja")
            reasons.append(f"ligt over de grens van {provincies.replace(', ', ' en ')}")
        elif recurring:
            pair, where = next(iter(recurring.items()))
            verdicts.append("ja")
            reasons.append(
                f"{pair} komt voor in spanningsgebieden in {len(where)} provincies ({', '.join(where)})"
            )
        else:
            verdicts.append("nee")
            seen = ", ".join(f"{p} in {len(pairs_in[p])}" for p in found) or "geen conflictparen"
            reasons.append(f"alleen in {provincies}; paren elders: {seen} provincie(s)")
    areas[c2b.verdict], areas[c2b.reason] = verdicts, reasons


def _priority(areas: gpd.GeoDataFrame, priority: Sequence[gpd.GeoDataFrame]) -> None:
    c3 = CRITERION["c3"]
    if not priority:
        areas[c3.verdict] = "onbekend"
        areas[c3.reason] = "geen prioriteitslaag geconfigureerd ([[triage.priority]])"
        return
    hits: dict[int, list[str]] = {}
    for layer in priority:
        area_i, layer_j = shapely.STRtree(layer.geometry.values).query(
            areas.geometry.values, predicate="intersects"
        )
        for a, j in zip(area_i, layer_j, strict=True):
            hits.setdefault(int(a), []).append(str(layer["label"].iloc[j]))
    areas[c3.verdict] = ["ja" if i in hits else "nee" for i in range(len(areas))]
    areas[c3.reason] = [
        f"raakt prioriteitsgebied {listing(hits[i])}" if i in hits else
        f"raakt geen van {sum(len(layer) for layer in priority)} prioriteitsgebieden"
        for i in range(len(areas))
    ]  # fmt: skip


def _judged_by_people(areas: gpd.GeoDataFrame, notes: pd.DataFrame) -> None:
    """Criteria 4 and 5, urgency and owner: only what people wrote down."""
    for criterion in (c for c in CRITERIA if c.judged_by_people):
        empty = pd.Series("", index=areas.index)
        verdict = areas["id"].map(notes[f"criterium_{criterion.number}"]) if len(notes) else empty
        reason = areas["id"].map(notes[f"reden_{criterion.number}"]) if len(notes) else empty
        verdict = verdict.fillna("").str.strip().str.lower().replace("", "onbekend")
        areas[criterion.verdict] = verdict
        areas[criterion.reason] = np.where(
            verdict == "onbekend", "nog niet beoordeeld in het annotatiebestand", reason.fillna("")
        )
    for column in ("urgentie", "eigenaar"):
        areas[column] = areas["id"].map(notes[column]).fillna("") if len(notes) else ""


def evaluate_criteria(
    areas: gpd.GeoDataFrame,
    pairs: pd.DataFrame,
    settings: Triage,
    priority: Sequence[gpd.GeoDataFrame] = (),
    gemeenten: gpd.GeoDataFrame | None = None,
    annotations: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Add name, verdicts with reasons, annotations, score and rank to ``areas``.

    ``pairs`` is the conflict area per (spanningsgebied, pair) from
    :func:`~novex_geo.triage.areas.spanningsgebieden`.
    """
    areas = areas.copy()
    areas["naam"] = _names(areas, pairs, gemeenten)
    _multisectoral(areas)
    _tension(areas, settings)
    _cross_border(areas, pairs, settings)
    _priority(areas, priority)
    _judged_by_people(areas, annotations if annotations is not None else pd.DataFrame())
    areas["n_criteria_ja"] = (areas[VERDICT_COLUMNS] == "ja").sum(axis=1)
    score = areas["gewogen_conflict_ha"] + settings.criteria_bonus * areas["n_criteria_ja"]
    areas["score"] = score.round(2)
    areas = areas.sort_values(["score", "id"], ascending=[False, True]).reset_index(drop=True)
    areas["rang"] = np.arange(1, len(areas) + 1)
    first = ["rang", "id", "naam", "score", "provincies"]
    return areas[first + [c for c in areas.columns if c not in first]]
