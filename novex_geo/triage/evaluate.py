"""The NOVEX criteria per spanningsgebied, each ``ja`` / ``nee`` / ``onbekend`` with a reason.

1 multi-sectoraal: at least one pair of the conflict matrix collides in the area;
2a specifiek gebied met spanning: area ≥ ``min_area_ha`` and (max stapeling ≥
``min_max_stapeling`` or conflict area ≥ ``min_conflict_ha``);
2b provincie-overstijgend: the area touches ≥ 2 provinces, or one of its conflict pairs occurs
in spanningsgebieden in ≥ ``provinces_recurring`` provinces;
3 prioriteit: the area intersects a configured priority layer;
4 niet via regulier traject and 5 haalbaar: only from the annotations file.

Kansen and NOVEX-gebieden change no criterion. Score: ``Σ (pair weight × conflict ha) +
kans_weight × Σ (kans weight × kans ha) + criteria_bonus × (number of criteria 'ja')``, where
``kans_weight`` is 0 unless the project sets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import SectorLabels, Triage
from novex_geo.config.criteria import CRITERION, JA, JUDGED, NEE, ONBEKEND, VERDICT_COLUMNS
from novex_geo.triage.areas import FEATURES, listing
from novex_geo.triage.kansen import AreaKansen, add_kansen_columns
from novex_geo.triage.names import area_names
from novex_geo.triage.novex import NovexShares, add_novex_columns
from novex_geo.triage.robust import robustness
from novex_geo.units import counted, hectares

__all__ = ["Recurrence", "evaluate_criteria", "provinces_of", "recurrence", "separation"]


MAX_SECTORS_NAMED = 3
# criterion 2b "does not separate" when at least this share of the areas gets one verdict
SEPARATION_SHARE = 0.9


def _involved(areas: gpd.GeoDataFrame, pairs: pd.DataFrame, labels: SectorLabels) -> list[str]:
    """Per area the sectors most involved, by label: those of its conflict pairs (largest
    first), then the others present — ``Woningbouw × Water en bodem``, three at most."""
    by_area = {key: group for key, group in pairs.groupby("id", sort=False)}
    texts = []
    for area, present in zip(areas["id"], areas["sectoren"], strict=True):
        involved = []
        if area in by_area:
            for a, b in zip(by_area[area]["sector_a"], by_area[area]["sector_b"], strict=True):
                involved += [a, b]
        keys = list(dict.fromkeys(involved + present.split("+")))[:MAX_SECTORS_NAMED]
        texts.append(" × ".join(labels.label(key) for key in keys))
    return texts


def _multisectoral(areas: gpd.GeoDataFrame, labels: SectorLabels) -> None:
    c1 = CRITERION["c1"]
    ok = areas["n_conflictparen"] > 0
    areas[c1.verdict] = np.where(ok, JA, NEE)
    areas[c1.reason] = [
        f"{counted(n, 'conflictpaar botst', 'conflictparen botsen')}: {labels.pairs(conflicts)}"
        if hit
        else f"{labels.sectors(sectors)} stapelen (max {mx}), maar geen paar uit de conflictmatrix botst"
        for hit, n, conflicts, sectors, mx in zip(
            ok,
            areas["n_conflictparen"],
            areas["conflicten"],
            areas["sectoren"],
            areas["max_stapeling"],
            strict=True,
        )
    ]


def _tension(areas: gpd.GeoDataFrame, settings: Triage) -> None:
    c2a = CRITERION["c2a"]
    big = areas["oppervlakte_ha"] >= settings.min_area_ha
    intense = (areas["max_stapeling"] >= settings.min_max_stapeling) | (
        areas["conflict_ha"] >= settings.min_conflict_ha
    )
    areas[c2a.verdict] = np.where(big & intense, JA, NEE)
    areas[c2a.reason] = [
        f"{hectares(ha)} (drempel {settings.min_area_ha:g}), max stapeling {mx} (drempel "
        f"{settings.min_max_stapeling}), conflictoppervlak {hectares(cha)} "
        f"(drempel {settings.min_conflict_ha:g})"
        for ha, mx, cha in zip(
            areas["oppervlakte_ha"], areas["max_stapeling"], areas["conflict_ha"], strict=True
        )
    ]


@dataclass
class Recurrence:
    """Where each conflict pair occurs with at least ``min_conflict_ha`` in a spanningsgebied.

    ``provinces`` maps a pair to the provinces of those areas; ``pairs`` is the conflict area
    per (area, pair) that it was counted from.
    """

    provinces: dict[str, list[str]]
    pairs: pd.DataFrame
    min_conflict_ha: float

    def recurring(self, threshold: int) -> dict[str, list[str]]:
        """The pairs found in at least ``threshold`` provinces."""
        return {pair: where for pair, where in self.provinces.items() if len(where) >= threshold}

    def verdicts(self, areas: gpd.GeoDataFrame, threshold: int) -> tuple[list[str], list[str]]:
        """Criterion 2b per area (verdict, reason) with ``threshold`` provinces for a recurring pair."""
        recurring = self.recurring(threshold)
        own = self.pairs.groupby("id", sort=False)["conflict"].agg(list).to_dict()
        verdicts, reasons = [], []
        for area, provincies, n in zip(areas["id"], areas["provincies"], areas["n_provincies"], strict=True):
            found = own.get(area, [])
            hits = [pair for pair in found if pair in recurring]
            if n >= 2:
                verdicts.append(JA)
                reasons.append(f"ligt over de grens van {provincies.replace(', ', ' en ')}")
            elif hits:
                where = recurring[hits[0]]
                verdicts.append(JA)
                reasons.append(
                    f"{hits[0]} botst (≥ {self.min_conflict_ha:g} ha) in spanningsgebieden in {len(where)} "
                    f"provincies ({', '.join(where)}); drempel {threshold}"
                )
            else:
                verdicts.append(NEE)
                seen = "; ".join(f"{p} botst in {len(self.provinces[p])} provincie(s)" for p in found)
                reasons.append(
                    f"alleen in {provincies}; {seen} (drempel {threshold})"
                    if found
                    else f"alleen in {provincies}; geen conflictpaar met ≥ {self.min_conflict_ha:g} ha"
                )
        return verdicts, reasons


def recurrence(areas: gpd.GeoDataFrame, pairs: pd.DataFrame, settings: Triage) -> Recurrence:
    """The provinces per conflict pair behind criterion 2b.

    Only pairs that collide with at least ``min_conflict_ha`` in an area count, for that area
    and for the provinces the pair recurs in: a corner where a plan touches a parcel makes
    neither its area nor its provincie part of a provincie-overstijgende opgave.
    """
    material = pairs[pairs["oppervlakte_ha"] >= settings.min_conflict_ha]
    provinces_of = dict(zip(areas["id"], areas["provincies"].str.split(", "), strict=True))
    where: dict[str, set[str]] = {}
    for area, conflict in zip(material["id"], material["conflict"], strict=True):
        where.setdefault(conflict, set()).update(provinces_of[area])
    return Recurrence({p: sorted(s) for p, s in sorted(where.items())}, material, settings.min_conflict_ha)


def _cross_border(areas: gpd.GeoDataFrame, pairs: pd.DataFrame, settings: Triage) -> None:
    c2b = CRITERION["c2b"]
    found = recurrence(areas, pairs, settings)
    areas[c2b.verdict], areas[c2b.reason] = found.verdicts(areas, settings.provinces_recurring)


def provinces_of(areas: gpd.GeoDataFrame) -> set[str]:
    """The provinces the areas lie in."""
    return {name for value in areas["provincies"] for name in str(value).split(", ")}


def separation(areas: gpd.GeoDataFrame, settings: Triage) -> tuple[str, int] | None:
    """The verdict of criterion 2b and how many areas get it, when nearly all do although the
    threshold could separate them (the analysis spans at least ``provinces_recurring``
    provinces); ``None`` otherwise. With fewer provinces 2b is ``ja`` only across a border,
    by design, and nothing is wrong with the threshold."""
    verdicts = areas[CRITERION["c2b"].verdict]
    if len(areas) < 5 or len(provinces_of(areas)) < settings.provinces_recurring:
        return None
    counts = verdicts.value_counts()
    return (
        (str(counts.idxmax()), int(counts.max())) if counts.max() >= SEPARATION_SHARE * len(areas) else None
    )


def _priority(areas: gpd.GeoDataFrame, priority: Sequence[gpd.GeoDataFrame]) -> None:
    c3 = CRITERION["c3"]
    if not priority:
        areas[c3.verdict] = ONBEKEND
        areas[c3.reason] = "geen prioriteitslaag geconfigureerd ([[triage.priority]])"
        return
    hits: dict[int, list[str]] = {}
    for layer in priority:
        area_i, layer_j = shapely.STRtree(layer.geometry.values).query(
            areas.geometry.values, predicate="intersects"
        )
        for a, j in zip(area_i, layer_j, strict=True):
            hits.setdefault(int(a), []).append(str(layer["label"].iloc[j]))
    areas[c3.verdict] = [JA if i in hits else NEE for i in range(len(areas))]
    areas[c3.reason] = [
        f"raakt prioriteitsgebied {listing(hits[i])}"
        if i in hits
        else f"raakt geen van {sum(len(layer) for layer in priority)} prioriteitsgebieden"
        for i in range(len(areas))
    ]


def _judged_by_people(areas: gpd.GeoDataFrame, notes: pd.DataFrame) -> None:
    """Criteria 4 and 5, urgency and owner: only what people wrote down."""
    for criterion in JUDGED:
        empty = pd.Series("", index=areas.index)
        verdict_column, reason_column = criterion.annotation_columns
        verdict = areas["id"].map(notes[verdict_column]) if len(notes) else empty
        reason = areas["id"].map(notes[reason_column]) if len(notes) else empty
        verdict = verdict.fillna("").str.strip().str.lower().replace("", ONBEKEND)
        areas[criterion.verdict] = verdict
        areas[criterion.reason] = np.where(
            verdict == ONBEKEND, "nog niet beoordeeld in het annotatiebestand", reason.fillna("")
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
    kansen: AreaKansen | None = None,
    novex: NovexShares | None = None,
    labels: SectorLabels | None = None,
) -> gpd.GeoDataFrame:
    """Add name, what collides (``botsing``, by sector label), verdicts with reasons,
    annotations, kansen, NOVEX-gebieden, score and rank.

    ``pairs`` is the conflict area per (spanningsgebied, pair) from
    :func:`~novex_geo.triage.areas.spanningsgebieden`; ``kansen`` from
    :func:`~novex_geo.triage.kansen.kansen_near_areas` and ``novex`` from
    :func:`~novex_geo.triage.novex.novex_shares` (``None``: not configured).
    """
    areas = areas.copy()
    add_kansen_columns(areas, kansen)
    add_novex_columns(areas, novex)
    labels = labels or SectorLabels({})
    areas["naam"] = area_names(areas, list(areas[FEATURES]), gemeenten, labels.labels)
    areas["botsing"] = _involved(areas, pairs, labels)
    areas = areas.drop(columns=FEATURES)
    _multisectoral(areas, labels)
    _tension(areas, settings)
    _cross_border(areas, pairs, settings)
    c2b = CRITERION["c2b"]
    areas[c2b.reason] = areas[c2b.reason].map(labels.pairs)  # the pairs it names, by label
    _priority(areas, priority)
    _judged_by_people(areas, annotations if annotations is not None else pd.DataFrame())
    areas["n_criteria_ja"] = (areas[VERDICT_COLUMNS] == JA).sum(axis=1)
    score = (
        areas["gewogen_conflict_ha"]
        + settings.kans_weight * areas["gewogen_kans_ha"]
        + settings.criteria_bonus * areas["n_criteria_ja"]
    )
    areas["score"] = score.round(2)
    areas = areas.sort_values(["score", "id"], ascending=[False, True]).reset_index(drop=True)
    areas["rang"] = np.arange(1, len(areas) + 1)
    areas = areas.join(robustness(areas, pairs, settings))
    first = ["rang", "id", "naam", "botsing", "score", "provincies"]
    return areas[first + [c for c in areas.columns if c not in first]]
