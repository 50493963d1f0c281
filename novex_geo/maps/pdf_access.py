"""The accessibility metadata a matplotlib PDF can carry, added after matplotlib wrote it.

matplotlib's PDF backend writes the document information dictionary (``Title``, ``Author``,
``Subject``, ``Keywords``, ``Creator``, ``Producer``, dates) and nothing else that accessibility
asks for: no document language (``/Lang``), no XMP metadata, no ``/ViewerPreferences``, and no
tagging at all (no ``/MarkInfo``, no structure tree, no marked content, no alternative text).
:func:`add_accessibility` adds to what :func:`~novex_geo.maps.files.save_pdf` rendered
one incremental update (ISO 32000-1, 7.5.6) holding a new catalog with ``/Lang (nl-NL)``,
``/ViewerPreferences << /DisplayDocTitle true >>`` (a viewer shows the title, not the file
name) and an XMP metadata stream (``dc:title``, ``dc:description``, ``dc:creator``,
``dc:language``). It claims no tagging (no ``/MarkInfo``, no ``pdfuaid``): the content is not
tagged, so the file is not PDF/UA, and saying so would mislead a checker and a reader.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from novex_geo import __version__

__all__ = ["LANGUAGE", "add_accessibility"]

LANGUAGE = "nl-NL"
_TRAILER = re.compile(rb"trailer\s*<<(?P<body>.*?)>>\s*startxref\s*(?P<xref>\d+)\s*%%EOF\s*$", re.S)


def _xmp(title: str, subject: str, author: str, language: str) -> bytes:
    def alt(text: str) -> str:
        return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt>'

    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        "<dc:format>application/pdf</dc:format>"
        f"<dc:title>{alt(title)}</dc:title><dc:description>{alt(subject)}</dc:description>"
        f"<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>"
        f"<dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag></dc:language>"
        f"<xmp:CreatorTool>novex-geo {__version__}</xmp:CreatorTool>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode()


def add_accessibility(pdf: bytes, title: str, subject: str, author: str, language: str = LANGUAGE) -> bytes:
    """``pdf`` (as matplotlib writes it: one classic cross-reference table and a flat catalog)
    with an incremental update adding ``/Lang``, ``/DisplayDocTitle`` and XMP metadata."""
    trailer = _TRAILER.search(pdf)
    if trailer is None:
        raise ValueError("not a PDF with a classic trailer")
    body = trailer["body"]
    size = int(re.search(rb"/Size\s+(\d+)", body)[1])
    root = int(re.search(rb"/Root\s+(\d+)\s+0\s+R", body)[1])
    info = re.search(rb"/Info\s+\d+\s+0\s+R", body)
    catalog = re.search(rb"\n%d 0 obj\s*<<(?P<entries>[^<>]*)>>\s*endobj" % root, pdf)
    if catalog is None:
        raise ValueError("the PDF's catalog is not a flat dictionary")
    xmp = _xmp(title, subject, author, language)
    language_string = language.encode("ascii")
    update = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    metadata_at = len(update)
    update += b"%d 0 obj\n<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % (size, len(xmp))
    update += xmp + b"\nendstream\nendobj\n"
    catalog_at = len(update)
    update += (
        b"%d 0 obj\n<<%s/Lang (%s) /ViewerPreferences << /DisplayDocTitle true >> /Metadata %d 0 R >>\n"
        % (
            root,
            catalog["entries"].rstrip() + b" ",
            language_string,
            size,
        )
    )
    update += b"endobj\n"
    xref_at = len(update)
    update += b"xref\n0 1\n0000000000 65535 f \n"  # readers expect the free head in every section
    update += b"%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n" % (root, catalog_at, size, metadata_at)
    update += b"trailer\n<< /Size %d /Root %d 0 R %s /Prev %s >>\n" % (
        size + 1,
        root,
        info[0] if info else b"",
        trailer["xref"],
    )
    update += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(update)
