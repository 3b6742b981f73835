"""The house rules a newcomer relies on, read from the source itself.

- Arrows go one way: ``checks`` knows nothing of ``reports`` or ``flows``, ``reports`` nothing of
  ``flows``; ``checks`` has no Prefect and no database; ``reports`` has no Prefect.
- No import cycle between our modules, lazy (function-level) imports included: a cycle is two
  modules that cannot be understood, tested or moved apart.
- The simulated web (``simweb``) is test and demo equipment: only ``flows.demo`` imports it.
- A module longer than ``MAX_LINES`` says why in its docstring (a line starting ``Size:``).

The graph is built from the source (``ast``), so an import inside a function counts as much as
one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("checks", "flows", "reports")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    return {".".join(path.relative_to(ROOT).with_suffix("").parts): path
            for package in PACKAGES for path in sorted((ROOT / package).glob("*.py"))}


MODULES = _modules()


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in the file, wherever it stands."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:  # ``from flows import progress`` imports flows.progress
                yield node.lineno, f"{node.module}.{alias.name}"


def _ours(name: str) -> str | None:
    """The module of ours an imported name refers to (a package's __init__ counts as the package)."""
    while name:
        if name in MODULES:
            return name
        if f"{name}.__init__" in MODULES:
            return f"{name}.__init__"
        name = name.rpartition(".")[0]
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_ours(name) for _, name in _imports(path)}
        graph[module] = {target for target in targets if target and target != module and not target.endswith("__init__")}
    return graph


@pytest.mark.parametrize(("package", "forbidden"), [
    ("checks", ("reports", "flows", "prefect", "sqlalchemy", "simweb")),
    ("reports", ("flows", "prefect", "simweb")),
])
def test_the_arrows_go_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = [f"{MODULES[m].relative_to(ROOT)}:{line} imports {name}"
                 for m in MODULES if m.startswith(f"{package}.")
                 for line, name in _imports(MODULES[m]) if name.split(".")[0] in forbidden]
    assert not offenders, "\n".join(offenders)


def test_no_module_of_ours_imports_itself_round_a_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_only_the_demo_imports_the_simulated_web() -> None:
    offenders = [f"{MODULES[m].relative_to(ROOT)}:{line}" for m in MODULES if m != "flows.demo"
                 for line, name in _imports(MODULES[m]) if name.split(".")[0] == "simweb"]
    assert not offenders, "simweb is imported by runtime modules: " + ", ".join(offenders)


def test_the_command_line_does_not_load_the_simulated_web_until_the_demo_is_asked_for() -> None:
    import subprocess
    import sys

    code = "import sys, flows.cli, flows.monitor, flows.sharding; print(sorted(m for m in sys.modules if m.split('.')[0] == 'simweb'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_a_long_module_says_why_in_its_first_lines() -> None:
    offenders = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").count("\n")
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and not any(line.startswith("Size:") for line in docstring.splitlines()):
            offenders.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not offenders, f"over {MAX_LINES} lines without a 'Size:' line in the docstring:\n" + "\n".join(offenders)
