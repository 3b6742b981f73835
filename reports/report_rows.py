"""The rows of a report, typed: each link as one paper cites it, each paper with its words, each
change since the previous run, each run of the history, and what the run was.

Frozen dataclasses in the report vocabulary (``reports.vocabulary``); ``to_dict`` writes each as
``report.json`` has it (same keys, same order), ``from_dict`` reads a document back (a stored
report.json, or a document a program made), taking a missing key as empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from checks.archive_model import ArchiveLookup, SaveRequest
from checks.model import State
from reports.verdicts import LinkVerdict, Transition
from reports.vocabulary import FACETS, Attention, Change, ConfirmRule, Facet, Grade, Outcome, Verdict


def _state(value: Any) -> State | None:
    return State(value) if value else None


@dataclass(frozen=True)
class HistoryCell:
    """A link's state in one run of the history (None: the run did not check it)."""

    run: int
    state: State | None

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "state": self.state.value if self.state else None}


def link_verdict_from_dict(data: Mapping[str, Any] | None) -> LinkVerdict | None:
    if not data:
        return None
    return LinkVerdict(Verdict(data["status"]), data.get("dead_since"), data.get("last_alive"), dict(data.get("uptime") or {}))


@dataclass(frozen=True)
class LinkRow:
    """One link as one paper cites it: what it is, its history and verdict, and what this run found.

    ``observed``: this run checked it; report.json then also carries ``checker``, ``suggested_url``
    and ``checked_at``. ``archive``: the archives' latest answer about it, ``save_request``: its latest
    Save Code Now request (``reports.archive_store``; None when there is none), always in report.json."""

    url: str
    normalized: str
    kind: str
    claim: str | None
    promise: bool
    history: tuple[HistoryCell, ...]
    verdict: LinkVerdict | None
    state: State | None
    reason: str | None
    evidence: Mapping[str, Any] | None
    details: Mapping[str, Any]
    checker: str | None = None
    suggested_url: str | None = None
    checked_at: str | None = None
    observed: bool = True
    archive: ArchiveLookup | None = None
    save_request: SaveRequest | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": self.url, "normalized": self.normalized, "kind": self.kind, "claim": self.claim, "promise": self.promise,
            "history": [cell.to_dict() for cell in self.history],
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "state": self.state.value if self.state else None, "reason": self.reason,
        }
        if self.observed:
            data.update(checker=self.checker, evidence=self.evidence, suggested_url=self.suggested_url, details=self.details,
                        checked_at=self.checked_at)
        else:
            data.update(evidence=self.evidence, details=self.details)
        data.update(archive=self.archive.to_dict() if self.archive else None,
                    save_request=self.save_request.to_dict() if self.save_request else None)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LinkRow":
        return cls(
            url=data.get("url") or "", normalized=data.get("normalized") or data.get("url") or "", kind=data.get("kind") or "",
            claim=data.get("claim"), promise=bool(data.get("promise")),
            history=tuple(HistoryCell(cell["run"], _state(cell.get("state"))) for cell in data.get("history") or []),
            verdict=link_verdict_from_dict(data.get("verdict")), state=_state(data.get("state")), reason=data.get("reason"),
            evidence=data.get("evidence"), details=data.get("details") or {}, checker=data.get("checker"),
            suggested_url=data.get("suggested_url"), checked_at=data.get("checked_at"),
            observed=any(key in data for key in ("checker", "checked_at", "suggested_url")),
            archive=ArchiveLookup.from_dict(data["archive"]) if data.get("archive") else None,
            save_request=SaveRequest.from_dict(data["save_request"]) if data.get("save_request") else None,
        )


@dataclass(frozen=True)
class PaperWords:
    """A paper's word per facet, the one-line why, and ``artifacts``, its grade as a whole."""

    code: Outcome = Outcome.NONE
    data: Outcome = Outcome.NONE
    demo: Outcome = Outcome.NONE
    explanation: str = ""
    artifacts: Grade = Grade.NONE
    models: Outcome = Outcome.NONE

    def word(self, facet: Facet | str) -> Outcome:
        return getattr(self, Facet(facet).value)

    def words(self) -> dict[Facet, Outcome]:
        return {facet: self.word(facet) for facet in FACETS}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "data": self.data.value, "demo": self.demo.value, "explanation": self.explanation,
                "artifacts": self.artifacts.value, "models": self.models.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PaperWords":
        words = {facet.value: Outcome(data.get(facet) or Outcome.NONE) for facet in FACETS}
        return cls(**words, explanation=str(data.get("explanation") or ""), artifacts=Grade(data.get("artifacts") or Grade.NONE))


@dataclass(frozen=True)
class PaperRow:
    """One paper the run watched: its words, its links, and what it needs (None until judged)."""

    id: str
    title: str
    verdict: PaperWords
    links: tuple[LinkRow, ...]
    attention: Attention | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "title": self.title, "verdict": self.verdict.to_dict(), "links": [link.to_dict() for link in self.links]}
        if self.attention is not None:
            data["attention"] = self.attention.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PaperRow":
        attention = data.get("attention")
        return cls(str(data.get("id") or ""), str(data.get("title") or ""), PaperWords.from_dict(data.get("verdict") or {}),
                   tuple(LinkRow.from_dict(link) for link in data.get("links") or []), Attention(attention) if attention else None)


@dataclass(frozen=True)
class ChangeRow(Transition):
    """A transition as the report lists it: with the titles of the papers that cite the link."""

    papers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "papers": list(self.papers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ChangeRow":
        return cls(url=data.get("url") or "", change=Change(data["change"]), verdict_from=Verdict(data["from"]),
                   verdict_to=Verdict(data["to"]), state=data.get("state"), reason=data.get("reason") or "",
                   suggested_url=data.get("suggested_url"), dead_since=data.get("dead_since"),
                   papers=tuple(str(title) for title in data.get("papers") or []))


def count_changes(changes: Sequence[Transition | Mapping[str, Any]]) -> dict[Change, int]:
    """How many changes of each kind, in the order they first occur."""
    counts: dict[Change, int] = {}
    for change in changes:
        kind = change.change if isinstance(change, Transition) else Change(change["change"])
        counts[kind] = counts.get(kind, 0) + 1
    return counts


@dataclass(frozen=True)
class RunRow:
    """One run of the history the report shows: when, whether offline, links per state."""

    id: int
    started_at: str
    offline: bool
    counts: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "started_at": self.started_at, "offline": self.offline, "counts": dict(self.counts)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunRow":
        return cls(data["id"], data.get("started_at") or "", bool(data.get("offline")), dict(data.get("counts") or {}))


@dataclass(frozen=True)
class RunInfo:
    """The run the report is of, and the rule its verdicts were judged by."""

    id: int
    started_at: str
    finished_at: str | None
    status: str
    offline: bool
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    flow_run_id: str | None
    readings: tuple[Mapping[str, Any], ...] = ()
    confirm_rule: ConfirmRule = field(default_factory=ConfirmRule)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "started_at": self.started_at, "finished_at": self.finished_at, "status": self.status,
                "offline": self.offline, "sources": list(self.sources), "notes": list(self.notes),
                "flow_run_id": self.flow_run_id, "readings": list(self.readings), "confirm_rule": self.confirm_rule.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunInfo":
        rule = data.get("confirm_rule") or {}
        return cls(data["id"], data.get("started_at") or "", data.get("finished_at"), data.get("status") or "",
                   bool(data.get("offline")), tuple(data.get("sources") or ()), tuple(data.get("notes") or ()),
                   data.get("flow_run_id"), tuple(data.get("readings") or ()),
                   ConfirmRule(int(rule.get("runs", ConfirmRule.runs)), float(rule.get("hours", ConfirmRule.hours))))
