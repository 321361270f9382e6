"""The floor for `bench/serving.py`: a bare WSGI app under waitress that returns fixed bytes with
the same headers a feed has.  Nothing can serve those bytes faster through waitress.

Usage: python bench/floor.py PORT BODY_FILE
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import waitress


def main(port: int, body_file: str) -> None:
    body = Path(body_file).read_bytes()
    headers = [
        ("Content-Type", "text/calendar; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("ETag", '"floor"'),
        ("Cache-Control", "public, max-age=900"),
    ]

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [body]

    # As in `icalfeed serve`: waitress would log its queue depth once per queued request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
