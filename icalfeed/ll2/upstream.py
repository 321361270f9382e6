"""The Launch Library 2 client: the only module that speaks HTTP to the upstream.

One ``requests.Session``, connect/read timeouts, a User-Agent naming the project, the API key
when set, ``limit=100`` and paging by ``next``.  Every request is paid for from the shared
`RequestBudget` first, and given back only when it provably never left this machine (its name
did not resolve, its connection was refused); a 429 pauses the whole budget until the
upstream says it is open again. Every failure leaves as an `UpstreamError` with a short reason.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from .. import __version__
from ..base.config import Settings
from ..base.errors import UpstreamError
from .budget import Budget
from .models import ParsedPage, parse_events

PAGE_SIZE = 100
# Cap on pages followed for one listing, so a `next` that loops cannot spin forever.
MAX_PAGES = 200
# When the upstream throttles us without saying for how long.
DEFAULT_THROTTLE_SECONDS = 900.0
_AVAILABLE_IN = re.compile(r"available in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)
log = logging.getLogger(__name__)
# Told of every request sent (not of one that never left: see `NeverSent`): (kind, outcome).
# Kind: "events", "launches" or "other" (the first segment of the path below the base URL);
# outcome: "ok" (200 with a JSON body), "http_4xx", "http_5xx", "throttled" (429), "timeout"
# or "error" (anything else).
RequestHook = Callable[[str, str], None]


def _ignore(kind: str, outcome: str) -> None:
    """The default `RequestHook`: nobody is counting."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of an LL2 listing, parsed."""

    parsed: ParsedPage
    count: int | None
    next_url: str | None
    url: str
    size: int = 0  # objects on the page, usable or not

    @property
    def is_last(self) -> bool:
        """Nothing follows: no `next`, or nothing on the page (whatever `next` says)."""
        return self.next_url is None or self.size == 0


class LL2Client:
    """Fetches event and launch listings from Launch Library 2 within the request budget."""

    def __init__(
        self,
        settings: Settings,
        budget: Budget,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        on_request: RequestHook | None = None,
    ) -> None:
        self.base_url = settings.upstream_url.rstrip("/") + "/"
        self.on_request = on_request or _ignore
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.budget = budget
        self.clock = clock
        self.requests_made = 0
        self._halted = threading.Event()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = (
            f"icalfeed/{__version__} (iCalendar feeds of spaceflight events; "
            "https://github.com/icalfeed/icalfeed)"
        )
        self.session.headers["Accept"] = "application/json"
        if settings.api_key:
            self.session.headers["Authorization"] = f"Token {settings.api_key}"

    def pages(
        self,
        path: str,
        params: Mapping[str, str | int],
        parse: Callable[[Iterable[Any]], ParsedPage] = parse_events,
        max_pages: int | None = None,
    ) -> Iterator[Page]:
        """Yield each page of a listing, parsed by `parse`, following ``next`` until it ends.

        Stops (without error) when the budget has no request left or after `max_pages`;
        raises UpstreamError on any failure.  Pages already yielded stay valid for the caller.
        """
        query = urlencode({"limit": PAGE_SIZE, **params})
        url: str | None = urljoin(self.base_url, path.lstrip("/")) + "?" + query
        seen: set[str] = set()
        expected_pages = MAX_PAGES
        while url is not None and (max_pages is None or len(seen) < max_pages):
            if url in seen or len(seen) >= expected_pages:
                raise UpstreamError("paging-loop", f"LL2 paging did not end (at {url})")
            seen.add(url)
            data = self.get_json(url)
            if data is None:
                return
            page = _page_from(data, url, parse)
            if len(seen) == 1 and page.count is not None:
                # `next` links that are new every time still end where `count` says.
                expected_pages = min(MAX_PAGES, page.count // PAGE_SIZE + 2)
            yield page
            url = page.next_url
            if url is not None:
                url = urljoin(page.url, url)
                self._check_origin(url)

    def page(
        self,
        path: str,
        params: Mapping[str, str | int],
        parse: Callable[[Iterable[Any]], ParsedPage] = parse_events,
    ) -> Page | None:
        """One page of a listing, exactly as asked (no `next` followed): None when the budget
        is spent; UpstreamError on any failure."""
        query = urlencode({"limit": PAGE_SIZE, **params})
        url = urljoin(self.base_url, path.lstrip("/")) + "?" + query
        data = self.get_json(url)
        return None if data is None else _page_from(data, url, parse)

    def halt(self) -> None:
        """Ask nothing more of LL2 (the service is stopping)."""
        self._halted.set()

    def get_json(self, url: str) -> Any | None:
        """One budgeted GET returning decoded JSON, or None when the budget is spent (or the
        service is stopping: the pass ends between two pages, keeping what it has). A
        request that never left this machine (`NeverSent`) is given back to the budget."""
        if self._halted.is_set():
            return None
        try:
            if not self.budget.try_spend():
                return None
        except OSError as exc:
            raise UpstreamError(
                "budget-unwritable", f"cannot record the request budget: {exc}"
            ) from None
        self.requests_made += 1
        kind = self._kind(url)
        try:
            data = self._fetch_json(url)
        except NeverSent:
            # Neither charged nor told: a machine without a route to LL2 keeps its hour.
            self.requests_made -= 1
            self.budget.refund()
            raise
        except UpstreamError as exc:
            self.on_request(kind, _outcome(exc.reason))
            raise
        except Exception:
            self.on_request(kind, "error")
            raise
        self.on_request(kind, "ok")
        return data

    def _fetch_json(self, url: str) -> Any:
        """The GET itself (already paid for): decoded JSON, or UpstreamError."""
        try:
            response = self.session.get(url, timeout=self.timeout, stream=True)
            body = self._read_body(response, url)
        except requests.Timeout:
            raise UpstreamError("timeout", f"LL2 did not answer in time ({url})") from None
        except requests.ConnectionError as exc:
            host = urlsplit(url).hostname
            if never_sent(exc):
                raise NeverSent(
                    "unreachable", f"cannot reach {host}: {_why(exc)}; nothing was sent"
                ) from None
            raise UpstreamError("unreachable", f"cannot reach {host}: {_why(exc)}") from None
        except requests.RequestException as exc:
            raise UpstreamError("request-failed", f"LL2 request failed: {_short(exc)}") from None
        if response.status_code == 429:
            now = self.clock()
            retry_at = now + _throttle_seconds(response, now)
            self.budget.pause_until(retry_at)
            raise UpstreamError(
                "throttled",
                "LL2 throttled us; next request after "
                + time.strftime("%H:%M:%S UTC", time.gmtime(retry_at)),
                retry_at=retry_at,
            )
        if response.status_code != 200:
            raise UpstreamError(
                f"http-{response.status_code}", f"LL2 answered HTTP {response.status_code} ({url})"
            )
        try:
            return json.loads(body)
        except ValueError:
            raise UpstreamError("bad-json", f"LL2 sent a body that is not JSON ({url})") from None

    def _read_body(self, response: requests.Response, url: str) -> bytes:
        """The whole body, or UpstreamError once the deadline passes: the read timeout
        bounds each read, so an upstream that trickles bytes needs a limit of its own."""
        deadline = self.timeout[0] + 2 * self.timeout[1]
        expired = threading.Event()

        def cut_off() -> None:
            expired.set()
            response.close()

        timer = threading.Timer(deadline, cut_off)
        timer.daemon = True
        timer.start()
        try:
            body = response.content
        except Exception:  # whatever the closed connection raises mid-read
            if expired.is_set():
                raise UpstreamError(
                    "timeout", f"LL2 took over {deadline:.0f}s to send {url}"
                ) from None
            raise
        finally:
            timer.cancel()
        if expired.is_set():
            raise UpstreamError("timeout", f"LL2 took over {deadline:.0f}s to send {url}")
        return body

    def _kind(self, url: str) -> str:
        """What `url` asks for, by its path: "events", "launches" or "other"."""
        base = urlsplit(self.base_url).path
        path = urlsplit(url).path
        rest = path[len(base) :] if path.startswith(base) else path.lstrip("/")
        first = rest.split("/", 1)[0]
        return first if first in ("events", "launches") else "other"

    def _check_origin(self, url: str) -> None:
        """UpstreamError("bad-next") unless `url` (a `next` link) has the API's own scheme,
        host and port: the API key goes with every request, and must never go in clear
        (a link downgraded to http) nor to anyone else."""
        problem = origin_problem(url, self.base_url)
        if problem:
            log.warning("LL2 'next' link %s refused: %s", url, problem)
            raise UpstreamError("bad-next", f"LL2's 'next' link {problem}; not followed")


def origin_problem(url: str, base: str) -> str | None:
    """Why `url` is not of `base`'s origin (scheme, host and port), in public words; None
    when it is."""
    try:
        link, home = urlsplit(url), urlsplit(base)
        link_port, home_port = link.port, home.port
    except ValueError:
        return "is not a URL"
    if link.scheme != home.scheme:
        if (home.scheme, link.scheme) == ("https", "http"):
            return "downgrades to http"
        return f"changes the scheme to {link.scheme or 'none'}"
    defaults = {"http": 80, "https": 443}
    same_port = (link_port or defaults.get(link.scheme)) == (home_port or defaults.get(home.scheme))
    if (link.hostname or "").lower() != (home.hostname or "").lower() or not same_port:
        return "points to another host or port"
    return None


def _page_from(data: Any, url: str, parse: Callable[[Iterable[Any]], ParsedPage]) -> Page:
    """Check the listing's shape and parse its items."""
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
        raise UpstreamError("bad-shape", f"LL2 answer has no 'results' list ({url})")
    next_url = data.get("next")
    count = data.get("count")
    return Page(
        parsed=parse(data["results"]),
        count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        next_url=next_url if isinstance(next_url, str) and next_url else None,
        url=url,
        size=len(data["results"]),
    )


class NeverSent(UpstreamError):
    """The request never left this machine: LL2's name did not resolve, or no connection to
    it could be made (refused, no route). It is not charged to the hourly budget."""


def never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection itself failed, so nothing reached LL2: a DNS failure, a
    refused or unroutable connect (urllib3's NewConnectionError, NameResolutionError
    included). A failure after connecting (a dropped answer, TLS) may have reached it."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, NewConnectionError)


def _outcome(reason: str) -> str:
    """An `UpstreamError` reason as a `RequestHook` outcome."""
    if reason in ("throttled", "timeout"):
        return reason
    if reason.startswith("http-4"):
        return "http_4xx"
    if reason.startswith("http-5"):
        return "http_5xx"
    return "error"


def _throttle_seconds(response: requests.Response, now: float) -> float:
    """Seconds to wait after a 429: Retry-After, else the 'available in N seconds' detail."""
    header = response.headers.get("Retry-After", "").strip()
    if header:
        if header.isdigit():
            return max(1.0, float(header))
        try:
            return max(1.0, parsedate_to_datetime(header).timestamp() - now)
        except (TypeError, ValueError):
            pass
    try:
        detail = json.loads(response.content).get("detail", "")
    except (ValueError, AttributeError, requests.RequestException):
        detail = ""
    match = _AVAILABLE_IN.search(str(detail))
    return max(1.0, float(match.group(1))) if match else DEFAULT_THROTTLE_SECONDS


def _why(exc: requests.ConnectionError) -> str:
    """A few words for a connection failure instead of urllib3's nested repr."""
    text = repr(exc)
    for marker, words in (
        ("NameResolution", "DNS lookup failed"),
        ("refused", "connection refused"),
        ("RemoteDisconnected", "connection closed without an answer"),
        ("reset by peer", "connection reset"),
        ("SSL", "TLS handshake failed"),
    ):
        if marker in text:
            return words
    return "connection failed"


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
