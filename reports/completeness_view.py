"""How the report tells a repository's ML Code Completeness (``checks.completeness``): 0-5 and why.

A repository's score is kept in its facts (``details["completeness"]``: ``score``, and per item
``met`` and ``reason``; or ``score: null`` with ``unscored``, the reason it could not be scored).
Here it becomes what a reader sees: five ticks with the reason of each miss, the paper's score
(its best repository), the filter token, and the distribution across the run's papers. A
repository that could not be read is *unscored*, never counted as 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.report_rows import LinkRow, PaperRow

ITEM_LABELS: Mapping[str, str] = {
    "dependencies": "dependencies", "training": "training code", "evaluation": "evaluation code",
    "pretrained_model": "pre-trained models", "results": "results",
}
ITEM_SHORT: Mapping[str, str] = {
    "dependencies": "deps", "training": "train", "evaluation": "eval", "pretrained_model": "models", "results": "results",
}
UNSCORED = "unscored"
MAX_SCORE = len(ITEM_LABELS)
FILTER_ORDER = tuple(f"{n}/{MAX_SCORE}" for n in range(MAX_SCORE, -1, -1)) + (UNSCORED,)  # best first


@dataclass(frozen=True)
class CompletenessItem:
    name: str  # dependencies, training, evaluation, pretrained_model, results
    label: str  # "training code"
    short: str  # "train"
    met: bool
    reason: str  # what was found, or why the item is missed


@dataclass(frozen=True)
class CompletenessView:
    """One repository's checklist as shown: its score (None: unscored, and why) and its five items."""

    score: int | None
    items: tuple[CompletenessItem, ...] = ()
    unscored: str = ""

    @property
    def token(self) -> str:
        """The filter's word: ``3/5``, or ``unscored``."""
        return UNSCORED if self.score is None else f"{self.score}/{MAX_SCORE}"

    @property
    def misses(self) -> tuple[CompletenessItem, ...]:
        return tuple(item for item in self.items if not item.met)

    def sentence(self) -> str:
        """One line for text outputs: "3/5; missing training code (no training script or section found), …"."""
        if self.score is None:
            return f"completeness unscored: {self.unscored}" if self.unscored else "completeness unscored"
        missing = "; ".join(f"{item.label} ({item.reason})" for item in self.misses)
        return f"{self.token}" + (f"; missing {missing}" if missing else "; every item found")


def completeness_of(link: LinkRow) -> CompletenessView | None:
    """The link's checklist when its check scored (or tried to score) the repository; None otherwise.

    The facts come from the history and, through report.json, from outside: anything not in the
    expected shape is treated as absent rather than guessed at."""
    data = link.details.get("completeness") if isinstance(link.details, Mapping) else None
    if not isinstance(data, Mapping):
        return None
    score = data.get("score")
    if score is None:
        reason = data.get("unscored")
        return CompletenessView(None, unscored=str(reason) if isinstance(reason, str) else "")
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= MAX_SCORE:
        return None
    raw = data.get("items")
    items = []
    for name, label in ITEM_LABELS.items():
        entry = raw.get(name) if isinstance(raw, Mapping) else None
        if not isinstance(entry, Mapping):
            return None
        reason = entry.get("reason")
        items.append(CompletenessItem(name, label, ITEM_SHORT[name], bool(entry.get("met")),
                                      reason if isinstance(reason, str) else ""))
    return CompletenessView(score, tuple(items))


def paper_completeness(paper: PaperRow) -> CompletenessView | None:
    """The paper's checklist: its best-scored repository's; unscored when none could be scored; None without any."""
    views = [view for view in (completeness_of(link) for link in paper.links) if view is not None]
    scored = [view for view in views if view.score is not None]
    if scored:
        return max(scored, key=lambda view: view.score or 0)
    return views[0] if views else None


def distribution(papers: Iterable[PaperRow]) -> dict[str, Any]:
    """How many papers have each score (their best repository), and how many are unscored.

    ``counts``: ``[(token, n, percent of the scored papers)]`` best first; papers without a scored-or-not
    repository are not counted."""
    tally: Counter[str] = Counter()
    for paper in papers:
        view = paper_completeness(paper)
        if view is not None:
            tally[view.token] += 1
    scored = sum(n for token, n in tally.items() if token != UNSCORED)
    counts = [(token, tally[token], round(100 * tally[token] / scored, 1) if scored and token != UNSCORED else 0.0)
              for token in FILTER_ORDER if tally[token]]
    return {"scored": scored, "unscored": tally[UNSCORED], "counts": counts}


def csv_columns(link: LinkRow) -> dict[str, Any]:
    """``completeness_score`` (empty: not a scored repository), ``completeness_missing`` (the missed items) and
    ``completeness_reasons`` (each miss with its reason, or why the repository is unscored): what the page says."""
    view = completeness_of(link)
    if view is None:
        return {"completeness_score": None, "completeness_missing": None, "completeness_reasons": None}
    if view.score is None:
        return {"completeness_score": UNSCORED, "completeness_missing": None, "completeness_reasons": view.unscored or None}
    return {"completeness_score": view.score, "completeness_missing": " ".join(item.name for item in view.misses) or None,
            "completeness_reasons": "; ".join(f"{item.name}: {item.reason}" for item in view.misses) or None}


COLUMNS: Sequence[str] = ("completeness_score", "completeness_missing", "completeness_reasons")
