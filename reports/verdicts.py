"""Per-paper verdicts from the latest observations: can a reader get the code and the data?

Pure functions over plain data. A verdict explains itself in one line, and never calls
something dead on the strength of a failure of ours (unknown) or a refusal (blocked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from checks.facts import Facts, HubFacts, RepoFacts
from checks.model import LinkKind, Observation, State
from checks.link_kinds import classify
from reports.vocabulary import AVAILABLE, CODE_ORDER, DATA_ORDER, MISSING, Change, ConfirmRule, Facet, Grade, Outcome, Verdict

CODE_KINDS = frozenset({LinkKind.GITHUB_REPO.value, LinkKind.GITHUB_PATH.value, LinkKind.GIST.value})
DATA_KINDS = frozenset({LinkKind.HF_MODEL.value, LinkKind.HF_DATASET.value})
DEMO_KINDS = frozenset({LinkKind.HF_SPACE.value})


def facet_order(facet: str) -> tuple[Outcome, ...]:
    """The outcomes a facet can have, best first."""
    return Facet(facet).order


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
    """A word per facet, and ``artifacts``, one grade for the whole paper a reader can scan for:
    available (every linked facet can be had), partial, unavailable (nothing can be had and
    something is gone), unknown (nothing could be told) or none linked.
    """

    code: str
    data: str
    demo: str
    explanation: str
    artifacts: str = Grade.NONE.value


def artifacts_grade(outcomes: Sequence[str]) -> Grade:
    """One word for the paper from its facets' outcomes (code, data, demo)."""
    linked = [word for word in outcomes if word != Outcome.NONE]
    if not linked:
        return Grade.NONE
    available = [word for word in linked if word in AVAILABLE]
    if len(available) == len(linked):
        return Grade.AVAILABLE
    if available:
        return Grade.PARTIAL
    return Grade.UNAVAILABLE if any(word in MISSING for word in linked) else Grade.UNKNOWN


def facet_of(link: CitedObservation) -> Facet | None:
    """The facet the verdict judges a link under, by its kind or its claim (a claim word of checks.claims);
    models count as data here (the report splits them out)."""
    if link.kind in CODE_KINDS or link.claim == "code":
        return Facet.CODE
    if link.kind in DATA_KINDS or link.claim in ("data", "model"):
        return Facet.DATA
    if link.kind in DEMO_KINDS or link.claim == "demo":
        return Facet.DEMO
    return None


def _failure_word(state: State) -> Outcome:
    if state is State.DEAD:
        return Outcome.DEAD
    if state in (State.UNKNOWN, State.SKIPPED):
        return Outcome.UNKNOWN
    return Outcome.FAILING  # blocked or error: possibly transient, not evidence of death


_ACTIVITY = {"active": Outcome.ACTIVE, "quiet": Outcome.QUIET, "stale": Outcome.STALE}
_ACTIVITY_WHY = {"active": "committed to in the last 90 days", "quiet": "last commit within a year",
                 "stale": "no commit for over a year"}


def code_outcome(link: CitedObservation) -> tuple[Outcome, str]:
    """(outcome, why) for one code link."""
    o = link.observation
    if o is None:
        return Outcome.UNKNOWN, "not checked yet"
    if not o.state.available:
        return _failure_word(o.state), o.reason
    repo = _repo_facts(o.facts) or RepoFacts()
    if link.kind not in CODE_KINDS:
        return Outcome.REACHABLE, f"code page reachable ({o.reason})"
    where = f"repo renamed to {repo.full_name}" if o.state is State.MOVED and repo.full_name else "repo"
    if repo.empty:
        return (Outcome.PROMISED if link.promise else Outcome.PLACEHOLDER), f"{where} is empty (no code yet)"
    if repo.placeholder:
        why = "its README promises code" if repo.readme_promise else "it holds only a README"
        promised = link.promise or repo.readme_promise
        return (Outcome.PROMISED if promised else Outcome.PLACEHOLDER), f"{where} has no code yet: {why}"
    if repo.archived:
        return Outcome.ARCHIVED, f"{where} archived (read-only), code available"
    activity = repo.activity
    if activity in _ACTIVITY:
        return _ACTIVITY[activity], f"{where} available, {_ACTIVITY_WHY[activity]}"
    return Outcome.REACHABLE, f"{where} reachable"


def data_outcome(link: CitedObservation) -> tuple[Outcome, str]:
    """(outcome, why) for a data, model or demo link."""
    o = link.observation
    if o is None:
        return Outcome.UNKNOWN, "not checked yet"
    if not o.state.available:
        return _failure_word(o.state), o.reason
    if isinstance(o.facts, HubFacts) and o.facts.gated:
        return Outcome.GATED, o.reason
    return Outcome.AVAILABLE, o.reason


demo_outcome = data_outcome


def _best(outcomes: Sequence[tuple[Outcome, str]], order: Sequence[Outcome]) -> tuple[Outcome, str] | None:
    ranked = sorted(outcomes, key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    return ranked[0] if ranked else None


def paper_verdict(links: Sequence[CitedObservation], claims_without_url: Sequence[str] = ()) -> PaperVerdict:
    judged = (Facet.CODE, Facet.DATA, Facet.DEMO)
    facets: dict[Facet, list[CitedObservation]] = {facet: [] for facet in judged}
    for link in links:
        facet = facet_of(link)
        if facet:
            facets[facet].append(link)
    code = _best([code_outcome(link) for link in facets[Facet.CODE]], CODE_ORDER)
    data = _best([data_outcome(link) for link in facets[Facet.DATA]], DATA_ORDER)
    demo = _best([demo_outcome(link) for link in facets[Facet.DEMO]], DATA_ORDER)
    parts = []
    for facet, best in zip(judged, (code, data, demo)):
        if best:
            parts.append(f"{facet}: {best[1]}")
    if not code and "code" in claims_without_url:  # a claim word (checks.claims)
        parts.append("code: claimed available, but no link given")
    words = [best[0].value if best else Outcome.NONE.value for best in (code, data, demo)]
    return PaperVerdict(
        code=words[0], data=words[1], demo=words[2],
        explanation="; ".join(parts) if parts else "no code, data or demo link",
        artifacts=artifacts_grade(words).value,
    )


# --- link verdicts across runs ----------------------------------------------------------------

CONFIRM_RUNS = ConfirmRule().runs  # the default rule's K and T (reports.vocabulary.ConfirmRule)
CONFIRM_HOURS = ConfirmRule().hours
_UP = frozenset(state for state in State if state.available)
_FAILING = (State.DEAD, State.ERROR, State.BLOCKED)


@dataclass(frozen=True)
class LinkVerdict:
    """What the history says about a link: healthy, degraded (failing, unconfirmed), dead, recovered."""

    status: Verdict
    dead_since: str | None
    last_alive: str | None
    uptime: dict[str, float | None]  # "7d", "30d", "90d": share of known checks that found the link up

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "dead_since": self.dead_since, "last_alive": self.last_alive, "uptime": self.uptime}


def _confirmed_death(streak: Sequence[tuple[datetime, State]], rule: ConfirmRule) -> datetime | None:
    """When a failing streak holds the rule's "gone" answers spanning its hours, the first of them; else None."""
    deaths = [when for when, state in streak if state is State.DEAD]
    if len(deaths) >= rule.runs and (streak[-1][0] - deaths[0]) >= timedelta(hours=rule.hours):
        return deaths[0]
    return None


def link_verdict(history: Sequence[tuple[datetime, State]], now: datetime | None = None, *,
                 rule: ConfirmRule = ConfirmRule()) -> LinkVerdict:
    """Judge a link from its observations, oldest first; ``rule`` says when failing runs confirm a death.

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
        return LinkVerdict(Verdict.UNCHECKED, None, None, uptime)
    streak: list[tuple[datetime, State]] = []
    for when, state in reversed(known):
        if state not in _FAILING:
            break
        streak.insert(0, (when, state))
    if streak:
        dead_since = _confirmed_death(streak, rule)
        if dead_since:
            return LinkVerdict(Verdict.DEAD, dead_since.isoformat(), last_alive, uptime)
        return LinkVerdict(Verdict.DEGRADED, None, last_alive, uptime)
    previous_streak: list[tuple[datetime, State]] = []
    for when, state in reversed(known[:-1]):
        if state not in _FAILING:
            break
        previous_streak.insert(0, (when, state))
    recovered = bool(previous_streak) and _confirmed_death(previous_streak, rule) is not None
    return LinkVerdict(Verdict.RECOVERED if recovered else Verdict.HEALTHY, None, last_alive, uptime)


# --- verdict transitions between two runs -----------------------------------------------------

@dataclass(frozen=True)
class LinkSnapshot:
    """A link as of one run: its verdict, and the last facts a check could tell.

    Facts are the last *known* values: a run that could not check a link (unknown), or a
    check that did not refresh a repository's metadata, neither sets nor clears them, so a
    blind spot never reads as a change.
    """

    verdict: LinkVerdict
    state: State | None = None  # of the last check that could tell (not unknown or skipped)
    reason: str = ""
    moved_to: str | None = None  # where the last successful check found it, when elsewhere
    archived: bool | None = None
    has_code: bool | None = None  # repositories: False while empty or a placeholder
    moved_targets: frozenset[str] = frozenset()  # ``place_key`` of every place recent checks found it moved to


def place_key(url: str) -> str:
    """Where a URL lives, for telling one move from another: its normalized form (``checks.link_kinds``) with
    what never makes a different place dropped (scheme, ``www.``, a trailing slash, as for a trivial
    redirect hop) and GitHub owner and name in any case (GitHub resolves them case-insensitively)."""
    link = classify(url)
    parts = urlsplit(link.normalized)
    segments = parts.path.rstrip("/").split("/")
    if link.kind in (LinkKind.GITHUB_REPO, LinkKind.GITHUB_PATH) and len(segments) >= 3:
        segments[1:3] = [segment.lower() for segment in segments[1:3]]
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{'/'.join(segments)}" + (f"?{parts.query}" if parts.query else "")


def _repo_facts(facts: Facts | None) -> RepoFacts | None:
    return facts if isinstance(facts, RepoFacts) else None


def _last_fact(observations: Sequence[Observation], read: Callable[[RepoFacts], Any]) -> Any:
    """The latest value ``read`` finds in a repository's facts (None: no observation recorded it)."""
    for observation in reversed(observations):
        repo = _repo_facts(observation.facts)
        value = read(repo) if repo is not None else None
        if value is not None:
            return value
    return None


def _has_code(repo: RepoFacts) -> bool | None:
    if not repo.has("empty") and not repo.has("placeholder"):
        return None
    return not (repo.empty or repo.placeholder)


def _moved_to(up: Sequence[Observation]) -> str | None:
    """Where the last successful checks found the link, when elsewhere: a check that found it moved
    without saying where leaves the last known place standing; one that found it at home clears it."""
    for observation in reversed(up):
        if observation.state is State.ALIVE:
            return None
        if observation.suggested_url:
            return observation.suggested_url
    return None


def link_snapshot(verdict: LinkVerdict, observations: Sequence[Observation]) -> LinkSnapshot:
    """The snapshot from a link's verdict and its recent observations, oldest first."""
    known = [o for o in observations if o.state not in (State.UNKNOWN, State.SKIPPED)]
    if not known:
        return LinkSnapshot(verdict)
    up = [o for o in known if o.state in _UP]
    return LinkSnapshot(
        verdict=verdict, state=known[-1].state, reason=known[-1].reason,
        moved_to=_moved_to(up),
        archived=_last_fact(up, lambda repo: repo.archived),
        has_code=_last_fact(up, _has_code),
        moved_targets=frozenset(place_key(o.suggested_url) for o in up if o.state is State.MOVED and o.suggested_url),
    )


@dataclass(frozen=True)
class Transition:
    """One link's change between two runs, in the words a reader (or an alert) uses."""

    url: str
    change: Change
    verdict_from: Verdict
    verdict_to: Verdict
    state: str | None  # what the latest check that could tell found
    reason: str
    suggested_url: str | None = None
    dead_since: str | None = None

    @property
    def alert(self) -> bool:
        return self.change.alerted

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "change": self.change.value, "from": self.verdict_from.value, "to": self.verdict_to.value,
                "state": self.state, "reason": self.reason, "suggested_url": self.suggested_url,
                "dead_since": self.dead_since, "alert": self.alert}


def _change(then: LinkSnapshot, now: LinkSnapshot) -> Change | None:
    """The one change that matters most: death and recovery first, then what a reader must update."""
    was, now_is = then.verdict.status, now.verdict.status
    if now_is is Verdict.DEAD and was is not Verdict.DEAD:
        return Change.NEWLY_DEAD
    if was is Verdict.DEAD and now_is in (Verdict.RECOVERED, Verdict.HEALTHY):
        return Change.RECOVERED
    if now.moved_to and place_key(now.moved_to) not in then.moved_targets:
        return Change.MOVED  # once per new place: another spelling of a known one, or a run that only saw the page, is not news
    if now.archived and then.archived is False:
        return Change.ARCHIVED
    if now.has_code and then.has_code is False:
        return Change.PROMISE_FULFILLED
    if now_is is Verdict.DEGRADED and was is not Verdict.DEGRADED:
        return Change.DEGRADED
    if was is Verdict.DEGRADED and now_is in (Verdict.HEALTHY, Verdict.RECOVERED):
        return Change.HEALTHY_AGAIN
    return None


def verdict_transitions(before: Mapping[str, LinkSnapshot], after: Mapping[str, LinkSnapshot]) -> list[Transition]:
    """Each link's change from one run's snapshot to another's, in ``after``'s order.

    A link nobody could check before (new, or only ever unknown) has nothing to change from.
    Death is only ever the confirmed verdict (K "gone" answers spanning T hours), never one
    failed check, so a flap or a failure of ours (unknown) cannot read as "newly dead".
    """
    transitions = []
    for url, now in after.items():
        then = before.get(url)
        if then is None or then.state is None or now.state is None:
            continue
        change = _change(then, now)
        if change:
            transitions.append(Transition(url=url, change=change, verdict_from=then.verdict.status,
                                          verdict_to=now.verdict.status, state=now.state.value, reason=now.reason,
                                          suggested_url=now.moved_to, dead_since=now.verdict.dead_since))
    return transitions
