"""Text that came from data or the project file, made safe for the format it is written to."""

from __future__ import annotations

__all__ = ["csv_cell", "md_escape"]

# OWASP CSV injection: a spreadsheet treats a cell starting with these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def md_escape(text: object) -> str:
    """Text safe inside a Markdown table or list: no pipes, no HTML, one line."""
    return str(text).replace("|", "/").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet shows as typed instead of evaluating it as a formula
    (prefixed with ``'``); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
