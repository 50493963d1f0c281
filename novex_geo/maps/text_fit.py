"""Text that fits its room: titles, legend labels, list lines and paragraphs of every printed
product (poster, signal page, PNG maps) are fitted here, and only here.

Widths are measured with matplotlib's own font metrics (the unhinted advances the PDF backend
writes), never estimated from a number of characters. The rules: text wraps at spaces; a text
may shrink within the limits its caller gives; where it must still be shortened it ends in
``" …"`` after a whole word, never in half a word (only a single word wider than the whole line
is cut, and then it too ends in ``…``); a list line keeps its rank and its hectares whatever
happens to the name between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import matplotlib as mpl
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

__all__ = [
    "ELLIPSIS",
    "Fitted",
    "fit",
    "fit_entry",
    "fit_legend",
    "legend_label_room",
    "line_height",
    "shorten",
    "text_width",
    "wrap",
]

ELLIPSIS = "…"
SAFETY = 0.97  # fit to 97 % of the room: hinting and kerning differ a little between renderers
LINE_SPACING = 1.2  # matplotlib's default line spacing of multi-line text
_DANGLING = {"×", "—", "–", "-", "·", ":", ";", ",", "/", "+", "&"}  # never the word before "…"
_MEASURE = TextToPath()
_UNIT = re.compile(r"(ha|km|m|m²|%|cm)[.,;:)]*")


@lru_cache(maxsize=8192)
def _width(text: str, size: float, weight: str) -> float:
    if not text:
        return 0.0
    prop = FontProperties(size=size, weight=weight)
    return _MEASURE.get_text_width_height_descent(text, prop, ismath=False)[0]


def text_width(text: str, size: float, weight: str = "normal") -> float:
    """The width of one line of plain ``text`` in points at ``size`` pt."""
    return _width(str(text), round(float(size), 3), str(weight))


def line_height(size: float, lines: int = 1) -> float:
    """The height in points of ``lines`` lines of ``size`` pt text as matplotlib sets them (one
    line is as high as its font; more lines are ``LINE_SPACING`` apart, the first one too)."""
    return size if lines == 1 else size * LINE_SPACING * lines


def _fits(text: str, room: float, size: float, weight: str) -> bool:
    return text_width(text, size, weight) <= room * SAFETY


def _cut_word(word: str, room: float, size: float, weight: str) -> str:
    """A single word too wide for a line of its own: as many letters as fit, then ``…``."""
    for end in range(len(word) - 1, 0, -1):
        if _fits(word[:end] + ELLIPSIS, room, size, weight):
            return word[:end] + ELLIPSIS
    return ELLIPSIS


def shorten(text: str, room: float, size: float, weight: str = "normal") -> str:
    """``text`` when it fits ``room`` points, else its longest run of whole words that fits with
    ``" …"`` after it."""
    words = str(text).split()
    if _fits(" ".join(words), room, size, weight):
        return " ".join(words)
    for count in range(len(words) - 1, 0, -1):
        kept = words[:count]
        while kept and kept[-1] in _DANGLING:
            kept.pop()
        candidate = " ".join([*kept, ELLIPSIS])
        if kept and _fits(candidate, room, size, weight):
            return candidate
    return _cut_word(words[0], room, size, weight) if words else ""


def _glued(words: list[str]) -> list[str]:
    """Words with a unit after a number kept together (``"0.5 ha"`` never breaks)."""
    glued: list[str] = []
    for word in words:
        if glued and _UNIT.fullmatch(word) and glued[-1][-1:].isdigit():
            glued[-1] = f"{glued[-1]} {word}"
        else:
            glued.append(word)
    return glued


def _split_word(word: str, room: float, size: float, weight: str) -> tuple[str, str]:
    """A word too wide for a line: the most letters that fit (at least one), and the rest."""
    for end in range(len(word) - 1, 0, -1):
        if _fits(word[:end], room, size, weight):
            return word[:end], word[end:]
    return word[:1], word[1:]


def wrap(
    text: str,
    room: float,
    size: float,
    weight: str = "normal",
    max_lines: int | None = None,
    indent: str = "",
    break_words: bool = False,
) -> list[str]:
    """``text`` wrapped at spaces into lines of at most ``room`` points; lines after the first
    start with ``indent``. With ``max_lines`` the last line ends in ``" …"`` when more is left.
    A word wider than a line is shortened with ``…``, or with ``break_words`` (a name that must
    be read whole) continued on the next line."""
    lines: list[str] = []
    words = _glued(str(text).split())
    index = 0
    while index < len(words):
        lead = indent if lines else ""
        if max_lines is not None and len(lines) == max_lines - 1:
            rest = lead + " ".join(words[index:])
            lines.append(shorten(rest, room, size, weight))
            return lines
        line = lead + words[index]
        if not _fits(line, room, size, weight) and break_words:
            head, words[index] = _split_word(
                words[index], room - text_width(lead, size, weight), size, weight
            )
            lines.append(lead + head)
            continue
        if not _fits(line, room, size, weight):
            line = lead + _cut_word(words[index], room - text_width(lead, size, weight), size, weight)
        index += 1
        while index < len(words) and _fits(f"{line} {words[index]}", room, size, weight):
            line = f"{line} {words[index]}"
            index += 1
        lines.append(line)
    return lines or [""]


@dataclass(frozen=True)
class Fitted:
    """Fitted text: its lines and the size they are set in."""

    lines: list[str]
    size: float

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def height(self) -> float:
        """The height of the lines in points."""
        return line_height(self.size, len(self.lines))


def fit(
    text: str,
    room: float,
    size: float,
    max_lines: int = 2,
    min_size: float | None = None,
    weight: str = "normal",
) -> Fitted:
    """``text`` in at most ``max_lines`` lines of ``room`` points: at ``size`` if it fits, else at
    the largest size down to ``min_size`` (steps of 5 %) at which it fits, else at ``min_size``
    with the last line shortened."""
    smallest = min(size, min_size or size)
    current = size
    while True:
        lines = wrap(text, room, current, weight)
        if len(lines) <= max_lines:
            return Fitted(lines, current)
        if current <= smallest:
            return Fitted(wrap(text, room, current, weight, max_lines), current)
        current = max(smallest, round(current * 0.95, 3))


def fit_entry(head: str, name: str, tail: str, room: float, size: float, weight: str = "normal") -> str:
    """One list line ``head + name + tail`` (``"12  "``, a name, ``" — 3.4 ha"``) in ``room``
    points: the name is shortened, the rank and the hectares always stay."""
    whole = f"{head}{name}{tail}"
    if _fits(whole, room, size, weight):
        return whole
    left = room - (text_width(head + tail, size, weight) / SAFETY)
    return f"{head}{shorten(name, max(left, 0.0), size, weight)}{tail}"


def legend_label_room(width: float, size: float) -> float:
    """The room in points for the labels of a legend ``width`` points wide at ``size`` pt: the
    width less the frame's padding, the handle and the gap after it (matplotlib's settings)."""
    rc = mpl.rcParams
    padding = 2 * rc["legend.borderpad"] + rc["legend.handlelength"] + rc["legend.handletextpad"]
    return max(width - padding * size, size)


def fit_legend(
    labels: list[str], width: float, size: float, max_lines: int = 4, min_size: float | None = None
) -> Fitted:
    """The labels of a legend ``width`` points wide, each wrapped into at most ``max_lines``
    lines (``Fitted.lines`` holds one ``"\\n"``-joined label per entry): at ``size`` if every
    label fits, else at the largest size down to ``min_size`` (steps of 5 %) at which all fit,
    else at ``min_size`` with the labels that still do not fit shortened."""
    current, smallest = size, min(size, min_size or size)
    while True:
        room = legend_label_room(width, current)
        wrapped = [wrap(label, room, current) for label in labels]
        if all(len(lines) <= max_lines for lines in wrapped):
            return Fitted(["\n".join(lines) for lines in wrapped], current)
        if current <= smallest:
            fitted = [wrap(label, room, current, max_lines=max_lines) for label in labels]
            return Fitted(["\n".join(lines) for lines in fitted], current)
        current = max(smallest, round(current * 0.95, 3))
