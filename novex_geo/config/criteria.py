"""The NOVEX selection criteria (seed section 3.3 and annex 4): the one definition.

Every module that reads or writes a criterion — triage, its report, diff, sketch, the map
popups, the signals and the annotations file — takes the key, label, column names and verdict
words from here. Criteria 1–3 are computed from geometry and layers; 4 and 5 are human
judgements that only come from the annotations file (its columns ``criterium_4``/``reden_4``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CRITERIA",
    "CRITERION",
    "JA",
    "JUDGED",
    "NEE",
    "ONBEKEND",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "Criterion",
]

JA, NEE, ONBEKEND = "ja", "nee", "onbekend"
VERDICTS = (JA, NEE, ONBEKEND)


@dataclass(frozen=True)
class Criterion:
    """One selection criterion and its two columns in ``spanningsgebieden``."""

    key: str
    number: str
    label: str
    verdict: str
    reason: str
    judged_by_people: bool = False

    @property
    def annotation_columns(self) -> tuple[str, str]:
        """The verdict and reason columns of a criterion judged by people in the annotations
        file: ``("criterium_4", "reden_4")``."""
        return f"criterium_{self.number}", f"reden_{self.number}"

    @property
    def title(self) -> str:
        """``"2a specifiek gebied met spanning"``: number and label, as reports show it."""
        return f"{self.number} {self.label}"


CRITERIA = (
    Criterion("c1", "1", "multi-sectoraal", "c1_multisectoraal", "c1_reden"),
    Criterion("c2a", "2a", "specifiek gebied met spanning", "c2a_spanning", "c2a_reden"),
    Criterion("c2b", "2b", "provincie-overstijgend", "c2b_overstijgend", "c2b_reden"),
    Criterion("c3", "3", "prioriteit", "c3_prioriteit", "c3_reden"),
    Criterion("c4", "4", "niet via regulier traject", "c4_regulier", "c4_reden", judged_by_people=True),
    Criterion("c5", "5", "haalbaar", "c5_haalbaar", "c5_reden", judged_by_people=True),
)
CRITERION = {criterion.key: criterion for criterion in CRITERIA}
VERDICT_COLUMNS = [criterion.verdict for criterion in CRITERIA]
JUDGED = [criterion for criterion in CRITERIA if criterion.judged_by_people]
