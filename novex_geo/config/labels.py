"""What people read: sector labels instead of keys, in any text the analysis writes.

The analysis stores sector keys (``water_bodem``, ``woningbouw×water_bodem``, ``natuur+water_bodem``,
``natuur: Drentsche Aa``); every report, map, poster and signal shows the labels of the project
file (``Water en bodem``). Keys are lower-case letters, digits and ``_``, so they are found
unambiguously in those texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["SectorLabels"]

_PAIR = re.compile(r"([a-z][a-z0-9_]*)×([a-z][a-z0-9_]*)")
_SECTOR_PREFIX = re.compile(r"(?:^|(?<=\| ))([a-z][a-z0-9_]*): ")


class SectorLabels:
    """Sector keys turned into their labels (a key the project does not have stays as it is)."""

    def __init__(self, labels: Mapping[str, str]):
        self.labels = dict(labels)

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def sectors(self, keys: str, separator: str = ", ") -> str:
        """``"water_bodem+woningbouw"`` → ``"Water en bodem, Woningbouw"``."""
        return separator.join(self.label(key) for key in str(keys).split("+") if key)

    def pairs(self, text: str) -> str:
        """Every ``a×b`` in ``text`` (a pair, a criterion's reason) → ``"A × B"``."""

        def labelled(match: re.Match) -> str:
            a, b = match.groups()
            if a not in self.labels or b not in self.labels:
                return match.group(0)
            return f"{self.label(a)} × {self.label(b)}"

        return _PAIR.sub(labelled, str(text))

    def objects(self, text: str) -> str:
        """``"natuur: Drentsche Aa | water_bodem: De Groeve"`` with labels before each colon."""
        return _SECTOR_PREFIX.sub(lambda m: f"{self.label(m.group(1))}: ", self.pairs(text))
