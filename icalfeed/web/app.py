"""The Flask application factory."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask

from ..base.config import Settings
from ..data.shared import Shared
from ..data.store import Store
from ..serving.accesslog import AccessLog
from ..serving.clients import BehindProxy
from ..serving.fastpath import FeedFastPath
from ..serving.filebody import FileBodies
from ..serving.observe import Listener, Observed, WSGIApp
from ..sync.passes import build_syncer
from ..sync.scheduler import SyncScheduler
from . import guards
from .items import items
from .metrics import LiveState, Metrics
from .pages import pages
from .runtime import Runtime
from .views import feeds, health

log = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parents[1]  # icalfeed/, above this layer
SHARED = "icalfeed.shared"  # the app's `Shared` (budget, lease...) among its extensions


def web_folder(name: str) -> str:
    """Where the pages' `templates` or `static` files are: inside the package when installed
    from a wheel (the build maps the top-level folders there), beside it in a checkout."""
    for folder in (PACKAGE / name, PACKAGE.parent / name):
        if folder.is_dir():
            return str(folder)
    raise FileNotFoundError(f"icalfeed: no {name}/ folder in or beside {PACKAGE}")


def create_app(settings: Settings | None = None, *, start_sync: bool | None = None) -> Flask:
    """Build the app: load the snapshot (or the sample) and, unless offline, start syncing.

    `start_sync` defaults to ``not settings.offline``; tests pass False to stay in control,
    and `icalfeed serve` does, to start the sync (`start_syncing`) only once it listens.
    """
    settings = settings or Settings.from_env()
    settings.ensure_data_dir()
    log.info("settings: %s", settings.redacted)
    app = Flask(
        __name__, template_folder=web_folder("templates"), static_folder=web_folder("static")
    )
    shared = Shared.for_settings(settings)
    store = Store(settings, shared=shared.snapshots)
    store.load()
    metrics = Metrics() if settings.metrics else None
    runtime = Runtime(settings, store, shared.budget, metrics=metrics)
    if metrics is not None:
        metrics.watch(LiveState(store, shared.budget, role=lambda: runtime.role))
    app.extensions["icalfeed"] = runtime
    app.extensions[SHARED] = shared
    if start_sync if start_sync is not None else not settings.offline:
        start_syncing(app)
    elif settings.offline:
        log.info("offline: Launch Library 2 will not be contacted")
    guards.install(app)
    wsgi: WSGIApp = FeedFastPath(app.wsgi_app, store, early=runtime.refuse_early)
    # Outermost, so stored answers and early refusals are counted and logged too.
    listeners: list[Listener] = []
    if metrics is not None:
        listeners.append(metrics)
    if settings.access_log:
        listeners.append(AccessLog(runtime.client))
    if listeners:
        wsgi = Observed(wsgi, listeners)
    # Outermost but for the file bodies: the client is known to everything inside.
    app.wsgi_app = FileBodies(BehindProxy(wsgi, runtime.identity))  # type: ignore[method-assign]
    # Serialise every event once now (and after each sync), not on a subscriber's request.
    threading.Thread(target=runtime.warm, name="icalfeed-warm", daemon=True).start()
    app.register_blueprint(feeds)
    app.register_blueprint(health)
    app.register_blueprint(pages)
    app.register_blueprint(items)
    return app


def start_syncing(app: Flask) -> SyncScheduler:
    """Start the app's background sync (once: a started one is returned as it is)."""
    runtime: Runtime = app.extensions["icalfeed"]
    if runtime.scheduler is not None:
        return runtime.scheduler
    shared: Shared = app.extensions[SHARED]
    counted = runtime.metrics.upstream_request if runtime.metrics else None
    runtime.scheduler = SyncScheduler(
        build_syncer(
            runtime.settings,
            runtime.store,
            budget=shared.budget,
            on_request=counted,
            watch=runtime.clock,
        ),
        runtime.settings.sync_tick_seconds,
        after_run=runtime.warm,
        lease=shared.lease,
        hand=shared.hand,
    )
    runtime.scheduler.start()
    return runtime.scheduler
