"""The access log (#15): one Combined Log Format line per request plus milliseconds and
outcome, on the ``icalfeed.access`` logger; the client by the trusted-proxy rule; secrets
scrubbed; no client can split or forge a line."""

from __future__ import annotations

import io
import logging
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from servers import serve_offline

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.serving import accesslog
from icalfeed.serving.accesslog import BatchedHandler

ROOT = Path(__file__).resolve().parents[1]
ALL = "start=1957-01-01"
FEED = f"/events.ics?{ALL}"
FIELD = r'(?:[^"\\]|\\.)*'  # inside quotes: no bare quote, escapes allowed
LINE = re.compile(
    r"^(?P<client>\S+) - - \[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] "
    rf'"(?P<request>{FIELD})" (?P<status>\d{{3}}) (?P<bytes>\d+|-) '
    rf'"(?P<referer>{FIELD})" "(?P<agent>{FIELD})" '
    r"(?P<ms>\d+\.\d{2}) (?P<outcome>fast|cached|rendered|refused|none)$"
)


@pytest.fixture
def lines(caplog):
    """The access-log lines logged so far (a function: call it after the requests)."""
    caplog.set_level(logging.INFO, logger="icalfeed.access")

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "icalfeed.access"]

    return logged


def parsed(line: str) -> dict[str, str]:
    match = LINE.match(line)
    assert match, line
    return match.groupdict()


def test_one_line_per_request_in_the_combined_format_plus_ms_and_outcome(client, lines):
    first = client.get(FEED, headers={"User-Agent": "Thunderbird/128", "Referer": "https://x/"})
    client.get(FEED)
    client.head(FEED)
    client.get("/healthz")
    logged = [parsed(line) for line in lines()]
    assert len(logged) == 4
    rendered, fast, head, health = logged
    assert rendered["client"] == "127.0.0.1"
    assert rendered["request"] == f"GET {FEED} HTTP/1.1"
    assert rendered["status"] == "200" and rendered["bytes"] == str(len(first.data))
    assert rendered["referer"] == "https://x/" and rendered["agent"] == "Thunderbird/128"
    assert rendered["outcome"] == "rendered" and float(rendered["ms"]) > 0
    assert fast["outcome"] == "fast" and fast["referer"] == "-"
    assert fast["agent"].startswith("Werkzeug/")
    assert float(fast["ms"]) < float(rendered["ms"])
    assert head["request"].startswith("HEAD ") and head["bytes"] == "-"
    assert health["request"] == "GET /healthz HTTP/1.1" and health["outcome"] == "none"
    # The time is now, in UTC, with English month names.
    stamp = time.strptime(rendered["time"], "%d/%b/%Y:%H:%M:%S +0000")
    assert abs(time.mktime(stamp) - time.mktime(time.gmtime())) < 60


def test_refused_and_not_found_are_logged_too(tmp_path, real_admission, lines):
    settings = Settings(data_dir=tmp_path / "var", offline=True, client_render_burst=1)
    client = create_app(settings, start_sync=False).test_client()
    client.get(FEED)
    client.get(f"{FEED}&alarm=1")
    client.get("/nowhere")
    logged = [parsed(line) for line in lines()]
    assert [(x["status"], x["outcome"]) for x in logged] == [
        ("200", "rendered"),
        ("429", "refused"),
        ("404", "none"),
    ]


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(tmp_path, lines):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    open_door = Settings(data_dir=tmp_path / "a", offline=True)
    create_app(open_door, start_sync=False).test_client().get("/healthz", headers=forwarded)
    behind = Settings(data_dir=tmp_path / "b", offline=True, trusted_proxies="127.0.0.1")
    proxied = create_app(behind, start_sync=False).test_client()
    proxied.get("/healthz", headers=forwarded)
    proxied.get("/healthz", headers={"X-Forwarded-For": "[2001:db8::1]:4711"})
    # Not the header the proxy writes (X-Forwarded-For by default): the client's own claim.
    proxied.get("/healthz", headers={"Forwarded": "for=192.0.2.1"})
    # From an untrusted peer the header is ignored, even with proxies configured.
    proxied.get("/healthz", headers=forwarded, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    clients = [parsed(line)["client"] for line in lines()]
    assert clients == ["127.0.0.1", "203.0.113.9", "2001:db8::1", "127.0.0.1", "198.51.100.1"]


def test_query_strings_are_logged_and_secrets_are_not(client, lines):
    client.get(
        f"/events.ics?{ALL}&token=s3cret-1&API%5FKey=s3cret-2&type=docking",
        headers={"Referer": "https://example.org/page?password=s3cret-3&tab=2"},
    )
    client.get("/events.json?client_secret=s3cret-4&Access_Token=s3cret-5&key=s3cret-6")
    logged = lines()
    assert not any("s3cret" in line for line in logged), logged
    first, second = (parsed(line) for line in logged)
    assert first["request"] == (
        f"GET /events.ics?{ALL}&token=***&API%5FKey=***&type=docking HTTP/1.1"
    )
    assert first["referer"] == "https://example.org/page?password=***&tab=2"
    assert "client_secret=***&Access_Token=***&key=***" in second["request"]


def test_a_hostile_user_agent_stays_on_its_own_line(client, lines):
    forged = '127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /admin HTTP/1.1" 200 1 "-" "x"'
    hostile = f'evil" 200 0 "-" "\n{forged}\r\n\x1b[31m\\'
    client.get("/healthz", environ_base={"HTTP_USER_AGENT": hostile, "HTTP_REFERER": '"\n"'})
    client.get("/%22%0a%0d%20x?%22=%0a")
    (agent_line, path_line) = lines()
    for line in (agent_line, path_line):
        assert "\n" not in line and "\r" not in line and "\x1b" not in line
    fields = parsed(agent_line)
    assert fields["agent"] == (
        'evil\\" 200 0 \\"-\\" \\"\\x0a' + forged.replace('"', '\\"') + "\\x0d\\x0a\\x1b[31m\\\\"
    )
    assert fields["referer"] == '\\"\\x0a\\"' and fields["outcome"] == "none"
    assert parsed(path_line)["request"] == "GET /%22%0a%0d%20x?%22=%0a HTTP/1.1"


def test_the_escaping_and_scrubbing_helpers():
    assert accesslog.escape('a"b\\c\td\x7f\xe9\u20ac') == 'a\\"b\\\\c\\x09d\\x7f\\xe9\\u20ac'
    assert accesslog.escape("plain /events.ics?a=1,2") == "plain /events.ics?a=1,2"
    assert accesslog.scrub_url("/x?password=p&pass=q&monkey=m&q=1") == (
        "/x?password=***&pass=q&monkey=***&q=1"
    )
    assert accesslog.scrub_url("/x?token=&token") == "/x?token=&token"  # nothing to hide
    assert accesslog.scrub_url("/x") == "/x"
    assert accesslog.clf_time(1795608000) == "25/Nov/2026:12:00:00 +0000"


def test_rebuilt_request_target_without_request_uri():
    environ = {"PATH_INFO": '/a b"\n', "QUERY_STRING": "secret=1&x=2"}
    assert accesslog.request_target(environ) == "/a%20b%22%0A?secret=***&x=2"


def test_access_log_off_logs_nothing(tmp_path, lines):
    settings = Settings.from_env(
        {"ICALFEED_ACCESS_LOG": "0", "ICALFEED_DATA_DIR": str(tmp_path / "var")}, offline=True
    )
    assert settings.access_log is False
    client = create_app(settings, start_sync=False).test_client()
    client.get(FEED)
    client.get("/healthz")
    assert lines() == []
    # /metrics still counts (the observer stays for it).
    assert b'route="healthz"' in client.get("/metrics").data


def test_no_line_is_built_while_the_logger_is_not_enabled(client, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="icalfeed.access")

    def fail(*args: object) -> str:
        raise AssertionError("a line was formatted for a disabled logger")

    monkeypatch.setattr(accesslog, "line", fail)
    assert client.get("/healthz").status_code == 200


def test_the_batched_handler_queues_lines_and_writes_them_in_one_go_soon():
    class Stream(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)

    stream = Stream()
    handler = BatchedHandler(stream, every=3600)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        for text in ("one", "two", "three"):
            handler.handle(logging.LogRecord("x", logging.INFO, "", 0, text, (), None))
        assert stream.getvalue() == ""  # a request thread never writes
        handler.flush()  # what the writer thread (and logging.shutdown at exit) does
        assert stream.getvalue() == "one\ntwo\nthree\n" and stream.writes == 1
    finally:
        handler.close()
    soon = io.StringIO()
    handler = BatchedHandler(soon, every=0.05)
    try:
        handler.handle(logging.LogRecord("x", logging.INFO, "", 0, "four", (), None))
        deadline = time.monotonic() + 5
        while not soon.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert soon.getvalue() == "four\n"  # by its own thread
    finally:
        handler.close()


def test_a_real_server_writes_bare_lines_to_stderr_within_a_second(tmp_path):
    process, port, log = serve_offline(tmp_path, ICALFEED_LOG_LEVEL="WARNING")
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(2):
            urllib.request.urlopen(base + FEED, timeout=30).read()
        with pytest.raises(urllib.error.HTTPError):  # 400: no such parameter
            urllib.request.urlopen(base + "/events.ics?token=zz", timeout=10)
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10)
        assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert b'icalfeed_http_requests_total{outcome="fast",route="feed_ics"' in metrics.read()
        deadline = time.monotonic() + 5
        access: list[str] = []
        while len(access) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
            access = [x for x in log.read_text().splitlines() if LINE.match(x)]
    finally:
        process.terminate()
        process.wait(10)
    # healthz (the wait for the start), the feed twice, the 400, /metrics: bare lines, in
    # order, whatever ICALFEED_LOG_LEVEL says.
    fields = [parsed(line) for line in access]
    assert [(f["request"].split()[1], f["status"], f["outcome"]) for f in fields] == [
        ("/healthz", "200", "none"),
        (FEED, "200", "rendered"),
        (FEED, "200", "fast"),
        ("/events.ics?token=***", "400", "none"),
        ("/metrics", "200", "none"),
    ]
    assert all(
        f["client"] == "127.0.0.1" and f["agent"].startswith("Python-urllib") for f in fields
    )
    assert "zz" not in log.read_text()


def test_a_real_server_without_the_access_log_writes_none(tmp_path):
    process, port, log = serve_offline(tmp_path, ICALFEED_ACCESS_LOG="0")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{FEED}", timeout=30).read()
        time.sleep(1.5)
    finally:
        process.terminate()
        process.wait(10)
    assert not any(LINE.match(x) for x in log.read_text().splitlines())
