"""Regular expressions that mean the same on every Python 3.11+.

Before 3.11.5, CPython's ``re`` matched a possessive repeat of a subpattern that can backtrack
inside (``(?:a|ab)*+``, ``(?:<ul>\\s*)*+``) wrongly (cpython gh-106052; Debian 12's Python is
3.11.2). paperwatch's own patterns avoid the construct (written as atomic groups, ``(?>X*)``,
which every 3.11 matches right; ``tests/test_regex_portability.py`` keeps it so). Patterns a user
writes (``--remap``, ``exclude``, ``include``) are checked here when they are read: on an
interpreter that would misread one, it is refused in one line saying what to write instead.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

from re import _constants as sre_constants, _parser as sre_parse  # type: ignore[attr-defined]

# Whether this interpreter matches possessive repeats over groups wrongly (fixed in 3.11.5).
POSSESSIVE_GROUPS_BROKEN = (3, 11) <= sys.version_info[:3] < (3, 11, 5)

# One character or one class: the only possessive repeats that 3.11.0-3.11.4 match correctly.
_SINGLE = {sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN, sre_constants.ANY}


def possessive_repeats_over_groups(pattern: str | bytes, flags: int = 0) -> list[str]:
    """The possessive repeats in ``pattern`` whose subpattern is more than one character or class."""
    found: list[str] = []

    def walk(items: Any) -> None:
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


def _children(op: object, av: Any) -> Iterator[Any]:
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


def user_pattern_problem(pattern: str, *, broken: bool = POSSESSIVE_GROUPS_BROKEN) -> str | None:
    """Why a user's regex cannot be used here (one phrase), or None. Compiles it: ``re.error`` is a problem too."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"bad regex: {exc}"
    if broken and possessive_repeats_over_groups(pattern):
        version = ".".join(map(str, sys.version_info[:3]))
        return (f"Python {version} matches a possessive repeat of a group (such as (?:...)*+) wrongly "
                "(fixed in 3.11.5); write it as an atomic group, (?>(?:...)*), which means the same everywhere")
    return None
