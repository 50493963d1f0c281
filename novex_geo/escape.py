"""Text that came from data or the project file, made safe for the format it is written to.

Control characters are unsafe everywhere: in a terminal an escape sequence sets the window title,
clears the screen or moves the cursor; in a Markdown file or a table it breaks the line.
:func:`plain_text` takes them out of every name read from data, every message and every log line
(tabs and line breaks become spaces; each other one a visible U+FFFD).
"""

from __future__ import annotations

import re

__all__ = ["NOT_PLAIN", "UNSAFE", "csv_cell", "md_escape", "plain_text"]

# control characters (C0, DEL, C1) other than whitespace, and the bidirectional overrides that
# reorder what is shown: never shown as they are
UNSAFE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\n\v\f\r]")  # shown as a space
_BREAKS_BUT_NEWLINE = re.compile(r"[\t\v\f\r]")
NOT_PLAIN = re.compile(UNSAFE.pattern[:-1] + _BREAKS.pattern[1:])  # what plain_text changes

# Markdown that would turn text into links, emphasis, code, strike-through or maths; an
# underscore only counts at a word boundary (water_bodem stays as it is)
_MARKDOWN = re.compile(r"[\\`*\[\]~$]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")

# OWASP CSV injection: a spreadsheet treats a cell starting with these as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_text(text: object, newlines: bool = False) -> str:
    """``text`` without control characters: a tab or line break becomes a space (line breaks
    stay with ``newlines``), every other one U+FFFD, so that it shows that something was there."""
    text = UNSAFE.sub("\ufffd", str(text))
    return (_BREAKS_BUT_NEWLINE if newlines else _BREAKS).sub(" ", text)


def md_escape(text: object) -> str:
    """Text from data or the project file shown literally in Markdown: no HTML, no links,
    no emphasis, code or maths (``$``), one line, no table-breaking pipes (a ``/``, which reads
    as a separator in the text people open raw too), no control characters."""
    text = _MARKDOWN.sub(lambda match: "\\" + match.group(0), plain_text(text).replace("&", "&amp;"))
    return text.replace("|", "/").replace("<", "&lt;").replace(">", "&gt;")


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet shows as typed instead of evaluating it as a formula
    (prefixed with ``'``); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
