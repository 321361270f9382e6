"""The ``icalfeed`` command: serve, sync, render."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .base.config import Settings
from .base.errors import ConfigError, QueryError, StartupError
from .data.shared import Shared
from .data.store import Store, utcnow
from .feeds.output import render_feed
from .feeds.query import FeedQuery
from .feeds.select import feed_day
from .serving.dispatch import Tarpit
from .sync.passes import build_syncer
from .sync.report import SyncProgress

if TYPE_CHECKING:
    from flask import Flask
    from waitress.server import BaseWSGIServer, MultiSocketServer

log = logging.getLogger("icalfeed")
# Server threads: the render lane and its short queue take at most three of them, so five
# always serve stored answers. Measured on 2 cores with the tarpit taking waiting flood
# connections out of the event loop, 24 threads served a flood no better than 8 and cost
# ~5 % when idle.
SERVER_THREADS = 8
# Exit codes besides 0 (see the README): 1 a sync that failed, 2 a start-up mistake (a
# setting, the address to listen on, a query), 3 an output file that cannot be written.
EXIT_SYNC_FAILED, EXIT_STARTUP, EXIT_OUTPUT = 1, 2, 3
# How long `icalfeed sync` waits for a leader's sync it asked for (one run is bounded by the
# hourly budget and the upstream's timeouts).
HAND_SYNC_SECONDS = 900.0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (see `EXIT_STARTUP` and its siblings)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            offline=True if getattr(args, "offline", False) else None,
            data_dir=Path(args.data_dir) if args.data_dir else None,
        )
        settings.ensure_data_dir()
    except ConfigError as exc:
        print(f"icalfeed: configuration error: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        handler: Callable[[Settings, argparse.Namespace], int] = args.handler
        return handler(settings, args)
    except ConfigError as exc:
        print(f"icalfeed: configuration error: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    except StartupError as exc:
        print(f"icalfeed: {exc}", file=sys.stderr)
        return EXIT_STARTUP


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="icalfeed", description="iCalendar feeds of spaceflight events from Launch Library 2"
    )
    parser.add_argument("--data-dir", help="where the snapshot lives (ICALFEED_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the feeds over HTTP (waitress)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument("--offline", action="store_true", help="never contact Launch Library 2")
    serve.set_defaults(handler=_serve)
    sync = commands.add_parser("sync", help="pull from Launch Library 2 into the snapshot once")
    sync.add_argument("--full", action="store_true", help="re-read the whole history")
    sync.set_defaults(handler=_sync)
    render_cmd = commands.add_parser("render", help="write the feed for a query string")
    render_cmd.add_argument("query", nargs="?", default="", help='e.g. "type=docking"')
    render_cmd.add_argument("-o", "--output", help="file to write (default: standard output)")
    render_cmd.set_defaults(handler=_render)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """Listen first (a port that is taken is one line, before anything is loaded or asked of
    LL2), then build the app, serve, and only then start the sync."""
    from .base.networks import trusted_networks
    from .serving.accesslog import write_lines_to
    from .serving.doorman import Doorman
    from .serving.listening import listen_on
    from .serving.shutdown import GracefulStop
    from .serving.waitresscheck import check_waitress
    from .web.app import create_app, start_syncing

    sockets = listen_on(settings.host, settings.port)
    if settings.access_log:
        write_lines_to(sys.stderr)
    app = create_app(settings, start_sync=False)
    server = _server(app, sockets)
    # One server per listening socket (a host name may resolve to several addresses).
    listeners = [
        listener
        for listener in [server, *getattr(server, "map", {}).values()]
        if hasattr(listener, "channel_class")
    ]
    check_waitress(listeners, server)  # the internals the three below rely on
    tarpit = Tarpit()
    doorman = Doorman(
        settings.connections_per_address,
        settings.header_timeout_seconds,
        trusted_networks(settings.trusted_proxies),
    )
    stop = GracefulStop()
    for listener in listeners:
        tarpit.install(listener)
        doorman.install(listener)
        stop.install(listener)
    log.info(
        "serving on http://%s:%d/ (data in %s)", settings.host, settings.port, settings.data_dir
    )
    if settings.offline:
        _say_where(settings, app, sockets)
        stop.serve(server, listeners, first=lambda: None, then=lambda seconds: None)
        return 0
    scheduler = start_syncing(app)
    _say_where(settings, app, sockets)
    # The lease goes back first: another instance leads while this one drains.
    stop.serve(server, listeners, first=scheduler.halt, then=scheduler.join)
    return 0


def ready_lines(host: str, port: int, note: str | None) -> list[str]:
    """The last lines of start-up: the address to open and two feeds to try."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    base = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    lines = [f"icalfeed is ready: open {base}/ to build a feed"]
    if note:
        lines.append(f"  {note}")
    lines += [
        f"  try a feed:  {base}/events.ics",
        f"               {base}/launches.ics",
    ]
    return lines


def _say_where(settings: Settings, app: Flask, sockets: list[socket.socket]) -> None:
    from .feeds.asof import sample_note
    from .web.runtime import current_runtime

    port = sockets[0].getsockname()[1] if sockets else settings.port
    note = sample_note(current_runtime(app).store.snapshot)
    print("\n".join(ready_lines(settings.host, port, note)), file=sys.stderr, flush=True)


def _server(app: Flask, sockets: list[socket.socket]) -> MultiSocketServer | BaseWSGIServer:
    """Waitress on the sockets already listening."""
    from waitress.server import create_server

    # Waitress warns of a deep queue once per request while it lasts: under a flood that
    # logging alone costs as much as answering. The queue's length is bounded anyway.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    return create_server(
        app,
        sockets=sockets,
        threads=SERVER_THREADS,
        channel_timeout=30,  # and `doorman`: a deadline for each request's headers
        connection_limit=500,
        max_request_header_size=32 * 1024,
        max_request_body_size=64 * 1024,
        # Waitress would drop Forwarded / X-Forwarded-* before the app sees them (it trusts
        # one proxy address at most): the app judges them itself, by ICALFEED_TRUSTED_PROXIES
        # networks and the one header they write (see `clients`).
        clear_untrusted_proxy_headers=False,
        ident="icalfeed",
    )


def _sync(settings: Settings, args: argparse.Namespace) -> int:
    if settings.offline:
        print("icalfeed: offline is set (ICALFEED_OFFLINE=1); not syncing", file=sys.stderr)
        return EXIT_STARTUP
    shared = Shared.for_settings(settings)
    store = Store(settings, shared=shared.snapshots)
    store.load()
    if shared.lease is None or shared.hand is None:
        syncer = build_syncer(settings, store, progress=_show_progress, budget=shared.budget)
        report = syncer.run(full=args.full, force=True)
        print(report.line(), file=sys.stderr)
        return 0 if report.ok else EXIT_SYNC_FAILED
    return _sync_for_cluster(settings, args, shared, store)


def _sync_for_cluster(
    settings: Settings, args: argparse.Namespace, shared: Shared, store: Store
) -> int:
    """With Redis: sync as the leader when no instance leads, else ask the leader (see
    `handsync`); 0 only when the result reached the snapshot the instances serve."""
    import redis

    from .data.handsync import ask_leader
    from .sync.scheduler import hand_outcome

    assert shared.lease is not None and shared.hand is not None
    lease = shared.lease
    if lease.hold():
        print("icalfeed: no instance leads; syncing for all of them", file=sys.stderr)
        lease.start_heartbeat()
        published = store.published
        try:
            syncer = build_syncer(settings, store, progress=_show_progress, budget=shared.budget)
            report = syncer.run(full=args.full, force=True)
        finally:
            lease.release()
        ok, line = hand_outcome(report, store.published > published, store.storage_error)
        print(line if ok else f"icalfeed: {line}", file=sys.stderr)
        if ok:
            print("icalfeed: shared; every instance serves it from its next tick", file=sys.stderr)
        return 0 if ok else EXIT_SYNC_FAILED
    claim = 2 * settings.sync_tick_seconds + 10
    print(
        f"icalfeed: an instance leads; asking it to sync (waiting {claim} s at most for it)",
        file=sys.stderr,
    )
    try:
        ok, line = ask_leader(
            shared.hand.client,
            args.full,
            claim_seconds=claim,
            run_seconds=HAND_SYNC_SECONDS,
            show=lambda text: print(f"  {text}", file=sys.stderr),
        )
    except redis.RedisError as exc:
        print(f"icalfeed: Redis unreachable ({exc}); nothing was synced", file=sys.stderr)
        return EXIT_SYNC_FAILED
    print(line if ok else f"icalfeed: {line}", file=sys.stderr)
    return 0 if ok else EXIT_SYNC_FAILED


def _show_progress(progress: SyncProgress) -> None:
    print(f"  {progress.line()}", file=sys.stderr)


def _render(settings: Settings, args: argparse.Namespace) -> int:
    # What the instances serve: the shared snapshot when there is one (Redis).
    snapshot = Store(settings, shared=Shared.for_settings(settings).snapshots).load()
    try:
        query = FeedQuery.from_string(args.query, snapshot.catalog)
    except QueryError as exc:
        print(f"icalfeed: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    feed = render_feed("ics", snapshot, query, feed_day(utcnow()), settings.max_events)
    if not args.output:
        sys.stdout.buffer.write(feed.body)
        return 0
    try:
        Path(args.output).write_bytes(feed.body)
    except OSError as exc:
        print(f"icalfeed: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_OUTPUT
    print(f"wrote {args.output} ({snapshot.source} data)", file=sys.stderr)
    return 0
