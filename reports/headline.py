"""The report's first line, in the words every output shares: of the papers that link code (data,
models, a demo), how many have it available right now, and how the rest split.

Pure functions over the report's paper rows (``reports.report_rows.PaperRow``, or report.json's
paper entries). The typed report (``reports.report_model``) counts its figures here once; the page,
``summary.md``, ``report.json``, the Prefect summary artifact and the alert digest all read them, so
they can never disagree. Activity (active, quiet, stale, archived) splits the *available*
papers; it never turns available code into "not working".

Papers are also ranked by what they need from a maintainer (``attention``): the dashboard lists
them in that order, problems first, and folds the papers that link nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.report_rows import PaperRow, PaperWords
from reports.vocabulary import AVAILABLE, FACETS, Attention, Facet, Grade, Outcome, Verdict


@dataclass(frozen=True)
class FacetFigures:
    """One facet across the papers: how many link it, how many have it available, and the split."""

    facet: Facet
    linked: int
    available: int
    split: tuple[tuple[Outcome, int], ...]  # (outcome, papers), best first; only outcomes that occur

    @property
    def share(self) -> str:
        """The available share as people read it: "75 %", or "–" when no paper links the facet."""
        return f"{round(100 * self.available / self.linked)} %" if self.linked else "–"

    @property
    def noun(self) -> str:
        """What a paper links, in a sentence: "code", "data", "models", "a demo"."""
        return self.facet.noun

    def sentence(self) -> str:
        """ "code available for 21 of 28 papers linking code (75 %)" """
        if not self.linked:
            return f"no paper links {self.noun}"
        return f"{self.facet} available for {self.available:,} of {self.linked:,} papers linking {self.noun} ({self.share})"

    def split_text(self) -> str:
        """ "active 1 · stale 18 · archived 2 · dead 3" """
        return " · ".join(f"{word} {n:,}" for word, n in self.split)

    def to_dict(self) -> dict[str, Any]:
        return {"linked": self.linked, "available": self.available, "split": {word.value: n for word, n in self.split}}

    @classmethod
    def from_dict(cls, facet: Facet | str, data: Mapping[str, Any]) -> "FacetFigures":
        return cls(Facet(facet), int(data.get("linked") or 0), int(data.get("available") or 0),
                   tuple((Outcome(word), int(n)) for word, n in (data.get("split") or {}).items()))


def _words(paper: PaperRow | Mapping[str, Any]) -> PaperWords:
    return paper.verdict if isinstance(paper, PaperRow) else PaperWords.from_dict(paper.get("verdict") or {})


def facet_figures(papers: Iterable[PaperRow | Mapping[str, Any]]) -> dict[Facet, FacetFigures]:
    """Each facet's figures from the papers' words (typed rows, or report.json's paper entries)."""
    counts: dict[Facet, dict[Outcome, int]] = {facet: {} for facet in FACETS}
    for paper in papers:
        words = _words(paper)
        for facet in FACETS:
            word = words.word(facet)
            if word is not Outcome.NONE:
                counts[facet][word] = counts[facet].get(word, 0) + 1
    figures = {}
    for facet in FACETS:
        order = facet.order
        split = sorted(counts[facet].items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
        figures[facet] = FacetFigures(facet, sum(counts[facet].values()),
                                      sum(n for word, n in split if word in AVAILABLE), tuple(split))
    return figures


def figures_of(summary: Mapping[str, Any]) -> dict[Facet, FacetFigures]:
    """The facet figures a report's ``summary`` holds (report.json → objects)."""
    facets = summary.get("facets") or {}
    return {facet: FacetFigures.from_dict(facet, facets.get(facet) or {}) for facet in FACETS}


def headline(figures: Mapping[Facet, FacetFigures]) -> str:
    """One line for titles and digests: each linked facet's available share, code first."""
    parts = [figures[facet].sentence() for facet in FACETS if figures[facet].linked]
    return "; ".join(parts) if parts else "no paper links code, data, models or a demo"


def first_line(figures: Mapping[Facet, FacetFigures]) -> str:
    """``headline`` as the sentence that opens summary.md and the alert digest ("Code available for …")."""
    text = headline(figures)
    return f"{text[:1].upper()}{text[1:]}."


# --- what each paper needs from a maintainer ----------------------------------------------------

# Problems first, in the order they call for action; then what is fine; papers linking nothing last.
ATTENTION = tuple(Attention)
ATTENTION_NOTES = {word: word.note for word in Attention}


def _link_facts(paper: PaperRow | Mapping[str, Any]) -> tuple[list[str], set[Verdict | None]]:
    """The paper's links' normalized URLs and verdicts."""
    if isinstance(paper, PaperRow):
        return [link.normalized for link in paper.links], {link.verdict.status if link.verdict else None for link in paper.links}
    links = paper.get("links") or []
    statuses = [(link.get("verdict") or {}).get("status") for link in links]
    return [link.get("normalized") for link in links], {Verdict(status) if status else None for status in statuses}


def attention(paper: PaperRow | Mapping[str, Any], newly_dead: Sequence[str] | frozenset[str] = frozenset()) -> Attention:
    """What the paper needs, as one word of ``ATTENTION`` (``newly_dead``: normalized URLs)."""
    urls, statuses = _link_facts(paper)
    if not urls:
        return Attention.NO_LINKS
    if any(url in newly_dead for url in urls):
        return Attention.NEWLY_DEAD
    if Verdict.DEAD in statuses:
        return Attention.DEAD
    if Verdict.DEGRADED in statuses:
        return Attention.DEGRADED
    words = _words(paper)
    for word in (Outcome.PLACEHOLDER, Outcome.PROMISED):
        if word in words.words().values():
            return Attention(word.value)
    grade = words.artifacts
    if grade in (Grade.PARTIAL, Grade.UNKNOWN, Grade.AVAILABLE):
        return Attention(grade.value)
    if grade is Grade.UNAVAILABLE:  # gone, without a confirmed death: the facet's own word says which
        return Attention.DEGRADED
    return Attention.OTHER_LINKS


def attention_rank(word: str) -> int:
    return ATTENTION.index(word) if word in ATTENTION else len(ATTENTION)
