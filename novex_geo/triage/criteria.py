"""The NOVEX selection criteria (seed section 3.3 and annex 4): the one definition.

Every module that reads or writes a criterion — triage, its report, diff, sketch, the map
popups and the signals — takes the key, label and column names from :data:`CRITERIA`.
Criteria 1–3 are computed from geometry and layers; 4 and 5 are human judgements that only
come from the annotations file.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CRITERIA", "CRITERION", "VERDICT_COLUMNS", "Criterion"]


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
