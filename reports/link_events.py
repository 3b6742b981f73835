"""The Prefect events of one run, and its "needs attention" table, as plain data built from the report.

Pure functions over a typed report (``reports.report_model.Report``); ``flows.events`` emits the
specs (``prefect.events.emit_event``) and ``flows.monitor`` publishes the table. Nothing here
imports Prefect.

Events, one per fact a person or an automation acts on:

- ``paperwatch.link.<change>`` (``newly-dead``, ``recovered``, ``moved``, ``archived``,
  ``promise-fulfilled``, ``degraded``, ``healthy-again``: every ``Change``, slugified): one per link
  whose verdict changed in the run, never one per check. Its resource is the link
  (``paperwatch.link.<first 16 hex of the SHA-256 of its normalized URL>``) labelled with its URL,
  host, kind, the source list(s) of the papers citing it and its state; its related resources are
  the citing papers (role ``paper``) and the run (role ``paperwatch-run``).
- ``paperwatch.run.links-died``: once per run with at least one newly dead link, listing the first
  ``MAX_EXAMPLES`` (a notification automation triggers on it: 500 deaths, one message).
- ``paperwatch.run.could-not-check``: once per run that was offline or has links whose state is
  unknown, with the counts, the reasons by kind and example URLs.

Titles, reasons, errors and URLs came from abstracts, pages and APIs: untrusted, so each is put on
one line and cut to a length; token-like strings are blanked. Only changed links (and, for the
could-not-check event, unknown ones) get anything built: a 250k-link run with no change costs one
pass over its links.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks.model import State
from reports.markdown import one_line
from reports.report_model import Report
from reports.report_rows import ChangeRow, LinkRow, PaperRow
from reports.rescue import archive_sentence, found_copy, is_code_link
from reports.vocabulary import Attention, Change, Verdict

LINK_EVENT_PREFIX = "paperwatch.link."
LINKS_DIED = "paperwatch.run.links-died"
COULD_NOT_CHECK = "paperwatch.run.could-not-check"
RUN_ROLE = "paperwatch-run"
PAPER_ROLE = "paper"
MAX_EXAMPLES = 50  # links listed in a run event
MAX_PAPERS = 20  # papers related to (and listed in) one link event; Prefect allows 100 related resources in all
MAX_TITLE, MAX_TEXT, MAX_URL, MAX_LABEL = 300, 500, 2000, 300
ATTENTION_KEY = "paperwatch-attention"
ATTENTION_ROWS = 500  # Prefect stores an artifact in one database row: keep it to a few hundred KB
ATTENTION_WORDS = (Attention.NEWLY_DEAD, Attention.DEAD, Attention.DEGRADED, Attention.PLACEHOLDER, Attention.PROMISED)
# Credentials that must never reach an event, whatever an error message quoted.
_SECRET = re.compile(r"(gh[pousr]_[A-Za-z0-9]{8,}|github_pat_[A-Za-z0-9_]{8,}|hf_[A-Za-z0-9]{8,}"
                     r"|(?i:(?:token|access_token|api_key|apikey|password|secret)=)[^&\s]+|(?i:bearer\s+)\S+)")
# Why a link could not be checked, by the words the checkers use (checks.statuses, checks.ratelimits, flows.batches).
UNKNOWN_REASONS = (
    ("rate limit", re.compile(r"rate.?limit|HTTP 429|budget", re.I)),
    ("token refused", re.compile(r"token|credential|HTTP 401", re.I)),
    ("no network", re.compile(r"no network|could not reach|offline|unreachable|connect|DNS", re.I)),
    ("our timeout", re.compile(r"time.?out|timed out|gave up after|deadline", re.I)),
)


def event_name(change: Change | str) -> str:
    """``paperwatch.link.newly-dead`` for "newly dead", and so on for every ``Change``."""
    return LINK_EVENT_PREFIX + Change(change).value.replace(" ", "-")


LINK_EVENTS = tuple(event_name(change) for change in Change)


def link_resource_id(normalized: str) -> str:
    """A link's stable Prefect resource id: the same URL gets the same id in every run and database."""
    return LINK_EVENT_PREFIX + hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:16]


def run_resource_id(run_id: int) -> str:
    return f"paperwatch.run.{int(run_id)}"


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    """Untrusted text on one line, cut to ``limit``, with anything shaped like a credential blanked."""
    return _SECRET.sub("[redacted]", one_line(value, limit))


def _opt(value: Any, limit: int = MAX_TEXT) -> str | None:
    return None if value is None or value == "" else _text(value, limit)


@dataclass(frozen=True)
class EventSpec:
    """What ``prefect.events.emit_event`` is given: name, resource (string labels), related resources, payload."""

    event: str
    resource: Mapping[str, str]
    related: tuple[Mapping[str, str], ...] = ()
    payload: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "resource": dict(self.resource), "related": [dict(r) for r in self.related],
                "payload": dict(self.payload)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EventSpec":
        return cls(str(data["event"]), dict(data["resource"]), tuple(dict(r) for r in data.get("related") or ()),
                   dict(data.get("payload") or {}))


@dataclass
class _Cited:
    """A changed (or unknown) link as the run's papers cite it: its first row, and every citing paper."""

    row: LinkRow
    papers: list[PaperRow] = field(default_factory=list)


def _cited(papers: Iterable[PaperRow], wanted: Mapping[str, Any] | frozenset[str]) -> dict[str, _Cited]:
    found: dict[str, _Cited] = {}
    for paper in papers:
        for link in paper.links:
            if link.normalized in wanted:
                entry = found.get(link.normalized)
                if entry is None:
                    entry = found[link.normalized] = _Cited(link)
                if not entry.papers or entry.papers[-1] is not paper:
                    entry.papers.append(paper)
    return found


def _archived_copy(link: LinkRow | None) -> dict[str, str] | None:
    copy = found_copy(link.archive) if link is not None else None
    if copy is None:
        return None
    return {"service": copy.service.value, "url": _text(copy.url, MAX_URL), "captured_at": _text(copy.captured_at, 40)}


def _evidence(link: LinkRow | None) -> dict[str, Any]:
    evidence = (link.evidence if link is not None else None) or {}
    status = evidence.get("status_code")
    return {"status_code": status if isinstance(status, int) and not isinstance(status, bool) else None,
            "final_url": _opt(evidence.get("final_url"), MAX_URL), "error": _opt(evidence.get("error"), MAX_TEXT)}


def _sources(papers: Sequence[PaperRow], sources: Mapping[str, str]) -> str:
    """The source lists that cite the link, comma-joined in the order the run read its papers."""
    named = dict.fromkeys(sources.get(paper.id) or "" for paper in papers)
    return _text(", ".join(name for name in named if name), MAX_LABEL)


def _paper_entry(paper: PaperRow, sources: Mapping[str, str]) -> dict[str, str]:
    return {"id": _text(paper.id, MAX_LABEL), "title": _text(paper.title, MAX_TITLE), "source": _text(sources.get(paper.id) or "", MAX_LABEL)}


def _run_related(report: Report) -> dict[str, str]:
    return {"prefect.resource.id": run_resource_id(report.run.id), "prefect.resource.role": RUN_ROLE,
            "prefect.resource.name": f"paperwatch run {int(report.run.id)}"}


def link_event(change: ChangeRow, cited: _Cited | None, report: Report, sources: Mapping[str, str],
               report_path: str | None = None) -> EventSpec:
    """The event of one link's change of verdict."""
    link = cited.row if cited else None
    papers = cited.papers if cited else []
    url = change.url
    resource = {
        "prefect.resource.id": link_resource_id(url), "prefect.resource.name": _text(url, MAX_URL),
        "paperwatch.url": _text(url, MAX_URL), "paperwatch.host": _text(urlsplit(url).hostname or "", MAX_LABEL),
        "paperwatch.kind": _text(link.kind if link else "", 40), "paperwatch.source": _sources(papers, sources),
        "paperwatch.state": _text(change.state or "", 40), "paperwatch.change": change.change.value,
        "paperwatch.verdict": change.verdict_to.value,
    }
    related = tuple({"prefect.resource.id": f"paperwatch.paper.{_text(paper.id, MAX_LABEL)}", "prefect.resource.role": PAPER_ROLE,
                     "prefect.resource.name": _text(paper.title, MAX_TITLE)} for paper in papers[:MAX_PAPERS])
    payload = {
        "url": _text(url, MAX_URL), "cited_as": _text(link.url, MAX_URL) if link else None, "change": change.change.value,
        "verdict_from": change.verdict_from.value, "verdict_to": change.verdict_to.value, "state": change.state,
        "reason": _text(change.reason), "evidence": _evidence(link), "dead_since": change.dead_since,
        "suggested_url": _opt(change.suggested_url, MAX_URL), "archived_copy": _archived_copy(link),
        "papers": [_paper_entry(paper, sources) for paper in papers[:MAX_PAPERS]], "papers_total": len(papers),
        "run_id": int(report.run.id), "report": report_path,
    }
    return EventSpec(event_name(change.change), resource, related + (_run_related(report),), payload)


def _run_resource(report: Report) -> dict[str, str]:
    return {"prefect.resource.id": run_resource_id(report.run.id), "prefect.resource.name": f"paperwatch run {int(report.run.id)}",
            "paperwatch.run-id": str(int(report.run.id)), "paperwatch.sources": _text(", ".join(report.run.sources), MAX_LABEL)}


def links_died_event(report: Report, dead: Sequence[ChangeRow], cited: Mapping[str, _Cited], sources: Mapping[str, str],
                     report_path: str | None = None) -> EventSpec:
    """One event for every link that died in the run: a notification on it sends one message, not one per link."""
    links = []
    for change in dead[:MAX_EXAMPLES]:
        entry = cited.get(change.url)
        papers = entry.papers if entry else []
        links.append({"url": _text(change.url, MAX_URL), "reason": _text(change.reason), "dead_since": change.dead_since,
                      "kind": _text(entry.row.kind, 40) if entry else None,
                      "archived_copy": _archived_copy(entry.row if entry else None),
                      "papers": [_paper_entry(paper, sources) for paper in papers[:5]], "papers_total": len(papers)})
    payload = {"run_id": int(report.run.id), "count": len(dead), "links": links, "more": max(0, len(dead) - MAX_EXAMPLES),
               "report": report_path}
    return EventSpec(LINKS_DIED, _run_resource(report), (), payload)


def reason_kind(reason: str) -> str:
    """One of ``UNKNOWN_REASONS``' words for why a link could not be checked, else "other"."""
    return next((word for word, pattern in UNKNOWN_REASONS if pattern.search(reason or "")), "other")


def could_not_check_event(report: Report, unknown: Mapping[str, LinkRow], report_path: str | None = None) -> EventSpec:
    """One event for a run that was offline or could not tell some links' state: counts, reasons, examples."""
    by_kind = Counter(reason_kind(row.reason or "") for row in unknown.values())
    by_reason = Counter(_text(row.reason or "", 200) for row in unknown.values())
    checked = sum(n for state, n in report.summary.by_state.items() if state != State.SKIPPED)
    payload = {
        "run_id": int(report.run.id), "offline": bool(report.run.offline), "checked": checked, "unknown": len(unknown),
        "reasons": dict(by_kind.most_common()),
        "top_reasons": [{"reason": reason, "count": n} for reason, n in by_reason.most_common(10)],
        "examples": [_text(url, MAX_URL) for url in list(unknown)[:MAX_EXAMPLES]],
        "notes": [_text(note, 300) for note in report.run.notes[:5]], "report": report_path,
    }
    return EventSpec(COULD_NOT_CHECK, _run_resource(report), (), payload)


def run_events(report: Report, sources: Mapping[str, str] | None = None, report_path: str | None = None) -> list[EventSpec]:
    """Every event of the run: one per changed link (in the report's order), then ``links-died`` when a link died,
    then ``could-not-check`` when the run was offline or left links unknown. ``sources``: paper id → its source list."""
    sources = sources or {}
    changed = {change.url: change for change in report.changes}
    unknown_urls = frozenset(link.normalized for paper in report.papers for link in paper.links if link.state is State.UNKNOWN)
    cited = _cited(report.papers, changed.keys() | unknown_urls) if changed or unknown_urls else {}
    specs = [link_event(change, cited.get(change.url), report, sources, report_path) for change in report.changes]
    dead = [change for change in report.changes if change.change is Change.NEWLY_DEAD]
    if dead:
        specs.append(links_died_event(report, dead, cited, sources, report_path))
    if report.run.offline or unknown_urls:
        unknown = {url: cited[url].row for url in sorted(unknown_urls) if url in cited}
        specs.append(could_not_check_event(report, unknown, report_path))
    return specs


def papers_of_changes(report: Report) -> list[str]:
    """The ids of the papers citing a changed link: the only ones whose source lists the events name."""
    changed = {change.url for change in report.changes}
    return [paper.id for paper in report.papers if changed and any(link.normalized in changed for link in paper.links)]


# --- the "needs attention" table artifact -----------------------------------------------------

def _attention_word(link: LinkRow, newly_dead: frozenset[str]) -> Attention | None:
    if link.normalized in newly_dead:
        return Attention.NEWLY_DEAD
    status = link.verdict.status if link.verdict else None
    if status is Verdict.DEAD:
        return Attention.DEAD
    if status is Verdict.DEGRADED:
        return Attention.DEGRADED
    details = link.details or {}
    if link.state is not None and link.state.available and (details.get("placeholder") or details.get("empty")):
        return Attention.PROMISED if link.promise or details.get("readme_promise") else Attention.PLACEHOLDER
    return None


def _since(link: LinkRow) -> str:
    verdict = link.verdict
    if verdict is None:
        return ""
    if verdict.dead_since:
        return str(verdict.dead_since)[:10]
    return f"last alive {str(verdict.last_alive)[:10]}" if verdict.last_alive and verdict.status is Verdict.DEGRADED else ""


def _papers_cell(papers: Sequence[PaperRow]) -> str:
    shown = "; ".join(_text(paper.title, 120) for paper in papers[:2])
    return shown + (f" and {len(papers) - 2} more" if len(papers) > 2 else "")


def attention_table(report: Report, limit: int = ATTENTION_ROWS) -> tuple[list[dict[str, str]], str]:
    """The links that need a maintainer this run (newly dead, dead, degraded, placeholder or promised code), most
    urgent first, as the rows of a Prefect table artifact, and its description; more than ``limit`` links: the
    first ``limit`` and a last row saying how many more the report lists."""
    newly_dead = frozenset(change.url for change in report.changes if change.change is Change.NEWLY_DEAD)
    found: dict[str, tuple[Attention, _Cited]] = {}
    for paper in report.papers:
        for link in paper.links:
            entry = found.get(link.normalized)
            if entry is None:
                word = _attention_word(link, newly_dead)
                if word is None:
                    continue
                entry = found[link.normalized] = (word, _Cited(link))
            if not entry[1].papers or entry[1].papers[-1] is not paper:
                entry[1].papers.append(paper)
    ranked = sorted(found.values(), key=lambda item: (ATTENTION_WORDS.index(item[0]), item[1].row.normalized))
    rows = []
    for word, cited in ranked[:limit]:
        link = cited.row
        copy = found_copy(link.archive)
        archived = _text(copy.url, MAX_URL) if copy else (
            _text(archive_sentence(link.archive, is_code_link(link.kind, link.claim)), 120)
            if word in (Attention.NEWLY_DEAD, Attention.DEAD, Attention.DEGRADED) else "")
        rows.append({"paper": _papers_cell(cited.papers), "link": _text(link.url, MAX_URL), "attention": word.value,
                     "state": link.state.value if link.state else "not checked", "reason": _text(link.reason or "", 200),
                     "since": _since(link), "archived copy": archived})
    more = len(ranked) - len(rows)
    if more > 0:
        rows.append({"paper": f"… and {more:,} more links that need attention: see the report", "link": "", "attention": "",
                     "state": "", "reason": "", "since": "", "archived copy": ""})
    counts = Counter(word for word, _ in ranked)
    description = (f"paperwatch run {int(report.run.id)}: links that need attention — "
                   + (", ".join(f"{counts[word]:,} {word.value}" for word in ATTENTION_WORDS if counts[word]) or "none")
                   + (f" (first {len(rows) - 1:,} shown)" if more > 0 else ""))
    return rows, description
