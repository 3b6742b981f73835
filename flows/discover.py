"""The discovery step of a run: find the code a paper forgot to link, check it, keep it apart.

Which papers are asked: those with no code link of their own (no link judged code by its kind or
claim, ``reports.rescue.is_code_link``): papers that link nothing, that only promise code ("code will
be released"), or that link only a project page, data or a model. A paper that already links a
repository is never asked. Of those, a paper is asked only when it has an arXiv id (its id, or an
arxiv.org / Hugging Face paper link) or a project page to read, and only when its last answer is due
(``reports.suggestion_store``: found: after ``found_days``, 30 by default; nothing found: after
``nothing_days``, 7; a place that could not be asked: the next run), at most ``max_papers`` a run.

The step runs after the run's own links are checked and recorded (so it is skipped when the run is
offline) and before the report: ``checks.discovery`` asks, the answers are kept, and every current
suggestion of a paper this run watches is checked by the same batch tasks as any link (a second,
small ``check_links`` call) and its observation recorded in this run. A suggestion is never a link
of its paper, so the paper's verdict and attention stay as its own links make them, until the
suggestion is accepted: ``[discovery] accept`` in the config file, or ``--accept-suggestions`` for
every suggestion of the run. An accepted URL becomes a link of its paper with claim ``code``
(``with_accepted``, before the run starts, and at once for this run's acceptances). Nothing here can
fail the run: a failure is a warning, and the papers are asked again on the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from checks.code_links import project_pages
from checks.discovery import Target, discover, target_for
from checks.discovery_settings import DiscoverySettings
from checks.link_kinds import classify
from checks.model import Paper
from checks.plan import plan_checks
from checks.settings import CheckSettings
from flows.batches import check_links, untraversed
from flows.run_tasks import record_observations, stored_metadata
from reports import suggestion_store
from reports.rescue import is_code_link
from reports.store import Store

FLAG, CONFIG = "flag", "config"  # how a suggestion was accepted


def has_own_code(paper: Paper) -> bool:
    """Whether the paper links code itself: a link judged code by its kind or its claim."""
    return any(is_code_link(str(link.kind), link.claim) for link in paper.links)


def askable(paper: Paper) -> Target | None:
    """The paper as discovery asks it, or None: it links code already, or there is nothing to ask with
    (no arXiv id, no project page: asking would cost nothing and find nothing)."""
    if has_own_code(paper):
        return None
    target = target_for(paper)
    return target if target.arxiv_id or project_pages(target.own_urls) else None


def with_accepted(papers: Sequence[Paper], accepted: Mapping[str, Iterable[str]]) -> list[Paper]:
    """Each paper with its accepted suggestions as links of its own (claim ``code``), after the links it gives."""
    result = []
    for paper in papers:
        cited = {link.normalized for link in paper.links}
        extra = tuple(replace(classify(url), claim=suggestion_store.ACCEPTED_CLAIM)
                      for url in accepted.get(paper.id, ()) if url not in cited)
        result.append(replace(paper, links=paper.links + extra) if extra else paper)
    return result


@task(name="read accepted suggestions", cache_policy=NO_CACHE)
def accepted_suggestions(db: str, discovery: dict[str, Any] | None) -> dict[str, list[str]]:
    """The config's ``accept`` list kept as it is now (entries removed from it are no longer accepted),
    ``reject`` withdrawing any acceptance; paper id -> accepted URLs (the config's and the flag's)."""
    settings = DiscoverySettings.from_dict(discovery)
    now = datetime.now(timezone.utc)
    with Store.open(db) as store:
        held = suggestion_store.accepted(store)
        stale = [(paper, url) for paper, urls in held.items() for url, how in urls.items()
                 if how == CONFIG and (paper, url) not in settings.accept]
        suggestion_store.withdraw(store, [*stale, *settings.reject])
        suggestion_store.reject(store, settings.reject)
        suggestion_store.accept(store, None, settings.accept, CONFIG, now)
        held = suggestion_store.accepted(store)
    return {paper: list(urls) for paper, urls in held.items()}


@task(name="find code elsewhere", cache_policy=NO_CACHE)
def find_code_elsewhere(db: str, run_id: int, papers: Sequence[Paper], discovery: dict[str, Any] | None,
                        check_settings: CheckSettings) -> dict[str, Any]:
    """Ask about the due papers without code, keep the answers; the suggested URLs this run has not checked yet."""
    settings = DiscoverySettings.from_dict(discovery)
    logger = get_run_logger()
    now = datetime.now(timezone.utc)
    targets = {paper.id: target for paper in papers if (target := askable(paper)) is not None}
    without_code = [paper.id for paper in papers if not has_own_code(paper)]
    rejected = set(settings.reject)
    with Store.open(db) as store:
        due = suggestion_store.due(store, targets, now)
    asked = due[:settings.max_papers]
    result = discover([targets[paper] for paper in asked], check_settings, settings.budget())
    answers = [replace(answer, suggestions=tuple(s for s in answer.suggestions if (s.paper_id, s.url) not in rejected))
               for answer in result.papers]
    with Store.open(db) as store:
        suggestion_store.record(store, run_id, answers, now, found_days=settings.found_days,
                                nothing_days=settings.nothing_days)
        shown = suggestion_store.current(store, without_code)
        observed = store.observations_of_runs([run_id])[run_id]
    shown = {paper: kept for paper, found in shown.items()
             if (kept := [s for s in found if (s.paper_id, s.url) not in rejected])}
    urls = list(dict.fromkeys(s.url for found in shown.values() for s in found))
    outcomes: dict[str, int] = {}
    for answer in answers:
        outcomes[answer.outcome] = outcomes.get(answer.outcome, 0) + 1
    logger.info("code found elsewhere: %d of %d papers without code asked (%d could be asked, %d due; %s); "
                "%d Hub requests, %d project pages read; %d suggestion(s) for %d paper(s)",
                len(asked), len(without_code), len(targets), len(due),
                ", ".join(f"{n} {word}" for word, n in sorted(outcomes.items())) or "none asked",
                result.hub_requests, result.pages_read, len(urls), len(shown))
    return {"asked": len(asked), "due": len(due), "outcomes": outcomes, "hub_requests": result.hub_requests,
            "pages_read": result.pages_read, "suggestions": {paper: [s.url for s in found] for paper, found in shown.items()},
            "unchecked": [url for url in urls if url not in observed]}


@task(name="accept suggestions", cache_policy=NO_CACHE)
def accept_this_runs_suggestions(db: str, run_id: int, suggestions: Mapping[str, Sequence[str]]) -> int:
    """``--accept-suggestions``: every suggestion of this run becomes its paper's own link, from this run on."""
    pairs = [(paper, url) for paper, urls in suggestions.items() for url in urls]
    with Store.open(db) as store:
        suggestion_store.accept(store, run_id, pairs, FLAG, datetime.now(timezone.utc))
        added = suggestion_store.cite(store, {paper: list(urls) for paper, urls in suggestions.items()})
    if added:
        get_run_logger().info("run %d: %d suggestion(s) accepted as their papers' code links", run_id, added)
    return added


def check_suggestions(db: str, run_id: int, urls: Sequence[str], check_settings: CheckSettings) -> int:
    """Check suggested URLs as any link is checked (the same batch tasks), and record them in this run."""
    if not urls:
        return 0
    plan = plan_checks([Paper(id="code found elsewhere", title="", links=tuple(classify(url) for url in urls))])
    previous = stored_metadata(db, untraversed([link.normalized for link in plan.github]))
    outcome = check_links(plan, check_settings, previous)
    return record_observations(db, run_id, untraversed(outcome.observations))


def discovery_step(db: str, run_id: int, papers: Sequence[Paper], discovery: dict[str, Any] | None,
                   check_settings: CheckSettings, accept_all: bool = False) -> dict[str, Any]:
    """The step as the monitor flow takes it: ask, check, accept; whatever goes wrong is a warning, never a failed run."""
    if not DiscoverySettings.from_dict(discovery).enabled:
        return {"enabled": False}
    try:
        found = find_code_elsewhere(db, run_id, untraversed(list(papers)), discovery, check_settings)
        found["checked"] = check_suggestions(db, run_id, found.pop("unchecked"), check_settings)
        if accept_all:
            found["accepted"] = accept_this_runs_suggestions(db, run_id, found["suggestions"])
        return found
    except Exception as exc:
        get_run_logger().warning("run %d: code found elsewhere not looked for (%s: %s)", run_id, type(exc).__name__,
                                 str(exc).splitlines()[0] if str(exc) else "")
        return {"error": type(exc).__name__}


__all__ = ["accept_this_runs_suggestions", "accepted_suggestions", "askable", "check_suggestions",
           "discovery_step", "find_code_elsewhere", "has_own_code", "with_accepted"]
