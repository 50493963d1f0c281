"""How robust the ranking is: the rank of every spanningsgebied under weights and thresholds
that people might reasonably have chosen otherwise.

With a fixed seed, every draw multiplies each conflict pair's weight, the kans weight and each
criterion's bonus by a factor drawn log-uniformly from ``robust_weight_range`` (default ×0.5 to
×2), and the thresholds of criteria 2a and 2b (area, max stapeling, conflict hectares, the
number of provinces a pair must recur in) by a factor within ±``robust_threshold_share`` (25 %);
the verdicts of 2a and 2b are recomputed, the score and the ranking too. All draws at once, as
arrays: an area × draw matrix per quantity, no loop over areas.

Per area: ``rang_min`` and ``rang_max`` over the draws, ``kans_top`` (the share of draws in
the top ``robust_top``), ``robuustheid`` (``robuust`` when the area is in the top in at least
90 % of the draws or in at most 10 %; else ``afhankelijk van weging``) and ``gevoelig_voor``,
the weight or threshold whose factor moves its rank most (rank correlation over the draws).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from novex_geo.config import Triage
from novex_geo.config.criteria import CRITERIA, JA

__all__ = ["ROBUST", "ROBUST_COLUMNS", "SETTLED", "robustness"]

ROBUST, DEPENDS = "robuust", "afhankelijk van weging"
ROBUST_COLUMNS = ["rang_min", "rang_max", "kans_top", "robuustheid", "gevoelig_voor"]
SETTLED = 0.9  # in (or out of) the top in at least this share of draws: robust
KANSEN_WEIGHT = "gewicht kansen"
SEED = 2026
# the thresholds of criteria 2a and 2b that are varied, by their project-file key
THRESHOLDS = {
    "min_area_ha": "drempel oppervlakte (2a)",
    "min_max_stapeling": "drempel max stapeling (2a)",
    "min_conflict_ha": "drempel conflict-ha (2a, 2b)",
    "provinces_recurring": "drempel provincies (2b)",
}


@dataclass
class _Draws:
    """The factor of every varied weight and threshold in every draw (name → array of draws)."""

    factors: dict[str, np.ndarray]

    @classmethod
    def make(cls, names: list[str], settings: Triage, draws: int) -> _Draws:
        rng = np.random.default_rng(SEED)
        low, high = np.log(settings.robust_weight_range[0]), np.log(settings.robust_weight_range[1])
        share = settings.robust_threshold_share
        factors = {name: np.exp(rng.uniform(low, high, draws)) for name in names}
        factors |= {THRESHOLDS[name]: rng.uniform(1 - share, 1 + share, draws) for name in THRESHOLDS}
        return cls(factors)


def _pair_hectares(areas: pd.DataFrame, pairs: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The pairs, their weights, and the conflict hectares per (area, pair)."""
    names = sorted(set(pairs["conflict"]))
    table = pairs.pivot_table(index="id", columns="conflict", values="oppervlakte_ha", aggfunc="sum")
    hectares = table.reindex(index=areas["id"], columns=names).fillna(0.0).to_numpy()
    weights = pairs.groupby("conflict")["gewicht"].first().reindex(names).to_numpy(dtype=float)
    return names, weights, hectares


def _tension(areas: pd.DataFrame, settings: Triage, draws: _Draws) -> np.ndarray:
    """Criterion 2a per area and draw under the drawn thresholds."""
    f = draws.factors
    big = areas["oppervlakte_ha"].to_numpy()[:, None] >= settings.min_area_ha * f[THRESHOLDS["min_area_ha"]]
    stacked = (
        areas["max_stapeling"].to_numpy()[:, None]
        >= settings.min_max_stapeling * f[THRESHOLDS["min_max_stapeling"]]
    )
    conflict = (
        areas["conflict_ha"].to_numpy()[:, None]
        >= settings.min_conflict_ha * f[THRESHOLDS["min_conflict_ha"]]
    )
    return big & (stacked | conflict)


def _cross_border(areas: pd.DataFrame, pairs: pd.DataFrame, settings: Triage, draws: _Draws) -> np.ndarray:
    """Criterion 2b per area and draw: across a border, or a pair that collides materially here
    and in at least the drawn number of provinces."""
    f = draws.factors
    n_draws = len(f[THRESHOLDS["min_conflict_ha"]])
    across = np.repeat((areas["n_provincies"].to_numpy() >= 2)[:, None], n_draws, axis=1)
    if pairs.empty:
        return across
    row_of = {area: i for i, area in enumerate(areas["id"])}
    area_index = pairs["id"].map(row_of).to_numpy()
    pair_index, pair_names = pd.factorize(pairs["conflict"])
    material = (
        pairs["oppervlakte_ha"].to_numpy()[:, None]
        >= settings.min_conflict_ha * f[THRESHOLDS["min_conflict_ha"]]
    )
    # the provinces each pair collides materially in, per draw
    provinces = areas["provincies"].str.split(", ").to_numpy()[area_index]
    rows = np.repeat(np.arange(len(pairs)), [len(p) for p in provinces])
    province_index, _ = pd.factorize(np.concatenate(provinces))
    seen = np.zeros((len(pair_names), province_index.max() + 1, n_draws), dtype=bool)
    np.logical_or.at(seen, (pair_index[rows], province_index), material[rows])
    recurring = seen.sum(axis=1) >= settings.provinces_recurring * f[THRESHOLDS["provinces_recurring"]]
    hit = np.zeros((len(areas), n_draws), dtype=bool)
    np.logical_or.at(hit, area_index, material & recurring[pair_index])
    return across | hit


def _ranks(scores: np.ndarray, ids: pd.Series) -> np.ndarray:
    """Rank 1, 2, … per draw (column): highest score first, ties by id, as the triage ranks."""
    tie = np.argsort(np.argsort(ids.to_numpy()))
    order = np.lexsort((np.broadcast_to(tie[:, None], scores.shape), -np.round(scores, 2)), axis=0)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, len(scores) + 1)[:, None], axis=0)
    return ranks


def _most_moving(ranks: np.ndarray, draws: _Draws) -> list[str]:
    """Per area the varied weight or threshold whose factor correlates most with its rank."""
    names = list(draws.factors)
    factors = np.array([pd.Series(draws.factors[name]).rank().to_numpy() for name in names])
    ordered = pd.DataFrame(ranks.T).rank().to_numpy().T  # ranks of the ranks, per area
    factors = factors - factors.mean(axis=1, keepdims=True)
    ordered = ordered - ordered.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(ordered, axis=1)[:, None] * np.linalg.norm(factors, axis=1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.abs(ordered @ factors.T) / norms
    correlation = np.nan_to_num(correlation)
    return [names[j] if correlation[i, j] > 0 else "" for i, j in enumerate(correlation.argmax(axis=1))]


def robustness(areas: pd.DataFrame, pairs: pd.DataFrame, settings: Triage) -> pd.DataFrame:
    """:data:`ROBUST_COLUMNS` for ``areas`` (evaluated and ranked), in their order."""
    if areas.empty or settings.robust_draws == 0:
        in_top = (areas["rang"] <= settings.robust_top).astype(float)
        unvaried = {"rang_min": areas["rang"], "rang_max": areas["rang"], "kans_top": in_top}
        return pd.DataFrame({**unvaried, "robuustheid": ROBUST, "gevoelig_voor": ""}, index=areas.index)
    names, weights, hectares = _pair_hectares(areas, pairs)
    bonuses = [f"bonus criterium {criterion.title}" for criterion in CRITERIA]
    varied = [*(f"gewicht {name}" for name in names), KANSEN_WEIGHT, *bonuses]
    draws = _Draws.make(varied, settings, settings.robust_draws)
    f = draws.factors
    pair_factors = np.array([f[f"gewicht {name}"] for name in names]).reshape(
        len(names), settings.robust_draws
    )
    scores = hectares @ (weights[:, None] * pair_factors)
    scores += settings.kans_weight * f[KANSEN_WEIGHT] * areas["gewogen_kans_ha"].to_numpy()[:, None]
    verdicts = {c.key: (areas[c.verdict] == JA).to_numpy()[:, None] for c in CRITERIA}
    verdicts["c2a"] = _tension(areas, settings, draws)
    verdicts["c2b"] = _cross_border(areas, pairs, settings, draws)
    for criterion, bonus in zip(CRITERIA, bonuses, strict=True):
        scores += settings.criteria_bonus * f[bonus] * verdicts[criterion.key]
    ranks = _ranks(scores, areas["id"])
    top = (ranks <= settings.robust_top).mean(axis=1)
    settled = (top >= SETTLED) | (top <= 1 - SETTLED)
    return pd.DataFrame(
        {
            "rang_min": ranks.min(axis=1),
            "rang_max": ranks.max(axis=1),
            "kans_top": top.round(3),
            "robuustheid": np.where(settled, ROBUST, DEPENDS),
            "gevoelig_voor": _most_moving(ranks, draws),
        },
        index=areas.index,
    )
