"""Settings from ``ICALFEED_*`` environment variables, validated once and passed around."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .networks import PROXY_HEADERS, trusted_networks

DEFAULT_UPSTREAM_URL = "https://ll.thespacedevs.com/2.3.0"
PREFIX = "ICALFEED_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Names an operator may reach for that spelling alone would not lead to (a "base URL" is the
# public one, not the upstream's).
_MEANT = {"BASE_URL": "PUBLIC_URL", "SITE_URL": "PUBLIC_URL", "EXTERNAL_URL": "PUBLIC_URL"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service can be told; see the README's configuration table."""

    upstream_url: str = DEFAULT_UPSTREAM_URL
    api_key: str | None = None
    data_dir: Path = Path("var")
    requests_per_hour: int = 12
    offline: bool = False
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    # How often the background scheduler wakes up to see whether a sync is due.
    sync_tick_seconds: int = 60
    # Freshness targets (see the README's budget table): each kind's upcoming window is
    # re-read every `reconcile_minutes`; changed events are asked for every
    # `incremental_minutes`, changed launches every `launch_incremental_minutes`.
    # Defaults: 1 + 3 event requests and 1 + 6 launch requests an hour, 11 of the 12.
    reconcile_minutes: int = 60
    incremental_minutes: int = 20
    launch_incremental_minutes: int = 10
    # Launches: synced at all; kept from this many days back (0: LL2's whole history, from
    # 1957); the reconcile (removal check) reads the next `launch_horizon_days`, one page.
    launches: bool = True
    launch_history_days: int = 0
    launch_horizon_days: int = 30
    # Each changes pass starts this far below the newest change read, so an edit that
    # becomes visible late (a slow commit, clocks apart on LL2's servers) is still read.
    sync_overlap_minutes: int = 10
    # The safety net: one page of a slow re-read of each kind's whole history at most this
    # often, when the hour's budget has a request to spare (0: never).
    audit_minutes: int = 60
    # Seconds to wait for Launch Library 2: connect, read.
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    # Several instances share one snapshot, budget and leader through this Redis.
    redis_url: str | None = None
    lease_seconds: int = 90
    cache_max_age: int = 900
    # /healthz says "stale" after this many of a stream's sync intervals without a success.
    stale_factor: float = 6.0
    # Work the caches cannot answer (a new query, a page): per client address a bucket of
    # renders, `client_render_burst` at once and `client_renders_per_minute` after that;
    # all clients share `render_lanes` renders at a time, `render_queue` more may wait
    # `render_wait_seconds`. Over the bucket: 429; lane full: 503; both with Retry-After.
    client_renders_per_minute: int = 30
    client_render_burst: int = 30
    render_lanes: int = 1
    render_queue: int = 2
    render_wait_seconds: float = 2.0
    # The bare server's connections (see `doorman`): at most this many from one address
    # (trusted proxies excepted), and this long for a request's headers, however slowly
    # they come; at the connection limit the connection that waited longest goes.
    connections_per_address: int = 50
    header_timeout_seconds: float = 10.0
    # Proxies whose forwarding header names the client ("10.0.0.1,192.168.0.0/16"); unset:
    # the socket peer is the client, whatever a header says. Only the one header those
    # proxies write counts (x-forwarded-for, forwarded or x-real-ip). IPv6 clients share a
    # budget per network of this prefix length (one subscriber owns a /64).
    trusted_proxies: str | None = None
    trusted_proxy_header: str = "x-forwarded-for"
    ipv6_client_prefix: int = 64
    # Most events in one feed; past it the nearest to today are kept.
    max_events: int = 2000
    log_level: str = "INFO"
    # Operations: `/metrics` in the Prometheus text format on the service port, and one
    # access-log line per request on the `icalfeed.access` logger (see the README).
    metrics: bool = True
    access_log: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``ICALFEED_<FIELD>`` variables; keyword overrides (CLI flags) win. Any other
        ``ICALFEED_`` variable is a ConfigError (a mistyped setting would be ignored)."""
        env = os.environ if env is None else env
        check_known(env)
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(PREFIX + field.name.upper())
            if raw is not None and raw.strip() != "":
                values[field.name] = _convert(field.name, raw.strip(), field.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).validated()

    def validated(self) -> Settings:
        """Return self when every value is usable, else raise ConfigError naming the variable."""
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(
                f"ICALFEED_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}"
            )
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"ICALFEED_PORT must be between 1 and 65535, got {self.port}")
        if not self.stale_factor > 0:
            raise ConfigError("ICALFEED_STALE_FACTOR must be more than 0")
        if self.requests_per_hour < 0:
            raise ConfigError("ICALFEED_REQUESTS_PER_HOUR must be 0 or more")
        if self.requests_per_hour > 15 and not self.api_key:
            raise ConfigError(
                "ICALFEED_REQUESTS_PER_HOUR above 15 exceeds the Launch Library 2 free tier; "
                "set ICALFEED_API_KEY and raise the ceiling only as far as your plan allows"
            )
        for name in ("upstream_url", "public_url"):
            value = getattr(self, name)
            if value is not None and urlsplit(value).scheme not in ("http", "https"):
                raise ConfigError(f"ICALFEED_{name.upper()} must be an http(s) URL, got {value!r}")
        for name in (
            "sync_tick_seconds",
            "reconcile_minutes",
            "incremental_minutes",
            "launch_incremental_minutes",
            "launch_horizon_days",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"ICALFEED_{name.upper()} must be 1 or more")
        if self.launch_history_days < 0:
            raise ConfigError("ICALFEED_LAUNCH_HISTORY_DAYS must be 0 (everything) or more")
        if self.sync_overlap_minutes < 0 or self.audit_minutes < 0:
            raise ConfigError(
                "ICALFEED_SYNC_OVERLAP_MINUTES and ICALFEED_AUDIT_MINUTES must be >= 0"
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ConfigError("ICALFEED_CONNECT_TIMEOUT and ICALFEED_READ_TIMEOUT must be > 0")
        if self.redis_url is not None and urlsplit(self.redis_url).scheme not in (
            "redis",
            "rediss",
            "unix",
        ):
            raise ConfigError(f"ICALFEED_REDIS_URL must be a redis:// URL, got {self.redis_url!r}")
        if self.lease_seconds < 3:
            raise ConfigError("ICALFEED_LEASE_SECONDS must be 3 or more")
        if self.max_events < 1:
            raise ConfigError("ICALFEED_MAX_EVENTS must be 1 or more")
        if self.client_renders_per_minute < 1 or self.client_render_burst < 1:
            raise ConfigError(
                "ICALFEED_CLIENT_RENDERS_PER_MINUTE and ICALFEED_CLIENT_RENDER_BURST "
                "must be 1 or more"
            )
        if self.render_lanes < 1 or self.render_queue < 0 or self.render_wait_seconds <= 0:
            raise ConfigError(
                "ICALFEED_RENDER_LANES must be 1 or more, ICALFEED_RENDER_QUEUE 0 or more "
                "and ICALFEED_RENDER_WAIT_SECONDS above 0"
            )
        try:
            trusted_networks(self.trusted_proxies)
        except ValueError as exc:
            raise ConfigError(f"ICALFEED_TRUSTED_PROXIES has an unusable entry ({exc})") from None
        if self.trusted_proxy_header.lower() not in PROXY_HEADERS:
            raise ConfigError(
                "ICALFEED_TRUSTED_PROXY_HEADER must be one of "
                f"{', '.join(PROXY_HEADERS)}, got {self.trusted_proxy_header!r}"
            )
        if not 32 <= self.ipv6_client_prefix <= 128:
            raise ConfigError("ICALFEED_IPV6_CLIENT_PREFIX must be between 32 and 128")
        if self.connections_per_address < 1 or not 0 < self.header_timeout_seconds <= 300:
            raise ConfigError(
                "ICALFEED_CONNECTIONS_PER_ADDRESS must be 1 or more and "
                "ICALFEED_HEADER_TIMEOUT_SECONDS above 0 and at most 300"
            )
        if self.cache_max_age < 0:
            raise ConfigError("ICALFEED_CACHE_MAX_AGE must be 0 or more")
        return self

    def ensure_data_dir(self) -> Path:
        """Create the data dir if needed and prove it is writable, or raise ConfigError."""
        path = self.data_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".write-test-{os.getpid()}"  # several processes may start at once
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"ICALFEED_DATA_DIR {str(path)!r} is not a writable folder ({exc.strerror}); "
                "point it at one the service may write to"
            ) from None
        return path

    @property
    def redacted(self) -> dict[str, Any]:
        """The settings for logs and diagnostics, with the API key hidden."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["api_key"] = "***" if self.api_key else None
        if self.redis_url:
            parts = urlsplit(self.redis_url)
            host = f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "")
            shown["redis_url"] = parts._replace(netloc=host).geturl()
        shown["data_dir"] = str(self.data_dir)
        return shown


def known_names() -> tuple[str, ...]:
    """Every variable the settings are read from."""
    return tuple(PREFIX + field.name.upper() for field in fields(Settings))


def check_known(env: Mapping[str, str]) -> None:
    """Raise ConfigError naming every ``ICALFEED_`` variable of `env` that is no setting, each
    with the known name it most likely meant."""
    known = known_names()
    unknown = sorted(name for name in env if name.startswith(PREFIX) and name not in known)
    if not unknown:
        return
    named = ", ".join(f"{name} ({_hint(name, known)})" for name in unknown)
    raise ConfigError(f"unknown setting{'s' if len(unknown) > 1 else ''} {named}")


def _hint(name: str, known: tuple[str, ...]) -> str:
    """The hint for an unknown name: the known one it most likely meant, or that none is
    close."""
    suffix = name.removeprefix(PREFIX)
    suffixes = [k.removeprefix(PREFIX) for k in known]
    close = difflib.get_close_matches(suffix, suffixes, n=1, cutoff=0.6)
    meant = _MEANT.get(suffix) or (close[0] if close else None)
    return f"did you mean {PREFIX}{meant}?" if meant else "not a setting of icalfeed"


def _convert(name: str, raw: str, kind: Any) -> Any:
    text = str(kind)
    try:
        if "bool" in text:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if "Path" in text:
            return Path(raw)
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name.upper()} has an unusable value {raw!r}") from None
    return raw
