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

from checks.patterns import POSSESSIVE_GROUPS_BROKEN, possessive_repeats_over_groups, user_pattern_problem
from checks.remap import RemapError, RemapRule

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("checks", "flows", "reports")
_RE_FUNCTIONS = frozenset({"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall", "finditer"})
# Patterns compiled at run time from what a user configured (--remap, exclude/include): checked when
# read (checks.patterns.user_pattern_problem), not here.
USER_PATTERNS = {("checks/settings.py", "pattern"), ("checks/patterns.py", "pattern"), ("checks/remap.py", "self.pattern"), ("checks/remap.py", "body"),
                 ("checks/remap.py", "''.join(pieces)")}


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
    from checks.markdown_source import _LI_RE

    for line in ('<ul><li><a href="https://github.com/f/f">Paper F</a></li>', "<ol class='x'> <li>G</li></ol>"):
        match = _LI_RE.match(line)
        assert match and match.group("body").startswith(("<a href", "G"))


def test_a_users_pattern_this_python_would_misread_is_refused_in_one_line() -> None:
    """A --remap rule or exclude pattern means the same on every interpreter, or is refused where it would not."""
    risky = r"^https://(?:a|ab)*+c\.org/"
    problem = user_pattern_problem(risky, broken=True)
    assert problem and "(?>(?:...)*)" in problem and "\n" not in problem
    assert user_pattern_problem(risky, broken=False) is None
    assert user_pattern_problem(r"^https://(?>(?:a|ab)*)c\.org/", broken=True) is None  # the portable spelling
    assert user_pattern_problem("(", broken=False).startswith("bad regex:")
    rule = f"{risky} https://mirror.example.org/"
    if POSSESSIVE_GROUPS_BROKEN:  # Debian 12's 3.11.2, as .ci/run also runs this file
        with pytest.raises(RemapError, match="matches a possessive repeat of a group"):
            RemapRule.parse(rule)
    else:
        assert RemapRule.parse(rule).apply("https://abac.org/x") is None  # as 3.11.5+ reads it
