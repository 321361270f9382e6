"""Feeds pass six real parsers and the strict RFC lint (../shared/icscheck)."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ICSCHECK

QUERIES = [
    "",
    "start=2019-01-01",
    "start=2019-01-01&vague=hide",
    "type=docking&start=2019-01-01",
    "program=spacex-starship&start=2019-01-01",
    "agency=spacex&start=2019-01-01",
]

pytestmark = pytest.mark.skipif(
    not ICSCHECK.exists(), reason="validation harness not installed (run `make icscheck`)"
)


def test_feeds_pass_every_parser_and_the_lint(client, tmp_path):
    files = []
    for number, query in enumerate(QUERIES):
        response = client.get(f"/events.ics?{query}")
        assert response.status_code == 200, query
        path = tmp_path / f"feed{number}.ics"
        path.write_bytes(response.data)
        files.append(str(path))
    result = subprocess.run([str(ICSCHECK), *files], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = [line.split()[:2] for line in result.stdout.splitlines() if line[:1].isalpha()]
    assert len(verdicts) == 7 * len(QUERIES)
    assert [v for v in verdicts if v[1] == "ERROR"] == []
