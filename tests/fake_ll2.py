"""A fake Launch Library 2 on 127.0.0.1: serves fixture events and launches with LL2's paging,
filters and ordering, records every request, and injects scripted faults."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Fault:
    """One scripted answer instead of the real one."""

    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    close: bool = False  # drop the connection without answering


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class FakeLL2:
    """Serves `events` (raw LL2 dicts) under ``/2.3.0/events/`` and ``/events/upcoming/``,
    and `launches` under ``/2.3.0/launches/`` and ``/launches/upcoming/``."""

    def __init__(
        self,
        events: list[dict[str, Any]],
        now: datetime | None = None,
        launches: list[dict[str, Any]] | None = None,
    ) -> None:
        self.events = {e["id"]: e for e in events}
        self.launches = {x["id"]: x for x in launches or []}
        self.now = now or datetime(2026, 11, 25, tzinfo=UTC)
        self.requests: list[Seen] = []
        self.faults: deque[Fault] = deque()
        self.faults_at: dict[int, Fault] = {}  # request number (1-based) → fault
        self.on_request: Callable[[Seen], None] | None = None
        # Paths (prefixes) that always answer with a fault, e.g. a broken upcoming window.
        self.broken: dict[str, Fault] = {}
        # Like a database without a stable order among equal sort keys: items with the same
        # `ordering` value come in a new random order on every request.
        self.unstable_ties: random.Random | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/2.3.0"

    def start(self) -> FakeLL2:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def fail_request(self, number: int, fault: Fault) -> None:
        """Answer the `number`-th request from now (1 = the next one) with `fault`."""
        self.faults_at[len(self.requests) + number] = fault

    def upsert(self, event: dict[str, Any]) -> None:
        self.events[event["id"]] = event

    def remove(self, event_id: int) -> None:
        del self.events[event_id]

    def requests_for(self, kind: str) -> list[Seen]:
        """The requests made for "events" or "launches"."""
        return [r for r in self.requests if r.path.startswith(f"/2.3.0/{kind}")]

    def listing(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """What LL2 answers for a listing request."""
        launches = path.startswith("/2.3.0/launches")
        items = list((self.launches if launches else self.events).values())
        date = "net" if launches else "date"
        if path.rstrip("/").endswith("upcoming"):
            items = [e for e in items if _when(e.get(date)) >= self.now]
        if "id" in params:
            wanted = set(params["id"].split(","))
            items = [e for e in items if str(e["id"]) in wanted]
        if "net__gte" in params:
            items = [e for e in items if _when(e.get("net")) >= _when(params["net__gte"])]
        if "net__lte" in params:
            items = [e for e in items if _when(e.get("net")) <= _when(params["net__lte"])]
        if "last_updated__gte" in params:
            floor = _when(params["last_updated__gte"])
            items = [e for e in items if _when(e.get("last_updated")) >= floor]
        if "last_updated__lte" in params:
            ceiling = _when(params["last_updated__lte"])
            items = [e for e in items if _when(e.get("last_updated")) <= ceiling]
        order = params.get("ordering", date)
        key = order.lstrip("-")
        shuffle = self.unstable_ties
        if key == "id":
            items.sort(key=lambda e: (str(type(e["id"])), e["id"]), reverse=order.startswith("-"))
        else:
            items.sort(
                key=lambda e: (_when(e.get(key)), shuffle.random() if shuffle else str(e["id"])),
                reverse=order.startswith("-"),
            )
        limit = min(int(params.get("limit", 10)), 100)
        offset = int(params.get("offset", 0))
        page = items[offset : offset + limit]
        next_url = None
        if offset + limit < len(items):
            following = {**params, "limit": str(limit), "offset": str(offset + limit)}
            next_url = f"{self.base_url}{path.removeprefix('/2.3.0')}?{urlencode(following)}"
        return {"count": len(items), "next": next_url, "previous": None, "results": page}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                seen = Seen(parts.path, params, dict(self.headers))
                fake.requests.append(seen)
                if fake.on_request:
                    fake.on_request(seen)
                scripted = fake.faults_at.pop(len(fake.requests), None)
                if scripted is None and fake.faults:
                    scripted = fake.faults.popleft()
                for prefix, fault in fake.broken.items():
                    if scripted is None and parts.path.startswith(prefix):
                        scripted = fault
                if scripted is not None:
                    self._fault(scripted)
                    return
                if not parts.path.startswith(("/2.3.0/events", "/2.3.0/launches")):
                    self._send(404, b'{"detail":"Not found."}')
                    return
                body = json.dumps(fake.listing(parts.path, params)).encode()
                self._send(200, body)

            def _fault(self, fault: Fault) -> None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.close:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._send(fault.status, fault.body, fault.headers)

            def _send(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                headers = headers or {}
                headers.setdefault("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client may have hung up
                    self.wfile.write(body)

        return Handler


def _when(text: Any) -> datetime:
    if not isinstance(text, str):
        return datetime(1900, 1, 1, tzinfo=UTC)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
