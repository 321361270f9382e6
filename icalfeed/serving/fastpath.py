"""A WSGI layer in front of Flask that answers repeat feed requests from stored responses.

Calendar servers poll the same few URLs all day.  Once Flask has answered a feed URL with a
200, the exact status, headers and bytes are kept, keyed by (path, query string, the
encoding it asks for: gzip or identity, however spelt; and for a feed with absolute links,
the scheme and host it was asked at), and valid for the data version and
day they were made for.  The query string of the key leaves out the tracking parameters
sharing adds, which the feeds ignore (`query.without_tracking`): a shared link hits the
answer stored for the plain one.  A repeat request is then answered here, 304 included,
without routing, parsing or rendering: close to what a bare WSGI app returning fixed bytes
costs.  Anything else goes to Flask unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from werkzeug.http import parse_accept_header, parse_date

from ..base.segmented import SegmentedCache
from ..data.store import Store
from ..feeds.query import without_tracking
from .admission import Refused, refused_body, refused_headers
from .observe import OUTCOME

# The feeds, the path feeds of a program, agency or type, one item's own calendar, and the
# changes feeds.
FEED_PATH = re.compile(
    r"^/(?:(?:events|launches|feed)\.(?:ics|json)"
    r"|(?:programs|agencies|types|events|launches)/[^/]+\.ics"
    r"|changes\.(?:atom|json))$"
)
# Feeds whose links are absolute (they name this service): stored per Host as well.
LINKING_PATH = re.compile(r"^/changes\.")
# Headers a 304 repeats (RFC 9110 §15.4.5); the entity headers stay out.
_KEPT_ON_304 = {"etag", "last-modified", "cache-control", "vary", "access-control-allow-origin"}
MAX_BYTES = 64 * 1024 * 1024

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Stored:
    state: tuple[str, int]  # (data version, day number) it was made for
    headers: list[tuple[str, str]]
    headers_304: list[tuple[str, str]]
    body: bytes
    etag: str  # with quotes, as sent
    modified: float | None  # Last-Modified as a Unix time


class FeedFastPath:
    """Wraps the Flask WSGI app; see the module docstring."""

    def __init__(
        self,
        app: WSGIApp,
        store: Store,
        early: Callable[[dict[str, Any]], Refused | None] | None = None,
    ) -> None:
        """`early` may refuse a request the stored answers cannot serve before Flask sees
        it (a client over its render budget), which keeps a flood's refusals cheap."""
        self.app = app
        self.store = store
        # Segmented: an answer stored once waits in probation, so one-off URLs cannot evict
        # the feeds that are polled all day.
        self._stored: SegmentedCache[Stored] = SegmentedCache(
            MAX_BYTES, lambda s: len(s.body) + 1024
        )
        self.early = early
        self.hits = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        if (
            method not in ("GET", "HEAD")
            or not FEED_PATH.match(path)
            # Preconditions other than the cache validators are Flask's to judge (412).
            or "HTTP_IF_MATCH" in environ
            or "HTTP_IF_UNMODIFIED_SINCE" in environ
        ):
            return self.app(environ, start_response)
        query = without_tracking(environ.get("QUERY_STRING", ""))
        host = _origin(environ) if LINKING_PATH.match(path) else ""
        key = (path, query, encoding_choice(environ.get("HTTP_ACCEPT_ENCODING", "")), host)
        state = self._state()
        stored = self._stored.get(key)
        if stored is not None and stored.state == state:
            self.hits += 1
            environ[OUTCOME] = "fast"
            if _not_modified(environ, stored):
                start_response("304 Not Modified", stored.headers_304)
                return [b""]
            start_response("200 OK", stored.headers)
            return [b""] if method == "HEAD" else [stored.body]
        # A revalidation (If-None-Match / If-Modified-Since) is a calendar polling what it
        # has: left to Flask, whose caches usually answer it without a render.
        revalidating = "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
        refused = self.early(environ) if self.early and not revalidating else None
        if refused is not None:
            environ[OUTCOME] = "refused"
            reason = HTTPStatus(refused.status).phrase
            start_response(f"{refused.status} {reason}", refused_headers(refused))
            return [refused_body(refused)]
        return self._through_flask(environ, start_response, key, state)

    def _state(self) -> tuple[str, int]:
        # The day by the store's clock, as the views count it.
        return (self.store.snapshot.version, int(self.store.clock().timestamp() // 86400))

    def _through_flask(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        key: tuple[str, str, str, str],
        state: tuple[str, int],
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        answer = self.app(environ, capture)
        storable = (
            environ.get("REQUEST_METHOD") == "GET"
            and not environ.get("HTTP_IF_NONE_MATCH")
            and not environ.get("HTTP_IF_MODIFIED_SINCE")
        )
        if not storable or not str(seen.get("status", "")).startswith("200"):
            return answer
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        # Date is when a message is made (RFC 9110 §6.6.1): the server adds a fresh one to
        # each answer; a stored one would make every cache think the feed is hours old.
        headers = [(n, v) for n, v in seen["headers"] if n.lower() != "date"]
        named = {name.lower(): value for name, value in headers}
        if "etag" in named and len(body) + 1024 <= MAX_BYTES:
            modified = parse_date(named.get("last-modified"))
            stored = Stored(
                state=state,
                headers=headers,
                headers_304=[(n, v) for n, v in headers if n.lower() in _KEPT_ON_304],
                body=body,
                etag=named["etag"],
                modified=modified.timestamp() if modified else None,
            )
            self._stored.put(key, stored)
        return [body]


def _origin(environ: dict[str, Any]) -> str:
    """The scheme and host a request reached us by (after `clients`: a trusted proxy's
    `X-Forwarded-Proto` counted), which absolute links in an answer are made of."""
    return f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"


def encoding_choice(header: str) -> str:
    """What an Accept-Encoding asks of us, as the views decide it: ``gzip`` or ``identity``.
    Clients spell the header many ways; the stored answers are kept per choice, not per
    spelling. The common short spellings are remembered."""
    if len(header) <= 200:
        return _short_choice(header)
    return "gzip" if parse_accept_header(header)["gzip"] > 0 else "identity"


@functools.lru_cache(maxsize=512)
def _short_choice(header: str) -> str:
    return "gzip" if parse_accept_header(header)["gzip"] > 0 else "identity"


def _not_modified(environ: dict[str, Any], stored: Stored) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present, else If-Modified-Since."""
    match = environ.get("HTTP_IF_NONE_MATCH")
    if match is not None:
        tags = [tag.strip() for tag in match.split(",")]
        return "*" in tags or stored.etag in tags or f"W/{stored.etag}" in tags
    since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
    return bool(since and stored.modified and stored.modified <= since.timestamp())
