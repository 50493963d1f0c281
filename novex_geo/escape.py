"""Text that came from data or the project file, made safe for the format it is written to."""

from __future__ import annotations

import re

__all__ = ["csv_cell", "md_escape"]

# Markdown that would turn text into links, emphasis, code or strike-through; an underscore
# only counts at a word boundary (water_bodem stays as it is)
_MARKDOWN = re.compile(r"[\\`*\[\]~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")

# OWASP CSV injection: a spreadsheet treats a cell starting with these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def md_escape(text: object) -> str:
    """Text from data or the project file shown literally in Markdown: no HTML, no links,
    no emphasis or code, one line, no table-breaking pipes."""
    text = _MARKDOWN.sub(lambda match: "\\" + match.group(0), str(text).replace("&", "&amp;"))
    return text.replace("|", "/").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet shows as typed instead of evaluating it as a formula
    (prefixed with ``'``); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
