"""Text that came from data or the project file, made safe for the format it is written to."""

from __future__ import annotations

__all__ = ["md_escape"]


def md_escape(text: object) -> str:
    """Text safe inside a Markdown table or list: no pipes, no HTML, one line."""
    return str(text).replace("|", "/").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
