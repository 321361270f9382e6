"""The waitress internals the tarpit (`dispatch`), the connection rules (`doorman`) and the
graceful stop (`shutdown`) rely on, checked once at start-up.

They use parts of waitress that are not its public API (the socket map, a channel's request
list and output length, the event loop, the task dispatcher's shutdown). `pyproject.toml`
pins waitress to the releases they were written for; this check turns an install that still
got another one into a one-line start-up error instead of a server that half works (parked
connections never released, a stop that hangs).
"""

from __future__ import annotations

import inspect
from importlib import metadata
from typing import Any

from ..base.errors import StartupError

# The releases these internals were written and tested for (as in pyproject.toml).
SUPPORTED = ((3, 0), (3, 1))


def check_waitress(listeners: list[Any], server: Any) -> None:
    """Raise StartupError naming what is missing, or when the release is not supported."""
    version = metadata.version("waitress")
    release = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    problems = [] if SUPPORTED[0] <= release < SUPPORTED[1] else [f"release {version}"]
    problems += missing_internals(listeners, server)
    if problems:
        low, high = (".".join(map(str, r)) for r in SUPPORTED)
        raise StartupError(
            f"waitress {version} is not one icalfeed was built for ({', '.join(problems)}); "
            f"install waitress>={low},<{high}"
        )


def missing_internals(listeners: list[Any], server: Any) -> list[str]:
    """The names of the internals that are not there (empty: all present)."""
    from waitress import wasyncore
    from waitress.channel import HTTPChannel

    missing = [
        name
        for name, present in (
            ("wasyncore.loop", callable(getattr(wasyncore, "loop", None))),
            ("wasyncore.dispatcher.close", callable(getattr(wasyncore.dispatcher, "close", None))),
            ("HTTPChannel.service", callable(getattr(HTTPChannel, "service", None))),
            ("HTTPChannel.del_channel", callable(getattr(HTTPChannel, "del_channel", None))),
            ("HTTPChannel.readable", callable(getattr(HTTPChannel, "readable", None))),
            ("HTTPChannel.total_outbufs_len", hasattr(HTTPChannel, "total_outbufs_len")),
            ("HTTPChannel.will_close", hasattr(HTTPChannel, "will_close")),
            ("HTTPChannel.task_class", hasattr(HTTPChannel, "task_class")),
            (
                "HTTPChannel(server, sock, addr, adj, map)",
                list(inspect.signature(HTTPChannel.__init__).parameters)[1:]
                == ["server", "sock", "addr", "adj", "map"],
            ),
            (
                "task_dispatcher.shutdown",
                callable(getattr(getattr(server, "task_dispatcher", None), "shutdown", None)),
            ),
        )
        if not present
    ]
    for listener in listeners:
        for name in ("_map", "active_channels", "channel_class", "readable", "handle_accept"):
            if not hasattr(listener, name):
                missing.append(f"server.{name}")
        if not hasattr(getattr(listener, "adj", None), "connection_limit"):
            missing.append("server.adj.connection_limit")
    if not listeners:
        missing.append("a listening server")
    return sorted(set(missing))
