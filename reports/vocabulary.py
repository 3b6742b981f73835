"""The words the reports speak, in one place: link verdicts, changes between runs, what a reader can
get of a facet, a paper's grade, what a paper needs, and the rule that confirms a death.

Each is a ``StrEnum`` whose values are the strings stored in the database and written to
``report.json`` and ``links.csv``, so a member compares and serialises as its word. Link states
are ``checks.model.State``; nothing in reports/ retypes any of these words
(``tests/test_vocabulary.py`` checks). ``ConfirmRule`` is the one setting of hysteresis and the
one sentence that tells people about it (report, tracking issue, README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What the history says about one link (``reports.verdicts.link_verdict``)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"  # failing since its last good check, not (yet) confirmed dead
    DEAD = "dead"  # confirmed by the ConfirmRule
    RECOVERED = "recovered"  # answers again after a confirmed death
    UNCHECKED = "unchecked"  # no check could tell anything yet


class Change(StrEnum):
    """One link's change of verdict or facts between two runs; the first five are worth a message."""

    NEWLY_DEAD = "newly dead"
    RECOVERED = "recovered"
    MOVED = "moved"
    ARCHIVED = "archived"
    PROMISE_FULFILLED = "promise fulfilled"
    DEGRADED = "degraded"
    HEALTHY_AGAIN = "healthy again"

    @property
    def alerted(self) -> bool:
        """Announced in the digest; the others (informational) are shown in the report only."""
        return self not in (Change.DEGRADED, Change.HEALTHY_AGAIN)


ALERTED_CHANGES = tuple(change for change in Change if change.alerted)
INFORMATIONAL_CHANGES = tuple(change for change in Change if not change.alerted)


class Outcome(StrEnum):
    """What a reader can get of one facet of a paper (its code, data, models or demo) right now.

    One word per paper and facet, from the best of its links. The first seven are *available*:
    the artifact is there to take today, however long ago it was last touched; activity (active,
    quiet, stale, archived) is a fact beside that, never a reason to call code "not working".
    """

    ACTIVE = "active"  # a repository with code, committed to in the last 90 days
    QUIET = "quiet"  # ... in the last year
    STALE = "stale"  # ... not for over a year: the code is still there
    ARCHIVED = "archived"  # read-only on GitHub: the code is still there
    REACHABLE = "reachable"  # code that answers, whose activity is not known (a page, a repository without dates)
    AVAILABLE = "available"  # data, a model or a demo that answers, open to all
    GATED = "gated"  # on the Hub behind an access request
    PLACEHOLDER = "placeholder"  # a repository with no code in it (empty, or a README only)
    PROMISED = "promised"  # ... and the abstract or its README says the code is coming
    UNKNOWN = "unknown"  # nothing could be told: not checked, or our check failed (offline, rate limit)
    FAILING = "failing"  # the server errs or refuses (5xx, 403, a Space that does not build): maybe transient
    DEAD = "dead"  # the server says it is gone
    NONE = "none linked"

    @property
    def available(self) -> bool:
        return self in AVAILABLE


AVAILABLE = frozenset({Outcome.ACTIVE, Outcome.QUIET, Outcome.STALE, Outcome.ARCHIVED, Outcome.REACHABLE,
                       Outcome.AVAILABLE, Outcome.GATED})
MISSING = frozenset({Outcome.DEAD, Outcome.PLACEHOLDER, Outcome.PROMISED})  # the artifact is gone or never came
# Best first: a facet's word is the best outcome among its links; the same order splits the headline.
CODE_ORDER = (Outcome.ACTIVE, Outcome.QUIET, Outcome.STALE, Outcome.ARCHIVED, Outcome.REACHABLE, Outcome.PLACEHOLDER,
              Outcome.PROMISED, Outcome.UNKNOWN, Outcome.FAILING, Outcome.DEAD)
DATA_ORDER = (Outcome.AVAILABLE, Outcome.GATED, Outcome.UNKNOWN, Outcome.FAILING, Outcome.DEAD)


class Facet(StrEnum):
    """What a paper may link: the facets a reader asks about, in the report's order."""

    CODE = "code"
    DATA = "data"
    MODELS = "models"
    DEMO = "demo"

    @property
    def order(self) -> tuple[Outcome, ...]:
        """The outcomes this facet can have, best first."""
        return CODE_ORDER if self is Facet.CODE else DATA_ORDER

    @property
    def noun(self) -> str:
        """What a paper links, in a sentence: "code", "data", "models", "a demo"."""
        return "a demo" if self is Facet.DEMO else self.value


FACETS = tuple(Facet)


class Grade(StrEnum):
    """One word for a whole paper a reader can scan for (``PaperVerdict.artifacts``)."""

    AVAILABLE = "available"  # every linked facet can be had
    PARTIAL = "partial"
    UNAVAILABLE = "unavailable"  # nothing can be had and something is gone
    UNKNOWN = "unknown"  # nothing could be told
    NONE = "none linked"


class Attention(StrEnum):
    """What a paper needs from a maintainer; problems first, in the order they call for action."""

    NEWLY_DEAD = "newly dead"
    DEAD = "dead"
    DEGRADED = "degraded"
    PLACEHOLDER = "placeholder"
    PROMISED = "promised"
    PARTIAL = "partial"
    UNKNOWN = "unknown"
    AVAILABLE = "available"
    OTHER_LINKS = "other links"
    NO_LINKS = "no links"

    @property
    def problem(self) -> bool:
        """Shown as a chip on the paper's row and counted in summary.md's "need attention"."""
        return self in PROBLEMS

    @property
    def note(self) -> str:
        return _ATTENTION_NOTES[self]


PROBLEMS = (Attention.NEWLY_DEAD, Attention.DEAD, Attention.DEGRADED, Attention.PLACEHOLDER, Attention.PROMISED)
_ATTENTION_NOTES = {
    Attention.NEWLY_DEAD: "a link was confirmed dead in this run",
    Attention.DEAD: "a link is confirmed dead",
    Attention.DEGRADED: "a link fails, not (yet) confirmed dead",
    Attention.PLACEHOLDER: "the code repository holds no code",
    Attention.PROMISED: "code was promised and is not there yet",
    Attention.PARTIAL: "some of what it links is available, some is not",
    Attention.UNKNOWN: "nothing could be told yet",
    Attention.AVAILABLE: "everything it links is available",
    Attention.OTHER_LINKS: "links only pages that are not code, data, models or a demo, all answering",
    Attention.NO_LINKS: "no link in its abstract",
}


@dataclass(frozen=True)
class ConfirmRule:
    """Hysteresis: a link is called dead only after ``runs`` failing runs in which the server itself
    said it is gone, spanning at least ``hours`` (from the first such answer to the latest check),
    so one bad afternoon is not a death. ``error``, ``blocked`` and ``unknown`` never confirm one."""

    runs: int = 2
    hours: float = 20.0

    def __post_init__(self) -> None:
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) or self.runs < 1:
            raise ValueError(f"confirm runs must be a whole number of at least 1, not {self.runs!r}")
        if isinstance(self.hours, bool) or not isinstance(self.hours, (int, float)) or not math.isfinite(self.hours) \
                or self.hours < 0:
            raise ValueError(f"confirm hours must be a number of hours, 0 or more, not {self.hours!r}")
        object.__setattr__(self, "hours", float(self.hours))

    def sentence(self) -> str:
        """The rule as people read it, wherever it is shown (report, tracking issue, README)."""
        runs = f"{self.runs} failing run{'' if self.runs == 1 else 's'}"
        hours = f"{self.hours:g} hour{'' if self.hours == 1 else 's'}"
        return f"a link is called dead after {runs} spanning at least {hours} in which the server itself said it is gone"

    def to_dict(self) -> dict[str, object]:
        return {"runs": self.runs, "hours": self.hours, "sentence": self.sentence()}
