"""The text encoding of a Shapefile's attribute table (``.dbf``), decided before GDAL reads it.

A ``.dbf`` holds bytes; which characters they are is declared beside it (the ``.cpg`` file) or
in its header (the language driver id), or not at all — and Dutch Shapefiles are often Windows
text (CP1252, a superset of ISO-8859-1) without a ``.cpg``, or with a ``.cpg`` that says UTF-8.
The order: a ``.cpg`` that names a known encoding (a UTF-8 claim only when the text is UTF-8);
else the header's language driver id, which GDAL reads; else detected: UTF-8 when the text is
valid UTF-8, otherwise CP1252. A declared encoding other than UTF-8 is said; a guess, and a
``.cpg`` that was not followed, are warnings.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["TextEncoding", "dbf_encoding"]

UTF8, WINDOWS = "UTF-8", "CP1252"
# code page numbers that are not "cp" + the number in Python
CODE_PAGES = {"65001": UTF8, "88591": "ISO-8859-1", "28591": "ISO-8859-1", "1252": WINDOWS}
LANGUAGE_DRIVER = 29  # byte of the .dbf header with the language driver id (0: none)
CHUNK = 2**24


@dataclass(frozen=True)
class TextEncoding:
    """How a ``.dbf`` is decoded: ``name`` for pyogrio (``None``: as GDAL reads the header),
    ``note`` saying which declared encoding (``None`` for UTF-8), and ``warnings`` on guesses."""

    name: str | None
    note: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _sidecar(path: Path, suffix: str) -> Path | None:
    """``path`` with ``suffix`` in any case (``.CPG`` beside ``.SHP``), if it exists."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None


def _codec(declared: str) -> str | None:
    """The encoding a ``.cpg`` names (``"UTF-8"``, ``"1252"``, ``"ANSI 1252"``, ``"ISO-8859-1"``),
    as a name Python and GDAL both know; ``None`` when it is not an encoding."""
    text = declared.strip().upper().removeprefix("ANSI ").strip()
    name = CODE_PAGES.get(text) or (f"CP{text}" if text.isdigit() else text)
    try:
        return UTF8 if codecs.lookup(name).name == "utf-8" else name
    except LookupError:
        return None


def _text(dbf: Path) -> Iterator[bytes]:
    """The bytes of the field names and of the text (``C``) fields of a ``.dbf`` — not its binary
    header and numbers, which are no text — a block of records at a time (memory stays flat)."""
    with dbf.open("rb") as handle:
        head = handle.read(32)
        if len(head) < 32:
            return
        header_length, record_length = struct.unpack("<HH", head[8:12])
        descriptors = handle.read(max(0, header_length - 32))
        spans, start = [], 1  # each record starts with its deletion flag
        for offset in range(0, len(descriptors) - 31, 32):
            if descriptors[offset] == 0x0D:  # the end of the field descriptors
                break
            yield descriptors[offset : offset + 11].rstrip(b"\0")
            width = descriptors[offset + 16]
            if descriptors[offset + 11 : offset + 12] == b"C":
                spans.append(slice(start, start + width))
            start += width
        handle.seek(header_length)
        while record_length and (block := handle.read(max(1, CHUNK // record_length) * record_length)):
            whole = len(block) - len(block) % record_length
            records = np.frombuffer(block, np.uint8, whole).reshape(-1, record_length)
            yield from (records[:, span].tobytes() for span in spans)


def _is_utf8(dbf: Path) -> bool:
    """Whether the field names and text of the table are valid UTF-8."""
    try:
        for text in _text(dbf):
            text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def dbf_encoding(path: Path) -> TextEncoding:
    """How to decode the text of the Shapefile ``path`` (``.shp`` or ``.dbf``)."""
    dbf, cpg = _sidecar(path, ".dbf"), _sidecar(path, ".cpg")
    if dbf is None:
        return TextEncoding(None)
    declared = cpg.read_bytes().decode("ascii", "replace").strip() if cpg else ""
    codec = _codec(declared) if declared else None
    if codec and (codec != UTF8 or _is_utf8(dbf)):
        return TextEncoding(codec, None if codec == UTF8 else f"text read as {codec} (its .cpg)")
    if cpg is None:
        with dbf.open("rb") as handle:
            header = handle.read(LANGUAGE_DRIVER + 1)
        if len(header) > LANGUAGE_DRIVER and header[LANGUAGE_DRIVER]:
            driver = header[LANGUAGE_DRIVER]
            return TextEncoding(None, f"text read as its header declares (language driver id {driver:#04x})")
    detected = UTF8 if _is_utf8(dbf) else WINDOWS
    if not cpg:
        guessed = f"no .cpg says how its text is encoded: read as {WINDOWS} (detected: not UTF-8)"
        return TextEncoding(detected, warnings=() if detected == UTF8 else (guessed,))
    problem = "the text is not UTF-8" if codec == UTF8 else "that is not an encoding"
    warning = f"its .cpg says {declared[:40]!r}, but {problem}: read as {detected} (detected)"
    return TextEncoding(detected, warnings=(warning,))
