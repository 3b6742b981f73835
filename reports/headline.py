"""The report's first line, in the words every output shares: of the papers that link code (data,
models, a demo), how many have it available right now, and how the rest split.

Pure functions over the report's paper entries. The page, ``summary.md``, ``report.json``, the
Prefect summary artifact and the alert digest all take their figures and words from here, so
they can never disagree. Activity (active, quiet, stale, archived) splits the *available*
papers; it never turns available code into "not working".

Papers are also ranked by what they need from a maintainer (``attention``): the dashboard lists
them in that order, problems first, and folds the papers that link nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.verdicts import AVAILABLE, FACETS, Outcome, facet_order

FACET_NOUNS = {"code": "code", "data": "data", "models": "models", "demo": "a demo"}


@dataclass(frozen=True)
class FacetFigures:
    """One facet across the papers: how many link it, how many have it available, and the split."""

    facet: str
    linked: int
    available: int
    split: tuple[tuple[str, int], ...]  # (outcome, papers), best first; only outcomes that occur

    @property
    def share(self) -> str:
        """The available share as people read it: "75 %", or "–" when no paper links the facet."""
        return f"{round(100 * self.available / self.linked)} %" if self.linked else "–"

    @property
    def noun(self) -> str:
        """What a paper links, in a sentence: "code", "data", "models", "a demo"."""
        return FACET_NOUNS[self.facet]

    def sentence(self) -> str:
        """ "code available for 21 of 28 papers linking code (75 %)" """
        if not self.linked:
            return f"no paper links {self.noun}"
        return f"{self.facet} available for {self.available:,} of {self.linked:,} papers linking {self.noun} ({self.share})"

    def split_text(self) -> str:
        """ "active 1 · stale 18 · archived 2 · dead 3" """
        return " · ".join(f"{word} {n:,}" for word, n in self.split)

    def to_dict(self) -> dict[str, Any]:
        return {"linked": self.linked, "available": self.available, "split": dict(self.split)}

    @classmethod
    def from_dict(cls, facet: str, data: Mapping[str, Any]) -> "FacetFigures":
        return cls(facet, int(data.get("linked") or 0), int(data.get("available") or 0),
                   tuple((str(word), int(n)) for word, n in (data.get("split") or {}).items()))


def facet_figures(papers: Iterable[Mapping[str, Any]]) -> dict[str, FacetFigures]:
    """Each facet's figures from the papers' verdicts (``verdict[facet]`` outcome words)."""
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for paper in papers:
        verdict = paper.get("verdict") or {}
        for facet in FACETS:
            word = str(verdict.get(facet) or Outcome.NONE)
            if word != Outcome.NONE:
                counts[facet][word] = counts[facet].get(word, 0) + 1
    figures = {}
    for facet in FACETS:
        order = [word.value for word in facet_order(facet)]
        split = sorted(counts[facet].items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
        figures[facet] = FacetFigures(facet, sum(counts[facet].values()),
                                      sum(n for word, n in split if word in AVAILABLE), tuple(split))
    return figures


def figures_of(summary: Mapping[str, Any]) -> dict[str, FacetFigures]:
    """The facet figures a report's ``summary`` holds (report.json → objects)."""
    facets = summary.get("facets") or {}
    return {facet: FacetFigures.from_dict(facet, facets.get(facet) or {}) for facet in FACETS}


def headline(figures: Mapping[str, FacetFigures]) -> str:
    """One line for titles and digests: each linked facet's available share, code first."""
    parts = [figures[facet].sentence() for facet in FACETS if figures[facet].linked]
    return "; ".join(parts) if parts else "no paper links code, data, models or a demo"


def first_line(figures: Mapping[str, FacetFigures]) -> str:
    """``headline`` as the sentence that opens summary.md and the alert digest ("Code available for …")."""
    text = headline(figures)
    return f"{text[:1].upper()}{text[1:]}."


# --- what each paper needs from a maintainer ----------------------------------------------------

# Problems first, in the order they call for action; then what is fine; papers linking nothing last.
ATTENTION = ("newly dead", "dead", "degraded", "placeholder", "promised", "partial", "unknown", "available",
             "other links", "no links")
ATTENTION_NOTES = {
    "newly dead": "a link was confirmed dead in this run",
    "dead": "a link is confirmed dead",
    "degraded": "a link fails, not (yet) confirmed dead",
    "placeholder": "the code repository holds no code",
    "promised": "code was promised and is not there yet",
    "partial": "some of what it links is available, some is not",
    "unknown": "nothing could be told yet",
    "available": "everything it links is available",
    "other links": "links only pages that are not code, data, models or a demo, all answering",
    "no links": "no link in its abstract",
}


def attention(paper: Mapping[str, Any], newly_dead: Sequence[str] | frozenset[str] = frozenset()) -> str:
    """What the paper needs, as one word of ``ATTENTION`` (``newly_dead``: normalized URLs)."""
    links = paper.get("links") or []
    if not links:
        return "no links"
    statuses = {(link.get("verdict") or {}).get("status") for link in links}
    if any(link.get("normalized") in newly_dead for link in links):
        return "newly dead"
    if "dead" in statuses:
        return "dead"
    if "degraded" in statuses:
        return "degraded"
    verdict = paper.get("verdict") or {}
    words = {str(verdict.get(facet) or Outcome.NONE) for facet in FACETS}
    for word in (Outcome.PLACEHOLDER, Outcome.PROMISED):
        if word in words:
            return word.value
    artifacts = verdict.get("artifacts")
    if artifacts in ("partial", "unknown", "available"):
        return str(artifacts)
    if artifacts == "unavailable":  # gone, without a confirmed death: the facet's own word says which
        return "degraded"
    return "other links"


def attention_rank(word: str) -> int:
    return ATTENTION.index(word) if word in ATTENTION else len(ATTENTION)
