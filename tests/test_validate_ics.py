"""Feeds pass six real parsers and the strict RFC lint (../shared/icscheck) over all the
fixture data (the packaged sample holds every fixture event)."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ICSCHECK

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

pytestmark = pytest.mark.skipif(
    not ICSCHECK.exists(), reason="validation harness not installed (run `make icscheck`)"
)


def test_feeds_pass_every_parser_and_the_lint(client, tmp_path):
    urls = [f"/events.ics?{q}" for q in QUERIES] + [f"{r}?{ALL}" for r in ROUTES] + LAUNCH_URLS
    files = []
    for number, url in enumerate(urls):
        response = client.get(url)
        assert response.status_code == 200, url
        path = tmp_path / f"feed{number:02}.ics"
        path.write_bytes(response.data)
        files.append(str(path))
    result = subprocess.run([str(ICSCHECK), *files], capture_output=True, text=True, timeout=900)
    verdicts = [line.split()[:2] for line in result.stdout.splitlines() if line[:1].isalpha()]
    assert len(verdicts) == 7 * len(urls), result.stdout[-2000:]
    assert [v for v in verdicts if v[1] == "ERROR"] == [], result.stdout[-4000:]
    assert result.returncode == 0
