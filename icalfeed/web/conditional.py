"""Conditional requests on a feed (RFC 9110 §13): which answer the request's preconditions
ask for, evaluated in the order §13.2.2 gives.

Werkzeug's own evaluation (`Response.make_conditional`) ignores If-Unmodified-Since, fails
``If-Match: *`` on a feed that exists, and lets a matching If-Match override a matching
If-None-Match; so the feeds decide here, and the fast path (which answers repeats without
Flask) leaves the two state-changing preconditions, If-Match and If-Unmodified-Since, to
this code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from werkzeug.http import parse_date, parse_etags

NOT_MODIFIED = 304
PRECONDITION_FAILED = 412


def evaluate(environ: Mapping[str, Any], etag: str, modified: datetime | None) -> int | None:
    """304 or 412 when the request's preconditions ask for it, else None (send the feed).

    `etag` is the answer's entity tag without quotes (strong); `modified` its Last-Modified
    (None when the answer goes without one: no date precondition can then hold against it).
    """
    if_match = environ.get("HTTP_IF_MATCH")
    if if_match is not None:
        # §13.1.1: strong comparison; "*" matches any current representation.
        if not parse_etags(if_match).contains(etag):
            return PRECONDITION_FAILED
    else:
        # §13.1.4: only without If-Match, and only against a known date.
        since = parse_date(environ.get("HTTP_IF_UNMODIFIED_SINCE"))
        if since is not None and modified is not None and modified > since:
            return PRECONDITION_FAILED
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    safe = environ.get("REQUEST_METHOD") in ("GET", "HEAD")
    if if_none_match is not None:
        # §13.1.2: weak comparison; "*" matches any current representation.
        if parse_etags(if_none_match).contains_weak(etag):
            return NOT_MODIFIED if safe else PRECONDITION_FAILED
        return None
    # §13.1.3: only without If-None-Match, and only on GET and HEAD.
    if safe and modified is not None:
        modified_since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        if modified_since is not None and modified <= modified_since:
            return NOT_MODIFIED
    return None
