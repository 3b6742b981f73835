"""The errors paperwatch raises on purpose, so callers can tell our refusals from our bugs.

A ``PaperwatchError`` is something a person can act on; anything else escaping the program
is a defect. Messages are one line, because they end up in logs, tables and CI output.
"""

from __future__ import annotations


class PaperwatchError(Exception):
    """Base of every error paperwatch raises deliberately."""


class InputError(PaperwatchError):
    """An input cannot be used: missing, unreadable, binary, empty or malformed.

    The message is one line, ``"<input>: <what is wrong>"``, e.g. ``examples/x.txt: file not found``.
    """

    def __init__(self, source: str, problem: str):
        self.source = _one_line(str(source))
        self.problem = _one_line(problem)
        super().__init__(f"{self.source}: {self.problem}")


class ConfigError(PaperwatchError):
    """A setting that cannot be used; one line naming where it came from (the file, an option) and the key."""


class InputWarning(UserWarning):
    """An input was usable but not clean (bad bytes, odd structure); the run goes on."""


def _one_line(text: str) -> str:
    return " ".join(text.split())
