"""Feeds pass six real parsers and the strict RFC lint (../shared/icscheck) over all the
fixture data (the packaged sample holds every fixture event)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import conftest
import pytest
from conftest import need_icscheck

ROOT = Path(__file__).resolve().parents[1]
ALL = "start=1957-01-01"
QUERIES = [
    "",
    ALL,
    f"{ALL}&vague=hide",
    f"{ALL}&alarm=10,60,1440",
    f"{ALL}&type=docking",
    f"{ALL}&type=eva,undocking",
    f"{ALL}&type=static-fire&program=spacex-starship",
    f"{ALL}&program=spacex-starship",
    f"{ALL}&program=iss&exclude_type=press-event",
    f"{ALL}&program=artemis",
    f"{ALL}&agency=spacex",
    f"{ALL}&agency=nasa,esa",
    f"{ALL}&exclude_agency=spacex&exclude_program=spacex-starship",
    f"{ALL}&location=texas",
    f"{ALL}&search=flyby",
    f"{ALL}&webcast=1",
    f"{ALL}&webcast=0",
    "year=2020",
    "year=2026&month=2",
    "start=2021-01-01&end=2021-12-31",
    "date__gte=2020-06-01&date__lt=2020-07-01",
    f"{ALL}&last_updated__gte=2026-01-01",
    "type__ids=2,3&program__ids=17&start=2019-01-01",
    "type=docking&year=1999",
]
ROUTES = ["/programs/spacex-starship.ics", "/agencies/nasa.ics", "/types/docking.ics"]
# The launches feed and combined calendars (#9), on the sample's real launches.
LAUNCH_URLS = [
    f"/launches.ics?{ALL}",
    f"/launches.ics?{ALL}&alarm=15,60&rocket=falcon",
    f"/launches.ics?{ALL}&status=tbd,tbc&vague=mark",
    f"/feed.ics?{ALL}",
    f"/feed.ics?{ALL}&agency=spacex&alarm=30",
    f"/programs/spacex-starship.ics?{ALL}&include=events,launches",
    f"/programs/starlink.ics?{ALL}&include=launches",
    f"/agencies/spacex.ics?{ALL}&include=all",
]


def test_feeds_pass_every_parser_and_the_lint(client, tmp_path):
    script = need_icscheck()
    urls = [f"/events.ics?{q}" for q in QUERIES] + [f"{r}?{ALL}" for r in ROUTES] + LAUNCH_URLS
    files = []
    for number, url in enumerate(urls):
        response = client.get(url)
        assert response.status_code == 200, url
        path = tmp_path / f"feed{number:02}.ics"
        path.write_bytes(response.data)
        files.append(str(path))
    result = subprocess.run([str(script), *files], capture_output=True, text=True, timeout=900)
    verdicts = [line.split()[:2] for line in result.stdout.splitlines() if line[:1].isalpha()]
    assert len(verdicts) == 7 * len(urls), result.stdout[-2000:]
    assert [v for v in verdicts if v[1] == "ERROR"] == [], result.stdout[-4000:]
    assert result.returncode == 0


# ------------------------------------------- the harness is never silently absent (#35)


def _harness(folder: Path, *, ready: bool, parts=("venv/bin/python", "node_modules")) -> Path:
    for name in ("validate_ics.sh", "checkers/ics_lint.py", *parts):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        if name == "node_modules":
            (folder / name).mkdir()
        else:
            (folder / name).touch()
    if ready:
        (folder / ".ready").touch()
    return folder / "validate_ics.sh"


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("absent", "validation harness not installed in"),
        ("half-installed", "is not ready: its install failed or was cut short"),
        ("ready-but-broken", "lacks venv/bin/python"),
    ],
)
def test_a_harness_that_cannot_run_is_a_skip_that_says_why(tmp_path, monkeypatch, state, reason):
    folder = tmp_path / "icscheck"
    script = folder / "validate_ics.sh"
    if state == "half-installed":  # copied, then setup.sh failed: no .ready
        script = _harness(folder, ready=False)
    elif state == "ready-but-broken":
        script = _harness(folder, ready=True, parts=("node_modules",))
    monkeypatch.setattr(conftest, "ICSCHECK", script)
    monkeypatch.setattr(conftest, "REQUIRE_ICSCHECK", False)
    assert reason in (conftest.icscheck_missing() or "")
    with pytest.raises(pytest.skip.Exception, match=re.escape(reason)):
        conftest.need_icscheck()
    # Where the harness is required (make test beside ../shared, CI), the same is a failure.
    monkeypatch.setattr(conftest, "REQUIRE_ICSCHECK", True)
    with pytest.raises(pytest.fail.Exception, match="required here"):
        conftest.need_icscheck()


def test_a_ready_harness_is_used(tmp_path, monkeypatch):
    script = _harness(tmp_path / "icscheck", ready=True)
    monkeypatch.setattr(conftest, "ICSCHECK", script)
    assert conftest.icscheck_missing() is None and conftest.need_icscheck() == script


MAKE = shutil.which("make")


def _make_icscheck(tmp_path: Path, setup: str, validate: str) -> subprocess.CompletedProcess:
    source = tmp_path / "shared-icscheck"
    (source / "samples").mkdir(parents=True)
    for sample in ("good.ics", "b2_missing_required.ics"):
        (source / "samples" / sample).write_text("BEGIN:VCALENDAR\r\n")
    for name, body in (("setup.sh", setup), ("validate_ics.sh", validate)):
        (source / name).write_text(f"#!/bin/sh\n{body}\n")
        (source / name).chmod(0o755)
    return subprocess.run(
        [MAKE or "make", "-s", "icscheck", f"ICSCHECK_SRC={source}", f"ICSCHECK={tmp_path / 'ic'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


SEVEN_OK = 'for c in ical.js node-ical vobject ics-py icalendar libical lint; do echo "$c OK"; done'


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("setup", "validate", "says"),
    [
        ("echo 'no network' >&2; exit 1", SEVEN_OK, "setup.sh failed"),
        ("true", "echo 'ical.js ERROR'; exit 1", "does not pass all seven checks"),
        ("true", "echo 'ical.js OK'", "does not pass all seven checks"),
        ("true", SEVEN_OK, "a broken sample passed"),  # a harness that passes everything
    ],
    ids=["setup-fails", "harness-errors", "checks-missing", "passes-anything"],
)
def test_make_icscheck_fails_loudly_and_leaves_no_ready_marker(tmp_path, setup, validate, says):
    result = _make_icscheck(tmp_path, setup, validate)
    assert result.returncode != 0 and says in result.stderr, result.stderr
    assert not (tmp_path / "ic" / ".ready").exists()


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_icscheck_marks_a_checked_install_ready(tmp_path):
    fails_on_broken = f'case "$1" in *b2_*) echo "vobject ERROR"; exit 1;; esac; {SEVEN_OK}'
    result = _make_icscheck(tmp_path, "true", fails_on_broken)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ic" / ".ready").exists() and "installed and checked" in result.stdout


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_icscheck_says_when_the_shared_harness_is_absent(tmp_path):
    result = subprocess.run(
        [
            MAKE or "make",
            "-s",
            "icscheck",
            f"ICSCHECK_SRC={tmp_path}/none",
            f"ICSCHECK={tmp_path}/ic",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "not found: the tests that need the validation harness will skip" in result.stdout
    assert not (tmp_path / "ic").exists()
