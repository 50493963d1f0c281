"""The NOVEX triage: spanningsgebieden, the selection criteria, the report, and changes between runs."""

from novex_geo.config.criteria import CRITERIA, CRITERION, Criterion
from novex_geo.triage.areas import spanningsgebieden
from novex_geo.triage.evaluate import evaluate_criteria
from novex_geo.triage.report import triage_report

__all__ = ["CRITERIA", "CRITERION", "Criterion", "evaluate_criteria", "spanningsgebieden", "triage_report"]
