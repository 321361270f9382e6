"""The access log: one line per request on the ``icalfeed.access`` logger.

The Combined Log Format plus two fields, the milliseconds the app took and how the request
was answered (`observe.OUTCOMES`)::

    203.0.113.7 - - [25/Nov/2026:12:00:00 +0000] "GET /events.ics?type=docking HTTP/1.1" 200
    48213 "-" "Google-Calendar-Importer" 0.42 fast

(one line). The client is the one admission counts (`admission.client_address`: the socket
peer unless it is a trusted proxy). Query strings are logged, but the value of any parameter
whose name looks secret (``token``, ``key``, ``password``, ``secret``…) is ``***``. Quotes,
backslashes and control or non-ASCII characters in the request line, Referer and User-Agent
are escaped (``\\"``, ``\\\\``, ``\\x0a``), so no client can forge or split a line.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, TextIO
from urllib.parse import quote, unquote_plus

from .observe import OUTCOME, Headers

log = logging.getLogger("icalfeed.access")
# How long a line may wait before it is written, and how many may wait (`BatchedHandler`).
FLUSH_SECONDS = 1.0
MAX_QUEUED = 100_000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Parameter names whose values are never logged (matched anywhere in the decoded name).
_SECRET_NAME = re.compile(r"token|key|secret|passw|pwd|auth|credential|signature", re.I)
# What may be secret in a raw query string: a secret-looking name, or percent-encoding.
_MAYBE_SECRET = re.compile(r"token|key|secret|passw|pwd|auth|credential|signature|%", re.I)
# Printable ASCII stays; quote and backslash are escaped, the rest becomes \xNN.
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
# A client address: letters, digits and the punctuation of IPv4/IPv6 addresses.
_UNSAFE_CLIENT = re.compile(r"[^0-9A-Za-z:.\-_\[\]%]")


class AccessLog:
    """A listener of `observe.Observed` that logs each request; `client` names who asked."""

    def __init__(
        self,
        client: Callable[[dict[str, Any]], str],
        logger: logging.Logger = log,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.logger = logger
        self.clock = clock

    def __call__(
        self, environ: dict[str, Any], status: str, headers: Headers, seconds: float
    ) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        client = self.client(environ)
        text = line(environ, client, status, headers, seconds, self.clock() - seconds)
        # `logger.info` without its search of the stack for the caller, always this line.
        logger = self.logger
        logger.handle(logger.makeRecord(logger.name, logging.INFO, __file__, 0, text, (), None))


def line(
    environ: Mapping[str, Any],
    client: str,
    status: str,
    headers: Headers,
    seconds: float,
    moment: float,
) -> str:
    """The access-log line of one request (see the module docstring); `moment` is when it
    arrived, as a Unix time."""
    method = environ.get("REQUEST_METHOD", "-")
    request = f"{method} {request_target(environ)} {environ.get('SERVER_PROTOCOL', '-')}"
    code = status[:3]
    size = "-" if method == "HEAD" or code in ("204", "304") else _length(headers)
    referer = environ.get("HTTP_REFERER")
    agent = environ.get("HTTP_USER_AGENT")
    return (
        f'{_client(client)} - - [{clf_time(moment)}] "{escape(request)}" {code} {size} '
        f'"{escape(scrub_url(referer)) if referer else "-"}" '
        f'"{escape(agent) if agent else "-"}" '
        f"{seconds * 1000:.2f} {environ.get(OUTCOME, 'none')}"
    )


def request_target(environ: Mapping[str, Any]) -> str:
    """The path and query as the client sent them (waitress's REQUEST_URI, else rebuilt
    from the decoded path), secrets scrubbed."""
    raw = environ.get("REQUEST_URI")
    if raw is None:
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        raw = quote(path.encode("latin-1", "replace"), safe="/;:@&=+$,!~*'()-._")
        query = environ.get("QUERY_STRING")
        if query:
            raw += "?" + str(query)
    return scrub_url(str(raw))


def scrub_url(url: str) -> str:
    """`url` with the value of every secret-looking query parameter replaced by ``***``."""
    path, mark, query = url.partition("?")
    if not mark or not _MAYBE_SECRET.search(query):
        return url
    parts = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        if equals and value and _SECRET_NAME.search(unquote_plus(name)):
            part = f"{name}=***"
        parts.append(part)
    return f"{path}?{'&'.join(parts)}"


def escape(text: str) -> str:
    """`text` safe inside a quoted log field: one line, no bare quote."""
    return _UNSAFE.sub(_escaped, text) if _UNSAFE.search(text) else text


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return "\\" + char if char in '"\\' else _hex(char)


def _hex(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _client(client: str) -> str:
    """The client field: an address, never spaces or quotes (a forwarded value is text)."""
    if not client:
        return "-"
    if not _UNSAFE_CLIENT.search(client):
        return client
    return _UNSAFE_CLIENT.sub(lambda m: _hex(m.group()), client)


def _length(headers: Headers) -> str:
    for name, value in headers:
        if name.lower() == "content-length":
            return value if value.isdigit() and value != "0" else "-"
    return "-"


def clf_time(moment: float) -> str:
    """``25/Nov/2026:12:00:00 +0000`` (UTC, English month names whatever the locale)."""
    return _clf_second(int(moment))


@functools.lru_cache(maxsize=4)
def _clf_second(second: int) -> str:
    t = time.gmtime(second)
    return (
        f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def write_lines_to(stream: TextIO, every: float = FLUSH_SECONDS) -> logging.Handler:
    """Send the access log to `stream` as bare lines (no level or logger name in front), at
    INFO whatever ``ICALFEED_LOG_LEVEL`` says (``ICALFEED_ACCESS_LOG=0`` turns it off),
    written at most `every` seconds late (see `BatchedHandler`)."""
    handler = BatchedHandler(stream, every)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


class BatchedHandler(logging.Handler):
    """Request threads only queue their line; a thread of its own writes what is queued
    every `every` seconds, in one write (and `flush`, which `logging.shutdown` calls at
    exit, writes the rest).

    Writing from the request threads cost a busy server a quarter of its throughput: a write
    holds the handler's lock while the thread is out of the GIL, and every other request
    thread then queues behind it. Here no request thread ever waits on I/O. Lines beyond
    `MAX_QUEUED` (a disk that stopped answering) are dropped, oldest first."""

    def __init__(self, stream: TextIO, every: float) -> None:
        super().__init__()
        self.stream = stream
        self._lines: deque[str] = deque(maxlen=MAX_QUEUED)
        self._writing = threading.Lock()
        self._stop = threading.Event()
        self._writer = threading.Thread(
            target=self._write_every, args=(every,), name="icalfeed-access-log", daemon=True
        )
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """Write every queued line now."""
        with self._writing:
            lines = []
            try:
                while True:
                    lines.append(self._lines.popleft())
            except IndexError:
                pass
            if lines:
                self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        super().close()

    def _write_every(self, every: float) -> None:
        while not self._stop.wait(every):
            # A write that fails (a full disk) loses its lines; the thread goes on.
            with contextlib.suppress(Exception):
                self.flush()
