"""Per-paper verdicts from the latest observations: can a reader get the code and the data?

Pure functions over plain data. A verdict explains itself in one line, and never calls
something dead on the strength of a failure of ours (unknown) or a refusal (blocked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from checks.model import LinkKind, Observation, State

CODE_KINDS = frozenset({LinkKind.GITHUB_REPO.value, LinkKind.GITHUB_PATH.value, LinkKind.GIST.value})
DATA_KINDS = frozenset({LinkKind.HF_MODEL.value, LinkKind.HF_DATASET.value})
DEMO_KINDS = frozenset({LinkKind.HF_SPACE.value})

# Best first: the verdict of a facet is the best outcome among its links.
CODE_ORDER = ("working", "stale", "archived", "placeholder", "promised", "unchecked", "failing", "dead")
DATA_ORDER = ("working", "gated", "unchecked", "failing", "dead")


@dataclass(frozen=True)
class CitedObservation:
    """What the verdict needs of one cited link."""

    url: str
    kind: str
    claim: str | None
    promise: bool
    observation: Observation | None


@dataclass(frozen=True)
class PaperVerdict:
    code: str
    data: str
    demo: str
    explanation: str


def _facet_of(link: CitedObservation) -> str | None:
    if link.kind in CODE_KINDS or link.claim == "code":
        return "code"
    if link.kind in DATA_KINDS or link.claim in ("data", "model"):
        return "data"
    if link.kind in DEMO_KINDS or link.claim == "demo":
        return "demo"
    return None


def _failure_word(state: State) -> str:
    if state is State.DEAD:
        return "dead"
    if state in (State.UNKNOWN, State.SKIPPED):
        return "unchecked"
    return "failing"  # blocked or error: possibly transient, not evidence of death


def code_outcome(link: CitedObservation) -> tuple[str, str]:
    """(verdict word, why) for one code link."""
    o = link.observation
    if o is None:
        return "unchecked", "not checked yet"
    if o.state not in (State.ALIVE, State.MOVED):
        return _failure_word(o.state), o.reason
    d = o.details
    if link.kind not in CODE_KINDS:
        return "working", f"code page reachable ({o.reason})"
    where = f"repo renamed to {d.get('full_name')}" if o.state is State.MOVED and d.get("full_name") else "repo"
    if d.get("empty"):
        return ("promised" if link.promise else "placeholder"), f"{where} is empty (no code yet)"
    if d.get("archived"):
        return "archived", f"{where} archived (read-only)"
    activity = d.get("activity")
    if activity == "stale":
        return "stale", f"{where}, no commit for over a year"
    return "working", f"{where}, {activity}" if activity else f"{where} reachable"


def data_outcome(link: CitedObservation) -> tuple[str, str]:
    o = link.observation
    if o is None:
        return "unchecked", "not checked yet"
    if o.state not in (State.ALIVE, State.MOVED):
        return _failure_word(o.state), o.reason
    if o.details.get("gated"):
        return "gated", o.reason
    return "working", o.reason


def demo_outcome(link: CitedObservation) -> tuple[str, str]:
    o = link.observation
    if o is None:
        return "unchecked", "not checked yet"
    if o.state in (State.ALIVE, State.MOVED):
        return "working", o.reason
    return _failure_word(o.state), o.reason


def _best(outcomes: Sequence[tuple[str, str]], order: Sequence[str]) -> tuple[str, str] | None:
    ranked = sorted(outcomes, key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    return ranked[0] if ranked else None


def paper_verdict(links: Sequence[CitedObservation], claims_without_url: Sequence[str] = ()) -> PaperVerdict:
    facets: dict[str, list[CitedObservation]] = {"code": [], "data": [], "demo": []}
    for link in links:
        facet = _facet_of(link)
        if facet:
            facets[facet].append(link)
    code = _best([code_outcome(link) for link in facets["code"]], CODE_ORDER)
    data = _best([data_outcome(link) for link in facets["data"]], DATA_ORDER)
    demo = _best([demo_outcome(link) for link in facets["demo"]], DATA_ORDER)
    parts = []
    for name, best in (("code", code), ("data", data), ("demo", demo)):
        if best:
            parts.append(f"{name}: {best[1]}")
    if not code and "code" in claims_without_url:
        parts.append("code: claimed available, but no link given")
    return PaperVerdict(
        code=code[0] if code else "none linked",
        data=data[0] if data else "none linked",
        demo=demo[0] if demo else "none linked",
        explanation="; ".join(parts) if parts else "no code, data or demo link",
    )


def state_changes(previous: Mapping[str, Observation], current: Mapping[str, Observation]) -> list[dict[str, str]]:
    """Links whose state changed since the previous run, with what changed.

    A run that could not check a link (unknown) says nothing about the link itself, so
    transitions into or out of ``unknown`` are left to the run's notes.
    """
    changes = []
    for url, now in current.items():
        before = previous.get(url)
        if before is None or before.state is now.state or State.UNKNOWN in (before.state, now.state):
            continue
        if now.state is State.DEAD:
            what = "newly dead"
        elif before.state in (State.DEAD, State.ERROR, State.BLOCKED) and now.state in (State.ALIVE, State.MOVED):
            what = "recovered"
        elif now.state is State.MOVED:
            what = "moved"
        else:
            what = "changed"
        changes.append({"url": url, "change": what, "from": before.state.value, "to": now.state.value, "reason": now.reason})
    return changes


# --- link verdicts across runs ----------------------------------------------------------------

CONFIRM_RUNS = 2  # K: failing runs with the server's own "gone" before a link is called dead
CONFIRM_HOURS = 20.0  # T: ... spanning at least this long, so one bad afternoon is not a death
_UP = (State.ALIVE, State.MOVED)
_FAILING = (State.DEAD, State.ERROR, State.BLOCKED)


@dataclass(frozen=True)
class LinkVerdict:
    """What the history says about a link: healthy, degraded (failing, unconfirmed), dead, recovered."""

    status: str
    dead_since: str | None
    last_alive: str | None
    uptime: dict[str, float | None]  # "7d", "30d", "90d": share of known checks that found the link up

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "dead_since": self.dead_since, "last_alive": self.last_alive, "uptime": self.uptime}


def _confirmed_death(streak: Sequence[tuple[datetime, State]], k: int, hours: float) -> datetime | None:
    """When a failing streak holds k "gone" answers spanning the hours, the first of them; else None."""
    deaths = [when for when, state in streak if state is State.DEAD]
    if len(deaths) >= k and (streak[-1][0] - deaths[0]) >= timedelta(hours=hours):
        return deaths[0]
    return None


def link_verdict(history: Sequence[tuple[datetime, State]], now: datetime | None = None,
                 k: int = CONFIRM_RUNS, hours: float = CONFIRM_HOURS) -> LinkVerdict:
    """Judge a link from its observations, oldest first.

    ``unknown`` and ``skipped`` say nothing about the link and are passed over; ``error`` and
    ``blocked`` keep a failing streak going but never confirm a death on their own.
    """
    known = [(when, state) for when, state in sorted(history, key=lambda item: item[0])
             if state not in (State.UNKNOWN, State.SKIPPED)]
    now = now or (known[-1][0] if known else datetime.now(timezone.utc))
    uptime = {}
    for label, days in (("7d", 7), ("30d", 30), ("90d", 90)):
        window = [state for when, state in known if when >= now - timedelta(days=days)]
        uptime[label] = round(100.0 * sum(state in _UP for state in window) / len(window), 1) if window else None
    last_alive = next((when.isoformat() for when, state in reversed(known) if state in _UP), None)
    if not known:
        return LinkVerdict("unchecked", None, None, uptime)
    streak: list[tuple[datetime, State]] = []
    for when, state in reversed(known):
        if state not in _FAILING:
            break
        streak.insert(0, (when, state))
    if streak:
        dead_since = _confirmed_death(streak, k, hours)
        if dead_since:
            return LinkVerdict("dead", dead_since.isoformat(), last_alive, uptime)
        return LinkVerdict("degraded", None, last_alive, uptime)
    previous_streak: list[tuple[datetime, State]] = []
    for when, state in reversed(known[:-1]):
        if state not in _FAILING:
            break
        previous_streak.insert(0, (when, state))
    recovered = bool(previous_streak) and _confirmed_death(previous_streak, k, hours) is not None
    return LinkVerdict("recovered" if recovered else "healthy", None, last_alive, uptime)
