"""A small OGC API Features client: paging through ``next`` links with bounded retries.

PDOK serves its open data (CBS gebiedsindelingen, Natura 2000, BRP gewaspercelen...) as OGC
API Features. Responses are GeoJSON FeatureCollections of at most ``limit`` features with a
``next`` link; PDOK returns CRS84 unless ``crs=`` asks for another CRS.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from novex_geo.errors import DownloadError

__all__ = ["DEFAULT_RETRY", "RD_NEW_URI", "RetryPolicy", "crs_uri", "get_json", "iter_pages"]

log = logging.getLogger(__name__)

RD_NEW_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
RETRY_STATUS = {429, 500, 502, 503, 504}
USER_AGENT = "novex-geo (+https://github.com/novex-geo)"


def crs_uri(crs: str) -> str:
    """OGC CRS URI for an authority code such as ``EPSG:28992``."""
    authority, code = crs.split(":")
    return f"http://www.opengis.net/def/crs/{authority.upper()}/0/{code}"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a failing request.

    Waits grow exponentially from ``backoff`` seconds; a ``Retry-After`` header is honoured up
    to ``max_wait`` seconds.
    """

    attempts: int = 4
    timeout: float = 60.0
    backoff: float = 1.0
    max_wait: float = 30.0


DEFAULT_RETRY = RetryPolicy()


def get_json(url: str, policy: RetryPolicy = DEFAULT_RETRY) -> dict[str, Any]:
    """GET ``url`` and decode JSON, retrying 429, 5xx, timeouts and dropped connections.

    Raises
    ------
    DownloadError
        after ``policy.attempts`` failures, or at once for other HTTP errors and non-JSON
        answers (e.g. an HTML error page).
    """
    request = urllib.request.Request(
        url, headers={"Accept": "application/geo+json, application/json", "User-Agent": USER_AGENT}
    )
    problem = ""
    for attempt in range(1, policy.attempts + 1):
        wait = policy.backoff * 2 ** (attempt - 1)
        try:
            with urllib.request.urlopen(request, timeout=policy.timeout) as response:
                body = response.read()
            break
        except urllib.error.HTTPError as exc:
            if exc.code not in RETRY_STATUS:
                raise DownloadError(f"{url}: server answered HTTP {exc.code} {exc.reason}") from None
            problem = f"HTTP {exc.code} {exc.reason}"
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            if retry_after and retry_after.isdigit():
                wait = float(retry_after)
        except TimeoutError:
            problem = f"no answer within {policy.timeout:g} s"
        except http.client.HTTPException as exc:  # e.g. the connection dropped mid-page
            problem = f"incomplete answer ({type(exc).__name__})"
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            problem = f"connection failed ({reason})"
        if attempt < policy.attempts:
            wait = min(wait, policy.max_wait)
            log.warning("%s: %s; retry %d/%d in %.1f s", url, problem, attempt, policy.attempts - 1, wait)
            time.sleep(wait)
    else:
        raise DownloadError(f"{url}: {problem} (gave up after {policy.attempts} attempts)")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        start = body[:80].decode("utf-8", "replace").strip()
        raise DownloadError(f"{url}: answer is not JSON (starts with {start!r})") from None


def _next_link(page: dict[str, Any]) -> str | None:
    for link in page.get("links", []):
        if link.get("rel") == "next" and link.get("href"):
            return link["href"]
    return None


def iter_pages(
    url: str, params: dict[str, Any] | None = None, policy: RetryPolicy = DEFAULT_RETRY
) -> Iterator[dict[str, Any]]:
    """Yield the FeatureCollection pages of an items request, following ``next`` links."""
    query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
    next_url: str | None = f"{url}?{query}" if query else url
    while next_url:
        page = get_json(next_url, policy)
        if page.get("type") != "FeatureCollection":
            raise DownloadError(f"{next_url}: answer is not a GeoJSON FeatureCollection")
        yield page
        next_url = _next_link(page) if page.get("features") else None
