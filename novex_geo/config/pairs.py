"""The sector pairs of a project file: the conflict matrix (``[[conflicts.pairs]]``) and the
kansen (``[[kansen.pairs]]``).

Both lists name two sectors, a ``distance`` and a ``weight``; a kans also says in a few words
what the opportunity is (``toelichting``). A pair is both a conflict and a kans only when its
kans says so (``also_conflict = true``); otherwise that is a mistake the parser names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from novex_geo.config.model import ConflictPair, KansPair, Sector
from novex_geo.config.validate import MAX_DISTANCE_M, MAX_WEIGHT, Validator

__all__ = [
    "CONFLICTS_KEYS",
    "KANSEN_KEYS",
    "KANS_PAIR_KEYS",
    "PAIR_KEYS",
    "parse_conflicts",
    "parse_kansen",
]

CONFLICTS_KEYS = {"pairs", "min_area_m2"}
KANSEN_KEYS = {"pairs", "min_area_m2"}
PAIR_KEYS = {"sectors", "distance", "weight"}
KANS_PAIR_KEYS = PAIR_KEYS | {"toelichting", "also_conflict"}


def _sectors(check: Validator, table: dict, key: str, sectors: dict[str, Sector]) -> list[str]:
    names = table.get("sectors")
    if not (isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)):
        raise check.fail(f"{key}.sectors", "must name exactly two sectors, e.g. ['woningbouw', 'defensie']")
    for name in names:
        check.sector(name, f"{key}.sectors", sectors)
    if names[0] == names[1]:
        raise check.fail(f"{key}.sectors", "a pair needs two different sectors")
    return names


def _tables(
    check: Validator, pairs: Any, key: str, allowed: set[str], sectors: dict[str, Sector]
) -> Iterator[tuple[str, dict[str, Any], list[str]]]:
    """``(key, table, sector names)`` of every pair in the list ``pairs``; a pair listed twice
    is an error."""
    if not isinstance(pairs, list):
        raise check.fail(key, f"must be a list of tables ([[{key}]])")
    seen: set[frozenset[str]] = set()
    for i, table in enumerate(pairs):
        pair_key = f"{key}[{i}]"
        table = check.keys(table, allowed, pair_key)
        names = _sectors(check, table, pair_key, sectors)
        if frozenset(names) in seen:
            raise check.fail(f"{pair_key}.sectors", f"pair {names[0]} × {names[1]} is listed twice")
        seen.add(frozenset(names))
        yield pair_key, table, names


def _distance_and_weight(check: Validator, table: dict, key: str) -> dict[str, float]:
    return {
        "distance": check.number(table, "distance", key, default=0.0, minimum=0, maximum=MAX_DISTANCE_M),
        "weight": check.number(table, "weight", key, default=1.0, minimum=0, strict=True, maximum=MAX_WEIGHT),
    }


def parse_conflicts(check: Validator, pairs: Any, sectors: dict[str, Sector]) -> tuple[ConflictPair, ...]:
    """The conflict matrix from the list ``[[conflicts.pairs]]``."""
    return tuple(
        ConflictPair(names[0], names[1], **_distance_and_weight(check, table, key))
        for key, table, names in _tables(check, pairs, "conflicts.pairs", PAIR_KEYS, sectors)
    )


def parse_kansen(
    check: Validator, pairs: Any, sectors: dict[str, Sector], conflicts: tuple[ConflictPair, ...]
) -> tuple[KansPair, ...]:
    """The kansen from the list ``[[kansen.pairs]]``, checked against the ``conflicts``.

    A kans whose pair is also in the conflict matrix must say ``also_conflict = true``, and a
    kans that says so must have its pair in the conflict matrix.
    """
    conflicting = {frozenset((pair.a, pair.b)): i for i, pair in enumerate(conflicts)}
    parsed = []
    for key, table, names in _tables(check, pairs, "kansen.pairs", KANS_PAIR_KEYS, sectors):
        toelichting = check.text(table, "toelichting", key)
        if toelichting is None:
            raise check.fail(
                f"{key}.toelichting",
                "is required: say in a few words what the opportunity is, e.g. 'waterberging in natuur'",
            )
        also = check.flag(table, "also_conflict", key)
        conflict = conflicting.get(frozenset(names))
        if conflict is not None and not also:
            raise check.fail(
                f"{key}.sectors",
                f"{names[0]} × {names[1]} is also a conflict pair (conflicts.pairs[{conflict}]); a pair "
                "is both a conflict and a kans only when you say so: also_conflict = true",
            )
        if conflict is None and also:
            raise check.fail(
                f"{key}.also_conflict",
                f"is true, but {names[0]} × {names[1]} is not in [[conflicts.pairs]]; add the conflict "
                "pair or remove also_conflict",
            )
        parsed.append(
            KansPair(
                names[0],
                names[1],
                **_distance_and_weight(check, table, key),
                toelichting=toelichting.strip(),
                also_conflict=also,
            )
        )
    return tuple(parsed)
