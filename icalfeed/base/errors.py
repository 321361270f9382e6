"""The one small error hierarchy: every expected failure is an IcalfeedError."""

from __future__ import annotations


class IcalfeedError(Exception):
    """Base of every expected failure; its message says what to do next."""


class ConfigError(IcalfeedError):
    """A setting is missing, malformed or unusable (exit code 2 on the command line)."""


class StartupError(IcalfeedError):
    """The server cannot start: its address is taken, unknown or not permitted (exit code 2
    on the command line, with this one-line message)."""


class UpstreamError(IcalfeedError):
    """Launch Library 2 could not be used right now.

    `reason` is a short machine-friendly word (``throttled``, ``http-503``, ``timeout``,
    ``bad-json``…); `retry_at` is a Unix time before which asking again is pointless.
    """

    def __init__(self, reason: str, message: str, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_at = retry_at


# The reasons of an `UpstreamError` that mean LL2 gave no answer at all (nothing reached it,
# or nothing came back in time): this machine's route to it may be what is broken.
UNANSWERED = frozenset({"unreachable", "timeout"})


def unanswered(error: str | None) -> bool:
    """Whether a recorded failure ("unreachable: cannot reach …") had no answer from LL2."""
    return error is not None and error.split(":", 1)[0] in UNANSWERED


class SnapshotError(IcalfeedError):
    """A snapshot file cannot be read or written.

    The message names the file for the log; `reason` is the short public one
    (``storage: read-only``), which never names a path.
    """

    def __init__(self, message: str, reason: str = "storage: snapshot unusable") -> None:
        super().__init__(message)
        self.reason = reason


class QueryError(IcalfeedError):
    """A feed query is malformed; the message names the parameter (HTTP 400)."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


def shown(text: str, limit: int = 60) -> str:
    """User input made safe to echo inside a one-line message: no line breaks or controls."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")
