"""The layout: one folder per layer of the flow (#32), imports pointing only down the layers,
one meaning layer, outputs that only format. Read from the source, so a shortcut back up the
layers fails here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "icalfeed"
OUTPUTS = {"feeds.ics", "feeds.jsonfeed", "feeds.itempage", "feeds.changefeeds", "web.pages"}
# The layers, from the bottom; a module may import its own layer and those below it. The
# command line (`cli`) and the package's front door sit on top.
LAYERS = ("base", "ll2", "data", "sync", "feeds", "serving", "web")
MAX_LINES = 600


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
        assert "feeds.meaning" in graph[output], output
    # The meaning layer sits below every output and knows nothing of HTTP or formats.
    assert not graph["feeds.meaning"] & (
        OUTPUTS | {"web.views", "feeds.output", "feeds.feedcache", "serving.fastpath"}
    )


def layer_of(module: str) -> int:
    """A module's layer, by its folder (the top: cli and the package's front door)."""
    folder = module.split(".")[0]
    return LAYERS.index(folder) if folder in LAYERS else len(LAYERS)


def test_every_module_lives_in_a_layer_folder():
    loose = {m for m in imports() if "." not in m and m not in LAYERS}
    assert loose <= {"cli", "__main__"}, loose


def test_imports_point_only_down_the_layers():
    upward = sorted(
        f"{module} → {target}"
        for module, targets in imports().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )
    assert upward == [], upward


def test_no_module_is_over_the_line_limit():
    long = {
        str(path.relative_to(PACKAGE)): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, long


def test_the_top_level_is_the_design_cards():
    root = PACKAGE.parent
    for name in ("icalfeed", "templates", "static", "tests"):
        assert (root / name).is_dir(), name
    for name in ("wsgi.py", "pyproject.toml", "README.md"):
        assert (root / name).is_file(), name
    assert not (PACKAGE / "templates").exists() and not (PACKAGE / "static").exists()
    assert (root / "templates" / "base.html").is_file() and (root / "static" / "site.css").is_file()
