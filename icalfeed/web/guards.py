"""Request limits and error answers: every failure is a short plain-text line, never a page
of framework internals, and no request can make the service do unbounded work."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..serving.admission import Refused, refused_body, refused_headers

# Longest query string accepted (the builder's longest realistic URL is well under 1 KB).
MAX_QUERY_BYTES = 4096
# No route takes a body.
MAX_BODY_BYTES = 16 * 1024
log = logging.getLogger(__name__)


def install(app: Flask) -> None:
    """Register the limits and error handlers on `app`."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(_check_query_length)
    app.before_request(_check_body_length)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def plain(status: int, message: str) -> Response:
    """A one-line text answer."""
    return Response(f"{status} {message}\n", status=status, mimetype="text/plain")


def refused(refusal: Refused) -> Response:
    """429 or 503 for work not admitted, with Retry-After (see `admission`)."""
    response = Response(refused_body(refusal), status=refusal.status, mimetype="text/plain")
    for name, value in refused_headers(refusal):
        if name not in ("Content-Type", "Content-Length"):
            response.headers[name] = value
    return response


def _check_query_length() -> Response | None:
    if len(request.query_string) > MAX_QUERY_BYTES:
        return plain(414, f"query string too long (at most {MAX_QUERY_BYTES} bytes)")
    return None


def _check_body_length() -> Response | None:
    """413 for a body over the limit, whatever the route and method: MAX_CONTENT_LENGTH
    alone is only checked when a view reads the body, which none does (a POST would get
    405 and a GET its feed, after the whole body was taken in)."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return plain(413, f"request body too large (at most {MAX_BODY_BYTES} bytes)")
    return None


def _http_error(error: HTTPException) -> Response:
    response = plain(error.code or 500, (error.name or "error").lower())
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.valid_methods or ("GET", "HEAD"))
    return response


def _unexpected(error: Exception) -> Response:
    # A bug, not an expected failure: the stack trace goes to the log, never to the client.
    log.exception("unexpected error on %s", request.path)
    return plain(500, "internal error; it has been logged")
