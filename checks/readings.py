"""How an input was read: which reader, what it took as a paper, and what it deliberately left out.

A link checker must never drop a link silently. paperwatch reads papers, not just URLs, so a
file is always read in some shape (title/abstract pairs, one paper a line, list items...), and
the shape decides which URLs belong to which paper. ``Reading`` says which shape was used and
counts what came out, so that the command line, the run log and the report can show it, e.g.
``urls.txt: read as a URL list (one URL a line): 12 papers, 12 links``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What each reader takes as a paper, in the words the summary line uses.
HOW = {
    "hf-papers": "title and abstract pairs (blocks separated by blank lines)",
    "markdown": "Markdown (a paper per list item or table row with a link)",
    "json": "a JSON array of paper records",
    "jsonl": "JSON Lines (one paper record a line)",
    "lines": "one paper a line (a line's links belong to it)",
    "text": "one paper (the whole text: a single line or paragraph)",
    "records": "paper records (title and abstract)",
}
URL_LIST = "a URL list (one URL a line)"


@dataclass(frozen=True)
class Unread:
    """Links an input holds where its format says they belong to no paper (fenced code, comments).

    Readers yield these between entries; ``where`` completes "N links ..." (``"in fenced code"``).
    """

    where: str
    links: int
    line: int = 0


@dataclass(frozen=True)
class Reading:
    """How one input was read, and what came out of it.

    ``format`` is the reader (``hf-papers``, ``markdown``, ``json``, ``jsonl``, ``lines``,
    ``text``, or ``records`` for API feeds); ``detected`` says whether it was judged from the
    content (the first 64 KiB) or forced with ``--input-format``. ``how`` says what a paper is in
    this reading. ``papers`` and ``links`` count what was extracted (links merged per paper);
    ``not_read`` counts links the reading deliberately left out, as ``(where, links)`` pairs such
    as ``("in fenced code", 2)``. ``complete`` is false while the input is still being read.
    """

    source: str
    format: str
    how: str
    detected: bool = True
    papers: int = 0
    links: int = 0
    not_read: tuple[tuple[str, int], ...] = ()
    complete: bool = False

    def summary(self) -> str:
        """One line for people: ``urls.txt: read as a URL list (one URL a line): 12 papers, 12 links``."""
        forced = "" if self.detected else f" (--input-format {self.format})"
        line = (f"{self.source}: read as {self.how}{forced}: {_count(self.papers, 'paper')}, "
                f"{_count(self.links, 'link')}")
        if self.not_read:
            line += "; not read: " + ", ".join(f"{_count(n, 'link')} {where}" for where, n in self.not_read)
        return line

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports and Prefect artifacts (``not_read`` as a list of {where, links})."""
        return {"source": self.source, "format": self.format, "how": self.how, "detected": self.detected,
                "papers": self.papers, "links": self.links, "complete": self.complete,
                "not_read": [{"where": where, "links": n} for where, n in self.not_read],
                "summary": self.summary()}


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
