"""The recorded mutation scores (`make mutation`, tests/mutation-score.json) are consistent:
every mutated module has one, each adds up, every mutant judged equivalent says why, and
docs/development.md shows the same numbers. Cheap: it reads files, it runs no mutant."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("icalfeed_mutation", ROOT / "scripts/mutation.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


mutation = _script()


def test_the_recorded_scores_are_consistent():
    assert mutation.check() == []


def test_every_core_module_is_mutated_with_tests_that_exist():
    modules = list(mutation.MODULES)
    assert len(modules) == len(set(modules))
    for group in mutation.GROUPS:
        for path in group.modules:
            assert (ROOT / "icalfeed" / f"{path}.py").exists(), path
        for test in (*group.tests, *group.deselect):
            assert (ROOT / test.split("::")[0]).exists(), test
    assert {"query", "select", "meaning", "ics", "jsonfeed", "budget", "freshness"} <= set(modules)
    assert "fastpath" in modules


def test_the_development_doc_shows_the_recorded_scores():
    scores = json.loads((ROOT / "tests" / "mutation-score.json").read_text())["modules"]
    readme = (ROOT / "docs" / "development.md").read_text()
    shown = dict(re.findall(r"^\| `(\w+)` \| ([\d.]+) % \|", readme, re.MULTILINE))
    assert shown == {name: f"{s['score']:.1f}" for name, s in scores.items()}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s["modules"]["ics"].update(score=99.9), "ics: score 99.9 is not"),
        (lambda s: s["modules"].pop("budget"), "are not the groups'"),
        (
            lambda s: s["equivalent"].update(
                {"icalfeed.feeds.ics.x_fold__mutmut_1": {"reason": ""}}
            ),
            "needs a reason and the change it makes",
        ),
        (
            lambda s: s["equivalent"].update(
                {"icalfeed.web.views.x_feed__mutmut_1": {"reason": "r", "change": "c"}}
            ),
            "not a mutant of a mutated module",
        ),
    ],
    ids=["score-not-killed-over-judged", "module-missing", "no-reason", "unknown-module"],
)
def test_the_check_finds_what_is_wrong(monkeypatch, tmp_path, change, problem):
    scores = json.loads((ROOT / "tests" / "mutation-score.json").read_text())
    change(scores)
    broken = tmp_path / "mutation-score.json"
    broken.write_text(json.dumps(scores))
    monkeypatch.setattr(mutation, "SCORES", broken)
    assert any(problem in line for line in mutation.check()), mutation.check()
