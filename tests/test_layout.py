"""The layout the design card asks for (#14): one direction of imports, one meaning layer,
outputs that only format. Read from the source, so a shortcut back up the layers fails here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "icalfeed"
OUTPUTS = {"ics", "jsonfeed", "pages"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of the package → the package modules it imports (relative or absolute)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".") if package else []
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
                elif (node.module or "").startswith("icalfeed"):
                    target = (node.module or "").removeprefix("icalfeed").strip(".")
                else:
                    continue
                found.add(target)
                found.update(f"{target}.{a.name}".strip(".") for a in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("icalfeed."):
                        found.add(alias.name.removeprefix("icalfeed."))
        graph[name] = found
    # The package itself is the front door (`create_app`, `__version__`, which it sets before
    # importing anything): modules reading the version do not depend on what it re-exports.
    return {
        name: {t for t in found if t in graph and t not in (name, "")}
        for name, found in graph.items()
        if name
    }


def test_the_import_graph_has_no_cycles():
    graph = imports()
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                raise AssertionError(" → ".join([*path, name, target]))
            if target not in state:
                visit(target, [*path, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_outputs_read_the_meaning_layer_and_never_each_other():
    graph = imports()
    for output in OUTPUTS:
        assert not graph[output] & (OUTPUTS - {output}), (output, graph[output])
        assert "meaning" in graph[output], output
    # The meaning layer sits below every output and knows nothing of HTTP or formats.
    assert not graph["meaning"] & (OUTPUTS | {"views", "output", "feedcache", "fastpath"})


def test_the_top_level_is_the_design_cards():
    root = PACKAGE.parent
    for name in ("icalfeed", "templates", "static", "tests"):
        assert (root / name).is_dir(), name
    for name in ("wsgi.py", "pyproject.toml", "README.md"):
        assert (root / name).is_file(), name
    assert not (PACKAGE / "templates").exists() and not (PACKAGE / "static").exists()
    assert (root / "templates" / "base.html").is_file() and (root / "static" / "site.css").is_file()
