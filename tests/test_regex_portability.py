"""Our regular expressions match the same on every Python 3.11+.

Before 3.11.5, CPython's ``re`` matched a possessive repeat of a subpattern that can
backtrack inside (``(?:<ul>\\s*)*+``, ``(?:a|\\\\b)++``) wrongly (cpython gh-106052): on Debian's
stock 3.11.2, ``<ul><li>...`` lists lost their papers. The fix made ``X*+`` mean ``(?>X*)``;
writing the atomic group ourselves gives the same meaning on every patch level. A possessive
repeat of one character or one character class (``\\s*+``, ``[^>]*+``) was never affected.

This test parses every pattern paperwatch compiles (module-level patterns by importing the
modules, patterns written inside functions from the source) and fails on any other
possessive repeat, naming the module and the pattern.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

try:  # Python 3.11+
    from re import _constants as sre_constants, _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layouts
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("checks", "flows", "reports")
_RE_FUNCTIONS = frozenset({"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall", "finditer"})
# Patterns compiled at run time from what a user configured (--remap, exclude/include): not ours to rewrite.
USER_PATTERNS = {("checks/config.py", "pattern"), ("checks/settings.py", "parts[0]"),
                 ("checks/settings.py", "self.pattern"), ("checks/settings.py", "pattern")}

# One character or one class: the only possessive repeats that 3.11.0-3.11.4 match correctly.
_SINGLE = {sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN, sre_constants.ANY}


def possessive_repeats_over_groups(pattern: str | bytes, flags: int = 0) -> list[str]:
    """The possessive repeats in ``pattern`` whose subpattern is more than one character or class."""
    found: list[str] = []

    def walk(items: sre_parse.SubPattern | list) -> None:
        for op, av in items:
            if op is sre_constants.POSSESSIVE_REPEAT:
                low, high, sub = av
                if len(sub) != 1 or sub[0][0] not in _SINGLE:
                    bound = "" if high is sre_constants.MAXREPEAT else high
                    found.append(f"{{{low},{bound}}}+ over {str(list(sub))[:100]}")
            for child in _children(op, av):
                walk(child)

    walk(sre_parse.parse(pattern, flags))
    return found


def _children(op: object, av: object) -> Iterator[list]:
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
        yield av[2]
    elif op is sre_constants.SUBPATTERN:
        yield av[-1]
    elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        yield av[1]
    elif op is sre_constants.ATOMIC_GROUP:
        yield av
    elif op is sre_constants.BRANCH:
        yield from av[1]
    elif op is sre_constants.GROUPREF_EXISTS:
        yield av[1]
        if av[2] is not None:
            yield av[2]


def _modules() -> list[str]:
    return [f"{package}.{path.stem}" for package in PACKAGES for path in sorted((ROOT / package).glob("*.py"))
            if path.stem != "__init__"]


def _module_patterns(name: str) -> Iterator[tuple[str, re.Pattern]]:
    module = importlib.import_module(name)
    for attr, value in vars(module).items():
        values = value if isinstance(value, (tuple, list, frozenset, set)) else (
            value.values() if isinstance(value, dict) else (value,))
        for item in values:
            if isinstance(item, re.Pattern):
                yield attr, item


def _inline_patterns(path: Path, namespace: dict[str, object]) -> Iterator[tuple[str, str | bytes, int]]:
    """``re.sub(r"...", ...)`` and the like written inside code: (where, pattern, flags).

    A pattern given by name or built from module constants is evaluated in the module
    (``namespace``); one built from a function's locals cannot be read here and fails the test,
    unless it is a user's pattern from the configuration.
    """
    rel = path.relative_to(ROOT).as_posix()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                and node.func.attr in _RE_FUNCTIONS and node.args):
            continue
        arg, where = node.args[0], f"{rel}:{node.lineno}"
        flags_node = next((k.value for k in node.keywords if k.arg == "flags"), None)
        if flags_node is None and node.func.attr == "compile" and len(node.args) > 1:
            flags_node = node.args[1]
        flags = int(eval(compile(ast.Expression(flags_node), rel, "eval"), {"re": re})) if flags_node else 0
        try:  # a literal, a module constant, or an f-string of module constants
            value = eval(compile(ast.Expression(arg), rel, "eval"), dict(namespace))
        except NameError:  # built from a function's locals
            value = None
        if isinstance(value, re.Pattern):
            yield where, value.pattern, value.flags
        elif isinstance(value, (str, bytes)):
            yield where, value, flags
        elif (rel, ast.unparse(arg)) not in USER_PATTERNS:
            raise AssertionError(f"{where}: re.{node.func.attr}({ast.unparse(arg)}) builds its pattern where this "
                                 "test cannot read it; compile it once at module level")


def test_the_audit_catches_the_construct_that_broke_on_3_11_2() -> None:
    assert possessive_repeats_over_groups(r"^\s*+(?:<(?:ul|ol)\b[^>]*+>\s*+)*+<li")
    assert possessive_repeats_over_groups(r"(?:[^\s]|\\[_%])++")
    assert possessive_repeats_over_groups(r"x(?=(?:ab|a){2,}+)")
    assert not possessive_repeats_over_groups(r"^\s*+(?>(?:<(?:ul|ol)\b[^>]*+>\s*+)*)<li\b[^>]*+>")
    assert not possessive_repeats_over_groups(r"a*+[bc]++.?+[^d]{0,9}+")


@pytest.mark.parametrize("module", _modules())
def test_no_possessive_repeat_over_a_group(module: str) -> None:
    offenders = [f"{module}.{attr}: {problem}" for attr, pattern in _module_patterns(module)
                 for problem in possessive_repeats_over_groups(pattern.pattern, pattern.flags)]
    path = ROOT / (module.replace(".", "/") + ".py")
    namespace = vars(importlib.import_module(module))
    offenders += [f"{where}: {problem}" for where, pattern, flags in _inline_patterns(path, namespace)
                  for problem in possessive_repeats_over_groups(pattern, flags)]
    assert not offenders, "write X*+ over a group as (?>X*) (cpython gh-106052):\n" + "\n".join(offenders)


def test_the_html_list_that_3_11_2_lost_is_read() -> None:
    """The observed failure, on whatever Python runs the tests."""
    from checks.sources import _LI_RE

    for line in ('<ul><li><a href="https://github.com/f/f">Paper F</a></li>', "<ol class='x'> <li>G</li></ol>"):
        match = _LI_RE.match(line)
        assert match and match.group("body").startswith(("<a href", "G"))
