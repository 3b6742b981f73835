"""Per-paper verdicts from the latest observations: can a reader get the code and the data?

Pure functions over plain data. A verdict explains itself in one line, and never calls
something dead on the strength of a failure of ours (unknown) or a refusal (blocked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
