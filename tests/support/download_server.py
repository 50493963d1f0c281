"""A local Atom download service on 127.0.0.1: feeds and files with HTTP ``Range`` support.

``feeds`` (path → Atom XML) and ``files`` (path → bytes) are served as given. A file request with
``Range: bytes=N-`` gets ``206 Partial Content`` from byte N — unless ``If-Range`` names another
version (``ETag`` is the file's SHA-256), which gets the whole new file. Together with the
faults of :class:`~tests.support.local_server.LocalServer` (``drop_after`` cuts the next body) this is an
INSPIRE Atom service with a connection that drops mid-download.
"""

from __future__ import annotations

import hashlib
import re
from xml.sax.saxutils import quoteattr

from .local_server import LocalServer

__all__ = ["DownloadServer", "atom_feed"]


def atom_feed(title: str, entries: list[dict]) -> bytes:
    """An Atom feed with one entry per dict (``title``, ``updated``, ``links``: list of attribute dicts)."""
    items = []
    for entry in entries:
        links = "".join(
            "<link " + " ".join(f"{key}={quoteattr(str(value))}" for key, value in link.items()) + "/>"
            for link in entry["links"]
        )
        items.append(
            f"<entry><title>{entry['title']}</title><updated>{entry['updated']}</updated>{links}</entry>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
        f"{''.join(items)}</feed>"
    ).encode()


class DownloadServer(LocalServer):
    """Serve Atom ``feeds`` and ``files``."""

    def __init__(self, feeds: dict[str, bytes], files: dict[str, bytes]):
        super().__init__()
        self.feeds = feeds
        self.files = files

    def respond(self, handler, path, query):
        if path in self.feeds:
            self.send(handler, 200, self.feeds[path], "application/atom+xml")
            return
        data = self.files.get(path)
        if data is None:
            self.send(handler, 404, b"not found", "text/plain")
            return
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        wanted = re.fullmatch(r"bytes=(\d+)-", handler.headers.get("Range", ""))
        if_range = handler.headers.get("If-Range")
        if wanted and (if_range is None or if_range == etag):
            start = int(wanted.group(1))
            if start >= len(data):
                self.send(handler, 416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"})
                return
            headers = {"ETag": etag, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            self.send(handler, 206, data[start:], "application/octet-stream", headers)
            return
        self.send(handler, 200, data, "application/octet-stream", {"ETag": etag, "Accept-Ranges": "bytes"})
