"""File names from region names, unique and safe on every file system, and atomic writes.

Region names come from data: ``Fryslân`` and ``Fryslan`` reduce to the same ASCII name, a
region may be called ``Overzicht`` (the overview's name), consist of emoji only or contain
``/``. Every name gets its own file name: lower-case ASCII letters, digits and ``_`` only,
with a short hash of the full name where the plain form is taken or empty.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from novex_geo import __version__
from novex_geo.io.files import atomic_path
from novex_geo.maps.pdf_access import add_accessibility

__all__ = ["OVERVIEW", "atomic_write", "file_names", "save_figure", "save_pdf"]

OVERVIEW = "overzicht"
MAX_STEM = 60


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:MAX_STEM]


def _hash(name: str) -> str:
    return hashlib.blake2b(name.encode("utf-8"), digest_size=3).hexdigest()


def file_names(names: Iterable[str], reserved: Iterable[str] = (OVERVIEW,)) -> dict[str, str]:
    """A distinct file-name stem per name; ``reserved`` stems are never given out.

    Names are handled in sorted order, so the same set of names always gets the same stems:
    the first name of a plain form keeps it (``fryslan``), a later one gets a hash of its
    full name (``fryslan_4c1d2e``), as does a name with no ASCII letter or digit at all.
    """
    taken = set(reserved)
    stems = {}
    for name in sorted(set(names)):
        plain = _ascii(name)
        stem = plain if plain and plain not in taken else f"{plain or 'regio'}_{_hash(name)}"
        while stem in taken:  # a hash collision with a name that already looks hashed
            stem = f"{stem}_{_hash(stem)}"
        taken.add(stem)
        stems[name] = stem
    return stems


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Let ``write`` fill a temporary file beside ``path``, then rename it onto ``path``.

    A run killed while writing leaves the previous file (or none), never half a file.
    """
    with atomic_path(Path(path)) as temporary:
        write(temporary)
    return Path(path)


def save_figure(figure: Figure, path: Path, **options) -> Path:
    """Write ``figure`` atomically (``options`` as for ``savefig``, e.g. ``format="png"``).

    A character that no font has (an emoji in a label) is drawn as a box; matplotlib's
    warning about it is not repeated for every file.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        return atomic_write(path, lambda part: figure.savefig(part, **options))


def save_pdf(figure: Figure | Sequence[Figure], path: Path, title: str, subject: str, author: str) -> Path:
    """Write ``figure`` (or the pages ``figure``, in order) as a vector PDF with embedded
    TrueType fonts, document metadata, its language and XMP metadata
    (:func:`~novex_geo.maps.pdf_access.add_accessibility`), atomically.

    ``pdf.fonttype = 42`` only for this file (Type 3 fonts print blurred and cannot be
    searched or edited); the global matplotlib settings stay as they are.
    """
    metadata = {"Title": title, "Subject": subject, "Author": author, "Creator": f"novex-geo {__version__}"}
    pages = [figure] if isinstance(figure, Figure) else list(figure)
    rendered = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        with PdfPages(rendered, metadata=metadata) as document:
            for page in pages:
                document.savefig(page)
    pdf = add_accessibility(rendered.getvalue(), title, subject, author)
    return atomic_write(Path(path), lambda part: part.write_bytes(pdf))
