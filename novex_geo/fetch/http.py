"""HTTP for every fetch protocol: bounded retries, a total deadline per request, allowed hosts only.

Open data services fail in ordinary ways (429, 5xx, dropped connections) and in hostile ones: a
``next`` link or redirect to ``file:///`` or to another host, a server that drips one byte per
second, an endless body. Every request here

- goes only to ``http(s)`` URLs on the hosts of the catalogue entry (:class:`HostPolicy`), also
  after a redirect;
- ends within ``RetryPolicy.timeout`` seconds *in total* — connecting, headers and body — because a
  watchdog shuts the socket down at the deadline (a per-read timeout alone never fires while bytes
  keep trickling in);
- is retried at most ``RetryPolicy.retries`` times on 429, 5xx, timeouts and dropped connections,
  with exponential backoff that honours ``Retry-After``;
- reads at most ``max_bytes``; error messages quote a response only as a short sanitised excerpt.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import TypeVar

from novex_geo.errors import DownloadError
from novex_geo.fetch.deadline import CHUNK, Deadline, chunks, deadline_handlers

__all__ = [
    "GEOJSON",
    "RETRY_STATUS",
    "HostPolicy",
    "HttpClient",
    "Response",
    "RetryPolicy",
    "ServiceError",
    "excerpt",
    "server_message",
    "with_query",
    "xml_root",
]

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "novex-geo (+https://github.com/novex-geo)"
GEOJSON = "application/geo+json, application/json"
PAGE_LIMIT = 512 * 2**20  # no sane page of features is larger; a body that is has gone wrong
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try a request.

    Attributes
    ----------
    retries : extra attempts after the first (``--retries 2`` means three attempts)
    timeout : seconds one attempt may take in total: connecting, headers and the whole body
    backoff : first wait in seconds; each further wait doubles
    max_wait : longest wait, also for a ``Retry-After`` header
    """

    retries: int = 3
    timeout: float = 60.0
    backoff: float = 1.0
    max_wait: float = 30.0

    @property
    def attempts(self) -> int:
        return self.retries + 1


class ServiceError(DownloadError):
    """The service answered with an HTTP error status (after retries where they apply);
    ``said`` is the service's own explanation, when its answer held one."""

    def __init__(self, message: str, status: int, said: str = ""):
        super().__init__(message)
        self.status = status
        self.said = said


def excerpt(body: bytes, limit: int = 120) -> str:
    """A short, printable, quoted excerpt of a response body for an error message.

    Tags and control characters are removed and the text is cut at ``limit`` characters, so
    a hostile or huge answer can never flood the terminal or smuggle escape sequences.
    """
    text = body[: limit * 8].decode("utf-8", "replace")
    text = re.sub(r"<[^>]{0,200}>", " ", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def server_message(body: bytes) -> str | None:
    """The service's own explanation in an error answer, as a short excerpt: the
    ``ExceptionText`` of an OWS ExceptionReport (WFS, WMS), or the ``description``, ``detail``
    or ``message`` of a JSON error (OGC API, ArcGIS REST); ``None`` when the body holds none."""
    head = body[:65536]
    if b"ExceptionReport" in head[:4096] or b"ServiceExceptionReport" in head[:4096]:
        texts = re.findall(rb"<(?:\w+:)?(?:ExceptionText|ServiceException)\b[^>]*>(.*?)</", head, re.S)
        return excerpt(b" ".join(texts), 300) if texts else None
    try:
        data = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    found = data.get("error", data) if isinstance(data, dict) else None
    if isinstance(found, dict):
        for key in ("description", "detail", "message", "title"):
            if isinstance(found.get(key), str) and found[key].strip():
                return excerpt(found[key].encode(), 300)
    return None


def with_query(url: str, params: dict) -> str:
    """``url`` with ``params`` added to its query (a service address may carry one already)."""
    return f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}"


def _host_key(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    return host if port in (None, default) else f"{host}:{port}"


@dataclass(frozen=True)
class HostPolicy:
    """The hosts a download may contact: the service's own, plus those its catalogue entry lists."""

    hosts: frozenset[str]

    @classmethod
    def for_url(cls, base_url: str, extra: tuple[str, ...] = ()) -> HostPolicy:
        return cls(frozenset({_host_key(base_url), *(host.lower() for host in extra)}))

    def check(self, url: str, what: str = "link") -> str:
        """``url`` when it is http(s) on an allowed host; otherwise a :class:`DownloadError`."""
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        shown = url if len(url) <= 200 else url[:200] + "…"
        if scheme not in ("http", "https"):
            raise DownloadError(f"refused to follow {what} {shown!r}: only http(s) links are followed")
        host = _host_key(url)
        if host not in self.hosts:
            raise DownloadError(
                f"refused to follow {what} {shown!r}: it leaves {', '.join(sorted(self.hosts))} "
                f"for {host} (a catalogue entry can allow more hosts with hosts = [...])"
            )
        return url


@dataclass
class Response:
    """A complete answer: the final URL (after redirects), status, headers and body."""

    url: str
    status: int
    headers: Message
    body: bytes


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an allowed host (PDOK moves services between paths)."""

    def __init__(self, hosts: HostPolicy):
        super().__init__()
        self.hosts = hosts

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.hosts.check(urllib.parse.urljoin(req.full_url, newurl), "redirect to")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Transient(Exception):
    """A failure worth another attempt."""

    def __init__(self, problem: str, wait: float | None = None):
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


@dataclass(frozen=True)
class HttpClient:
    """GET requests under one :class:`RetryPolicy` and one :class:`HostPolicy`."""

    policy: RetryPolicy
    hosts: HostPolicy

    @contextlib.contextmanager
    def _open(self, url: str, headers: dict[str, str], retry_status) -> Iterator[tuple]:
        """One attempt: the open response and its deadline; failures become :class:`_Transient`
        (worth retrying) or :class:`ServiceError`."""
        self.hosts.check(url, "URL")
        deadline = Deadline(self.policy.timeout)
        opener = urllib.request.build_opener(*deadline_handlers(deadline), _RedirectHandler(self.hosts))
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
        try:
            with opener.open(request, timeout=self.policy.timeout) as response:
                yield response, deadline
        except urllib.error.HTTPError as exc:
            body = _read_quietly(exc)
            if exc.code in retry_status:
                raise _Transient(f"HTTP {exc.code} {exc.reason}", _retry_after(exc.headers)) from None
            said = server_message(body) or (excerpt(body) if body else "")
            raise ServiceError(
                f"{url}: server answered HTTP {exc.code} {exc.reason}" + (f": {said}" if said else ""),
                exc.code,
                said,
            ) from None
        except TimeoutError:
            raise _Transient(f"no complete answer within {self.policy.timeout:g} s") from None
        except http.client.HTTPException as exc:
            if deadline.hit:
                raise _Transient(f"no complete answer within {self.policy.timeout:g} s") from None
            raise _Transient(f"incomplete answer ({type(exc).__name__})") from None
        except (urllib.error.URLError, OSError) as exc:
            if deadline.hit:
                raise _Transient(f"no complete answer within {self.policy.timeout:g} s") from None
            raise _Transient(f"connection failed ({getattr(exc, 'reason', exc)})") from None
        finally:
            deadline.cancel()

    def retrying(
        self, url: str, attempt: Callable[[], T], progressed: Callable[[], bool] = lambda: False
    ) -> T:
        """Run ``attempt`` until it succeeds, retrying :class:`_Transient` failures.

        ``progressed()`` true after a failed attempt (a download that got further) starts the
        count of failures afresh; the caller bounds how often that may happen.
        """
        failures = made = 0
        while True:
            try:
                made += 1
                return attempt()
            except _Transient as exc:
                failures = 1 if progressed() else failures + 1
                if failures > self.policy.retries:
                    raise DownloadError(f"{url}: {exc.problem} (gave up after {made} attempts)") from None
                wait = exc.wait if exc.wait is not None else self.policy.backoff * 2 ** (failures - 1)
                wait = min(wait, self.policy.max_wait)
                log.warning(
                    "%s: %s; retry %d/%d in %.1f s", url, exc.problem, failures, self.policy.retries, wait
                )
                time.sleep(wait)

    def get(
        self,
        url: str,
        accept: str = GEOJSON,
        max_bytes: int = PAGE_LIMIT,
        retry_status: frozenset[int] = RETRY_STATUS,
    ) -> Response:
        """GET ``url`` completely into memory (at most ``max_bytes``).

        Raises
        ------
        ServiceError
            on an HTTP error status that is not retried, or that persisted
        DownloadError
            after ``retries`` failed retries, or when the body exceeds ``max_bytes``
        """

        def attempt() -> Response:
            with self._open(url, {"Accept": accept}, retry_status) as (response, deadline):
                parts: list[bytes] = []
                size = 0
                for chunk in chunks(response, deadline):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadError(f"{url}: answer larger than {max_bytes / 2**20:.0f} MiB; refused")
                    parts.append(chunk)
                return Response(response.geturl(), response.status, response.headers, b"".join(parts))

        return self.retrying(url, attempt)

    def download(
        self,
        url: str,
        write: Callable[[bytes, int], None],
        offset: Callable[[], int],
        validator: Callable[[], str | None],
        max_requests: int,
        started: Callable[[Message, int, int | None], None] | None = None,
        progressed: Callable[[int], None] | None = None,
    ) -> None:
        """Stream ``url`` into ``write(chunk, position)``, resuming with HTTP ``Range`` requests.

        ``write`` replaces the stored bytes from ``position`` on by ``chunk``; ``offset()`` is
        how many bytes are already stored. An attempt cut by the deadline or a dropped
        connection continues where it stopped; one that moved at least 64 KiB does not count
        as a failure, but no more than ``max_requests`` requests are made. With ``validator()``
        (the ETag or Last-Modified of the earlier response) as ``If-Range``, a file that changed
        on the server meanwhile is sent whole, and ``write`` receives position 0 again.
        ``started(headers, position, total)`` is called when an answer begins.
        """
        requests = 0
        moved = {"start": 0}

        def attempt() -> None:
            nonlocal requests
            requests += 1
            if requests > max_requests:
                raise DownloadError(f"{url}: still incomplete after {max_requests} requests (--max-pages)")
            start = moved["start"] = offset()
            headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
            if start:
                headers["Range"] = f"bytes={start}-"
                if validator():
                    headers["If-Range"] = validator()
            with self._open(url, headers, RETRY_STATUS) as (response, deadline):
                position = start if response.status == 206 else 0
                if started:
                    started(response.headers, position, _total_size(response.headers, position))
                for chunk in chunks(response, deadline):
                    write(chunk, position)
                    position += len(chunk)
                    if progressed:
                        progressed(position)

        self.retrying(url, attempt, progressed=lambda: offset() - moved["start"] >= CHUNK)


def xml_root(response: Response) -> ElementTree.Element:
    """The parsed XML of ``response``; a document with a DTD (entity expansion) is refused."""
    head = response.body[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise DownloadError(f"{response.url}: XML answer with a DTD; refused")
    try:
        return ElementTree.fromstring(response.body)
    except ElementTree.ParseError as exc:
        raise DownloadError(f"{response.url}: answer is not readable XML ({exc})") from None


def _total_size(headers: Message, position: int) -> int | None:
    """The full size of a file from ``Content-Range`` (a partial answer) or ``Content-Length``."""
    match = re.search(r"/(\d+)\s*$", headers.get("Content-Range") or "")
    if match:
        return int(match.group(1))
    length = headers.get("Content-Length")
    return position + int(length) if length and length.isdigit() else None


def _read_quietly(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(65536) or b""
    except (OSError, http.client.HTTPException):
        return b""


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers else None
    return float(value) if value and value.strip().isdigit() else None
