"""``Entry``: one paper as an input gives it, before its links are read (what every reader yields)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One paper as an input gives it, before its links are read.

    ``text`` is where links and claims are searched (an abstract, or a Markdown item rendered
    to text with its link targets written as ``<url>``). ``fields`` are links the input states
    outright, as (url, claim) pairs (``github_repo``, ``project_page``).
    """

    title: str
    text: str = ""
    id: str | None = None
    primary_url: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    line: int = 0
    labels: tuple[tuple[str, str], ...] | None = None  # Markdown only: (link target, link text)
