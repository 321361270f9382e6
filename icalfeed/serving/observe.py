"""The outermost WSGI layer: times each request and tells its listeners how it went.

It wraps everything else (the fast path included), so stored answers and early refusals are
seen like any other. A listener gets the WSGI environ, the status line, the response headers
and the seconds the app took to answer, as soon as the app has answered (before the body is
sent: the server buffers it). Layers below say how a feed was answered by setting
``environ[OUTCOME]``; see `OUTCOMES`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

# The environ key where layers below note how a request was answered.
OUTCOME = "icalfeed.outcome"
# fast: a stored answer (the fast path); cached: Flask answered from the rendered-feed cache;
# rendered: work was admitted and done (a new query, a page); refused: the flood protections
# said no (429/503); none: anything else (health, static files, a bad query…).
OUTCOMES = ("fast", "cached", "rendered", "refused", "none")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Headers = list[tuple[str, str]]
# (environ, status line, response headers, seconds the app took)
Listener = Callable[[dict[str, Any], str, Headers, float], None]
log = logging.getLogger(__name__)


def mark(environ: dict[str, Any], outcome: str) -> None:
    """Note how this request was answered (one of `OUTCOMES`)."""
    environ[OUTCOME] = outcome


class Observed:
    """Wraps a WSGI app; see the module docstring."""

    def __init__(self, app: WSGIApp, listeners: Sequence[Listener]) -> None:
        self.app = app
        self.listeners = tuple(listeners)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        answer: list[Any] = []

        def capture(status: str, headers: Headers, exc_info: Any = None) -> Any:
            answer[:] = (status, headers)
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, capture)
        except BaseException:
            self.tell(environ, "500 Internal Server Error", [], started)
            raise
        if answer:
            self.tell(environ, answer[0], answer[1], started)
            return body
        # An app may call start_response on the first iteration (PEP 3333): wait for it.
        return _Deferred(self, body, environ, answer, started)

    def tell(self, environ: dict[str, Any], status: str, headers: Headers, started: float) -> None:
        """Hand the finished request to every listener; one that fails is logged, not fatal."""
        seconds = time.perf_counter() - started
        for listener in self.listeners:
            try:
                listener(environ, status, headers, seconds)
            except Exception:
                log.exception("request listener %r failed", listener)


class _Deferred:
    """A body whose status is known only once it is iterated: told on close."""

    def __init__(
        self,
        observed: Observed,
        body: Iterable[bytes],
        environ: dict[str, Any],
        answer: list[Any],
        started: float,
    ) -> None:
        self.observed, self.body, self.environ = observed, body, environ
        self.answer, self.started = answer, started

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            status, headers = self.answer or ("500 Internal Server Error", [])
            self.observed.tell(self.environ, status, headers, self.started)
