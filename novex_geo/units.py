"""Units as the reports print them: hectares from square metres, and hectares as text."""

from __future__ import annotations

__all__ = ["HECTARE", "hectares"]

HECTARE = 10_000.0  # m²


def hectares(ha: float) -> str:
    """``ha`` as text with one decimal, or two below 0.1 ha so that a small area never reads as
    "0.0 ha" (a schuurpunt may be as small as the project's ``min_area_m2``).

    >>> hectares(158.66), hectares(0.04), hectares(0)
    ('158.7 ha', '0.04 ha', '0.0 ha')
    """
    return f"{ha:,.2f} ha" if 0 < abs(ha) < 0.095 else f"{ha:,.1f} ha"
