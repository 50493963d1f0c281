"""Units as the reports print them: hectares from square metres, hectares as text, counted
nouns, and the label of a table's total row."""

from __future__ import annotations

__all__ = ["HECTARE", "TOTAL", "counted", "ha_number", "hectares"]

HECTARE = 10_000.0  # m²
SLIVER_M2 = 1.0  # an area this small is a sliver between boundaries that almost coincide
TOTAL = "Totaal"  # the last row of every table per provincie


def ha_number(ha: float) -> str:
    """``ha`` with one decimal, or two below 0.1 ha so that a small area never reads as "0.0"
    (a schuurpunt may be as small as the project's ``min_area_m2``); for table columns in ha.

    >>> ha_number(1207.56), ha_number(0.04), ha_number(0)
    ('1,207.6', '0.04', '0.0')
    """
    return f"{ha:,.2f}" if 0 < abs(ha) < 0.095 else f"{ha:,.1f}"


def hectares(ha: float) -> str:
    """``ha`` as text with its unit (see :func:`ha_number`).

    >>> hectares(158.66), hectares(0.04), hectares(0)
    ('158.7 ha', '0.04 ha', '0.0 ha')
    """
    return f"{ha_number(ha)} ha"


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` with its noun in the right number: "1 1-pager", "3 1-pagers", "1 geschetst vlak"
    (``plural`` defaults to ``singular`` + "s").

    >>> counted(1, "1-pager"), counted(3, "1-pager"), counted(2, "geschetst vlak", "geschetste vlakken")
    ('1 1-pager', '3 1-pagers', '2 geschetste vlakken')
    """
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
