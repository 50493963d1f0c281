"""What people read on maps, signals and posters: sector labels instead of keys.

The analysis stores sector keys (``water_bodem``, ``woningbouw×water_bodem``); every rendered
text shows the labels of the project file (``Water en bodem``). Keys are lower-case letters,
digits and ``_``, so they are found unambiguously in the texts the triage writes.
"""

from __future__ import annotations

import re

from novex_geo.config import Project

__all__ = ["area_title", "conflicts_text", "pair_text", "sector_label", "sectors_text"]

_CONFLICT = re.compile(r"([a-z][a-z0-9_]*)×([a-z][a-z0-9_]*)")


def sector_label(project: Project, key: str) -> str:
    """The label of sector ``key`` (the key itself for a sector the project no longer has)."""
    sector = project.sectors.get(key)
    return sector.label if sector is not None else key


def sectors_text(project: Project, keys: str) -> str:
    """``"water_bodem+woningbouw"`` → ``"Water en bodem, Woningbouw"``."""
    return ", ".join(sector_label(project, key) for key in keys.split("+") if key)


def pair_text(project: Project, pair: str) -> str:
    """``"woningbouw×water_bodem"`` → ``"Woningbouw × Water en bodem"``, in any text (a criterion's
    reason too); ``a×b`` where ``a`` or ``b`` is not a sector of the project stays as it is."""

    def labelled(match: re.Match) -> str:
        a, b = match.groups()
        if a not in project.sectors or b not in project.sectors:
            return match.group(0)
        return f"{sector_label(project, a)} × {sector_label(project, b)}"

    return _CONFLICT.sub(labelled, pair)


def conflicts_text(project: Project, conflicts: str) -> list[str]:
    """The ``conflicten`` column (``"a×b: 12.3 ha; c×d: 1.0 ha"``) as one labelled line per pair."""
    return [pair_text(project, item) for item in str(conflicts).split("; ") if item]


def area_title(project: Project, name: str) -> str:
    """An area's name with sector labels: ``"Zandvliet: woningbouw × defensie"`` →
    ``"Zandvliet: Woningbouw × Defensie"``; a name not of that form stays as it is."""
    place, separator, keys = str(name).rpartition(": ")
    parts = keys.split(" × ")
    if not separator or not all(part in project.sectors for part in parts):
        return str(name)
    return f"{place}: {' × '.join(sector_label(project, part) for part in parts)}"
