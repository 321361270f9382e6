"""Large response bodies handed to the server as a file (PEP 3333's `wsgi.file_wrapper`).

A body returned in a list is copied whole into waitress's output buffer on the worker
thread (and from there into a temporary file once it passes 1 MiB) before a byte is sent.
With the big feeds of LL2's real size (2 to 4 MiB each) every worker thread's allocator arena
grew to hold such copies and kept the memory afterwards. Wrapped as a file, the stored
bytes are read out in socket-sized pieces as the client takes them: no whole copy, and the
same bytes on the wire.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Below this a body is cheaper to copy than to wrap (the wrapper costs a few seeks).
THRESHOLD = 64 * 1024
BLOCK = 64 * 1024  # for a server that iterates the wrapper instead of reading from it


class FileBodies:
    """Wraps a WSGI app: a 200 whose Content-Length is at least `threshold` goes out
    through the server's file wrapper, when the server offers one."""

    def __init__(self, app: WSGIApp, threshold: int = THRESHOLD) -> None:
        self.app = app
        self.threshold = threshold

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is None or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        length: list[int] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            length[:] = [_content_length(headers)] if status.startswith("200") else []
            return start_response(status, headers, exc_info)

        answer = self.app(environ, capture)
        if not length or length[0] < self.threshold:
            return answer
        try:
            body = b"".join(answer)  # one chunk: the very bytes object, not a copy
        finally:
            if hasattr(answer, "close"):
                answer.close()
        if len(body) != length[0]:  # not what the headers promised: send it as it is
            return [body]
        wrapped: Iterable[bytes] = wrapper(io.BytesIO(body), BLOCK)
        return wrapped


def _content_length(headers: list[tuple[str, str]]) -> int:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value) if value.isdigit() else -1
    return -1
