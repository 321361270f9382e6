"""What the public may see of a failure: a short reason, never a server path, an internal
host or a credential.

The answers anyone can fetch (`/healthz`, `/metrics`, error bodies) say *what kind* of
problem there is (``storage: read-only``, ``shared store: unreachable``); the path, the
host and the system's own words go to the log beside them.  `storage_reason` and
`shared_store_reason` make those short reasons where a failure happens; `public_text` is
the last net for text made elsewhere (an upstream error, a message stored by an older
release), applied where it is published.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

STORAGE_READ_ONLY = "storage: read-only"
STORAGE_FULL = "storage: full"
STORAGE_DENIED = "storage: permission denied"
STORAGE_NOT_A_FILE = "storage: not a file"
STORAGE_FAILED = "storage: i/o error"
SHARED_UNREACHABLE = "shared store: unreachable"
SHARED_BAD_VALUE = "shared store: bad value"
SHARED_DENIED = "shared store: access denied"
SHARED_READ_ONLY = "shared store: read-only"
SHARED_FAILED = "shared store: error"
SHARED_NOT_LEADER = "shared store: not the leader"
HIDDEN_HOST = "<host>"

_STORAGE_REASONS = {
    errno.EROFS: STORAGE_READ_ONLY,
    errno.ENOSPC: STORAGE_FULL,
    errno.EDQUOT: STORAGE_FULL,
    errno.EACCES: STORAGE_DENIED,
    errno.EPERM: STORAGE_DENIED,
    errno.EISDIR: STORAGE_NOT_A_FILE,
    errno.ENOTDIR: STORAGE_NOT_A_FILE,
}

# One pass over the text, the first alternative that matches winning: a URL (anything with
# a scheme, credentials included), a host with a port, an IPv4 address, an absolute path of
# two parts or more, a credential written as name=value or "Token <a long key>".
_SECRET_NAMES = r"(?:token|password|passwd|secret|api[_-]?key|authorization)"
_SCHEMES = r"(?:token|bearer|basic)"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*)"
_SENSITIVE = re.compile(
    r"(?P<url>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()]+)"
    rf"|(?P<hostport>(?<![\w.:/-])(?=[A-Za-z\[]|\d+\.\d){_HOST}:\d{{1,5}}\b)"
    r"|(?P<ipv4>(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]))"
    r"|(?P<path>(?<![\w.~:/…-])/(?:[^\s/'\"()<>:;,]+/)+[^\s/'\"()<>:;,]*)"
    rf"|(?P<secret>\b{_SECRET_NAMES}\s*[=:]\s*(?:{_SCHEMES}\s+)?[^\s;,]+)"
    rf"|(?P<key>\b{_SCHEMES}\s+[A-Za-z0-9._~+/=-]{{16,}})",
    re.IGNORECASE,
)
_NAME = re.compile(rf"{_SECRET_NAMES}|{_SCHEMES}", re.IGNORECASE)


def storage_reason(exc: OSError) -> str:
    """The short public reason for a failed read or write in the data dir."""
    return _STORAGE_REASONS.get(exc.errno or 0, STORAGE_FAILED)


def shared_store_reason(exc: BaseException) -> str:
    """The short public reason for a failed read or write of the shared store (Redis)."""
    own = getattr(exc, "public_reason", None)
    if isinstance(own, str):
        return own
    import redis  # here: a tenth of a second, paid only where a shared store failed

    if isinstance(exc, redis.AuthenticationError):
        return SHARED_DENIED
    if isinstance(exc, redis.ReadOnlyError):
        return SHARED_READ_ONLY
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError):
        return SHARED_UNREACHABLE
    if isinstance(exc, ValueError | TypeError | redis.DataError):
        return SHARED_BAD_VALUE
    if isinstance(exc, redis.ResponseError) and "WRONGTYPE" in str(exc):
        return SHARED_BAD_VALUE
    if isinstance(exc, redis.ResponseError) and "NOPERM" in str(exc):
        return SHARED_DENIED
    return SHARED_FAILED


def public_text(text: str, hosts: Iterable[str] = ()) -> str:
    """`text` with every URL cut to its path, every host:port, IPv4 address and name in
    `hosts` replaced by ``<host>``, every absolute path by its last part, and every
    credential hidden."""
    cleaned = _SENSITIVE.sub(_replacement, text)
    for host in sorted({h for h in hosts if h}, key=len, reverse=True):
        cleaned = re.sub(rf"(?<![\w.-]){re.escape(host)}(?![\w-])", HIDDEN_HOST, cleaned)
    return cleaned


def hosts_of(*urls: str | None) -> tuple[str, ...]:
    """The host names in `urls` (the upstream's, Redis's), for `public_text`."""
    found = []
    for url in urls:
        try:
            host = urlsplit(url).hostname if url else None
        except ValueError:
            host = None
        if host:
            found.append(host)
    return tuple(found)


def _replacement(match: re.Match[str]) -> str:
    kind = match.lastgroup
    value = match.group()
    if kind == "url":
        return _url_path(value)
    if kind == "path":
        return value.rstrip("/").rsplit("/", 1)[-1] or value
    if kind in ("secret", "key"):
        name = _NAME.match(value)
        return f"{name.group() if name else 'secret'}=<hidden>"
    return HIDDEN_HOST


def _url_path(url: str) -> str:
    """A URL's path alone (no scheme, credentials, host, port or query): ``…/events/``."""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    return f"…{path}" if path and path != "/" else "…"
