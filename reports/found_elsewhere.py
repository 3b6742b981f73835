"""Code found elsewhere, in the report's words: each paper's suggested repositories, beside its links.

A suggestion (``reports.suggestion_store``) is shown on a paper that links no code of its own,
one line each: "code found via the paper's Hugging Face page: github.com/x/y, alive". It is checked
like any link, but it is not a link of the paper: the paper's verdict, attention and the report's
link counts stay as the paper's own links make them. An accepted suggestion is a link of its paper
(claim ``code``) and is marked "accepted suggestion" there instead.

The page, report.json (``suggestions`` per paper), summary.md and the digest ("code for paper X
appeared") all phrase a suggestion here. Its URL and where it was found are untrusted text: a URL
becomes a link only when it is http(s) (``safe_href``), and whoever writes it out escapes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.model import Observation, State
from reports.link_facts import safe_href
from reports.markdown import md_code, md_text
from reports.rescue import is_code_link
from reports.report_rows import LinkRow, PaperRow
from reports.suggestion_store import StoredSuggestion

ACCEPTED = "accepted suggestion"  # how an accepted suggestion's link is marked
SOURCE_WORDS = {  # a source kind, as a reader is told where the code was found
    "hf-paper": "the paper's Hugging Face page",
    "project-page": "the paper's project page",
    "hub-card": "a Hugging Face card citing the paper",
}


@dataclass(frozen=True)
class SuggestionRow:
    """One suggestion as one report shows it: where it was found, what this run's check of it said."""

    paper_id: str
    url: str  # normalized: https://github.com/OWNER/REPO
    source_kind: str  # checks.discovery.SOURCE_KINDS
    source_url: str
    detail: str  # "the paper's Hugging Face page", "the model card of org/name", "the project page https://…"
    also: tuple[Mapping[str, str], ...] = ()  # other places naming it: {kind, url, detail}
    state: State | None = None  # this run's check (None: not checked in this run)
    reason: str = "not checked in this run"
    first_run: int = 0
    new: bool = False  # first found in this run
    accepted: bool = False  # the user took it as the paper's own link

    @property
    def shown_url(self) -> str:
        return self.url.removeprefix("https://").removeprefix("http://")

    @property
    def href(self) -> str | None:
        return safe_href(self.url)

    @property
    def source_href(self) -> str | None:
        return safe_href(self.source_url)

    @property
    def source_words(self) -> str:
        """Where it was found: "the paper's Hugging Face page", "the model card of org/name", "the project page https://…"."""
        return self.detail or SOURCE_WORDS.get(self.source_kind, self.source_kind)

    @property
    def via(self) -> str:
        """"code found via the paper's Hugging Face page"."""
        return f"code found via {self.source_words}"

    @property
    def status(self) -> str:
        return self.state.value if self.state else "not checked"

    @property
    def text(self) -> str:
        """The whole line, as plain text: "code found via the paper's Hugging Face page: github.com/x/y, alive"."""
        return f"{self.via}: {self.shown_url}, {self.status}"

    @property
    def available(self) -> bool:
        return self.state is not None and self.state.available

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "source_kind": self.source_kind, "source_url": self.source_url, "detail": self.detail,
                "also": [dict(o) for o in self.also], "state": self.state.value if self.state else None,
                "reason": self.reason, "first_run": self.first_run, "new": self.new, "accepted": self.accepted,
                "text": self.text}

    @classmethod
    def from_dict(cls, paper_id: str, data: Mapping[str, Any]) -> "SuggestionRow":
        state = data.get("state")
        return cls(paper_id, str(data.get("url") or ""), str(data.get("source_kind") or ""),
                   str(data.get("source_url") or ""), str(data.get("detail") or ""),
                   tuple(dict(o) for o in data.get("also") or ()), State(state) if state else None,
                   str(data.get("reason") or ""), int(data.get("first_run") or 0), bool(data.get("new")),
                   bool(data.get("accepted")))


def own_code(links: Sequence[LinkRow], accepted: Mapping[str, str] | Sequence[str] = ()) -> bool:
    """Whether a paper links code of its own (accepted suggestions do not count: they came from elsewhere)."""
    return any(is_code_link(link.kind, link.claim) for link in links if link.normalized not in accepted)


def suggestion_rows(papers: Sequence[PaperRow], stored: Mapping[str, Sequence[StoredSuggestion]],
                    accepted: Mapping[str, Mapping[str, str]], observed: Mapping[str, Observation],
                    run_id: int) -> dict[str, tuple[SuggestionRow, ...]]:
    """Per paper id, the suggestions its report row shows: for a paper without code of its own, its
    current suggestions; an accepted one is kept (marked) whatever the paper links."""
    rows: dict[str, tuple[SuggestionRow, ...]] = {}
    for paper in papers:
        taken = accepted.get(paper.id, {})
        cited = {link.normalized for link in paper.links}
        found = []
        for s in stored.get(paper.id, ()):
            is_accepted = s.url in taken and s.url in cited
            if not is_accepted and (s.url in cited or own_code(paper.links, taken)):
                continue
            o = observed.get(s.url)
            found.append(SuggestionRow(
                paper.id, s.url, s.source_kind, s.source_url, s.detail,
                tuple({"kind": x.kind, "url": x.url, "detail": x.detail} for x in s.also),
                o.state if o else None, o.reason if o else "not checked in this run", s.first_run,
                s.first_run == run_id, is_accepted))
        if found:
            rows[paper.id] = tuple(found)
    return rows


def accepted_links(papers: Sequence[PaperRow], accepted: Mapping[str, Mapping[str, str]]) -> dict[str, tuple[str, ...]]:
    """Per paper id, the normalized URLs among its links that are accepted suggestions."""
    marked = {}
    for paper in papers:
        urls = tuple(link.normalized for link in paper.links if link.normalized in accepted.get(paper.id, {}))
        if urls:
            marked[paper.id] = urls
    return marked


def appeared(papers: Sequence[tuple[str, str, Sequence[Any]]], stored: Mapping[str, Sequence[StoredSuggestion]],
             accepted: Mapping[str, Mapping[str, str]], observed: Mapping[str, Observation],
             run_id: int) -> list[tuple[StoredSuggestion, str, Observation]]:
    """(suggestion, paper title, this run's check) for each suggestion first found in ``run_id`` whose
    repository is there (alive or moved), on a paper without code of its own: "code for paper X appeared".
    ``papers``: (id, title, cited links) as ``Store.papers_of_run`` gives them."""
    found = []
    for paper_id, title, cited in papers:
        taken = accepted.get(paper_id, {})
        if any(is_code_link(link.kind, link.claim) for link in cited if link.normalized not in taken):
            continue
        for s in stored.get(paper_id, ()):
            o = observed.get(s.url)
            if s.first_run == run_id and o is not None and o.state.available:
                found.append((s, title, o))
    return found


def appeared_reason(suggestion: StoredSuggestion, title: str, observation: Observation) -> str:
    """The digest's words: "code for “X” appeared: found via the paper's Hugging Face page, alive"."""
    return f"code for “{title}” appeared: found via {suggestion.detail}, {observation.state.value}"


def suggestions_markdown(papers: Sequence[PaperRow], found: Mapping[str, Sequence[SuggestionRow]], limit: int = 50) -> str:
    """summary.md's section: each paper with code found elsewhere, its suggestions as code spans (never links)."""
    entries = [(paper, row) for paper in papers for row in found.get(paper.id, ()) if not row.accepted]
    if not entries:
        return ""
    lines = ["", f"### Code found elsewhere ({len({paper.id for paper, _ in entries})} papers)", "",
             md_text("Suggestions, not the papers' own links: checked, but not counted in the papers' verdicts until accepted."),
             ""]
    for paper, row in entries[:limit]:
        lines.append(f"- {md_text(paper.title)}: {md_code(row.shown_url, in_table=False)}, {md_text(row.via)}, "
                     f"{md_text(row.status)}{' (new)' if row.new else ''}")
    if len(entries) > limit:
        lines.append(f"- and {len(entries) - limit} more in report.json")
    return "\n".join(lines) + "\n"


__all__ = ["ACCEPTED", "SOURCE_WORDS", "SuggestionRow", "accepted_links", "appeared", "appeared_reason", "own_code", "suggestion_rows",
           "suggestions_markdown"]
