"""`/healthz` and `/metrics` answer whatever the disk, the lock files or Redis hold (#29):
200 and `degraded` with a short public reason while feeds can be served, and never a
server path, an internal host or a credential in a public answer (those go to the log).

The data dir is made read-only with a read-only bind mount where the sandbox allows it
(tests run as root, whom chmod does not stop); the tests that need nothing of the kind
put a folder where a lock file or the snapshot should be.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import settings_against
from fake_ll2 import Fault
from redistools import instance, needs_redis, running_redis
from servers import serve_offline

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.base.disclosure import public_text
from icalfeed.data import redisstate
from icalfeed.ll2.budget import RequestBudget
from icalfeed.sync.passes import build_syncer
from icalfeed.web.runtime import current_runtime

PAUSE_KEY = "icalfeed:budget:paused_until"
FEED = "/events.ics?start=1957-01-01"


# ------------------------------------------------------------------------------ helpers


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` read-only for everyone, root included: a bind mount of itself, remounted
    read-only (skips the test where the sandbox does not allow mounts)."""
    bind = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"no bind mounts here: {bind.stderr.decode().strip()}")
    try:
        ro = ["mount", "-o", "remount,ro,bind", str(folder)]
        remount = subprocess.run(ro, capture_output=True)
        if remount.returncode != 0:
            pytest.skip(f"no read-only remounts here: {remount.stderr.decode().strip()}")
        yield
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def synced_app(settings: Settings):
    """An app serving a synced snapshot (the sample, committed): `ok` before any fault."""
    app = create_app(settings, start_sync=False)
    runtime = current_runtime(app)
    runtime.store.commit(runtime.store.snapshot)
    assert app.test_client().get("/healthz").json["status"] == "ok"
    return app


def assert_private(body: str, *secrets: str) -> None:
    """No server path and none of `secrets` (paths, host:port) in a public answer."""
    for secret in secrets:
        assert secret not in body, f"{secret!r} leaked into {body[:300]!r}"


def public_answers(client) -> tuple[dict, str]:
    """/healthz (200, as JSON) and /metrics (200, as text)."""
    health = client.get("/healthz")
    metrics = client.get("/metrics")
    assert health.status_code == 200, health.data
    assert metrics.status_code == 200, metrics.data
    return health.json, metrics.get_data(as_text=True)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# ----------------------------------------------------------------- the data dir refuses


def test_a_read_only_data_dir_is_degraded_not_a_500(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path / "var", offline=True)
    app = synced_app(settings)
    client = app.test_client()
    runtime = current_runtime(app)
    with read_only(settings.data_dir):
        health, metrics = public_answers(client)
        assert health["status"] == "degraded" and health["last_error"] == "storage: read-only"
        assert "icalfeed_upstream_budget_known 0.0" in metrics
        runtime.store.commit(runtime.store.snapshot)  # a sync's write is refused too
        health, metrics = public_answers(client)
        assert health["last_error"] == "storage: read-only"  # said once, by both
        assert client.get(FEED).status_code == 200  # the feeds are served all along
        assert_private(json.dumps(health) + metrics, str(tmp_path), "snapshot.json")
    # The log has what the operator needs: which file, what the system said.
    assert f"cannot write {settings.data_dir / 'snapshot.json'}: Read-only" in caplog.text
    assert str(settings.data_dir / "budget.lock") in caplog.text
    runtime.store.commit(runtime.store.snapshot)  # writable again: the next write clears it
    assert client.get("/healthz").json["status"] == "ok"


def test_a_sync_on_a_read_only_data_dir_fails_in_public_words(tmp_path, fake_ll2):
    settings = settings_against(fake_ll2, tmp_path / "var")
    app = synced_app(replace(settings, offline=True))
    syncer = build_syncer(settings, current_runtime(app).store)
    with read_only(settings.data_dir):
        report = syncer.run()
        health, _ = public_answers(app.test_client())
    assert report.error == "storage: read-only" and not fake_ll2.requests  # nothing spent
    assert health["status"] == "degraded" and "storage: read-only" in health["last_error"]


def test_a_served_process_on_a_read_only_data_dir_answers_200(tmp_path):
    """A real `icalfeed serve`: the data dir turns read-only under it, as ext4's
    errors=remount-ro does, and comes back."""
    process, port, log = serve_offline(tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        assert fetch(base + "/healthz")[0] == 200
        with read_only(tmp_path / "var"):
            code, text = fetch(base + "/healthz")
            assert code == 200, text
            health = json.loads(text)
            assert health["status"] == "degraded" and health["last_error"] == "storage: read-only"
            metrics = fetch(base + "/metrics")
            assert metrics[0] == 200
            assert fetch(base + FEED)[0] == 200
            assert_private(text + metrics[1], str(tmp_path))
        assert json.loads(fetch(base + "/healthz")[1])["last_error"] is None
    finally:
        process.terminate()
        process.wait(10)
    assert str(tmp_path / "var" / "budget.lock") in log.read_text()  # the detail: logged


def test_a_lock_file_that_cannot_be_opened_is_degraded(tmp_path):
    """Without mounts: a folder where the budget's lock file should be (what a botched
    restore or a wrong volume leaves)."""
    settings = Settings(data_dir=tmp_path / "var", offline=True)
    app = synced_app(settings)
    (settings.data_dir / "budget.lock").unlink()
    (settings.data_dir / "budget.lock").mkdir()
    health, metrics = public_answers(app.test_client())
    assert health["status"] == "degraded" and health["last_error"] == "storage: not a file"
    assert health["budget"]["requests_per_hour"] == settings.requests_per_hour
    assert "icalfeed_upstream_budget_used" in metrics  # the budget's facts still there
    assert_private(json.dumps(health) + metrics, str(tmp_path))


def test_a_budget_that_cannot_lock_spends_nothing_and_says_why(tmp_path):
    (tmp_path / "budget.lock").mkdir()
    budget = RequestBudget(tmp_path, 12)
    with pytest.raises(OSError, match=r"^storage: not a file$"):
        budget.try_spend()
    budget.pause_until(1e10)  # logged, not raised (as with Redis)
    status = budget.status()
    assert status.problem == "storage: not a file" and status.used == 0


def test_a_snapshot_write_failure_names_no_path(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path / "var", offline=True)
    app = synced_app(settings)
    runtime = current_runtime(app)
    (settings.data_dir / "snapshot.json").unlink()
    (settings.data_dir / "snapshot.json").mkdir()  # the rename onto it fails
    runtime.store.commit(runtime.store.snapshot)
    health, metrics = public_answers(app.test_client())
    assert health["status"] == "degraded" and health["last_error"] == "storage: not a file"
    assert_private(json.dumps(health) + metrics, str(tmp_path), "/var/")
    assert f"cannot write {settings.data_dir / 'snapshot.json'}" in caplog.text


def test_upstream_failures_name_no_internal_host(tmp_path, fake_ll2, caplog):
    """The fake LL2 listens on 127.0.0.1:<port>, as an internal mirror would."""
    settings = settings_against(fake_ll2, tmp_path / "var")
    app = create_app(settings, start_sync=False)
    syncer = build_syncer(settings, current_runtime(app).store)
    host = fake_ll2.base_url.split("//", 1)[1].split("/", 1)[0]
    client = app.test_client()
    fake_ll2.fail_next(Fault(500))
    assert not syncer.run().ok
    health, metrics = public_answers(client)
    assert "http-500: LL2 answered HTTP 500 (…/2.3.0/events/upcoming/)" in health["last_error"]
    assert_private(json.dumps(health) + metrics, host, "127.0.0.1", str(tmp_path))
    fake_ll2.stop()  # now unreachable
    assert not syncer.run(force=True).ok
    health, metrics = public_answers(client)
    assert "unreachable: cannot reach <host>" in health["streams"]["event"]["last_error"]
    assert_private(json.dumps(health) + metrics, host, "127.0.0.1", str(tmp_path))
    assert host in caplog.text  # the whole message is logged


def test_a_crash_of_the_health_report_is_still_an_answer(tmp_path, monkeypatch):
    from icalfeed.web import health

    app = create_app(Settings(data_dir=tmp_path / "var", offline=True), start_sync=False)

    def broken(*_: object) -> None:
        raise RuntimeError(f"bug near {tmp_path}")

    monkeypatch.setattr(health, "_stream", broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded" and response.json["events"] > 0
    assert_private(response.get_data(as_text=True), str(tmp_path))


# --------------------------------------------------------------------------- Redis


def redis_app(tmp_path: Path, url: str):
    settings = Settings(data_dir=tmp_path / "var", offline=True, redis_url=url)
    return create_app(settings, start_sync=False)


@needs_redis
@pytest.mark.parametrize("bad", ["not-a-number", "nan", "inf", "list"])
def test_a_bad_pause_key_in_redis_is_degraded_not_a_500(tmp_path, redis_url, rclient, bad):
    client = redis_app(tmp_path, redis_url).test_client()
    if bad == "list":
        rclient.rpush(PAUSE_KEY, "1", "2")  # a key of another type
    else:
        rclient.set(PAUSE_KEY, bad)
    health, metrics = public_answers(client)
    assert health["status"] == "degraded" and health["last_error"] == "shared store: bad value"
    assert health["budget"]["remaining"] == 0  # nothing assumed left
    assert "icalfeed_upstream_budget_known 0.0" in metrics
    assert client.get(FEED).status_code == 200
    port = redis_url.rsplit(":", 1)[1].split("/", 1)[0]
    assert_private(json.dumps(health) + metrics, f"127.0.0.1:{port}", redis_url)


@needs_redis
def test_a_bad_pause_key_becomes_a_pause_of_an_hour_and_nothing_is_spent(
    tmp_path, redis_url, rclient, caplog
):
    rclient.set(PAUSE_KEY, "garbage")  # no expiry: as a person would type it
    budget = redisstate.RedisBudget(rclient, 12)
    assert not budget.try_spend()
    assert not rclient.exists("icalfeed:budget:requests")  # nothing was spent
    value = float(rclient.get(PAUSE_KEY))
    assert 3500 < rclient.ttl(PAUSE_KEY) <= 3660  # it cannot block the syncs for good
    status = budget.status()
    assert status.problem is None and status.paused_until is not None
    assert value == pytest.approx(float(rclient.time()[0]) + 3600, abs=5)
    assert "not a time" in caplog.text
    rclient.set(PAUSE_KEY, "garbage")
    budget.pause_until(status.paused_until + 600)  # a 429's pause replaces it
    assert budget.status().problem is None


@needs_redis
def test_every_instance_stays_up_on_a_bad_pause_key(tmp_path, rclient, redis_url):
    """Two real `icalfeed serve` processes on one Redis: a bad value hits both at once."""
    servers = []
    try:
        for name in ("a", "b"):
            folder = tmp_path / name
            folder.mkdir()
            servers.append(serve_offline(folder, ICALFEED_REDIS_URL=redis_url))
        rclient.set(PAUSE_KEY, "soon")
        port = redis_url.rsplit(":", 1)[1].split("/", 1)[0]
        for _, http_port, _ in servers:
            code, text = fetch(f"http://127.0.0.1:{http_port}/healthz")
            assert code == 200, text
            health = json.loads(text)
            assert health["status"] == "degraded"
            assert "shared store: bad value" in health["last_error"]
            metrics = fetch(f"http://127.0.0.1:{http_port}/metrics")
            assert metrics[0] == 200
            assert_private(text + metrics[1], f"127.0.0.1:{port}", str(tmp_path))
    finally:
        for process, _, _ in servers:
            process.terminate()
            process.wait(10)


@needs_redis
def test_redis_gone_is_unreachable_without_its_address(tmp_path, fake_ll2, caplog):
    with running_redis(tmp_path) as (url, redis_process):
        store, syncer, _ = instance(tmp_path, "a", url, fake_ll2.base_url, lead=True)
        assert syncer.run().ok
        app = redis_app(tmp_path / "app", url)
        redis_process.kill()
        redis_process.wait(10)
        store.reload_if_changed()
        health, metrics = public_answers(app.test_client())
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    assert health["status"] == "degraded"
    assert health["last_error"] == "shared store: unreachable"
    assert store.last_error == "shared store: unreachable"
    assert_private(json.dumps(health) + metrics, f"127.0.0.1:{port}", url)
    assert f"127.0.0.1:{port}" in caplog.text  # where it failed to connect: in the log


# ---------------------------------------------------------------- public text (the net)


@pytest.mark.parametrize(
    ("text", "public"),
    [
        (
            "cannot write /srv/icalfeed/var/snapshot.json: Read-only file system",
            "cannot write snapshot.json: Read-only file system",
        ),
        (
            "http-500: LL2 answered HTTP 500 (http://10.0.0.7:8000/2.3.0/events/?limit=100)",
            "http-500: LL2 answered HTTP 500 (…/2.3.0/events/)",
        ),
        (
            "Error 111 connecting to 127.0.0.1:6399. Refused.",
            "Error 111 connecting to <host>. Refused.",
        ),
        ("Error -2 connecting to redis:6379.", "Error -2 connecting to <host>."),
        ("cannot reach 10.1.2.3: connection refused", "cannot reach <host>: connection refused"),
        ("redis://:s3cret@cache.internal:6379/0 down", "…/0 down"),
        ("password=hunter2 and api_key: abc", "password=<hidden> and api_key=<hidden>"),
        (
            "throttled: next request after 12:34:56 UTC",
            "throttled: next request after 12:34:56 UTC",
        ),
        ("at 2026-06-01T12:00:00Z, version 2.3.0", "at 2026-06-01T12:00:00Z, version 2.3.0"),
        ("http-401: LL2 rejected the token", "http-401: LL2 rejected the token"),
    ],
)
def test_public_text_keeps_the_words_and_drops_the_internals(text, public):
    assert public_text(text) == public
    assert public_text(public) == public  # applied again (stored, then published): the same


def test_public_text_hides_the_hosts_it_is_told(tmp_path):
    text = "unreachable: cannot reach ll2-mirror.corp: DNS lookup failed"
    assert public_text(text, ["ll2-mirror.corp"]) == (
        "unreachable: cannot reach <host>: DNS lookup failed"
    )
