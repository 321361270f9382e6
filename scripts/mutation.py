"""Mutation testing of the core (`make mutation`): mutmut on the modules that decide what a
feed says, each group with the fast tests that claim to cover it, within a time budget.

    python scripts/mutation.py run [--budget SECONDS] [--children N] [--update]
    python scripts/mutation.py score [--update]  # the last run's scores, without running
    python scripts/mutation.py check          # the recorded scores are consistent (cheap)

`run` copies the checkout into .mutation/<group>/ (so each group has its own mutmut
configuration and its results are kept between runs: a run cut short by the budget goes on
where it stopped next time), runs mutmut, prints the score per module and the surviving
mutants, and compares with tests/mutation-score.json: a module whose score dropped fails
the run. With --update (and no drop) the file takes the new scores.

A module's score is killed / (mutants - equivalent): a mutant that ran out of time counts
as killed, one no test ran ("no tests") as surviving, an equivalent one (listed in the
score file with its reason and the change it makes) for neither side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
SCORES = ROOT / "tests" / "mutation-score.json"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Group:
    name: str
    modules: tuple[str, ...]  # icalfeed/<layer>/<name>.py, named by <name>
    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()  # slow tests that cannot kill a mutant (other processes)


GROUPS = (
    Group(
        "core",
        (
            "feeds/query",
            "feeds/select",
            "feeds/meaning",
            "feeds/ics",
            "feeds/jsonfeed",
            "ll2/budget",
        ),
        (
            "tests/test_core_rules.py",
            "tests/test_filters.py",
            "tests/test_ics.py",
            "tests/test_launch_ics.py",
            "tests/test_budget.py",
        ),
        (
            # Both run their code in other processes, which import the unmutated package.
            "tests/test_ics.py::test_bytes_are_identical_across_processes_and_hash_seeds",
            "tests/test_budget.py::test_processes_sharing_a_data_dir_share_one_budget",
        ),
    ),
    Group(
        "http",
        ("serving/fastpath", "web/conditional", "feeds/freshness"),
        ("tests/test_core_http.py", "tests/test_fastpath.py", "tests/test_change_signals.py"),
        ("tests/test_change_signals.py::test_property_no_304_for_other_bytes",),
    ),
    Group(
        "changes",
        ("data/changes", "feeds/changelog", "feeds/changefeeds"),
        ("tests/test_changes_rules.py", "tests/test_changes_feed.py"),
    ),
)
MODULES = tuple(m.rpartition("/")[2] for g in GROUPS for m in g.modules)
PATHS = {m.rpartition("/")[2]: m for g in GROUPS for m in g.modules}


def module_of(mutant: str) -> str:
    """The module a mutant's name belongs to (icalfeed.feeds.query.x_… → query)."""
    for name, path in PATHS.items():
        if mutant.startswith("icalfeed." + path.replace("/", ".") + "."):
            return name
    return ""


# mutmut's exit codes per mutant (mutmut/__main__.py, status_by_exit_code).
# A test failed, or the mutant ran out of time (an endless loop is caught too), or mypy
# refused it.
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}
SKIPPED = {34}
NOT_CHECKED = {None}
# Lines whose mutants are never judged: log messages are not behaviour.
DO_NOT_MUTATE = [r"^\s*log\.(debug|info|warning|error|exception)\("]


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    timeout: int = 0
    not_checked: int = 0
    equivalent: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def judged(self) -> int:
        return self.killed + self.survived + self.no_tests

    @property
    def score(self) -> float:
        return round(100 * self.killed / self.judged, 1) if self.judged else 0.0


def mutmut_config(group: Group) -> str:
    def strings(values: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(json.dumps(v) for v in values) + "]"

    def present(test: str) -> bool:
        return (ROOT / test.split("::")[0]).exists()

    args = ["-p", "no:cacheprovider", "-p", "no:randomly"]
    for test in filter(present, group.deselect):
        args += ["--deselect", test]
    tests = [t for t in group.tests if present(t)]
    return "\n".join(
        [
            "[tool.mutmut]",
            'source_paths = ["icalfeed"]',
            f"only_mutate = {strings([f'icalfeed/{m}.py' for m in group.modules])}",
            'also_copy = ["templates", "static"]',
            f"do_not_mutate_patterns = {strings(DO_NOT_MUTATE)}",
            f"pytest_add_cli_args = {strings(args)}",
            f"pytest_add_cli_args_test_selection = {strings(tests)}",
            "",
        ]
    )


def fingerprint(group: Group) -> str:
    """What a group's results depend on: its modules, the tests, the configuration."""
    digest = hashlib.sha256(mutmut_config(group).encode())
    for path in sorted((ROOT / "icalfeed").rglob("*.py")) + sorted((ROOT / "tests").glob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return digest.hexdigest()


def prepare(group: Group, keep: bool) -> Path:
    """The group's copy of the checkout, refreshed. mutmut's results (mutants/) are kept
    for a run that goes on where one cut short stopped (same code, tests and settings), or
    when asked (`keep`: only the survivors are checked again); otherwise they start anew."""
    folder = WORK / group.name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "fingerprint"
    if not keep and (not stamp.exists() or stamp.read_text() != fingerprint(group)):
        shutil.rmtree(folder / "mutants", ignore_errors=True)
    stamp.write_text(fingerprint(group))
    for name in ("icalfeed", "tests", "templates", "static"):
        target = folder / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(
            ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
        )
    project = (ROOT / "pyproject.toml").read_text()
    (folder / "pyproject.toml").write_text(project + "\n" + mutmut_config(group))
    return folder


def run_group(group: Group, budget: float, children: int, survivors: bool) -> bool:
    """mutmut on the group, for at most `budget` seconds; True when it finished. With
    `survivors`, the results of an earlier run are kept and the mutants it did not kill are
    checked again (after tests were added: quick, and right as long as no test was made
    weaker; a run without it checks every mutant anew whenever code or tests changed)."""
    deadline = time.monotonic() + budget
    folder = prepare(group, keep=survivors)
    log = folder / "mutmut.log"
    print(f"== {group.name}: {', '.join(group.modules)} (log: {log.relative_to(ROOT)})")
    again: list[str] = []
    if survivors:
        again = sorted(
            name
            for module in group.modules
            for name, code in _codes(folder, module).items()
            if code not in KILLED | SKIPPED | NOT_CHECKED
        )
    for names in ([], again) if again else ([],):
        finished = _mutmut(folder, log, names, deadline - time.monotonic(), children)
        if not finished:
            print(f"   time budget ({budget:.0f} s) spent: partial results, kept for next run")
            return False
    return True


def _codes(folder: Path, module: str) -> dict[str, int | None]:
    meta = folder / "mutants" / "icalfeed" / f"{module}.py.meta"
    codes: dict[str, int | None] = (
        json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    )
    return codes


def _mutmut(folder: Path, log: Path, names: list[str], budget: float, children: int) -> bool:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if budget <= 0:
        return False
    with log.open("a") as out:
        try:
            process = subprocess.run(
                [str(BIN / "mutmut"), "run", "--max-children", str(children), *names],
                cwd=folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=budget,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return False
    if process.returncode != 0:
        print(f"   mutmut failed (exit {process.returncode}); the end of its log:")
        print(log.read_text()[-3000:])
        raise SystemExit(2)
    return True


_DIFFS = """
import json, sys
from pathlib import Path
from mutmut.mutation.diff_apply import get_diff_for_mutant
names = json.load(sys.stdin)
out = {}
for name, path in names:
    out[name] = get_diff_for_mutant(name, path=Path(path))
json.dump(out, sys.stdout)
"""


def mutant_changes(folder: Path, names: dict[str, str]) -> dict[str, str]:
    """The lines each mutant changes ('-old / +new'), by mutant name ({name: source path})."""
    if not names:
        return {}
    shown = subprocess.run(
        [sys.executable, "-c", _DIFFS],
        cwd=folder,
        input=json.dumps(sorted(names.items())),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    changes = {}
    for name, diff in json.loads(shown).items():
        lines = [
            " ".join(line.split())
            for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        changes[name] = " / ".join(lines)
    return changes


def tally(group: Group, equivalent: dict[str, dict[str, str]]) -> dict[str, Tally]:
    folder = WORK / group.name
    result: dict[str, Tally] = {}
    codes_by_module = {path.rpartition("/")[2]: _codes(folder, path) for path in group.modules}
    unkilled = {
        name: f"icalfeed/{PATHS[module]}.py"
        for module, codes in codes_by_module.items()
        for name, code in codes.items()
        if code not in KILLED | SKIPPED | NOT_CHECKED
    }
    changes = mutant_changes(folder, unkilled)
    for module, codes in codes_by_module.items():
        t = result.setdefault(module, Tally())
        for name, code in sorted(codes.items()):
            if code in KILLED:
                t.killed += 1
            elif code in NOT_CHECKED:
                t.not_checked += 1
            elif code in SKIPPED:
                continue
            elif name in equivalent and changes[name] == equivalent[name]["change"]:
                t.equivalent += 1
            else:
                if code in (5, 33):
                    t.no_tests += 1
                else:
                    t.survived += 1
                t.survivors.append(f"{name}: {changes[name]}")
    return result


def load_scores() -> dict[str, Any]:
    return json.loads(SCORES.read_text())


def report(group: Group, tallies: dict[str, Tally]) -> None:
    for module, t in tallies.items():
        print(
            f"   {module:<12} {t.score:5.1f} %  killed {t.killed}, survived {t.survived}, "
            f"no tests {t.no_tests}, equivalent {t.equivalent}, not checked {t.not_checked}"
        )
    for t in tallies.values():
        for line in t.survivors:
            print(f"   survived {line}")


def command_run(args: argparse.Namespace) -> int:
    scores = load_scores()
    equivalent = scores.get("equivalent", {})
    deadline = time.monotonic() + getattr(args, "budget", 0.0)
    finished = True
    new: dict[str, Tally] = {}
    for group in GROUPS:
        if args.group and group.name not in args.group:
            continue
        if args.command == "run":
            left = deadline - time.monotonic()
            if left <= 0 or not run_group(group, left, args.children, args.survivors):
                finished = False
        elif not (WORK / group.name / "fingerprint").exists():
            print(f"== {group.name}: no results yet (make mutation)")
            finished = False
            continue
        else:
            print(f"== {group.name}: {', '.join(group.modules)} (the last run's results)")
            if (WORK / group.name / "fingerprint").read_text() != fingerprint(group):
                print("   code, tests or settings changed since: run again to be sure")
        tallies = tally(group, equivalent)
        report(group, tallies)
        new.update(tallies)
    dropped = [
        f"{m}: {t.score} % < {scores['modules'][m]['score']} % recorded"
        for m, t in new.items()
        if m in scores["modules"] and t.not_checked == 0 and t.score < scores["modules"][m]["score"]
    ]
    finished = finished and all(t.not_checked == 0 for t in new.values())
    for line in dropped:
        print("DROPPED", line)
    if not finished:
        print("not every mutant was checked: run again to go on (results are kept)")
    if dropped and not getattr(args, "accept_drop", False):
        return 1
    if args.update and finished:
        for module, t in new.items():
            scores["modules"][module] = {
                "score": t.score,
                "killed": t.killed,
                "survived": t.survived,
                "no_tests": t.no_tests,
                "equivalent": t.equivalent,
            }
        SCORES.write_text(json.dumps(scores, indent=2, ensure_ascii=False) + "\n")
        write_readme_table(scores)
        print(f"recorded in {SCORES.relative_to(ROOT)} and {README.relative_to(ROOT)}")
    return 0 if finished else 3


README = ROOT / "docs" / "development.md"
TABLE_HEAD = "| module | score | killed | surviving (no tests) | equivalent |"


def readme_rows(scores: dict[str, Any]) -> list[str]:
    rows = []
    for name in MODULES:
        s = scores["modules"].get(name)
        if s is None:
            continue
        surviving = s["survived"] + s["no_tests"]
        rows.append(
            f"| `{name}` | {s['score']:.1f} % | {s['killed']} | {surviving} ({s['no_tests']}) "
            f"| {s['equivalent']} |"
        )
    return rows


def write_readme_table(scores: dict[str, Any]) -> None:
    """docs/development.md's table of scores, rewritten from `scores`."""
    lines = README.read_text().split("\n")
    start = lines.index(TABLE_HEAD) + 2  # after the header and its separator
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    lines[start:end] = readme_rows(scores)
    README.write_text("\n".join(lines))


def check() -> list[str]:
    """What is wrong with the recorded scores (nothing, when consistent)."""
    problems = []
    scores = load_scores()
    modules = scores.get("modules", {})
    if sorted(modules) != sorted(MODULES):
        problems.append(f"modules {sorted(modules)} are not the groups' {sorted(MODULES)}")
    for name, s in modules.items():
        judged = s["killed"] + s["survived"] + s["no_tests"]
        expected = round(100 * s["killed"] / judged, 1) if judged else 0.0
        if s["score"] != expected:
            problems.append(f"{name}: score {s['score']} is not {expected} (killed / judged)")
        if not (0 <= s["score"] <= 100):
            problems.append(f"{name}: score {s['score']} out of range")
    for mutant, entry in scores.get("equivalent", {}).items():
        module = module_of(mutant)
        if module not in MODULES:
            problems.append(f"equivalent {mutant}: not a mutant of a mutated module")
        if not entry.get("reason", "").strip() or not entry.get("change", "").strip():
            problems.append(f"equivalent {mutant}: needs a reason and the change it makes")
    per_module: dict[str, int] = {}
    for mutant in scores.get("equivalent", {}):
        module = module_of(mutant)
        per_module[module] = per_module.get(module, 0) + 1
    for name, s in modules.items():
        if s["equivalent"] != per_module.get(name, 0):
            problems.append(
                f"{name}: {s['equivalent']} equivalent recorded, "
                f"{per_module.get(name, 0)} listed with a reason"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run mutmut on the core, print and compare the scores")
    run.add_argument("--budget", type=float, default=float(os.environ.get("BUDGET", 3600)))
    run.add_argument("--children", type=int, default=int(os.environ.get("CHILDREN", 2)))
    run.add_argument("--group", action="append", choices=[g.name for g in GROUPS])
    run.add_argument("--update", action="store_true", help="record the new scores")
    run.add_argument(
        "--survivors",
        action="store_true",
        help="keep the last results and check only the mutants they did not kill again",
    )
    score = sub.add_parser("score", help="the scores of the last run, without running")
    score.add_argument("--group", action="append", choices=[g.name for g in GROUPS])
    score.add_argument("--update", action="store_true", help="record them")
    score.add_argument(
        "--accept-drop",
        action="store_true",
        help="record a lower score too: only when the code measured changed under the tests "
        "(new code merged from elsewhere); say so in the commit",
    )
    sub.add_parser("check", help="the recorded scores are consistent")
    args = parser.parse_args()
    if args.command == "check":
        problems = check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    return command_run(args)


if __name__ == "__main__":
    raise SystemExit(main())
