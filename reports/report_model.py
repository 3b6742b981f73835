"""The report of one run as one typed value: its run, its summary, its changes, its history and its
papers, with every count and share worked out once, when the report is made.

``index.html``, ``summary.md``, ``links.csv``, ``report.json`` (``Report.to_dict``) and the Prefect
summary artifact all read these figures; none counts again. ``Report.from_dict`` reads a report
document (a stored report.json) back, so any document can be rendered again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from checks.model import State
from reports.found_elsewhere import SuggestionRow
from reports.headline import FacetFigures, attention, facet_figures, figures_of, first_line, headline
from reports.report_rows import ChangeRow, PaperRow, RunInfo, RunRow, count_changes
from reports.vocabulary import Attention, Change, Facet

STATE_ORDER = [s.value for s in State]
HISTORY_RUNS = 14  # runs of history a report shows (and its chart leaves room for)
# The changes a reader asks about first: the page always counts them, even at 0.
FIRST_CHANGES = (Change.NEWLY_DEAD, Change.RECOVERED, Change.MOVED)


@dataclass(frozen=True)
class Summary:
    """The run's figures: papers, links per state, each facet's available share and split, papers per attention word."""

    papers: int
    papers_with_links: int
    links: int
    by_state: Mapping[str, int]  # every state, in State order
    facets: Mapping[Facet, FacetFigures]
    attention: Mapping[Attention, int]  # in the order the papers first need each

    @classmethod
    def count(cls, papers: Sequence[PaperRow], by_state: Mapping[str, int], links: int) -> "Summary":
        return cls(
            papers=len(papers), papers_with_links=sum(1 for p in papers if p.links), links=links,
            by_state={state: by_state.get(state, 0) for state in STATE_ORDER}, facets=facet_figures(papers),
            attention=dict(Counter(p.attention for p in papers if p.attention is not None)),
        )

    @property
    def headline(self) -> str:
        return headline(self.facets)

    @property
    def first_line(self) -> str:
        return first_line(self.facets)

    def to_dict(self) -> dict[str, Any]:
        return {"papers": self.papers, "papers_with_links": self.papers_with_links, "links": self.links,
                "by_state": dict(self.by_state), "facets": {facet.value: f.to_dict() for facet, f in self.facets.items()},
                "attention": {word.value: n for word, n in self.attention.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], papers: Sequence[PaperRow] = ()) -> "Summary":
        """The summary a document holds; what an older or hand-made one lacks is counted from its papers."""
        needs = data.get("attention")
        return cls(
            papers=int(data.get("papers") or 0), papers_with_links=int(data.get("papers_with_links") or 0),
            links=int(data.get("links") or 0), by_state=dict(data.get("by_state") or {}),
            facets=figures_of(data) if "facets" in data else facet_figures(papers),
            attention=({Attention(word): int(n) for word, n in needs.items()} if needs is not None
                       else dict(Counter(p.attention for p in papers if p.attention is not None))),
        )


@dataclass(frozen=True)
class Report:
    """One run's report. ``change_counts`` (changes per kind, in the order first met) is counted on creation."""

    schema_version: int
    generated_at: str
    run: RunInfo
    summary: Summary
    changes: tuple[ChangeRow, ...]
    runs: tuple[RunRow, ...]
    papers: tuple[PaperRow, ...]
    change_counts: Mapping[Change, int] = field(init=False, compare=False)
    # code found elsewhere (reports.found_elsewhere): per paper id, its suggestions, and its links that are accepted ones
    found_elsewhere: Mapping[str, tuple[SuggestionRow, ...]] = field(default_factory=dict)
    accepted: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "change_counts", count_changes(self.changes))

    def changes_by_kind(self) -> list[tuple[Change, int]]:
        """Counts per kind of change: the three readers ask about first, then any other kind that occurred."""
        return ([(kind, self.change_counts.get(kind, 0)) for kind in FIRST_CHANGES]
                + sorted((kind, n) for kind, n in self.change_counts.items() if kind not in FIRST_CHANGES))

    def suggestions_of(self, paper_id: str) -> tuple[SuggestionRow, ...]:
        """The paper's suggestions still to take or leave (accepted ones are its links, marked there)."""
        return tuple(row for row in self.found_elsewhere.get(paper_id, ()) if not row.accepted)

    def found_elsewhere_count(self) -> int:
        """Papers with code found elsewhere still to take or leave."""
        return sum(1 for paper in self.papers if self.suggestions_of(paper.id))

    def is_accepted(self, paper_id: str, url: str) -> bool:
        """Whether this link of the paper is a suggestion the user accepted."""
        return url in self.accepted.get(paper_id, ())

    def to_dict(self) -> dict[str, Any]:
        """The report.json document (README, "report.json")."""
        return {
            "schema_version": self.schema_version, "generated_at": self.generated_at, "run": self.run.to_dict(),
            "summary": self.summary.to_dict(), "changes": [change.to_dict() for change in self.changes],
            "runs": [run.to_dict() for run in self.runs], "papers": [self._paper_dict(paper) for paper in self.papers],
        }

    def _paper_dict(self, paper: PaperRow) -> dict[str, Any]:
        """A paper as report.json has it, with ``suggestions`` (code found elsewhere; [] when none) after its links."""
        return {**paper.to_dict(), "suggestions": [row.to_dict() for row in self.found_elsewhere.get(paper.id, ())]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Report":
        papers = tuple(paper if paper.attention is not None else replace(paper, attention=attention(paper))
                       for paper in (PaperRow.from_dict(entry) for entry in data.get("papers") or []))
        return cls(
            schema_version=int(data.get("schema_version") or 0), generated_at=str(data.get("generated_at") or ""),
            run=RunInfo.from_dict(data["run"]), summary=Summary.from_dict(data.get("summary") or {}, papers),
            changes=tuple(ChangeRow.from_dict(change) for change in data.get("changes") or []),
            runs=tuple(RunRow.from_dict(run) for run in data.get("runs") or []), papers=papers,
            found_elsewhere={str(entry.get("id") or ""): rows for entry in data.get("papers") or []
                             if (rows := tuple(SuggestionRow.from_dict(str(entry.get("id") or ""), s)
                                               for s in entry.get("suggestions") or ()))},
            accepted={str(entry.get("id") or ""): urls for entry in data.get("papers") or []
                      if (urls := tuple(s["url"] for s in entry.get("suggestions") or () if s.get("accepted")))},
        )


def report_of(report: Report | Mapping[str, Any]) -> Report:
    """A report, typed: a document (dict) is read with ``Report.from_dict``."""
    return report if isinstance(report, Report) else Report.from_dict(report)
